"""The check command run on an agent's worktree: its result, what the agent's record keeps of
it, and when it allows landing the branch. Pure: the command runs in `app/fleet/checks.py`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class CheckState(StrEnum):
    """Where the check command of an agent's worktree is."""

    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class CheckSummary:
    """What an agent's record keeps of its latest check: where it is, how long it ran, and
    the last line of its output once it ended."""

    state: CheckState
    seconds: float = 0.0
    last_line: str = ""


@dataclass(frozen=True)
class CheckResult:
    """One run of the check command in an agent's worktree."""

    command: str
    state: CheckState
    started_at: float
    duration: float = 0.0
    exit_code: int | None = None
    #: The last lines of its output (stdout and stderr together).
    tail: str = ""
    #: The commit the check ran on (uncommitted changes count as part of what was checked).
    commit: str = ""
    #: The worktree had uncommitted or untracked changes when the check started: it checked
    #: more than `commit`.
    dirty: bool = False

    @property
    def final(self) -> bool:
        """The check has ended (passed, failed or cancelled)."""
        return self.state is not CheckState.RUNNING

    @property
    def ran_on(self) -> str:
        """The commit it ran on, short, marked when the worktree was dirty: ``1a2b3c4+dirty``."""
        return self.commit[:7] + ("+dirty" if self.dirty else "")

    @property
    def last_line(self) -> str:
        """The last non-blank line of its output ('' while it runs: the output is not over)."""
        if not self.final:
            return ""
        lines = [line.strip() for line in self.tail.splitlines() if line.strip()]
        return lines[-1] if lines else ""

    @property
    def summary(self) -> CheckSummary:
        """What the agent's record keeps of this run."""
        return CheckSummary(self.state, self.duration, self.last_line)


def check_refusal(result: CheckResult | None, head: str, command: str = "") -> str:
    """Why the latest check does not allow merging the commit ``head`` ('' when it does): it
    must have passed, on exactly that commit, with nothing uncommitted, and (when ``command``
    is given) be a run of the check command as it is set now."""
    if result is None:
        return "no check has run on it"
    if command and result.command != command:
        return f"its latest check ran `{result.command}`, but the check is now `{command}`"
    if result.state is CheckState.RUNNING:
        return f"its check is still running (on {result.ran_on})"
    if result.state is CheckState.CANCELLED:
        return f"its latest check was cancelled (on {result.ran_on})"
    if result.state is CheckState.FAILED:
        code = f" with exit code {result.exit_code}" if result.exit_code is not None else ""
        return f"its latest check failed{code} (on {result.ran_on})"
    if result.commit != head:
        return f"its latest check passed on {result.ran_on}, but the branch is now at {head[:7]}"
    if result.dirty:
        return (
            f"its latest check passed on {result.ran_on}: with uncommitted changes, so not on "
            "what would be merged"
        )
    return ""
