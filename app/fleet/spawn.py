"""Spawning: a request validated completely before anything is made, then each agent started in
its own worktree, branch and tmux window — all or nothing per agent — with the launch and the
trust record its kind's adapter gives; and the repository's opt-in to pre-trusting worktrees."""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from app.agents.hooks import HookInstaller
from app.core.agent import Agent, Checkout, Placement, PromptState, SpawnRequest, StatusShown
from app.core.environment import SET_BY_TMUX, agent_environment, effective
from app.core.errors import QuarterdeckError, ToolMissingError, UsageError
from app.core.naming import branch_name, repo_key, slugify, unique_names, validate_name
from app.core.profiles import AgentProfile, PromptDelivery
from app.core.status import STATUS_GLYPH, Status
from app.fleet.profiles import Profiles
from app.fleet.recovery import write_card
from app.fleet.roster import Roster
from app.infra.git import Repository
from app.infra.lock import RepositoryMutex
from app.infra.settings import Settings, data_home
from app.infra.store import Store
from app.infra.tmux import TmuxServer


@dataclass(frozen=True)
class Plan:
    """One agent of a spawn request, everything about it decided before anything is made."""

    name: str
    branch: str
    worktree: Path
    argv: list[str]
    #: The kind's ``env`` and what its hooks need (over the starting command's environment).
    env: dict[str, str]
    #: The environment the agent's CLI will see: where it keeps its settings and trust.
    cli_env: dict[str, str]
    prompt: str
    prompt_state: PromptState


def user_shell() -> str:
    """The user's shell (``$SHELL`` when installed), else bash, else ``/bin/sh``."""
    shell = os.environ.get("SHELL", "")
    return shell if shell and shutil.which(shell) else (shutil.which("bash") or "/bin/sh")


