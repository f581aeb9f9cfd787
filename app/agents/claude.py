"""Claude Code: hooks in a settings file passed with ``--settings``, the status file it keeps
per process (``sessions/<pid>.json``), and its trust record in ``.claude.json``.

Where Claude Code keeps its state is resolved here, once (`config_dir`): ``CLAUDE_CONFIG_DIR``
when set, else ``~/.claude`` for its state and ``~/.claude.json`` for its settings.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from app.agents.base import AgentAdapter, Launch, home
from app.agents.files import load_json_object, write_json
from app.agents.hooks import HookInstaller
from app.core.profiles import AgentProfile, move_keys
from app.core.signals import reading_from_request
from app.core.status import Evidence, InputKind, Reading, Status

#: Claude Code events we listen to (tool events need a matcher).
CLAUDE_EVENTS = (
    "SessionStart",
    "UserPromptSubmit",
    "PreToolUse",
    "PermissionRequest",
    "PostToolUse",
    "Stop",
    "StopFailure",
    "SessionEnd",
    "Notification",
)
CLAUDE_TOOL_EVENTS = frozenset({"PreToolUse", "PermissionRequest", "PostToolUse"})

# No hook fires when the human rejects a request or presses Esc, and `Notification` comes
# seconds late: neither may set the status.
_EVENTS: dict[str, Status] = {
    "SessionStart": Status.IDLE,
    "UserPromptSubmit": Status.WORKING,
    "PreToolUse": Status.WORKING,
    "PostToolUse": Status.WORKING,
    "PermissionRequest": Status.NEEDS_INPUT,
    "Stop": Status.IDLE,
    "StopFailure": Status.IDLE,
}

_STATUS_FILE: dict[str, Status] = {
    "idle": Status.IDLE,
    "busy": Status.WORKING,
    "waiting": Status.NEEDS_INPUT,
}


def config_dir() -> Path | None:
    """``CLAUDE_CONFIG_DIR``, when the user set it."""
    configured = os.environ.get("CLAUDE_CONFIG_DIR")
    return Path(configured) if configured else None


def state_dir() -> Path:
    """Where Claude Code keeps its state (``sessions/`` among it)."""
    return config_dir() or home() / ".claude"


def config_file() -> Path:
    """Claude Code's ``.claude.json`` (projects and their trust among it)."""
    return (config_dir() or home()) / ".claude.json"


def reading_from_hook(event: str, payload: Any) -> Reading | None:
    """What one Claude Code hook event says about the agent (None: nothing reliable)."""
    status = _EVENTS.get(event)
    if status is None:
        return None
    if status is Status.NEEDS_INPUT:
        return reading_from_request(event, payload)
    return Reading(status, Evidence("hook", event))


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


def settings(hooks: HookInstaller) -> dict[str, Any]:
    """A Claude Code settings object that runs the hook script for every event we listen to."""
    groups: dict[str, Any] = {}
    for event in CLAUDE_EVENTS:
        group: dict[str, Any] = {"hooks": [{"type": "command", "command": hooks.command(event)}]}
        if event in CLAUDE_TOOL_EVENTS:
            group["matcher"] = "*"
        groups[event] = [group]
    return {"hooks": groups}


class ClaudeCode(AgentAdapter):
    """Claude Code (and any kind that speaks its hook dialect: the demo agent)."""

    def install_hooks(self, hooks: HookInstaller) -> Launch:
        """A settings file of ours passed with ``--settings``: Claude Code merges it with the
        user's and the project's settings."""
        path = hooks.write_settings("claude-settings.json", settings(hooks))
        return Launch(argv=("--settings", str(path)))

    def reading_from_hook(self, event: str, payload: Any) -> Reading | None:
        """See `reading_from_hook`."""
        return reading_from_hook(event, payload)

    def announces_tool(self, event: str) -> bool:
        """``PreToolUse``."""
        return event == "PreToolUse"

    def status_file(self, pid: int) -> Path | None:
        """``sessions/<pid>.json`` in Claude Code's state folder (deleted when it exits)."""
        return state_dir() / "sessions" / f"{pid}.json"

    def reading_from_status_file(self, text: str) -> Reading | None:
        """See `reading_from_status_file`."""
        try:
            return reading_from_status_file(json.loads(text))
        except ValueError:
            return None

    def set_trust(self, worktree: Path, trust: bool) -> bool:
        """``projects.<path>.hasTrustDialogAccepted`` in ``.claude.json``."""
        file = config_file()
        data = load_json_object(file)
        if data is None:
            return False
        projects = data.setdefault("projects", {})
        if not isinstance(projects, dict):
            return False
        path = str(worktree)
        if trust:
            entry = projects.setdefault(path, {})
            if not isinstance(entry, dict):
                return False
            entry["hasTrustDialogAccepted"] = True
        elif path in projects:
            del projects[path]
        else:
            return True
        write_json(file, data)
        return True

    def reply_keys(
        self, profile: AgentProfile, dialog: Reading, option: int | None, text: str
    ) -> list[list[str]] | None:
        """AskUserQuestion's "Type something." is a text field in the list: the selection is
        moved onto it with arrows (its number only moves the selection too, and typed while
        it is already there, goes into the answer), the text typed there, Enter submits."""
        if option is None:
            return None
        return [*move_keys(dialog.selected, option), ["-l", text], ["Enter"]]


ADAPTER = ClaudeCode()
