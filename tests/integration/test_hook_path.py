"""The hook path end to end: a demo agent (speaking Claude Code's hook dialect) reports its
events through Quarterdeck's hook script to the engine, without touching any settings file of
the user's or the worktree."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.core.agent import SpawnRequest
from app.core.status import InputKind, Status
from app.services.engine import Engine
from app.services.fleet import Fleet
from tests.helpers import git, wait_for


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


def test_hook_events_reach_the_engine_and_leave_no_trace(repo: Path, home: Path) -> None:
    fleet = Fleet.open(repo)
    # A long tick: the engine must be woken by the hook events themselves.
    engine = Engine(fleet, interval=5.0)
    engine.start()
    try:
        fleet.spawn(
            SpawnRequest(
                prompt="Refactor payments",
                kind="demo",
                name="hooked",
                command="{python} -m app.demo.agent --behaviour asker --seed 4 --speed 6",
            )
        )
        agent = fleet.get("hooked")
        assert "--settings" in agent.command
        wait_for(
            lambda: fleet.get("hooked").status is Status.NEEDS_INPUT, timeout=20, what="needs_input"
        )

        def trail() -> list[str]:
            return [evidence for _, _, evidence in fleet.evidence("hooked")]

        # The demo agent runs its hooks off its UI thread, as Claude Code does: under load the
        # screen can show the dialog before the hook event is in, but the event must arrive.
        wait_for(lambda: "hook: PermissionRequest" in trail(), what="the PermissionRequest hook")
        assert "hook: SessionStart" in trail() and "hook: UserPromptSubmit" in trail()
        assert fleet.get("hooked").input_kind is InputKind.PERMISSION
        # Dismissed from inside the pane: no hook fires, and the row still leaves needs_input.
        fleet.tmux.send_keys(agent.pane_id, "Escape")
        wait_for(lambda: fleet.get("hooked").status is Status.IDLE, timeout=10, what="idle")
    finally:
        engine.stop()
    worktree = Path(agent.worktree)
    assert git(worktree, "status", "--porcelain", "--untracked-files=all") == ""
    assert not (worktree / ".claude").exists()
    assert sorted(os.listdir(home)) == []  # nothing written to the user's settings
    assert list((fleet.state_dir / "events").iterdir()) == []  # every event was drained
