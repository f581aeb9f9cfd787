"""Agent records in the state database: a record of the flat layout (every field at the top,
as Quarterdeck wrote it before the record had parts) still loads, into its parts; an
unreadable one is skipped; and each typed update writes only its part, so what another
thread or process wrote meanwhile is never undone."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from app.core.agent import DiffStats, PromptState, StatusShown
from app.core.checks import CheckState, CheckSummary
from app.core.status import Status
from app.fleet.roster import Roster
from app.infra.notify import Notifier
from app.infra.settings import NotifySettings
from app.infra.store import Store
from app.infra.tmux import TmuxServer
from tests.helpers import sample_agent

#: A record exactly as the flat layout wrote it.
FLAT = {
    "id": "id1",
    "name": "api",
    "kind": "claude",
    "command": "claude",
    "branch": "qd/api",
    "base": "main",
    "base_commit": "abc123",
    "worktree": "/wt/api",
    "session": "qd-r",
    "window_id": "@3",
    "pane_id": "%7",
    "pane_pid": 4242,
    "created_at": 100.0,
    "prompt": "fix it",
    "prompt_state": "delivered",
    "status": "needs_input",
    "input_kind": "permission",
    "status_since": 150.5,
    "evidence": "hook: PermissionRequest Bash",
    "question": "Run it?",
    "options": ["Yes", "No"],
    "context": ["above"],
    "detail": "Bash: npm test",
    "summary": "Wants to run npm test",
    "lines_added": 12,
    "lines_removed": 3,
    "files_changed": 2,
    "check": "failed 2h10m",
    "check_line": "1 failed",
    "overlap": ["web"],
    "stopped": False,
}

LOADED = sample_agent(CheckSummary(CheckState.FAILED, 7800.0, "1 failed"))


def put(path: Path, name: str, record: object) -> None:
    """Write a record as another Quarterdeck would have, bypassing the store."""
    text = record if isinstance(record, str) else json.dumps(record)
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO agents (id, name, data, created_at, updated_at) VALUES (?,?,?,?,?)",
            (f"id-{name}", name, text, 1.0, 1.0),
        )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "state.db")


def test_a_flat_record_loads_into_its_parts(store: Store) -> None:
    put(store.path, "api", FLAT)
    assert store.get("api") == LOADED
    assert store.agents() == [LOADED]


@pytest.mark.parametrize(
    ("check", "check_line", "loaded"),
    [
        ("passed 12s", "ok", CheckSummary(CheckState.PASSED, 12.0, "ok")),
        ("failed 3m", "", CheckSummary(CheckState.FAILED, 180.0, "")),
        ("passed 3d4h", "", CheckSummary(CheckState.PASSED, 273600.0, "")),
        ("running", "", CheckSummary(CheckState.RUNNING, 0.0, "")),
        ("cancelled", "", CheckSummary(CheckState.CANCELLED, 0.0, "")),
        ("", "", None),
        ("exploded 4s", "", None),
    ],
)
def test_a_flat_records_check_label_becomes_its_summary(
    store: Store, check: str, check_line: str, loaded: CheckSummary | None
) -> None:
    put(store.path, "api", {**FLAT, "check": check, "check_line": check_line})
    agent = store.get("api")
    assert agent is not None and agent.check == loaded


def test_a_flat_record_without_the_later_fields_loads_with_their_defaults(store: Store) -> None:
    later = {"prompt", "prompt_state", "input_kind", "context", "detail", "summary", "overlap"}
    later |= {"lines_added", "lines_removed", "files_changed", "check", "check_line", "stopped"}
    put(store.path, "api", {k: v for k, v in FLAT.items() if k not in later})
    agent = store.get("api")
    assert agent is not None
    assert agent.shown == StatusShown(
        Status.NEEDS_INPUT, since=150.5, evidence=LOADED.shown.evidence, question="Run it?",
        options=("Yes", "No"),
    )  # fmt: skip
    assert (agent.stats, agent.check, agent.overlap) == (DiffStats(), None, ())
    assert agent.prompt_state is PromptState.NONE


def test_a_record_round_trips_in_parts_and_unreadable_ones_are_skipped(store: Store) -> None:
    store.insert(LOADED)
    put(store.path, "broken", "{not json")
    put(store.path, "partless", {"id": "x", "name": "partless", "shown": {}})
    put(store.path, "bad-status", {**FLAT, "id": "y", "name": "bad-status", "status": "dancing"})
    stored = json.loads(store.query("SELECT data FROM agents WHERE name = 'api'")[0][0])
    assert stored["shown"]["status"] == "needs_input" and stored["check"]["state"] == "failed"
    assert stored["placement"] == {
        "session": "qd-r", "window_id": "@3", "pane_id": "%7", "pane_pid": 4242
    }  # fmt: skip
    assert store.agents() == [LOADED]
    assert sorted(store.unreadable) == ["bad-status", "broken", "partless"]


def roster(store: Store) -> Roster:
    notifier = Notifier(NotifySettings(), TmuxServer("qd-test-unused"), "s")
    return Roster("r", store.path.parent, store, notifier)


#: Each typed update: the field of its part, the update, what it writes.
UPDATES: list[tuple[str, Callable[[Roster], object], object]] = [
    ("stats", lambda r: r.set_stats("id1", DiffStats(40, 1, 5)), DiffStats(40, 1, 5)),
    ("overlap", lambda r: r.set_overlap("id1", ("b", "c")), ("b", "c")),
    (
        "check",
        lambda r: r.set_check("id1", CheckSummary(CheckState.PASSED, 2.0, "ok")),
        CheckSummary(CheckState.PASSED, 2.0, "ok"),
    ),
    ("check", lambda r: r.set_check("id1", None), None),
]


@pytest.mark.parametrize(("part", "update", "wanted"), UPDATES)
def test_a_typed_update_writes_only_its_part(
    store: Store, part: str, update: Callable[[Roster], object], wanted: object
) -> None:
    store.insert(LOADED)
    mine = roster(store)
    mine.reload()
    # Meanwhile another process's sweep shows a new status.
    other = Store(store.path)
    idle = StatusShown(Status.IDLE, since=200.0, evidence="screen: prompt")
    other.update(replace(LOADED, shown=idle), before=LOADED)
    seen: list[object] = []
    mine.subscribe(seen.append)

    update(mine)

    written: dict[str, Any] = {part: wanted}
    stored = other.get("api")
    assert stored is not None and getattr(stored, part) == wanted
    assert stored == replace(LOADED, shown=idle, **written)  # the status is not undone
    held = mine.find("id1")
    assert held == replace(LOADED, **written)  # nor this process's view of it
    assert seen, "the view is published"


def test_a_typed_update_of_an_unknown_agent_writes_nothing(store: Store) -> None:
    assert roster(store).set_stats("nobody", DiffStats(1, 1, 1)) is None
    assert store.agents() == []
