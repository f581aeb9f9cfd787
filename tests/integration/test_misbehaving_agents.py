"""Agents that misbehave: die at once, ignore signals, flood output. The fleet tells the truth
about them and still stops them."""

from __future__ import annotations

import time
from pathlib import Path

from app.core.agent import SpawnRequest
from app.core.status import Status
from app.fleet.fleet import Fleet
from app.infra.procs import agent_processes
from tests.helpers import wait_for


def demo(fleet: Fleet, name: str, flags: str, prompt: str = "Work") -> None:
    fleet.spawn(
        SpawnRequest(
            prompt=prompt,
            kind="demo",
            name=name,
            command=f"{{python}} -m app.demo.agent --speed 8 --seed 1 {flags}",
        )
    )


def status(fleet: Fleet, name: str) -> Status:
    fleet.sweep(deliver=True)
    return fleet.get(name).shown.status


def test_an_agent_that_dies_at_once_is_failed_with_its_exit_status(repo: Path) -> None:
    fleet = Fleet.open(repo)
    demo(fleet, "dies", "--die-at-once")
    wait_for(lambda: status(fleet, "dies") is Status.FAILED, what="failed")
    agent = fleet.get("dies")
    assert "status 1" in agent.shown.evidence
    assert "could not start" in agent.shown.summary


def test_stop_ends_an_agent_that_ignores_sighup_and_sigterm(repo: Path) -> None:
    fleet = Fleet.open(repo)
    demo(fleet, "stubborn", "--behaviour busy --ignore-sighup --ignore-sigterm")
    wait_for(lambda: status(fleet, "stubborn") is Status.WORKING, what="working")
    agent = fleet.get("stubborn")
    pids = agent_processes(agent.placement.pane_pid, agent.id)
    assert pids
    started = time.monotonic()
    fleet.stop("stubborn")  # raises if anything survives
    assert time.monotonic() - started < 8
    assert not agent_processes(agent.placement.pane_pid, agent.id)
    assert status(fleet, "stubborn") is Status.EXITED


def test_a_flooding_agent_reads_as_working_and_answers_keys(repo: Path) -> None:
    fleet = Fleet.open(repo)
    demo(fleet, "flood", "--behaviour busy --flood")
    wait_for(lambda: status(fleet, "flood") is Status.WORKING, what="working")
    fleet.tmux.connect(fleet.session)
    # One sweep stays cheap however much it writes: one capture per look.
    started = time.perf_counter()
    for _ in range(10):
        fleet.sweep()
    assert status(fleet, "flood") is Status.WORKING
    assert time.perf_counter() - started < 5
    fleet.tmux.send_keys(fleet.get("flood").placement.pane_id, "Escape")
    wait_for(lambda: status(fleet, "flood") is Status.IDLE, timeout=15, what="interrupted")
    fleet.tmux.disconnect()
