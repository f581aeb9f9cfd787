"""The agent record: everything Quarterdeck knows about one agent, as stored and shown.

The record is its identity plus typed parts, each written whole by the one use case that owns
it: where it works in git (`Checkout`) and in tmux (`Placement`), the status shown
(`StatusShown`, by the sweep), its diff stats (`DiffStats`, by diffs) and its latest check
(`CheckSummary`, by checks).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from app.core.checks import CheckSummary
from app.core.status import InputKind, Status


class PromptState(StrEnum):
    """Where the agent's first prompt is on its way to the agent."""

    NONE = "none"
    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True)
class Checkout:
    """Where the agent works in git: its branch, made from ``base`` at ``base_commit`` and
    checked out in its own worktree."""

    branch: str
    base: str
    base_commit: str
    worktree: str


@dataclass(frozen=True)
class Placement:
    """Where the agent runs in tmux: its session, window and pane, and the pane's process
    (empty and 0 until the window is made)."""

    session: str
    window_id: str = ""
    pane_id: str = ""
    pane_pid: int = 0


@dataclass(frozen=True)
class StatusShown:
    """The status shown for the agent, since when, the evidence for it and, while it waits,
    what it asks."""

    status: Status = Status.STARTING
    input_kind: InputKind | None = None
    since: float = 0.0
    evidence: str = ""
    question: str = ""
    options: tuple[str, ...] = ()
    #: While waiting: the lines above the dialog, and what the request is about (from a hook).
    context: tuple[str, ...] = ()
    detail: str = ""
    summary: str = ""
    #: Other dialogs open on the same screen, and whether the dialog shown is known to be the
    #: one that takes keys (see `app.core.status.Reading`).
    others: tuple[str, ...] = ()
    focused: bool = True


@dataclass(frozen=True)
class DiffStats:
    """How much the agent's branch changed against its base."""

    lines_added: int = 0
    lines_removed: int = 0
    files_changed: int = 0


@dataclass(frozen=True)
class Agent:
    """One agent session: its identity, its place in git and tmux, its last known status, its
    diff stats and its latest check."""

    id: str
    name: str
    kind: str
    command: str
    checkout: Checkout
    placement: Placement
    created_at: float
    prompt: str = ""
    prompt_state: PromptState = PromptState.NONE
    shown: StatusShown = field(default_factory=StatusShown)
    stats: DiffStats = field(default_factory=DiffStats)
    #: Other agents whose changes touch the same files (written apart from the stats: it is
    #: found by comparing agents).
    overlap: tuple[str, ...] = ()
    #: The latest check, None when none ran.
    check: CheckSummary | None = None
    stopped: bool = False
    #: Its start-up is over: it took its first prompt (or, started with none, its CLI became
    #: ready). Until then its status shows ``starting`` rather than a ready screen's idle.
    started: bool = False
    #: The task it carries out (``name``, ``name#2`` for attempt 2), '' for none.
    task: str = ""
    #: Its CLI's id for its conversation (the session id its hooks report), by which a restore
    #: resumes it; '' while none was reported.
    conversation: str = ""


@dataclass(frozen=True)
class SpawnRequest:
    """What the human asked for when starting agents.

    ``base`` is the branch the work lands in; ``start_point`` the commit to branch from when
    it is not the base's tip (a task's dependencies' work); ``model`` and ``args`` go on the
    agent's command line; ``task`` names the task it works on.
    """

    prompt: str
    kind: str = "demo"
    name: str | None = None
    base: str | None = None
    count: int = 1
    command: str | None = None
    start_point: str = ""
    model: str = ""
    args: tuple[str, ...] = ()
    task: str = ""


class RestoreOutcome(StrEnum):
    """What a restore made of one agent."""

    RESUMED = "restored with its conversation"
    FRESH = "restored fresh"
    NOT_RESTORED = "not restored"


@dataclass(frozen=True)
class Restored:
    """One line of a restore's report: the agent, what became of it, and why."""

    name: str
    outcome: RestoreOutcome
    why: str

    def line(self) -> str:
        """``api: restored with its conversation (conversation 4f…)``."""
        return f"{self.name}: {self.outcome.value} ({self.why})"
