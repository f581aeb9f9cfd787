"""A turn that ended in an error is a status of its own: it needs the human, right after a
wait, is announced, and has not ended (the agent takes messages)."""

from __future__ import annotations

from app.core.agent import StatusShown
from app.core.alerts import AlertKind, alerts_between
from app.core.delivery import at_prompt, can_type
from app.core.profiles import AgentProfile
from app.core.status import ATTENTION_ORDER, STATUS_GLYPH, Status, is_ended
from app.core.views import AgentRow, FleetView
from app.ui.themes import STATUS_VARIABLE
from tests.helpers import make_agent

PROFILE = AgentProfile("demo", "", ("demo",), "demo")


def row(status: Status, since: float, detail: str = "") -> AgentRow:
    return AgentRow.from_agent(make_agent("a", StatusShown(status, since=since, detail=detail)))


def test_an_error_needs_the_human_but_has_not_ended() -> None:
    assert ATTENTION_ORDER.index(Status.ERROR) == ATTENTION_ORDER.index(Status.NEEDS_INPUT) + 1
    assert not is_ended(Status.ERROR)
    assert at_prompt(Status.ERROR, PROFILE) and can_type(Status.ERROR, PROFILE)
    assert STATUS_GLYPH[Status.ERROR] == "!" and STATUS_VARIABLE[Status.ERROR] == "status-error"


def test_an_error_is_announced_once() -> None:
    working = FleetView("r", (row(Status.WORKING, 1.0),))
    failed = FleetView("r", (row(Status.ERROR, 5.0, "API Error: 529 Overloaded"),))
    (alert,) = alerts_between(working, failed)
    assert alert.kind is AlertKind.WAITING and alert.body == "API Error: 529 Overloaded"
    assert "error" in alert.title
    assert alerts_between(failed, failed) == []
