"""What the task commands print: a task's line, the board's table, one task in full, and the
JSON scripts read (`task_json`: every field of the record, states as their names)."""

from __future__ import annotations

import shlex
import time
from collections.abc import Sequence
from dataclasses import asdict

from app.cli.shared import print_rows
from app.core.tasks import (
    TASK_GLYPH,
    Attempt,
    Round,
    Task,
    TaskEvent,
    TaskSpec,
    TaskState,
    rank_attempts,
)
from app.core.views import format_duration

#: A dependency in these states no longer holds its dependents back by running.
_DEPENDENCY_DONE = (TaskState.PASSED, TaskState.LANDED)


def task_line(task: Task, verb: str = "") -> str:
    """``api #3: ● running — round 1: api works``, or with ``verb``:
    ``api #3 is passed: the check passed``."""
    state = task.state.value.replace("_", " ")
    reason = task.reason or state
    if verb:
        return f"{task.name} #{task.id} {verb} {state}: {reason}"
    return f"{task.name} #{task.id}: {TASK_GLYPH[task.state]} {state} — {reason}"


def describe_spec(spec: TaskSpec, default_kind: str) -> str:
    """What a spec asks beyond its title, on one line: ``after a, b · until `make` (up to 10
    rounds) · 2 attempts: claude, codex · base develop · lands when it passes``."""
    parts = []
    if spec.after:
        parts.append("after " + ", ".join(spec.after))
    if spec.check:
        loop = f" ({spec.caps.describe()})" if spec.caps.looping else ""
        parts.append(f"{'until' if spec.caps.looping else 'check'} `{spec.check}`{loop}")
    elif spec.caps.looping:
        parts.append(f"loops on the repository's check ({spec.caps.describe()})")
    if not spec.caps.looping and (spec.caps.minutes or spec.caps.tokens):
        caps = [f"{spec.caps.minutes:g} min"] if spec.caps.minutes else []
        caps += [f"{spec.caps.tokens} tokens"] if spec.caps.tokens else []
        parts.append("at most " + ", ".join(caps))
    agents = ", ".join(_choice_label(a.kind, a.model, a.flags, default_kind) for a in spec.attempts)
    if len(spec.attempts) > 1:
        parts.append(f"{len(spec.attempts)} attempts: {agents}")
    elif spec.attempts and spec.attempts[0] != type(spec.attempts[0])():
        parts.append(f"agent {agents}")
    if spec.base:
        parts.append(f"base {spec.base}")
    if spec.land:
        parts.append("lands when it passes")
    if spec.needs_landed:
        parts.append("starts once its dependencies landed")
    return " · ".join(parts)


def _choice_label(kind: str, model: str, flags: Sequence[str], default_kind: str) -> str:
    label = kind or default_kind
    if model:
        label += f" ({model})"
    if flags:
        label += " " + shlex.join(flags)
    return label


def round_check(r: Round | None) -> str:
    """``failed (exit 1) 3s``, ``passed 12s``, ``none``, or '' while the round runs."""
    if r is None or not r.check:
        return ""
    if r.check in ("none", "cancelled"):
        return r.check
    code = f" (exit {r.check_exit})" if r.check == "failed" and r.check_exit is not None else ""
    return f"{r.check}{code} {format_duration(r.check_seconds)}"


def last_check(task: Task) -> str:
    """The latest check any attempt ran, or ``running`` while one runs."""
    if task.state is TaskState.CHECKING:
        return "running"
    ended = [r for a in task.attempts for r in a.rounds if r.check]
    return round_check(max(ended, key=lambda r: r.ended_at)) if ended else ""


def rounds_label(task: Task) -> str:
    """``2/10`` (round 2 of a loop of ten), ``1``, ``3× 2/10`` for three attempts (the furthest
    round), ``-`` before any round."""
    furthest = max((len(a.rounds) for a in task.attempts), default=0)
    if not furthest:
        label = "-"
    elif task.spec.caps.looping:
        label = f"{furthest}/{task.spec.caps.rounds}"
    else:
        label = str(furthest)
    return f"{len(task.attempts)}× {label}" if len(task.attempts) > 1 else label


def waits_on(task: Task, by_name: dict[str, Task]) -> list[str]:
    """The dependencies of a task not started yet that have not passed or landed."""
    if task.started or task.state in (TaskState.CANCELLED, TaskState.FAILED):
        return []
    return [
        d for d in task.spec.after if d not in by_name or by_name[d].state not in _DEPENDENCY_DONE
    ]


