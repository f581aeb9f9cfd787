"""Finding the adapters: every module of `app.agents` that holds an ``ADAPTER`` serves the kind
named after it, and how a configured kind's data picks among them.

A kind's own adapter (by its name) keeps its trust record and its keys; the hook dialect and the
status file come from the adapters its profile names (``hooks``, ``status_file``), so a user's
kind that speaks Claude Code's hooks, or a built-in one with its hooks turned off, is data.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import app.agents
from app.agents.base import GENERIC, AgentAdapter, Launch
from app.agents.hooks import HookInstaller
from app.core.errors import UsageError
from app.core.profiles import AgentProfile
from app.core.status import Reading


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

    def install_hooks(self, hooks: HookInstaller) -> Launch:
        """The dialect's hooks."""
        return self.dialect.install_hooks(hooks)

    def reading_from_hook(self, event: str, payload: Any) -> Reading | None:
        """Read in the dialect the profile names."""
        return self.dialect.reading_from_hook(event, payload)

    def announces_tool(self, event: str) -> bool:
        """As the dialect says."""
        return self.dialect.announces_tool(event)

    def status_file(self, pid: int) -> Path | None:
        """The status file the profile names."""
        return self.status.status_file(pid)

    def reading_from_status_file(self, text: str) -> Reading | None:
        """Read as the status file's adapter reads it."""
        return self.status.reading_from_status_file(text)

    def set_trust(self, worktree: Path, trust: bool) -> bool:
        """The kind's own trust record."""
        return self.own.set_trust(worktree, trust)

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
        self._configured: dict[tuple[str, str, str], AgentAdapter] = {}

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
        key = (kind, profile.hooks, profile.status_file)
        if key not in self._configured:
            self._configured[key] = ConfiguredAdapter(
                own=own,
                dialect=self._named(profile.hooks, "hooks", kind),
                status=self._named(profile.status_file, "status_file", kind),
            )
        return self._configured[key]


@cache
def builtin_adapters() -> Adapters:
    """The adapters of `app.agents`, found once per process."""
    return Adapters(discover(app.agents))
