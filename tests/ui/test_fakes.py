"""Each fake is its port (mypy checks the protocols structurally) and scripts what it says."""

from __future__ import annotations

from app.core.ports import (
    AgentsPort,
    FleetPort,
    PanesPort,
    ReviewPort,
    SteeringPort,
    TasksPort,
    ViewPort,
)
from tests.ui.fakes import (
    FakeAgents,
    FakePanes,
    FakePort,
    FakeReview,
    FakeSteering,
    FakeTasks,
    FakeViews,
    make_row,
    sample_tasks,
)


def test_each_fake_implements_its_port_over_one_fleet_of_rows() -> None:
    rows = [make_row("alpha")]
    views: ViewPort = FakeViews(rows=list(rows))
    agents: AgentsPort = FakeAgents(rows=list(rows))
    steering: SteeringPort = FakeSteering(rows=list(rows))
    review: ReviewPort = FakeReview(rows=list(rows))
    panes: PanesPort = FakePanes(rows=list(rows))
    tasks: TasksPort = FakeTasks(rows=list(rows), task_list=sample_tasks())
    port: FleetPort = FakePort(rows=list(rows))
    assert [r.name for r in views.view().rows] == ["alpha"]
    assert agents.removal_risk("alpha").safe
    assert steering.answer("alpha", 1) == "answered alpha: 1"
    assert review.check("alpha") is None
    assert panes.attach("alpha") is None
    assert tasks.task("#4").name == "pick-parser"
    assert port.return_key == "C-q"
