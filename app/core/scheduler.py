"""The scheduler: given every task (the graph), the concurrency cap and what each attempt did,
what starts now, what waits and why, and the state each task's attempts give it. Pure; the
engine's task duty (`app/fleet/tasks.py`) carries its answers out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from app.core.tasks import ATTEMPT_ACTIVE, Attempt, AttemptState, Task, TaskState


@dataclass(frozen=True)
class Schedule:
    """What one look at the task graph decided: the attempts to start now (task name, attempt
    number), and for every task not running yet, its state and why."""

    starts: tuple[tuple[str, int], ...] = ()
    waiting: Mapping[str, tuple[TaskState, str]] = field(default_factory=dict)


def running_count(tasks: Iterable[Task]) -> int:
    """Attempts whose agents are alive for their task."""
    return sum(a.state in ATTEMPT_ACTIVE for t in tasks for a in t.attempts)


def _dependency_wait(dep: Task, task: Task) -> tuple[bool, str]:
    """Whether ``dep`` lets ``task`` start (True, '') or why not; the reason starts with
    ``held:`` when only a human can release it."""
    state = dep.state
    if state is TaskState.LANDED:
        return True, ""
    if state is TaskState.PASSED:
        if len(dep.attempts) > 1:
            return False, f"{dep.name} passed: keep one of its attempts"
        if task.spec.needs_landed or dep.spec.land:
            return False, f"{dep.name} passed, not landed yet"
        return True, ""
    if state in (TaskState.FAILED, TaskState.CANCELLED):
        return False, f"held: {dep.name} {state.value}"
    if state is TaskState.BLOCKED and dep.reason.startswith("held:"):
        return False, f"held: {dep.name} is held ({dep.reason.removeprefix('held: ')})"
    return False, f"{dep.name} {state.value.replace('_', ' ')}"


def schedule(tasks: Sequence[Task], max_running: int) -> Schedule:
    """Decide which attempts start now: a task starts when every dependency let it (passed, or
    landed when needed) and the number of live attempts is under ``max_running`` — oldest task
    first, a task marked ``start_now`` over the cap. Tasks are given with the states last
    written; one blocked by a dependency that starts now waits for the next look."""
    by_name = {t.name: t for t in tasks}
    running = running_count(tasks)
    starts: list[tuple[str, int]] = []
    waiting: dict[str, tuple[TaskState, str]] = {}
    for task in sorted(tasks, key=lambda t: t.id):
        pending = [a for a in task.attempts if a.state is AttemptState.WAITING]
        if task.cancelled or not pending:
            continue
        reasons = []
        for dep_name in task.spec.after:
            dep = by_name.get(dep_name)
            if dep is None:
                reasons.append(f"held: {dep_name} is gone")
                continue
            ok, why = _dependency_wait(dep, task)
            if not ok:
                reasons.append(why)
        if reasons:
            held = [r for r in reasons if r.startswith("held:")]
            if held:
                waiting[task.name] = (TaskState.BLOCKED, "; ".join(held))
            else:
                waiting[task.name] = (TaskState.BLOCKED, "waits on " + "; ".join(reasons))
            continue
        left = []
        for attempt in pending:
            if running < max_running or task.start_now:
                starts.append((task.name, attempt.number))
                running += 1
            else:
                left.append(attempt)
        if left and len(left) == len(pending):
            waiting[task.name] = (
                TaskState.QUEUED,
                f"waits for a free slot ({running} of {max_running} running)",
            )
    return Schedule(starts=tuple(starts), waiting=waiting)


def dependency_branches(task: Task, tasks: Sequence[Task]) -> list[str]:
    """The branches holding work of ``task``'s dependencies that has not landed: it starts from
    its base with these merged in (oldest dependency first)."""
    by_name = {t.name: t for t in tasks}
    branches = []
    for dep_name in task.spec.after:
        dep = by_name.get(dep_name)
        if dep is None or dep.state is TaskState.LANDED:
            continue
        chosen = dep.kept or next((a for a in dep.attempts if a.passed), None)
        if chosen is not None and chosen.branch:
            branches.append(chosen.branch)
    return branches


# ---------------------------------------------------------------------------- state


def task_state(task: Task) -> tuple[TaskState, str] | None:
    """The state a task's attempts give it, or None while none started (the schedule says)."""
    if task.cancelled:
        return TaskState.CANCELLED, task.reason or "cancelled"
    kept = task.kept
    if kept is not None:
        return TaskState.LANDED, f"attempt {kept.number} landed" if len(task.attempts) > 1 else (
            "landed"
        )
    states = {a.state for a in task.attempts}
    for active, state in (
        (AttemptState.NEEDS_INPUT, TaskState.NEEDS_INPUT),
        (AttemptState.CHECKING, TaskState.CHECKING),
        (AttemptState.RUNNING, TaskState.RUNNING),
        (AttemptState.STARTING, TaskState.RUNNING),
    ):
        if active in states:
            live = [a for a in task.attempts if a.state is active]
            return state, _progress(task, live[0])
    if AttemptState.WAITING in states:
        if not task.started:
            return None
        return TaskState.RUNNING, "attempts waiting for a free slot"
    passed = [a for a in task.attempts if a.passed]
    if passed:
        if len(task.attempts) > 1:
            return (
                TaskState.PASSED,
                f"{len(passed)} of {len(task.attempts)} attempts passed: keep one",
            )
        return TaskState.PASSED, passed[0].reason or "the check passed"
    last = max(task.attempts, key=lambda a: a.ended_at)
    if len(task.attempts) > 1:
        return TaskState.FAILED, f"no attempt passed (attempt {last.number}: {last.reason})"
    return TaskState.FAILED, last.reason or "failed"


def _progress(task: Task, attempt: Attempt) -> str:
    """``round 2 of 5: the check failed (exit 1)`` for a live attempt."""
    last = attempt.round
    if last is None:
        return f"starting {attempt.agent_name}" if attempt.agent_name else "starting"
    where = f"round {last.number}"
    if task.spec.caps.looping:
        where += f" of {attempt.budget_round + task.spec.caps.rounds}"
    if attempt.state is AttemptState.NEEDS_INPUT:
        return f"{where}: {attempt.agent_name} waits for you"
    if attempt.state is AttemptState.CHECKING:
        return f"{where}: running the check"
    if len(attempt.rounds) > 1:
        before = attempt.rounds[-2]
        return f"{where}: {attempt.agent_name} works (round {before.number}'s check {before.check})"
    return f"{where}: {attempt.agent_name} works"
