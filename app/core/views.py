"""Immutable view models the UI renders; built from agent records, never from services."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from app.core.agent import Agent, DiffStats, PromptState
from app.core.checks import CheckState, CheckSummary
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
    summary: str
    pane_id: str
    evidence: str
    question: str
    options: tuple[str, ...]
    input_kind: InputKind | None = None
    #: While waiting: the lines above the dialog, and what the request is about (from a hook).
    context: tuple[str, ...] = ()
    detail: str = ""
    #: Other dialogs open on the same screen, and whether the one shown takes the keys.
    others: tuple[str, ...] = ()
    focused: bool = True
    #: The latest message to the agent, where it is (``✉ message queued``), if any.
    message: str = ""
    stats: DiffStats = field(default_factory=DiffStats)
    #: The latest check, None when none ran (`check_label` says it in words).
    check: CheckSummary | None = None
    #: Other agents whose changes touch the same files.
    overlap: tuple[str, ...] = ()
    #: The task it carries out (``name``, ``name#2`` for attempt 2 of several), '' for none.
    task: str = ""

    @classmethod
    def from_agent(
        cls, agent: Agent, message: Message | None = None, *, worktree_gone: bool = False
    ) -> AgentRow:
        """The row for one agent, with its latest message (``worktree_gone``: its worktree
        was deleted outside Quarterdeck)."""
        shown = agent.shown
        label = shown.status.value
        if shown.status is Status.NEEDS_INPUT and shown.input_kind is not None:
            label = f"needs_input:{shown.input_kind.value}"
        summary = shown.summary
        if message is not None and message.state is not MessageState.DELIVERED:
            summary = message.describe()
        if agent.prompt_state is PromptState.FAILED:
            summary = "⚠ first prompt not delivered: attach and type it"
        elif agent.prompt_state is PromptState.PENDING and shown.status not in (
            Status.EXITED,
            Status.FAILED,
        ):
            summary = "first prompt waits until the agent is ready"
        if worktree_gone:
            summary = f"⚠ {WORKTREE_GONE}"
        return cls(
            name=agent.name,
            kind=agent.kind,
            status=shown.status,
            status_label=label,
            since=shown.since,
            branch=agent.checkout.branch,
            summary=summary,
            pane_id=agent.placement.pane_id,
            evidence=shown.evidence,
            question=shown.question,
            options=shown.options,
            input_kind=shown.input_kind,
            context=shown.context,
            detail=shown.detail,
            others=shown.others,
            focused=shown.focused,
            message=message.describe() if message is not None else "",
            stats=agent.stats,
            check=agent.check,
            overlap=agent.overlap,
            task=agent.task,
        )


#: What an agent's row says when its worktree was deleted outside Quarterdeck.
WORKTREE_GONE = "its worktree was deleted: rm cleans up (an archive ref keeps its branch)"


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
        gone: frozenset[str] = frozenset(),
    ) -> FleetView:
        """The view of a fleet, agents in creation order, each with its latest message (by
        agent id; ``gone``: the ids of agents whose worktree was deleted); ``notice`` is about
        the engine itself (e.g. that another dashboard tracks this fleet, or why tracking
        failed)."""
        messages = messages or {}
        rows = tuple(
            AgentRow.from_agent(a, messages.get(a.id), worktree_gone=a.id in gone) for a in agents
        )
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


def check_took(check: CheckSummary) -> str:
    """How long a check ran, as a row says it (``12s``), once it passed or failed; '' while it
    runs or when it was cancelled."""
    if check.state in (CheckState.RUNNING, CheckState.CANCELLED):
        return ""
    return format_duration(check.seconds)


def check_label(check: CheckSummary) -> str:
    """A check in words, as a row and ``quarterdeck ls --json`` say it: ``running``,
    ``passed 12s``, ``failed 3m``, ``cancelled``."""
    took = check_took(check)
    return f"{check.state.value} {took}" if took else check.state.value
