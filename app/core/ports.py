"""The interfaces the UI drives the fleet through, one small port per feature.

The UI depends on these, never on the fleet's modules. Each screen receives only the port it
uses; `FleetPort` combines them for the app's constructor (the real `Fleet` implements all of
them). Blocking methods are called from thread workers only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from app.core.agent import Agent, SpawnRequest
from app.core.alerts import Alert
from app.core.checks import CheckResult
from app.core.diff import AgentDiff, Comment
from app.core.landing import MergeOutcome, MergeStrategy
from app.core.messages import Message, MessageMode
from app.core.tasks import Task, TaskEvent, TaskSpec
from app.core.views import FleetView


@dataclass(frozen=True)
class RemovalRisk:
    """What removing an agent would throw away; empty means nothing is lost."""

    name: str
    branch: str
    base: str
    unmerged_commits: int
    changed_files: tuple[str, ...]

    @property
    def safe(self) -> bool:
        """True when removal loses no commit and no uncommitted or untracked change."""
        return self.unmerged_commits == 0 and not self.changed_files

    def describe(self) -> str:
        """A sentence naming exactly what would be lost."""
        parts = []
        if self.unmerged_commits:
            s = "s" if self.unmerged_commits != 1 else ""
            parts.append(f"{self.unmerged_commits} commit{s} on {self.branch} not in {self.base}")
        if self.changed_files:
            n = len(self.changed_files)
            s = "s" if n != 1 else ""
            parts.append(f"{n} uncommitted or untracked file{s}")
        return " and ".join(parts) if parts else "nothing unmerged or uncommitted"


class ViewPort(Protocol):
    """The fleet as the dashboard watches it: the latest view and its changes."""

    repo_name: str

    def view(self) -> FleetView:
        """The latest view of the fleet (cheap; no I/O)."""
        ...

    def subscribe(self, callback: Callable[[FleetView], None]) -> None:
        """Call ``callback`` (from any thread) whenever the view changes."""
        ...

    def subscribe_alerts(self, callback: Callable[[Alert], None]) -> None:
        """Call ``callback`` (from any thread) when an agent starts waiting on the human or
        finishes, if the repository's settings ask for the terminal bell."""
        ...


class AgentsPort(Protocol):
    """Starting, stopping and removing agents."""

    def kinds(self) -> list[str]:
        """The agent kinds that can be started."""
        ...

    def default_base(self) -> str:
        """The branch new agents start from unless told otherwise."""
        ...

    def spawn(self, request: SpawnRequest) -> list[Agent]:
        """Start agents (blocking)."""
        ...

    def hook_problems(self, kind: str) -> list[str]:
        """Why agents of ``kind`` would not run their hooks (each with what to do): their
        status is then read from the screen alone."""
        ...

    def stop(self, name: str) -> None:
        """End an agent's whole process tree and verify it is gone (blocking)."""
        ...

    def removal_risk(self, name: str) -> RemovalRisk:
        """What removing the agent would lose (blocking)."""
        ...

    def remove(self, name: str, *, discard_unmerged: bool, discard_changes: bool) -> str:
        """Remove worktree, window and branch; return what was kept (blocking)."""
        ...


class SteeringPort(Protocol):
    """Words and keys for running agents: answers, messages, interrupts, replies."""

    def answer(self, name: str, number: int) -> str:
        """Pick option ``number`` of the agent's dialog and verify it went (blocking)."""
        ...

    def send(self, names: Sequence[str], text: str, mode: MessageMode) -> list[Message]:
        """Queue ``text`` for each named agent; the engine types it the way each CLI takes it
        and verifies it (blocking only to store it). Refused as a whole, with nothing queued,
        on an unknown or ended agent or an empty text."""
        ...

    def interrupt(self, name: str) -> str:
        """Press the agent kind's interrupt key and verify a working agent stopped, pressing
        again when its CLI asks for it (blocking, a few seconds at most); returns what was
        done."""
        ...

    def reply(self, name: str, text: str) -> str:
        """Answer the agent's dialog in words: its "type your own answer" option if it has one,
        then the text and Enter; verified (blocking)."""
        ...


