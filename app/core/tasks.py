"""Tasks: the work to do, what it waits on, how it loops and how many attempts it gets; the
graph's validation (names, unknown dependencies, cycles) and the ranking of attempts. What
starts and waits is `app.core.scheduler`; when a turn is over and what follows its check,
`app.core.rounds`.

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
    #: The commit the round's work ended at (Quarterdeck commits what the agent left
    #: uncommitted before the check runs).
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
    #: The current round is recorded and its fresh agent is still to be started.
    restart: bool = False
    #: Fresh agents the current round got because its prompt did not reach the agent.
    redelivered: int = 0

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
