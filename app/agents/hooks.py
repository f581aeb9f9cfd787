"""Hook installation: each agent CLI is told to run Quarterdeck's hook script, without touching
the user's settings files or the agent's worktree.

Everything lives in Quarterdeck's state folder (inside the repository's git dir, so `git status`
in a worktree stays clean) and reaches the agent on its command line or in its environment:

- ``claude`` (Claude Code, and the demo agent, which speaks the same dialect): a settings file
  passed with ``--settings``; Claude Code merges it with the user's and the project's settings.
- ``gemini``: a system settings file named by ``GEMINI_CLI_SYSTEM_SETTINGS_PATH``, made from the
  system settings in force (if any) plus our hooks.
- ``aider``: ``--notifications --notifications-command``.
"""

from __future__ import annotations

import json
import os
import shlex
from importlib import resources
from pathlib import Path
from typing import Any

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


def hook_script() -> Path:
    """The hook script shipped with Quarterdeck."""
    return Path(str(resources.files("app.hooks").joinpath("qd-hook")))


def _write_if_changed(path: Path, data: dict[str, Any]) -> None:
    text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    try:
        if path.read_text() == text:
            return
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(text)
    tmp.replace(path)


class HookInstaller:
    """Prepares, idempotently, what an agent needs to report its events to this repository's
    engine, and says how to launch the agent with it."""

    def __init__(self, state_dir: Path, events_dir: Path) -> None:
        self.hooks_dir = state_dir / "hooks"
        self.events_dir = events_dir
        self.script = hook_script()

    def command(self, event: str, *, no_stdin: bool = False) -> str:
        """The shell command a CLI runs for ``event`` (a fixed string: payloads never enter it)."""
        command = f"sh {shlex.quote(str(self.script))} {event}"
        return command + " ''" if no_stdin else command

    def environment(self) -> dict[str, str]:
        """What every agent's environment carries so the hook script finds the spool."""
        return {"QUARTERDECK_EVENTS": str(self.events_dir)}

    def launch(self, style: str) -> tuple[list[str], dict[str, str]]:
        """Extra arguments and environment for an agent whose hooks speak ``style``."""
        if style == "claude":
            return ["--settings", str(self._claude_settings())], {}
        if style == "gemini":
            return [], {"GEMINI_CLI_SYSTEM_SETTINGS_PATH": str(self._gemini_settings())}
        if style == "codex":
            # Codex runs its `notify` program with the event as a JSON argument; `-c` sets it
            # for this session only (its hooks.json would live in the user's CODEX_HOME or in
            # the worktree, and new hooks stop the TUI for a review).
            notify = ["sh", str(self.script), "codex-notify"]
            return ["-c", "notify=[" + ", ".join(json.dumps(a) for a in notify) + "]"], {}
        if style == "aider":
            command = self.command("Notification", no_stdin=True)
            return ["--notifications", "--notifications-command", command], {}
        return [], {}

    def _claude_settings(self) -> Path:
        hooks: dict[str, Any] = {}
        for event in CLAUDE_EVENTS:
            group: dict[str, Any] = {"hooks": [{"type": "command", "command": self.command(event)}]}
            if event in CLAUDE_TOOL_EVENTS:
                group["matcher"] = "*"
            hooks[event] = [group]
        path = self.hooks_dir / "claude-settings.json"
        _write_if_changed(path, {"hooks": hooks})
        return path

    def _gemini_settings(self) -> Path:
        base: dict[str, Any] = {}
        source = os.environ.get("GEMINI_CLI_SYSTEM_SETTINGS_PATH")
        existing = Path(source) if source else GEMINI_SYSTEM_SETTINGS
        path = self.hooks_dir / "gemini-system-settings.json"
        if existing.is_file() and existing != path:
            try:
                loaded = json.loads(existing.read_text())
                base = loaded if isinstance(loaded, dict) else {}
            except (OSError, ValueError):
                base = {}
        hooks = dict(base.get("hooks") or {})
        for event in GEMINI_EVENTS:
            name = f"quarterdeck-{event}"
            ours = {
                "matcher": "*",
                "hooks": [{"type": "command", "name": name, "command": self.command(event)}],
            }
            # Keep every group of the base settings except an older copy of ours.
            groups = [
                g
                for g in hooks.get(event, [])
                if isinstance(g, dict) and name not in json.dumps(g.get("hooks", []))
            ]
            hooks[event] = [*groups, ours]
        _write_if_changed(path, {**base, "hooks": hooks})
        return path
