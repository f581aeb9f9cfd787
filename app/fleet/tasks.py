"""Tasks carried out: the human's to-do list, each task started as soon as its dependencies and
the concurrency cap allow, its agent's turns checked, looped with a fresh agent while the check
fails, attempts compared and one kept.

`TaskRunner.advance` is one of the engine's duties (only the process holding the engine lock
runs it): it follows every live attempt (the agent's status → the turn is over → the work is
committed → the check runs → passed, another round, or failed), asks the pure scheduler
(`app.core.tasks.schedule`) what starts now, and starts it. Every change of a task record is a
compare-and-set (`TaskTable.replace`), so a command that cancels, retries or lands a task from
another process and the engine never undo each other; an effect whose record could not be
written is found again on the next look (an attempt recorded as starting whose agent exists is
adopted, never started twice).

Why one long module: the runner's rounds (follow, check, loop, land) and the human's commands
on tasks (add, retry, cancel, keep one attempt) change the same records by the same rules, and
read best side by side.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from app.core.agent import Agent, PromptState, SpawnRequest
from app.core.checks import CheckResult, CheckState
from app.core.errors import QuarterdeckError, UsageError
from app.core.landing import MergeOutcome
from app.core.naming import branch_name
from app.core.rounds import (
    Verdict,
    after_check,
    overtime,
    round_prompt,
    round_summary,
    turn_over,
)
from app.core.scheduler import dependency_branches, schedule, task_state
from app.core.status import Status
from app.core.tasks import (
    ATTEMPT_ACTIVE,
    Attempt,
    AttemptState,
    Round,
    Task,
    TaskEvent,
    TaskSpec,
    TaskState,
    name_tasks,
    rank_attempts,
    validate_graph,
)
from app.fleet.checks import CheckRunner
from app.infra.git import Repository
from app.infra.settings import Settings
from app.infra.task_table import TaskTable

#: How often a record is read again and the change applied anew when another process wrote it
#: in between (a command's change of a task the engine is also writing).
CAS_TRIES = 20
#: How often a round whose prompt did not reach its agent gets a fresh agent before it fails.
REDELIVERIES = 3
#: How often, at most, a round's tokens are looked up while it runs under a token cap.
TOKENS_POLL_SECONDS = 5.0


def task_label(task: Task, attempt: Attempt) -> str:
    """What an agent carries (`Agent.task`): the task's name, with ``#n`` for one of several
    attempts."""
    return task.name if len(task.attempts) == 1 else f"{task.name}#{attempt.number}"


def _started(attempt: Attempt, now: float) -> TaskEvent:
    """The event that says a running attempt's agent was started (or adopted)."""
    number = attempt.round.number if attempt.round else 1
    reason = f"started {attempt.agent_name} from {attempt.start_commit[:7]}"
    return TaskEvent(now, "running", reason, attempt.number, number)


