"""Gemini CLI: hooks in a system settings file named by ``GEMINI_CLI_SYSTEM_SETTINGS_PATH``, and
its trust record in ``~/.gemini/trustedFolders.json``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from app.agents.base import AgentAdapter, Env, Launch, environ, home
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
_EVENTS: dict[str, Status] = {
    "SessionStart": Status.IDLE,
    "BeforeAgent": Status.WORKING,
    "BeforeTool": Status.WORKING,
    "AfterTool": Status.WORKING,
    "AfterAgent": Status.IDLE,
}


def gemini_dir(env: Env = None) -> Path:
    """Gemini CLI's folder: ``.gemini`` in ``GEMINI_CLI_HOME``, else in the home folder."""
    configured = environ(env).get("GEMINI_CLI_HOME")
    return (Path(configured) if configured else home(env)) / ".gemini"


def trust_file(env: Env = None) -> Path:
    """Gemini CLI's trusted folders (``GEMINI_CLI_TRUSTED_FOLDERS_PATH`` when set)."""
    configured = environ(env).get("GEMINI_CLI_TRUSTED_FOLDERS_PATH")
    return Path(configured) if configured else gemini_dir(env) / "trustedFolders.json"


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

    def install_hooks(self, hooks: HookInstaller, env: Env = None) -> Launch:
        """A system settings file made from the system settings in force (if any) plus our
        hooks, named by ``GEMINI_CLI_SYSTEM_SETTINGS_PATH``."""
        base: dict[str, Any] = {}
        source = environ(env).get("GEMINI_CLI_SYSTEM_SETTINGS_PATH")
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

    def set_trust(self, worktree: Path, trust: bool, env: Env = None) -> bool:
        """``<path>: "TRUST_FOLDER"`` in ``~/.gemini/trustedFolders.json``."""
        file = trust_file(env)
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
