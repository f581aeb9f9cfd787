"""The check command against real worktrees: its output, duration and commit, cancelling it
from another process, leftovers of its process group, a dead owner."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
from pathlib import Path

import pytest

from app.cli import main
from app.core.checks import CheckState
from app.core.errors import UsageError
from app.core.views import check_label
from app.fleet.fleet import Fleet
from tests.helpers import git, wait_for
from tests.integration.review_helpers import (
    ended,
    latest,
    run_check,
    set_check,
    spawn,
)


def label(fleet: Fleet, name: str) -> str:
    """The agent's latest check as its row says it ('' when none ran)."""
    check = fleet.get(name).check
    return check_label(check) if check is not None else ""


def last_line(fleet: Fleet, name: str) -> str:
    """The last line of the agent's latest check, as its record keeps it."""
    check = fleet.get(name).check
    return check.last_line if check is not None else ""


def test_a_check_passes_or_fails_with_its_output_duration_and_commit(repo: Path) -> None:
    fleet = Fleet.open(repo)
    wt = spawn(fleet, "c")
    with pytest.raises(UsageError, match=r'no check command: set check = "\.\.\."'):
        fleet.run_check("c")
    set_check(repo, 'for i in $(seq 1 60); do echo "line $i"; done; echo "on $QUARTERDECK_CHECK"')
    assert run_check(fleet, "c") is CheckState.PASSED
    result = fleet.check("c")
    assert result is not None and result.exit_code == 0 and result.duration >= 0
    lines = result.tail.splitlines()
    assert len(lines) == 40 and lines[0] == "line 22" and lines[-1] == "on 1"
    assert result.commit == git(wt, "rev-parse", "HEAD") and not result.dirty
    assert label(fleet, "c").startswith("passed ")
    assert last_line(fleet, "c") == "on 1"

    (wt / "wip.txt").write_text("uncommitted\n")
    set_check(repo, "echo checking; echo broken >&2; exit 3")
    assert run_check(fleet, "c") is CheckState.FAILED
    result = fleet.check("c")
    assert result is not None and result.exit_code == 3 and result.dirty
    assert result.tail == "checking\nbroken" and result.ran_on.endswith("+dirty")
    assert label(fleet, "c").startswith("failed ")
    assert last_line(fleet, "c") == "broken"
    # Another process sees it (the store), and so does the command line.
    assert Fleet.open(repo).check("c") == result
    assert main(["-C", str(repo), "check", "c"]) == 1


def test_cancelling_a_check_ends_its_whole_process_group(repo: Path, tmp_path: Path) -> None:
    fleet = Fleet.open(repo)
    spawn(fleet, "slow")
    pids = tmp_path / "pids"
    set_check(repo, f"sleep 60 & echo $! > {pids}; echo started; wait")
    fleet.run_check("slow")
    wait_for(lambda: label(fleet, "slow") == "running")
    wait_for(lambda: "started" in latest(fleet, "slow").tail, what="output")
    child = int(pids.read_text())
    # Seen as running from another process too, with its output so far.
    other = Fleet.open(repo)
    wait_for(lambda: "started" in latest(other, "slow").tail, what="the tail saved")
    assert latest(other, "slow").state is CheckState.RUNNING
    with pytest.raises(UsageError, match="already running"):
        other.run_check("slow")
    other.cancel_check("slow")  # from the other process: the running one records it
    result = fleet.check("slow")
    assert result is not None and result.state is CheckState.CANCELLED
    assert label(fleet, "slow") == "cancelled"
    wait_for(lambda: ended(child), what="the check's child to end")
    with pytest.raises(UsageError, match="no check is running"):
        fleet.cancel_check("slow")


def test_a_check_ends_even_when_something_it_started_left_with_its_output(
    repo: Path, tmp_path: Path
) -> None:
    fleet = Fleet.open(repo)
    spawn(fleet, "stray")
    pid = tmp_path / "pid"
    # A daemon of its own session keeps the check's output open after the shell exits.
    set_check(repo, f"setsid sh -c 'echo $$ > {pid}; exec sleep 60' & echo started")
    fleet.run_check("stray")
    try:
        wait_for(lambda: latest(fleet, "stray").final, timeout=10, what="the check to end")
        result = latest(fleet, "stray")
        assert result.state is CheckState.PASSED and result.tail.startswith("started")
        assert "no longer read" in result.tail
        fleet.run_check("stray")  # not "already running"
        wait_for(lambda: latest(fleet, "stray").final, timeout=10, what="the second run")
    finally:
        wait_for(pid.exists, what="the daemon's pid")
        for line in pid.read_text().split():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(line), signal.SIGKILL)


def test_a_check_whose_owner_pid_was_reused_is_not_taken_for_running(repo: Path) -> None:
    fleet = Fleet.open(repo)
    spawn(fleet, "orphan")
    set_check(repo, "true")
    assert run_check(fleet, "orphan") is CheckState.PASSED
    agent = fleet.get("orphan")
    # As if a Quarterdeck process had died while its check ran, and its pid now belonged to
    # another process (here: this one, which did not start it).
    with sqlite3.connect(fleet.store.path) as db:
        db.execute(
            "UPDATE checks SET state = 'running', owner = ?, owner_start = 'another' "
            "WHERE agent_id = ?",
            (os.getpid(), agent.id),
        )
    other = Fleet.open(repo)
    assert latest(other, "orphan").state is CheckState.CANCELLED
    assert run_check(other, "orphan") is CheckState.PASSED
