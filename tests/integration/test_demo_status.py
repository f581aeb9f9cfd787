"""Statuses of real demo agents, tracked by the fleet through a real tmux server."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.agent import PromptState, SpawnRequest
from app.core.errors import UsageError
from app.core.status import InputKind, Status
from app.fleet.fleet import Fleet
from tests.helpers import git, wait_for


def demo(
    fleet: Fleet,
    name: str,
    behaviour: str,
    prompt: str = "Refactor the payment module",
    speed: float = 8,
) -> None:
    fleet.spawn(
        SpawnRequest(
            prompt=prompt,
            kind="demo",
            name=name,
            command=(
                f"{{python}} -m app.demo.agent --behaviour {behaviour} --seed 3 --speed {speed}"
            ),
        )
    )


def seen(fleet: Fleet, name: str, status: Status, timeout: float = 15.0) -> None:
    def check() -> bool:
        fleet.sweep(deliver=True)
        return fleet.get(name).shown.status is status

    wait_for(check, timeout=timeout, interval=0.03, what=f"{name} to be {status}")


def test_a_demo_agent_goes_through_its_states(repo: Path) -> None:
    fleet = Fleet.open(repo)
    # Slow enough that its work before the dialog is seen on a loaded machine too.
    demo(fleet, "asker", "asker", speed=2)
    assert fleet.get("asker").shown.status is Status.STARTING
    seen(fleet, "asker", Status.WORKING)  # the prompt was delivered once it was ready
    wait_for(lambda: fleet.get("asker").prompt_state is PromptState.DELIVERED, what="delivery")
    seen(fleet, "asker", Status.NEEDS_INPUT)
    agent = fleet.get("asker")
    assert agent.shown.input_kind is InputKind.PERMISSION
    assert agent.shown.question.startswith("Allow demo to run")
    assert agent.shown.options[0] == "Yes" and len(agent.shown.options) == 3
    assert "permission dialog" in agent.shown.evidence
    # Answering in the pane moves it on; the turn ends idle with real commits on its branch.
    fleet.tmux.send_keys(agent.placement.pane_id, "1")
    seen(fleet, "asker", Status.IDLE)
    assert int(git(repo, "rev-list", "--count", "main..qd/asker")) >= 1
    wait_for(
        lambda: (fleet.sweep(), fleet.get("asker").stats.lines_added > 0)[1],
        timeout=10,
        what="diff stats",
    )
    events = [status for _, status, _ in fleet.store.events(agent.id)]
    assert events[0] == "starting" and events[-1] == "idle"
    assert events.index("working") < events.index("needs_input")


def test_dismissing_a_dialog_in_the_pane_clears_needs_input(repo: Path) -> None:
    fleet = Fleet.open(repo)
    demo(fleet, "esc", "asker")
    seen(fleet, "esc", Status.NEEDS_INPUT)
    fleet.tmux.send_keys(fleet.get("esc").placement.pane_id, "Escape")
    seen(fleet, "esc", Status.IDLE)


def test_question_exit_and_crash(repo: Path) -> None:
    fleet = Fleet.open(repo)
    demo(fleet, "q", "questioner")
    demo(fleet, "crash", "crasher")
    seen(fleet, "q", Status.NEEDS_INPUT)
    assert fleet.get("q").shown.input_kind is InputKind.QUESTION and fleet.get(
        "q"
    ).shown.question.endswith("?")
    seen(fleet, "crash", Status.FAILED)
    assert "status 1" in fleet.get("crash").shown.evidence
    pane = fleet.get("q").placement.pane_id
    fleet.tmux.send_text(pane, "use redis")
    fleet.tmux.send_keys(pane, "Enter")
    seen(fleet, "q", Status.IDLE)
    fleet.tmux.send_text(pane, "/exit")
    fleet.tmux.send_keys(pane, "Enter")
    seen(fleet, "q", Status.EXITED)


def test_answering_a_dialog_from_the_dashboard_is_verified(repo: Path) -> None:
    fleet = Fleet.open(repo)
    demo(fleet, "ans", "asker")
    seen(fleet, "ans", Status.NEEDS_INPUT)
    with pytest.raises(UsageError, match="options 1 to 3"):
        fleet.answer("ans", 7)
    said = fleet.answer("ans", 1)
    assert said == "answered ans: Yes"
    wait_for(
        lambda: "✓ Allowed" in fleet.tmux.capture(fleet.get("ans").placement.pane_id),
        what="the agent to take the answer",
    )
    assert any("user: answered 1 (Yes)" in e for _, _, e in fleet.evidence("ans"))
    seen(fleet, "ans", Status.IDLE)
    with pytest.raises(UsageError, match="not waiting on a dialog"):
        fleet.answer("ans", 1)
