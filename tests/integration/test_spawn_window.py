"""An agent whose program ends at once still gets its window, kept with its last screen."""

from __future__ import annotations

from pathlib import Path

from app.core.agent import SpawnRequest
from app.core.status import Status
from app.fleet.fleet import Fleet
from tests.helpers import wait_for


def test_agents_that_exit_at_once_are_started_and_seen_exited(repo: Path) -> None:
    fleet = Fleet.open(repo)
    agents = fleet.spawn(
        SpawnRequest(prompt="", kind="shell", name="gone", count=5, command="sh -c 'exit 3'")
    )
    assert len(agents) == 5 and all(a.placement.window_id for a in agents)

    def ended() -> bool:
        fleet.sweep()
        return all(a.shown.status in (Status.EXITED, Status.FAILED) for a in fleet.agents())

    wait_for(ended, what=lambda: str([a.shown.status for a in fleet.agents()]))
    assert all(fleet.pane_of(a) is not None for a in fleet.agents())  # windows kept
