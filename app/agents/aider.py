"""Aider: its notifications command, run whenever it waits for input."""

from __future__ import annotations

from typing import Any

from app.agents.base import AgentAdapter, Env, Launch
from app.agents.hooks import HookInstaller
from app.core.status import Evidence, Reading, Status


class Aider(AgentAdapter):
    """Aider. It answers dialogs by letter (``answer = "letter"`` in its rules file)."""

    def install_hooks(self, hooks: HookInstaller, env: Env = None) -> Launch:
        """``--notifications --notifications-command``: a command that reads no stdin."""
        command = hooks.command("Notification", no_stdin=True)
        return Launch(argv=("--notifications", "--notifications-command", command))

    def reading_from_hook(self, event: str, payload: Any) -> Reading | None:
        """Aider runs its notifications command whenever it waits for input: at its prompt or
        at a yes/no question. The screen tells which; on its own this means "not working"."""
        if event == "Notification":
            return Reading(Status.IDLE, Evidence("hook", "waiting for input"))
        return None


ADAPTER = Aider()
