"""Signals stronger than the screen: hook events and agent status files, read as `Reading`s, and
the fusion of every source into the one status shown."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from app.core.status import Evidence, InputKind, Reading, Status

#: Tools that ask the human a question rather than for permission.
QUESTION_TOOLS = frozenset({"AskUserQuestion", "ask_user", "request_user_input"})

# Claude Code (and the demo agent, which mimics it). No hook fires when the human rejects a
# request or presses Esc, and `Notification` comes seconds late: neither may set the status.
_CLAUDE: dict[str, Status] = {
    "SessionStart": Status.IDLE,
    "UserPromptSubmit": Status.WORKING,
    "PreToolUse": Status.WORKING,
    "PostToolUse": Status.WORKING,
    "PermissionRequest": Status.NEEDS_INPUT,
    "Stop": Status.IDLE,
    "StopFailure": Status.IDLE,
}

# Gemini CLI: `Notification` with ToolPermission fires at once when a dialog opens.
_GEMINI: dict[str, Status] = {
    "SessionStart": Status.IDLE,
    "BeforeAgent": Status.WORKING,
    "BeforeTool": Status.WORKING,
    "AfterTool": Status.WORKING,
    "AfterAgent": Status.IDLE,
}


def _tool(payload: Any) -> str:
    if isinstance(payload, Mapping):
        tool = payload.get("tool_name")
        if isinstance(tool, str):
            return tool
        details = payload.get("details")
        if isinstance(details, Mapping) and isinstance(details.get("type"), str):
            return str(details["type"])
    return ""


#: What Codex asks its hidden title-generation thread (whose end is not the turn's end).
_TITLE_THREAD = "single-line task title"

#: Fields of a tool's input that say best what it wants to do, in order of preference.
_TOOL_SUBJECT = ("command", "file_path", "filePath", "path", "url", "pattern", "description")
_MAX_QUESTION = 300


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _MAX_QUESTION else line[: _MAX_QUESTION - 1] + "…"


def _hook_request(payload: Any, tool: str) -> tuple[str, tuple[str, ...], str]:
    """What a dialog-opening hook event says of the dialog: (question, options, detail).

    A question tool (AskUserQuestion) carries its question and option labels; a permission
    request carries what it is about, as ``detail``: ``Bash: rm -rf build``. The screen shows
    the dialog's own question once it is drawn; the detail stays (the screen's question is
    often just "Do you want to proceed?")."""
    if not isinstance(payload, Mapping):
        return "", (), tool
    tool_input = payload.get("tool_input")
    if not isinstance(tool_input, Mapping):
        tool_input = payload.get("details")  # Gemini's ToolPermission notification
    if not isinstance(tool_input, Mapping):
        return "", (), tool
    questions = tool_input.get("questions")
    if isinstance(questions, list) and questions and isinstance(questions[0], Mapping):
        first = questions[0]
        options = first.get("options")
        labels = tuple(
            _one_line(str(o.get("label", "")))
            for o in (options if isinstance(options, list) else [])
            if isinstance(o, Mapping)
        )
        return _one_line(str(first.get("question", ""))), labels, ""
    for key in _TOOL_SUBJECT:
        value = tool_input.get(key)
        if isinstance(value, str) and value.strip():
            title = tool_input.get("title")
            head = title if isinstance(title, str) and title else tool
            return "", (), _one_line(f"{head}: {value}" if head else value)
    return "", (), tool


def reading_from_hook(style: str, event: str, payload: Any) -> Reading | None:
    """What one hook event says about the agent, or None when it says nothing reliable.

    ``style`` is the hook dialect of the agent kind: ``claude``, ``gemini`` or ``aider``.
    """
    evidence = Evidence("hook", event)
    if style == "claude":
        status = _CLAUDE.get(event)
        if status is None:
            return None
        if status is Status.NEEDS_INPUT:
            tool = _tool(payload)
            kind = InputKind.QUESTION if tool in QUESTION_TOOLS else InputKind.PERMISSION
            question, options, detail = _hook_request(payload, tool)
            return Reading(
                status,
                Evidence("hook", f"{event} {tool}".strip()),
                kind=kind,
                question=question,
                options=options,
                detail=detail,
            )
        return Reading(status, evidence)
    if style == "gemini":
        if event == "Notification":
            if not (
                isinstance(payload, Mapping)
                and payload.get("notification_type") == "ToolPermission"
            ):
                return None
            tool = _tool(payload)
            kind = InputKind.QUESTION if tool in QUESTION_TOOLS else InputKind.PERMISSION
            question, options, detail = _hook_request(payload, tool)
            return Reading(
                Status.NEEDS_INPUT,
                Evidence("hook", f"{event} {tool}".strip()),
                kind=kind,
                question=question,
                options=options,
                detail=detail,
            )
        status = _GEMINI.get(event)
        return Reading(status, evidence) if status is not None else None
    if style == "codex" and event == "codex-notify":
        # Codex's `notify` program: `agent-turn-complete` when a turn ends. It also fires for a
        # hidden thread that writes the session's title, right after the first prompt, while
        # the real turn goes on: that one says nothing.
        if not isinstance(payload, Mapping) or payload.get("type") != "agent-turn-complete":
            return None
        if _TITLE_THREAD in str(payload.get("input-messages", "")):
            return None
        return Reading(Status.IDLE, Evidence("hook", "notify agent-turn-complete"))
    if style == "aider" and event == "Notification":
        # Aider runs its notifications command whenever it waits for input: at its prompt or at
        # a yes/no question. The screen tells which; on its own this means "not working".
        return Reading(Status.IDLE, Evidence("hook", "waiting for input"))
    return None


_STATUS_FILE: dict[str, Status] = {
    "idle": Status.IDLE,
    "busy": Status.WORKING,
    "waiting": Status.NEEDS_INPUT,
}


def reading_from_status_file(data: Any) -> Reading | None:
    """Claude Code's ``sessions/<pid>.json``: ``status`` idle|busy|waiting and, while waiting,
    ``waitingFor``. Undocumented: anything unexpected reads as no information."""
    if not isinstance(data, Mapping):
        return None
    status = _STATUS_FILE.get(str(data.get("status", "")))
    if status is None:
        return None
    waiting_for = str(data.get("waitingFor", ""))
    evidence = Evidence("status file", f"{data.get('status')} {waiting_for}".strip())
    if status is not Status.NEEDS_INPUT:
        return Reading(status, evidence)
    if "permission" in waiting_for:
        kind = InputKind.PERMISSION
    elif "input" in waiting_for:
        kind = InputKind.QUESTION
    else:
        kind = InputKind.SETUP
    return Reading(status, evidence, kind=kind)


@dataclass(frozen=True)
class Signal:
    """A reading from one source and when the source produced it."""

    reading: Reading
    at: float


def fuse(screen: Signal | None, signals: list[Signal]) -> Reading | None:
    """One reading from the screen and the stronger signals (hooks, status files).

    - Pane facts (the process exited) and a dialog on the screen win: they are seen, with the
      question and options a person reads.
    - Otherwise the freshest source wins: a hook that fired after the screen last changed knows
      more (the screen lags); a screen that changed after the hook knows more (no hook fires on
      reject or Esc, so only the screen can show that the agent moved on).
    - A signal that the agent is working never hides a prompt the screen shows: hooks can be
      delivered late (an interrupted step's event after the agent is back at its prompt), and
      an idle agent may never redraw to correct it. The screen lags the other way by a render
      at most.
    - An ``unknown`` screen gives way to any other signal.

    ``screen.at`` is when the screen reading last changed, not when it was last looked at.
    """
    latest = max(signals, key=lambda s: s.at, default=None)
    if screen is None:
        return latest.reading if latest is not None else None
    shown = screen.reading
    if shown.status is Status.NEEDS_INPUT:
        if latest is not None and latest.reading.status is Status.NEEDS_INPUT:
            # The hook that reported this dialog knows what it is about.
            return replace(shown, detail=latest.reading.detail or shown.detail)
        return shown
    if shown.evidence.source == "pane":
        return shown
    if latest is None:
        return shown
    if latest.reading.status is Status.WORKING and shown.status is Status.IDLE:
        return shown
    if latest.at > screen.at or shown.status is Status.UNKNOWN:
        fused = latest.reading
        return Reading(
            fused.status,
            fused.evidence,
            kind=fused.kind,
            question=fused.question,
            options=fused.options,
            summary=shown.summary,
            detail=fused.detail,
        )
    return shown
