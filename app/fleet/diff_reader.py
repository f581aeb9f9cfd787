"""Reading an agent's changes against its base commit with git: tracked files through
``git diff <base>`` (committed and uncommitted together), untracked ones from disk.

Looking never writes: every git command runs with ``GIT_OPTIONAL_LOCKS=0`` (no opportunistic
index refresh), untracked files are listed with ``git ls-files`` and read directly, never
added to any index.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.agent import Agent
from app.core.diff import (
    MAX_FILE_DIFF_BYTES,
    MAX_RENDERED_LINES,
    AgentDiff,
    ChangeEntry,
    FileChange,
    FileDiff,
    binary_summary,
    count_lines,
    looks_binary,
    new_file_hunk,
    parse_hunks,
    parse_raw_numstat,
    split_patch,
    too_large_summary,
)
from app.core.errors import GitError, QuarterdeckError
from app.infra.git import READ_ONLY, Repository

#: A tracked file bigger than this is never put in a patch (its counts still show).
MAX_PATCH_FILE_BYTES = 16 * MAX_FILE_DIFF_BYTES
#: Paths named on one git command line at most (the rest in further commands).
PATHSPEC_BATCH = 500
#: The last bytes of a counted untracked file kept, to recognise that it only grew since.
_TAIL_BYTES = 64
#: Untracked files bigger than this are not read to count their lines.
MAX_COUNTED_BYTES = 256 << 20


@dataclass(frozen=True)
class _UntrackedCount:
    """What counting an untracked file found, for the file as it was then: (size, mtime,
    inode), binary or not, its newlines and its last bytes (to recognise an append)."""

    key: tuple[int, int, int]
    binary: bool
    newlines: int = 0
    tail: bytes = b""

    @property
    def lines(self) -> int:
        """Lines (a last line without a newline counts)."""
        return self.newlines + (1 if self.tail and not self.tail.endswith(b"\n") else 0)


class DiffReader:
    """Reads an agent's changes against its base commit: tracked files through
    ``git diff <base>`` (committed and uncommitted together), untracked ones from disk."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self._lock = threading.Lock()
        #: Per worktree, the line counts of untracked files by (size, mtime, inode).
        self._counted: dict[str, dict[str, _UntrackedCount]] = {}

    def _look(self, worktree: Path, *args: str) -> str:
        # The user's configuration must not change what is parsed: no blank context lines
        # left empty, no submodule logs inside another file's hunks, paths unquoted.
        config = ("core.quotepath=off", "diff.suppressBlankEmpty=false", "diff.submodule=short")
        command = next((a for a in args if not a.startswith("-")), args[0])
        try:
            return self.repo.run(
                *(x for c in config for x in ("-c", c)), *args, cwd=worktree, env=READ_ONLY
            )
        except GitError as exc:
            detail = exc.stderr.strip() or str(exc)
            raise QuarterdeckError(f"git {command} failed in {worktree}: {detail}") from None
        except OSError as exc:
            raise QuarterdeckError(f"git {command} could not run in {worktree}: {exc}") from None

    def _tracked(self, worktree: Path, base: str) -> list[ChangeEntry]:
        out = self._look(
            worktree,
            "diff",
            "--raw",
            "--numstat",
            "-z",
            "-M",
            "--no-relative",
            "--no-ext-diff",
            "--no-textconv",
            base,
            "--",
        )
        return parse_raw_numstat(out)

    def _untracked_paths(self, worktree: Path) -> list[str]:
        out = self._look(worktree, "ls-files", "--others", "--exclude-standard", "-z")
        return [p for p in out.split("\0") if p]

    def base_of(self, worktree: Path, base: str, started_from: str) -> str:
        """The commit an agent's changes are counted from: where its worktree's HEAD and its
        base ``base`` (a branch or any revision) meet now, so that work of the base it merged
        in, or work of its own that landed, is not counted; ``started_from`` (the commit it
        was spawned on) when git cannot tell."""
        ref = f"refs/heads/{base}"
        for rev in (ref, base):
            result = self.repo.call("merge-base", rev, "HEAD", cwd=worktree, env=READ_ONLY)
            if result.status == 0 and result.text.strip():
                return result.text.strip()
        return started_from

    def stacked(self, a: Agent, b: Agent, shared: Sequence[str]) -> bool:
        """One agent's work on the ``shared`` files is inside the other's branch (a task
        started from its dependency's work): committed, and its tip an ancestor of the other's.
        Such agents touch the same files without working against each other."""
        for inner, outer in ((a, b), (b, a)):
            worktree = Path(inner.checkout.worktree)
            try:
                tip = self.repo.run("rev-parse", "HEAD", cwd=worktree, env=READ_ONLY)
                head = self.repo.run(
                    "rev-parse", "HEAD", cwd=Path(outer.checkout.worktree), env=READ_ONLY
                )
            except QuarterdeckError:
                continue
            if tip == inner.checkout.base_commit or not self.repo.is_ancestor(tip, head):
                continue
            if not set(self.repo.changed_files(worktree)) & set(shared):
                return True
        return False

    def files(self, worktree: Path, base: str) -> list[FileDiff]:
        """Every changed file with its counts, no hunks (two git commands)."""
        self._require(worktree)
        tracked = [self._counts_only(e) for e in self._tracked(worktree, base)]
        untracked = [
            self._untracked(worktree, p, text=False) for p in self._untracked_paths(worktree)
        ]
        return sorted([*tracked, *[u for u in untracked if u]], key=lambda f: f.path)

    @staticmethod
    def _require(worktree: Path) -> None:
        if not worktree.is_dir():
            raise QuarterdeckError(f"the worktree {worktree} is gone")

    @staticmethod
    def _counts_only(e: ChangeEntry) -> FileDiff:
        return FileDiff(
            e.path, e.change, e.added, e.removed, e.old_path, e.binary, "binary" if e.binary else ""
        )

    def diff(self, worktree: Path, base: str) -> AgentDiff:
        """Everything changed, with hunks (binary and very large files summarised)."""
        self._require(worktree)
        entries = self._tracked(worktree, base)
        untracked = self._untracked_paths(worktree)
        head = self._look(worktree, "rev-parse", "HEAD")
        commits = int(self._look(worktree, "rev-list", "--count", f"{base}..HEAD") or 0)
        summaries: dict[str, str] = {}
        for e in entries:
            if e.binary:
                continue
            if e.added + e.removed > MAX_RENDERED_LINES:
                summaries[e.path] = too_large_summary(e.added, e.removed)
            elif _size(worktree / e.path) > MAX_PATCH_FILE_BYTES:
                size = _size(worktree / e.path)
                summaries[e.path] = too_large_summary(e.added, e.removed, size, what="the file")
        shown = [e for e in entries if not e.binary and e.path not in summaries]
        sections: dict[str, str] = {}
        if shown and not summaries:
            # Binary files cost nothing in a patch ("Binary files differ"): one command.
            sections = split_patch(self._patch(worktree, base, [":(top)"]))
        else:
            # Only the files shown, named (in batches: a command line has a limit), so that a
            # huge file is never read.
            specs = [f":(top,literal){p}" for e in shown for p in (e.path, e.old_path) if p]
            for start in range(0, len(specs), PATHSPEC_BATCH):
                patch = self._patch(worktree, base, specs[start : start + PATHSPEC_BATCH])
                sections.update(split_patch(patch))
        old_sizes = self._blob_sizes(
            worktree, base, [e.old_path or e.path for e in entries if e.binary]
        )
        files: list[FileDiff] = []
        for e in entries:
            if e.binary:
                old = None if e.change is FileChange.ADDED else old_sizes.get(e.old_path or e.path)
                new = None if e.change is FileChange.DELETED else _size_or_none(worktree / e.path)
                files.append(
                    FileDiff(e.path, e.change, 0, 0, e.old_path, True, binary_summary(old, new))
                )
                continue
            summary = summaries.get(e.path, "")
            hunks: tuple[Any, ...] = ()
            section = sections.get(e.path)
            if not summary and section is not None:
                size = len(section.encode("utf-8", "surrogateescape"))
                if size > MAX_FILE_DIFF_BYTES:
                    summary = too_large_summary(e.added, e.removed, size)
                else:
                    hunks = parse_hunks(section)
            files.append(
                FileDiff(e.path, e.change, e.added, e.removed, e.old_path, False, summary, hunks)
            )
        for path in untracked:
            found = self._untracked(worktree, path, text=True)
            if found is not None:
                files.append(found)
        files.sort(key=lambda f: f.path)
        return AgentDiff(base_commit=base, files=tuple(files), commits=commits, head=head)

    def _patch(self, worktree: Path, base: str, pathspecs: list[str]) -> str:
        return self._look(
            worktree,
            "diff",
            "-M",
            "-p",
            "--no-color",
            "--no-relative",
            "--no-ext-diff",
            "--no-textconv",
            "--src-prefix=a/",
            "--dst-prefix=b/",
            base,
            "--",
            *pathspecs,
        )

    def _blob_sizes(self, worktree: Path, base: str, paths: list[str]) -> dict[str, int]:
        sizes: dict[str, int] = {}
        for start in range(0, len(paths), PATHSPEC_BATCH):
            batch = paths[start : start + PATHSPEC_BATCH]
            out = self._look(
                worktree, "--literal-pathspecs", "ls-tree", "-z", "-l", base, "--", *batch
            )
            for entry in out.split("\0"):
                meta, _, path = entry.partition("\t")
                parts = meta.split()
                if path and len(parts) == 4 and parts[3].isdigit():
                    sizes[path] = int(parts[3])
        return sizes

    def _untracked(self, worktree: Path, rel: str, *, text: bool) -> FileDiff | None:
        """An untracked file as an added file: read from disk, nothing written anywhere."""
        change = FileChange.UNTRACKED
        if rel.endswith("/"):
            return FileDiff(rel, change, 0, 0, summary="a nested git repository: not shown")
        path = worktree / rel
        try:
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                data = os.fsencode(os.readlink(path))
            elif not stat.S_ISREG(st.st_mode):
                return None
            elif st.st_size > MAX_FILE_DIFF_BYTES or not text:
                return self._untracked_counted(worktree, rel, st)
            else:
                data = path.read_bytes()
        except OSError:
            return None  # gone since it was listed
        if looks_binary(data):
            return FileDiff(rel, change, 0, 0, binary=True, summary=binary_summary(None, len(data)))
        lines = count_lines(data)
        if lines > MAX_RENDERED_LINES:
            return FileDiff(rel, change, lines, 0, summary=too_large_summary(lines, 0))
        hunks = new_file_hunk(data.decode("utf-8", "replace"))
        return FileDiff(rel, change, lines, 0, hunks=hunks)

    def _untracked_counted(self, worktree: Path, rel: str, st: os.stat_result) -> FileDiff:
        """An untracked file's counts, without keeping its text (remembered while the file
        stays the same size, time and inode)."""
        key = (st.st_size, st.st_mtime_ns, st.st_ino)
        with self._lock:
            known = self._counted.setdefault(str(worktree), {}).get(rel)
        if known is None or known.key != key:
            known = _count_file(worktree / rel, st, known)
            with self._lock:
                self._counted.setdefault(str(worktree), {})[rel] = known
        change = FileChange.UNTRACKED
        if known.binary:
            return FileDiff(
                rel, change, 0, 0, binary=True, summary=binary_summary(None, st.st_size)
            )
        summary = ""
        if st.st_size > MAX_FILE_DIFF_BYTES:
            summary = too_large_summary(known.lines, 0, st.st_size)
        elif known.lines > MAX_RENDERED_LINES:
            summary = too_large_summary(known.lines, 0)
        return FileDiff(rel, change, known.lines, 0, summary=summary)

    def forget(self, worktree: str) -> None:
        """Drop what is remembered of a worktree."""
        with self._lock:
            self._counted.pop(worktree, None)


