"""Reviewing an agent's work: its diff against its base as files and hunks, the check run on
it, merge strategies and their outcomes, and branches that touch the same files. Pure: git runs
in `app/services`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

#: A file with more changed lines than this is summarised, not rendered line by line.
MAX_RENDERED_LINES = 5000
#: Bytes of a file's diff kept for rendering (the rest is summarised).
MAX_FILE_DIFF_BYTES = 1 << 20


class FileChange(StrEnum):
    """How a file differs from the base."""

    ADDED = "added"
    MODIFIED = "modified"
    DELETED = "deleted"
    RENAMED = "renamed"
    UNTRACKED = "untracked"


@dataclass(frozen=True)
class Hunk:
    """One hunk of a unified diff: its header and its lines (each with its ``+``/``-``/`` ``)."""

    header: str
    old_start: int
    old_count: int
    new_start: int
    new_count: int
    lines: tuple[str, ...]

    @property
    def added(self) -> int:
        """Lines added in this hunk."""
        return sum(1 for line in self.lines if line.startswith("+"))

    @property
    def removed(self) -> int:
        """Lines removed in this hunk."""
        return sum(1 for line in self.lines if line.startswith("-"))

    def new_line_of(self, index: int) -> int:
        """The line number in the new file of ``lines[index]`` (the nearest new-side line for a
        removed line)."""
        number = self.new_start
        for line in self.lines[:index]:
            if not line.startswith("-"):
                number += 1
        return number


@dataclass(frozen=True)
class FileDiff:
    """One changed file: counts always; hunks unless the file is binary or too large."""

    path: str
    change: FileChange
    added: int
    removed: int
    old_path: str = ""
    binary: bool = False
    #: Set when the hunks were left out (binary, or over `MAX_RENDERED_LINES`): why.
    summary: str = ""
    hunks: tuple[Hunk, ...] = ()


@dataclass(frozen=True)
class AgentDiff:
    """Everything an agent changed against its base: committed, uncommitted and untracked."""

    base_commit: str
    files: tuple[FileDiff, ...] = ()
    commits: int = 0

    @property
    def added(self) -> int:
        """Lines added in all files."""
        return sum(f.added for f in self.files)

    @property
    def removed(self) -> int:
        """Lines removed in all files."""
        return sum(f.removed for f in self.files)

    @property
    def paths(self) -> frozenset[str]:
        """Every path the agent touched (both sides of a rename)."""
        return frozenset(p for f in self.files for p in (f.path, f.old_path) if p)


class CheckState(StrEnum):
    """Where the check command of an agent's worktree is."""

    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"
    CANCELLED = "cancelled"


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


class MergeStrategy(StrEnum):
    """How an agent's branch lands in its base."""

    MERGE = "merge"
    SQUASH = "squash"
    REBASE = "rebase"


@dataclass(frozen=True)
class MergeOutcome:
    """What a merge did: the new base commit, or the conflicting files (and nothing changed)."""

    strategy: MergeStrategy
    base: str
    merged: bool
    commit: str = ""
    conflicts: tuple[str, ...] = ()
    message: str = ""


_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def parse_hunks(text: str) -> tuple[Hunk, ...]:
    """The hunks of one file's unified diff (anything before the first ``@@`` is ignored)."""
    hunks: list[Hunk] = []
    header = ""
    numbers = (0, 0, 0, 0)
    lines: list[str] = []
    for line in text.splitlines():
        match = _HUNK.match(line)
        if match:
            if header:
                hunks.append(Hunk(header, *numbers, tuple(lines)))
            header = line
            a, b, c, d = match.groups()
            numbers = (int(a), int(b or 1), int(c), int(d or 1))
            lines = []
        elif header and line[:1] in ("+", "-", " ", "\\"):
            lines.append(line)
    if header:
        hunks.append(Hunk(header, *numbers, tuple(lines)))
    return tuple(hunks)


def overlaps(diffs: Mapping[str, Iterable[str]]) -> dict[str, dict[str, tuple[str, ...]]]:
    """For each agent, the other agents whose changes touch the same files, and which files:
    ``{agent: {other: (path, ...)}}``; agents without overlap are left out."""
    paths = {name: frozenset(p) for name, p in diffs.items()}
    result: dict[str, dict[str, tuple[str, ...]]] = {}
    names = sorted(paths)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            shared = paths[a] & paths[b]
            if shared:
                files = tuple(sorted(shared))
                result.setdefault(a, {})[b] = files
                result.setdefault(b, {})[a] = files
    return result


@dataclass(frozen=True)
class Comment:
    """A remark on a hunk or a line, to be sent to the agent as a steering message."""

    path: str
    line: int
    hunk: Hunk
    text: str
    context_lines: int = field(default=6)

    def message(self) -> str:
        """The message the agent gets: where, the hunk's lines around it, and the remark."""
        body = list(self.hunk.lines)
        if len(body) > self.context_lines * 2:
            # Keep the lines nearest the remarked line.
            index = max(0, min(len(body) - 1, self._index_of_line()))
            start = max(0, index - self.context_lines)
            body = body[start : start + self.context_lines * 2]
        quoted = "\n".join(body)
        return (
            f"Review comment on {self.path} line {self.line}:\n"
            f"{self.hunk.header}\n{quoted}\n\n{self.text.strip()}"
        )

    def _index_of_line(self) -> int:
        for i in range(len(self.hunk.lines)):
            if self.hunk.new_line_of(i) >= self.line:
                return i
        return len(self.hunk.lines) - 1
