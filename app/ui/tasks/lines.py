"""What the task board and the comparison of attempts say: the cells of a task's row and of an
attempt's, the board's title, and the selected task's detail (its prompt, dependencies, caps,
attempts and history)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence

from rich.style import Style
from rich.text import Text
from textual.content import Content

from app.core.checks import CheckState
from app.core.scheduler import running_count
from app.core.tasks import (
    ATTEMPT_ACTIVE,
    TASK_GLYPH,
    Attempt,
    AttemptState,
    Round,
    Task,
    TaskEvent,
    TaskState,
    rank_attempts,
)
from app.core.views import format_duration
from app.ui.widgets.agent_table import CHECK_GLYPHS, Palette, cell, change_cell

#: The theme variable that colours each task state.
TASK_VARIABLE: dict[TaskState, str] = {
    TaskState.QUEUED: "status-idle",
    TaskState.BLOCKED: "status-paused",
    TaskState.RUNNING: "status-working",
    TaskState.NEEDS_INPUT: "status-waiting",
    TaskState.CHECKING: "warning",
    TaskState.PASSED: "success",
    TaskState.FAILED: "error",
    TaskState.LANDED: "status-done",
    TaskState.CANCELLED: "status-exited",
}

#: An attempt's state is drawn with the glyph and colour of the task state it resembles.
ATTEMPT_SHOWN: dict[AttemptState, TaskState] = {
    AttemptState.WAITING: TaskState.QUEUED,
    AttemptState.STARTING: TaskState.RUNNING,
    AttemptState.RUNNING: TaskState.RUNNING,
    AttemptState.NEEDS_INPUT: TaskState.NEEDS_INPUT,
    AttemptState.CHECKING: TaskState.CHECKING,
    AttemptState.PASSED: TaskState.PASSED,
    AttemptState.FAILED: TaskState.FAILED,
    AttemptState.CANCELLED: TaskState.CANCELLED,
    AttemptState.KEPT: TaskState.LANDED,
    AttemptState.DISCARDED: TaskState.CANCELLED,
}

#: An attempt whose change is this many times the smallest passing one's is marked, when it
#: is also this many lines more (three lines are not "large" beside one).
LARGE_CHANGE_FACTOR = 3
LARGE_CHANGE_LINES = 20
LARGE_MARK = "⚠"
#: Shown beside the attempt marked for a diff (``d``).
DIFF_MARK = "◆"

#: The board's columns: key, label, width (the flexible one's least: it takes what is left).
TASK_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("number", "#", 3),
    ("state", "State", 13),
    ("task", "Task", 26),
    ("agent", "Agent", 12),
    ("attempts", "Tries", 6),
    ("round", "Round", 5),
    ("why", "Waits on / why", 24),
    ("check", "Check", 8),
    ("diff", "+/-", 12),
)
#: The comparison's columns.
ATTEMPT_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("rank", "Rank", 4),
    ("attempt", "Try", 3),
    ("agent", "Agent", 18),
    ("kind", "Kind", 12),
    ("state", "State", 13),
    ("check", "Check", 8),
    ("diff", "+/-", 14),
    ("time", "Time", 6),
    ("rounds", "Rounds", 6),
    ("note", "", 24),
)


def lead_attempt(task: Task) -> Attempt | None:
    """The attempt a task's row speaks of: the first live one, else the one kept, else the
    best ranked (`rank_attempts`)."""
    live = [a for a in task.attempts if a.state in ATTEMPT_ACTIVE]
    if live:
        return live[0]
    ranked = rank_attempts(task.attempts)
    return task.kept or (ranked[0] if ranked else None)


def agent_attempt(task: Task) -> Attempt | None:
    """The attempt whose agent ``enter`` goes to: the first live one, else the latest that had
    an agent."""
    with_agent = [a for a in task.attempts if a.agent_name]
    live = [a for a in with_agent if a.state in ATTEMPT_ACTIVE]
    return live[0] if live else (with_agent[-1] if with_agent else None)


def round_label(task: Task, attempt: Attempt) -> str:
    """``r2/5`` (round 2 of a loop of 5 rounds), ``r1`` (no loop); '' before its first round."""
    rounds = len(attempt.rounds)
    if not rounds:
        return ""
    caps = task.spec.caps
    return f"r{rounds}/{attempt.budget_round + caps.rounds}" if caps.looping else f"r{rounds}"


def attempt_check(attempt: Attempt) -> tuple[str, str]:
    """The attempt's latest check: ``✗ 41s``, ``⋯`` while it runs, ``no check`` when none is
    set; with its theme variable ('' for dim). ``("", "")`` before any."""
    if attempt.state is AttemptState.CHECKING:
        return CHECK_GLYPHS[CheckState.RUNNING]
    done = next((r for r in reversed(attempt.rounds) if r.check), None)
    if done is None:
        return "", ""
    if done.check == "none":
        return "no check", ""
    glyph, variable = CHECK_GLYPHS[CheckState(done.check)]
    if done.check == CheckState.CANCELLED:
        return glyph, variable
    return f"{glyph} {format_duration(done.check_seconds)}", variable


def kinds_label(task: Task, default: str = "") -> str:
    """The agents it asks for: ``claude``, ``claude ×3``, ``claude, codex (o3)`` (``default``:
    the repository's default kind, for attempts that name none)."""
    choices = [a.choice for a in task.attempts] or list(task.spec.attempts)
    counts = Counter(choice.label(default) for choice in choices)
    return ", ".join(kind if n == 1 else f"{kind} ×{n}" for kind, n in counts.items())


def attempts_label(task: Task) -> str:
    """How many attempts, and how many passed when there are several: ``3 · 2✓``."""
    n = len(task.attempts)
    passed = sum(a.passed for a in task.attempts)
    return f"{n} · {passed}✓" if n > 1 and passed else str(n)


def counted_round(attempt: Attempt) -> Round | None:
    """The round whose counts say the attempt's change: the latest that ended (a round that
    runs is counted when it ends)."""
    return next((r for r in reversed(attempt.rounds) if r.ended_at), None)


def _changes(attempt: Attempt | None, palette: Palette) -> Text:
    counted = counted_round(attempt) if attempt is not None else None
    if counted is None:
        return change_cell(0, 0, 0, palette)
    return change_cell(counted.added, counted.removed, counted.files, palette)


def task_cells(task: Task, palette: Palette, default: str = "") -> dict[str, Text]:
    """The cells of a task's row on the board, by column key (``default``: the default
    kind)."""
    lead = lead_attempt(task)
    check, variable = attempt_check(lead) if lead is not None else ("", "")
    return {
        "number": cell((str(task.id), Style(dim=True))),
        "state": cell(
            (f"{TASK_GLYPH[task.state]} {task.state.value}", palette(TASK_VARIABLE[task.state]))
        ),
        "task": cell(
            (task.name, Style(bold=True)), ("  ", None), (task.spec.title, Style(dim=True))
        ),
        "agent": cell((kinds_label(task, default), None)),
        "attempts": cell((attempts_label(task), None)),
        "round": cell((round_label(task, lead) if lead is not None else "", None)),
        "why": cell((" ".join(task.reason.split()), None)),
        "check": cell((check, palette(variable) if variable else Style(dim=True))),
        "diff": _changes(lead, palette),
    }


def smallest_passing(attempts: Sequence[Attempt]) -> int | None:
    """The fewest lines changed by an attempt that passed, None when none passed."""
    passed = [a.lines_changed for a in attempts if a.passed]
    return min(passed) if passed else None


def size_note(attempt: Attempt, smallest: int | None) -> str:
    """``⚠ 10× the smallest passing change`` when the attempt's change is several times larger
    than the smallest that passed; else ''."""
    if smallest is None or not attempt.rounds:
        return ""
    lines = attempt.lines_changed
    if lines >= LARGE_CHANGE_FACTOR * max(smallest, 1) and lines - smallest >= LARGE_CHANGE_LINES:
        return f"{LARGE_MARK} {lines / max(smallest, 1):.0f}× the smallest passing change"
    return ""


def attempt_cells(
    attempt: Attempt,
    rank: int,
    smallest: int | None,
    palette: Palette,
    *,
    marked: bool = False,
    default: str = "",
) -> dict[str, Text]:
    """The cells of an attempt's row in the comparison, by column key (``default``: the
    default kind)."""
    shown = ATTEMPT_SHOWN[attempt.state]
    check, variable = attempt_check(attempt)
    note = size_note(attempt, smallest)
    notes: list[tuple[str, Style | None]] = []
    if marked:
        notes.append((f"{DIFF_MARK} marked: d on another shows the diff  ", palette("accent")))
    if note:
        notes.append((note, palette("warning") + Style(bold=True)))
    return {
        "rank": cell((str(rank), Style(bold=True))),
        "attempt": cell((str(attempt.number), None)),
        "agent": cell((attempt.agent_name or "not started", None)),
        "kind": cell((attempt.choice.label(default), None)),
        "state": cell(
            (f"{TASK_GLYPH[shown]} {attempt.state.value}", palette(TASK_VARIABLE[shown]))
        ),
        "check": cell((check, palette(variable) if variable else Style(dim=True))),
        "diff": _changes(attempt, palette),
        "time": cell((format_duration(attempt.seconds) if attempt.started_at else "", None)),
        "rounds": cell((str(len(attempt.rounds)), None)),
        "note": cell(*notes) if notes else cell(("", None)),
    }


def board_title(tasks: Sequence[Task], max_running: int, error: str = "") -> Content:
    """``Tasks · 5 · 2 of 4 running``, and why the board could not be read, if it could not."""
    s = "s" if len(tasks) != 1 else ""
    title = Content.from_markup(
        "[b]Tasks[/b] [dim]·[/dim] $n task$s [dim]·[/dim] [b]$running[/b] of $cap running "
        "[dim](attempts at once)[/dim]",
        n=str(len(tasks)),
        s=s,
        running=str(running_count(tasks)),
        cap=str(max_running),
    )
    if error:
        title += Content.from_markup(" [dim]·[/dim] [b $error]$error[/]", error=error)
    return title


def _field(label: str, value: str) -> Content:
    return Content.from_markup("[dim]$label[/dim] $value", label=label, value=value)


def _spec_lines(task: Task) -> list[Content]:
    """What the task waits on, where it lands, its check and its caps."""
    spec = task.spec
    after = ", ".join(spec.after) or "nothing"
    if spec.after and spec.needs_landed:
        after += " (landed)"
    fields = [
        _field("waits on", after),
        _field("base", spec.base or "the default branch"),
        _field("check", spec.check or "the repository's check"),
        _field("loop", spec.caps.describe() or "none (one round)"),
    ]
    if spec.caps.minutes and not spec.caps.looping:
        fields.append(_field("time cap", f"{spec.caps.minutes:g} min"))
    if spec.land:
        fields.append(Content("lands when it passes"))
    if task.start_now:
        fields.append(Content.from_markup("[b $warning]starts over the cap[/]"))
    return [Content(" · ").join(fields[:2]), Content(" · ").join(fields[2:])]


def attempt_line(task: Task, attempt: Attempt, default: str = "") -> Content:
    """One attempt in the detail: number, agent kind, state, round, check, changes, agent and
    branch, and why it ended."""
    shown = ATTEMPT_SHOWN[attempt.state]
    check, variable = attempt_check(attempt)
    counted = counted_round(attempt)
    line = Content.from_markup(
        f"  [b]$n[/b] $kind [${TASK_VARIABLE[shown]}]$glyph $state[/] $round",
        n=str(attempt.number),
        kind=attempt.choice.label(default),
        glyph=TASK_GLYPH[shown],
        state=attempt.state.value,
        round=round_label(task, attempt),
    )
    if check:
        style = f"${variable}" if variable else "dim"
        line += Content.from_markup(f" [{style}]$check[/]", check=check)
    if counted is not None and (counted.added or counted.removed or counted.files):
        line += Content.from_markup(
            " [$success]+$added[/] [$error]−$removed[/] [dim]$files[/dim]",
            added=str(counted.added),
            removed=str(counted.removed),
            files=f"{counted.files}f",
        )
    if attempt.agent_name:
        line += Content.from_markup(
            " [dim]·[/dim] $agent [dim]$branch[/dim]",
            agent=attempt.agent_name,
            branch=attempt.branch,
        )
    if attempt.reason:
        line += Content.from_markup(" [dim]· $reason[/dim]", reason=attempt.reason)
    return line


def history_line(event: TaskEvent) -> Content:
    """``14:03:07 running #1 r2 round 1's check failed; round 2 starts``."""
    where = ""
    if event.attempt:
        where = f"#{event.attempt}" + (f" r{event.round}" if event.round else "")
    return Content.from_markup(
        "  [dim]$at[/dim] $state [dim]$where[/dim] $reason",
        at=time.strftime("%H:%M:%S", time.localtime(event.at)),
        state=event.state,
        where=where,
        reason=event.reason,
    )


def task_detail(task: Task, history: Sequence[TaskEvent] | None, default: str = "") -> Content:
    """Everything about the selected task: what it is, where it is, its prompt, what it waits
    on and its caps, its attempts, its history (``None``: not read yet)."""
    state = task.state
    lines = [
        Content.from_markup(
            "[b]#$id $name[/b]  $title", id=str(task.id), name=task.name, title=task.spec.title
        ),
        Content.from_markup(
            f"[b ${TASK_VARIABLE[state]}]$glyph $state[/] $reason",
            glyph=TASK_GLYPH[state],
            state=state.value,
            reason=task.reason,
        ),
        Content(""),
        *_spec_lines(task),
        Content(""),
        Content.from_markup("[b]Prompt[/b]"),
        *(Content(f"  {line}") for line in task.spec.text.splitlines()),
        Content(""),
        Content.from_markup("[b]Attempts[/b]"),
        *(attempt_line(task, attempt, default) for attempt in task.attempts),
        Content(""),
        Content.from_markup("[b]History[/b]"),
    ]
    if history is None:
        lines.append(Content.from_markup("  [dim]reading…[/dim]"))
    else:
        lines.extend(history_line(event) for event in history)
        if not history:
            lines.append(Content.from_markup("  [dim]nothing yet[/dim]"))
    return Content("\n").join(lines)
