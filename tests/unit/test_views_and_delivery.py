from app.core.agent import Agent, StatusShown
from app.core.delivery import input_pending
from app.core.ports import RemovalRisk
from app.core.status import InputKind, Status
from app.core.views import FleetView, format_duration
from tests.helpers import make_agent


def agent(name: str, status: Status, kind: InputKind | None = None) -> Agent:
    return make_agent(name, StatusShown(status, kind), agent_id=name)


def test_counts_and_status_line() -> None:
    view = FleetView.from_agents(
        "r",
        [
            agent("a", Status.WORKING),
            agent("b", Status.NEEDS_INPUT, InputKind.PERMISSION),
            agent("c", Status.WORKING),
        ],
    )
    assert view.counts() == {Status.NEEDS_INPUT: 1, Status.WORKING: 2}
    assert view.rows[1].status_label == "needs_input:permission"
    assert view.status_line() == "3 agents · 1 waiting on you · ●2"
    assert FleetView.from_agents("r", []).status_line() == "no agents"


def test_a_row_says_which_task_its_agent_works_on() -> None:
    from dataclasses import replace

    rows = FleetView.from_agents("r", [replace(agent("a-2", Status.WORKING), task="a#2")]).rows
    assert rows[0].task == "a#2"
    assert FleetView.from_agents("r", [agent("b", Status.IDLE)]).rows[0].task == ""


def test_durations() -> None:
    assert [format_duration(s) for s in (5, 65, 3700, 90000)] == ["5s", "1m", "1h01m", "1d1h"]


def test_removal_risk_sentence() -> None:
    assert RemovalRisk("a", "qd/a", "main", 0, ()).safe
    risk = RemovalRisk("a", "qd/a", "main", 2, ("x.py",))
    assert not risk.safe
    assert risk.describe() == "2 commits on qd/a not in main and 1 uncommitted or untracked file"


def test_input_pending_follows_the_input_line() -> None:
    assert input_pending("demo> fix the bug", "fix the bug")
    assert not input_pending("demo> fix the bug\n⠋ Thinking… (esc to interrupt)", "fix the bug")
    assert not input_pending("$ echo hi\nhi\n$ ", "echo hi")


def test_prompt_delivery_is_visible_on_the_row() -> None:
    from dataclasses import replace

    from app.core.agent import PromptState

    waiting = replace(agent("a", Status.STARTING), prompt_state=PromptState.PENDING)
    assert "waits until the agent is ready" in FleetView.from_agents("r", [waiting]).rows[0].summary
    failed = replace(agent("a", Status.IDLE), prompt_state=PromptState.FAILED)
    assert "not delivered" in FleetView.from_agents("r", [failed]).rows[0].summary
