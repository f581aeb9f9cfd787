"""Tasks: the work to do, what it waits on, how it loops and how many attempts it gets — and the
pure rules that decide what starts, what waits, when a turn is over and when a task is done.

A task is carried out by one or more *attempts* (each its own agent, worktree and branch). An
attempt runs in *rounds*: the agent works a turn, the task's check runs; a looping task whose
check fails gets a fresh agent in the same worktree for the next round, until the check passes
or a cap is reached. Quarterdeck — never the model — decides when work is done: the check's exit
status does.

Everything here is pure: the service (`app/fleet/tasks.py`) reads the records, asks these rules
and carries the answers out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from app.core.errors import UsageError
from app.core.naming import slugify, validate_name
from app.core.status import Status


class TaskState(StrEnum):
    """Where a task is, as the board shows it."""

    QUEUED = "queued"  # ready to start, waiting for a free slot
    BLOCKED = "blocked"  # waiting on its dependencies (or held by one that failed)
    RUNNING = "running"
    NEEDS_INPUT = "needs_input"
    CHECKING = "checking"
    PASSED = "passed"
    FAILED = "failed"
    LANDED = "landed"
    CANCELLED = "cancelled"


#: States in which a task does no more work of its own.
TASK_FINAL: frozenset[TaskState] = frozenset(
    {TaskState.PASSED, TaskState.FAILED, TaskState.LANDED, TaskState.CANCELLED}
)
#: One glyph per task state, for narrow places.
TASK_GLYPH: dict[TaskState, str] = {
    TaskState.QUEUED: "◌",
    TaskState.BLOCKED: "⧗",
    TaskState.RUNNING: "●",
    TaskState.NEEDS_INPUT: "?",
    TaskState.CHECKING: "⟳",
    TaskState.PASSED: "✓",
    TaskState.FAILED: "✗",
    TaskState.LANDED: "⇡",
    TaskState.CANCELLED: "⊘",
}


class AttemptState(StrEnum):
    """Where one attempt at a task is."""

    WAITING = "waiting"  # not started yet
    STARTING = "starting"  # its agent is being made (recorded before, so a crash is seen)
    RUNNING = "running"
    NEEDS_INPUT = "needs_input"
    CHECKING = "checking"
    PASSED = "passed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    KEPT = "kept"  # landed: the one kept of its task
    DISCARDED = "discarded"  # another attempt was kept; this one's branch is archived


#: An attempt whose agent is alive for the task: these count against `max_running`.
ATTEMPT_ACTIVE: frozenset[AttemptState] = frozenset(
    {AttemptState.STARTING, AttemptState.RUNNING, AttemptState.NEEDS_INPUT, AttemptState.CHECKING}
)
ATTEMPT_FINAL: frozenset[AttemptState] = frozenset(
    {
        AttemptState.PASSED,
        AttemptState.FAILED,
        AttemptState.CANCELLED,
        AttemptState.KEPT,
        AttemptState.DISCARDED,
    }
)

#: Rounds a looping task gets when it names a check to loop on but no round cap.
DEFAULT_LOOP_ROUNDS = 10
#: An idle screen must hold this long before a turn counts as over (an agent that pauses
#: between two tool calls is not done).
TURN_SETTLE_SECONDS = 2.0
#: How much of a failed check's output goes into the next round's prompt.
FAILURE_LINES = 40


@dataclass(frozen=True)
class AgentChoice:
    """Which agent carries out an attempt: its kind ('' for the repository's default), model
    ('' for the CLI's own) and extra command-line flags."""

    kind: str = ""
    model: str = ""
    flags: tuple[str, ...] = ()

    def label(self, default_kind: str = "") -> str:
        """``codex``, ``claude (opus)``."""
        kind = self.kind or default_kind or "default"
        return f"{kind} ({self.model})" if self.model else kind


@dataclass(frozen=True)
class Caps:
    """When a loop stops: after ``rounds`` rounds (1: no loop), ``minutes`` of wall time, or
    ``tokens`` used where the CLI reports them (0: no cap)."""

    rounds: int = 1
    minutes: float = 0.0
    tokens: int = 0

    @property
    def looping(self) -> bool:
        """True when a failed check starts another round."""
        return self.rounds != 1

    def describe(self) -> str:
        """``up to 5 rounds, 30 min``; '' for a task that does not loop."""
        if not self.looping:
            return ""
        parts = [f"up to {self.rounds} rounds"]
        if self.minutes:
            parts.append(f"{self.minutes:g} min")
        if self.tokens:
            parts.append(f"{self.tokens} tokens")
        return ", ".join(parts)


@dataclass(frozen=True)
class TaskSpec:
    """What the human asked for: everything needed to carry the task out.

    ``base`` is the branch the work lands in (and starts from, with no dependencies); ``check``
    the shell command whose exit status says the task is done ('' for the repository's check);
    ``after`` the tasks (by name) it waits on; ``needs_landed``: wait until they landed, not
    only passed; ``land``: land it as soon as it passed (one attempt only).
    """

    title: str
    prompt: str = ""
    name: str = ""
    attempts: tuple[AgentChoice, ...] = (AgentChoice(),)
    base: str = ""
    check: str = ""
    after: tuple[str, ...] = ()
    needs_landed: bool = False
    land: bool = False
    caps: Caps = field(default_factory=Caps)

    @property
    def text(self) -> str:
        """The prompt the agent gets (the title when no prompt was given)."""
        return self.prompt.strip() or self.title.strip()


@dataclass(frozen=True)
class Round:
    """One round of an attempt: a turn of a fresh agent, then the check.

    ``check`` is ``passed``, ``failed``, ``cancelled``, ``none`` (no check is set: the turn
    ending is the result) or '' while the round runs. The stats are the attempt's whole change
    at the end of the round (lines added and removed, files) against where it started.
    """

    number: int
    started_at: float
    ended_at: float = 0.0
    check: str = ""
    check_seconds: float = 0.0
    check_exit: int | None = None
    check_tail: str = ""
    added: int = 0
    removed: int = 0
    files: int = 0
    tokens: int = 0
    #: The commit of the round's work in progress, when Quarterdeck committed it.
    commit: str = ""


@dataclass(frozen=True)
class Attempt:
    """One attempt at a task: its agent, branch, rounds and how it ended."""

    number: int
    choice: AgentChoice = field(default_factory=AgentChoice)
    state: AttemptState = AttemptState.WAITING
    agent_name: str = ""
    agent_id: str = ""
    branch: str = ""
    worktree: str = ""
    #: The commit it started from (its dependencies' work when there were any).
    start_commit: str = ""
    started_at: float = 0.0
    ended_at: float = 0.0
    rounds: tuple[Round, ...] = ()
    reason: str = ""
    #: Refs that keep a discarded attempt's work.
    archive: tuple[str, ...] = ()
    #: Rounds and time before this count against the caps from `budget_round` on (a retry
    #: gives the attempt its caps again).
    budget_round: int = 0
    budget_since: float = 0.0
    #: The current round's agent was seen at work (or waiting on the human).
    worked: bool = False

    @property
    def round(self) -> Round | None:
        """The latest round."""
        return self.rounds[-1] if self.rounds else None

    @property
    def passed(self) -> bool:
        """Its check passed (and it was not discarded since)."""
        return self.state in (AttemptState.PASSED, AttemptState.KEPT)

    @property
    def lines_changed(self) -> int:
        """Lines added plus removed at the end of its latest round."""
        last = self.round
        return last.added + last.removed if last else 0

    @property
    def seconds(self) -> float:
        """Wall time taken so far (or in all)."""
        if not self.started_at:
            return 0.0
        end = self.ended_at or (self.round.ended_at if self.round else 0.0)
        return max(0.0, end - self.started_at) if end else 0.0


@dataclass(frozen=True)
class Task:
    """A task as stored: its spec, where it is, its attempts."""

    id: int
    name: str
    spec: TaskSpec
    state: TaskState = TaskState.BLOCKED
    reason: str = ""
    created_at: float = 0.0
    updated_at: float = 0.0
    attempts: tuple[Attempt, ...] = ()
    #: Start as soon as its dependencies allow, over the concurrency cap.
    start_now: bool = False
    cancelled: bool = False

    @property
    def started(self) -> bool:
        """Any attempt has started."""
        return any(a.state is not AttemptState.WAITING for a in self.attempts)

    @property
    def kept(self) -> Attempt | None:
        """The attempt that was kept (landed), if any."""
        return next((a for a in self.attempts if a.state is AttemptState.KEPT), None)

    def attempt(self, number: int) -> Attempt:
        """Attempt ``number`` (1-based), or a `UsageError` saying which there are."""
        for a in self.attempts:
            if a.number == number:
                return a
        raise UsageError(f"task {self.name!r} has attempts 1 to {len(self.attempts)}, not {number}")

    def with_attempt(self, attempt: Attempt) -> Task:
        """This task with one attempt replaced."""
        return replace(
            self,
            attempts=tuple(attempt if a.number == attempt.number else a for a in self.attempts),
        )


@dataclass(frozen=True)
class TaskEvent:
    """One line of a task's history."""

    at: float
    state: str
    reason: str
    #: The attempt and round it is about (0: the task as a whole).
    attempt: int = 0
    round: int = 0


# ---------------------------------------------------------------------------- validation


def find_cycle(graph: Mapping[str, Sequence[str]]) -> list[str] | None:
    """A dependency cycle in ``graph`` (task → the tasks it waits on), as the names along it
    with the first repeated at the end (``[a, b, a]``), or None."""
    colour: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        colour[node] = 1
        path.append(node)
        for dep in graph.get(node, ()):
            if colour.get(dep) == 1:
                return [*path[path.index(dep) :], dep]
            if dep not in colour and (found := visit(dep)) is not None:
                return found
        path.pop()
        colour[node] = 2
        return None

    for node in sorted(graph):
        if node not in colour and (found := visit(node)) is not None:
            return found
    return None


def name_tasks(specs: Sequence[TaskSpec], taken: Iterable[str]) -> list[str]:
    """A unique, valid name for each new task: its own when given (it must be free), else a
    slug of its title with a number added when taken."""
    used = set(taken)
    names: list[str] = []
    for spec in specs:
        if spec.name:
            name = validate_name(spec.name)
            if name in used:
                raise UsageError(f"a task named {name!r} already exists; give it another name")
        else:
            stem = slugify(spec.title)
            name, n = stem, 2
            while name in used:
                name, n = f"{stem}-{n}", n + 1
        used.add(name)
        names.append(name)
    return names


def validate_graph(new: Mapping[str, TaskSpec], existing: Sequence[Task]) -> None:
    """Refuse new tasks whose dependencies are unknown or make a cycle (named), or whose
    settings cannot work together. ``new`` is by name."""
    known = {t.name: t.spec.after for t in existing}
    for name, spec in new.items():
        if not spec.title.strip():
            raise UsageError("a task needs a title")
        if not spec.attempts:
            raise UsageError(f"task {name!r}: at least one attempt")
        if spec.caps.rounds < 1 or spec.caps.minutes < 0 or spec.caps.tokens < 0:
            raise UsageError(f"task {name!r}: rounds must be at least 1, caps not negative")
        if spec.land and len(spec.attempts) > 1:
            raise UsageError(
                f"task {name!r}: with several attempts the human keeps one; it cannot land "
                "by itself"
            )
        for dep in spec.after:
            if dep == name:
                raise UsageError(f"task {name!r} cannot wait on itself")
            if dep not in new and dep not in known:
                listed = ", ".join(sorted({*known, *new} - {name})) or "none"
                raise UsageError(f"task {name!r} waits on {dep!r}, which is not a task ({listed})")
    graph = {**known, **{name: spec.after for name, spec in new.items()}}
    cycle = find_cycle(graph)
    if cycle is not None:
        raise UsageError("dependency cycle: " + " → ".join(cycle) + "; nothing was added")


# ---------------------------------------------------------------------------- scheduling


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


# ---------------------------------------------------------------------------- rounds

#: Agent statuses after which the turn is over.
_TURN_OVER: frozenset[Status] = frozenset(
    {Status.IDLE, Status.DONE, Status.ERROR, Status.EXITED, Status.FAILED}
)


def turn_over(status: Status, since: float, now: float, *, started: bool, worked: bool) -> bool:
    """Whether the agent's turn is over: it took its prompt (``started``) and now shows a
    finished screen — idle for `TURN_SETTLE_SECONDS`, or done, an error, or its process ended.
    An agent whose process ended is over whatever it did; an idle one must have been seen at
    work this round (``worked``) or idle long enough that a turn was missed between looks."""
    if status in (Status.EXITED, Status.FAILED):
        return True
    if not started or status not in _TURN_OVER:
        return False
    held = now - since
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
    rounds = len(attempt.rounds) - attempt.budget_round
    if rounds >= caps.rounds:
        return f"stopped at the cap of {caps.rounds} rounds: the check still fails"
    since = attempt.budget_since or attempt.started_at
    if caps.minutes and since and now - since >= caps.minutes * 60:
        return f"stopped at the cap of {caps.minutes:g} minutes: the check still fails"
    used = sum(r.tokens for r in attempt.rounds[attempt.budget_round :])
    if caps.tokens and used >= caps.tokens:
        return f"stopped at the cap of {caps.tokens} tokens ({used} used)"
    return ""


def overtime(spec: TaskSpec, attempt: Attempt, now: float) -> str:
    """While a round runs: why it must be stopped now (wall time or tokens over the cap), or ''."""
    caps = spec.caps
    if not caps.looping and not caps.minutes and not caps.tokens:
        return ""
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


# ---------------------------------------------------------------------------- attempts


def rank_attempts(attempts: Sequence[Attempt]) -> list[Attempt]:
    """Attempts best first: the check passed, then the smallest change (lines, then files),
    then the quickest check, the least time and the fewest rounds."""

    def key(a: Attempt) -> tuple[int, int, int, float, float, int, int]:
        last = a.round
        return (
            0 if a.passed else 1,
            a.lines_changed,
            last.files if last else 0,
            last.check_seconds if last else 0.0,
            a.seconds,
            len(a.rounds),
            a.number,
        )

    finished = [a for a in attempts if a.rounds]
    return sorted(finished, key=key) + [a for a in attempts if not a.rounds]


def parse_attempts(spec: str, default: AgentChoice | None = None) -> tuple[AgentChoice, ...]:
    """``--attempts 3`` (three of the task's agent) or ``--attempts claude,codex:o3,gemini``
    (one per kind, ``kind:model``)."""
    base = default or AgentChoice()
    text = spec.strip()
    if not text:
        return (base,)
    if text.isdigit():
        count = int(text)
        if not 1 <= count <= 20:
            raise UsageError(f"--attempts {text}: between 1 and 20 attempts")
        return tuple(base for _ in range(count))
    choices = []
    for part in text.split(","):
        kind, _, model = part.strip().partition(":")
        if not kind:
            raise UsageError(f"--attempts {spec!r}: an empty kind")
        choices.append(replace(base, kind=kind.strip(), model=model.strip() or base.model))
    return tuple(choices)
