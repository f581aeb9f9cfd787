"""The state store: one SQLite database per repository, outside the working tree."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import asdict, fields, replace
from pathlib import Path
from typing import Any

from app.core.agent import Agent, PromptState
from app.core.status import InputKind, Status

_SCHEMA = """
CREATE TABLE IF NOT EXISTS agents (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    data TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id TEXT NOT NULL,
    at REAL NOT NULL,
    status TEXT NOT NULL,
    evidence TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_agent ON events(agent_id, seq);
"""

_FIELDS = {f.name for f in fields(Agent)}


def _encode(agent: Agent) -> str:
    data = asdict(agent)
    data["options"] = list(agent.options)
    return json.dumps(data, ensure_ascii=False)


def _decode(text: str) -> Agent:
    data: dict[str, Any] = {k: v for k, v in json.loads(text).items() if k in _FIELDS}
    data["status"] = Status(data.get("status", "unknown"))
    data["prompt_state"] = PromptState(data.get("prompt_state", "none"))
    kind = data.get("input_kind")
    data["input_kind"] = InputKind(kind) if kind else None
    data["options"] = tuple(data.get("options", ()))
    return Agent(**data)


class Store:
    """Agents and their status transitions, written before they are shown.

    One record per agent is a JSON document, so a record that cannot be read is skipped (and
    reported by `unreadable`) instead of stopping the app.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            str(path), timeout=10, check_same_thread=False, isolation_level=None
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self.unreadable: list[str] = []
        self._cached: list[Agent] = []
        self._cached_version: tuple[int, int] | None = None

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()

    def _version(self) -> tuple[int, int]:
        """Changes whenever any connection (this one or another process's) changed the data."""
        (other,) = self._db.execute("PRAGMA data_version").fetchone()
        return int(other), self._db.total_changes

    def agents(self) -> list[Agent]:
        """Every agent, in creation order; unreadable records are skipped and noted.

        Decoded once per change of the data: the engine asks four times a second.
        """
        with self._lock:
            version = self._version()
            if version == self._cached_version:
                return list(self._cached)
            rows = self._db.execute(
                "SELECT name, data FROM agents ORDER BY created_at, name"
            ).fetchall()
        agents, bad = [], []
        for name, data in rows:
            try:
                agents.append(_decode(data))
            except (ValueError, TypeError, KeyError):
                bad.append(name)
        self.unreadable = bad
        with self._lock:
            self._cached, self._cached_version = agents, version
        return list(agents)

    def get(self, name: str) -> Agent | None:
        """The agent called ``name``, if any."""
        with self._lock:
            row = self._db.execute("SELECT data FROM agents WHERE name = ?", (name,)).fetchone()
        return _decode(row[0]) if row else None

    def names(self) -> list[str]:
        """Every agent name (readable or not), so new names never collide."""
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT name FROM agents")]

    def insert(self, agent: Agent) -> None:
        """Add a new agent; fails if the name is taken."""
        now = time.time()
        with self._lock:
            self._db.execute(
                "INSERT INTO agents (id, name, data, created_at, updated_at) VALUES (?,?,?,?,?)",
                (agent.id, agent.name, _encode(agent), agent.created_at, now),
            )
            self._db.execute(
                "INSERT INTO events (agent_id, at, status, evidence) VALUES (?,?,?,?)",
                (agent.id, agent.created_at, agent.status.value, agent.evidence),
            )

    def update(
        self, agent: Agent, *, before: Agent | None = None, transition: bool = False
    ) -> None:
        """Write an agent's record; with ``transition`` also log the status change.

        With ``before``, only the fields that differ from it are written, read-modify-write in
        one transaction, so two processes updating different fields never undo each other.
        """
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                data = _encode(agent)
                if before is not None:
                    row = self._db.execute(
                        "SELECT data FROM agents WHERE id = ?", (agent.id,)
                    ).fetchone()
                    if row is not None:
                        new, old = json.loads(data), json.loads(_encode(before))
                        current = json.loads(row[0])
                        current.update({k: v for k, v in new.items() if old.get(k) != v})
                        data = json.dumps(current, ensure_ascii=False)
                self._db.execute(
                    "UPDATE agents SET data = ?, updated_at = ? WHERE id = ?",
                    (data, now, agent.id),
                )
                if transition:
                    self._db.execute(
                        "INSERT INTO events (agent_id, at, status, evidence) VALUES (?,?,?,?)",
                        (agent.id, agent.status_since or now, agent.status.value, agent.evidence),
                    )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def claim_prompt(self, agent_id: str) -> Agent | None:
        """Atomically move an agent's prompt from pending to sending; None if someone else did."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute(
                    "SELECT data FROM agents WHERE id = ?", (agent_id,)
                ).fetchone()
                if row is None:
                    self._db.execute("ROLLBACK")
                    return None
                agent = _decode(row[0])
                if agent.prompt_state is not PromptState.PENDING:
                    self._db.execute("ROLLBACK")
                    return None
                agent = replace(agent, prompt_state=PromptState.SENDING)
                self._db.execute(
                    "UPDATE agents SET data = ?, updated_at = ? WHERE id = ?",
                    (_encode(agent), time.time(), agent_id),
                )
                self._db.execute("COMMIT")
                return agent
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def log(self, agent_id: str, at: float, status: str, evidence: str) -> None:
        """Record a signal about an agent (a hook event, an automatic action) in its trail."""
        with self._lock:
            self._db.execute(
                "INSERT INTO events (agent_id, at, status, evidence) VALUES (?,?,?,?)",
                (agent_id, at, status, evidence),
            )

    def delete(self, agent_id: str) -> None:
        """Forget an agent (its events are kept for the record)."""
        with self._lock:
            self._db.execute("DELETE FROM agents WHERE id = ?", (agent_id,))

    def events(self, agent_id: str) -> list[tuple[float, str, str]]:
        """An agent's status transitions: (time, status, evidence), oldest first."""
        with self._lock:
            return [
                (r[0], r[1], r[2])
                for r in self._db.execute(
                    "SELECT at, status, evidence FROM events WHERE agent_id = ? ORDER BY seq",
                    (agent_id,),
                )
            ]
