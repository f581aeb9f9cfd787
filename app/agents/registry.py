"""Finding the adapters: every module of `app.agents` that holds an ``ADAPTER`` serves the kind
named after it, and how a configured kind's data picks among them.

A kind's own adapter (by its name) keeps its trust record and its keys; the hook dialect and the
status file come from the adapters its profile names (``hooks``, ``status_file``), so a user's
kind that speaks Claude Code's hooks, or a built-in one with its hooks turned off, is data.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import app.agents
from app.agents.base import GENERIC, AgentAdapter, Env, Launch, Setup
from app.agents.hooks import HookInstaller
from app.core.doctor import Finding
from app.core.environment import effective
from app.core.errors import UsageError
from app.core.profiles import AgentProfile
from app.core.status import Reading
from app.infra.procs import environment_of


def discover(package: ModuleType) -> dict[str, AgentAdapter]:
    """The adapters in ``package``'s modules, by module name (a module without ``ADAPTER``,
    such as the protocol or this registry, is skipped)."""
    found: dict[str, AgentAdapter] = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        adapter = getattr(module, "ADAPTER", None)
        if isinstance(adapter, AgentAdapter):
            found[info.name] = adapter
    return found


@dataclass(frozen=True)
class ConfiguredAdapter(AgentAdapter):
    """One configured kind: its own adapter, with the hook dialect and the status file its
    profile names."""

    own: AgentAdapter
    dialect: AgentAdapter
    status: AgentAdapter
    #: The kind's ``env``: over this process's environment when no agent's is given.
    kind_env: tuple[tuple[str, str], ...] = ()
    #: Each agent process's status file, by pid (its environment is read once).
    _status_files: dict[int, Path | None] = field(default_factory=dict, compare=False)

    def _env(self, env: Env) -> Env:
        return env if env is not None else effective(os.environ, dict(self.kind_env))

    def install_hooks(self, hooks: HookInstaller, env: Env = None) -> Launch:
        """The dialect's hooks."""
        return self.dialect.install_hooks(hooks, self._env(env))

    def hook_problems(self, hooks: HookInstaller, env: Env = None) -> list[str]:
        """The dialect's."""
        return self.dialect.hook_problems(hooks, self._env(env))

    def doctor(self, setup: Setup) -> list[Finding]:
        """The kind's own CLI's findings."""
        return self.own.doctor(setup)

    def reading_from_hook(self, event: str, payload: Any) -> Reading | None:
        """Read in the dialect the profile names."""
        return self.dialect.reading_from_hook(event, payload)

    def announces_tool(self, event: str) -> bool:
        """As the dialect says."""
        return self.dialect.announces_tool(event)

    def submits_prompt(self, event: str) -> bool:
        """As the dialect says."""
        return self.dialect.submits_prompt(event)

    def status_file(self, pid: int, env: Env = None) -> Path | None:
        """The status file the profile names, in the config home of the agent's environment:
        the one its process was started with (found once per process), else the kind's."""
        if env is None:
            if pid not in self._status_files:
                if len(self._status_files) > 1024:
                    self._status_files.clear()
                started_with = environment_of(pid)
                env = started_with if started_with is not None else self._env(None)
                self._status_files[pid] = self.status.status_file(pid, env)
            return self._status_files[pid]
        return self.status.status_file(pid, env)

    def reading_from_status_file(self, text: str) -> Reading | None:
        """Read as the status file's adapter reads it."""
        return self.status.reading_from_status_file(text)

    def resume(
        self, argv: Sequence[str], conversation: str, worktree: Path, env: Env = None
    ) -> list[str] | None:
        """The kind's own (a conversation is its CLI's, whatever hooks it speaks)."""
        return self.own.resume(argv, conversation, worktree, self._env(env))

    def tokens_used(self, worktree: Path, env: Env, since: float) -> int | None:
        """The kind's own CLI's record, in the config home of the kind's environment."""
        return self.own.tokens_used(worktree, self._env(env), since)

    def prompt_behind_trust(self, worktree: Path, env: Env = None) -> bool:
        """The kind's own CLI's, in the config home of the kind's environment."""
        return self.own.prompt_behind_trust(worktree, self._env(env))

    def set_trust(self, worktree: Path, trust: bool, env: Env = None) -> bool:
        """The kind's own trust record, in the config home of the kind's environment."""
        return self.own.set_trust(worktree, trust, self._env(env))

    def interrupt_keys(self, profile: AgentProfile) -> tuple[str, ...]:
        """The kind's own interrupt keys."""
        return self.own.interrupt_keys(profile)

    def answer_keys(self, profile: AgentProfile, number: int, dialog: Reading) -> list[list[str]]:
        """The kind's own answer keys."""
        return self.own.answer_keys(profile, number, dialog)

    def reply_keys(
        self, profile: AgentProfile, dialog: Reading, option: int | None, text: str
    ) -> list[list[str]] | None:
        """The kind's own way of answering in words."""
        return self.own.reply_keys(profile, dialog, option, text)


class Adapters:
    """The built-in adapters, by kind, and the adapter of any configured kind."""

    def __init__(self, builtin: Mapping[str, AgentAdapter]) -> None:
        self.builtin = dict(builtin)
        #: Adapters of configured kinds, made once: the sweep asks for one per agent and look.
        self._configured: dict[tuple[object, ...], AgentAdapter] = {}

    def _named(self, name: str, key: str, kind: str) -> AgentAdapter:
        if not name:
            return GENERIC
        try:
            return self.builtin[name]
        except KeyError:
            known = ", ".join(repr(k) for k in sorted(self.builtin))
            raise UsageError(f"agent {kind!r} {key}: {name!r} is not one of {known}") from None

    def for_kind(self, kind: str, profile: AgentProfile | None) -> AgentAdapter:
        """The adapter of agents of ``kind`` configured as ``profile`` (None when the kind is
        no longer configured: its own adapter alone, to withdraw what it recorded)."""
        own = self.builtin.get(kind, GENERIC)
        if profile is None:
            return own
        kind_env = tuple(sorted(profile.env.items()))
        key = (kind, profile.hooks, profile.status_file, kind_env)
        if key not in self._configured:
            self._configured[key] = ConfiguredAdapter(
                own=own,
                dialect=self._named(profile.hooks, "hooks", kind),
                status=self._named(profile.status_file, "status_file", kind),
                kind_env=kind_env,
            )
        return self._configured[key]


@cache
def builtin_adapters() -> Adapters:
    """The adapters of `app.agents`, found once per process."""
    return Adapters(discover(app.agents))