def _size(path: Path) -> int:
    """A file's size (0 when it is not there)."""
    return _size_or_none(path) or 0


def _size_or_none(path: Path) -> int | None:
    try:
        return os.lstat(path).st_size
    except OSError:
        return None


def _count_file(path: Path, st: os.stat_result, before: _UntrackedCount | None) -> _UntrackedCount:
    """Count a file's lines, read in chunks (not past `MAX_COUNTED_BYTES`). A file that only
    grew since ``before`` (same inode, and the bytes that ended it are still there: a log being
    written) is counted from where ``before`` stopped."""
    key = (st.st_size, st.st_mtime_ns, st.st_ino)
    if st.st_size > MAX_COUNTED_BYTES:
        with path.open("rb") as fh:
            return _UntrackedCount(key, looks_binary(fh.read(8000)))
    with path.open("rb") as fh:
        start, newlines, tail = 0, 0, b""
        if (
            before is not None
            and not before.binary
            and before.tail
            and before.key[2] == st.st_ino
            and before.key[0] <= st.st_size
        ):
            fh.seek(before.key[0] - len(before.tail))
            if fh.read(len(before.tail)) == before.tail:
                start, newlines, tail = before.key[0], before.newlines, before.tail
        if not start:
            head = fh.read(8000)
            if looks_binary(head):
                return _UntrackedCount(key, True)
            fh.seek(0)
        while chunk := fh.read(1 << 20):
            newlines += chunk.count(b"\n")
            tail = (tail + chunk)[-_TAIL_BYTES:]
    return _UntrackedCount(key, False, newlines, tail)
