"""The hook path end to end: a demo agent (speaking Claude Code's hook dialect) reports its
events through Quarterdeck's hook script to the engine, without touching any settings file of
the user's or the worktree."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from app.core.agent import SpawnRequest
from app.core.status import InputKind, Status
from app.fleet.engine import Engine
from app.fleet.fleet import Fleet
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
            lambda: fleet.get("hooked").shown.status is Status.NEEDS_INPUT,
            timeout=20,
            what="needs_input",
        )

        def trail() -> list[str]:
            return [evidence for _, _, evidence in fleet.evidence("hooked")]

        # The demo agent runs its hooks off its UI thread, as Claude Code does: under load the
        # screen can show the dialog before the hook event is in, but the event must arrive.
        wait_for(lambda: "hook: PermissionRequest" in trail(), what="the PermissionRequest hook")
        assert "hook: SessionStart" in trail() and "hook: UserPromptSubmit" in trail()
        assert fleet.get("hooked").shown.input_kind is InputKind.PERMISSION
        # Dismissed from inside the pane: no hook fires, and the row still leaves needs_input.
        fleet.tmux.send_keys(agent.placement.pane_id, "Escape")
        wait_for(lambda: fleet.get("hooked").shown.status is Status.IDLE, timeout=10, what="idle")
    finally:
        engine.stop()
    worktree = Path(agent.checkout.worktree)
    assert git(worktree, "status", "--porcelain", "--untracked-files=all") == ""
    assert not (worktree / ".claude").exists()
    assert sorted(os.listdir(home)) == []  # nothing written to the user's settings
    assert list((fleet.state_dir / "events").iterdir()) == []  # every event was drained


def test_a_hook_event_during_a_sweep_is_taken_before_the_sweep_ends(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sweep of a busy fleet takes a while; an event that lands during it is folded in between
    two agents, not left for the next sweep."""
    fleet = Fleet.open(repo)
    for name in ("first", "second"):
        # Demo-kind agents (Claude-style hooks) whose process just waits.
        command = "{python} -c 'import time; time.sleep(600)'"
        fleet.spawn(SpawnRequest(prompt="", kind="demo", name=name, command=command))
    fleet.sweep()
    agents = {a.name: a for a in fleet.agents()}
    assert all(a.shown.status is not Status.NEEDS_INPUT for a in agents.values())

    observe = fleet.sweeper._observe
    fired: list[str] = []

    def observe_then_an_event_lands(*args: Any) -> Any:
        # While the sweep looks at its first agent, the other agent's hook reports a dialog, as
        # the script run by the agent's CLI would, and the spool watcher raises the flag.
        if not fired:
            other = next(a for a in agents.values() if a.id != args[0].id)
            fired.append(other.name)
            env = {**os.environ, **fleet.hooks.environment(), "QUARTERDECK_AGENT_ID": other.id}
            payload = b'{"tool_name": "Bash", "tool_input": {"command": "rm -rf build"}}'
            subprocess.run(
                ["sh", "-c", fleet.hooks.command("PermissionRequest")],
                input=payload,
                env=env,
                check=True,
            )
            fleet.hook_arrived.set()
        return observe(*args)

    monkeypatch.setattr(fleet.sweeper, "_observe", observe_then_an_event_lands)
    fleet.sweep()
    assert fired
    other = fleet.get(fired[0])
    assert (
        other.shown.status is Status.NEEDS_INPUT and other.shown.input_kind is InputKind.PERMISSION
    )
    assert other.shown.detail == "Bash: rm -rf build"
    assert not fleet.hook_arrived.is_set()
