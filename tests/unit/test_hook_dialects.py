"""Each agent CLI's hook dialect and status file, read from recorded payloads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.agents import aider, claude, codex, gemini
from app.agents.base import GENERIC
from app.core.status import Evidence, InputKind, Reading, Status

PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "screens" / "hook-payloads"


def recorded(agent: str) -> list[tuple[str, object]]:
    lines = (PAYLOADS / f"{agent}.jsonl").read_text().splitlines()
    return [(json.loads(x)["event"], json.loads(x)["payload"]) for x in lines]


def test_claude_turn_from_recorded_hooks() -> None:
    seen = [
        (event, r.status, r.kind)
        for event, payload in recorded("claude")
        if (r := claude.reading_from_hook(event, payload)) is not None
    ]
    assert ("PermissionRequest", Status.NEEDS_INPUT, InputKind.PERMISSION) in seen
    assert ("UserPromptSubmit", Status.WORKING, None) in seen
    assert ("Stop", Status.IDLE, None) in seen
    # AskUserQuestion asks a question, not permission.
    ask = [k for e, s, k in seen if e == "PermissionRequest" and k is InputKind.QUESTION]
    assert ask == [InputKind.QUESTION]
    # Late or ambiguous events say nothing.
    assert (
        claude.reading_from_hook("Notification", {"notification_type": "permission_prompt"}) is None
    )
    assert claude.reading_from_hook("SessionEnd", {}) is None


def test_gemini_permission_notification_and_turn_end() -> None:
    readings = {
        event: gemini.reading_from_hook(event, payload) for event, payload in recorded("gemini")
    }
    assert readings["BeforeAgent"] == Reading(Status.WORKING, Evidence("hook", "BeforeAgent"))
    assert readings["AfterAgent"] is not None and readings["AfterAgent"].status is Status.IDLE
    kinds = [
        r.kind
        for e, p in recorded("gemini")
        if e == "Notification" and (r := gemini.reading_from_hook(e, p)) is not None
    ]
    assert kinds == [InputKind.PERMISSION, InputKind.PERMISSION, InputKind.QUESTION]
    assert gemini.reading_from_hook("PreCompress", {}) is None


def test_aider_notification_means_waiting() -> None:
    r = aider.ADAPTER.reading_from_hook("Notification", None)
    assert r is not None and r.status is Status.IDLE
    assert GENERIC.reading_from_hook("Stop", {}) is None


@pytest.mark.parametrize(
    ("data", "status", "kind"),
    [
        ({"status": "busy"}, Status.WORKING, None),
        ({"status": "idle"}, Status.IDLE, None),
        (
            {"status": "waiting", "waitingFor": "permission prompt"},
            Status.NEEDS_INPUT,
            InputKind.PERMISSION,
        ),
        (
            {"status": "waiting", "waitingFor": "input needed"},
            Status.NEEDS_INPUT,
            InputKind.QUESTION,
        ),
        ({"status": "waiting", "waitingFor": "dialog open"}, Status.NEEDS_INPUT, InputKind.SETUP),
    ],
)
def test_claude_status_file(data: dict[str, str], status: Status, kind: InputKind | None) -> None:
    r = claude.reading_from_status_file(data)
    assert r is not None and (r.status, r.kind) == (status, kind)


@pytest.mark.parametrize("data", [None, [], {"status": "sleeping"}, {}])
def test_unexpected_status_files_say_nothing(data: object) -> None:
    assert claude.reading_from_status_file(data) is None


def test_a_dialog_hook_carries_the_question_it_knows() -> None:
    asks = [
        (r.kind, r.question, r.options, r.detail)
        for event, payload in recorded("claude")
        if event == "PermissionRequest"
        and (r := claude.reading_from_hook(event, payload)) is not None
    ]
    assert asks[0][0] is InputKind.PERMISSION
    assert asks[0][3].startswith("Bash: echo hello-from-fake-model > fake_bash_output.txt")
    assert asks[1][3] == "Write: /home/user/projects/claude2/fake_notes.md"
    assert asks[2] == (
        InputKind.QUESTION,
        "Which color should the fake model use?",
        ("Red", "Blue"),
        "",
    )
    details = [
        r.detail
        for event, payload in recorded("gemini")
        if event == "Notification" and (r := gemini.reading_from_hook(event, payload)) is not None
    ]
    assert details[0].startswith("Confirm Shell Command: echo hello-from-fake-model")
    # A huge command is cut to one line.
    long = {"tool_name": "Bash", "tool_input": {"command": "x\n" * 1000}}
    r = claude.reading_from_hook("PermissionRequest", long)
    assert r is not None and "\n" not in r.detail and len(r.detail) <= 300
    # Odd payloads say less, never fail.
    odd: list[object] = [None, "text", {"tool_input": []}, {"tool_input": {"questions": ["?"]}}]
    for payload in odd:
        r = claude.reading_from_hook("PermissionRequest", payload)
        assert r is not None and r.status is Status.NEEDS_INPUT


def test_the_events_that_announce_a_tool() -> None:
    assert claude.ADAPTER.announces_tool("PreToolUse")
    assert gemini.ADAPTER.announces_tool("BeforeTool")
    assert not claude.ADAPTER.announces_tool("PostToolUse")
    assert not gemini.ADAPTER.announces_tool("AfterTool")
    assert not GENERIC.announces_tool("PreToolUse")


def test_codex_notify_ends_a_turn_but_not_the_title_thread() -> None:
    readings = [
        codex.reading_from_hook(event, payload)
        for event, payload in recorded("codex")
        if event == "codex-notify"
    ]
    # Recorded: the title thread's notify first, then the real turn's end, then a title again.
    assert readings[0] is None and readings[2] is None
    assert readings[1] is not None and readings[1].status is Status.IDLE
    assert codex.reading_from_hook("codex-notify", {"type": "other"}) is None
    assert codex.reading_from_hook("codex-notify", "not json") is None


def test_claude_stop_failure_is_an_error_with_its_line() -> None:
    (payload,) = [p for e, p in recorded("claude") if e == "StopFailure"]
    reading = claude.reading_from_hook("StopFailure", payload)
    assert reading is not None and reading.status is Status.ERROR
    assert reading.detail == "API Error: 529 Fake overload"


def test_session_start_says_nothing_of_the_status() -> None:
    """It fires before the input box is drawn, and before a first prompt given on the command
    line is taken: reading it as idle made `new … && wait --until idle` return at once."""
    for event, payload in recorded("claude") + recorded("gemini"):
        if event == "SessionStart":
            assert claude.reading_from_hook(event, payload) is None
            assert gemini.reading_from_hook(event, payload) is None


def test_the_event_that_says_a_prompt_was_taken() -> None:
    assert claude.ADAPTER.submits_prompt("UserPromptSubmit")
    assert not claude.ADAPTER.submits_prompt("PreToolUse")
    assert gemini.ADAPTER.submits_prompt("BeforeAgent")
    assert not gemini.ADAPTER.submits_prompt("AfterAgent")
