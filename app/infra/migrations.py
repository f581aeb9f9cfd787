"""The state database's schema and its numbered migrations: each database records how many
it has had (`PRAGMA user_version`), so one written by an earlier Quarterdeck opens and is
brought up to date, and one of a newer Quarterdeck is left as it is."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

#: The first version's tables: agents, their status trail, messages.
_AGENTS_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS agents (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    data TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id TEXT NOT NULL,
    at REAL NOT NULL,
    status TEXT NOT NULL,
    evidence TEXT NOT NULL
)""",
    "CREATE INDEX IF NOT EXISTS events_agent ON events(agent_id, seq)",
    """CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id TEXT NOT NULL,
    agent_name TEXT NOT NULL,
    text TEXT NOT NULL,
    mode TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    error TEXT NOT NULL DEFAULT '',
    origin TEXT NOT NULL DEFAULT 'human'
)""",
    "CREATE INDEX IF NOT EXISTS messages_open ON messages(state, agent_id, id)",
    "CREATE INDEX IF NOT EXISTS messages_agent ON messages(agent_id, id)",
)

#: The review's tables (`app/infra/review_tables.py`): each agent's latest check, the merges
#: that landed, each agent's last conflict.
_REVIEW_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS checks (
    agent_id TEXT PRIMARY KEY,
    agent_name TEXT NOT NULL,
    command TEXT NOT NULL,
    state TEXT NOT NULL,
    started_at REAL NOT NULL,
    duration REAL NOT NULL DEFAULT 0,
    exit_code INTEGER,
    tail TEXT NOT NULL DEFAULT '',
    head TEXT NOT NULL DEFAULT '',
    dirty INTEGER NOT NULL DEFAULT 0,
    pid INTEGER NOT NULL DEFAULT 0,
    pid_start TEXT NOT NULL DEFAULT '',
    owner INTEGER NOT NULL DEFAULT 0,
    cancel INTEGER NOT NULL DEFAULT 0
)""",
    """CREATE TABLE IF NOT EXISTS merges (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id TEXT NOT NULL,
    agent_name TEXT NOT NULL,
    at REAL NOT NULL,
    strategy TEXT NOT NULL,
    base TEXT NOT NULL,
    tip TEXT NOT NULL,
    result TEXT NOT NULL
)""",
    "CREATE INDEX IF NOT EXISTS merges_agent ON merges(agent_id, seq)",
    """CREATE TABLE IF NOT EXISTS conflicts (
    agent_id TEXT PRIMARY KEY,
    at REAL NOT NULL,
    strategy TEXT NOT NULL,
    base TEXT NOT NULL,
    base_commit TEXT NOT NULL,
    tip TEXT NOT NULL,
    files TEXT NOT NULL
)""",
)

Migration = Callable[[sqlite3.Connection], None]


#: Tasks (`app/infra/task_table.py`): one JSON record each, and every transition of each.
_TASKS_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS task_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id INTEGER NOT NULL,
    at REAL NOT NULL,
    state TEXT NOT NULL,
    reason TEXT NOT NULL,
    attempt INTEGER NOT NULL DEFAULT 0,
    round INTEGER NOT NULL DEFAULT 0
)""",
    "CREATE INDEX IF NOT EXISTS task_events_task ON task_events(task_id, seq)",
)


def _statements(*statements: str) -> Migration:
    def run(db: sqlite3.Connection) -> None:
        for statement in statements:
            db.execute(statement)

    return run


def _add_column(table: str, column: str, declaration: str) -> Migration:
    """Add a column unless the table has it (databases written before migrations were
    numbered may or may not have it)."""

    def run(db: sqlite3.Connection) -> None:
        columns = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        if column not in columns:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")

    return run


#: The database's migrations, in order: the database's ``user_version`` is how many have been
#: applied. Append only; never change one that shipped. The first three also bring a database
#: of the versions before numbering (version 0, with any of these tables) up to date.
MIGRATIONS: tuple[Migration, ...] = (
    _statements(*_AGENTS_SCHEMA),
    _statements(*_REVIEW_SCHEMA),
    # Whose check it is: the owner's start time, so a recycled owner pid is not taken for it.
    _add_column("checks", "owner_start", "TEXT NOT NULL DEFAULT ''"),
    _statements(*_TASKS_SCHEMA),
)


def migrate(db: sqlite3.Connection) -> int:
    """Apply the migrations the database has not had, in one transaction (a second process
    opening it meanwhile waits, then finds nothing left to do). Returns the version it is at.

    A database of a newer Quarterdeck (a higher version) is left as it is.
    """
    (version,) = db.execute("PRAGMA user_version").fetchone()
    if version >= len(MIGRATIONS):
        return int(version)  # the usual case: no write lock taken
    db.execute("BEGIN IMMEDIATE")
    try:
        (version,) = db.execute("PRAGMA user_version").fetchone()  # as of the lock
        for step in MIGRATIONS[version:]:
            step(db)
        if version < len(MIGRATIONS):
            db.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return max(int(version), len(MIGRATIONS))
