"""The state store: one SQLite database per repository, outside the working tree, with one
connection per process and numbered migrations (`app.infra.migrations`)."""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.core.agent import Agent, Checkout, DiffStats, Placement, PromptState, StatusShown
from app.core.checks import CheckState, CheckSummary
from app.core.errors import StateError
from app.core.messages import Message, MessageMode, MessageState
from app.core.status import InputKind, Status
from app.infra.migrations import migrate

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    from app.infra.git import Repository

_MESSAGE_COLUMNS = (
    "id, agent_id, agent_name, text, mode, state, created_at, updated_at, error, origin"
)


def _message(row: tuple[Any, ...]) -> Message:
    return Message(
        id=int(row[0]),
        agent_id=row[1],
        agent_name=row[2],
        text=row[3],
        mode=MessageMode(row[4]),
        state=MessageState(row[5]),
        created_at=float(row[6]),
        updated_at=float(row[7]),
        error=row[8],
        origin=row[9],
    )


def state_db(repo: Repository) -> Path:
    """The state database of ``repo`` (in its git common dir: shared by its worktrees)."""
    return repo.common_dir / "quarterdeck" / "state.db"


def state_error(path: Path, exc: sqlite3.DatabaseError) -> StateError:
    """What a failure of the state database at ``path`` means to the user, and what to do."""
    said = str(exc) or type(exc).__name__
    if isinstance(exc, sqlite3.OperationalError) and not _DAMAGE.search(said):
        return StateError(f"the state database {path} cannot be used: {said}")
    return StateError(
        f"the state database {path} is damaged ({said}); "
        "run 'quarterdeck doctor --repair' to set it aside and rebuild it"
    )


#: What SQLite says of a file that is not (or no longer) a sound database.
_DAMAGE = re.compile(r"malformed|not a database|corrupt|file is encrypted", re.IGNORECASE)


def encode_agent(agent: Agent) -> str:
    """An agent's record as stored: its identity at the top, each part an object of its own
    (``checkout``, ``placement``, ``shown``, ``stats``, ``check``), so that a write of one part
    (`Store.update` with ``before``) leaves the others as another process wrote them."""
    return json.dumps(asdict(agent), ensure_ascii=False)


def _values(cls: type[DataclassInstance], data: dict[str, Any]) -> dict[str, Any]:
    """A part's fields from its stored object: unknown keys left out, lists back to tuples."""
    names = {f.name for f in fields(cls)}
    return {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in names}


def _shown(data: dict[str, Any]) -> StatusShown:
    kind = data.get("input_kind")
    return StatusShown(
        **{
            **_values(StatusShown, data),
            "status": Status(data.get("status", "unknown")),
            "input_kind": InputKind(kind) if kind else None,
        }
    )


def _check(data: dict[str, Any] | None) -> CheckSummary | None:
    if data is None:
        return None
    return CheckSummary(**{**_values(CheckSummary, data), "state": CheckState(data["state"])})


#: A duration as records before the typed check summary wrote it (``12s``, ``3m``, ``2h10m``).
_DURATION_PART = re.compile(r"(\d+)([dhms])")
_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def _legacy_check(label: str, line: str) -> CheckSummary | None:
    """The check of a record written before the typed summary, from what it stored: the row's
    label (``passed 12s``, ``running``; '' when none ran) and the output's last line. A label
    it cannot read counts as no check (the next run writes it again)."""
    state, _, took = label.partition(" ")
    if state not in {s.value for s in CheckState}:
        return None
    seconds = sum(int(n) * _SECONDS[unit] for n, unit in _DURATION_PART.findall(took))
    return CheckSummary(CheckState(state), float(seconds), line)


