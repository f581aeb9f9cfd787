"""A fake of the tasks port: a board of tasks in memory, the real naming and graph rules for new
ones, every action recorded."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from app.core.errors import QuarterdeckError, UsageError
from app.core.tasks import (
    AgentChoice,
    Attempt,
    AttemptState,
    Caps,
    Round,
    Task,
    TaskEvent,
    TaskSpec,
    TaskState,
    name_tasks,
    validate_graph,
)
from tests.ui.fakes.rows import NOW
from tests.ui.fakes.views import FakeViews

#: What `compare_attempts` returns unless a test says otherwise.
ATTEMPTS_DIFF = """diff --git a/src/parser.py b/src/parser.py
index 1111111..2222222 100644
--- a/src/parser.py
+++ b/src/parser.py
@@ -1,3 +1,4 @@
 import re
-TOKEN = re.compile(r"\\w+")
+TOKEN = re.compile(r"[A-Za-z_]\\w*")
+NUMBER = re.compile(r"\\d+")
 def parse(text):
"""


@dataclass
class FakeTasks(FakeViews):
    """A TasksPort in memory; `task_error` makes the next action fail."""

    task_list: list[Task] = field(default_factory=list)
    #: Each task's history, by name.
    histories: dict[str, list[TaskEvent]] = field(default_factory=dict)
    running_cap: int = 2
    compare_text: str = ATTEMPTS_DIFF
    #: Raised by the next add, edit, start, retry, cancel, land or compare when set.
    task_error: QuarterdeckError | None = None
    tasks_added: list[TaskSpec] = field(default_factory=list)
    tasks_edited: list[tuple[str, TaskSpec]] = field(default_factory=list)
    tasks_started: list[str] = field(default_factory=list)
    tasks_retried: list[str] = field(default_factory=list)
    tasks_cancelled: list[str] = field(default_factory=list)
    tasks_landed: list[tuple[str, int | None]] = field(default_factory=list)
    attempts_compared: list[tuple[str, int, int]] = field(default_factory=list)
    #: How many times the board asked for the tasks.
    task_polls: int = 0

    def tasks(self) -> list[Task]:
        self.task_polls += 1
        return list(self.task_list)

    def task(self, ref: str) -> Task:
        number = ref.removeprefix("#")
        for task in self.task_list:
            if task.name == ref or (number.isdigit() and task.id == int(number)):
                return task
        listed = ", ".join(t.name for t in self.task_list) or "none"
        raise UsageError(f"no task {ref!r} (tasks: {listed})")

    def task_history(self, ref: str) -> list[TaskEvent]:
        return list(self.histories.get(self.task(ref).name, []))

    @property
    def max_running(self) -> int:
        return self.running_cap

    def add_tasks(self, specs: Sequence[TaskSpec]) -> list[Task]:
        self._task_error()
        names = name_tasks(specs, [t.name for t in self.task_list])
        validate_graph(dict(zip(names, specs, strict=True)), self.task_list)
        self.tasks_added.extend(specs)
        first = max((t.id for t in self.task_list), default=0) + 1
        new = [
            Task(
                first + i,
                name,
                spec,
                TaskState.BLOCKED if spec.after else TaskState.QUEUED,
                f"waits on {', '.join(spec.after)}" if spec.after else "waits for a free slot",
                created_at=NOW,
                attempts=tuple(Attempt(n, c) for n, c in enumerate(spec.attempts, 1)),
            )
            for i, (name, spec) in enumerate(zip(names, specs, strict=True))
        ]
        self.task_list.extend(new)
        return new

    def edit_task(self, ref: str, spec: TaskSpec) -> Task:
        self._task_error()
        task = self.task(ref)
        if task.started:
            raise UsageError(f"task {task.name!r} has started: it can no longer be edited")
        self.tasks_edited.append((task.name, spec))
        attempts = tuple(Attempt(n, c) for n, c in enumerate(spec.attempts, 1))
        return self._put(replace(task, spec=spec, attempts=attempts))

    def start_task(self, ref: str) -> Task:
        self._task_error()
        task = self.task(ref)
        self.tasks_started.append(task.name)
        return self._put(replace(task, start_now=True))

    def retry_task(self, ref: str) -> Task:
        self._task_error()
        task = self.task(ref)
        self.tasks_retried.append(task.name)
        return self._put(replace(task, state=TaskState.RUNNING, reason="retried", cancelled=False))

    def cancel_task(self, ref: str) -> Task:
        self._task_error()
        task = self.task(ref)
        self.tasks_cancelled.append(task.name)
        return self._put(
            replace(task, state=TaskState.CANCELLED, reason="cancelled", cancelled=True)
        )

    def land_task(self, ref: str, attempt: int | None = None) -> str:
        self._task_error()
        task = self.task(ref)
        self.tasks_landed.append((task.name, attempt))
        kept = task.attempt(attempt or 1)
        attempts = tuple(
            replace(a, state=AttemptState.KEPT if a is kept else AttemptState.DISCARDED)
            for a in task.attempts
        )
        self._put(replace(task, attempts=attempts, state=TaskState.LANDED, reason="landed"))
        others = [str(a.number) for a in task.attempts if a is not kept]
        return (
            f"Landed attempt {kept.number} of {task.name} in main; attempts "
            f"{', '.join(others)} discarded (archived)"
        )

    def compare_attempts(self, ref: str, first: int, second: int) -> str:
        self._task_error()
        task = self.task(ref)
        self.attempts_compared.append((task.name, first, second))
        return self.compare_text

    def _put(self, task: Task) -> Task:
        self.task_list = [task if t.name == task.name else t for t in self.task_list]
        return task

    def _task_error(self) -> None:
        error, self.task_error = self.task_error, None
        if error is not None:
            raise error


def _round(
    number: int, check: str, added: int, removed: int, files: int, seconds: float = 0.0
) -> Round:
    start = NOW - 600 + number * 120
    return Round(
        number,
        start,
        start + 100 if check else 0.0,
        check=check,
        check_seconds=seconds,
        check_exit=None if check in ("passed", "") else 1,
        added=added,
        removed=removed,
        files=files,
    )


def _attempt(
    number: int, kind: str, agent: str, state: AttemptState, *rounds: Round, reason: str = ""
) -> Attempt:
    return Attempt(
        number,
        AgentChoice(kind),
        state,
        agent_name=agent,
        agent_id=f"id-{agent}",
        branch=f"qd/{agent}",
        worktree=f"/tmp/wt/{agent}",
        started_at=NOW - 600,
        ended_at=rounds[-1].ended_at if rounds and state is not AttemptState.RUNNING else 0.0,
        rounds=rounds,
        reason=reason,
    )


def sample_tasks() -> list[Task]:
    """A board: a looping task at work (its agent is `fix-login-bug` of `twelve_rows`), one
    queued, one waiting on it, one with three finished attempts to compare (the second passed
    with a change ten times the first's), one that failed at its cap."""
    running = AttemptState.RUNNING
    return [
        Task(
            1,
            "fix-login-bug",
            TaskSpec(
                "Fix the login bug",
                "Users are logged out after a minute.\nFind out why and fix it.",
                check="pytest -q tests/test_login.py",
                caps=Caps(rounds=5, minutes=30),
            ),
            TaskState.RUNNING,
            "round 2 of 5: fix-login-bug works (round 1's check failed)",
            created_at=NOW - 900,
            attempts=(
                _attempt(
                    1,
                    "demo",
                    "fix-login-bug",
                    running,
                    _round(1, "failed", 10, 2, 1, 41.0),
                    _round(2, "", 12, 3, 1),
                ),
            ),
        ),
        Task(
            2,
            "add-tests",
            TaskSpec("Add tests for the cart"),
            TaskState.QUEUED,
            "waits for a free slot (2 of 2 running)",
            created_at=NOW - 800,
            attempts=(Attempt(1),),
        ),
        Task(
            3,
            "docs-update",
            TaskSpec("Update the docs", after=("fix-login-bug",), needs_landed=True),
            TaskState.BLOCKED,
            "waits on fix-login-bug running",
            created_at=NOW - 700,
            attempts=(Attempt(1),),
        ),
        Task(
            4,
            "pick-parser",
            TaskSpec(
                "Rewrite the parser",
                attempts=(AgentChoice("claude"), AgentChoice("codex"), AgentChoice("demo")),
                check="pytest -q",
            ),
            TaskState.PASSED,
            "2 of 3 attempts passed: keep one",
            created_at=NOW - 600,
            attempts=(
                _attempt(
                    1,
                    "claude",
                    "pick-parser-1",
                    AttemptState.PASSED,
                    _round(1, "passed", 40, 10, 2, 12.0),
                ),
                _attempt(
                    2,
                    "codex",
                    "pick-parser-2",
                    AttemptState.PASSED,
                    _round(1, "passed", 400, 100, 9, 15.0),
                ),
                _attempt(
                    3,
                    "demo",
                    "pick-parser-3",
                    AttemptState.FAILED,
                    _round(1, "failed", 5, 1, 1, 3.0),
                    reason="the check failed",
                ),
            ),
        ),
        Task(
            5,
            "flaky-ci",
            TaskSpec("Fix the flaky CI job", check="make ci", caps=Caps(rounds=3)),
            TaskState.FAILED,
            "stopped at the cap of 3 rounds: the check still fails",
            created_at=NOW - 500,
            attempts=(
                _attempt(
                    1,
                    "demo",
                    "flaky-ci",
                    AttemptState.FAILED,
                    *(_round(n, "failed", 3 * n, n, 1, 8.0) for n in (1, 2, 3)),
                    reason="stopped at the cap of 3 rounds: the check still fails",
                ),
            ),
        ),
    ]


def sample_history() -> dict[str, list[TaskEvent]]:
    """The first task's history."""
    return {
        "fix-login-bug": [
            TaskEvent(NOW - 900, "queued", "added"),
            TaskEvent(NOW - 600, "running", "started fix-login-bug", attempt=1, round=1),
            TaskEvent(NOW - 380, "running", "round 1's check failed; round 2 starts", 1, 2),
        ]
    }
