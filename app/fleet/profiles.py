"""The agent kinds configured for a repository: the profile of each (how to launch it, read its
screen, type to it and answer it) and its adapter (what Quarterdeck knows of its CLI beyond the
screen: `app.agents`)."""

from __future__ import annotations

from collections.abc import Mapping

from app.agents.base import AgentAdapter
from app.agents.registry import builtin_adapters
from app.core.errors import UsageError
from app.core.profiles import AgentProfile


class Profiles:
    """The repository's agent kinds (built in, the user's and the repository's, merged)."""

    def __init__(self, profiles: Mapping[str, AgentProfile], default: str) -> None:
        self._profiles = profiles
        self._default = default

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

    def kinds(self) -> list[str]:
        """Agent kinds, the default first."""
        kinds = sorted(self._profiles)
        default = self._default
        return [default, *[k for k in kinds if k != default]] if default in kinds else kinds

    def adapter(self, kind: str) -> AgentAdapter:
        """The adapter of an agent kind's CLI: its launch, hooks, status file, trust record and
        keys (a kind no longer configured gets its built-in or the generic adapter)."""
        return builtin_adapters().for_kind(kind, self._profiles.get(kind))
