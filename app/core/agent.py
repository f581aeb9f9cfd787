"""The agent record: everything Quarterdeck knows about one agent, as stored and shown."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from app.core.status import InputKind, Status


class PromptState(StrEnum):
    """Where the agent's first prompt is on its way to the agent."""

    NONE = "none"
    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True)
class Agent:
    """One agent session: its identity, its place in git and tmux, and its last known status."""

    id: str
    name: str
    kind: str
    command: str
    branch: str
    base: str
    base_commit: str
    worktree: str
    session: str
    window_id: str
    pane_id: str
    pane_pid: int
    created_at: float
    prompt: str = ""
    prompt_state: PromptState = PromptState.NONE
    status: Status = Status.STARTING
    input_kind: InputKind | None = None
    status_since: float = 0.0
    evidence: str = ""
    question: str = ""
    options: tuple[str, ...] = field(default_factory=tuple)
    context: tuple[str, ...] = field(default_factory=tuple)
    detail: str = ""
    summary: str = ""
    lines_added: int = 0
    lines_removed: int = 0
    files_changed: int = 0
    #: The latest check: ``passed 12s``, ``failed 3s``, ``running``, ``cancelled`` ('' = none).
    check: str = ""
    #: The last line of the latest check's output, once it ended ('' = none).
    check_line: str = ""
    #: Other agents whose changes touch the same files.
    overlap: tuple[str, ...] = field(default_factory=tuple)
    stopped: bool = False


@dataclass(frozen=True)
class SpawnRequest:
    """What the human asked for when starting agents."""

    prompt: str
    kind: str = "demo"
    name: str | None = None
    base: str | None = None
    count: int = 1
    command: str | None = None
