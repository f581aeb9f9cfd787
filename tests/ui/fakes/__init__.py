"""In-memory fakes of the fleet's ports for UI tests: one small fake per port, and `FakePort`,
all of them together, for the app.

The real fleet is tested against real tmux and git elsewhere; here the point is what the UI does
with what the ports give it, and which calls the UI makes.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.ui.fakes.agents import FakeAgents
from tests.ui.fakes.diffs import big_diff, sample_diff
from tests.ui.fakes.panes import FakePanes
from tests.ui.fakes.pilot import wait_for_screen, wait_until
from tests.ui.fakes.review import FakeReview
from tests.ui.fakes.rows import CAPTURE, NOW, make_row, twelve_rows, waiting_rows
from tests.ui.fakes.steering import FakeSteering
from tests.ui.fakes.tasks import ATTEMPTS_DIFF, FakeTasks, sample_history, sample_tasks
from tests.ui.fakes.views import FakeViews

__all__ = [
    "ATTEMPTS_DIFF",
    "CAPTURE",
    "NOW",
    "FakeAgents",
    "FakePanes",
    "FakePort",
    "FakeReview",
    "FakeSteering",
    "FakeTasks",
    "FakeViews",
    "big_diff",
    "make_row",
    "sample_diff",
    "sample_history",
    "sample_tasks",
    "twelve_rows",
    "wait_for_screen",
    "wait_until",
    "waiting_rows",
]


@dataclass
class FakePort(FakeAgents, FakeSteering, FakeReview, FakePanes, FakeTasks):
    """A FleetPort in memory: every fake port over one fleet of rows."""
