"""A running dashboard's engine reads the configuration again when a file changes: a kind added
to ``config.toml`` after it started is tracked; a file that fails to load says why."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from app.core.status import Status
from app.fleet.engine import Engine
from app.fleet.fleet import Fleet
from app.fleet.profiles import ConfigFiles
from app.infra.settings import config_home
from tests.helpers import wait_for

QD = str(Path(sys.executable).with_name("quarterdeck"))
LATER = """
[agents.later]
command = ["sh"]
program = "sh"
shell_means_exited = false
[[agents.later.rules]]
name = "prompt"
status = "idle"
screen = '[$#] *$'
lines = 1
"""


def test_a_kind_added_after_start_is_tracked_and_a_broken_file_says_why(repo: Path) -> None:
    config = config_home() / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    fleet = Fleet.open(repo)
    engine = Engine(fleet, interval=0.05)
    engine.start()
    try:
        assert "later" not in fleet.profiles.kinds()
        config.write_text(LATER)
        out = subprocess.run(
            [QD, "-C", str(repo), "new", "", "--agent", "later", "--name", "l", "--no-wait"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr

        def row() -> tuple[Status, str]:
            r = next((r for r in fleet.view().rows if r.name == "l"), None)
            return (r.status, r.evidence) if r is not None else (Status.STARTING, "")

        wait_for(lambda: row()[0] is Status.IDLE, what=lambda: f"tracked, not {row()}")
        assert fleet.profiles.kinds().count("later") == 1
        # A file that no longer loads keeps the kinds in force and says why in the notice.
        config.write_text(LATER + "\n[broken\n")
        wait_for(
            lambda: "configuration not loaded" in fleet.view().notice,
            what=lambda: f"the notice to say so, not {fleet.view().notice!r}",
        )
        assert "not valid TOML" in fleet.view().notice
        assert row()[0] is Status.IDLE
        # Removed: the kind is gone, and the agent's row says why it is not tracked.
        config.write_text("")
        wait_for(lambda: row()[0] is Status.UNKNOWN, what=lambda: f"unknown, not {row()}")
        assert row()[1] == "config: unknown kind 'later'"
        assert fleet.view().notice == ""
    finally:
        engine.stop()


def test_looking_at_the_configuration_costs_two_stats_a_second(tmp_path: Path) -> None:
    clock = [0.0]
    files = ConfigFiles([tmp_path / "a.toml", tmp_path / "b.toml"], lambda: clock[0])
    started = time.perf_counter()
    for _ in range(10_000):
        assert not files.changed()  # within the second: not even a stat
    assert time.perf_counter() - started < 0.05
    (tmp_path / "b.toml").write_text("x = 1\n")
    assert not files.changed()
    clock[0] = 1.0
    assert files.changed() and not files.changed()
    clock[0] = 2.0
    os.utime(tmp_path / "b.toml", ns=(1, 1))
    assert files.changed()
