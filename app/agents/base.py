"""The adapter protocol: what Quarterdeck needs to know about an agent CLI beyond its screen.

Each module of `app.agents` named after a CLI holds one `AgentAdapter` as ``ADAPTER``; its
screen rules sit beside it (``<kind>.toml``). The base class is the generic adapter too: a kind
that is only data (a user's ``[agents.<kind>]``) has no hooks, status file or trust record of
its own, and presses the keys its profile names.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.agents.hooks import HookInstaller
from app.core.doctor import Finding
from app.core.profiles import AgentProfile
from app.core.status import Reading

#: An agent's effective environment (`app.core.environment.effective`); None: this process's.
Env = Mapping[str, str] | None


def environ(env: Env) -> Mapping[str, str]:
    """``env``, or this process's environment when None."""
    return os.environ if env is None else env


def home(env: Env = None) -> Path:
    """The user's home folder (``HOME``, as the CLIs themselves read it)."""
    return Path(environ(env).get("HOME") or Path.home())


@dataclass(frozen=True)
class Setup:
    """Where an agent of a kind would start now, as `doctor` judges it: its effective
    environment (`app.core.environment.effective`), the repository, the folder new worktrees
    are made in, whether they are pre-trusted, and Quarterdeck's hooks."""

    profile: AgentProfile
    env: Mapping[str, str]
    hooks: HookInstaller | None = None
    repo_root: Path | None = None
    worktrees: Path | None = None
    pretrust: bool = False


def under(path: Path, folder: str | Path) -> bool:
    """True when ``path`` is ``folder`` or inside it."""
    return path == Path(folder) or Path(folder) in path.parents


@dataclass(frozen=True)
class Launch:
    """What starting an agent takes: arguments and environment (for hooks: the extra ones)."""

    argv: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)


class AgentAdapter:
    """One agent CLI's knowledge that data cannot hold. Every method has a safe default."""

    def launch(
        self,
        profile: AgentProfile,
        prompt: str,
        python: str,
        shell: str,
        hooks: HookInstaller,
        env: Env = None,
    ) -> Launch:
        """The command line and environment that start an agent of this kind: the profile's
        command and environment, with this CLI's hooks installed (`install_hooks`). ``env`` is
        the agent's effective environment (where its CLI keeps its settings)."""
        extra = self.install_hooks(hooks, env)
        return Launch(
            argv=tuple(profile.argv(prompt, python, shell, extra=extra.argv)),
            env={**profile.env, **extra.env},
        )

    def resume(
        self, argv: Sequence[str], conversation: str, worktree: Path, env: Env = None
    ) -> list[str] | None:
        """The command line that resumes ``conversation`` in ``worktree`` with the CLI's own
        mechanism (``argv``: this kind's fresh start, without a prompt), or None when it cannot:
        the CLI has none Quarterdeck drives, or that conversation is not one of the worktree's
        (a restore never resumes another agent's)."""
        return None

    def install_hooks(self, hooks: HookInstaller, env: Env = None) -> Launch:
        """Prepare (idempotently) what makes the CLI run Quarterdeck's hook script, and say the
        extra arguments and environment that point the CLI at it."""
        return Launch()

    def hook_problems(self, hooks: HookInstaller, env: Env = None) -> list[str]:
        """Why the CLI would not run the hooks `install_hooks` sets up (each with what to do),
        or nothing when it will."""
        return []

    def doctor(self, setup: Setup) -> list[Finding]:
        """What would keep an agent of this kind, started now, from running as Quarterdeck
        expects — its key or login, its config home, a first-run or trust or key dialog in a
        new worktree, a permission mode that never asks, hooks of its own that will not load —
        each with its fix. Reads the CLI's files; starts nothing. (Whether the hooks Quarterdeck
        installs will load is `hook_problems`.)"""
        return []

    def reading_from_hook(self, event: str, payload: Any) -> Reading | None:
        """What one hook event of this dialect says about the agent, or None when it says
        nothing reliable."""
        return None

    def announces_tool(self, event: str) -> bool:
        """True for an event that says a tool is about to run: it can arrive after that tool's
        own permission request, so it must not end the request."""
        return False

    def prompt_behind_trust(self, worktree: Path, env: Env = None) -> bool:
        """True when a prompt given on the command line would run behind a trust dialog the
        CLI shows first in ``worktree``: its tool confirmations may then take keys the user
        pressed for the dialog shown, so the prompt is typed once the dialog is answered."""
        return False

    def submits_prompt(self, event: str) -> bool:
        """True for the event that says the CLI took a prompt typed into it (or given on its
        command line): proof that a message was delivered."""
        return False

    def status_file(self, pid: int, env: Env = None) -> Path | None:
        """The status file the CLI keeps for its process ``pid``, if it keeps one (in the
        config home ``env`` names)."""
        return None

    def reading_from_status_file(self, text: str) -> Reading | None:
        """What the status file's contents say; None for no information."""
        return None

    def tokens_used(self, worktree: Path, env: Env, since: float) -> int | None:
        """The tokens the CLI recorded (in the files of the config home ``env`` names) for its
        sessions in ``worktree`` that started at or after ``since`` (seconds since the epoch:
        a round's start): input read fresh plus output, reasoning included; input read back
        from a prompt cache does not count (`app.agents.usage`). None when the CLI records
        none or no such session was found. Never raises."""
        return None

    def set_trust(self, worktree: Path, trust: bool, env: Env = None) -> bool:
        """Record (or withdraw) the CLI's trust in ``worktree`` in the CLI's own file (the one
        of the config home ``env``, the agent's environment, names). False
        when that file could not be understood (it is then left untouched); True when done or
        nothing was needed."""
        return True

    def interrupt_keys(self, profile: AgentProfile) -> tuple[str, ...]:
        """The keys that interrupt the agent's current step."""
        return profile.interrupt_keys

    def answer_keys(self, profile: AgentProfile, number: int, dialog: Reading) -> list[list[str]]:
        """The key presses that pick option ``number`` (1-based) of the dialog the screen
        shows (``dialog``: its options, the selected one, how it takes an answer), as tmux
        ``send-keys`` argument lists."""
        return profile.answer_keys(number, dialog.options, dialog.answer, dialog.selected)

    def reply_keys(
        self, profile: AgentProfile, dialog: Reading, option: int | None, text: str
    ) -> list[list[str]] | None:
        """The key presses that record ``text`` as the answer to the question ``dialog``
        shows, its "type my own answer" option being ``option`` (if any); the last press
        submits it. None: the CLI takes words the usual way — pick that option with
        `answer_keys`, then type the text and Enter."""
        return None


#: The adapter of a kind with no module of its own.
GENERIC = AgentAdapter()
