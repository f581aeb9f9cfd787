"""Gemini CLI: hooks in a system settings file named by ``GEMINI_CLI_SYSTEM_SETTINGS_PATH``, and
its trust record in ``~/.gemini/trustedFolders.json``."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from app.agents.base import AgentAdapter, Launch, home
from app.agents.files import load_json_object, write_json
from app.agents.hooks import HookInstaller
from app.core.signals import reading_from_request
from app.core.status import Evidence, Reading, Status

GEMINI_EVENTS = (
    "SessionStart",
    "BeforeAgent",
    "BeforeTool",
    "AfterTool",
    "AfterAgent",
    "Notification",
    "SessionEnd",
)
GEMINI_SYSTEM_SETTINGS = Path("/etc/gemini-cli/settings.json")

# `Notification` with ToolPermission fires at once when a dialog opens (read apart).
# `SessionStart` fires before the input box is drawn: it says nothing of the status.
_EVENTS: dict[str, Status] = {
    "BeforeAgent": Status.WORKING,
    "BeforeTool": Status.WORKING,
    "AfterTool": Status.WORKING,
    "AfterAgent": Status.IDLE,
}


def trust_file() -> Path:
    """Gemini CLI's trusted folders."""
    return home() / ".gemini" / "trustedFolders.json"


def reading_from_hook(event: str, payload: Any) -> Reading | None:
    """What one Gemini CLI hook event says about the agent (None: nothing reliable)."""
    if event == "Notification":
        if isinstance(payload, Mapping) and payload.get("notification_type") == "ToolPermission":
            return reading_from_request(event, payload)
        return None
    status = _EVENTS.get(event)
    return Reading(status, Evidence("hook", event)) if status is not None else None


class GeminiCli(AgentAdapter):
    """Gemini CLI."""

    def install_hooks(self, hooks: HookInstaller) -> Launch:
        """A system settings file made from the system settings in force (if any) plus our
        hooks, named by ``GEMINI_CLI_SYSTEM_SETTINGS_PATH``."""
        base: dict[str, Any] = {}
        source = os.environ.get("GEMINI_CLI_SYSTEM_SETTINGS_PATH")
        existing = Path(source) if source else GEMINI_SYSTEM_SETTINGS
        name = "gemini-system-settings.json"
        if existing.is_file() and existing != hooks.hooks_dir / name:
            try:
                loaded = json.loads(existing.read_text())
                base = loaded if isinstance(loaded, dict) else {}
            except (OSError, ValueError):
                base = {}
        groups = dict(base.get("hooks") or {})
        for event in GEMINI_EVENTS:
            ours_name = f"quarterdeck-{event}"
            ours = {
                "matcher": "*",
                "hooks": [{"type": "command", "name": ours_name, "command": hooks.command(event)}],
            }
            # Keep every group of the base settings except an older copy of ours.
            kept = [
                g
                for g in groups.get(event, [])
                if isinstance(g, dict) and ours_name not in json.dumps(g.get("hooks", []))
            ]
            groups[event] = [*kept, ours]
        path = hooks.write_settings(name, {**base, "hooks": groups})
        return Launch(env={"GEMINI_CLI_SYSTEM_SETTINGS_PATH": str(path)})

    def reading_from_hook(self, event: str, payload: Any) -> Reading | None:
        """See `reading_from_hook`."""
        return reading_from_hook(event, payload)

    def announces_tool(self, event: str) -> bool:
        """``BeforeTool``."""
        return event == "BeforeTool"

    def submits_prompt(self, event: str) -> bool:
        """``BeforeAgent``: the CLI took a prompt and starts its turn."""
        return event == "BeforeAgent"

    def set_trust(self, worktree: Path, trust: bool) -> bool:
        """``<path>: "TRUST_FOLDER"`` in ``~/.gemini/trustedFolders.json``."""
        file = trust_file()
        data = load_json_object(file)
        if data is None:
            return False
        path = str(worktree)
        if trust:
            data[path] = "TRUST_FOLDER"
        elif path in data:
            del data[path]
        else:
            return True
        write_json(file, data)
        return True


ADAPTER = GeminiCli()
