"""The one exception hierarchy every layer raises and the CLI and UI report."""

from __future__ import annotations

from collections.abc import Sequence


class QuarterdeckError(Exception):
    """A failure the user can act on; its message says what went wrong and what to do."""


class UsageError(QuarterdeckError):
    """The request itself is wrong: a bad name, an unknown agent kind, a missing branch."""


class NotARepositoryError(QuarterdeckError):
    """The directory is not inside a git repository (or the repository has no commits)."""


class ToolMissingError(QuarterdeckError):
    """A program Quarterdeck needs (tmux, an agent CLI) is not installed."""


class AgentNotFoundError(QuarterdeckError):
    """No agent of that name exists in this repository."""


class UnsafeRemovalError(QuarterdeckError):
    """Removing the agent would lose commits or changes and no specific confirmation was given."""


class EngineBusyError(QuarterdeckError):
    """Another Quarterdeck engine already drives this repository."""


class StateError(QuarterdeckError):
    """The state database cannot be read or written: damaged (`quarterdeck doctor --repair`
    sets it aside and rebuilds it), full, or not writable."""


class LockTimeoutError(QuarterdeckError):
    """Another process held the repository's lock for making agents too long."""


class CheckRefusalError(QuarterdeckError):
    """A merge was refused because the agent's check failed or did not run on its tip: the one
    refusal a human may override (``force``)."""


class BaseCheckedOutError(QuarterdeckError):
    """A merge would move a base branch that is checked out in a worktree; landing may also
    bring that worktree forward when the human asks for it (``update_worktree``)."""

    def __init__(self, message: str, base: str, worktree: str) -> None:
        super().__init__(message)
        #: The base branch, and the worktree that has it checked out.
        self.base = base
        self.worktree = worktree


class GitError(QuarterdeckError):
    """A git command failed: the ``command`` that ran, its exit ``status`` (-1: it timed out)
    and what it wrote to stderr and stdout. Every git failure reaches the product as this, not
    as the git library's own exception."""

    def __init__(
        self, command: Sequence[str], status: int, stderr: str = "", stdout: str = ""
    ) -> None:
        self.command = tuple(command)
        self.status = status
        self.stderr = stderr
        self.stdout = stdout
        said = stderr.strip() or stdout.strip()
        super().__init__(
            f"{' '.join(self.command)} failed (exit status {status})"
            + (f": {said}" if said else "")
        )
