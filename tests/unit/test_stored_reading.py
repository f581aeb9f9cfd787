"""A status carried over from the store, look after look (a screen no rule reads yet, seen by
short-lived commands), keeps its evidence as it was: it is not wrapped again on every look."""

from __future__ import annotations

from app.core.agent import StatusShown
from app.core.status import Status
from app.fleet.tracking import _stored_reading
from tests.helpers import make_agent


def test_the_stored_status_is_said_once_however_often_it_is_carried_over() -> None:
    agent = make_agent(shown=StatusShown(Status.WORKING, evidence="screen: opencode: working"))
    first = _stored_reading(agent)
    assert str(first.evidence) == "store: screen: opencode: working"
    again = make_agent(shown=StatusShown(Status.WORKING, evidence=str(first.evidence)))
    assert str(_stored_reading(again).evidence) == "store: screen: opencode: working"
