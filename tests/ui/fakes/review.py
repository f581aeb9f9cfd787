"""A fake of the review port: scripted diffs, checks and merge outcomes; every action recorded."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from app.core.checks import CheckResult
from app.core.diff import AgentDiff, Comment
from app.core.errors import QuarterdeckError
from app.core.landing import MergeOutcome, MergeStrategy
from app.core.messages import Message, MessageMode, MessageState
from tests.ui.fakes.rows import NOW
from tests.ui.fakes.views import FakeViews


@dataclass
class FakeReview(FakeViews):
    """A ReviewPort in memory over `FakeViews`' rows."""

    #: Set to make `diff` wait until the test releases it.
    diff_gate: threading.Event | None = None
    #: What `diff`, `check` and `merge` return, per agent.
    diffs: dict[str, AgentDiff] = field(default_factory=dict)
    check_results: dict[str, CheckResult] = field(default_factory=dict)
    merge_outcomes: dict[str, MergeOutcome] = field(default_factory=dict)
    #: Raised by the next merges, one each, before anything is recorded (a refusal).
    merge_refusals: list[QuarterdeckError] = field(default_factory=list)
    comments: list[tuple[str, Comment]] = field(default_factory=list)
    checks_run: list[str] = field(default_factory=list)
    checks_cancelled: list[str] = field(default_factory=list)
    #: Each merge asked for: (name, strategy, force, update_worktree).
    merged: list[tuple[str, MergeStrategy | None, bool, bool]] = field(default_factory=list)
    conflicts_sent: list[str] = field(default_factory=list)
    pushed: list[str] = field(default_factory=list)

    def diff(self, name: str) -> AgentDiff:
        if self.diff_gate is not None:
            self.diff_gate.wait(timeout=10)
        self._row(name)
        return self.diffs.get(name, AgentDiff(base_commit="0" * 40))

    def comment(self, name: str, comment: Comment) -> Message:
        self._steer_error()
        self.comments.append((name, comment))
        return Message(
            1,
            f"id-{name}",
            name,
            comment.message(),
            MessageMode.QUEUE,
            MessageState.PENDING,
            NOW,
            NOW,
        )

    def run_check(self, name: str) -> None:
        self.checks_run.append(name)

    def cancel_check(self, name: str) -> None:
        self.checks_cancelled.append(name)

    def check(self, name: str) -> CheckResult | None:
        return self.check_results.get(name)

    def merge(
        self,
        name: str,
        strategy: MergeStrategy | None,
        *,
        force: bool,
        update_worktree: bool = False,
    ) -> MergeOutcome:
        self._steer_error()
        if self.merge_refusals:
            raise self.merge_refusals.pop(0)
        self.merged.append((name, strategy, force, update_worktree))
        outcome = self.merge_outcomes.get(name)
        chosen = strategy or MergeStrategy.MERGE
        how = {MergeStrategy.SQUASH: "one squashed commit"}.get(chosen, "merge commit")
        moved = "/src/acme" if update_worktree else ""
        return outcome or MergeOutcome(chosen, "main", True, "f" * 40, worktree=moved, how=how)

    def send_conflict(self, name: str) -> Message:
        self.conflicts_sent.append(name)
        return Message(
            1, f"id-{name}", name, "conflict", MessageMode.QUEUE, MessageState.PENDING, NOW, NOW
        )

    def push_branch(self, name: str) -> str:
        self._steer_error()
        self.pushed.append(name)
        return f"pushed qd/{name}"