def print_table(tasks: Sequence[Task], max_running: int) -> None:
    """``task ls``: one row per task, and how many attempts may run at once."""
    by_name = {t.name: t for t in tasks}
    rows = [("#", "NAME", "STATE", "ROUNDS", "WAITS ON", "CHECK", "REASON")]
    for t in tasks:
        rows.append(
            (
                str(t.id),
                t.name,
                f"{TASK_GLYPH[t.state]} {t.state.value}",
                rounds_label(t),
                ",".join(waits_on(t, by_name)) or "-",
                last_check(t) or "-",
                t.reason,
            )
        )
    print_rows(rows)
    print(f"(at most {max_running} attempts run at once: [tasks] max_running)")


def _when(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at)) if at else "-"


def print_show(task: Task, history: Sequence[TaskEvent], default_kind: str) -> None:
    """``task show``: the spec, the attempts best first with their rounds, the history."""
    spec = task.spec
    print(task_line(task))
    print(f"  title:   {spec.title}")
    if spec.prompt.strip():
        lines = spec.prompt.strip().splitlines()
        print(f"  prompt:  {lines[0]}")
        for line in lines[1:]:
            print(f"           {line}")
    details = describe_spec(spec, default_kind)
    if details:
        print(f"  asks:    {details}")
    print(f"  added:   {_when(task.created_at)}")
    if task.attempts:
        print("attempts, best first:")
    for a in rank_attempts(task.attempts):
        _print_attempt(a, default_kind)
    if history:
        print("history:")
    for event in history:
        where = f" attempt {event.attempt}" if event.attempt else ""
        where += f" round {event.round}" if event.round else ""
        reason = f": {event.reason}" if event.reason else ""
        print(f"  {_when(event.at)}{where} {event.state}{reason}")


def _print_attempt(a: Attempt, default_kind: str) -> None:
    agent = _choice_label(a.choice.kind, a.choice.model, a.choice.flags, default_kind)
    last = a.round
    change = f"  +{last.added} -{last.removed} {last.files}f" if last else ""
    took = f"  {format_duration(a.seconds)}" if a.seconds else ""
    reason = f"  {a.reason}" if a.reason else ""
    print(f"  #{a.number} {a.state.value}  {agent}  {a.agent_name or '-'}{change}{took}{reason}")
    if a.branch:
        print(f"     branch {a.branch}" + (f" in {a.worktree}" if a.worktree else ""))
    for ref in a.archive:
        print(f"     archived at {ref}")
    for r in a.rounds:
        check = round_check(r) or "running"
        took = format_duration(r.ended_at - r.started_at) if r.ended_at else "…"
        change = f"+{r.added} -{r.removed} {r.files}f" + (f" {r.tokens} tokens" if r.tokens else "")
        print(f"     round {r.number}: {took}, check {check}, {change}")


def task_json(task: Task, default_kind: str) -> dict[str, object]:
    """Every field a script needs: the spec flattened, each attempt with its agent, branch,
    state and rounds (check results and stats)."""
    spec = task.spec
    return {
        "id": task.id,
        "name": task.name,
        "title": spec.title,
        "prompt": spec.prompt,
        "state": task.state.value,
        "glyph": TASK_GLYPH[task.state],
        "reason": task.reason,
        "after": list(spec.after),
        "check": spec.check,
        "caps": asdict(spec.caps),
        "base": spec.base,
        "land": spec.land,
        "needs_landed": spec.needs_landed,
        "start_now": task.start_now,
        "cancelled": task.cancelled,
        "created_at": task.created_at,
        "updated_at": task.updated_at,
        "attempts": [_attempt_json(a, default_kind) for a in task.attempts],
    }


def _attempt_json(a: Attempt, default_kind: str) -> dict[str, object]:
    return {
        "number": a.number,
        "agent": a.choice.kind or default_kind,
        "model": a.choice.model,
        "flags": list(a.choice.flags),
        "state": a.state.value,
        "agent_name": a.agent_name,
        "agent_id": a.agent_id,
        "branch": a.branch,
        "worktree": a.worktree,
        "start_commit": a.start_commit,
        "started_at": a.started_at,
        "ended_at": a.ended_at,
        "seconds": a.seconds,
        "reason": a.reason,
        "archive": list(a.archive),
        "rounds": [asdict(r) for r in a.rounds],
    }


def show_json(task: Task, history: Sequence[TaskEvent], default_kind: str) -> dict[str, object]:
    """``task show --json``: the task's JSON, its attempts' numbers best first, its history."""
    return {
        **task_json(task, default_kind),
        "ranked": [a.number for a in rank_attempts(task.attempts)],
        "history": [asdict(e) for e in history],
    }
