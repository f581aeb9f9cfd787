"""Any command line in an interactive shell: read from its prompt alone, interrupted with
Ctrl-C (``interrupt`` in its rules file)."""

from __future__ import annotations

from app.agents.base import AgentAdapter


class Shell(AgentAdapter):
    """A shell."""


ADAPTER = Shell()
