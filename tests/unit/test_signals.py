"""The fusion of every source (screen, hooks, status files) into the one status shown."""

from __future__ import annotations

from app.core.signals import Signal, fuse
from app.core.status import Evidence, InputKind, Reading, Status

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


def test_an_error_on_screen_is_not_hidden_by_an_idle_signal() -> None:
    """Claude Code's status file says idle after a failed turn; the screen shows the error."""
    error = Reading(
        Status.ERROR,
        Evidence("screen", "API error"),
        summary="API Error: 529",
        detail="API Error: 529",
    )
    idle_file = Reading(Status.IDLE, Evidence("status file", "idle"))
    assert fuse(Signal(error, 10.0), [Signal(idle_file, 12.0)]) == error
    # A fresher hook that says the turn failed carries its line into the row's last output.
    failed = Reading(Status.ERROR, Evidence("hook", "StopFailure"), detail="API Error: 529")
    fused = fuse(Signal(SCREEN_WORKING, 10.0), [Signal(failed, 12.0)])
    assert fused is not None and fused.status is Status.ERROR
    assert fused.summary == "API Error: 529"
    # The next prompt taken (a fresher working hook) ends it.
    took = Reading(Status.WORKING, Evidence("hook", "UserPromptSubmit"))
    assert fuse(Signal(error, 10.0), [Signal(took, 12.0)]).status is Status.WORKING  # type: ignore[union-attr]
