"""The agent kinds configured for a repository: the profile of each (how to launch it, read its
screen, type to it and answer it) and its adapter (what Quarterdeck knows of its CLI beyond the
screen: `app.agents`); and the configuration files they come from, watched for changes."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from app.agents.base import AgentAdapter
from app.agents.registry import builtin_adapters
from app.core.errors import UsageError
from app.core.profiles import AgentProfile

#: How often a running engine looks whether a configuration file changed (two `stat` calls).
CONFIG_POLL_SECONDS = 1.0


class Profiles:
    """The repository's agent kinds (built in, the user's and the repository's, merged). Shared
    by every use case, and replaced whole when the configuration is read again."""

    def __init__(self, profiles: Mapping[str, AgentProfile], default: str) -> None:
        self._profiles = profiles
        self._default = default
        #: Why the configuration last failed to load ('' when it loaded).
        self.problem = ""

    def update(self, profiles: Mapping[str, AgentProfile], default: str) -> None:
        """The kinds of a configuration read again (one assignment: readers on other threads
        see the old kinds or the new ones, never a mix)."""
        self._profiles, self._default = profiles, default

    def get(self, kind: str) -> AgentProfile:
        """The profile of an agent kind, or a `UsageError` listing the known kinds."""
        try:
            return self._profiles[kind]
        except KeyError:
            known = ", ".join(sorted(self._profiles))
            raise UsageError(f"unknown agent kind {kind!r}; known kinds: {known}") from None

    def find(self, kind: str) -> AgentProfile | None:
        """The profile of an agent kind, or None for a kind no longer configured."""
        return self._profiles.get(kind)

    def unknown(self, kind: str) -> str:
        """Why ``kind`` has no profile, as its rows say it."""
        why = f"unknown kind {kind!r}"
        return f"{why} ({self.problem})" if self.problem else why

    def kinds(self) -> list[str]:
        """Agent kinds, the default first."""
        kinds = sorted(self._profiles)
        default = self._default
        return [default, *[k for k in kinds if k != default]] if default in kinds else kinds

    def adapter(self, kind: str) -> AgentAdapter:
        """The adapter of an agent kind's CLI: its launch, hooks, status file, trust record and
        keys (a kind no longer configured gets its built-in or the generic adapter)."""
        return builtin_adapters().for_kind(kind, self._profiles.get(kind))


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size, info.st_ino)


class ConfigFiles:
    """The configuration files (``config.toml``, ``.quarterdeck.toml``): `changed` says, at most
    once a `CONFIG_POLL_SECONDS`, whether one was written, made or removed since last asked."""

    def __init__(self, paths: Sequence[Path], clock: Callable[[], float]) -> None:
        self.paths = tuple(paths)
        self._clock = clock
        self._seen = [_signature(p) for p in self.paths]
        self._looked = clock()

    def changed(self) -> bool:
        """True when a file differs from when this was last asked (or made)."""
        now = self._clock()
        if now - self._looked < CONFIG_POLL_SECONDS:
            return False
        self._looked = now
        seen = [_signature(p) for p in self.paths]
        if seen == self._seen:
            return False
        self._seen = seen
        return True
