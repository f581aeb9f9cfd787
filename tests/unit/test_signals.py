"""Hook events and status files as readings, and the fusion of every source."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.core.signals import Signal, fuse, reading_from_hook, reading_from_status_file
from app.core.status import Evidence, InputKind, Reading, Status

PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "screens" / "hook-payloads"


def recorded(agent: str) -> list[tuple[str, object]]:
    lines = (PAYLOADS / f"{agent}.jsonl").read_text().splitlines()
    return [(json.loads(x)["event"], json.loads(x)["payload"]) for x in lines]


def test_claude_turn_from_recorded_hooks() -> None:
    seen = [
        (event, r.status, r.kind)
        for event, payload in recorded("claude")
        if (r := reading_from_hook("claude", event, payload)) is not None
    ]
    assert ("PermissionRequest", Status.NEEDS_INPUT, InputKind.PERMISSION) in seen
    assert ("UserPromptSubmit", Status.WORKING, None) in seen
    assert ("Stop", Status.IDLE, None) in seen
    # AskUserQuestion asks a question, not permission.
    ask = [k for e, s, k in seen if e == "PermissionRequest" and k is InputKind.QUESTION]
    assert ask == [InputKind.QUESTION]
    # Late or ambiguous events say nothing.
    assert (
        reading_from_hook("claude", "Notification", {"notification_type": "permission_prompt"})
        is None
    )
    assert reading_from_hook("claude", "SessionEnd", {}) is None


def test_gemini_permission_notification_and_turn_end() -> None:
    readings = {
        event: reading_from_hook("gemini", event, payload) for event, payload in recorded("gemini")
    }
    assert readings["BeforeAgent"] == Reading(Status.WORKING, Evidence("hook", "BeforeAgent"))
    assert readings["AfterAgent"] is not None and readings["AfterAgent"].status is Status.IDLE
    kinds = [
        r.kind
        for e, p in recorded("gemini")
        if e == "Notification" and (r := reading_from_hook("gemini", e, p)) is not None
    ]
    assert kinds == [InputKind.PERMISSION, InputKind.PERMISSION, InputKind.QUESTION]
    assert reading_from_hook("gemini", "PreCompress", {}) is None


def test_aider_notification_means_waiting() -> None:
    r = reading_from_hook("aider", "Notification", None)
    assert r is not None and r.status is Status.IDLE
    assert reading_from_hook("nobody", "Stop", {}) is None


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
    r = reading_from_status_file(data)
    assert r is not None and (r.status, r.kind) == (status, kind)


@pytest.mark.parametrize("data", [None, [], {"status": "sleeping"}, {}])
def test_unexpected_status_files_say_nothing(data: object) -> None:
    assert reading_from_status_file(data) is None


SCREEN_WORKING = Reading(Status.WORKING, Evidence("screen", "spinner"), summary="• edited")
SCREEN_IDLE = Reading(Status.IDLE, Evidence("screen", "prompt"))
SCREEN_DIALOG = Reading(
    Status.NEEDS_INPUT, Evidence("screen", "dialog"), InputKind.PERMISSION, "Allow?", ("Yes", "No")
)
HOOK_ASK = Reading(
    Status.NEEDS_INPUT, Evidence("hook", "PermissionRequest Bash"), InputKind.PERMISSION
)
HOOK_STOP = Reading(Status.IDLE, Evidence("hook", "Stop"))


def test_a_hook_fresher_than_the_screen_wins() -> None:
    fused = fuse(Signal(SCREEN_WORKING, 10.0), [Signal(HOOK_ASK, 11.0)])
    assert fused is not None and fused.status is Status.NEEDS_INPUT
    assert fused.evidence.source == "hook" and fused.summary == "• edited"


def test_the_dialog_on_screen_wins_with_its_question() -> None:
    assert fuse(Signal(SCREEN_DIALOG, 11.1), [Signal(HOOK_ASK, 11.0)]) == SCREEN_DIALOG
    assert fuse(Signal(SCREEN_DIALOG, 5.0), [Signal(HOOK_STOP, 11.0)]) == SCREEN_DIALOG


def test_the_screen_moving_on_after_a_hook_clears_waiting() -> None:
    # No hook fires on Esc or reject: the screen changing after the request is the evidence.
    assert fuse(Signal(SCREEN_IDLE, 12.0), [Signal(HOOK_ASK, 11.0)]) == SCREEN_IDLE


def test_pane_facts_and_unknown_screens() -> None:
    dead = Reading(Status.EXITED, Evidence("pane", "process exited"))
    assert fuse(Signal(dead, 1.0), [Signal(HOOK_ASK, 9.0)]) == dead
    unknown = Reading(Status.UNKNOWN, Evidence("screen", "no rule matched"))
    fused = fuse(Signal(unknown, 20.0), [Signal(HOOK_STOP, 11.0)])
    assert fused is not None and fused.status is Status.IDLE
    assert fuse(None, [Signal(HOOK_STOP, 1.0)]) == HOOK_STOP
    assert fuse(None, []) is None
    assert fuse(Signal(SCREEN_IDLE, 1.0), []) == SCREEN_IDLE


def test_a_late_working_hook_does_not_hide_the_prompt_on_screen() -> None:
    # An interrupted step's PreToolUse delivered after the agent is back at its prompt.
    late = Reading(Status.WORKING, Evidence("hook", "PreToolUse"))
    assert fuse(Signal(SCREEN_IDLE, 10.0), [Signal(late, 12.0)]) == SCREEN_IDLE
    # But a fresher hook still leads a screen that shows work, or says nothing.
    assert fuse(Signal(SCREEN_WORKING, 10.0), [Signal(HOOK_STOP, 12.0)]).status is Status.IDLE  # type: ignore[union-attr]


def test_a_dialog_hook_carries_the_question_it_knows() -> None:
    asks = [
        (r.kind, r.question, r.options, r.detail)
        for event, payload in recorded("claude")
        if event == "PermissionRequest"
        and (r := reading_from_hook("claude", event, payload)) is not None
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
    gemini = [
        r.detail
        for event, payload in recorded("gemini")
        if event == "Notification"
        and (r := reading_from_hook("gemini", event, payload)) is not None
    ]
    assert gemini[0].startswith("Confirm Shell Command: echo hello-from-fake-model")
    # A huge command is cut to one line.
    long = {"tool_name": "Bash", "tool_input": {"command": "x\n" * 1000}}
    r = reading_from_hook("claude", "PermissionRequest", long)
    assert r is not None and "\n" not in r.detail and len(r.detail) <= 300
    # Odd payloads say less, never fail.
    odd: list[object] = [None, "text", {"tool_input": []}, {"tool_input": {"questions": ["?"]}}]
    for payload in odd:
        r = reading_from_hook("claude", "PermissionRequest", payload)
        assert r is not None and r.status is Status.NEEDS_INPUT


def test_codex_notify_ends_a_turn_but_not_the_title_thread() -> None:
    readings = [
        reading_from_hook("codex", event, payload)
        for event, payload in recorded("codex")
        if event == "codex-notify"
    ]
    # Recorded: the title thread's notify first, then the real turn's end, then a title again.
    assert readings[0] is None and readings[2] is None
    assert readings[1] is not None and readings[1].status is Status.IDLE
    assert reading_from_hook("codex", "codex-notify", {"type": "other"}) is None
    assert reading_from_hook("codex", "codex-notify", "not json") is None
