"""The roster: the fleet's agents as this process last read or tracked them, found by name, and
the view published from them to every subscriber."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

from app.core.agent import Agent, DiffStats
from app.core.checks import CheckSummary
from app.core.errors import AgentNotFoundError
from app.core.views import FleetView
from app.infra.notify import Notifier
from app.infra.store import Store


class Roster:
    """The agents of one repository in this process, and the view built from them.

    ``mutex`` is the fleet mutex: whoever changes agent records (a sweep, a spawn, a stop, a
    removal, a part's update, a first prompt's outcome) holds it, so that two threads of one
    process never interleave a read-modify-write of the same records or publish a view in
    between.
    """

    def __init__(self, repo_name: str, root: Path, store: Store, notifier: Notifier) -> None:
        self._repo_name = repo_name
        self._root = root
        self._store = store
        self._notifier = notifier
        self.mutex = threading.RLock()
        self._agents: list[Agent] = []
        self._view = FleetView(repo_name, ())
        self._subscribers: list[Callable[[FleetView], None]] = []
        self.notice = ""

    def agents(self) -> list[Agent]:
        """Every agent as last read or tracked."""
        with self.mutex:
            return list(self._agents)

    def find(self, agent_id: str) -> Agent | None:
        """The agent with this id as last read or tracked, if this process knows it."""
        with self.mutex:
            return next((a for a in self._agents if a.id == agent_id), None)

    def named(self, name: str) -> Agent:
        """The stored agent called ``name``, or an `AgentNotFoundError` listing the ones there
        are."""
        agent = self._store.get(name)
        if agent is None:
            known = ", ".join(self._store.names()) or "none"
            raise AgentNotFoundError(f"no agent named {name!r} in {self._root} (agents: {known})")
        return agent

    def hold(self, agents: Iterable[Agent]) -> None:
        """Take ``agents`` as the fleet's current records (the caller holds the mutex and
        publishes when it is done)."""
        self._agents = list(agents)

    def reload(self) -> list[Agent]:
        """Re-read every agent from the store and publish the view."""
        with self.mutex:
            self._agents = self._store.agents()
            self.publish()
            return list(self._agents)

    def view(self) -> FleetView:
        """The latest view of the fleet."""
        return self._view

    def subscribe(self, callback: Callable[[FleetView], None]) -> None:
        """Call ``callback`` with every new view."""
        self._subscribers.append(callback)

    def publish(self) -> None:
        """Build the view from the records and their latest messages; when it changed, tell the
        notifier (alerts) and every subscriber."""
        with self.mutex:
            gone = frozenset(a.id for a in self._agents if not os.path.isdir(a.checkout.worktree))
            view = FleetView.from_agents(
                self._repo_name, self._agents, self.notice, self._store.latest_messages(), gone
            )
            if view == self._view:
                return
            before, self._view = self._view, view
            self._notifier.observe(before, view)
            for callback in list(self._subscribers):
                callback(self._view)

    def set_stats(self, agent_id: str, stats: DiffStats) -> Agent | None:
        """Write an agent's diff stats (from any thread); see `_write_part`."""
        return self._write_part(agent_id, lambda a: replace(a, stats=stats))

    def set_overlap(self, agent_id: str, overlap: tuple[str, ...]) -> Agent | None:
        """Write which other agents' changes touch the same files (from any thread)."""
        return self._write_part(agent_id, lambda a: replace(a, overlap=overlap))

    def set_check(self, agent_id: str, check: CheckSummary | None) -> Agent | None:
        """Write an agent's latest check (None: none ran) (from any thread)."""
        return self._write_part(agent_id, lambda a: replace(a, check=check))

    def _write_part(self, agent_id: str, change: Callable[[Agent], Agent]) -> Agent | None:
        """Change one part of an agent's record: only that part is written (to the store and
        to this process's records), so a concurrent sweep's status never gets undone.
        Publishes the view; returns the record as changed (None: no such agent)."""
        with self.mutex:
            current = next((a for a in self._agents if a.id == agent_id), None)
            if current is None:
                current = next((a for a in self._store.agents() if a.id == agent_id), None)
            if current is None:
                return None
            updated = change(current)
            if updated != current:
                self._store.update(updated, before=current)
                self._agents = [change(a) if a.id == agent_id else a for a in self._agents]
                self.publish()
            return updated

    def set_notice(self, notice: str) -> None:
        """Say something about the engine itself in the view (empty to clear it)."""
        with self.mutex:
            if notice != self.notice:
                self.notice = notice
                self.publish()
