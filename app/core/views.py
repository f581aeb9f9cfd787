"""Immutable view models the UI renders; built from agent records, never from services."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from app.core.agent import Agent, PromptState
from app.core.messages import Message, MessageState
from app.core.status import ATTENTION_ORDER, STATUS_GLYPH, InputKind, Status


@dataclass(frozen=True)
class AgentRow:
    """One row of the agent table."""

    name: str
    kind: str
    status: Status
    status_label: str
    since: float
    branch: str
    added: int
    removed: int
    summary: str
    pane_id: str
    evidence: str
    question: str
    options: tuple[str, ...]
    input_kind: InputKind | None = None
    #: While waiting: the lines above the dialog, and what the request is about (from a hook).
    context: tuple[str, ...] = ()
    detail: str = ""
    #: The latest message to the agent, where it is (``✉ message queued``), if any.
    message: str = ""
    files: int = 0
    #: The latest check (``passed 12s``, ``failed 3s``, ``running``), empty if none.
    check: str = ""
    #: The last line of the check's output, once it ended.
    check_line: str = ""
    #: Other agents whose changes touch the same files.
    overlap: tuple[str, ...] = ()

    @classmethod
    def from_agent(cls, agent: Agent, message: Message | None = None) -> AgentRow:
        """The row for one agent, with its latest message."""
        label = agent.status.value
        if agent.status is Status.NEEDS_INPUT and agent.input_kind is not None:
            label = f"needs_input:{agent.input_kind.value}"
        summary = agent.summary
        if message is not None and message.state is not MessageState.DELIVERED:
            summary = message.describe()
        if agent.prompt_state is PromptState.FAILED:
            summary = "⚠ first prompt not delivered: attach and type it"
        elif agent.prompt_state is PromptState.PENDING and agent.status not in (
            Status.EXITED,
            Status.FAILED,
        ):
            summary = "first prompt waits until the agent is ready"
        return cls(
            name=agent.name,
            kind=agent.kind,
            status=agent.status,
            status_label=label,
            since=agent.status_since,
            branch=agent.branch,
            added=agent.lines_added,
            removed=agent.lines_removed,
            summary=summary,
            pane_id=agent.pane_id,
            evidence=agent.evidence,
            question=agent.question,
            options=agent.options,
            input_kind=agent.input_kind,
            context=agent.context,
            detail=agent.detail,
            message=message.describe() if message is not None else "",
            files=agent.files_changed,
            check=agent.check,
            check_line=agent.check_line,
            overlap=agent.overlap,
        )


@dataclass(frozen=True)
class FleetView:
    """Everything the dashboard shows about the fleet at one moment."""

    repo: str
    rows: tuple[AgentRow, ...]
    notice: str = ""

    @classmethod
    def from_agents(
        cls,
        repo: str,
        agents: list[Agent],
        notice: str = "",
        messages: dict[str, Message] | None = None,
    ) -> FleetView:
        """The view of a fleet, agents in creation order, each with its latest message (by
        agent id); ``notice`` is about the engine itself (e.g. that another dashboard tracks
        this fleet, or why tracking failed)."""
        messages = messages or {}
        rows = tuple(AgentRow.from_agent(a, messages.get(a.id)) for a in agents)
        return cls(repo=repo, rows=rows, notice=notice)

    def inbox(self) -> tuple[AgentRow, ...]:
        """Every agent waiting on the human, the longest-waiting first."""
        waiting = [r for r in self.rows if r.status is Status.NEEDS_INPUT]
        return tuple(sorted(waiting, key=lambda r: (r.since, r.name)))

    def next_waiting(self, after: str | None) -> AgentRow | None:
        """The waiting agent to go to from ``after``: the next in inbox order (wrapping), or
        the longest-waiting when ``after`` is not waiting."""
        inbox = self.inbox()
        if not inbox:
            return None
        names = [r.name for r in inbox]
        if after in names:
            return inbox[(names.index(after) + 1) % len(inbox)]
        return inbox[0]

    def counts(self) -> dict[Status, int]:
        """How many agents are in each status, in attention order, zero counts omitted."""
        c = Counter(r.status for r in self.rows)
        return {s: c[s] for s in ATTENTION_ORDER if c[s]}

    @property
    def waiting(self) -> int:
        """How many agents wait on the human."""
        return sum(1 for r in self.rows if r.status is Status.NEEDS_INPUT)

    def status_line(self) -> str:
        """A one-line summary for the tmux status line."""
        if not self.rows:
            return "no agents"
        parts = [f"{len(self.rows)} agents"]
        if self.waiting:
            parts.append(f"{self.waiting} waiting on you")
        for status, n in self.counts().items():
            if status is not Status.NEEDS_INPUT:
                parts.append(f"{STATUS_GLYPH[status]}{n}")
        return " · ".join(parts)


def format_duration(seconds: float) -> str:
    """A compact duration: ``42s``, ``3m``, ``2h10m``, ``3d4h``.

    Whole minutes past the first: the table repaints when a time's text changes, and a fleet
    of a hundred idle agents should not repaint every second.
    """
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{s // 86400}d{(s % 86400) // 3600}h"
