"""The agent record's typed parts as they are said: a check's label (the rows, the evidence
dialog and ``quarterdeck ls --json`` say it alike) and the JSON ``ls`` prints of a record."""

from __future__ import annotations

import pytest

from app.cli.agents import _as_json
from app.core.agent import Agent, DiffStats
from app.core.checks import CheckState, CheckSummary
from app.core.messages import Message, MessageMode, MessageState
from app.core.views import AgentRow, check_label, check_took
from tests.helpers import sample_agent


@pytest.mark.parametrize(
    ("state", "seconds", "label", "took"),
    [
        (CheckState.PASSED, 12.4, "passed 12s", "12s"),
        (CheckState.PASSED, 0.0, "passed 0s", "0s"),
        (CheckState.FAILED, 3.0, "failed 3s", "3s"),
        (CheckState.FAILED, 185.0, "failed 3m", "3m"),
        (CheckState.FAILED, 7800.0, "failed 2h10m", "2h10m"),
        (CheckState.PASSED, 273600.0, "passed 3d4h", "3d4h"),
        (CheckState.RUNNING, 0.0, "running", ""),
        (CheckState.RUNNING, 40.0, "running", ""),
        (CheckState.CANCELLED, 9.0, "cancelled", ""),
    ],
)
def test_a_check_is_said_by_its_state_and_how_long_it_ran(
    state: CheckState, seconds: float, label: str, took: str
) -> None:
    check = CheckSummary(state, seconds, "1 failed")
    assert check_label(check) == label
    assert check_took(check) == took


def agent(check: CheckSummary | None) -> Agent:
    return sample_agent(check)


@pytest.mark.parametrize(
    ("check", "label", "line"),
    [
        (CheckSummary(CheckState.FAILED, 7800.0, "1 failed"), "failed 2h10m", "1 failed"),
        (CheckSummary(CheckState.RUNNING), "running", ""),
        (None, "", ""),
    ],
)
def test_ls_json_says_every_part_as_before(
    check: CheckSummary | None, label: str, line: str
) -> None:
    message = Message(1, "id1", "api", "hi", MessageMode.QUEUE, MessageState.PENDING, 0.0, 0.0)
    said = _as_json(agent(check), {"id1": message})
    assert list(said.items()) == [
        ("name", "api"),
        ("kind", "claude"),
        ("status", "needs_input"),
        ("input_kind", "permission"),
        ("since", 150.5),
        ("branch", "qd/api"),
        ("base", "main"),
        ("worktree", "/wt/api"),
        ("pane", "%7"),
        ("window", "@3"),
        ("session", "qd-r"),
        ("evidence", "hook: PermissionRequest Bash"),
        ("question", "Run it?"),
        ("options", ["Yes", "No"]),
        ("detail", "Bash: npm test"),
        ("message", message.describe()),
        ("context", ["above"]),
        ("added", 12),
        ("removed", 3),
        ("files", 2),
        ("check", label),
        ("check_line", line),
        ("overlap", ["web"]),
        ("others", []),
        ("focused", True),
        ("first_prompt", "delivered"),
        ("id", "id1"),
    ]


def test_a_row_carries_the_records_parts() -> None:
    check = CheckSummary(CheckState.PASSED, 12.0, "ok")
    row = AgentRow.from_agent(agent(check))
    assert (row.stats, row.check, row.overlap) == (DiffStats(12, 3, 2), check, ("web",))
    assert (row.branch, row.pane_id, row.since) == ("qd/api", "%7", 150.5)
    assert row.status_label == "needs_input:permission"
