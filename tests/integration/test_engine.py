"""The engine: one per repository; a second one only views, and says so."""

from __future__ import annotations

from pathlib import Path

from app.core.agent import SpawnRequest
from app.core.status import Status
from app.fleet.engine import Engine
from app.fleet.fleet import Fleet
from tests.helpers import wait_for


def test_the_engine_tracks_and_a_second_one_only_views(repo: Path) -> None:
    first, second = Fleet.open(repo), Fleet.open(repo)
    driver, viewer = Engine(first, interval=0.05), Engine(second, interval=0.05)
    driver.start()
    viewer.start()
    try:
        assert driver.driving and not viewer.driving
        wait_for(lambda: "viewer: another Quarterdeck" in second.view().notice)
        first.spawn(SpawnRequest(prompt="echo tracked", kind="shell", name="s"))
        # The driving engine delivers the prompt and tracks the status; the viewer sees it.
        wait_for(
            lambda: any(r.name == "s" and r.status is Status.IDLE for r in second.view().rows),
            what="the viewer to show the tracked status",
        )
        assert first.view().notice == ""
    finally:
        driver.stop()
    # Once the first engine is gone, the second takes over.
    wait_for(lambda: viewer.driving and second.view().notice == "", what="take-over")
    viewer.stop()
