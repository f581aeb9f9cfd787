"""Doctor: for each agent kind, whether its CLI is installed (and its version), and what its
adapter finds would keep an agent of it, started now, from running as Quarterdeck expects."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from app.agents.base import Setup
from app.agents.hooks import HookInstaller
from app.core.doctor import Finding, has_problem, note
from app.core.environment import effective
from app.fleet.profiles import Profiles
from app.infra.procs import program_version
from app.infra.settings import load_settings

#: How long `--version` may take: Codex's first run in a new home copies its helper binaries.
VERSION_TIMEOUT = 30.0


@dataclass(frozen=True)
class KindReport:
    """What doctor found about one kind."""

    kind: str
    program: str
    #: Where the program is (None: not found on the agent's PATH).
    path: str | None
    version: str = ""
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing found is a problem."""
        return not has_problem(self.findings)


class Doctor:
    """Checks agent kinds as they would start from this process (its environment, the
    repository's settings)."""

    def __init__(
        self,
        profiles: Profiles,
        *,
        hooks: HookInstaller | None,
        repo_root: Path | None,
        worktrees: Path | None,
        pretrust: bool,
        python: str,
    ) -> None:
        self._profiles = profiles
        self._hooks = hooks
        self._repo_root = repo_root
        self._worktrees = worktrees
        self._pretrust = pretrust
        self._python = python

    @classmethod
    def outside_repository(cls, python: str) -> Doctor:
        """A doctor for the user's kinds alone (no repository: no trust, no hooks folder)."""
        settings = load_settings(None)
        return cls(
            Profiles(settings.profiles, settings.default_agent),
            hooks=None,
            repo_root=None,
            worktrees=None,
            pretrust=False,
            python=python,
        )

    def kinds(self) -> list[str]:
        """Every kind, built in and configured, the default first."""
        return self._profiles.kinds()

    def check(self, kinds: Sequence[str]) -> list[KindReport]:
        """One report per kind (an unknown kind is a `UsageError`), their versions asked at
        the same time."""
        for kind in kinds:
            self._profiles.get(kind)
        with ThreadPoolExecutor(max_workers=4) as pool:
            return list(pool.map(self._check, kinds))

    def _check(self, kind: str) -> KindReport:
        profile = self._profiles.get(kind)
        adapter = self._profiles.adapter(kind)
        env = effective(os.environ, profile.env)
        shell = env.get("SHELL") or "/bin/sh"
        program = profile.program.replace("{python}", self._python).replace("{shell}", shell)
        path = shutil.which(program, path=env.get("PATH"))
        if path is None:
            missing = Finding(
                f"not installed: {program!r} is not on PATH",
                f"install it, or point [agents.{kind}] command (or env PATH) at it",
            )
            return KindReport(kind, program, None, findings=[missing])
        found: list[Finding] = []
        version = ""
        if "{shell}" not in profile.program:  # a shell has no --version to speak of
            status, version = program_version(path, env, VERSION_TIMEOUT)
            if status is None:
                found.append(
                    Finding(
                        f"`{program} --version` did not answer in {VERSION_TIMEOUT:g}s",
                        "run it by hand to see what it waits for",
                    )
                )
            elif status != 0:
                found.append(note(f"`{program} --version` failed (exit {status}): {version}"))
                version = ""
        setup = Setup(
            profile=profile,
            env=env,
            hooks=self._hooks,
            repo_root=self._repo_root,
            worktrees=self._worktrees,
            pretrust=self._pretrust,
        )
        found += adapter.doctor(setup)
        if self._hooks is not None:
            found += [Finding(p) for p in adapter.hook_problems(self._hooks, env)]
        return KindReport(kind, program, path, version, found)
