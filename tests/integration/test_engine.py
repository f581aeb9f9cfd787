"""The engine: one per repository; a second one only views, and says so; a command that waits
on the fleet runs the same ticks until it has what it waits for."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from app.core.agent import PromptState, SpawnRequest
from app.core.status import Status
from app.fleet.engine import COMMAND_INTERVAL, Engine
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


def test_a_command_tracks_the_fleet_until_it_has_what_it_waits_for_then_lets_go(
    repo: Path,
) -> None:
    fleet = Fleet.open(repo)
    fleet.spawn(SpawnRequest(prompt="echo typed-by-the-command", kind="shell", name="s"))
    engine = Engine(fleet, interval=COMMAND_INTERVAL)

    def delivered() -> bool:
        return fleet.get("s").prompt_state is PromptState.DELIVERED

    # No dashboard holds the lock: the command's own ticks type the prompt and verify it.
    assert engine.run_until(delivered, timeout=20)
    assert engine.drove and not engine.driving and not fleet.lock.held
    # Another process can take over at once.
    assert Fleet.open(repo).lock.acquire()


def test_a_command_views_while_a_dashboard_tracks_and_says_when_time_ran_out(repo: Path) -> None:
    dashboard, command = Fleet.open(repo), Fleet.open(repo)
    driver = Engine(dashboard, interval=0.05)
    driver.start()
    try:
        dashboard.spawn(SpawnRequest(prompt="echo tracked", kind="shell", name="s"))
        viewer = Engine(command, interval=COMMAND_INTERVAL)
        assert viewer.run_until(lambda: command.get("s").shown.status is Status.IDLE, timeout=20)
        assert not viewer.drove  # the dashboard's engine did the tracking
        started = time.monotonic()
        assert not Engine(command, interval=COMMAND_INTERVAL).run_until(lambda: False, 0.3)
        assert time.monotonic() - started >= 0.3
    finally:
        driver.stop()


def test_a_command_that_takes_the_lock_recovers_what_a_dead_tracker_left(repo: Path) -> None:
    fleet = Fleet.open(repo)
    (agent,) = fleet.spawn(SpawnRequest(prompt="", kind="shell", name="s"))
    # A prompt a process that died was typing: never typed again, failed visibly.
    fleet.store.update(replace(agent, prompt_state=PromptState.SENDING), before=agent)
    assert Engine(fleet, interval=COMMAND_INTERVAL).run_until(lambda: True, 0)
    assert fleet.get("s").prompt_state is PromptState.FAILED
