"""Quarterdeck's demo agent (`app.demo.agent`): it speaks Claude Code's hook dialect
(``hooks = "claude"`` in its rules file, so `app.agents.claude` installs and reads its hooks)
and needs no trust record. The tokens its turns take are in a usage file in its worktree's git
folder, one JSON line per model call."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from app.agents.base import AgentAdapter, Env
from app.agents.usage import JsonTally, number, tokens_in

#: The usage file in the git folder of the agent's worktree (a contract with the demo agent,
#: whose `app.demo.agent.USAGE_FILE` names it too).
USAGE_FILE = "quarterdeck-demo-usage.jsonl"
#: Where it keeps each conversation (``<id>.jsonl``), in the same git folder (a contract with
#: `app.demo.agent.CONVERSATIONS`).
CONVERSATIONS = "quarterdeck-demo-conversations"


def git_dir(worktree: Path) -> Path:
    """The git folder of ``worktree``: ``.git`` itself, or the one its ``gitdir:`` line names
    (a linked worktree's, in the repository's ``.git/worktrees/``)."""
    dot = worktree / ".git"
    if dot.is_dir():
        return dot
    named = dot.read_text().strip().removeprefix("gitdir:").strip()
    return worktree / named


class Usage(JsonTally):
    """The demo agent's usage file: a line per model call of each of its runs (``session``,
    its ``started`` time, ``input_tokens``, ``output_tokens``)."""

    def __init__(self) -> None:
        super().__init__()
        self.runs: dict[str, tuple[float, int]] = {}

    def record(self, record: dict[str, Any]) -> None:
        """One call."""
        session, started = record.get("session"), record.get("started")
        if not isinstance(session, str) or not isinstance(started, int | float):
            return
        start, used = self.runs.get(session, (float(started), 0))
        spent = number(record.get("input_tokens")) + number(record.get("output_tokens"))
        self.runs[session] = (start, used + spent)

    def sessions(self) -> list[tuple[float, int]]:
        """Each run."""
        return list(self.runs.values())


class Demo(AgentAdapter):
    """The demo agent."""

    def tokens_used(self, worktree: Path, env: Env, since: float) -> int | None:
        """Its `Usage` file."""
        return tokens_in(lambda: [git_dir(worktree) / USAGE_FILE], Usage, since)

    def resume(
        self, argv: Sequence[str], conversation: str, worktree: Path, env: Env = None
    ) -> list[str] | None:
        """``--resume ID``, when the worktree's git folder holds that conversation."""
        try:
            kept = (git_dir(worktree) / CONVERSATIONS / f"{conversation}.jsonl").is_file()
        except OSError:
            return None
        return [*argv, "--resume", conversation] if kept else None


ADAPTER = Demo()
