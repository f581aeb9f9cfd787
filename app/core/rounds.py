"""Rounds: when an agent's turn is over, what follows its check (passed, another round with a
fresh agent, or failed at a cap), and the prompt a fresh agent gets. Pure."""

from __future__ import annotations

from enum import StrEnum

from app.core.status import Status
from app.core.tasks import FAILURE_LINES, TURN_SETTLE_SECONDS, Attempt, Round, TaskSpec

#: Agent statuses after which the turn is over.
_TURN_OVER: frozenset[Status] = frozenset(
    {Status.IDLE, Status.DONE, Status.ERROR, Status.EXITED, Status.FAILED}
)


def turn_over(
    status: Status,
    since: float,
    now: float,
    *,
    started: bool,
    worked: bool,
    hook_said: bool = False,
) -> bool:
    """Whether the agent's turn is over: it took its prompt (``started``) and now shows a
    finished screen — idle for `TURN_SETTLE_SECONDS`, or done, an error, or its process ended.
    An agent whose process ended is over whatever it did; an idle one must have been seen at
    work this round (``worked``) or idle long enough that a turn was missed between looks. An
    idle agent whose CLI's own hook said its turn ended (``hook_said``: Claude Code's ``Stop``,
    Codex's turn-complete) needs no wait."""
    if status in (Status.EXITED, Status.FAILED):
        return True
    if not started or status not in _TURN_OVER:
        return False
    held = now - since
    if status is Status.IDLE and hook_said and worked:
        return True
    if status is Status.IDLE:
        return held >= (TURN_SETTLE_SECONDS if worked else 3 * TURN_SETTLE_SECONDS)
    return True


class Verdict(StrEnum):
    """What follows a round's check."""

    PASSED = "passed"
    AGAIN = "again"
    FAILED = "failed"


def after_check(
    spec: TaskSpec, attempt: Attempt, passed: bool | None, now: float
) -> tuple[Verdict, str]:
    """Passed, another round, or failed (with the cap that stopped it), after a round whose
    check ``passed`` (None: no check is set, the turn ending is the result)."""
    rounds = len(attempt.rounds)
    if passed is None:
        return Verdict.PASSED, "the turn ended (no check is set)"
    if passed:
        return Verdict.PASSED, f"the check passed in round {rounds}" if rounds > 1 else (
            "the check passed"
        )
    caps = spec.caps
    if not caps.looping:
        return Verdict.FAILED, "the check failed"
    capped = cap_reached(spec, attempt, now)
    if capped:
        return Verdict.FAILED, capped
    return Verdict.AGAIN, f"round {rounds}'s check failed; round {rounds + 1} starts"


def cap_reached(spec: TaskSpec, attempt: Attempt, now: float) -> str:
    """Why the attempt's loop must stop now ('' when it may go on): rounds, wall time or
    tokens used since its budget began."""
    caps = spec.caps
    if len(attempt.rounds) - attempt.budget_round >= caps.rounds:
        return f"stopped at the cap of {caps.rounds} rounds: the check still fails"
    over = _over_budget(spec, attempt, now)
    return f"{over}: the check still fails" if over and "tokens" not in over else over


def overtime(spec: TaskSpec, attempt: Attempt, now: float) -> str:
    """While a round runs: why it must be stopped now (wall time or tokens over the cap), or ''."""
    return _over_budget(spec, attempt, now)


def _over_budget(spec: TaskSpec, attempt: Attempt, now: float) -> str:
    """The wall-time or token cap the attempt has reached since its budget began, or ''."""
    caps = spec.caps
    since = attempt.budget_since or attempt.started_at
    if caps.minutes and since and now - since >= caps.minutes * 60:
        return f"stopped at the cap of {caps.minutes:g} minutes"
    used = sum(r.tokens for r in attempt.rounds[attempt.budget_round :])
    if caps.tokens and used >= caps.tokens:
        return f"stopped at the cap of {caps.tokens} tokens ({used} used)"
    return ""


def round_prompt(spec: TaskSpec, attempt: Attempt, check: str) -> str:
    """The prompt of the next round's fresh agent: the task as first given, what the earlier
    rounds did, and the check's failure output."""
    last = attempt.round
    if last is None:
        return spec.text
    tail = "\n".join(last.check_tail.splitlines()[-FAILURE_LINES:]).strip()
    lines = [
        spec.text,
        "",
        "---",
        f"Progress: this is round {last.number + 1}. The work of earlier rounds is committed "
        f"in this worktree ({last.files} files changed, +{last.added} -{last.removed} so far).",
        f"The check `{check}` failed after round {last.number}"
        + (f" (exit {last.check_exit})" if last.check_exit is not None else "")
        + ". Its output ends with:",
        "",
        tail or "(no output)",
        "",
        "Carry on with the task until that check passes.",
    ]
    return "\n".join(lines)


def round_summary(done: Round) -> str:
    """A finished round for the history: ``round 2: 41s, check failed (exit 1) in 3.2s,
    2 files +10 -3``."""
    took = f"{done.ended_at - done.started_at:.0f}s" if done.ended_at else "?"
    check = f"check {done.check}" if done.check != "none" else "no check"
    if done.check_exit is not None and done.check != "passed":
        check += f" (exit {done.check_exit})"
    if done.check != "none":
        check += f" in {done.check_seconds:.1f}s"
    return f"round {done.number}: {took}, {check}, {done.files} files +{done.added} -{done.removed}"
