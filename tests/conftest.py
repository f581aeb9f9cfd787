"""Fixtures: every test gets its own tmux server, XDG folders and git identity."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import GIT_ENV, make_repo

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A private tmux socket, private XDG folders and a git identity for each test; the tmux
    server (and its socket file) is reaped afterwards."""
    socket = f"qdtest-{uuid.uuid4().hex[:10]}"
    tmux_bin = shutil.which("tmux") or "tmux"
    monkeypatch.setenv("QUARTERDECK_TMUX_SOCKET", socket)
    for var, sub in (
        ("XDG_DATA_HOME", "data"),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_STATE_HOME", "state"),
    ):
        monkeypatch.setenv(var, str(tmp_path / "xdg" / sub))
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "xdg" / "gitconfig"))
    monkeypatch.delenv("TMUX", raising=False)
    monkeypatch.delenv("QUARTERDECK_HOSTED", raising=False)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    # The `shell` agent kind runs the user's shell; a plain one without rc files keeps tests
    # independent of this machine's shell start-up.
    monkeypatch.setenv("SHELL", "/bin/sh")
    yield socket
    _reap(socket, tmux_bin)


def _reap(socket: str, tmux_bin: str) -> None:
    """Kill the tmux server on ``socket`` and remove its socket file (tmux leaves it).
    ``tmux_bin`` is found before the test runs: a test may take tmux off its PATH."""
    subprocess.run([tmux_bin, "-L", socket, "kill-server"], capture_output=True, check=False)
    sock = Path(os.environ.get("TMUX_TMPDIR", "/tmp")) / f"tmux-{os.getuid()}" / socket
    sock.unlink(missing_ok=True)


@pytest.fixture
def terminal() -> Iterator[str]:
    """A separate tmux server standing in for the user's terminal emulator (reaped after)."""
    socket = f"qdterm-{uuid.uuid4().hex[:8]}"
    tmux_bin = shutil.which("tmux") or "tmux"
    yield socket
    _reap(socket, tmux_bin)


@pytest.fixture
def tmux_socket(isolated_env: str) -> str:
    """The test's private tmux socket name."""
    return isolated_env


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A real git repository with one commit on ``main``."""
    return make_repo(tmp_path / "repo")


#: Modules whose tests each take several seconds of real agents and processes.
_SLOW_MODULES = ("tests/e2e/", "tests/integration/test_task", "tests/integration/test_steering")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Long tests first: the parallel workers then finish together instead of one of them
    running a long test alone at the end. (Every worker sorts the same collection the same
    way, as pytest-xdist requires.)"""

    def weight(item: pytest.Item) -> int:
        if item.get_closest_marker("slow") is not None:
            return 0
        path = item.nodeid
        if path.startswith(_SLOW_MODULES):
            return 1
        return 2 if path.startswith(("tests/integration/", "tests/ui/")) else 3

    items.sort(key=weight)
