"""The tasks in the repository's state database (`app/infra/store.py` owns the connection):
one JSON record per task, written by compare-and-set so that a command (cancel, retry, edit)
and the engine carrying tasks out never undo each other, and every transition of every task."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import asdict, fields
from typing import TYPE_CHECKING, Any

from app.core.tasks import (
    AgentChoice,
    Attempt,
    AttemptState,
    Caps,
    Round,
    Task,
    TaskEvent,
    TaskSpec,
    TaskState,
)
from app.infra.store import Store

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


def _values(cls: type[DataclassInstance], data: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in names}


def encode(task: Task) -> str:
    """A task's record as stored."""
    return json.dumps(asdict(task), ensure_ascii=False, sort_keys=True)


def _choice(data: dict[str, Any]) -> AgentChoice:
    return AgentChoice(**_values(AgentChoice, data))


def decode(text: str) -> Task:
    """A task from its stored record (unknown keys ignored: a newer version's record loads)."""
    data: dict[str, Any] = json.loads(text)
    raw_spec = data["spec"]
    spec = TaskSpec(
        **{
            **_values(TaskSpec, raw_spec),
            "attempts": tuple(_choice(c) for c in raw_spec.get("attempts", [{}])),
            "caps": Caps(**_values(Caps, raw_spec.get("caps", {}))),
        }
    )
    attempts = tuple(
        Attempt(
            **{
                **_values(Attempt, a),
                "choice": _choice(a.get("choice", {})),
                "state": AttemptState(a.get("state", "waiting")),
                "rounds": tuple(Round(**_values(Round, r)) for r in a.get("rounds", [])),
            }
        )
        for a in data.get("attempts", [])
    )
    return Task(
        **{
            **_values(Task, data),
            "spec": spec,
            "state": TaskState(data.get("state", "blocked")),
            "attempts": attempts,
        }
    )


class TaskTable:
    """Every task of the repository, and its history."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def all(self) -> list[Task]:
        """Every task, oldest first; a record that cannot be read is left out."""
        tasks = []
        for (text,) in self._store.query("SELECT data FROM tasks ORDER BY id"):
            try:
                tasks.append(decode(text))
            except (ValueError, KeyError, TypeError):
                continue
        return tasks

    def get(self, name: str) -> Task | None:
        """The task called ``name``."""
        rows = self._store.query("SELECT data FROM tasks WHERE name = ?", (name,))
        return decode(rows[0][0]) if rows else None

    def by_id(self, task_id: int) -> Task | None:
        """The task numbered ``task_id``."""
        rows = self._store.query("SELECT data FROM tasks WHERE id = ?", (task_id,))
        return decode(rows[0][0]) if rows else None

    def names(self) -> list[str]:
        """Every task's name."""
        return [row[0] for row in self._store.query("SELECT name FROM tasks")]

    def insert(self, tasks: list[Task], reason: str = "added") -> list[Task]:
        """Add tasks in one transaction (all or none), numbering them; returns them numbered."""
        now = time.time()
        added = []
        with self._store.transaction() as db:
            for task in tasks:
                cursor = db.execute(
                    "INSERT INTO tasks (name, state, data, created_at, updated_at)"
                    " VALUES (?,?,?,?,?)",
                    (task.name, task.state.value, "{}", task.created_at or now, now),
                )
                numbered = Task(
                    **{
                        **{f.name: getattr(task, f.name) for f in fields(Task)},
                        "id": int(cursor.lastrowid or 0),
                        "created_at": task.created_at or now,
                        "updated_at": now,
                    }
                )
                db.execute(
                    "UPDATE tasks SET data = ? WHERE id = ?", (encode(numbered), numbered.id)
                )
                _log(db, numbered.id, now, numbered.state.value, reason)
                added.append(numbered)
        return added

    def replace(
        self, new: Task, old: Task, events: list[TaskEvent] | tuple[TaskEvent, ...] = ()
    ) -> bool:
        """Write ``new`` over ``old`` only if the record is still ``old`` as read (another
        process may have changed it meanwhile: then nothing is written and False is returned),
        with ``events`` added to its history."""
        with self._store.transaction() as db:
            row = db.execute("SELECT data FROM tasks WHERE id = ?", (old.id,)).fetchone()
            if row is None or decode(row[0]) != old:
                return False
            db.execute(
                "UPDATE tasks SET data = ?, state = ?, updated_at = ? WHERE id = ?",
                (encode(new), new.state.value, new.updated_at or time.time(), new.id),
            )
            for event in events:
                _log(db, new.id, event.at, event.state, event.reason, event.attempt, event.round)
        return True

    def history(self, task_id: int) -> list[TaskEvent]:
        """Every transition of the task, oldest first."""
        rows = self._store.query(
            "SELECT at, state, reason, attempt, round FROM task_events WHERE task_id = ?"
            " ORDER BY seq",
            (task_id,),
        )
        return [TaskEvent(float(r[0]), r[1], r[2], int(r[3]), int(r[4])) for r in rows]

    def delete(self, task_id: int) -> None:
        """Forget a task and its history."""
        with self._store.transaction() as db:
            db.execute("DELETE FROM tasks WHERE id = ?", (task_id,))
            db.execute("DELETE FROM task_events WHERE task_id = ?", (task_id,))


def _log(
    db: sqlite3.Connection,
    task_id: int,
    at: float,
    state: str,
    reason: str,
    attempt: int = 0,
    round_: int = 0,
) -> None:
    db.execute(
        "INSERT INTO task_events (task_id, at, state, reason, attempt, round) VALUES (?,?,?,?,?,?)",
        (task_id, at, state, reason, attempt, round_),
    )
