"""The sweep: one look at every agent of the fleet — pane facts, screens where there was output,
hook events, diff stats when due — folded into statuses (`StatusTracking`), written before they
are shown, and mirrored in tmux (window glyphs, the waiting mark, the session's status line)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from app.core.agent import Agent, StatusShown
from app.core.signals import conversation_of
from app.core.status import STATUS_GLYPH, Status, TrackedStatus
from app.fleet.roster import Roster
from app.fleet.tracking import StatusTracking
from app.infra.spool import DOORBELL, EventSpool, HookEvent
from app.infra.store import Store
from app.infra.tmux import PaneFacts, TmuxServer


class FreshStats(Protocol):
    """What the sweep asks of review: the agent with fresh diff stats when they are due after
    a look at its pane (only in a process without the diff watcher)."""

    def after_look(self, agent: Agent, activity: int | None, now: float) -> Agent:
        """The agent, with fresh stats when they were due (``activity``: the pane's last
        output, None when no pane was found)."""
        ...


def with_status(agent: Agent, tracked: TrackedStatus, *, started: bool = False) -> Agent:
    """The agent record showing the tracked status (``started``: its start-up was seen to
    end)."""
    reading = tracked.reading
    shown = StatusShown(
        status=reading.status,
        input_kind=reading.kind,
        since=tracked.since,
        evidence=str(reading.evidence),
        question=reading.question,
        options=reading.options,
        context=reading.context,
        detail=reading.detail,
        summary=reading.summary or agent.shown.summary,
        others=reading.others,
        focused=reading.focused,
    )
    return replace(agent, shown=shown, started=agent.started or started)


class Sweep:
    """Keeps the statuses of one repository's agents true; run by the one process that tracks
    the fleet (the engine, or a command while it waits). ``hook_arrived`` is set (by the
    engine's spool watcher) when hook events wait in the spool."""

    def __init__(
        self,
        store: Store,
        tmux: TmuxServer,
        tracking: StatusTracking,
        spool: EventSpool,
        roster: Roster,
        diffs: FreshStats,
        *,
        session: str,
        deliver: Callable[[Agent, bool], None],
        clock: Callable[[], float],
    ) -> None:
        self._store = store
        self._tmux = tmux
        self._tracking = tracking
        self._spool = spool
        self._roster = roster
        self._diffs = diffs
        self._session = session
        self._deliver = deliver
        self._clock = clock
        self.hook_arrived = threading.Event()
        self._last_facts: dict[str, PaneFacts] = {}
        self._early_events: list[HookEvent] = []
        #: The conversation id last recorded for each agent (written only when it changes).
        self._conversations: dict[str, str] = {}
        self._summary = ""

    def sweep(self, now: float | None = None, *, deliver: bool = False) -> bool:
        """One look at every agent: pane facts for all in one call, screens only where there was
        output, hook events and status files folded in, statuses held with hysteresis, and
        transitions written before they are shown.

        Hook events that arrive during the sweep (`hook_arrived`) are folded in between two
        agents rather than after the whole fleet: they are the fastest evidence there is.

        With ``deliver``, pending prompts go to agents that became ready (only a process that
        stays alive until delivery is verified may deliver: the engine, or `new` while waiting).
        Returns True when anything visible changed.
        """
        fixed = now
        dirty = self._tracking.dirty_panes()
        self.hook_arrived.clear()
        events = self._drain_events()
        with self._roster.mutex:
            # The store first, then tmux: an agent recorded with a window is always found in
            # facts taken after it.
            current = {a.id: a for a in self._store.agents()}
            facts = self._tmux.agent_panes()
            self._last_facts = facts
            if any(f.dead and f.dead_status is None for f in facts.values()):
                self._tmux.reap()
            changed = [a.id for a in self._roster.agents()] != list(current)
            self._roster.hold(current.values())
            for agent_id in list(current):
                if self.hook_arrived.is_set() and self._fold_events(current):
                    changed = True
                agent = current[agent_id]
                self._take_hooks(agent, events.pop(agent_id, []))
                # Each agent's look is stamped with its own time: a sweep of a busy fleet
                # takes long enough for the sweep's start to precede what it finds.
                now = self._clock() if fixed is None else fixed
                updated = self._observe(agent, facts.get(agent_id), now, dirty)
                changed = self._commit(agent, updated) or changed
                current[agent_id] = updated
                if deliver:
                    self._deliver(updated, self._tracking.ready(agent_id))
            self._roster.hold(current.values())  # events left were of agents no longer stored
            if changed:
                self._roster.publish()
                self.update_status_line()
            return changed

    def sweep_events(self) -> bool:
        """The fast path for hook events outside a sweep: fold waiting events into their agents'
        statuses at once, without reading screens. True when anything changed."""
        self.hook_arrived.clear()
        with self._roster.mutex:
            current = {a.id: a for a in self._roster.agents()}
            return self._fold_events(current)

    def _fold_events(self, current: dict[str, Agent]) -> bool:
        """Take waiting hook events into the statuses of the agents in ``current`` (updated in
        place), write and publish what changed. Events of agents no sweep has seen in tmux yet
        are kept for the next sweep. True when anything changed."""
        self.hook_arrived.clear()
        events = self._drain_events()
        if not events:
            return False
        now = self._clock()
        changed = False
        for agent_id, agent in current.items():
            pane = self._last_facts.get(agent_id)
            if agent_id not in events or pane is None:
                continue
            self._take_hooks(agent, events.pop(agent_id))
            tracked = self._tracking.observe(agent, pane, now, set())
            if tracked is not None:
                updated = with_status(agent, tracked, started=self._tracking.started(agent_id))
                if self._commit(agent, updated):
                    current[agent_id] = updated
                    changed = True
        self._early_events.extend(e for evs in events.values() for e in evs)
        if changed:
            self._roster.hold(current.values())
            self._roster.publish()
            self.update_status_line()
        return changed

    def _drain_events(self) -> dict[str, list[HookEvent]]:
        """Hook events waiting in the spool (and any the fast path left), by agent. A ring of
        the doorbell (another process queued a message) has done its work by waking us."""
        events: dict[str, list[HookEvent]] = {}
        early, self._early_events = self._early_events, []
        for event in [*early, *self._spool.drain()]:
            if event.agent_id != DOORBELL:
                events.setdefault(event.agent_id, []).append(event)
        return events

    def _take_hooks(self, agent: Agent, events: list[HookEvent]) -> None:
        """Feed an agent's hook events to status tracking and its evidence trail."""
        for event in events:
            conversation = conversation_of(event.payload)
            if conversation and conversation != self._conversations.get(
                agent.id, agent.conversation
            ):
                self._conversations[agent.id] = conversation
                self._store.set_conversation(agent.id, conversation)
            said = self._tracking.hook(agent, event)
            self._store.log(
                agent.id, event.at, said.status.value if said else "-", f"hook: {event.event}"
            )

    def _commit(self, agent: Agent, updated: Agent) -> bool:
        """Write what changed about an agent (a status change with its evidence, logged, and
        shown on its window); True when anything did."""
        if updated == agent:
            return False
        before, after = agent.shown, updated.shown
        transition = (after.status, after.input_kind) != (before.status, before.input_kind)
        self._store.update(updated, before=agent, transition=transition)
        if transition:
            self._tmux.set_window_option(
                updated.placement.window_id, "@qd_glyph", STATUS_GLYPH[updated.shown.status]
            )
            waiting = updated.shown.status is Status.NEEDS_INPUT
            self._tmux.set_window_option(
                updated.placement.window_id,
                "@qd_waiting",
                f"{updated.shown.since:.3f}" if waiting else "",
            )
        return True

    def _observe(
        self, agent: Agent, pane: PaneFacts | None, now: float, dirty: set[str] | None
    ) -> Agent:
        """The agent with its status after this look. Its diff stats come from the review
        watcher when this process runs one; otherwise they are refreshed here when due."""
        tracked = self._tracking.observe(agent, pane, now, dirty)
        started = self._tracking.started(agent.id)
        updated = agent if tracked is None else with_status(agent, tracked, started=started)
        return self._diffs.after_look(updated, pane.activity if pane else None, now)

    def update_status_line(self) -> None:
        """Show the fleet's one-line summary in its tmux session's status line, when it
        changed."""
        summary = self._roster.view().status_line()
        if summary != self._summary:
            self._summary = summary
            self._tmux.set_session_option(self._session, "@qd_summary", summary)
