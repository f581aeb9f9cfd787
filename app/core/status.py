"""The status model: what an agent is doing, the evidence for it, and hysteresis over readings."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

#: The evidence of an agent whose tmux pane went away while it ran (its server killed, its
#: window closed outside Quarterdeck): what makes it one to restore.
PANE_GONE = "tmux pane is gone"


class Status(StrEnum):
    """What an agent is doing, as the human needs to know it."""

    STARTING = "starting"
    WORKING = "working"
    NEEDS_INPUT = "needs_input"
    #: The turn ended in an error (an API or tool error the CLI gave up on): the human decides
    #: what next. Not ended: the agent takes messages.
    ERROR = "error"
    IDLE = "idle"
    DONE = "done"
    FAILED = "failed"
    EXITED = "exited"
    PAUSED = "paused"
    UNKNOWN = "unknown"


class InputKind(StrEnum):
    """Why an agent in ``needs_input`` waits on the human."""

    PERMISSION = "permission"
    QUESTION = "question"
    TRUST = "trust"
    SETUP = "setup"
    LOGIN = "login"


#: Statuses after which an agent does nothing more on its own: its process has ended
#: (exited, failed) or its task is finished (done). Such an agent takes no messages, a `wait`
#: for another status ends, and "message every live agent" leaves it out.
ENDED: frozenset[Status] = frozenset({Status.EXITED, Status.FAILED, Status.DONE})


def is_ended(status: Status, *, stopped: bool = False) -> bool:
    """Whether an agent in ``status`` (``stopped`` by the human or not) has ended."""
    return stopped or status in ENDED


#: Order in which statuses are listed: the ones that need the human first.
ATTENTION_ORDER: tuple[Status, ...] = (
    Status.NEEDS_INPUT,
    Status.ERROR,
    Status.FAILED,
    Status.IDLE,
    Status.DONE,
    Status.WORKING,
    Status.STARTING,
    Status.UNKNOWN,
    Status.PAUSED,
    Status.EXITED,
)

#: One glyph per status, for narrow places (tmux window names, the status line).
STATUS_GLYPH: dict[Status, str] = {
    Status.STARTING: "…",
    Status.WORKING: "●",
    Status.NEEDS_INPUT: "?",
    Status.ERROR: "!",
    Status.IDLE: "○",
    Status.DONE: "✓",
    Status.FAILED: "✗",
    Status.EXITED: "■",
    Status.PAUSED: "‖",
    Status.UNKNOWN: "·",
}


@dataclass(frozen=True)
class Evidence:
    """Where a reading came from: the signal (``screen``, ``pane``, ``user``...) and the rule."""

    source: str
    detail: str

    def __str__(self) -> str:
        return f"{self.source}: {self.detail}"


@dataclass(frozen=True)
class Reading:
    """One observation of an agent's state, from one look at its signals."""

    status: Status
    evidence: Evidence
    kind: InputKind | None = None
    question: str = ""
    options: tuple[str, ...] = ()
    summary: str = ""
    #: While waiting: the lines on screen above the dialog, and what the request is about as a
    #: hook reported it (``Bash: npm test``).
    context: tuple[str, ...] = ()
    detail: str = ""
    #: The other dialogs open on the same screen (`describe_dialog`), and whether the one read
    #: here is known to be the one that takes keys (with other dialogs open it may not be).
    others: tuple[str, ...] = ()
    focused: bool = True
    #: The option carrying the selection glyph (1-based; 0 when the screen does not say), and
    #: how this dialog takes an answer when it differs from its CLI's usual way (``arrows``).
    selected: int = 0
    answer: str = ""

    def same_state(self, other: Reading) -> bool:
        """True when both readings say the same thing to the human (status, kind, question,
        options and the other dialogs open)."""
        return (self.status, self.kind, self.question, self.options, self.others) == (
            other.status,
            other.kind,
            other.question,
            other.options,
            other.others,
        )


def describe_dialog(kind: InputKind | None, question: str, options: tuple[str, ...]) -> str:
    """One dialog in a line: ``trust: Do you trust this folder? (1. Trust; 2. Don't trust)``."""
    listed = "; ".join(f"{i}. {o}" for i, o in enumerate(options, 1))
    text = f"{kind.value}: {question}" if kind is not None else question
    return f"{text} ({listed})" if listed else text


@dataclass(frozen=True)
class TrackedStatus:
    """The status shown for an agent: the accepted reading and since when it holds."""

    reading: Reading
    since: float
    pending: Reading | None = None
    pending_since: float = 0.0

    @property
    def status(self) -> Status:
        """The accepted status."""
        return self.reading.status


#: How long a new reading must persist before it replaces the shown one. Statuses that a single
#: look proves (a dead pane, a dialog on screen) switch at once; "working" and "idle" flicker
#: between spinner frames and need to hold a little.
SETTLE_SECONDS: dict[Status, float] = {
    Status.NEEDS_INPUT: 0.0,
    Status.ERROR: 0.0,
    Status.EXITED: 0.0,
    Status.FAILED: 0.0,
    Status.WORKING: 0.0,
    Status.IDLE: 0.4,
    Status.STARTING: 0.0,
    Status.DONE: 0.0,
    Status.PAUSED: 0.0,
    Status.UNKNOWN: 2.0,
}


@dataclass(frozen=True)
class StatusTracker:
    """Hysteresis over readings: a pure function of the previous state, a reading and the time."""

    settle: dict[Status, float] = field(default_factory=lambda: dict(SETTLE_SECONDS))

    def start(self, reading: Reading, now: float) -> TrackedStatus:
        """The first status of an agent."""
        return TrackedStatus(reading=reading, since=now)

    def observe(self, current: TrackedStatus, reading: Reading, now: float) -> TrackedStatus:
        """Fold one reading into the tracked status, returning the new tracked status."""
        if reading.same_state(current.reading):
            # Same state: keep `since`, refresh the summary line and drop any pending change.
            return replace(current, reading=reading, pending=None, pending_since=0.0)
        if current.pending is not None and reading.same_state(current.pending):
            pending_since = current.pending_since
        else:
            pending_since = now
        if now - pending_since >= self.settle.get(reading.status, 0.0):
            # The same status told better (the screen adds the question a hook could not
            # give) is the same wait: it keeps its time.
            same = (reading.status, reading.kind) == (current.reading.status, current.reading.kind)
            return TrackedStatus(reading=reading, since=current.since if same else now)
        return replace(current, pending=reading, pending_since=pending_since)
