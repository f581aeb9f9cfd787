"""Signals stronger than the screen (hook events, agent status files) and the fusion of every
source into the one status shown. What each CLI's events mean is in its module in `app.agents`;
the dialog-opening payload they share is read here."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from app.core.status import Evidence, InputKind, Reading, Status

#: Tools that ask the human a question rather than for permission.
QUESTION_TOOLS = frozenset({"AskUserQuestion", "ask_user", "request_user_input"})


def _tool(payload: Any) -> str:
    if isinstance(payload, Mapping):
        tool = payload.get("tool_name")
        if isinstance(tool, str):
            return tool
        details = payload.get("details")
        if isinstance(details, Mapping) and isinstance(details.get("type"), str):
            return str(details["type"])
    return ""


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


def error_line(text: str) -> str:
    """The line that says what went wrong, from an error message as a hook reports it: its
    first line, up to the end of its first sentence (``API Error: 529 Overloaded``)."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    head, dot, _rest = first.partition(". ")
    return _one_line(head if dot else first.rstrip("."))


def reading_from_request(event: str, payload: Any) -> Reading:
    """A hook event that says a dialog opened (a tool asks leave, or asks the human a
    question) as a ``needs_input`` reading with what the payload tells of the dialog.

    The payload shape is the one Claude Code and Gemini CLI share: ``tool_name`` and
    ``tool_input`` (or Gemini's ``details``); a question tool's input lists its questions."""
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
    - An error on the screen is not hidden by a signal that says idle: the turn ended in it.
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
    if shown.status is Status.ERROR and latest.reading.status is Status.IDLE:
        # An error the screen shows is the end of that turn told better than "idle" (Claude
        # Code's status file says idle after a failed turn).
        return shown
    if latest.at > screen.at or shown.status is Status.UNKNOWN:
        fused = latest.reading
        # An error's line is what the row shows of it.
        error = fused.detail if fused.status is Status.ERROR else ""
        return Reading(
            fused.status,
            fused.evidence,
            kind=fused.kind,
            question=fused.question,
            options=fused.options,
            summary=error or shown.summary,
            detail=fused.detail,
        )
    return shown


#: What a CLI's conversation id looks like (a uuid, Codex's and opencode's ids): nothing that
#: could be read as an option or a path when it goes on a command line.
_CONVERSATION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def conversation_of(payload: Any) -> str:
    """The conversation (session) id a hook's payload carries (``session_id``: Claude Code,
    Gemini CLI and the demo agent send it with every event; ``thread-id``: Codex's ``notify``),
    '' when it carries none."""
    if not isinstance(payload, Mapping):
        return ""
    value = payload.get("session_id") or payload.get("thread-id")
    return value if isinstance(value, str) and _CONVERSATION.fullmatch(value) else ""
