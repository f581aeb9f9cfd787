"""The fleet: the one object every command and the dashboard talk to for one repository. It
wires the use cases together — spawning (`spawn`), the sweep that keeps statuses true
(`sweep`), delivery of messages, prompts and answers (`delivery`), auto-approve
(`autoapprove`), review (`diffs`, `checks`, `landing`, `publish`, `comments`), stopping and
removing (`teardown`) — each given exactly the collaborators it uses (agent kinds from
`profiles`, panes from `panes`), and publishes the view (`roster`), and tasks (`tasks`). Its
methods delegate.

Why one long module: it is the one place where the use cases are wired, and every method of
every feature port is a one-line delegation here; split, the wiring would be hidden."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from app.agents.base import AgentAdapter
from app.agents.hooks import HookInstaller
from app.core.agent import Agent, Restored, RestoreOutcome, SpawnRequest
from app.core.alerts import Alert
from app.core.checks import CheckResult
from app.core.diff import AgentDiff, Comment
from app.core.errors import QuarterdeckError
from app.core.landing import MergeOutcome, MergeStrategy
from app.core.messages import Message, MessageMode
from app.core.naming import repo_key
from app.core.ports import RemovalRisk
from app.core.profiles import AgentProfile
from app.core.status import PANE_GONE, Status
from app.core.tasks import Task, TaskEvent, TaskSpec
from app.core.views import FleetView
from app.fleet.autoapprove import AutoApprove
from app.fleet.checks import CheckRunner
from app.fleet.comments import Comments
from app.fleet.delivery import Answers, FirstPrompts, Keyboard, Outbox
from app.fleet.diff_reader import DiffReader
from app.fleet.diffs import Diffs
from app.fleet.doctor import Doctor
from app.fleet.hosting import Hosting
from app.fleet.landing import Landing
from app.fleet.panes import Panes
from app.fleet.profiles import ConfigFiles, Profiles
from app.fleet.publish import Publisher
from app.fleet.recovery import Recovery, Survey
from app.fleet.roster import Roster
from app.fleet.spawn import Spawner, read_pretrust, write_pretrust
from app.fleet.sweep import Sweep
from app.fleet.tasks import TaskRunner
from app.fleet.teardown import Teardown
from app.fleet.tracking import StatusTracking
from app.infra.git import Repository
from app.infra.lock import EngineLock, RepositoryMutex
from app.infra.notify import Notifier
from app.infra.review_tables import CheckTable, LandingTable
from app.infra.settings import Settings, config_files, load_settings, tmux_socket_name
from app.infra.spool import EventSpool
from app.infra.store import Store, state_db
from app.infra.task_table import TaskTable
from app.infra.tmux import PaneFacts, TmuxServer


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
        changes = RepositoryMutex(self.state_dir / "changes.lock")
        self.hosted = os.environ.get("QUARTERDECK_HOSTED") == self.session
        self.spool = EventSpool(self.state_dir / "events")
        self.hooks = HookInstaller(self.state_dir, self.spool.directory)
        #: Wakes this process's engine, when it runs one (set by `Engine`).
        self.wake: Callable[[], None] = lambda: None
        self.notifier = Notifier(settings.notify, tmux, self.session)
        self.roster = Roster(self.repo_name, repo.root, store, self.notifier)
        self.profiles = Profiles(settings.profiles, settings.default_agent)
        self.config = ConfigFiles(config_files(repo.root), time.monotonic)
        self.tracking = StatusTracking(tmux, self.profiles)
        self.panes = Panes(tmux, self.session, hosted=self.hosted)
        closing = threading.Event()  # set when this process's engine stops delivering
        keyboard = Keyboard(tmux, self.panes.of, closing, self.tracking.submitted_since)
        self.answers = Answers(
            keyboard, store, named=self.roster.named, profiles=self.profiles, clock=clock
        )
        self.outbox = Outbox(
            store,
            keyboard,
            named=self.roster.named,
            agents=self.roster.agents,
            profiles=self.profiles,
            interrupt=self.answers.press_interrupt,
            ring=self.spool.ring,
            clock=clock,
            on_change=self.refresh_view,
            closing=closing,
        )
        self.prompts = FirstPrompts(
            store, keyboard, profiles=self.profiles, mutex=self.roster.mutex
        )
        self.autoapprove = AutoApprove(
            settings.auto_approve,
            self.answers.answer,
            store,
            clock=clock,
            on_change=self.refresh_view,
        )
        # Review: diffs and their stats, checks, landing, publishing, comments.
        self.diffs = Diffs(
            DiffReader(repo),
            repo.common_dir,
            agents=self.roster.agents,
            stored=store.agents,
            get=self.roster.named,
            set_stats=self.roster.set_stats,
            set_overlap=self.roster.set_overlap,
        )
        self.checks = CheckRunner(
            repo,
            CheckTable(store),
            get=self.roster.named,
            stored=store.agents,
            set_check=self.roster.set_check,
            settings=lambda: load_settings(repo.root),
            defaults=settings,
            task_check=lambda agent: self.runner.task_check(agent),
        )
        self.landing = Landing(
            repo,
            LandingTable(store),
            get=self.roster.named,
            checks=self.checks,
            settings=lambda: load_settings(repo.root),
            send=self.outbox.send,
        )
        self.publisher = Publisher(repo, get=self.roster.named)
        self.comments = Comments(self.outbox.send)
        self.hosting = Hosting(tmux, self.session, repo.root, settings, python=python)
        self.spawner = Spawner(
            repo,
            settings,
            store,
            tmux,
            self.hooks,
            self.roster,
            session=self.session,
            profiles=self.profiles,
            pretrust=lambda: read_pretrust(self.state_dir),
            ensure_session=self.hosting.ensure_session,
            python=python,
            clock=clock,
            stop=lambda agent: self.teardown.stop(agent.name),
            forget_status=self.tracking.forget,
            changes=changes,
        )
        self.sweeper = Sweep(
            store,
            tmux,
            self.tracking,
            self.spool,
            self.roster,
            self.diffs,
            session=self.session,
            deliver=self.prompts.maybe_deliver,
            clock=clock,
        )
        #: Set (by the engine's event watcher) when hook events wait in the spool.
        self.hook_arrived = self.sweeper.hook_arrived
        self.teardown = Teardown(
            repo,
            store,
            tmux,
            self.tracking,
            self.roster,
            self.profiles,
            landed=self.landing.landed,
            forget=(self.checks.forget, self.landing.forget, self.diffs.forget),
            pane_of=self.panes.of,
            clock=clock,
            on_removed=self.sweeper.update_status_line,
            changes=changes,
        )
        self.runner = TaskRunner(
            repo,
            TaskTable(store),
            agents=self.roster.agents,
            agent_names=store.names,
            spawn=self.spawner.spawn,
            restart=lambda agent, prompt, model, args: self.spawner.restart(
                agent, prompt, model=model, args=args
            ),
            stop=self.teardown.stop,
            remove=lambda name: self.teardown.remove(
                name, discard_unmerged=True, discard_changes=True
            ),
            checks=self.checks,
            merge=lambda name: self.landing.merge(name, None, force=False, update_worktree=True),
            check_kind=self.profiles.get,
            settings=lambda: self.settings,
            default_base=repo.current_branch,
            clock=clock,
            on_change=self.refresh_view,
            tokens=lambda agent, since: self.profiles.adapter(agent.kind).tokens_used(
                Path(agent.checkout.worktree), None, since
            ),
            trail=store.events_since,
            submitted=self.tracking.submitted_since,
        )

        self.recovery = Recovery(
            repo,
            tmux,
            session=self.session,
            worktree_root=self.spawner.worktree_root,
            branch_prefix=lambda: self.settings.branch_prefix,
            default_base=repo.current_branch,
        )
        self._changes = changes

    @classmethod
    def open(cls, path: Path) -> Fleet:
        """The fleet of the repository containing ``path``."""
        repo = Repository.discover(path.resolve())
        settings = load_settings(repo.root)
        tmux = TmuxServer(tmux_socket_name())
        store = Store(state_db(repo))
        fleet = cls(repo, settings, tmux, store)
        fleet.reload()
        return fleet

    # ----------------------------------------------------------------- queries

    @property
    def root(self) -> Path:
        """The repository's main working tree."""
        return self.repo.root

    @property
    def worktree_root(self) -> Path:
        """Where this repository's agent worktrees live."""
        return self.spawner.worktree_root

    @property
    def pretrust(self) -> bool:
        """The repository's opt-in: write each CLI's trust record for new worktrees."""
        return read_pretrust(self.state_dir)

    def set_pretrust(self, on: bool) -> None:
        """Opt this repository in (or out) of pre-trusting agent worktrees."""
        write_pretrust(self.state_dir, on)

    def reload_settings(self) -> bool:
        """Read the configuration again (`config.toml`, `.quarterdeck.toml`): new agents,
        status tracking, answers, messages and auto-approve use it from now on. A file that
        fails to load keeps the settings in force and says why (`Profiles.problem`, on the rows
        of agents of a kind it would define). True when the settings changed."""
        try:
            settings = load_settings(self.repo.root)
        except Exception as exc:  # a bad file must not stop a running dashboard
            self.profiles.problem = f"configuration not loaded: {exc}"
            return False
        self.profiles.problem = ""
        if settings == self.settings:
            return False
        self.settings = settings
        self.profiles.update(settings.profiles, settings.default_agent)
        self.spawner.use(settings)
        self.autoapprove.use(settings.auto_approve)
        self.notifier.settings = settings.notify
        return True

    def reload(self) -> list[Agent]:
        """Re-read every agent from the store and publish the view."""
        return self.roster.reload()

    def agents(self) -> list[Agent]:
        """Every agent as last read or tracked."""
        return self.roster.agents()

    def get(self, name: str) -> Agent:
        """The agent called ``name`` or an `AgentNotFoundError` listing the ones there are."""
        return self.roster.named(name)

    def view(self) -> FleetView:
        """The latest view of the fleet."""
        return self.roster.view()

    def subscribe(self, callback: Callable[[FleetView], None]) -> None:
        """Call ``callback`` with every new view."""
        self.roster.subscribe(callback)

    def subscribe_alerts(self, callback: Callable[[Alert], None]) -> None:
        """Call ``callback`` when an agent starts waiting or finishes (if the bell is on)."""
        self.notifier.subscribe(callback)

    def refresh_view(self) -> None:
        """Publish the view again (a message moved on) and wake this process's engine."""
        self.roster.publish()
        self.wake()

    def set_notice(self, notice: str) -> None:
        """Say something about the engine itself in the view (empty to clear it)."""
        self.roster.set_notice(notice)

    @property
    def notice(self) -> str:
        """What the view says about the engine itself ('' for nothing)."""
        return self.roster.notice

    def kinds(self) -> list[str]:
        """Agent kinds, the default first."""
        return self.profiles.kinds()

    def default_base(self) -> str:
        """The branch checked out in the main tree."""
        return self.repo.current_branch()

    @property
    def return_key(self) -> str:
        """The key that returns from an agent's pane to the dashboard."""
        return self.settings.return_key

    def profile(self, kind: str) -> AgentProfile:
        """The profile of an agent kind, or a `UsageError` listing the known kinds."""
        return self.profiles.get(kind)

    def adapter(self, kind: str) -> AgentAdapter:
        """What Quarterdeck knows of the kind's CLI beyond its screen (`app.agents`)."""
        return self.profiles.adapter(kind)

    def pane_of(self, agent: Agent) -> PaneFacts | None:
        """The agent's pane, found by the agent id tmux carries for it (never by a bare %id)."""
        return self.panes.of(agent)

    # ----------------------------------------------------------------- spawning

    def spawn(self, request: SpawnRequest) -> list[Agent]:
        """Start ``request.count`` agents; all-or-nothing per agent, nothing left half-made."""
        return self.spawner.spawn(request)

    def unrecorded(self) -> Survey:
        """Agents whose worktree (and window) exist without a record (`Recovery.survey`)."""
        return self.recovery.survey(self.store)

    def take_back(self) -> Survey:
        """Record again every agent found without a record; what was found (and taken)."""
        with self._changes.held("take agents back"), self.roster.mutex:
            survey = self.recovery.survey(self.store)
            self.recovery.adopt(self.store, survey)
            self.roster.reload()
        return survey

    def restorable(self) -> list[Agent]:
        """Agents that were live when their window went away (their tmux server or session
        gone, or the window closed outside Quarterdeck): not stopped, not ended by themselves
        before, their worktree there."""
        panes = self.tmux.agent_panes() if self.tmux.is_running() else {}
        ended = (Status.EXITED, Status.FAILED)
        return [
            a
            for a in self.roster.reload()
            if not a.stopped
            and a.id not in panes
            and (a.shown.status not in ended or a.shown.evidence.endswith(PANE_GONE))
            and Path(a.checkout.worktree).is_dir()
        ]

    def restore(self, names: Sequence[str] = ()) -> list[Restored]:
        """Make the windows of the named restorable agents (all of them when none is named)
        again, each resuming its conversation where its CLI can (`Spawner.restore`); what
        became of each, in order."""
        live = {a.name: a for a in self.restorable()}
        return [self._restore_one(name, live.get(name)) for name in names or list(live)]

    def _restore_one(self, name: str, agent: Agent | None) -> Restored:
        if agent is None:
            known = self.store.get(name)
            if known is None:
                why = "no agent of that name is recorded"
            elif not Path(known.checkout.worktree).is_dir():
                why = "its worktree is gone"
            elif known.stopped:
                why = "it was stopped"
            elif known.shown.status in (Status.EXITED, Status.FAILED):
                why = f"it had {known.shown.status.value} by itself before its window went"
            else:
                why = "its window still runs"
            return Restored(name, RestoreOutcome.NOT_RESTORED, why)
        try:
            resumed = self.spawner.restore(agent)
        except QuarterdeckError as exc:
            return Restored(name, RestoreOutcome.NOT_RESTORED, str(exc))
        if resumed:
            return Restored(name, RestoreOutcome.RESUMED, f"conversation {agent.conversation}")
        why = (
            f"its conversation {agent.conversation} cannot be resumed: {agent.kind} has no "
            "resume Quarterdeck drives, or it is not this worktree's"
            if agent.conversation
            else "no conversation id was recorded"
        )
        return Restored(name, RestoreOutcome.FRESH, why)

    def doctor(self) -> Doctor:
        """What keeps each agent kind from running here as Quarterdeck expects (`Doctor`)."""
        return Doctor(
            self.profiles,
            hooks=self.hooks,
            repo_root=self.root,
            worktrees=self.worktree_root,
            pretrust=self.pretrust,
            python=self.python,
        )

    def hook_problems(self, kind: str) -> list[str]:
        """Why agents of ``kind`` would not run their hooks (`Spawner.hook_problems`)."""
        return self.spawner.hook_problems(kind)

    def ensure_session(self) -> None:
        """Create this repository's tmux session (window 0 waits for the dashboard)."""
        self.hosting.ensure_session()

    # ----------------------------------------------------------------- engine

    def sweep(self, now: float | None = None, *, deliver: bool = False) -> bool:
        """One look at every agent (`Sweep.sweep`); with ``deliver``, pending first prompts go
        to agents that became ready. True when anything visible changed."""
        return self.sweeper.sweep(now, deliver=deliver)

    def sweep_events(self) -> bool:
        """Fold waiting hook events into statuses at once, without reading screens."""
        return self.sweeper.sweep_events()

    # ----------------------------------------------------------------- prompts

    def recover_prompts(self) -> None:
        """Prompts left half-sent by a process that died are marked failed, not retyped."""
        self.prompts.recover()

    def send_and_verify(self, agent: Agent, profile: AgentProfile, text: str) -> bool:
        """Type ``text`` into an agent at its prompt and verify it took it."""
        return self.prompts.send_and_verify(agent, profile, text)

    # ----------------------------------------------------------------- stop / remove

    def stop(self, name: str) -> None:
        """End the agent's whole process tree, verified; its window stays with the last screen."""
        self.teardown.stop(name)

    def removal_risk(self, name: str) -> RemovalRisk:
        """What removing the agent would lose."""
        return self.teardown.removal_risk(name)

    def remove(self, name: str, *, discard_unmerged: bool, discard_changes: bool) -> str:
        """Stop the agent and remove its window, worktree and branch, keeping archive refs."""
        return self.teardown.remove(
            name, discard_unmerged=discard_unmerged, discard_changes=discard_changes
        )

    # ----------------------------------------------------------------- review

    def diff(self, name: str) -> AgentDiff:
        """What the agent changed against its base (cached while nothing changes)."""
        return self.diffs.diff(name)

    def comment(self, name: str, comment: Comment) -> Message:
        """Queue a review remark for the agent."""
        return self.comments.comment(name, comment)

    def run_check(self, name: str) -> None:
        """Start the check command in the agent's worktree, in the background."""
        self.checks.run_check(name)

    def cancel_check(self, name: str) -> None:
        """Stop the agent's running check (its whole process group)."""
        self.checks.cancel_check(name)

    def check(self, name: str) -> CheckResult | None:
        """The agent's latest check."""
        return self.checks.check(name)

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
        return self.landing.merge(name, strategy, force=force, update_worktree=update_worktree)

    def send_conflict(self, name: str) -> Message:
        """Send the agent its last merge conflict to resolve."""
        return self.landing.send_conflict(name)

    def push_branch(self, name: str) -> str:
        """Push the agent's branch and open a pull request (or say how)."""
        return self.publisher.push_branch(name)

    # ----------------------------------------------------------------- steering

    def answer(self, name: str, number: int, origin: str = "user") -> str:
        """Pick option ``number`` of the agent's dialog with the keys its CLI expects, verified.
        ``origin`` says who answered, in the agent's trail."""
        return self.answers.answer(name, number, origin)

    def send(self, names: Sequence[str], text: str, mode: MessageMode) -> list[Message]:
        """Queue a message for each named agent; the engine types and verifies it."""
        return self.outbox.send(names, text, mode)

    def interrupt(self, name: str) -> str:
        """Press the agent's interrupt key and verify its turn stopped (see
        `Answers.interrupt`); returns what was done."""
        return self.answers.interrupt(self.get(name))

    def reply(self, name: str, text: str) -> str:
        """Answer the agent's dialog in words (verified)."""
        return self.answers.reply(name, text)

    def messages(self, name: str | None = None, limit: int = 100) -> list[Message]:
        """The latest messages (to one agent, or to all), oldest first."""
        agent_id = self.get(name).id if name is not None else None
        return self.store.messages(agent_id, limit)

    def message(self, message_id: int) -> Message | None:
        """One message by id, as it is now."""
        return self.store.message(message_id)

    def latest_messages(self) -> dict[str, Message]:
        """Each agent's latest message, by agent id."""
        return self.store.latest_messages()

    def evidence(self, name: str) -> list[tuple[float, str, str]]:
        """The agent's trail: every status change and signal, oldest first."""
        return self.store.events(self.get(name).id)

    # ----------------------------------------------------------------- panes

    def capture(self, name: str) -> str:
        """The agent's screen with colours."""
        return self.panes.capture(self.get(name))

    def attach(self, name: str) -> list[str] | None:
        """Show the agent's pane: select its window when hosted, else give a command to run."""
        return self.panes.attach(self.get(name))

    # ----------------------------------------------------------------- tasks (`TaskRunner`)

    def tasks(self) -> list[Task]:
        """Every task, oldest first."""
        return self.runner.tasks()

    def task(self, ref: str) -> Task:
        """A task by name or number."""
        return self.runner.task(ref)

    def task_history(self, ref: str) -> list[TaskEvent]:
        """Every transition of a task."""
        return self.runner.task_history(ref)

    @property
    def max_running(self) -> int:
        """How many task attempts may run at once."""
        return self.runner.max_running

    def add_tasks(self, specs: Sequence[TaskSpec]) -> list[Task]:
        """Add tasks, all or none; the engine starts what may start."""
        return self.runner.add_tasks(specs)

    def edit_task(self, ref: str, spec: TaskSpec) -> Task:
        """Replace the spec of a task that has not started."""
        return self.runner.edit_task(ref, spec)

    def start_task(self, ref: str) -> Task:
        """Start a task over the concurrency cap."""
        return self.runner.start_task(ref)

    def retry_task(self, ref: str) -> Task:
        """Run a failed or cancelled task again."""
        return self.runner.retry_task(ref)

    def cancel_task(self, ref: str) -> Task:
        """Stop a task's agents and hold its dependents."""
        return self.runner.cancel_task(ref)

    def land_task(self, ref: str, attempt: int | None = None) -> str:
        """Keep one passed attempt (landed), discard the others (archived)."""
        return self.runner.land_task(ref, attempt)

    def compare_attempts(self, ref: str, first: int, second: int) -> str:
        """The diff from one attempt's branch to another's."""
        return self.runner.compare_attempts(ref, first, second)