class TaskRunner:
    """Every task of one repository: the human's commands on them, and the engine's duty."""

    def __init__(
        self,
        repo: Repository,
        table: TaskTable,
        *,
        agents: Callable[[], list[Agent]],
        agent_names: Callable[[], list[str]],
        spawn: Callable[[SpawnRequest], list[Agent]],
        restart: Callable[[Agent, str, str, Sequence[str]], Agent],
        stop: Callable[[str], None],
        remove: Callable[[str], str],
        checks: CheckRunner,
        merge: Callable[[str], MergeOutcome],
        check_kind: Callable[[str], object],
        settings: Callable[[], Settings],
        default_base: Callable[[], str],
        clock: Callable[[], float],
        on_change: Callable[[], None],
        tokens: Callable[[Agent, float], int | None],
        trail: Callable[[str, float], list[tuple[float, str, str]]],
        submitted: Callable[[str, float, str], bool] = lambda _id, _since, _text: False,
    ) -> None:
        """``agents`` are the agents as tracked now, ``agent_names`` every stored name;
        ``restart`` gives an agent a fresh process in its worktree (prompt, model, flags);
        ``remove`` removes an agent, archiving its work; ``merge`` lands an agent's branch;
        ``check_kind`` raises a `UsageError` for an unknown agent kind; ``tokens`` says how
        many tokens an agent's CLI used in sessions started since a time (None: unknown);
        ``trail`` is an agent's trail (time, status, evidence) since a time; ``submitted``
        says whether an agent's CLI reported taking a text (its prompt-submitted hook) since a
        time."""
        self._repo = repo
        self._table = table
        self._agents = agents
        self._agent_names = agent_names
        self._spawn = spawn
        self._restart = restart
        self._stop = stop
        self._remove = remove
        self._checks = checks
        self._merge = merge
        self._check_kind = check_kind
        self._settings = settings
        self._default_base = default_base
        self._clock = clock
        self._on_change = on_change
        self._tokens = tokens
        self._trail = trail
        self._submitted = submitted
        #: Why a task's dependencies do not merge, by (task, base tip, dependency tips).
        self._conflicts: dict[tuple[str, str, tuple[str, ...]], str] = {}
        #: When each agent's tokens were last looked up.
        self._tokens_looked: dict[str, float] = {}

    # ------------------------------------------------------------------ queries

    def tasks(self) -> list[Task]:
        """Every task, oldest first, as last written."""
        return self._table.all()

    def task(self, ref: str) -> Task:
        """A task by name or number (``3``, ``#3``), or a `UsageError` listing the tasks."""
        text = ref.strip()
        number = text.removeprefix("#")
        found = self._table.by_id(int(number)) if number.isdigit() else self._table.get(text)
        if found is None:
            names = ", ".join(f"#{t.id} {t.name}" for t in self._table.all()) or "none"
            raise UsageError(f"no task {ref!r} (tasks: {names})")
        return found

    def task_history(self, ref: str) -> list[TaskEvent]:
        """Every transition of the task, oldest first."""
        return self._table.history(self.task(ref).id)

    @property
    def max_running(self) -> int:
        """How many task attempts may run at once in this repository."""
        return self._settings().max_running

    def task_check(self, agent: Agent) -> str:
        """The check of the task ``agent`` carries out ('' for none, or when it has none of its
        own: the repository's check then applies)."""
        if not agent.task:
            return ""
        task = self._table.get(agent.task.partition("#")[0])
        return task.spec.check.strip() if task is not None else ""

    # ------------------------------------------------------------------ the human's commands

    def add_tasks(self, specs: Sequence[TaskSpec]) -> list[Task]:
        """Add tasks, all or none: names made unique, dependencies (by name) known and free of
        cycles, agent kinds known, the base resolved now (a branch). The engine starts them."""
        if not specs:
            raise UsageError("no tasks to add")
        existing = self._table.all()
        names = name_tasks(specs, [t.name for t in existing])
        by_name = dict(zip(names, specs, strict=True))
        validate_graph(by_name, existing)
        default_base = ""
        tasks = []
        for name, spec in by_name.items():
            for choice in spec.attempts:
                if choice.kind:
                    self._check_kind(choice.kind)
            base = spec.base.strip()
            if not base:
                default_base = default_base or self._default_base()
                base = default_base
            if not self._repo.branch_exists(base):
                raise UsageError(f"task {name!r}: base {base!r} is not a local branch")
            attempts = tuple(Attempt(n, choice) for n, choice in enumerate(spec.attempts, 1))
            state = TaskState.BLOCKED if spec.after else TaskState.QUEUED
            tasks.append(
                Task(
                    id=0,
                    name=name,
                    spec=replace(spec, base=base, name=name),
                    state=state,
                    reason="waits on " + ", ".join(spec.after) if spec.after else "added",
                    attempts=attempts,
                )
            )
        added = self._table.insert(tasks)
        self._on_change()
        return added

    def edit_task(self, ref: str, spec: TaskSpec) -> Task:
        """Replace the spec of a task that has not started (its name stays)."""
        task = self.task(ref)
        if task.started:
            raise UsageError(f"task {task.name!r} has started; cancel it or add a new task")
        others = [t for t in self._table.all() if t.id != task.id]
        validate_graph({task.name: spec}, others)
        for choice in spec.attempts:
            if choice.kind:
                self._check_kind(choice.kind)
        base = spec.base.strip() or task.spec.base

        def change(t: Task) -> Task:
            if t.started:
                raise UsageError(f"task {t.name!r} has started meanwhile; nothing was changed")
            attempts = tuple(Attempt(n, c) for n, c in enumerate(spec.attempts, 1))
            return replace(t, spec=replace(spec, name=t.name, base=base), attempts=attempts)

        return self._update(task, change, "edited")

    def start_task(self, ref: str) -> Task:
        """Start the task as soon as its dependencies allow, over the concurrency cap."""
        task = self.task(ref)
        if task.state in (TaskState.PASSED, TaskState.LANDED, TaskState.CANCELLED):
            raise UsageError(f"task {task.name!r} is {task.state.value}; nothing to start")
        return self._update(task, lambda t: replace(t, start_now=True), "start now (over the cap)")

    def retry_task(self, ref: str) -> Task:
        """Run a failed or cancelled task again: each attempt that did not pass starts anew
        (in its own worktree, with a fresh agent and its caps again; the work so far is kept)."""
        task = self.task(ref)
        again = (AttemptState.FAILED, AttemptState.CANCELLED)
        if not any(a.state in again for a in task.attempts) and not task.cancelled:
            raise UsageError(
                f"task {task.name!r} is {task.state.value}: only a failed or cancelled task "
                "is retried"
            )

        def change(t: Task) -> Task:
            attempts = tuple(
                replace(
                    a,
                    state=AttemptState.WAITING,
                    reason="",
                    ended_at=0.0,
                    budget_round=len(a.rounds),
                    budget_since=0.0,
                )
                if a.state in again or (t.cancelled and a.state is AttemptState.WAITING)
                else a
                for a in t.attempts
            )
            return replace(t, cancelled=False, attempts=attempts, reason="retried")

        return self._update(task, change, "retried")

    def cancel_task(self, ref: str) -> Task:
        """Stop the task's agents (their work stays in their worktrees) and hold its
        dependents."""
        task = self.task(ref)
        if task.state in (TaskState.LANDED, TaskState.CANCELLED):
            raise UsageError(f"task {task.name!r} is already {task.state.value}")
        for attempt in task.attempts:
            if attempt.state in ATTEMPT_ACTIVE and attempt.agent_name:
                self._end_agent(attempt.agent_name, cancel_check=True)

        def change(t: Task) -> Task:
            now = self._clock()
            attempts = tuple(
                replace(a, state=AttemptState.CANCELLED, reason="cancelled", ended_at=now)
                if a.state in ATTEMPT_ACTIVE or a.state is AttemptState.WAITING
                else a
                for a in t.attempts
            )
            return replace(t, cancelled=True, attempts=attempts, reason="cancelled by you")

        return self._update(task, change, "cancelled by you")

    def land_task(self, ref: str, attempt: int | None = None) -> str:
        """Keep one passed attempt: land its branch in the task's base (the checkout that has
        the base is brought forward, its uncommitted changes kept), then remove the other
        attempts' agents, keeping their work under archive refs."""
        task = self.task(ref)
        chosen = self._chosen(task, attempt)
        outcome = self._merge(chosen.agent_name)
        if not outcome.merged:
            raise QuarterdeckError(
                outcome.message or f"{chosen.agent_name} did not land in {task.spec.base}"
            )
        said = [outcome.message or f"landed {chosen.agent_name} in {task.spec.base}"]
        archived: dict[int, tuple[str, ...]] = {}
        for other in task.attempts:
            if other.number == chosen.number or not other.agent_name:
                continue
            if other.agent_name in self._agent_names():
                text = self._remove(other.agent_name)
                said.append(text)
                kept = text.partition("; kept ")[2]
                archived[other.number] = tuple(kept.split(", ")) if kept else ()

        def change(t: Task) -> Task:
            attempts = tuple(
                replace(a, state=AttemptState.KEPT, reason="kept and landed")
                if a.number == chosen.number
                else replace(
                    a,
                    state=AttemptState.DISCARDED,
                    reason=f"attempt {chosen.number} was kept",
                    archive=archived.get(a.number, a.archive),
                )
                if a.state is not AttemptState.WAITING or a.agent_name
                else replace(a, state=AttemptState.CANCELLED, reason="another attempt was kept")
                for a in t.attempts
            )
            return replace(t, attempts=attempts)

        self._update(task, change, f"attempt {chosen.number} kept and landed")
        return "; ".join(said)

    def _chosen(self, task: Task, number: int | None) -> Attempt:
        """The attempt to keep: the one named, or the only one that passed."""
        passed = [a for a in task.attempts if a.state is AttemptState.PASSED]
        if number is not None:
            chosen = task.attempt(number)
            if chosen.state is not AttemptState.PASSED:
                raise UsageError(
                    f"attempt {number} of {task.name!r} is {chosen.state.value}: only an "
                    "attempt whose check passed is kept"
                )
            return chosen
        if len(passed) == 1:
            return passed[0]
        if not passed:
            raise UsageError(f"no attempt of {task.name!r} has passed its check; nothing to land")
        ranked = ", ".join(str(a.number) for a in rank_attempts(passed))
        raise UsageError(
            f"{len(passed)} attempts of {task.name!r} passed; choose one with --attempt N "
            f"(best first: {ranked})"
        )

    def compare_attempts(self, ref: str, first: int, second: int) -> str:
        """The diff from one attempt's branch to another's."""
        task = self.task(ref)
        a, b = task.attempt(first), task.attempt(second)
        for attempt in (a, b):
            if not attempt.branch or not self._repo.branch_exists(attempt.branch):
                raise UsageError(f"attempt {attempt.number} of {task.name!r} has no branch")
        return self._repo.run("diff", "--no-color", a.branch, b.branch)

    # ------------------------------------------------------------------ the engine's duty

    def advance(self) -> bool:
        """One look at every task: follow each live attempt, start what may start, and write
        each task's state. True when any task changed."""
        tasks = self._table.all()
        if not tasks:
            return False
        changed = False
        agents = {a.id: a for a in self._agents()}
        now = self._clock()
        current: list[Task] = []
        for task in tasks:
            new, events = self._follow(task, agents, now)
            derived = task_state(new)
            if derived is not None and (new.state, new.reason) != derived:
                said = {e.state for e in events}
                if derived[0] is not task.state and derived[0].value not in said:
                    events.append(TaskEvent(now, derived[0].value, derived[1]))
                new = replace(new, state=derived[0], reason=derived[1], updated_at=now)
            written = self._write(task, new, events)
            changed |= written is not task
            current.append(written)
        current = self._restarts(current, now)
        plan = schedule(current, self.max_running)
        by_name = {t.name: t for t in current}
        held: dict[str, str] = {}
        for name, number in plan.starts:
            task = by_name[name]
            started, why = self._start(task, task.attempt(number), current)
            if why:
                held[name] = why
            by_name[name] = started
            current = [started if t.name == name else t for t in current]
            changed = True
        current = self._restarts(current, now)
        states = {t.name: task_state(t) for t in current}
        waiting = plan.waiting
        if plan.starts:
            # Why the rest waits, said of the graph as it is now: a dependency just started runs.
            now_shown = [
                replace(t, state=d[0], reason=d[1]) if (d := states[t.name]) else t for t in current
            ]
            waiting = schedule(now_shown, self.max_running).waiting
        for task in current:
            state = states[task.name]
            if state is None:
                state = (TaskState.BLOCKED, held[task.name]) if task.name in held else None
                state = state or waiting.get(task.name)
            if state is None or (task.state, task.reason) == state:
                continue
            new = replace(task, state=state[0], reason=state[1], updated_at=now)
            events = [TaskEvent(now, state[0].value, state[1])] if state[0] != task.state else []
            changed |= self._write(task, new, events) is not task
        if changed:
            self._on_change()
        return changed

    def _follow(
        self, task: Task, agents: dict[str, Agent], now: float
    ) -> tuple[Task, list[TaskEvent]]:
        """Task with each of its live attempts followed one step."""
        events: list[TaskEvent] = []
        new = task
        for attempt in task.attempts:
            if attempt.state not in ATTEMPT_ACTIVE or task.cancelled or attempt.restart:
                continue  # a round whose fresh agent is due is started first (`_restarts`)
            followed, said = self._follow_attempt(new, attempt, agents, now)
            new = new.with_attempt(followed)
            events += said
        return new, events

    def _follow_attempt(
        self, task: Task, attempt: Attempt, agents: dict[str, Agent], now: float
    ) -> tuple[Attempt, list[TaskEvent]]:
        def say(state: str, reason: str) -> TaskEvent:
            number = attempt.round.number if attempt.round else 0
            return TaskEvent(now, state, reason, attempt.number, number)

        if attempt.state is AttemptState.STARTING:
            adopted = self._adopt(task, attempt, now)
            if adopted.state is not AttemptState.RUNNING:
                return adopted, []
            # The process that made the agent ended before it said so: said now, once.
            return adopted, [_started(adopted, now)]
        agent = agents.get(attempt.agent_id)
        if agent is None:
            why = f"its agent {attempt.agent_name} was removed"
            return self._end(attempt, AttemptState.FAILED, why, now), [say("failed", why)]
        if agent.stopped and attempt.state is not AttemptState.CHECKING:
            why = f"you stopped {agent.name}: retry the task to go on"
            return self._end(attempt, AttemptState.FAILED, why, now), [say("failed", why)]
        if attempt.state is AttemptState.CHECKING:
            return self._follow_check(task, attempt, agent, now, say)
        if task.spec.caps.tokens:
            attempt = self._with_tokens(attempt, agent, now)
        over = overtime(task.spec, attempt, now)
        if over:
            self._end_agent(agent.name)
            return self._end(attempt, AttemptState.FAILED, over, now), [say("failed", over)]
        if agent.prompt_state is PromptState.FAILED:
            if attempt.redelivered < REDELIVERIES:
                # Typing it again could submit it twice: a fresh agent gets it instead.
                why = f"its prompt did not reach {agent.name}; a fresh agent gets it"
                again = replace(attempt, restart=True, redelivered=attempt.redelivered + 1)
                return again, [say("running", why)]
            why = f"its prompt was not delivered to {agent.name}: attach, type it, then retry"
            return self._end(attempt, AttemptState.FAILED, why, now), [say("failed", why)]
        status = agent.shown.status
        # A turn too quick to be seen at work still began: its CLI's hook said it took the
        # round's prompt.
        began = attempt.round.started_at if attempt.round else attempt.started_at
        worked = (
            attempt.worked
            or status in (Status.WORKING, Status.NEEDS_INPUT)
            or (agent.started and self._submitted(agent.id, began, agent.prompt))
        )
        followed = replace(attempt, worked=worked)
        if status is Status.NEEDS_INPUT:
            if attempt.state is not AttemptState.NEEDS_INPUT:
                question = agent.shown.question or agent.shown.detail or "a question"
                return replace(followed, state=AttemptState.NEEDS_INPUT), [
                    say("needs_input", f"{agent.name} waits for you: {question}")
                ]
            return followed, []
        if attempt.state is AttemptState.NEEDS_INPUT:
            followed = replace(followed, state=AttemptState.RUNNING)
        hook_said = status is Status.IDLE and followed.worked and self._idle_by_hook(agent)
        if not turn_over(
            status,
            agent.shown.since,
            now,
            started=agent.started,
            worked=followed.worked,
            hook_said=hook_said,
        ):
            return followed, []
        if status in (Status.EXITED, Status.FAILED) and not followed.worked:
            why = f"{agent.name} {status.value} before it did any work: see its last screen"
            return self._end(followed, AttemptState.FAILED, why, now), [say("failed", why)]
        return self._end_turn(task, followed, agent, now, say)

    def _end_turn(
        self,
        task: Task,
        attempt: Attempt,
        agent: Agent,
        now: float,
        say: Callable[[str, str], TaskEvent],
    ) -> tuple[Attempt, list[TaskEvent]]:
        """The turn is over: commit the round's work, then run the check (or, with none set,
        take the turn's end as the result)."""
        attempt = self._with_tokens(attempt, agent, now, force=True)
        last = attempt.round or Round(1, attempt.started_at or now)
        number = last.number
        worktree = Path(agent.checkout.worktree)
        try:
            message = f"quarterdeck: {task.name}, round {number}"
            commit = self._repo.commit_all(worktree, message) or self._repo.run(
                "rev-parse", "HEAD", cwd=worktree
            )
        except QuarterdeckError as exc:
            why = f"could not commit round {number}'s work: {exc}"
            return self._end(attempt, AttemptState.FAILED, why, now), [say("failed", why)]
        ended = replace(last, ended_at=now, commit=commit)
        attempt = replace(attempt, rounds=(*attempt.rounds[:-1], ended))
        checking = replace(attempt, state=AttemptState.CHECKING)
        event = say("checking", f"round {number}'s turn ended; running the check")
        return self._run_check(task, checking, agent, now, say, [event])

    def _run_check(
        self,
        task: Task,
        checking: Attempt,
        agent: Agent,
        now: float,
        say: Callable[[str, str], TaskEvent],
        events: list[TaskEvent],
    ) -> tuple[Attempt, list[TaskEvent]]:
        """Start the round's check (``checking`` follows it); with no check set, the turn's end
        is the round's result."""
        try:
            self._checks.run_check(agent.name)
        except UsageError:
            if self._command_of(agent):
                return checking, events  # a check of the agent's runs already: its end counts
            return self._verdict(task, checking, agent, None, now, say)
        except QuarterdeckError as exc:
            why = f"the check could not start: {exc}"
            return self._end(checking, AttemptState.FAILED, why, now), [say("failed", why)]
        return checking, events

    def _follow_check(
        self,
        task: Task,
        attempt: Attempt,
        agent: Agent,
        now: float,
        say: Callable[[str, str], TaskEvent],
    ) -> tuple[Attempt, list[TaskEvent]]:
        last = attempt.round
        result = self._checks.check(agent.name)
        mine = result is not None and last is not None and result.started_at >= last.ended_at - 1.0
        if result is None or not mine or result.state is CheckState.CANCELLED:
            # Not run for this round, or ended with the process that ran it: run it again.
            return self._run_check(task, attempt, agent, now, say, [])
        if not result.final:
            return attempt, []
        return self._verdict(task, attempt, agent, result, now, say)

    def _verdict(
        self,
        task: Task,
        attempt: Attempt,
        agent: Agent,
        result: CheckResult | None,
        now: float,
        say: Callable[[str, str], TaskEvent],
    ) -> tuple[Attempt, list[TaskEvent]]:
        """The round's result written, then: passed, another round, or failed."""
        last = attempt.round or Round(1, attempt.started_at or now)
        added, removed, files = self._size(attempt, agent)
        checked = replace(
            last,
            ended_at=last.ended_at or now,
            check="none" if result is None else result.state.value,
            check_seconds=result.duration if result else 0.0,
            check_exit=result.exit_code if result else None,
            check_tail=result.tail[-4000:] if result else "",
            added=added,
            removed=removed,
            files=files,
        )
        attempt = replace(attempt, rounds=(*attempt.rounds[:-1], checked))
        passed = None if result is None else result.state is CheckState.PASSED
        verdict, why = after_check(task.spec, attempt, passed, now)
        done = say(checked.check, round_summary(checked))
        if verdict is Verdict.PASSED:
            attempt = self._end(attempt, AttemptState.PASSED, why, now)
            events = [done, say("passed", why)]
            if task.spec.land:
                attempt, landed = self._land_now(task, attempt, now)
                events.append(say(attempt.state.value, landed))
            return attempt, events
        if verdict is Verdict.FAILED:
            return self._end(attempt, AttemptState.FAILED, why, now), [done, say("failed", why)]
        fresh = Round(checked.number + 1, now)
        attempt = replace(
            attempt,
            state=AttemptState.RUNNING,
            rounds=(*attempt.rounds, fresh),
            worked=False,
            redelivered=0,
            restart=True,
        )
        return attempt, [done, say("running", why)]

    def _land_now(self, task: Task, attempt: Attempt, now: float) -> tuple[Attempt, str]:
        """A task that lands by itself: its passed attempt landed now (or why not)."""
        try:
            outcome = self._merge(attempt.agent_name)
        except QuarterdeckError as exc:
            return replace(attempt, reason=f"passed; not landed: {exc}"), f"not landed: {exc}"
        if not outcome.merged:
            said = outcome.message or "it did not land"
            return replace(attempt, reason=f"passed; not landed: {said}"), f"not landed: {said}"
        said = outcome.message or f"landed in {task.spec.base}"
        return replace(attempt, state=AttemptState.KEPT, reason=said), said

    def _with_tokens(
        self, attempt: Attempt, agent: Agent, now: float, *, force: bool = False
    ) -> Attempt:
        """The attempt with its round's tokens as the agent's CLI reports them so far: looked
        up at most every `TOKENS_POLL_SECONDS` unless ``force`` (the turn ended)."""
        last = attempt.round
        if last is None or (
            not force and now - self._tokens_looked.get(agent.id, 0.0) < TOKENS_POLL_SECONDS
        ):
            return attempt
        self._tokens_looked[agent.id] = now
        used = self._tokens(agent, last.started_at)
        if used is None or used == last.tokens:
            return attempt
        return replace(attempt, rounds=(*attempt.rounds[:-1], replace(last, tokens=used)))

    def _size(self, attempt: Attempt, agent: Agent) -> tuple[int, int, int]:
        """The attempt's whole change: lines added, removed, files, since it started."""
        start = attempt.start_commit or agent.checkout.base_commit
        try:
            head = self._repo.run("rev-parse", "HEAD", cwd=Path(agent.checkout.worktree))
            return self._repo.change_size(start, head)
        except QuarterdeckError:
            return 0, 0, 0

    def _idle_by_hook(self, agent: Agent) -> bool:
        """The agent's CLI said through a hook that its turn ended, since it last went idle."""
        since = agent.shown.since - 1.0
        return any(
            status == Status.IDLE.value and evidence.startswith("hook:")
            for _, status, evidence in self._trail(agent.id, since)
        )

    def _end(self, attempt: Attempt, state: AttemptState, why: str, now: float) -> Attempt:
        return replace(attempt, state=state, reason=why, ended_at=now)

    def _end_agent(self, name: str, *, cancel_check: bool = False) -> None:
        """Stop an agent of a task (best effort: it may be gone already)."""
        if cancel_check:
            with contextlib.suppress(QuarterdeckError):
                self._checks.cancel_check(name)
        with contextlib.suppress(QuarterdeckError):
            self._stop(name)

    # ------------------------------------------------------------------ starting

    def _adopt(self, task: Task, attempt: Attempt, now: float) -> Attempt:
        """An attempt recorded as starting by a process that did not record more: its agent,
        when it was made, is adopted; otherwise it waits to be started again."""
        label = task_label(task, attempt)
        for agent in self._agents():
            if agent.name == attempt.agent_name and agent.task == label:
                return self._running(attempt, agent, now)
        return replace(attempt, state=AttemptState.WAITING)

    def _running(self, attempt: Attempt, agent: Agent, now: float) -> Attempt:
        return replace(
            attempt,
            state=AttemptState.RUNNING,
            agent_id=agent.id,
            agent_name=agent.name,
            branch=agent.checkout.branch,
            worktree=agent.checkout.worktree,
            start_commit=agent.checkout.base_commit,
            started_at=attempt.started_at or now,
            budget_since=attempt.budget_since or now,
            rounds=(*attempt.rounds, Round(attempt.round.number + 1 if attempt.round else 1, now)),
            worked=False,
            redelivered=0,
        )

    def _start(self, task: Task, attempt: Attempt, tasks: list[Task]) -> tuple[Task, str]:
        """Start one attempt (a retried one gets a fresh agent in its worktree). Returns the
        task as written, and why it could not start when it could not."""
        now = self._clock()
        agents = {a.id: a for a in self._agents()}
        if attempt.agent_id in agents:
            return self._resume(task, attempt, now), ""
        start, why = self._start_point(task, tasks)
        if why:
            return task, why
        name = self._agent_name(task, attempt)
        intent = task.with_attempt(replace(attempt, state=AttemptState.STARTING, agent_name=name))
        intent = replace(intent, start_now=False, updated_at=now)
        written = self._write(task, intent, [])
        if written is task:
            return task, ""  # changed by another process meanwhile: looked at again next tick
        choice = attempt.choice
        request = SpawnRequest(
            prompt=task.spec.text,
            kind=choice.kind or self._settings().default_agent,
            name=name,
            base=task.spec.base,
            start_point=start,
            model=choice.model,
            args=choice.flags,
            task=task_label(task, attempt),
        )
        try:
            (agent,) = self._spawn(request)
        except QuarterdeckError as exc:
            failed = written.with_attempt(
                self._end(
                    written.attempt(attempt.number),
                    AttemptState.FAILED,
                    f"its agent could not start: {exc}",
                    now,
                )
            )
            event = TaskEvent(now, "failed", f"could not start: {exc}", attempt.number)
            return self._write(written, failed, [event]), ""
        running = self._running(written.attempt(attempt.number), agent, now)
        return self._write(written, written.with_attempt(running), [_started(running, now)]), ""

    def _resume(self, task: Task, attempt: Attempt, now: float) -> Task:
        """A retried attempt: its next round recorded, with a fresh agent due in the worktree
        it has (`_restarts` starts it)."""
        number = (attempt.round.number + 1) if attempt.round else 1
        resumed = replace(
            attempt,
            state=AttemptState.RUNNING,
            rounds=(*attempt.rounds, Round(number, now)),
            budget_since=now,
            worked=False,
            redelivered=0,
            restart=True,
            started_at=attempt.started_at or now,
        )
        event = TaskEvent(now, "running", f"round {number} starts", attempt.number, number)
        return self._write(task, replace(task.with_attempt(resumed), start_now=False), [event])

    def _restarts(self, tasks: list[Task], now: float) -> list[Task]:
        """Start the fresh agent of every round recorded as due one (recorded first, so a
        process killed in between starts it on its next look, and never starts it twice)."""
        agents = {a.id: a for a in self._agents()}
        result = []
        for task in tasks:
            for attempt in task.attempts:
                if not attempt.restart or attempt.state is not AttemptState.RUNNING:
                    continue
                agent = agents.get(attempt.agent_id)
                done = replace(attempt, restart=False)
                try:
                    if agent is None:
                        raise QuarterdeckError(f"its agent {attempt.agent_name} was removed")
                    before = replace(attempt, rounds=attempt.rounds[:-1])
                    prompt = round_prompt(task.spec, before, self._command_of(agent))
                    self._restart(agent, prompt, attempt.choice.model, attempt.choice.flags)
                except QuarterdeckError as exc:
                    number = attempt.round.number if attempt.round else 1
                    done = self._end(
                        done, AttemptState.FAILED, f"round {number} could not start: {exc}", now
                    )
                task = self._write(task, task.with_attempt(done), [])
            result.append(task)
        return result

    def _command_of(self, agent: Agent) -> str:
        try:
            return self._checks.check_command(agent)
        except UsageError:
            return ""

    def _start_point(self, task: Task, tasks: list[Task]) -> tuple[str, str]:
        """The commit a new attempt starts from: its base's tip with the work of its unlanded
        dependencies merged in (a fast-forward when one holds the other; a merge commit made
        without touching any worktree otherwise), or why it cannot (their work conflicts:
        remembered for those tips, so a held task costs no merge per look)."""
        start = self._repo.resolve(task.spec.base)
        branches = dependency_branches(task, tasks)
        for branch in branches:
            if not self._repo.branch_exists(branch):
                return "", f"held: the branch {branch} of a dependency is gone"
        tips = tuple(self._repo.resolve(branch) for branch in branches)
        known = self._conflicts.get((task.name, start, tips))
        if known:
            return "", known
        for branch, tip in zip(branches, tips, strict=True):
            if self._repo.is_ancestor(tip, start):
                continue
            if self._repo.is_ancestor(start, tip):
                start = tip
                continue
            tree, conflicts = self._repo.merge_tree(start, tip)
            if conflicts:
                listed = ", ".join(conflicts[:5])
                why = (
                    f"held: its dependencies' work conflicts ({branch} in {listed}): it starts "
                    "once they merge cleanly (bring one up to date with the other, or land one "
                    "and rebase the other)"
                )
                self._conflicts[(task.name, self._repo.resolve(task.spec.base), tips)] = why
                return "", why
            message = f"quarterdeck: start of task {task.name} (merge of {branch})\n"
            start = self._repo.commit_tree(
                tree, [start, tip], message, self._repo.identity(self._repo.root)
            )
        return start, ""

    def _agent_name(self, task: Task, attempt: Attempt) -> str:
        """A free agent name for an attempt: the task's (``-n`` for one of several), with a
        number added while an agent or a branch has it."""
        stem = task.name if len(task.attempts) == 1 else f"{task.name}-{attempt.number}"
        taken = set(self._agent_names())
        prefix = self._settings().branch_prefix
        name, n = stem, 2
        while name in taken or self._repo.branch_exists(branch_name(prefix, name)):
            name, n = f"{stem}-r{n}", n + 1
        return name

    # ------------------------------------------------------------------ writing

    def _write(self, old: Task, new: Task, events: Sequence[TaskEvent]) -> Task:
        """Write ``new`` over ``old`` (compare-and-set); ``old`` when nothing needed writing or
        another process changed the record first (the next look starts from what it wrote)."""
        if new == old and not events:
            return old
        if self._table.replace(new, old, list(events)):
            return new
        return old

    def _update(self, task: Task, change: Callable[[Task], Task], reason: str) -> Task:
        """Apply a command's ``change`` to the task as stored, again while another process
        writes it in between; logged with ``reason``."""
        for _ in range(CAS_TRIES):
            current = self._table.by_id(task.id)
            if current is None:
                raise UsageError(f"task {task.name!r} is gone")
            new = replace(change(current), updated_at=self._clock())
            state = task_state(new)
            if state is not None:
                new = replace(new, state=state[0], reason=state[1])
            event = TaskEvent(new.updated_at, new.state.value, reason)
            if self._table.replace(new, current, [event]):
                self._on_change()
                return new
        raise QuarterdeckError(f"task {task.name!r} kept changing; try again")
