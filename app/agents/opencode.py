"""opencode: read from its screen alone (it has no hooks Quarterdeck installs, no status file
and no trust prompt); its dialogs take arrow keys (``answer = "arrows"`` in its rules file)."""

from __future__ import annotations

from app.agents.base import AgentAdapter


class Opencode(AgentAdapter):
    """opencode."""


ADAPTER = Opencode()
