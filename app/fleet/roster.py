"""The roster: the fleet's agents as this process last read or tracked them, found by name, and
the view published from them to every subscriber."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

from app.core.agent import Agent
from app.core.errors import AgentNotFoundError
from app.core.views import FleetView
from app.infra.notify import Notifier
from app.infra.store import Store


class Roster:
    """The agents of one repository in this process, and the view built from them.

    ``mutex`` is the fleet mutex: whoever changes agent records (a sweep, a spawn, a stop, a
    removal, a field update, a first prompt's outcome) holds it, so that two threads of one
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
            view = FleetView.from_agents(
                self._repo_name, self._agents, self.notice, self._store.latest_messages()
            )
            if view == self._view:
                return
            before, self._view = self._view, view
            self._notifier.observe(before, view)
            for callback in list(self._subscribers):
                callback(self._view)

    def update_fields(self, agent_id: str, **changes: object) -> Agent | None:
        """Change some fields of an agent's record (from any thread): only those fields are
        written, so a concurrent sweep's status never gets undone. Publishes the view."""
        with self.mutex:
            current = next((a for a in self._agents if a.id == agent_id), None)
            if current is None:
                current = next((a for a in self._store.agents() if a.id == agent_id), None)
            if current is None:
                return None
            updated = replace(current, **changes)  # type: ignore[arg-type]
            if updated != current:
                self._store.update(updated, before=current)
                mine = {a.id: a for a in self._agents}
                if agent_id in mine:
                    fields = {k: getattr(updated, k) for k in changes}
                    mine[agent_id] = replace(mine[agent_id], **fields)
                    self._agents = list(mine.values())
                self.publish()
            return updated

    def set_notice(self, notice: str) -> None:
        """Say something about the engine itself in the view (empty to clear it)."""
        with self.mutex:
            if notice != self.notice:
                self.notice = notice
                self.publish()
