"""When the engine ticks next, and what the launcher hands the hosted dashboard: pure
decisions, tested as tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.fleet.engine import (
    CONNECTED_INTERVAL,
    RECONNECT_SECONDS,
    SETTLE_MARGIN,
    next_wait,
    time_left,
)
from app.fleet.hosting import dashboard_argv, dashboard_environment
from app.fleet.tracking import MIN_CAPTURE_INTERVAL


@pytest.mark.parametrize(
    ("interval", "connected", "driving", "settle_in", "deferred", "expected"),
    [
        # No connection: the interval itself.
        (0.25, False, True, None, False, 0.25),
        (0.1, False, False, None, False, 0.1),
        # Connected: output wakes the engine, so the tick only needs to come every second.
        (0.25, True, True, None, False, CONNECTED_INTERVAL),
        (5.0, True, True, None, False, 5.0),
        # A held-back status change due soon brings the tick forward, never into the past.
        (0.25, True, True, 0.3, False, 0.3 + SETTLE_MARGIN),
        (0.25, False, True, 0.1, False, 0.1 + SETTLE_MARGIN),
        (0.25, False, True, 0.5, False, 0.25),
        (0.25, True, True, -1.0, False, 0.0),
        # Panes held back to coalesce their output are looked at again soon.
        (0.25, True, True, None, True, MIN_CAPTURE_INTERVAL),
        (0.01, True, True, None, True, min(CONNECTED_INTERVAL, MIN_CAPTURE_INTERVAL)),
        # Driving without a connection: retry it within a few seconds; a viewer does not.
        (5.0, False, True, None, False, RECONNECT_SECONDS),
        (5.0, False, False, None, False, 5.0),
    ],
)
def test_next_wait(
    interval: float,
    connected: bool,
    driving: bool,
    settle_in: float | None,
    deferred: bool,
    expected: float,
) -> None:
    got = next_wait(
        interval, connected=connected, driving=driving, settle_in=settle_in, deferred=deferred
    )
    assert got == pytest.approx(expected)


@pytest.mark.parametrize(
    ("deadline", "now", "expected"),
    [(None, 5.0, None), (10.0, 4.0, 6.0), (10.0, 10.0, 0.0), (10.0, 12.0, 0.0)],
)
def test_time_left(deadline: float | None, now: float, expected: float | None) -> None:
    assert time_left(deadline, now) == expected


def test_the_hosted_dashboard_has_the_launchers_environment_but_its_tmux_and_size() -> None:
    environ = {
        "PATH": "/bin",
        "HOME": "/h",
        "LANG": "C.UTF-8",
        "TERM": "xterm",
        "XDG_DATA_HOME": "/d",
        "QUARTERDECK_TMUX_SOCKET": "s",
        "QUARTERDECK_HOSTED": "old",
        "SECRET_TOKEN": "x",
        "TMUX": "/tmp/tmux",
        "COLUMNS": "80",
    }
    assert dashboard_environment(environ, "qd-repo-1") == {
        "PATH": "/bin",
        "HOME": "/h",
        "LANG": "C.UTF-8",
        "TERM": "xterm",
        "XDG_DATA_HOME": "/d",
        "QUARTERDECK_TMUX_SOCKET": "s",
        "SECRET_TOKEN": "x",
        "QUARTERDECK_HOSTED": "qd-repo-1",
    }
    assert dashboard_argv("/py", Path("/r")) == [
        "/py",
        "-m",
        "app.cli",
        "-C",
        "/r",
        "dashboard",
        "--hosted",
    ]