def decode_agent(text: str) -> Agent:
    data: dict[str, Any] = json.loads(text)
    if "shown" in data:
        shown, check = data["shown"], _check(data.get("check"))
        checkout, placement, stats = data["checkout"], data["placement"], data.get("stats", {})
    else:  # written before the agent had parts: every field at the top
        shown = {**data, "since": data.get("status_since", 0.0)}
        check = _legacy_check(str(data.get("check", "")), str(data.get("check_line", "")))
        checkout = placement = stats = data
    return Agent(
        id=data["id"],
        name=data["name"],
        kind=data["kind"],
        command=data["command"],
        checkout=Checkout(**_values(Checkout, checkout)),
        placement=Placement(**_values(Placement, placement)),
        created_at=data["created_at"],
        prompt=data.get("prompt", ""),
        prompt_state=PromptState(data.get("prompt_state", "none")),
        shown=_shown(shown),
        stats=DiffStats(**_values(DiffStats, stats)),
        overlap=tuple(data.get("overlap", ())),
        check=check,
        stopped=data.get("stopped", False),
        # A record from before start-up was tracked is of an agent long past it.
        started=data.get("started", True),
        task=data.get("task", ""),
        conversation=data.get("conversation", ""),
    )


class Store:
    """Agents and their status transitions, written before they are shown.

    One record per agent is a JSON document, so a record that cannot be read is skipped (and
    reported by `unreadable`) instead of stopping the app.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(
                str(path), timeout=10, check_same_thread=False, isolation_level=None
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            migrate(self._db)
        except sqlite3.DatabaseError as exc:
            raise state_error(path, exc) from None
        self.unreadable: list[str] = []
        self._cached: list[Agent] = []
        self._cached_version: tuple[int, int] | None = None

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()

    def query(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Run one statement on the store's connection and return its rows: for the tables
        that other modules keep in this database (`app/infra/review_tables.py`)."""
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """The store's connection inside one write transaction (``BEGIN IMMEDIATE``: other
        processes wait), committed when the block ends, rolled back when it raises: for the
        tables other modules keep here (`app/infra/task_table.py`)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

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
                agents.append(decode_agent(data))
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
        return decode_agent(row[0]) if row else None

    def set_conversation(self, agent_id: str, conversation: str) -> None:
        """Write the agent's conversation id alone (read-modify-write in one transaction)."""
        with self.transaction() as db:
            row = db.execute("SELECT data FROM agents WHERE id = ?", (agent_id,)).fetchone()
            if row is not None:
                data = json.loads(row[0])
                data["conversation"] = conversation
                db.execute(
                    "UPDATE agents SET data = ?, updated_at = ? WHERE id = ?",
                    (json.dumps(data, ensure_ascii=False), time.time(), agent_id),
                )

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
                (agent.id, agent.name, encode_agent(agent), agent.created_at, now),
            )
            self._db.execute(
                "INSERT INTO events (agent_id, at, status, evidence) VALUES (?,?,?,?)",
                (agent.id, agent.created_at, agent.shown.status.value, agent.shown.evidence),
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
                data = encode_agent(agent)
                if before is not None:
                    row = self._db.execute(
                        "SELECT data FROM agents WHERE id = ?", (agent.id,)
                    ).fetchone()
                    if row is not None:
                        new, old = json.loads(data), json.loads(encode_agent(before))
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
                        (
                            agent.id,
                            agent.shown.since or now,
                            agent.shown.status.value,
                            agent.shown.evidence,
                        ),
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
                agent = decode_agent(row[0])
                if agent.prompt_state is not PromptState.PENDING:
                    self._db.execute("ROLLBACK")
                    return None
                agent = replace(agent, prompt_state=PromptState.SENDING)
                self._db.execute(
                    "UPDATE agents SET data = ?, updated_at = ? WHERE id = ?",
                    (encode_agent(agent), time.time(), agent_id),
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

    # ------------------------------------------------------------------ messages

    def add_messages(self, messages: list[tuple[Agent, str, MessageMode, str]]) -> list[Message]:
        """Queue messages (agent, text, mode, origin) in one transaction: all or none."""
        now = time.time()
        ids: list[int] = []
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for agent, text, mode, origin in messages:
                    cursor = self._db.execute(
                        "INSERT INTO messages (agent_id, agent_name, text, mode, state,"
                        " created_at, updated_at, origin) VALUES (?,?,?,?,?,?,?,?)",
                        (agent.id, agent.name, text, mode.value, "pending", now, now, origin),
                    )
                    ids.append(int(cursor.lastrowid or 0))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return [m for i in ids if (m := self.message(i)) is not None]

    def message(self, message_id: int) -> Message | None:
        """One message by id."""
        with self._lock:
            row = self._db.execute(
                f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE id = ?", (message_id,)
            ).fetchone()
        return _message(row) if row else None

    def messages(self, agent_id: str | None = None, limit: int = 100) -> list[Message]:
        """The latest ``limit`` messages (of one agent, or all), oldest first."""
        where, args = ("WHERE agent_id = ?", (agent_id,)) if agent_id else ("", ())
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_MESSAGE_COLUMNS} FROM messages {where} ORDER BY id DESC LIMIT ?",
                (*args, limit),
            ).fetchall()
        return [_message(r) for r in reversed(rows)]

    def waiting_message_agents(self) -> set[str]:
        """Ids of agents with a message waiting to be sent."""
        with self._lock:
            rows = self._db.execute(
                "SELECT DISTINCT agent_id FROM messages WHERE state = 'pending'"
            ).fetchall()
        return {r[0] for r in rows}

    def next_message(self, agent_id: str) -> Message | None:
        """The agent's oldest waiting message, unless one of its messages is being sent."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE agent_id = ? AND state IN"
                " ('pending', 'sending') ORDER BY id LIMIT 1",
                (agent_id,),
            ).fetchall()
        if not rows:
            return None
        message = _message(rows[0])
        return message if message.state is MessageState.PENDING else None

    def set_message_state(
        self,
        message_id: int,
        state: MessageState,
        error: str = "",
        *,
        expect: MessageState | None = None,
    ) -> bool:
        """Move a message to ``state``; with ``expect``, only from that state (a claim). True
        when the message moved."""
        query = "UPDATE messages SET state = ?, error = ?, updated_at = ? WHERE id = ?"
        args: tuple[Any, ...] = (state.value, error, time.time(), message_id)
        if expect is not None:
            query += " AND state = ?"
            args += (expect.value,)
        with self._lock:
            return self._db.execute(query, args).rowcount == 1

    def fail_messages(self, state: MessageState, error: str, agent_id: str | None = None) -> int:
        """Mark every message in ``state`` (of one agent, or all) failed with ``error``."""
        query = "UPDATE messages SET state = 'failed', error = ?, updated_at = ? WHERE state = ?"
        args: tuple[Any, ...] = (error, time.time(), state.value)
        if agent_id is not None:
            query += " AND agent_id = ?"
            args += (agent_id,)
        with self._lock:
            return self._db.execute(query, args).rowcount

    def latest_messages(self) -> dict[str, Message]:
        """Each agent's latest message, by agent id."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE id IN"
                " (SELECT MAX(id) FROM messages GROUP BY agent_id)"
            ).fetchall()
        return {r[1]: _message(r) for r in rows}

    def delete(self, agent_id: str) -> None:
        """Forget an agent (its events are kept for the record)."""
        with self._lock:
            self._db.execute("DELETE FROM agents WHERE id = ?", (agent_id,))

    def events_since(self, agent_id: str, at: float) -> list[tuple[float, str, str]]:
        """An agent's trail from time ``at`` on: (time, status, evidence), oldest first."""
        with self._lock:
            return [
                (r[0], r[1], r[2])
                for r in self._db.execute(
                    "SELECT at, status, evidence FROM events WHERE agent_id = ? AND at >= ?"
                    " ORDER BY seq",
                    (agent_id, at),
                )
            ]

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