class ReviewPort(Protocol):
    """An agent's changes and what is done with them: diff, comments, checks, landing, push."""

    def diff(self, name: str) -> AgentDiff:
        """What the agent changed against its base: committed, uncommitted and untracked
        files with their hunks (binary and very large files summarised). Blocking; cheap when
        nothing changed since the last call (no git write, ever)."""
        ...

    def comment(self, name: str, comment: Comment) -> Message:
        """Send a review remark on a hunk or line to the agent as a message (queued)."""
        ...

    def run_check(self, name: str) -> None:
        """Start the repository's (or the agent's) check command in the agent's worktree, in
        the background; its result shows on the row and in `check`."""
        ...

    def cancel_check(self, name: str) -> None:
        """Stop the agent's running check (its whole process tree)."""
        ...

    def check(self, name: str) -> CheckResult | None:
        """The agent's latest check: running or done, with its output's tail."""
        ...

    def merge(
        self,
        name: str,
        strategy: MergeStrategy | None,
        *,
        force: bool,
        update_worktree: bool = False,
    ) -> MergeOutcome:
        """Land the agent's branch in its base (default strategy from the settings) without
        touching the user's working tree or index. Refused when the latest check failed or is
        missing for the current commit, unless ``force`` (`CheckRefusalError`); refused when
        the base is checked out in a worktree (`BaseCheckedOutError`), unless
        ``update_worktree``: then that worktree is brought forward with the base, its own
        changes kept. A conflict changes nothing and returns the conflicting files
        (blocking)."""
        ...

    def send_conflict(self, name: str) -> Message:
        """Send the agent the last merge conflict (files and a summary) to resolve."""
        ...

    def push_branch(self, name: str) -> str:
        """Push the agent's branch to the remote and open a pull request with `gh` when it is
        installed and logged in; otherwise say which command to run (blocking)."""
        ...


class PanesPort(Protocol):
    """The agents' tmux panes: their text, the way in and back, and the status trail."""

    def evidence(self, name: str) -> list[tuple[float, str, str]]:
        """The agent's trail, oldest first: (time, status, evidence) of every status change and
        every signal received (blocking)."""
        ...

    def capture(self, name: str) -> str:
        """The agent's pane as text with colour escapes (blocking, fast)."""
        ...

    def attach(self, name: str) -> list[str] | None:
        """Show the agent's pane. Returns a command to run in the foreground terminal when the
        dashboard is not hosted in the fleet's tmux session; None when the switch is done."""
        ...

    @property
    def return_key(self) -> str:
        """The key that returns from an agent's pane to the dashboard, as tmux names it."""
        ...


class TasksPort(Protocol):
    """The task board: tasks, their attempts and history, and what the human does to them.
    Every method but `tasks` names a task by its name or number."""

    def tasks(self) -> list[Task]:
        """Every task, oldest first, as last written."""
        ...

    def task(self, ref: str) -> Task:
        """One task by name or number (``3``, ``#3``), or a `UsageError` listing the tasks."""
        ...

    def task_history(self, ref: str) -> list[TaskEvent]:
        """Every transition of the task, oldest first."""
        ...

    @property
    def max_running(self) -> int:
        """How many task attempts may run at once in this repository."""
        ...

    def add_tasks(self, specs: Sequence[TaskSpec]) -> list[Task]:
        """Add tasks (all or none: unknown dependencies and cycles refused, named), and start
        what may start now."""
        ...

    def edit_task(self, ref: str, spec: TaskSpec) -> Task:
        """Replace the spec of a task that has not started."""
        ...

    def start_task(self, ref: str) -> Task:
        """Start the task as soon as its dependencies allow, over the concurrency cap."""
        ...

    def retry_task(self, ref: str) -> Task:
        """Run a failed or cancelled task again (its attempts get their caps again; work done
        is kept); dependents it held are released when it passes."""
        ...

    def cancel_task(self, ref: str) -> Task:
        """Stop the task's agents (their work is kept) and hold its dependents."""
        ...

    def land_task(self, ref: str, attempt: int | None = None) -> str:
        """Keep one passed attempt: land its branch, discard the others (archive refs kept).
        Returns what was done."""
        ...

    def compare_attempts(self, ref: str, first: int, second: int) -> str:
        """The diff between two attempts' branches (``git diff first second``)."""
        ...


class FleetPort(ViewPort, AgentsPort, SteeringPort, ReviewPort, PanesPort, TasksPort, Protocol):
    """Everything the dashboard can ask of the fleet: the feature ports together."""
