"""OpenAI Codex CLI: its ``notify`` program set for the session with ``-c``, and its trust
record, a ``[projects."<path>"]`` table in ``$CODEX_HOME/config.toml``."""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from app.agents.base import AgentAdapter, Launch, home
from app.agents.files import write_atomically
from app.agents.hooks import HookInstaller
from app.core.profiles import AgentProfile, move_keys
from app.core.status import Evidence, Reading, Status

#: The event name the hook script is given for a ``notify`` call.
NOTIFY_EVENT = "codex-notify"
#: What Codex asks its hidden title-generation thread (whose end is not the turn's end).
_TITLE_THREAD = "single-line task title"
_MARK = "# added by quarterdeck for an agent worktree"


def config_file() -> Path:
    """Codex's ``config.toml`` (in ``CODEX_HOME``, default ``~/.codex``)."""
    configured = os.environ.get("CODEX_HOME")
    return (Path(configured) if configured else home() / ".codex") / "config.toml"


def reading_from_hook(event: str, payload: Any) -> Reading | None:
    """Codex's ``notify`` program: ``agent-turn-complete`` when a turn ends. It also fires for
    a hidden thread that writes the session's title, right after the first prompt, while the
    real turn goes on: that one says nothing."""
    if event != NOTIFY_EVENT:
        return None
    if not isinstance(payload, Mapping) or payload.get("type") != "agent-turn-complete":
        return None
    if _TITLE_THREAD in str(payload.get("input-messages", "")):
        return None
    return Reading(Status.IDLE, Evidence("hook", "notify agent-turn-complete"))


def _block(path: str) -> str:
    return f'\n{_MARK}\n[projects.{json.dumps(path)}]\ntrust_level = "trusted"\n'


class Codex(AgentAdapter):
    """OpenAI Codex CLI."""

    def install_hooks(self, hooks: HookInstaller) -> Launch:
        """Codex runs its `notify` program with the event as a JSON argument; `-c` sets it
        for this session only (its hooks.json would live in the user's CODEX_HOME or in the
        worktree, and new hooks stop the TUI for a review)."""
        notify = ["sh", str(hooks.script), NOTIFY_EVENT]
        return Launch(argv=("-c", "notify=[" + ", ".join(json.dumps(a) for a in notify) + "]"))

    def reading_from_hook(self, event: str, payload: Any) -> Reading | None:
        """See `reading_from_hook`."""
        return reading_from_hook(event, payload)

    def set_trust(self, worktree: Path, trust: bool) -> bool:
        """A marked ``[projects."<path>"]`` table with ``trust_level = "trusted"``, appended;
        the user's own entry for the path stays as it is."""
        file = config_file()
        try:
            text = file.read_text() if file.exists() else ""
            parsed = tomllib.loads(text)
        except (OSError, tomllib.TOMLDecodeError):
            return False
        path = str(worktree)
        block = _block(path)
        if trust:
            if path in parsed.get("projects", {}):
                return True
            write_atomically(file, text + block)
        elif block in text:
            write_atomically(file, text.replace(block, "", 1))
        return True

    def reply_keys(
        self, profile: AgentProfile, dialog: Reading, option: int | None, text: str
    ) -> list[list[str]] | None:
        """request_user_input takes words as notes on an option ("tab to add notes"): the
        selection moves onto "None of the above" with arrows (its number submits it at
        once), Tab opens the notes, the text is typed there and Enter submits both."""
        if option is None:
            return None
        return [*move_keys(dialog.selected, option), ["Tab"], ["-l", text], ["Enter"]]


ADAPTER = Codex()
