"""The fleet: starting, watching, stopping and removing agents of one repository."""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from app.agents.base import AgentAdapter
from app.agents.hooks import HookInstaller
from app.agents.registry import builtin_adapters
from app.core.agent import Agent, PromptState, SpawnRequest
from app.core.alerts import Alert
from app.core.classify import PaneView, classify
from app.core.errors import (
    AgentNotFoundError,
    QuarterdeckError,
    ToolMissingError,
    UnsafeRemovalError,
    UsageError,
)
from app.core.messages import Message, MessageMode
from app.core.naming import branch_name, repo_key, slugify, unique_names, validate_name
from app.core.ports import RemovalRisk
from app.core.profiles import AgentProfile, PromptDelivery
from app.core.review import AgentDiff, CheckResult, Comment, MergeOutcome, MergeStrategy
from app.core.status import STATUS_GLYPH, Evidence, InputKind, Reading, Status, TrackedStatus
from app.core.views import FleetView
from app.fleet.delivery import Steering
from app.fleet.review import Review
from app.fleet.tracking import StatusTracking
from app.infra.git import Repository
from app.infra.lock import EngineLock
from app.infra.notify import Notifier
from app.infra.procs import end_process_tree
from app.infra.settings import Settings, data_home, load_settings, tmux_socket_name
from app.infra.spool import DOORBELL, EventSpool, HookEvent
from app.infra.store import Store
from app.infra.tmux import PaneFacts, TmuxServer

#: How long an answered dialog may take to change before the answer is reported as not taken.
ANSWER_VERIFY_SECONDS = 4.0
#: Without a watcher (no engine in this process), diff stats are refreshed at most this often
#: per agent, and only after activity.
DIFF_INTERVAL = 5.0


@dataclass(frozen=True)
class _Plan:
    name: str
    branch: str
    worktree: Path
    argv: list[str]
    env: dict[str, str]
    prompt: str
    prompt_state: PromptState


def _user_shell() -> str:
    shell = os.environ.get("SHELL", "")
    return shell if shell and shutil.which(shell) else (shutil.which("bash") or "/bin/sh")