def read_pretrust(state_dir: Path) -> bool:
    """The repository's opt-in: write each CLI's trust record for new worktrees."""
    try:
        data = json.loads((state_dir / "settings.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("pretrust") is True


def write_pretrust(state_dir: Path, on: bool) -> None:
    """Opt the repository in (or out) of pre-trusting agent worktrees."""
    path = state_dir / "settings.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        data = {}
    data = data if isinstance(data, dict) else {}
    data["pretrust"] = on
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")


class Spawner:
    """Starts agents of one repository."""

    def __init__(
        self,
        repo: Repository,
        settings: Settings,
        store: Store,
        tmux: TmuxServer,
        hooks: HookInstaller,
        roster: Roster,
        *,
        session: str,
        profiles: Profiles,
        pretrust: Callable[[], bool],
        ensure_session: Callable[[], None],
        python: str,
        clock: Callable[[], float],
        stop: Callable[[Agent], None] = lambda agent: None,
        forget_status: Callable[[str], None] = lambda agent_id: None,
        changes: RepositoryMutex,
    ) -> None:
        """``changes`` is the repository's mutex for making and unmaking agents (across
        processes: names are chosen and agents made one process at a time); ``stop`` ends an
        agent's processes (verified) before `restart` replaces its window; ``forget_status``
        drops what status tracking remembers of an agent id."""
        self._changes = changes
        self._repo = repo
        self._settings = settings
        self._store = store
        self._tmux = tmux
        self._hooks = hooks
        self._roster = roster
        self._session = session
        self._profiles = profiles
        self._pretrust = pretrust
        self._ensure_session = ensure_session
        self._python = python
        self._clock = clock
        self._stop = stop
        self._forget_status = forget_status

    def use(self, settings: Settings) -> None:
        """The settings of a configuration read again (branch prefix, worktree root)."""
        self._settings = settings

    @property
    def worktree_root(self) -> Path:
        """Where this repository's agent worktrees live."""
        base = self._settings.worktree_root or (data_home() / "worktrees")
        return base / repo_key(str(self._repo.root))

    def plan(self, request: SpawnRequest) -> tuple[list[Plan], str, str]:
        """Validate a spawn request completely before anything is created: the plans, the base
        branch and its commit."""
        if request.count < 1:
            raise UsageError("--count must be at least 1")
        profile = self._profiles.get(request.kind)
        shell = user_shell()
        if request.command:
            try:
                parts = shlex.split(request.command)
            except ValueError as exc:
                raise UsageError(f"cannot parse --command {request.command!r}: {exc}") from None
            if not parts:
                raise UsageError("--command is empty")
            profile = replace(profile, command=tuple(parts), program=parts[0])
        profile = profile.with_options(request.model, request.args)
        program = profile.program.replace("{python}", self._python).replace("{shell}", shell)
        if shutil.which(program) is None:
            raise ToolMissingError(
                f"agent kind {request.kind!r} needs {program!r}, which is not installed "
                "(not found on PATH); install it or choose another --agent"
            )
        base = request.base or self._repo.current_branch()
        base_commit = self._repo.resolve(request.start_point or base)
        explicit = request.name is not None
        stem = validate_name(request.name) if request.name is not None else slugify(request.prompt)
        taken = self._store.names() if explicit else self._taken_names()
        names = unique_names(stem, request.count, taken, explicit)
        plans = []
        for name in names:
            validate_name(name)
            branch = branch_name(self._settings.branch_prefix, name)
            self._repo.check_branch_name(branch)
            if self._repo.branch_exists(branch):
                raise UsageError(
                    f"branch {branch!r} already exists; pick another --name or delete the branch "
                    "(an agent without a record may hold it: see quarterdeck ls)"
                )
            worktree = self.worktree_root / name
            if worktree.exists():
                raise UsageError(
                    f"worktree directory {worktree} already exists; "
                    "remove it or pick another --name"
                )
            plans.append(self._plan(name, branch, worktree, request.kind, profile, request.prompt))
        return plans, base, base_commit

    def _taken_names(self) -> set[str]:
        """Names a new agent may not take: those of records, and those that an agent branch or
        worktree folder still carries (an agent without a record, or work left behind)."""
        prefix = self._settings.branch_prefix
        taken = set(self._store.names())
        taken.update(b.removeprefix(prefix) for b in self._repo.branches(prefix))
        if self.worktree_root.is_dir():
            taken.update(p.name for p in self.worktree_root.iterdir())
        return taken

    def _plan(
        self, name: str, branch: str, worktree: Path, kind: str, profile: AgentProfile, prompt: str
    ) -> Plan:
        """The launch of one agent of ``kind`` in ``worktree`` (made or not yet)."""
        cli_env = effective(os.environ, profile.env)
        adapter = self._profiles.adapter(kind)
        launched = profile
        if (
            profile.prompt is PromptDelivery.ARGV
            and prompt
            and not self._pretrust()
            and adapter.prompt_behind_trust(worktree, cli_env)
        ):
            # Typed once the trust dialog is answered, never run unseen behind it.
            launched = replace(profile, prompt=PromptDelivery.TYPE)
        launch = adapter.launch(launched, prompt, self._python, user_shell(), self._hooks, cli_env)
        typed = launched.prompt is PromptDelivery.TYPE and bool(prompt)
        return Plan(
            name=name,
            branch=branch,
            worktree=worktree,
            argv=list(launch.argv),
            env=dict(launch.env),
            cli_env={**cli_env, **launch.env},
            prompt=prompt,
            prompt_state=PromptState.PENDING if typed else PromptState.NONE,
        )

    def restart(
        self, agent: Agent, prompt: str, *, model: str = "", args: Sequence[str] = ()
    ) -> Agent:
        """A fresh agent of the same kind in the same worktree and branch, with ``prompt``:
        the old one's processes are ended (verified) and its window replaced; the record (id,
        name, checkout) stays, its status back to starting. For a task's next round."""
        with self._changes.held(f"restart {agent.name}"), self._roster.mutex:
            agent = self._roster.named(agent.name)
            profile = self._profiles.get(agent.kind).with_options(model, args)
            plan = self._plan(
                agent.name,
                agent.checkout.branch,
                self._worktree(agent),
                agent.kind,
                profile,
                prompt,
            )
            self._stop(agent)
            if agent.placement.window_id:
                self._tmux.kill_window(agent.placement.window_id)
            return self._relaunch(
                agent,
                plan,
                "quarterdeck: restarted",
                prompt=plan.prompt,
                prompt_state=plan.prompt_state,
                started=False,
                conversation="",
            )

    def restore(self, agent: Agent) -> bool:
        """The agent's window made again in its own worktree and branch after it went away
        with its tmux server (or by itself), resuming its conversation by the id recorded when
        its CLI can and it is the worktree's own, else fresh. The record (id, name, checkout)
        stays. True when its conversation was resumed."""
        with self._changes.held(f"restore {agent.name}"), self._roster.mutex:
            agent = self._roster.named(agent.name)
            worktree = self._worktree(agent)
            profile = self._profiles.get(agent.kind)
            plan = self._plan(agent.name, agent.checkout.branch, worktree, agent.kind, profile, "")
            resumed = (
                self._profiles.adapter(agent.kind).resume(
                    plan.argv, agent.conversation, worktree, plan.cli_env
                )
                if agent.conversation
                else None
            )
            if resumed is not None:
                plan = replace(plan, argv=resumed)
            self._relaunch(
                agent,
                plan,
                "quarterdeck: restored" + (" (conversation resumed)" if resumed else ""),
                prompt_state=PromptState.NONE,
                # Past its start-up: its first prompt was taken before the window went away.
                started=True,
                conversation=agent.conversation if resumed else "",
            )
            return resumed is not None

    def _worktree(self, agent: Agent) -> Path:
        """The agent's worktree, or a `QuarterdeckError` when it is gone."""
        worktree = Path(agent.checkout.worktree)
        if not worktree.is_dir():
            raise QuarterdeckError(f"the worktree of {agent.name} ({worktree}) is gone")
        return worktree

    def _relaunch(self, agent: Agent, plan: Plan, evidence: str, **fields: Any) -> Agent:
        """The agent's record (id, name, checkout kept) started again in a new window with
        ``plan``'s launch, its status back to starting with ``evidence``, and ``fields`` set."""
        self._ensure_session()
        fresh = replace(
            agent,
            command=shlex.join(plan.argv),
            placement=Placement(self._session),
            shown=StatusShown(Status.STARTING, since=self._clock(), evidence=evidence),
            stopped=False,
            **fields,
        )
        self._forget_status(agent.id)
        self._store.update(fresh, transition=True)
        fresh = self._open_window(fresh, plan)
        self._roster.reload()
        return fresh

    def hook_problems(self, kind: str) -> list[str]:
        """Why agents of ``kind`` started now would not run their hooks (each with what to
        do): their status is then read from the screen alone."""
        profile = self._profiles.get(kind)
        env = effective(os.environ, profile.env)
        return self._profiles.adapter(kind).hook_problems(self._hooks, env)

    def spawn(self, request: SpawnRequest) -> list[Agent]:
        """Start ``request.count`` agents; all-or-nothing per agent, nothing left half-made."""
        with self._changes.held("start an agent"), self._roster.mutex:
            plans, base, base_commit = self.plan(request)
            self._ensure_session()
            started: list[Agent] = []
            for plan in plans:
                started.append(self._start(plan, request, base, base_commit))
            self._roster.reload()
            return started

    def _start(self, plan: Plan, request: SpawnRequest, base: str, base_commit: str) -> Agent:
        kind = request.kind
        agent_id = uuid.uuid4().hex[:12]
        undo: list[Callable[[], object]] = []
        try:
            self._repo.add_worktree(plan.worktree, plan.branch, base_commit)
            undo.append(lambda: self._repo.remove_worktree(plan.worktree))
            undo.append(lambda: self._repo.delete_branch(plan.branch))
            adapter = self._profiles.adapter(kind)
            if self._pretrust() and adapter.set_trust(plan.worktree, True, plan.cli_env):
                undo.append(lambda: adapter.set_trust(plan.worktree, False, plan.cli_env))
            now = self._clock()
            agent = Agent(
                id=agent_id,
                name=plan.name,
                kind=kind,
                command=shlex.join(plan.argv),
                checkout=Checkout(plan.branch, base, base_commit, str(plan.worktree)),
                placement=Placement(self._session),
                created_at=now,
                prompt=plan.prompt,
                prompt_state=plan.prompt_state,
                shown=StatusShown(Status.STARTING, since=now, evidence="quarterdeck: spawned"),
                task=request.task,
            )
            self._store.insert(agent)
            undo.append(lambda: self._store.delete(agent_id))
            write_card(self._repo, agent)
            return self._open_window(agent, plan)
        except BaseException:
            for step in reversed(undo):
                with contextlib.suppress(Exception):
                    step()
            raise

    def _open_window(self, agent: Agent, plan: Plan) -> Agent:
        """The agent's tmux window, started with its launch; the record gets its placement.

        Its environment is the one of the command (or dashboard) starting it, not the one the
        private tmux server was started with, and what Quarterdeck needs it to carry."""
        needed = {"QUARTERDECK_AGENT_ID": agent.id, "QUARTERDECK_AGENT_NAME": plan.name}
        needed.update(self._hooks.environment())
        env = agent_environment(os.environ, plan.env, needed)
        unset = self._tmux.environment_names(self._session) - set(env) - SET_BY_TMUX
        pane = self._tmux.new_agent_window(
            self._session,
            agent.id,
            plan.name,
            str(plan.worktree),
            plan.argv,
            env,
            glyph=STATUS_GLYPH[agent.shown.status],
            unset=unset,
        )
        agent = replace(
            agent, placement=Placement(self._session, pane.window_id, pane.pane_id, pane.pid)
        )
        self._store.update(agent)
        return agent
