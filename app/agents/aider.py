"""Aider: its notifications command, run whenever it waits for input, and the tokens its chat
history (``.aider.chat.history.md`` in the worktree) reports."""

from __future__ import annotations

import contextlib
import re
import time
from pathlib import Path
from typing import Any

from app.agents.base import AgentAdapter, Env, Launch, Setup, environ, home
from app.agents.hooks import HookInstaller
from app.agents.usage import Tally, tokens_in
from app.core.doctor import Finding, note
from app.core.status import Evidence, Reading, Status

#: What gives Aider a model: a provider's key, or a server of one's own (``OPENAI_API_BASE``).
MODEL_VARIABLES = (
    "OPENAI_API_KEY",
    "OPENAI_API_BASE",
    "ANTHROPIC_API_KEY",
    "GEMINI_API_KEY",
    "DEEPSEEK_API_KEY",
    "OPENROUTER_API_KEY",
    "GROQ_API_KEY",
    "MISTRAL_API_KEY",
    "AZURE_API_KEY",
    "OLLAMA_API_BASE",
)
#: The questions Aider asks on a first start unless told not to, and the flag that stops each.
FIRST_START_FLAGS = {
    "--no-show-model-warnings": "stop at a warning about a model it does not know",
    "--no-show-release-notes": "ask whether to show the release notes",
}


#: A session's first line in the chat history (its local time, to the second).
_STARTED = re.compile(rb"# aider chat started at (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)")
#: The report after each reply, as Aider rounds it (``2.5k``, ``12k``).
_REPORT = re.compile(rb"> Tokens: (\d+(?:\.\d+)?)(k?) sent\b.*?, (\d+(?:\.\d+)?)(k?) received\.")


def chat_history(worktree: Path, env: Env = None) -> Path:
    """Aider's chat history: ``AIDER_CHAT_HISTORY_FILE`` (relative to the worktree), else
    ``.aider.chat.history.md`` at the top of the worktree."""
    named = environ(env).get("AIDER_CHAT_HISTORY_FILE")
    return worktree / (named or ".aider.chat.history.md")


def _count(digits: bytes, thousands: bytes) -> int:
    return round(float(digits) * (1000 if thousands else 1))


class ChatHistory(Tally):
    """Aider's chat history, every session appended: a ``# aider chat started at`` line, then
    each reply's ``> Tokens: … sent, … received.`` line (``sent`` has what was written to a
    cache; what was read from one is reported apart, and does not count)."""

    def __init__(self) -> None:
        super().__init__()
        self.runs: list[tuple[float, int]] = []

    def feed(self, line: bytes) -> None:
        """A session's start, or a reply's report."""
        started = _STARTED.match(line)
        if started:
            with contextlib.suppress(ValueError, OverflowError):
                when = time.strptime(started.group(1).decode(), "%Y-%m-%d %H:%M:%S")
                self.runs.append((time.mktime(when), 0))
            return
        report = _REPORT.match(line)
        if report and self.runs:
            sent, received = _count(*report.group(1, 2)), _count(*report.group(3, 4))
            start, used = self.runs[-1]
            self.runs[-1] = (start, used + sent + received)

    def sessions(self) -> list[tuple[float, int]]:
        """Each session in the file."""
        return self.runs


def _mentions_key(path: Path) -> bool:
    try:
        return "api-key" in path.read_text() or "_API_KEY=" in path.read_text()
    except OSError:
        return False


def findings(setup: Setup) -> list[Finding]:
    """What would keep Aider from starting straight to its prompt in a new worktree (see
    `AgentAdapter.doctor`)."""
    env, command = setup.env, setup.profile.command
    files = [home(env) / ".aider.conf.yml", home(env) / ".env"]
    if setup.repo_root is not None:
        files += [setup.repo_root / ".aider.conf.yml", setup.repo_root / ".env"]
    found: list[Finding] = []
    if not any(env.get(v) for v in MODEL_VARIABLES) and not any(map(_mentions_key, files)):
        found.append(
            Finding(
                "no model key (OPENAI_API_KEY, ANTHROPIC_API_KEY, …) and no OPENAI_API_BASE",
                "set one (in your environment or [agents.aider] env), or an api-key in "
                "~/.aider.conf.yml",
            )
        )
    if env.get("OPENAI_API_BASE"):
        found.append(note(f"talks to OPENAI_API_BASE={env['OPENAI_API_BASE']}"))
    ignore = setup.repo_root / ".gitignore" if setup.repo_root is not None else None
    ignored = ignore is not None and ignore.is_file() and ".aider" in ignore.read_text()
    if ignore is not None and not ignored and "--no-gitignore" not in command:
        found.append(
            Finding(
                "every new agent asks whether to add .aider* to .gitignore",
                "add `.aider*` to .gitignore on the base branch, or --no-gitignore to "
                "[agents.aider] command",
            )
        )
    for flag, asks in FIRST_START_FLAGS.items():
        if flag not in command:
            found.append(
                note(f"on a first start it may {asks}", f"add {flag} to [agents.aider] command")
            )
    return found


class Aider(AgentAdapter):
    """Aider. It answers dialogs by letter (``answer = "letter"`` in its rules file)."""

    def install_hooks(self, hooks: HookInstaller, env: Env = None) -> Launch:
        """``--notifications --notifications-command``: a command that reads no stdin."""
        command = hooks.command("Notification", no_stdin=True)
        return Launch(argv=("--notifications", "--notifications-command", command))

    def doctor(self, setup: Setup) -> list[Finding]:
        """See `findings`."""
        return findings(setup)

    def reading_from_hook(self, event: str, payload: Any) -> Reading | None:
        """Aider runs its notifications command whenever it waits for input: at its prompt or
        at a yes/no question. The screen tells which; on its own this means "not working"."""
        if event == "Notification":
            return Reading(Status.IDLE, Evidence("hook", "waiting for input"))
        return None

    def tokens_used(self, worktree: Path, env: Env, since: float) -> int | None:
        """The sessions of its `chat_history` (`ChatHistory`): approximate, as Aider rounds
        what it reports to a hundred tokens under 10k and to a thousand above."""
        return tokens_in(lambda: [chat_history(worktree, env)], ChatHistory, since)


ADAPTER = Aider()