class Fleet:
    """All agents of one repository, and every effect on them.

    Implements the UI's `FleetPort`. The engine part (`sweep`) is driven by `Engine` in exactly
    one process per repository; every other method is safe to call from any process.
    """

    def __init__(
        self,
        repo: Repository,
        settings: Settings,
        tmux: TmuxServer,
        store: Store,
        *,
        python: str = sys.executable,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.repo = repo
        self.settings = settings
        self.tmux = tmux
        self.store = store
        self.python = python
        self.clock = clock
        self.repo_name = repo.root.name
        self.session = f"qd-{repo_key(str(repo.root))}"
        self.state_dir = repo.common_dir / "quarterdeck"
        self.lock = EngineLock(self.state_dir / "engine.lock")
        self.hosted = os.environ.get("QUARTERDECK_HOSTED") == self.session
        self.tracking = StatusTracking(tmux, settings.profiles)
        self.spool = EventSpool(self.state_dir / "events")
        self.hooks = HookInstaller(self.state_dir, self.spool.directory)
        self._diffed_at: dict[str, float] = {}
        self._last_facts: dict[str, PaneFacts] = {}
        self._early_events: list[HookEvent] = []
        #: Set (by the engine's event watcher) when hook events wait in the spool.
        self.hook_arrived = threading.Event()
        self._agents: list[Agent] = []
        self._view = FleetView(self.repo_name, ())
        self._subscribers: list[Callable[[FleetView], None]] = []
        self._delivering: set[str] = set()
        self._mutex = threading.RLock()
        self._summary = ""
        self.notice = ""
        #: Wakes this process's engine, when it runs one (set by `Engine`).
        self.wake: Callable[[], None] = lambda: None
        self.notifier = Notifier(settings.notify, tmux, self.session)
        self.steering = Steering(self)
        self.steering.on_change = self.refresh_view
        #: Diffs, checks, merges and pushes (`app/fleet/review.py`).
        self.review = Review(self)

    @classmethod
    def open(cls, path: Path) -> Fleet:
        """The fleet of the repository containing ``path``."""
        repo = Repository.discover(path.resolve())
        settings = load_settings(repo.root)
        tmux = TmuxServer(tmux_socket_name())
        store = Store(repo.common_dir / "quarterdeck" / "state.db")
        fleet = cls(repo, settings, tmux, store)
        fleet.reload()
        return fleet

    # ----------------------------------------------------------------- queries

    @property
    def worktree_root(self) -> Path:
        """Where this repository's agent worktrees live."""
        base = self.settings.worktree_root or (data_home() / "worktrees")
        return base / repo_key(str(self.repo.root))

    @property
    def pretrust(self) -> bool:
        """The repository's opt-in: write each CLI's trust record for new worktrees."""
        try:
            data = json.loads((self.state_dir / "settings.json").read_text())
        except (OSError, ValueError):
            return False
        return isinstance(data, dict) and data.get("pretrust") is True

    def set_pretrust(self, on: bool) -> None:
        """Opt this repository in (or out) of pre-trusting agent worktrees."""
        path = self.state_dir / "settings.json"
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            data = {}
        data = data if isinstance(data, dict) else {}
        data["pretrust"] = on
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2) + "\n")

    def reload(self) -> list[Agent]:
        """Re-read every agent from the store and publish the view."""
        with self._mutex:
            self._agents = self.store.agents()
            self._publish()
            return list(self._agents)

    def agents(self) -> list[Agent]:
        """Every agent as last read or tracked."""
        with self._mutex:
            return list(self._agents)

    def get(self, name: str) -> Agent:
        """The agent called ``name`` or an `AgentNotFoundError` listing the ones there are."""
        agent = self.store.get(name)
        if agent is None:
            known = ", ".join(self.store.names()) or "none"
            raise AgentNotFoundError(
                f"no agent named {name!r} in {self.repo.root} (agents: {known})"
            )
        return agent

    def view(self) -> FleetView:
        """The latest view of the fleet."""
        return self._view

    def subscribe(self, callback: Callable[[FleetView], None]) -> None:
        """Call ``callback`` with every new view."""
        self._subscribers.append(callback)

    def subscribe_alerts(self, callback: Callable[[Alert], None]) -> None:
        """Call ``callback`` when an agent starts waiting or finishes (if the bell is on)."""
        self.notifier.subscribe(callback)

    def refresh_view(self) -> None:
        """Publish the view again (a message moved on) and wake this process's engine."""
        with self._mutex:
            self._publish()
        self.wake()

    def update_fields(self, agent_id: str, **changes: object) -> Agent | None:
        """Change some fields of an agent's record (from any thread): only those fields are
        written, so a concurrent sweep's status never gets undone. Publishes the view."""
        with self._mutex:
            current = next((a for a in self._agents if a.id == agent_id), None)
            if current is None:
                current = next((a for a in self.store.agents() if a.id == agent_id), None)
            if current is None:
                return None
            updated = replace(current, **changes)  # type: ignore[arg-type]
            if updated != current:
                self.store.update(updated, before=current)
                mine = {a.id: a for a in self._agents}
                if agent_id in mine:
                    fields = {k: getattr(updated, k) for k in changes}
                    mine[agent_id] = replace(mine[agent_id], **fields)
                    self._agents = list(mine.values())
                self._publish()
            return updated

    def set_notice(self, notice: str) -> None:
        """Say something about the engine itself in the view (empty to clear it)."""
        with self._mutex:
            if notice != self.notice:
                self.notice = notice
                self._publish()

    def kinds(self) -> list[str]:
        """Agent kinds, the default first."""
        kinds = sorted(self.settings.profiles)
        default = self.settings.default_agent
        return [default, *[k for k in kinds if k != default]] if default in kinds else kinds

    def default_base(self) -> str:
        """The branch checked out in the main tree."""
        return self.repo.current_branch()

    @property
    def return_key(self) -> str:
        """The key that returns from an agent's pane to the dashboard."""
        return self.settings.return_key

    def profile(self, kind: str) -> AgentProfile:
        """The profile of an agent kind, or a `UsageError` listing the known kinds."""
        try:
            return self.settings.profiles[kind]
        except KeyError:
            known = ", ".join(sorted(self.settings.profiles))
            raise UsageError(f"unknown agent kind {kind!r}; known kinds: {known}") from None

    def adapter(self, kind: str) -> AgentAdapter:
        """What Quarterdeck knows of the kind's CLI beyond its screen (`app.agents`): launch,
        hooks, status file, trust record, keys."""
        return builtin_adapters().for_kind(kind, self.settings.profiles.get(kind))

    def _publish(self) -> None:
        view = FleetView.from_agents(
            self.repo_name, self._agents, self.notice, self.store.latest_messages()
        )
        if view == self._view:
            return
        before, self._view = self._view, view
        self.notifier.observe(before, view)
        for callback in list(self._subscribers):
            callback(self._view)

    # ----------------------------------------------------------------- spawning

    def _plan(self, request: SpawnRequest) -> tuple[list[_Plan], str, str]:
        """Validate a spawn request completely before anything is created."""
        if request.count < 1:
            raise UsageError("--count must be at least 1")
        profile = self.profile(request.kind)
        shell = _user_shell()
        if request.command:
            try:
                parts = shlex.split(request.command)
            except ValueError as exc:
                raise UsageError(f"cannot parse --command {request.command!r}: {exc}") from None
            if not parts:
                raise UsageError("--command is empty")
            profile = replace(profile, command=tuple(parts), program=parts[0])
        program = profile.program.replace("{python}", self.python).replace("{shell}", shell)
        if shutil.which(program) is None:
            raise ToolMissingError(
                f"agent kind {request.kind!r} needs {program!r}, which is not installed "
                "(not found on PATH); install it or choose another --agent"
            )
        base = request.base or self.repo.current_branch()
        base_commit = self.repo.resolve(base)
        explicit = request.name is not None
        stem = validate_name(request.name) if request.name is not None else slugify(request.prompt)
        names = unique_names(stem, request.count, self.store.names(), explicit)
        plans = []
        for name in names:
            validate_name(name)
            branch = branch_name(self.settings.branch_prefix, name)
            self.repo.check_branch_name(branch)
            if self.repo.branch_exists(branch):
                raise UsageError(
                    f"branch {branch!r} already exists; pick another --name or delete the branch"
                )
            worktree = self.worktree_root / name
            if worktree.exists():
                raise UsageError(
                    f"worktree directory {worktree} already exists; "
                    "remove it or pick another --name"
                )
            launch = (
                builtin_adapters()
                .for_kind(request.kind, profile)
                .launch(profile, request.prompt, self.python, shell, self.hooks)
            )
            argv = list(launch.argv)
            typed = profile.prompt is PromptDelivery.TYPE and bool(request.prompt)
            plans.append(
                _Plan(
                    name=name,
                    branch=branch,
                    worktree=worktree,
                    argv=argv,
                    env=dict(launch.env),
                    prompt=request.prompt,
                    prompt_state=PromptState.PENDING if typed else PromptState.NONE,
                )
            )
        return plans, base, base_commit

    def spawn(self, request: SpawnRequest) -> list[Agent]:
        """Start ``request.count`` agents; all-or-nothing per agent, nothing left half-made."""
        with self._mutex:
            plans, base, base_commit = self._plan(request)
            self.ensure_session()
            started: list[Agent] = []
            for plan in plans:
                started.append(self._start(plan, request.kind, base, base_commit))
            self.reload()
            return started

    def _start(self, plan: _Plan, kind: str, base: str, base_commit: str) -> Agent:
        agent_id = uuid.uuid4().hex[:12]
        undo: list[Callable[[], object]] = []
        try:
            self.repo.add_worktree(plan.worktree, plan.branch, base_commit)
            undo.append(lambda: self.repo.remove_worktree(plan.worktree))
            undo.append(lambda: self.repo.delete_branch(plan.branch))
            adapter = self.adapter(kind)
            if self.pretrust and adapter.set_trust(plan.worktree, True):
                undo.append(lambda: adapter.set_trust(plan.worktree, False))
            now = self.clock()
            agent = Agent(
                id=agent_id,
                name=plan.name,
                kind=kind,
                command=shlex.join(plan.argv),
                branch=plan.branch,
                base=base,
                base_commit=base_commit,
                worktree=str(plan.worktree),
                session=self.session,
                window_id="",
                pane_id="",
                pane_pid=0,
                created_at=now,
                prompt=plan.prompt,
                prompt_state=plan.prompt_state,
                status=Status.STARTING,
                status_since=now,
                evidence="quarterdeck: spawned",
            )
            self.store.insert(agent)
            undo.append(lambda: self.store.delete(agent_id))
            env = {"QUARTERDECK_AGENT_ID": agent_id, "QUARTERDECK_AGENT_NAME": plan.name}
            env.update(self.hooks.environment())
            env.update(plan.env)
            pane = self.tmux.new_agent_window(
                self.session,
                agent_id,
                plan.name,
                str(plan.worktree),
                plan.argv,
                env,
                glyph=STATUS_GLYPH[agent.status],
            )
            agent = replace(
                agent, window_id=pane.window_id, pane_id=pane.pane_id, pane_pid=pane.pid
            )
            self.store.update(agent)
            return agent
        except BaseException:
            for step in reversed(undo):
                with contextlib.suppress(Exception):
                    step()
            raise

    def ensure_session(self) -> None:
        """Create this repository's tmux session (window 0 waits for the dashboard)."""
        placeholder = [
            "sh",
            "-c",
            "printf '\\n  The Quarterdeck dashboard is not running here.\\n"
            "  Run `quarterdeck` in the repository to start it.\\n'; exec tail -f /dev/null",
        ]
        if self.tmux.ensure_session(
            self.session,
            str(self.repo.root),
            placeholder,
            self.settings.return_key,
            self.settings.next_waiting_key,
        ):
            self.tmux.mark_window0(self.session, "placeholder")
            self.tmux.set_session_option(self.session, "@qd_repo", self.repo_name)

    # ----------------------------------------------------------------- engine

    def sweep(self, now: float | None = None, *, deliver: bool = False) -> bool:
        """One look at every agent: pane facts for all in one call, screens only where there was
        output, hook events and status files folded in, statuses held with hysteresis, and
        transitions written before they are shown.

        Hook events that arrive during the sweep (`hook_arrived`) are folded in between two
        agents rather than after the whole fleet: they are the fastest evidence there is.

        With ``deliver``, pending prompts go to agents that became ready (only a process that
        stays alive until delivery is verified may deliver: the engine, or `new` while waiting).
        Returns True when anything visible changed.
        """
        fixed = now
        dirty = self.tracking.dirty_panes()
        self.hook_arrived.clear()
        events = self._drain_events()
        with self._mutex:
            # The store first, then tmux: an agent recorded with a window is always found in
            # facts taken after it.
            current = {a.id: a for a in self.store.agents()}
            facts = self.tmux.agent_panes()
            self._last_facts = facts
            if any(f.dead and f.dead_status is None for f in facts.values()):
                self.tmux.reap()
            changed = [a.id for a in self._agents] != list(current)
            self._agents = list(current.values())
            for agent_id in list(current):
                if self.hook_arrived.is_set() and self._fold_events(current):
                    changed = True
                agent = current[agent_id]
                self._take_hooks(agent, events.pop(agent_id, []))
                # Each agent's look is stamped with its own time: a sweep of a busy fleet
                # takes long enough for the sweep's start to precede what it finds.
                now = self.clock() if fixed is None else fixed
                updated = self._observe(agent, facts.get(agent_id), now, dirty)
                changed = self._commit(agent, updated) or changed
                current[agent_id] = updated
                if deliver:
                    self._maybe_deliver(updated)
            self._agents = list(current.values())  # events left were of agents no longer stored
            if changed:
                self._publish()
                self._update_status_line()
            return changed

    def sweep_events(self) -> bool:
        """The fast path for hook events outside a sweep: fold waiting events into their agents'
        statuses at once, without reading screens. True when anything changed."""
        self.hook_arrived.clear()
        with self._mutex:
            current = {a.id: a for a in self._agents}
            return self._fold_events(current)

    def _fold_events(self, current: dict[str, Agent]) -> bool:
        """Take waiting hook events into the statuses of the agents in ``current`` (updated in
        place), write and publish what changed. Events of agents no sweep has seen in tmux yet
        are kept for the next sweep. True when anything changed."""
        self.hook_arrived.clear()
        events = self._drain_events()
        if not events:
            return False
        now = self.clock()
        changed = False
        for agent_id, agent in current.items():
            pane = self._last_facts.get(agent_id)
            if agent_id not in events or pane is None:
                continue
            self._take_hooks(agent, events.pop(agent_id))
            tracked = self.tracking.observe(agent, pane, now, set())
            if tracked is not None:
                updated = self._with_status(agent, tracked)
                if self._commit(agent, updated):
                    current[agent_id] = updated
                    changed = True
        self._early_events.extend(e for evs in events.values() for e in evs)
        if changed:
            self._agents = list(current.values())
            self._publish()
            self._update_status_line()
        return changed

    def _drain_events(self) -> dict[str, list[HookEvent]]:
        """Hook events waiting in the spool (and any the fast path left), by agent. A ring of
        the doorbell (another process queued a message) has done its work by waking us."""
        events: dict[str, list[HookEvent]] = {}
        early, self._early_events = self._early_events, []
        for event in [*early, *self.spool.drain()]:
            if event.agent_id != DOORBELL:
                events.setdefault(event.agent_id, []).append(event)
        return events

    def _take_hooks(self, agent: Agent, events: list[HookEvent]) -> None:
        """Feed an agent's hook events to status tracking and its evidence trail."""
        for event in events:
            said = self.tracking.hook(agent, event)
            self.store.log(
                agent.id, event.at, said.status.value if said else "-", f"hook: {event.event}"
            )

    def _commit(self, agent: Agent, updated: Agent) -> bool:
        """Write what changed about an agent (a status change with its evidence, logged);
        True when anything did."""
        if updated == agent:
            return False
        transition = (updated.status, updated.input_kind) != (agent.status, agent.input_kind)
        self.store.update(updated, before=agent, transition=transition)
        if transition:
            self.tmux.set_window_option(
                updated.window_id, "@qd_glyph", STATUS_GLYPH[updated.status]
            )
            waiting = updated.status is Status.NEEDS_INPUT
            self.tmux.set_window_option(
                updated.window_id, "@qd_waiting", f"{updated.status_since:.3f}" if waiting else ""
            )
        return True

    @staticmethod
    def _with_status(agent: Agent, tracked: TrackedStatus) -> Agent:
        shown = tracked.reading
        return replace(
            agent,
            status=shown.status,
            input_kind=shown.kind,
            status_since=tracked.since,
            evidence=str(shown.evidence),
            question=shown.question,
            options=shown.options,
            context=shown.context,
            detail=shown.detail,
            summary=shown.summary or agent.summary,
        )

    def _observe(
        self, agent: Agent, pane: PaneFacts | None, now: float, dirty: set[str] | None
    ) -> Agent:
        """The agent with its status after this look. Its diff stats come from the review
        watcher when this process runs one; otherwise they are refreshed here when due."""
        tracked = self.tracking.observe(agent, pane, now, dirty)
        updated = agent if tracked is None else self._with_status(agent, tracked)
        if self.review.watching:
            return updated
        last_diff = self._diffed_at.get(agent.id)
        if pane is not None and (
            last_diff is None
            or (pane.activity >= int(last_diff) and now - last_diff >= DIFF_INTERVAL)
        ):
            self._diffed_at[agent.id] = now
            updated = self.review.with_stats(updated)
        return updated

    def _update_status_line(self) -> None:
        summary = self._view.status_line()
        if summary != self._summary:
            self._summary = summary
            self.tmux.set_session_option(self.session, "@qd_summary", summary)

    # ----------------------------------------------------------------- prompts

    def recover_prompts(self) -> None:
        """Prompts left half-sent by a process that died are marked failed, visibly, rather than
        typed a second time."""
        with self._mutex:
            for agent in self.store.agents():
                if agent.prompt_state is PromptState.SENDING:
                    failed = replace(agent, prompt_state=PromptState.FAILED)
                    self.store.update(failed, before=agent)

    def _maybe_deliver(self, agent: Agent) -> None:
        if agent.prompt_state is not PromptState.PENDING or agent.id in self._delivering:
            return
        profile = self.settings.profiles.get(agent.kind)
        if profile is None or agent.status is not profile.ready_status:
            return
        claimed = self.store.claim_prompt(agent.id)
        if claimed is None:
            return
        self._delivering.add(agent.id)
        threading.Thread(
            target=self._deliver,
            args=(claimed, profile),
            name=f"deliver-{agent.name}",
            daemon=True,
        ).start()

    def _deliver(self, agent: Agent, profile: AgentProfile) -> None:
        """Type the prompt, press Enter, and verify the agent left its ready state."""
        try:
            ok = self.send_and_verify(agent, profile, agent.prompt)
        except QuarterdeckError:
            ok = False
        finally:
            self._delivering.discard(agent.id)
        state = PromptState.DELIVERED if ok else PromptState.FAILED
        with self._mutex:
            current = self.store.get(agent.name)
            if current is not None and current.id == agent.id:
                self.store.update(replace(current, prompt_state=state), before=current)

    def send_and_verify(self, agent: Agent, profile: AgentProfile, text: str) -> bool:
        """Type ``text`` into an agent at its prompt and verify it took it (the way messages
        are typed: `Steering.type_and_verify`)."""
        pane = self.pane_of(agent)
        if pane is None or pane.dead:
            return False
        try:
            before = self.tmux.capture(pane.pane_id)
            self.steering.type_and_verify(agent, profile, text, ready=True, before=before)
        except QuarterdeckError:
            return False
        return True

    def wait_for_prompts(self, names: list[str], timeout: float) -> dict[str, PromptState]:
        """Drive sweeps until the named agents' prompts are delivered (or failed, or time out).

        Used by the command line when no dashboard engine runs.
        """
        deadline = time.monotonic() + timeout
        states: dict[str, PromptState] = {}
        while True:
            self.sweep(deliver=True)
            states = {}
            for name in names:
                agent = self.store.get(name)
                states[name] = agent.prompt_state if agent else PromptState.FAILED
            if all(s not in (PromptState.PENDING, PromptState.SENDING) for s in states.values()):
                return states
            if time.monotonic() > deadline:
                return states
            time.sleep(0.1)

    # ----------------------------------------------------------------- stop / remove

    def stop(self, name: str) -> None:
        """End the agent's whole process tree, verified; its window stays with the last screen."""
        agent = self.get(name)
        facts = self.pane_of(agent)
        pid = facts.pid if facts is not None else agent.pane_pid
        left = end_process_tree(pid, agent.id)
        self.tmux.reap()  # let tmux collect the pane's process and mark the pane dead
        if left:
            raise QuarterdeckError(
                f"could not end every process of {name!r}: pids {sorted(left)} are still alive"
            )
        now = self.clock()
        with self._mutex:
            stopped = replace(
                agent,
                stopped=True,
                status=Status.EXITED,
                input_kind=None,
                status_since=now,
                evidence="user: stopped",
                question="",
                options=(),
            )
            self.store.update(stopped, before=agent, transition=True)
            self.tracking.set(agent.id, Reading(Status.EXITED, Evidence("user", "stopped")), now)
            if agent.window_id:
                self.tmux.set_window_option(
                    agent.window_id, "@qd_glyph", STATUS_GLYPH[Status.EXITED]
                )
            self.reload()

    def removal_risk(self, name: str) -> RemovalRisk:
        """What removing the agent would lose."""
        agent = self.get(name)
        return RemovalRisk(
            name=name,
            branch=agent.branch,
            base=agent.base,
            unmerged_commits=self.repo.unmerged_commits(
                agent.branch, agent.base, self.review.landed(agent)
            ),
            changed_files=self.repo.changed_files(Path(agent.worktree)),
        )

    def remove(self, name: str, *, discard_unmerged: bool, discard_changes: bool) -> str:
        """Stop the agent and remove its window, worktree and branch, keeping archive refs.

        Refused (`UnsafeRemovalError`) when commits or changes would be lost and the matching
        flag does not confirm it.
        """
        risk = self.removal_risk(name)
        missing = []
        if risk.unmerged_commits and not discard_unmerged:
            missing.append("--discard-unmerged")
        if risk.changed_files and not discard_changes:
            missing.append("--discard-changes")
        if missing:
            raise UnsafeRemovalError(
                f"refusing to remove {name!r}: it has {risk.describe()}. "
                f"To remove it anyway (an archive ref keeps the work), confirm with "
                f"{' '.join(missing)}"
            )
        agent = self.get(name)
        self.review.forget(agent)  # ends its check: not under the mutex its thread needs
        with self._mutex:
            facts = self.pane_of(agent)
            if facts is not None and not facts.dead:
                end_process_tree(facts.pid, agent.id)
            kept = self.repo.archive(name, agent.branch, Path(agent.worktree))
            self.adapter(agent.kind).set_trust(Path(agent.worktree), False)
            if agent.window_id:
                self.tmux.kill_window(agent.window_id)
            self.repo.remove_worktree(Path(agent.worktree))
            self.repo.delete_branch(agent.branch)
            self.store.delete(agent.id)
            self.tracking.forget(agent.id)
            self.reload()
            self._update_status_line()
        if kept:
            return f"removed {name}; kept {', '.join(kept)}"
        return f"removed {name}; nothing needed keeping"

    # ----------------------------------------------------------------- review

    def diff(self, name: str) -> AgentDiff:
        """What the agent changed against its base (cached while nothing changes)."""
        return self.review.diff(name)

    def comment(self, name: str, comment: Comment) -> Message:
        """Queue a review remark for the agent."""
        return self.review.comment(name, comment)

    def run_check(self, name: str) -> None:
        """Start the check command in the agent's worktree, in the background."""
        self.review.run_check(name)

    def cancel_check(self, name: str) -> None:
        """Stop the agent's running check (its whole process group)."""
        self.review.cancel_check(name)

    def check(self, name: str) -> CheckResult | None:
        """The agent's latest check."""
        return self.review.check(name)

    def merge(
        self,
        name: str,
        strategy: MergeStrategy | None,
        *,
        force: bool,
        update_worktree: bool = False,
    ) -> MergeOutcome:
        """Land the agent's branch in its base without touching any working tree (but the
        one that has the base checked out, when ``update_worktree``)."""
        return self.review.merge(name, strategy, force=force, update_worktree=update_worktree)

    def send_conflict(self, name: str) -> Message:
        """Send the agent its last merge conflict to resolve."""
        return self.review.send_conflict(name)

    def push_branch(self, name: str) -> str:
        """Push the agent's branch and open a pull request (or say how)."""
        return self.review.push_branch(name)

    # ----------------------------------------------------------------- panes

    def answer(self, name: str, number: int, origin: str = "user") -> str:
        """Pick option ``number`` of the dialog the agent waits on, with the keys its CLI
        expects, and verify the dialog went away. Returns what was answered. ``origin`` says
        who answered, in the agent's trail."""
        agent = self.get(name)
        if agent.status is not Status.NEEDS_INPUT:
            raise UsageError(f"{name} is {agent.status.value}, not waiting on a dialog")
        if agent.options and not 0 < number <= len(agent.options):
            raise UsageError(f"{name}'s dialog has options 1 to {len(agent.options)}")
        if not agent.options and agent.input_kind is InputKind.QUESTION:
            raise UsageError(f"{name} asks a free-text question: attach to answer it")
        profile = self.profile(agent.kind)
        pane = self.pane_of(agent)
        if pane is None or pane.dead:
            raise QuarterdeckError(f"the pane of {name!r} is gone")
        keys = self.adapter(agent.kind).answer_keys(profile, number, agent.options)
        if not keys:
            raise UsageError(f"cannot tell which key picks option {number} of {name}'s dialog")
        before = classify(
            profile, PaneView(self.tmux.capture(pane.pane_id), pane.title, pane.command)
        )
        if before.status is not Status.NEEDS_INPUT:
            # It moved on since it was last looked at: the keys would go to its input line.
            raise QuarterdeckError(f"{name} no longer shows a dialog; nothing was pressed")
        for press in keys:
            self.tmux.send_keys(pane.pane_id, *press)
        label = agent.options[number - 1] if agent.options else str(number)
        self.store.log(agent.id, self.clock(), "-", f"{origin}: answered {number} ({label})")
        deadline = time.monotonic() + ANSWER_VERIFY_SECONDS
        while time.monotonic() < deadline:
            facts = self.pane_of(agent)
            if facts is None or facts.dead:
                return f"answered {name}: {label} (the agent then exited)"
            now = classify(
                profile, PaneView(self.tmux.capture(facts.pane_id), facts.title, facts.command)
            )
            if not now.same_state(before):
                return f"answered {name}: {label}"
            time.sleep(0.05)
        raise QuarterdeckError(
            f"answered {name} with {label!r}, but its dialog is still open: attach to check"
        )

    # ----------------------------------------------------------------- steering

    def send(self, names: Sequence[str], text: str, mode: MessageMode) -> list[Message]:
        """Queue a message for each named agent; the engine types and verifies it."""
        return self.steering.send(names, text, mode)

    def interrupt(self, name: str) -> None:
        """Press the agent's interrupt key once."""
        self.steering.interrupt(self.get(name))

    def reply(self, name: str, text: str) -> str:
        """Answer the agent's dialog in words (verified)."""
        return self.steering.reply(name, text)

    def messages(self, name: str | None = None, limit: int = 100) -> list[Message]:
        """The latest messages (to one agent, or to all), oldest first."""
        agent_id = self.get(name).id if name is not None else None
        return self.store.messages(agent_id, limit)

    def evidence(self, name: str) -> list[tuple[float, str, str]]:
        """The agent's trail: every status change and signal, oldest first."""
        return self.store.events(self.get(name).id)

    def pane_of(self, agent: Agent) -> PaneFacts | None:
        """The agent's pane, found by the agent id tmux carries for it (never by a bare %id)."""
        return self.tmux.agent_panes().get(agent.id)

    def capture(self, name: str) -> str:
        """The agent's screen with colours."""
        pane = self.pane_of(self.get(name))
        if pane is None:
            raise QuarterdeckError(f"the tmux pane of {name!r} is gone")
        return self.tmux.capture(pane.pane_id, ansi=True)

    def attach(self, name: str) -> list[str] | None:
        """Show the agent's pane: select its window when hosted, else give a command to run."""
        agent = self.get(name)
        pane = self.pane_of(agent)
        if pane is None:
            raise QuarterdeckError(f"the tmux window of {name!r} is gone")
        if self.hosted:
            self.tmux.select_window(pane.window_id)
            return None
        viewer = self.tmux.viewer_session(self.session, pane.window_id)
        return self.tmux.attach_argv(viewer, viewer=True)
