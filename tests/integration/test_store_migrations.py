"""The state database's numbered migrations: a database written before they were numbered
(agents, events and messages, the review tables, with or without the column added later)
opens and migrates cleanly, keeps its rows, and every table is reached through one connection.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from app.core.checks import CheckResult, CheckState
from app.core.landing import MergeStrategy
from app.infra.migrations import MIGRATIONS, migrate
from app.infra.review_tables import CheckTable, Conflict, LandingTable
from app.infra.store import Store

#: The schema as the versions before numbered migrations wrote it (agents, events, messages;
#: then the review's tables, whose ``checks`` table gained ``owner_start`` later).
OLD_SCHEMA = """
CREATE TABLE agents (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, data TEXT NOT NULL,
    created_at REAL NOT NULL, updated_at REAL NOT NULL);
CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, agent_id TEXT NOT NULL,
    at REAL NOT NULL, status TEXT NOT NULL, evidence TEXT NOT NULL);
CREATE INDEX events_agent ON events(agent_id, seq);
CREATE TABLE messages (id INTEGER PRIMARY KEY AUTOINCREMENT, agent_id TEXT NOT NULL,
    agent_name TEXT NOT NULL, text TEXT NOT NULL, mode TEXT NOT NULL, state TEXT NOT NULL,
    created_at REAL NOT NULL, updated_at REAL NOT NULL, error TEXT NOT NULL DEFAULT '',
    origin TEXT NOT NULL DEFAULT 'human');
CREATE INDEX messages_open ON messages(state, agent_id, id);
CREATE INDEX messages_agent ON messages(agent_id, id);
CREATE TABLE checks (agent_id TEXT PRIMARY KEY, agent_name TEXT NOT NULL, command TEXT NOT NULL,
    state TEXT NOT NULL, started_at REAL NOT NULL, duration REAL NOT NULL DEFAULT 0,
    exit_code INTEGER, tail TEXT NOT NULL DEFAULT '', head TEXT NOT NULL DEFAULT '',
    dirty INTEGER NOT NULL DEFAULT 0, pid INTEGER NOT NULL DEFAULT 0,
    pid_start TEXT NOT NULL DEFAULT '', owner INTEGER NOT NULL DEFAULT 0,
    cancel INTEGER NOT NULL DEFAULT 0{owner_start});
CREATE TABLE merges (seq INTEGER PRIMARY KEY AUTOINCREMENT, agent_id TEXT NOT NULL,
    agent_name TEXT NOT NULL, at REAL NOT NULL, strategy TEXT NOT NULL, base TEXT NOT NULL,
    tip TEXT NOT NULL, result TEXT NOT NULL);
CREATE INDEX merges_agent ON merges(agent_id, seq);
CREATE TABLE conflicts (agent_id TEXT PRIMARY KEY, at REAL NOT NULL, strategy TEXT NOT NULL,
    base TEXT NOT NULL, base_commit TEXT NOT NULL, tip TEXT NOT NULL, files TEXT NOT NULL);
INSERT INTO agents VALUES ('id1', 'one', '{{"id": "id1", "name": "one"}}', 1.0, 1.0);
INSERT INTO events (agent_id, at, status, evidence) VALUES ('id1', 1.0, 'starting', 'spawned');
INSERT INTO checks (agent_id, agent_name, command, state, started_at, duration, exit_code, tail,
    head, dirty, pid, pid_start, owner, cancel)
    VALUES ('id1', 'one', 'pytest -q', 'passed', 5.0, 2.5, 0, 'ok', 'abc', 0, 42, '7', 43, 0);
INSERT INTO merges (agent_id, agent_name, at, strategy, base, tip, result)
    VALUES ('id1', 'one', 6.0, 'squash', 'main', 'tip1', 'res1');
INSERT INTO conflicts VALUES ('id1', 7.0, 'merge', 'main', 'base1', 'tip2', '["a.py"]');
"""


def columns(path: Path, table: str) -> list[str]:
    with sqlite3.connect(path) as db:
        return [row[1] for row in db.execute(f"PRAGMA table_info({table})")]


def version(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("PRAGMA user_version").fetchone()[0])


@pytest.mark.parametrize("with_owner_start", [False, True], ids=["older", "current"])
def test_a_database_of_the_versions_before_numbering_migrates_and_keeps_its_rows(
    tmp_path: Path, with_owner_start: bool
) -> None:
    path = tmp_path / "state.db"
    extra = ",\n    owner_start TEXT NOT NULL DEFAULT ''" if with_owner_start else ""
    with sqlite3.connect(path) as db:
        db.executescript(OLD_SCHEMA.format(owner_start=extra))
    assert version(path) == 0

    store = Store(path)
    try:
        assert version(path) == len(MIGRATIONS)
        assert columns(path, "checks").count("owner_start") == 1
        assert store.names() == ["one"]
        assert store.events("id1") == [(1.0, "starting", "spawned")]
        record = CheckTable(store).get("id1")
        assert record is not None and record.owner_start == ""
        assert record.result == CheckResult(
            "pytest -q", CheckState.PASSED, 5.0, 2.5, 0, "ok", "abc", False
        )
        assert (record.pid, record.pid_start, record.owner, record.cancel) == (42, "7", 43, False)
        landing = LandingTable(store)
        assert landing.merges("id1") == [("main", "tip1", "res1")]
        assert landing.conflict("id1") == Conflict(
            MergeStrategy.MERGE, "main", "base1", "tip2", ("a.py",)
        )
    finally:
        store.close()
    # Opened again: nothing left to do.
    again = Store(path)
    again.close()
    assert version(path) == len(MIGRATIONS)
    assert columns(path, "checks").count("owner_start") == 1


def test_a_new_database_gets_every_table_and_the_latest_version(tmp_path: Path) -> None:
    path = tmp_path / "new" / "state.db"
    store = Store(path)
    try:
        with sqlite3.connect(path) as db:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"agents", "events", "messages", "checks", "merges", "conflicts"} <= tables
        assert "owner_start" in columns(path, "checks")
        assert version(path) == len(MIGRATIONS)
        # The review's tables go through the store's one connection.
        checks = CheckTable(store)
        result = CheckResult("true", CheckState.RUNNING, 1.0)
        checks.save("id2", "two", result, 10, "s10", 11, "s11")
        assert checks.running() == ["id2"]
        checks.request_cancel("id2")
        record = checks.get("id2")
        assert record is not None and record.cancel and record.owner_start == "s11"
        checks.forget("id2")
        assert checks.get("id2") is None
    finally:
        store.close()


def test_a_newer_database_is_left_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    Store(path).close()
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    Store(path).close()
    assert version(path) == len(MIGRATIONS) + 5


def test_processes_opening_it_at_once_migrate_it_once(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    errors: list[BaseException] = []

    def open_it() -> None:
        try:
            db = sqlite3.connect(path, timeout=10, isolation_level=None)
            try:
                migrate(db)
            finally:
                db.close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert version(path) == len(MIGRATIONS)
    assert columns(path, "checks").count("owner_start") == 1


def test_opening_an_up_to_date_database_takes_no_write_lock(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    Store(path).close()
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # another process in the middle of a write
        store = Store(path)
        try:
            assert store.names() == []
        finally:
            store.close()
    finally:
        writer.execute("ROLLBACK")
        writer.close()
