"""Rounds: when a turn is over, what follows a check (passed, another round, failed at a cap),
what stops a round that runs over, and the prompt of a fresh agent."""

from __future__ import annotations

import pytest

from app.core.rounds import (
    Verdict,
    after_check,
    cap_reached,
    overtime,
    round_prompt,
    round_summary,
    turn_over,
)
from app.core.status import Status
from app.core.tasks import TURN_SETTLE_SECONDS, Attempt, Caps, Round, TaskSpec

S = TURN_SETTLE_SECONDS


@pytest.mark.parametrize(
    ("status", "held", "started", "worked", "over"),
    [
        (Status.WORKING, 100, True, True, False),
        (Status.NEEDS_INPUT, 100, True, True, False),
        (Status.STARTING, 100, False, False, False),
        (Status.IDLE, S, True, True, True),
        (Status.IDLE, S / 2, True, True, False),  # a pause between two tool calls
        (Status.IDLE, S, True, False, False),  # never seen working: wait longer
        (Status.IDLE, 3 * S, True, False, True),  # a turn missed between looks
        (Status.IDLE, 100, False, False, False),  # its prompt is not taken yet
        (Status.DONE, 0, True, True, True),
        (Status.ERROR, 0, True, True, True),
        (Status.EXITED, 0, False, False, True),
        (Status.FAILED, 0, True, False, True),
        (Status.UNKNOWN, 100, True, True, False),
    ],
)
def test_turn_over(status: Status, held: float, started: bool, worked: bool, over: bool) -> None:
    assert turn_over(status, 1000.0, 1000.0 + held, started=started, worked=worked) is over


@pytest.mark.parametrize(
    ("status", "worked", "over"),
    [
        (Status.IDLE, True, True),  # the CLI's hook said the turn ended: no wait
        (Status.IDLE, False, False),  # never seen working: the hook may be of another turn
        (Status.WORKING, True, False),
    ],
)
def test_a_hook_that_said_the_turn_ended_needs_no_wait(
    status: Status, worked: bool, over: bool
) -> None:
    assert turn_over(status, 1000.0, 1000.0, started=True, worked=worked, hook_said=True) is over


def attempt(*checks: str, tokens: int = 0, started: float = 0.0, budget: int = 0) -> Attempt:
    rounds = tuple(
        Round(n, started, check=c, check_tail=f"out {n}", tokens=tokens, check_exit=1)
        for n, c in enumerate(checks, 1)
    )
    return Attempt(1, started_at=started, rounds=rounds, budget_round=budget)


LOOP = TaskSpec("Loop", caps=Caps(rounds=3, minutes=10, tokens=1000))


@pytest.mark.parametrize(
    ("spec", "done", "passed", "now", "verdict", "why"),
    [
        (TaskSpec("t"), attempt("passed"), True, 0, Verdict.PASSED, "the check passed"),
        (TaskSpec("t"), attempt("failed"), False, 0, Verdict.FAILED, "the check failed"),
        (TaskSpec("t"), attempt("none"), None, 0, Verdict.PASSED, "no check is set"),
        (LOOP, attempt("failed"), False, 0, Verdict.AGAIN, "round 2 starts"),
        (LOOP, attempt("failed", "passed"), True, 0, Verdict.PASSED, "passed in round 2"),
        (LOOP, attempt("failed", "failed", "failed"), False, 0, Verdict.FAILED, "cap of 3 rounds"),
        (LOOP, attempt("failed", started=1.0), False, 601.0, Verdict.FAILED, "cap of 10 minutes"),
        (LOOP, attempt("failed", tokens=1000), False, 0, Verdict.FAILED, "cap of 1000 tokens"),
        # A retry gives the attempt its caps again.
        (LOOP, attempt("failed", "failed", "failed", budget=3), False, 0, Verdict.AGAIN, "round 4"),
    ],
)
def test_after_check(
    spec: TaskSpec, done: Attempt, passed: bool | None, now: float, verdict: Verdict, why: str
) -> None:
    found, reason = after_check(spec, done, passed, now)
    assert found is verdict
    assert why in reason


def test_overtime_stops_a_round_past_its_time_or_tokens_only() -> None:
    assert overtime(LOOP, attempt("", started=100.0), 100.0 + 599) == ""
    assert "10 minutes" in overtime(LOOP, attempt("", started=100.0), 100.0 + 600)
    assert "1000 tokens" in overtime(LOOP, attempt("", tokens=1500, started=100.0), 101.0)
    assert overtime(TaskSpec("no caps"), attempt("", started=1.0), 10_000.0) == ""
    assert cap_reached(LOOP, attempt("failed", started=100.0), 101.0) == ""


def test_a_fresh_rounds_prompt_has_the_task_progress_and_the_failure() -> None:
    spec = TaskSpec("Make the tests pass", prompt="Fix every failing test in tests/.")
    first = Attempt(
        1,
        rounds=(
            Round(
                1,
                0.0,
                check="failed",
                check_exit=2,
                check_tail="\n".join(f"line {i}" for i in range(100)),
                added=12,
                removed=3,
                files=2,
            ),
        ),
    )
    prompt = round_prompt(spec, first, "pytest -q")
    assert prompt.startswith("Fix every failing test in tests/.")
    assert "this is round 2" in prompt and "2 files changed, +12 -3" in prompt
    assert "The check `pytest -q` failed after round 1 (exit 2)" in prompt
    assert "line 99" in prompt and "line 59" not in prompt  # the last 40 lines
    assert round_prompt(spec, Attempt(1), "pytest -q") == spec.text


def test_a_finished_round_in_one_line() -> None:
    done = Round(2, 100.0, 141.0, "failed", 3.24, 1, "", 10, 3, 2)
    assert round_summary(done) == "round 2: 41s, check failed (exit 1) in 3.2s, 2 files +10 -3"
    assert round_summary(Round(1, 100.0, 105.0, "none")) == "round 1: 5s, no check, 0 files +0 -0"
