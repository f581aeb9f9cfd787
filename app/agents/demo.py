"""Quarterdeck's demo agent (`app.demo.agent`): it speaks Claude Code's hook dialect
(``hooks = "claude"`` in its rules file, so `app.agents.claude` installs and reads its hooks)
and needs no trust record."""

from __future__ import annotations

from app.agents.base import AgentAdapter


class Demo(AgentAdapter):
    """The demo agent."""


ADAPTER = Demo()
