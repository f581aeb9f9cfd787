"""Reviewing agents' work: diffs kept current by one watcher for the whole fleet, the check
command, merges that never touch a working tree or an index, pushes and pull requests.

Looking never writes: every git command that reads an agent's worktree runs with
``GIT_OPTIONAL_LOCKS=0`` (no opportunistic index refresh), untracked files are listed with
``git ls-files`` and read directly, never added to any index.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import shlex
import shutil
import signal
import sqlite3
import stat
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import git
import watchfiles

from app.core.agent import Agent
from app.core.errors import (
    BaseCheckedOutError,
    CheckRefusalError,
    QuarterdeckError,
    UsageError,
)
from app.core.messages import Message, MessageMode
from app.core.review import (
    MAX_FILE_DIFF_BYTES,
    MAX_RENDERED_LINES,
    AgentDiff,
    ChangeEntry,
    CheckResult,
    CheckState,
    Comment,
    FileChange,
    FileDiff,
    MergeOutcome,
    MergeStrategy,
    binary_summary,
    check_refusal,
    conflict_message,
    count_lines,
    first_line,
    looks_binary,
    new_file_hunk,
    overlaps,
    parse_hunks,
    parse_raw_numstat,
    split_patch,
    squash_message,
    too_large_summary,
)
from app.infra.git import READ_ONLY, Repository
from app.infra.settings import Settings, load_settings

if TYPE_CHECKING:
    from app.fleet.fleet import Fleet

#: Lines of a check's output kept (stdout and stderr together).
CHECK_TAIL_LINES = 40
#: Characters kept of one output line.
CHECK_LINE_CHARS = 400
#: How long a cancelled check has after SIGTERM before its process group is SIGKILLed.
CHECK_GRACE = 3.0
#: A check's shell has exited but something it started still holds its output open: after this
#: long the rest of its process group is killed (a check's processes end with it).
LEFTOVER_GRACE = 1.0
#: How often a running check's output tail is written for other processes to see.
TAIL_SAVE_INTERVAL = 0.5
#: The watch answers at least this often (ms), with nothing when nothing changed; its first
#: answer says it is set up.
WATCH_READY_MS = 1000
#: Agents' paths are re-watched this long after the set of watched folders last changed.
RESTART_DEBOUNCE = 0.2
#: Diff stats are recomputed for at most this many agents a second (the longest-stale first),
#: in batches of `STATS_BATCH`.
STATS_PER_SECOND = 10
STATS_BATCH = 2
#: A tracked file bigger than this is never put in a patch (its counts still show).
MAX_PATCH_FILE_BYTES = 16 * MAX_FILE_DIFF_BYTES
#: Paths named on one git command line at most (the rest in further commands).
PATHSPEC_BATCH = 500
#: The last bytes of a counted untracked file kept, to recognise that it only grew since.
_TAIL_BYTES = 64
#: Untracked files bigger than this are not read to count their lines.
MAX_COUNTED_BYTES = 256 << 20
#: `git push` and `gh` give up after this long (a credential prompt nobody can answer).
NETWORK_TIMEOUT = 120.0

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07")
_IDENT = {
    "GIT_AUTHOR_NAME": "Quarterdeck",
    "GIT_AUTHOR_EMAIL": "quarterdeck@localhost",
    "GIT_COMMITTER_NAME": "Quarterdeck",
    "GIT_COMMITTER_EMAIL": "quarterdeck@localhost",
}
#: Folders whose changes never change a diff (watchfiles' defaults: caches, environments, VCS).
_IGNORED_DIRS = frozenset(watchfiles.DefaultFilter.ignore_dirs)
_IGNORED_NAMES = tuple(re.compile(p) for p in watchfiles.DefaultFilter.ignore_entity_patterns)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS checks (
    agent_id TEXT PRIMARY KEY,
    agent_name TEXT NOT NULL,
    command TEXT NOT NULL,
    state TEXT NOT NULL,
    started_at REAL NOT NULL,
    duration REAL NOT NULL DEFAULT 0,
    exit_code INTEGER,
    tail TEXT NOT NULL DEFAULT '',
    head TEXT NOT NULL DEFAULT '',
    dirty INTEGER NOT NULL DEFAULT 0,
    pid INTEGER NOT NULL DEFAULT 0,
    pid_start TEXT NOT NULL DEFAULT '',
    owner INTEGER NOT NULL DEFAULT 0,
    cancel INTEGER NOT NULL DEFAULT 0,
    owner_start TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS merges (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id TEXT NOT NULL,
    agent_name TEXT NOT NULL,
    at REAL NOT NULL,
    strategy TEXT NOT NULL,
    base TEXT NOT NULL,
    tip TEXT NOT NULL,
    result TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS merges_agent ON merges(agent_id, seq);
CREATE TABLE IF NOT EXISTS conflicts (
    agent_id TEXT PRIMARY KEY,
    at REAL NOT NULL,
    strategy TEXT NOT NULL,
    base TEXT NOT NULL,
    base_commit TEXT NOT NULL,
    tip TEXT NOT NULL,
    files TEXT NOT NULL
);
"""


# ============================================================================ the store


@dataclass(frozen=True)
class _CheckRow:
    result: CheckResult
    pid: int
    pid_start: str
    owner: int
    cancel: bool
    owner_start: str = ""

    @property
    def owner_alive(self) -> bool:
        """The Quarterdeck process that runs the check is still that process (not a new one
        that got its pid)."""
        if not _alive(self.owner):
            return False
        return not self.owner_start or _start_time(self.owner) == self.owner_start


@dataclass(frozen=True)
class _Conflict:
    strategy: MergeStrategy
    base: str
    base_commit: str
    tip: str
    files: tuple[str, ...]


class ReviewDB:
    """The review tables in the repository's state database: each agent's latest check (with
    its output's tail), the merges that landed, and the last conflict. Shared by every
    Quarterdeck process of the repository."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            str(path), timeout=10, check_same_thread=False, isolation_level=None
        )
        self._db.executescript(_SCHEMA)
        with contextlib.suppress(sqlite3.OperationalError):  # a table of an older version
            self._db.execute("ALTER TABLE checks ADD COLUMN owner_start TEXT NOT NULL DEFAULT ''")

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()

    def _do(self, query: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(query, args).fetchall()

    # -- checks

    def save_check(self, agent: Agent, result: CheckResult, pid: int, pid_start: str) -> None:
        """Record a check that starts (replacing the agent's previous one), run by this
        process."""
        owner = os.getpid()
        self._do(
            "INSERT OR REPLACE INTO checks (agent_id, agent_name, command, state, started_at,"
            " duration, exit_code, tail, head, dirty, pid, pid_start, owner, cancel, owner_start)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,0,?)",
            (
                agent.id,
                agent.name,
                result.command,
                result.state.value,
                result.started_at,
                result.duration,
                result.exit_code,
                result.tail,
                result.commit,
                int(result.dirty),
                pid,
                pid_start,
                owner,
                _start_time(owner),
            ),
        )

    def finish_check(self, agent_id: str, result: CheckResult, started_at: float) -> None:
        """Record how the check that started at ``started_at`` ended."""
        self._do(
            "UPDATE checks SET state = ?, duration = ?, exit_code = ?, tail = ?"
            " WHERE agent_id = ? AND started_at = ?",
            (
                result.state.value,
                result.duration,
                result.exit_code,
                result.tail,
                agent_id,
                started_at,
            ),
        )

    def save_tail(self, agent_id: str, tail: str, started_at: float) -> None:
        """The output so far of a running check."""
        self._do(
            "UPDATE checks SET tail = ? WHERE agent_id = ? AND started_at = ? AND state = ?",
            (tail, agent_id, started_at, CheckState.RUNNING.value),
        )

    def request_cancel(self, agent_id: str) -> None:
        """Mark the running check as cancelled by the human (whoever runs it records it so)."""
        self._do("UPDATE checks SET cancel = 1 WHERE agent_id = ?", (agent_id,))

    def check(self, agent_id: str) -> _CheckRow | None:
        """The agent's latest check."""
        rows = self._do(
            "SELECT command, state, started_at, duration, exit_code, tail, head, dirty, pid,"
            " pid_start, owner, cancel, owner_start FROM checks WHERE agent_id = ?",
            (agent_id,),
        )
        if not rows:
            return None
        r = rows[0]
        result = CheckResult(
            command=r[0],
            state=CheckState(r[1]),
            started_at=float(r[2]),
            duration=float(r[3]),
            exit_code=r[4],
            tail=r[5],
            commit=r[6],
            dirty=bool(r[7]),
        )
        return _CheckRow(result, int(r[8]), r[9], int(r[10]), bool(r[11]), r[12])

    def running_checks(self) -> list[str]:
        """Agents whose latest check is recorded as running."""
        rows = self._do("SELECT agent_id FROM checks WHERE state = ?", (CheckState.RUNNING.value,))
        return [r[0] for r in rows]

    # -- merges and conflicts

    def add_merge(
        self, agent: Agent, strategy: MergeStrategy, base: str, tip: str, result: str
    ) -> None:
        """Record that ``tip`` of the agent's branch landed in ``base`` as ``result``."""
        self._do(
            "INSERT INTO merges (agent_id, agent_name, at, strategy, base, tip, result)"
            " VALUES (?,?,?,?,?,?,?)",
            (agent.id, agent.name, time.time(), strategy.value, base, tip, result),
        )
        self._do("DELETE FROM conflicts WHERE agent_id = ?", (agent.id,))

    def merges(self, agent_id: str) -> list[tuple[str, str, str]]:
        """The agent's landed merges: (base, tip, resulting base commit), oldest first."""
        rows = self._do(
            "SELECT base, tip, result FROM merges WHERE agent_id = ? ORDER BY seq", (agent_id,)
        )
        return [(r[0], r[1], r[2]) for r in rows]

    def save_conflict(self, agent_id: str, conflict: _Conflict) -> None:
        """Keep the agent's latest merge conflict (for `send_conflict`)."""
        self._do(
            "INSERT OR REPLACE INTO conflicts (agent_id, at, strategy, base, base_commit, tip,"
            " files) VALUES (?,?,?,?,?,?,?)",
            (
                agent_id,
                time.time(),
                conflict.strategy.value,
                conflict.base,
                conflict.base_commit,
                conflict.tip,
                json.dumps(list(conflict.files), ensure_ascii=False),
            ),
        )

    def conflict(self, agent_id: str) -> _Conflict | None:
        """The agent's latest merge conflict, if its branch has not landed since."""
        rows = self._do(
            "SELECT strategy, base, base_commit, tip, files FROM conflicts WHERE agent_id = ?",
            (agent_id,),
        )
        if not rows:
            return None
        r = rows[0]
        return _Conflict(MergeStrategy(r[0]), r[1], r[2], r[3], tuple(json.loads(r[4])))

    def forget(self, agent_id: str) -> None:
        """Drop an agent's check and conflict (its merges stay: they are history)."""
        self._do("DELETE FROM checks WHERE agent_id = ?", (agent_id,))
        self._do("DELETE FROM conflicts WHERE agent_id = ?", (agent_id,))


# ============================================================================ diffs


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
        except git.GitCommandError as exc:
            detail = str(exc.stderr).strip() or str(exc)
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


# ============================================================================ the watcher


class _Either:
    """Set when either event is (watchfiles only needs ``is_set``)."""

    def __init__(self, *events: threading.Event) -> None:
        self.events = events

    def is_set(self) -> bool:
        return any(e.is_set() for e in self.events)


def _admin_dir(worktree: str) -> str:
    """The worktree's folder in the common git dir (from its ``.git`` file; no git run)."""
    try:
        text = (Path(worktree) / ".git").read_text().strip()
    except OSError:
        return ""
    if not text.startswith("gitdir:"):
        return ""
    path = Path(text.removeprefix("gitdir:").strip())
    if not path.is_absolute():
        path = Path(worktree) / path
    return os.path.realpath(path)


class FleetWatcher:
    """One watchfiles thread for the whole fleet. It watches the folders that hold the agents'
    worktrees, the common dir's ``worktrees/`` (each worktree's HEAD, reflog and index: they
    change on every commit) and the folders of the agents' branch refs and of their base
    branches (a landing moves where their changes are counted from), and reports which agents
    changed. The watch restarts only when that set of folders changes (debounced), not when
    an agent comes or goes inside them."""

    def __init__(self, common_dir: Path, on_change: Callable[[set[str]], None]) -> None:
        self.common_dir = os.path.realpath(common_dir)
        self._on_change = on_change
        self._lock = threading.Lock()
        self._owners: list[tuple[str, str]] = []
        self._refs: dict[str, set[str]] = {}
        self._admin: dict[tuple[str, str], str] = {}
        self._roots: frozenset[str] = frozenset()
        self._active: frozenset[str] = frozenset()
        self._changed_at = 0.0
        self._generation = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error = ""
        self.restarts = 0

    @property
    def running(self) -> bool:
        """The watch thread runs (and has not given up)."""
        return self._thread is not None and self._thread.is_alive() and not self.error

    def set_agents(self, agents: Sequence[Agent], branch_prefix: str) -> None:
        """Watch these agents (cheap when nothing changed: no git, a few stat calls)."""
        owners: list[tuple[str, str]] = []
        refs: dict[str, set[str]] = {}
        roots: set[str] = set()
        admins: dict[tuple[str, str], str] = {}
        heads = os.path.join(self.common_dir, "refs", "heads")
        with self._lock:
            known = dict(self._admin)
        for agent in agents:
            worktree = os.path.realpath(agent.worktree)
            key = (agent.id, worktree)
            admin = known.get(key) or _admin_dir(worktree)
            if admin:
                admins[key] = admin
                owners.append((admin + os.sep, agent.id))
                if os.path.isdir(os.path.dirname(admin)):
                    roots.add(os.path.dirname(admin))
            owners.append((worktree + os.sep, agent.id))
            parent = os.path.dirname(worktree)
            if os.path.isdir(parent):
                roots.add(parent)
            # Its branch (a commit of its own) and its base (a landing moves where its
            # changes are counted from).
            for branch in (agent.branch, agent.base):
                ref = os.path.join(heads, branch)
                for path in (ref, ref + ".lock"):
                    refs.setdefault(path, set()).add(agent.id)
                folder = os.path.dirname(ref)
                if os.path.isdir(folder):
                    roots.add(folder)
        with self._lock:
            self._owners, self._refs, self._admin = owners, refs, admins
            if frozenset(roots) != self._roots:
                self._roots = frozenset(roots)
                self._changed_at = time.monotonic()
                self._generation.set()

    def covers(self, agent: Agent) -> bool:
        """True when the running watch sees every change of this agent."""
        if not self.running:
            return False
        worktree = os.path.realpath(agent.worktree)
        with self._lock:
            admin = self._admin.get((agent.id, worktree), "")
            return (
                bool(admin)
                and os.path.dirname(worktree) in self._active
                and os.path.dirname(admin) in self._active
            )

    def start(self, stop: threading.Event) -> None:
        """Start the watch thread (it ends when ``stop`` is set or `close` is called)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._run, args=(stop,), name="quarterdeck-diff-watch", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        """Stop watching."""
        self._stop.set()
        self._generation.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self, stop: threading.Event) -> None:
        stopped = _Either(stop, self._stop)
        while not stopped.is_set():
            with self._lock:
                wait = self._changed_at + RESTART_DEBOUNCE - time.monotonic()
            if wait > 0:
                self._stop.wait(wait)
                continue
            with self._lock:
                roots = sorted(r for r in self._roots if os.path.isdir(r))
                generation = self._generation = threading.Event()
                self._active = frozenset()  # covered once the watch is really set up
                owned = {aid for _, aid in self._owners}
            if not roots:
                while not stopped.is_set() and not generation.wait(0.5):
                    pass
                continue
            self.restarts += 1
            ready = False
            try:
                for changes in watchfiles.watch(
                    *roots,
                    watch_filter=self._wanted,
                    stop_event=_Either(stop, self._stop, generation),
                    debounce=200,
                    step=50,
                    rust_timeout=WATCH_READY_MS,
                    yield_on_timeout=True,
                    raise_interrupt=False,
                ):
                    if not ready:
                        # The first answer (changes, or a timeout) comes once the watch is
                        # set up: from now on it sees every change. Whatever changed before
                        # (while no watch ran, or while it was being set up) is looked at once.
                        ready = True
                        with self._lock:
                            self._active = frozenset(roots)
                        self._on_change(owned)
                    ids = self._owners_of(p for _, p in changes)
                    if ids:
                        self._on_change(ids)
            except Exception as exc:  # e.g. out of inotify watches: the engine polls instead
                self.error = f"{type(exc).__name__}: {exc}"
                with self._lock:
                    self._active = frozenset()
                return
        with self._lock:
            self._active = frozenset()

    def _wanted(self, _change: watchfiles.Change, path: str) -> bool:
        if path.startswith(self.common_dir + os.sep):
            return True
        with self._lock:
            owners = list(self._owners)
        for prefix, _aid in owners:
            if path.startswith(prefix):
                parts = path[len(prefix) :].split(os.sep)
                if any(p in _IGNORED_DIRS for p in parts[:-1]):
                    return False
                return not any(r.search(parts[-1]) for r in _IGNORED_NAMES)
        return False

    def _owners_of(self, paths: Iterable[str]) -> set[str]:
        with self._lock:
            owners, refs = list(self._owners), dict(self._refs)
        found: set[str] = set()
        for path in paths:
            if path in refs:
                found |= refs[path]
                continue
            for prefix, aid in owners:
                if path.startswith(prefix) or path == prefix[:-1]:
                    found.add(aid)
                    break
        return found


# ============================================================================ checks


class _Tail:
    """The last lines of a process's output (colour escapes and carriage-return redraws
    removed)."""

    def __init__(self) -> None:
        self.lines: deque[str] = deque(maxlen=CHECK_TAIL_LINES)
        self._partial = b""

    def feed(self, data: bytes) -> None:
        """Take more output."""
        *complete, self._partial = (self._partial + data).split(b"\n")
        for raw in complete:
            self.lines.append(self._clean(raw))
        if len(self._partial) > 64 * CHECK_LINE_CHARS:
            self._partial = self._partial[-CHECK_LINE_CHARS * 4 :]

    @staticmethod
    def _clean(raw: bytes) -> str:
        text = _ANSI.sub("", raw.decode("utf-8", "replace")).rstrip("\r")
        text = text.rsplit("\r", 1)[-1]
        return text if len(text) <= CHECK_LINE_CHARS else text[: CHECK_LINE_CHARS - 1] + "…"

    def text(self) -> str:
        """The tail as text."""
        lines = list(self.lines)
        if self._partial:
            lines = [*lines, self._clean(self._partial)][-CHECK_TAIL_LINES:]
        return "\n".join(lines)


@dataclass
class _Run:
    agent: Agent
    command: str
    proc: subprocess.Popen[bytes]
    started: float
    started_at: float
    commit: str
    dirty: bool
    tail: _Tail = field(default_factory=_Tail)
    cancel: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)

    def result(self) -> CheckResult:
        return CheckResult(
            self.command,
            CheckState.RUNNING,
            self.started_at,
            time.monotonic() - self.started,
            None,
            self.tail.text(),
            self.commit,
            self.dirty,
        )


def _start_time(pid: int) -> str:
    """A process's start time (from /proc), so a recycled pid is never taken for it."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return text[text.rfind(")") + 2 :].split()[19]


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _exited(pid: int) -> bool:
    """True when our child ``pid`` has exited (it is left for `Popen.wait` to reap)."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _killpg(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


# ============================================================================ review


_BLOCKED = re.compile(
    r"^error: (?:Entry|Untracked working tree file) '(.+)' (?:not uptodate|would be)"
)


def _overwritten(err: str) -> list[str]:
    """The files git's read-tree says it would overwrite (changed or untracked)."""
    return [m.group(1) for line in err.splitlines() if (m := _BLOCKED.match(line))]


class Review:
    """The fleet's review services: `Fleet` delegates the port's review calls here."""

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet
        self.repo = fleet.repo
        self.db = ReviewDB(fleet.store.path)
        self.reader = DiffReader(fleet.repo)
        self.watcher = FleetWatcher(fleet.repo.common_dir, self._changed)
        self._lock = threading.Lock()
        self._generation: dict[str, int] = {}
        self._diffs: dict[str, tuple[int, str, str, AgentDiff]] = {}
        self._paths: dict[str, frozenset[str]] = {}
        self._tracked: dict[str, tuple[str, str]] = {}
        self._dirty: set[str] = set()
        self._overlaps_due = False
        self._writer = False
        self._work = threading.Event()
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self._runs: dict[str, _Run] = {}
        self._checks_lock = threading.Lock()
        self._merge_lock = threading.Lock()
        #: The last error the background work met (shown nowhere yet; for debugging).
        self.last_error = ""

    # ------------------------------------------------------------------ watching

    @property
    def watching(self) -> bool:
        """True when this process keeps diff stats current through the watcher (otherwise
        `Fleet.sweep` refreshes them after activity)."""
        return self.watcher.running

    def start(self, stop: threading.Event) -> None:
        """Start the watcher and the thread that recomputes what it reports (the engine)."""
        self.watcher.start(stop)
        if self._worker is None:
            self._worker = threading.Thread(
                target=self._work_loop, args=(stop,), name="quarterdeck-diff-stats", daemon=True
            )
            self._worker.start()

    def close(self) -> None:
        """Stop watching; running checks of this process are cancelled (nobody would record
        their results)."""
        self._stop.set()
        self._work.set()
        self.watcher.close()
        for run in list(self._runs.values()):
            run.cancel.set()
            _killpg(run.proc.pid, signal.SIGTERM)
        for run in list(self._runs.values()):
            if not run.done.wait(CHECK_GRACE):
                _killpg(run.proc.pid, signal.SIGKILL)
                run.done.wait(2.0)

    def track(self, agents: Sequence[Agent], *, writer: bool) -> None:
        """Follow these agents (called after every engine tick; cheap when nothing changed).
        ``writer``: this process writes the agents' records (it holds the engine lock)."""
        wanted = {a.id: (a.worktree, a.base_commit) for a in agents}
        with self._lock:
            became_writer = writer and not self._writer
            self._writer = writer
            if wanted == self._tracked and not became_writer:
                return
            new = {i for i, where in wanted.items() if self._tracked.get(i) != where}
            gone = set(self._tracked) - set(wanted)
            for agent_id in gone:
                self._diffs.pop(agent_id, None)
                self._paths.pop(agent_id, None)
                self._generation.pop(agent_id, None)
            for agent_id in new:
                self._bump(agent_id)
            self._tracked = wanted
            self._dirty |= set(wanted) if became_writer else new
            self._overlaps_due = self._overlaps_due or bool(gone)
        self.watcher.set_agents(agents, self.fleet.settings.branch_prefix)
        self._work.set()

    def pending_stats(self) -> int:
        """How many agents' diff stats wait to be recomputed."""
        with self._lock:
            return len(self._dirty)

    def _bump(self, agent_id: str) -> None:
        self._generation[agent_id] = self._generation.get(agent_id, 0) + 1
        self._diffs.pop(agent_id, None)

    def _changed(self, agent_ids: set[str]) -> None:
        """The watcher saw these agents change: their cached diffs are stale at once; their
        stats are recomputed on the worker thread."""
        with self._lock:
            for agent_id in agent_ids:
                self._bump(agent_id)
            self._dirty |= agent_ids & set(self._tracked)
        self._work.set()

    def _work_loop(self, stop: threading.Event) -> None:
        """Recompute the stats of agents the watcher reported, the longest-stale first, at
        most `STATS_PER_SECOND` agents a second across the fleet: one edit shows within a
        second, and a hundred busy agents cost what ten do (each is refreshed every few
        seconds then)."""
        last: dict[str, float] = {}
        while not stop.is_set() and not self._stop.is_set():
            self._work.wait(1.0)
            self._work.clear()
            with self._lock:
                if not self._writer:
                    continue
                dirty = sorted(self._dirty, key=lambda i: last.get(i, 0.0))
                batch, rest = dirty[:STATS_BATCH], dirty[STATS_BATCH:]
                self._dirty = set(rest)
                overlaps_due, self._overlaps_due = self._overlaps_due, False
            changed, failed = False, set()
            for agent_id in batch:
                last[agent_id] = time.monotonic()
                try:
                    changed = self.refresh(agent_id) or changed
                except Exception as exc:  # keep watching; it is tried again
                    self.last_error = f"{type(exc).__name__}: {exc}"
                    failed.add(agent_id)
            if failed:
                # Again after the loop's next wait (a second at most), not at once: whatever
                # failed (git, the store) gets time to recover.
                with self._lock:
                    self._dirty |= failed & set(self._tracked)
            try:
                if changed or overlaps_due:
                    self._update_overlaps()
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                with self._lock:
                    self._overlaps_due = True
            if rest:
                # More to do: pace the batches.
                stop.wait(STATS_BATCH / STATS_PER_SECOND)
                self._work.set()

    def refresh(self, agent_id: str) -> bool:
        """Recompute one agent's diff stats and write them to its record. True when the set
        of paths it touches changed (overlaps need recomputing)."""
        agent = next((a for a in self.fleet.agents() if a.id == agent_id), None)
        if agent is None:
            agent = next((a for a in self.fleet.store.agents() if a.id == agent_id), None)
        if agent is None or not Path(agent.worktree).is_dir():
            return False
        files = self.reader.files(Path(agent.worktree), self._diff_base(agent))
        paths = frozenset(p for f in files for p in (f.path, f.old_path) if p)
        with self._lock:
            before = self._paths.get(agent_id)
            self._paths[agent_id] = paths
        self.fleet.update_fields(
            agent_id,
            lines_added=sum(f.added for f in files),
            lines_removed=sum(f.removed for f in files),
            files_changed=len(files),
        )
        return before != paths

    def _update_overlaps(self) -> None:
        agents = self.fleet.store.agents()
        with self._lock:
            paths = {a.name: self._paths.get(a.id, frozenset()) for a in agents}
        found = overlaps(paths)
        for agent in agents:
            wanted = tuple(sorted(found.get(agent.name, {})))
            if agent.overlap != wanted:
                self.fleet.update_fields(agent.id, overlap=wanted)

    def with_stats(self, agent: Agent) -> Agent:
        """The agent with fresh diff stats and overlap (for processes without a watcher)."""
        try:
            files = self.reader.files(Path(agent.worktree), self._diff_base(agent))
        except QuarterdeckError:
            return agent
        with self._lock:
            self._paths[agent.id] = frozenset(p for f in files for p in (f.path, f.old_path) if p)
            names = {a.id: a.name for a in self.fleet.agents()}
            names[agent.id] = agent.name
            paths = {names[i]: p for i, p in self._paths.items() if i in names}
        return replace(
            agent,
            lines_added=sum(f.added for f in files),
            lines_removed=sum(f.removed for f in files),
            files_changed=len(files),
            overlap=tuple(sorted(overlaps(paths).get(agent.name, {}))),
        )

    # ------------------------------------------------------------------ diffs

    def _diff_base(self, agent: Agent) -> str:
        """Where the agent's changes are counted from (see `DiffReader.base_of`)."""
        worktree = Path(agent.worktree)
        if not worktree.is_dir():
            return agent.base_commit
        return self.reader.base_of(worktree, agent.base, agent.base_commit)

    def diff(self, name: str) -> AgentDiff:
        """The agent's diff against its base; served from the cache while the watcher has
        seen no change in its worktree."""
        agent = self.fleet.get(name)
        covered = self.watcher.covers(agent)
        with self._lock:
            generation = self._generation.get(agent.id, 0)
            cached = self._diffs.get(agent.id)
            if (
                covered
                and cached is not None
                and cached[:3] == (generation, agent.worktree, agent.base_commit)
            ):
                return cached[3]
        diff = self.reader.diff(Path(agent.worktree), self._diff_base(agent))
        with self._lock:
            if covered and self._generation.get(agent.id, 0) == generation:
                self._diffs[agent.id] = (generation, agent.worktree, agent.base_commit, diff)
        return diff

    # ------------------------------------------------------------------ comments

    def comment(self, name: str, comment: Comment) -> Message:
        """Queue the review remark for the agent."""
        return self.fleet.send([name], comment.message(), MessageMode.QUEUE)[0]

    # ------------------------------------------------------------------ checks

    def settings(self) -> Settings:
        """The repository's settings as the files say now: a check command added while the
        dashboard runs counts (a file that does not parse is reported, not skipped)."""
        return load_settings(self.repo.root)

    def check_command(self, agent: Agent) -> str:
        """The agent's check command, or a `UsageError` saying how to set one."""
        command = self.settings().check_command(agent.name) or self.fleet.settings.check_command(
            agent.name
        )
        if not command:
            raise UsageError(
                'no check command: set check = "..." in .quarterdeck.toml (e.g. '
                'check = "pytest -q"), or [checks] ' + agent.name + ' = "..." for this agent'
            )
        return command

    def run_check(self, name: str) -> CheckResult:
        """Start the check command in the agent's worktree, in its own process group, and
        follow it on a thread. Returns the running check."""
        agent = self.fleet.get(name)
        command = self.check_command(agent)
        worktree = Path(agent.worktree)
        if not worktree.is_dir():
            raise QuarterdeckError(f"the worktree of {name} ({worktree}) is gone")
        with self._checks_lock:
            if agent.id in self._runs:
                raise UsageError(f"{name}'s check is already running; cancel it first")
            row = self.db.check(agent.id)
            if row is not None and row.result.state is CheckState.RUNNING and row.owner_alive:
                raise UsageError(
                    f"{name}'s check is already running (in Quarterdeck process {row.owner})"
                )
            head = self.repo.run("rev-parse", "HEAD", cwd=worktree, env=READ_ONLY)
            dirty = bool(self.repo.changed_files(worktree))
            env = {**os.environ, "QUARTERDECK_CHECK": "1", "QUARTERDECK_AGENT_NAME": name}
            proc = subprocess.Popen(
                ["sh", "-c", command],
                cwd=worktree,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=env,
            )
            run = _Run(agent, command, proc, time.monotonic(), time.time(), head, dirty)
            self._runs[agent.id] = run
            result = run.result()
            self.db.save_check(agent, result, proc.pid, _start_time(proc.pid))
        self.fleet.update_fields(agent.id, check=result.label, check_line=result.last_line)
        threading.Thread(
            target=self._follow, args=(run,), name=f"quarterdeck-check-{name}", daemon=True
        ).start()
        return result

    def _follow(self, run: _Run) -> None:
        """Read the check's output until it ends, then record how it ended."""
        assert run.proc.stdout is not None
        fd = run.proc.stdout.fileno()
        exited_at: float | None = None
        saved = time.monotonic()
        try:
            while True:
                ready, _, _ = select.select([fd], [], [], 0.2)
                if ready:
                    chunk = os.read(fd, 1 << 16)
                    if not chunk:
                        break
                    run.tail.feed(chunk)
                now = time.monotonic()
                if exited_at is None and _exited(run.proc.pid):
                    exited_at = now
                if exited_at is not None and now - exited_at > LEFTOVER_GRACE:
                    # Something the check started still holds its output open: its process
                    # group is killed; something that left the group is no longer waited for.
                    _killpg(run.proc.pid, signal.SIGKILL)
                    if now - exited_at > 2 * LEFTOVER_GRACE:
                        run.tail.feed(
                            b"\n(a process the check started outside its process group still "
                            b"holds its output: no longer read)\n"
                        )
                        break
                if now - saved > TAIL_SAVE_INTERVAL:
                    saved = now
                    self.db.save_tail(run.agent.id, run.tail.text(), run.started_at)
        finally:
            # The shell is not reaped yet, so its process group id cannot have been reused.
            _killpg(run.proc.pid, signal.SIGKILL)
            code = run.proc.wait()
            run.proc.stdout.close()
        cancelled = run.cancel.is_set()
        row = self.db.check(run.agent.id)
        if row is not None and row.result.started_at == run.started_at and row.cancel:
            cancelled = True
        if cancelled:
            state = CheckState.CANCELLED
        else:
            state = CheckState.PASSED if code == 0 else CheckState.FAILED
        result = CheckResult(
            run.command,
            state,
            run.started_at,
            time.monotonic() - run.started,
            code if code >= 0 else 128 - code,
            run.tail.text(),
            run.commit,
            run.dirty,
        )
        # The record first: whoever sees the check ended (`check`) sees the row say so.
        self.fleet.update_fields(run.agent.id, check=result.label, check_line=result.last_line)
        self.db.finish_check(run.agent.id, result, run.started_at)
        with self._checks_lock:
            self._runs.pop(run.agent.id, None)
        run.done.set()

    def cancel_check(self, name: str) -> None:
        """Stop the agent's running check (SIGTERM to its process group, SIGKILL after
        `CHECK_GRACE`), here or in the Quarterdeck process that runs it; it ends cancelled."""
        agent = self.fleet.get(name)
        with self._checks_lock:
            run = self._runs.get(agent.id)
        if run is not None:
            run.cancel.set()
            self.db.request_cancel(agent.id)
            _killpg(run.proc.pid, signal.SIGTERM)
            if not run.done.wait(CHECK_GRACE):
                _killpg(run.proc.pid, signal.SIGKILL)
                if not run.done.wait(5.0):
                    raise QuarterdeckError(f"{name}'s check did not end after SIGKILL")
            return
        row = self.db.check(agent.id)
        if row is None or row.result.state is not CheckState.RUNNING:
            raise UsageError(f"no check is running for {name}")
        self.db.request_cancel(agent.id)
        ours = row.pid > 0 and _start_time(row.pid) == row.pid_start
        if ours:
            _killpg(row.pid, signal.SIGTERM)
        if row.owner_alive:  # the process that runs it records it cancelled
            deadline = time.monotonic() + CHECK_GRACE
            while time.monotonic() < deadline:
                if self._final(agent.id):
                    return
                time.sleep(0.05)
            if ours:
                _killpg(row.pid, signal.SIGKILL)
            deadline = time.monotonic() + 5.0
            while time.monotonic() < deadline and not self._final(agent.id):
                time.sleep(0.05)
            if not self._final(agent.id):
                raise QuarterdeckError(
                    f"{name}'s check did not end: Quarterdeck process {row.owner} runs it"
                )
            return
        if ours:
            _killpg(row.pid, signal.SIGKILL)
        self._abandon(agent, row, "cancelled")

    def _final(self, agent_id: str) -> bool:
        row = self.db.check(agent_id)
        return row is None or row.result.final

    def _abandon(self, agent: Agent, row: _CheckRow, why: str) -> CheckResult:
        """Record as cancelled a check whose process can no longer record it."""
        tail = (row.result.tail + f"\n({why})").strip()
        result = CheckResult(
            row.result.command,
            CheckState.CANCELLED,
            row.result.started_at,
            max(0.0, time.time() - row.result.started_at),
            None,
            tail,
            row.result.commit,
            row.result.dirty,
        )
        self.db.finish_check(agent.id, result, row.result.started_at)
        self.fleet.update_fields(agent.id, check=result.label, check_line=result.last_line)
        return result

    def check(self, name: str) -> CheckResult | None:
        """The agent's latest check (a running one with its output so far)."""
        agent = self.fleet.get(name)
        with self._checks_lock:
            run = self._runs.get(agent.id)
        if run is not None:
            return run.result()
        row = self.db.check(agent.id)
        if row is None:
            return None
        if row.result.state is CheckState.RUNNING and not row.owner_alive:
            return self._abandon(
                agent, row, f"the Quarterdeck process that ran it (pid {row.owner}) has ended"
            )
        return row.result

    def recover_checks(self) -> None:
        """Checks left running by a Quarterdeck process that has ended are recorded as
        cancelled (called when an engine starts)."""
        for agent_id in self.db.running_checks():
            agent = next((a for a in self.fleet.store.agents() if a.id == agent_id), None)
            if agent is not None:
                with contextlib.suppress(QuarterdeckError):
                    self.check(agent.name)

    def wait_check(self, name: str, timeout: float | None = None) -> CheckResult | None:
        """The agent's check once it has ended (or as it is at the timeout)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            result = self.check(name)
            if result is None or result.final:
                return result
            if deadline is not None and time.monotonic() > deadline:
                return result
            time.sleep(0.1)

    # ------------------------------------------------------------------ merging

    def landed(self, agent: Agent) -> list[str]:
        """Tips of the agent's branch whose work landed in its base (squashed or rebased) and
        is still there."""
        tips = []
        for base, tip, result in self.db.merges(agent.id):
            if base == agent.base and self.repo.is_ancestor(result, f"refs/heads/{base}"):
                tips.append(tip)
        return tips

    def _rev(self, rev: str) -> str:
        try:
            return self.repo.run("rev-parse", "--verify", "-q", f"{rev}^{{commit}}")
        except git.GitCommandError:
            raise QuarterdeckError(f"{rev} does not exist") from None

    def _tree(self, commit: str) -> str:
        return self.repo.run("rev-parse", f"{commit}^{{tree}}")

    def _merge_tree(self, ours: str, theirs: str) -> tuple[str, tuple[str, ...]]:
        """The tree of merging two commits (objects only: no index, no worktree), and the
        conflicting files (empty when it merges cleanly)."""
        result = self.repo.call(
            "merge-tree", "--write-tree", "--name-only", "--no-messages", "-z", ours, theirs
        )
        if result.status not in (0, 1):
            raise QuarterdeckError(f"git merge-tree failed: {result.err.strip()}")
        parts = result.out.decode("utf-8", "surrogateescape").split("\0")
        conflicts = tuple(sorted({p for p in parts[1:] if p})) if result.status == 1 else ()
        return parts[0].strip(), conflicts

    def _commit_tree(
        self, tree: str, parents: Sequence[str], message: str, env: dict[str, str] | None = None
    ) -> str:
        args = ["commit-tree", tree]
        for parent in parents:
            args += ["-p", parent]
        try:
            return self.repo.run(*args, "-F", "-", input=message.encode(), env=env)
        except git.GitCommandError as exc:
            raise QuarterdeckError(f"git commit-tree failed: {str(exc.stderr).strip()}") from None

    def merge(
        self,
        name: str,
        strategy: MergeStrategy | None,
        *,
        force: bool,
        update_worktree: bool = False,
    ) -> MergeOutcome:
        """Land the agent's branch in its base by writing objects and moving the base ref
        (compare-and-swap). No working tree or index is touched — except, when
        ``update_worktree`` is given, the one worktree that has the base checked out, which
        is brought forward with the base as `git merge --ff-only` would (its uncommitted
        changes kept; nothing done if one would be overwritten). Without it, a checked-out
        base is refused (`BaseCheckedOutError`) with the command to run there."""
        agent = self.fleet.get(name)
        chosen = strategy or self.settings().merge_strategy
        with self._merge_lock:
            return self._merge(agent, chosen, force, update_worktree)

    def _merge(
        self, agent: Agent, strategy: MergeStrategy, force: bool, update_worktree: bool
    ) -> MergeOutcome:
        name, base, branch = agent.name, agent.base, agent.branch
        if not self.repo.branch_exists(base):
            raise UsageError(
                f"{name}'s base {base!r} is not a local branch, so there is nothing to merge "
                f"into; push it instead (quarterdeck push {name})"
            )
        if not self.repo.branch_exists(branch):
            raise QuarterdeckError(f"{name}'s branch {branch} is gone")
        worktree = Path(agent.worktree)
        changed = self.repo.changed_files(worktree) if worktree.is_dir() else ()
        if changed:
            n = len(changed)
            listed = ", ".join(changed[:5]) + (", …" if n > 5 else "")
            raise QuarterdeckError(
                f"{name} has {n} uncommitted or untracked file{'s' if n != 1 else ''} "
                f"({listed}): a merge takes only commits, so they would not be merged. Commit "
                f"them in {worktree} first (or ask {name} to), or remove them, then merge again"
            )
        tip = self._rev(f"refs/heads/{branch}")
        old = self._rev(f"refs/heads/{base}")
        if self.repo.is_ancestor(tip, old) or tip in self.landed(agent):
            return MergeOutcome(
                strategy,
                base,
                True,
                old,
                message=f"nothing to merge: every commit of {branch} is already in {base}",
            )
        try:
            command = self.check_command(agent)
        except UsageError:
            command = ""  # none set: nothing can have failed, nothing is required
        if command and not force:
            reason = check_refusal(self.check(name), tip, command)
            if reason:
                raise CheckRefusalError(
                    f"not merging {name}: {reason}. Run the check first (quarterdeck check "
                    f"{name} --run), or merge anyway with --force"
                )
        title = first_line(agent.prompt) or f"Work of agent {name}"
        conflicts: tuple[str, ...] = ()
        at = ""
        if strategy is MergeStrategy.REBASE:
            new, conflicts, at = self._replay(old, tip)
        elif strategy is MergeStrategy.SQUASH:
            if self.repo.is_ancestor(old, tip):
                tree = self._tree(tip)
            else:
                tree, conflicts = self._merge_tree(old, tip)
            new = ""
            if not conflicts and tree == self._tree(old):
                new = old  # its changes are all in the base already: no empty commit
            elif not conflicts:
                log = self.repo.run(
                    "log", "--reverse", "--no-merges", "--format=%H %s", f"{old}..{tip}"
                )
                commits = [line.partition(" ")[::2] for line in log.splitlines()]
                message = squash_message(title, branch, commits)
                new = self._commit_tree(tree, [old], message)
        elif self.repo.is_ancestor(old, tip):
            new = tip  # a fast-forward, as `git merge` does
        else:
            tree, conflicts = self._merge_tree(old, tip)
            message = f"Merge branch '{branch}' into {base}\n\n{title}\n"
            new = "" if conflicts else self._commit_tree(tree, [old, tip], message)
        if conflicts:
            self.db.save_conflict(agent.id, _Conflict(strategy, base, old, tip, conflicts))
            s = "s" if len(conflicts) != 1 else ""
            where = f" replaying {at[:7]}" if at else ""
            return MergeOutcome(
                strategy,
                base,
                False,
                conflicts=conflicts,
                message=(
                    f"{branch} conflicts with {base} (at {old[:7]}){where} in {len(conflicts)} "
                    f"file{s}: {', '.join(conflicts)}. Nothing was changed; send the conflict "
                    f"to {name} to resolve, or resolve it by hand"
                ),
            )
        if new == old:  # squashed or replayed to nothing: every change is in the base
            self.db.add_merge(agent, strategy, base, tip, old)
            return MergeOutcome(
                strategy,
                base,
                True,
                old,
                message=f"nothing to merge: every change of {branch} is already in {base}",
            )
        holders = self.repo.worktrees_on(base)
        if len(holders) > 1:
            listed = ", ".join(map(str, holders))
            raise QuarterdeckError(
                f"{base} is checked out in {len(holders)} worktrees ({listed}); nothing was "
                f"changed: switch all but one of them to another branch, then land {name} again"
            )
        holder = holders[0] if holders else None
        if holder is not None and not holder.is_dir():
            raise QuarterdeckError(
                f"{base} is checked out in {holder}, which no longer exists; nothing was "
                f"changed: run `git -C {shlex.quote(str(self.repo.root))} worktree prune`, "
                f"then land {name} again"
            )
        if holder is not None:
            if not update_worktree:
                raise BaseCheckedOutError(
                    self._checked_out(agent, strategy, holder), base, str(holder)
                )
            self._bring_forward(holder, old, new, dry_run=True)
        try:
            self.repo.run(
                "update-ref",
                "-m",
                f"quarterdeck: {strategy.value} {branch}",
                f"refs/heads/{base}",
                new,
                old,
            )
        except git.GitCommandError:
            raise QuarterdeckError(
                f"{base} moved while {name} was being merged; nothing was changed: merge again"
            ) from None
        if holder is not None:
            try:
                self._bring_forward(holder, old, new, dry_run=False)
            except QuarterdeckError as error:
                self._undo_ref(base, new, old, error)
        self.db.add_merge(agent, strategy, base, tip, new)
        how = {
            MergeStrategy.MERGE: "fast-forward" if new == tip else "merge commit",
            MergeStrategy.SQUASH: "one squashed commit",
            MergeStrategy.REBASE: "rebased",
        }[strategy]
        moved = f"; {holder}, where {base} is checked out, moved with it" if holder else ""
        if not command:
            moved += " (no check is set for this repository, so none was required)"
        return MergeOutcome(
            strategy,
            base,
            True,
            new,
            message=(
                f"merged {branch} into {base} ({how}): {base} is now at {new[:7]}{moved}. "
                f"{name} stays; remove it when done (quarterdeck rm {name})"
            ),
            worktree=str(holder or ""),
            how=how,
        )

    def _bring_forward(self, holder: Path, old: str, new: str, *, dry_run: bool) -> None:
        """Move the index and files of ``holder`` (which has the base checked out) from the
        tree of ``old`` to that of ``new``, as `git merge --ff-only` does: changes of the
        user's own that the move does not touch are kept, and nothing is done if one would be
        overwritten. ``dry_run`` only says whether it can."""
        if dry_run:
            busy = self.repo.operation_in_progress(holder)
            if busy:
                raise QuarterdeckError(
                    f"{holder} is in the middle of {busy}; nothing was changed: finish or abort "
                    "it there, then land again"
                )
            ignored = self._ignored_in_the_way(holder, old, new)
            if ignored:
                listed = ", ".join(ignored[:8]) + (", …" if len(ignored) > 8 else "")
                raise QuarterdeckError(
                    f"landing would overwrite files git ignores in {holder} ({listed}); "
                    "nothing was changed: move them away there, then land again"
                )
        args = ["read-tree", "-m", "-u", *(["-n"] if dry_run else []), old, new]
        result = self.repo.call(*args, cwd=holder)
        blocked = _overwritten(result.err)
        if blocked and dry_run and not self._really_changed(holder, result.err, blocked):
            # Only stale stat information (files touched, not changed): refresh it, as
            # `git status` would, and ask again.
            self.repo.call("update-index", "-q", "--refresh", cwd=holder)
            result = self.repo.call(*args, cwd=holder)
            blocked = _overwritten(result.err)
        if result.status == 0:
            return
        if blocked:
            listed = ", ".join(blocked[:8]) + (", …" if len(blocked) > 8 else "")
            raise QuarterdeckError(
                f"landing would overwrite uncommitted changes in {holder} ({listed}); nothing "
                "was changed: commit or stash them there, then land again"
            )
        raise QuarterdeckError(f"could not bring {holder} forward: {result.err.strip()}")

    def _ignored_in_the_way(self, holder: Path, old: str, new: str) -> list[str]:
        """Files the move from ``old`` to ``new`` would write in ``holder`` that are there now
        as ignored files (git would replace them without a word)."""
        out = self.repo.run("diff", "--name-only", "--no-renames", "-z", old, new)
        written = [p for p in out.split("\0") if p]
        found: list[str] = []
        for start in range(0, len(written), PATHSPEC_BATCH):
            listed = self.repo.run(
                "--literal-pathspecs",
                "ls-files",
                "-z",
                "--others",
                "--ignored",
                "--exclude-standard",
                "--",
                *written[start : start + PATHSPEC_BATCH],
                cwd=holder,
                env=READ_ONLY,
            )
            found += [p for p in listed.split("\0") if p]
        return found

    def _really_changed(self, holder: Path, err: str, paths: list[str]) -> bool:
        """Some of the ``paths`` read-tree refused are untracked, or differ from the index in
        ``holder`` by content (compared without writing the index)."""
        if "Untracked working tree file" in err:
            return True
        result = self.repo.call("diff", "--quiet", "--", *paths, cwd=holder, env=READ_ONLY)
        return result.status != 0

    def _undo_ref(self, base: str, new: str, old: str, error: QuarterdeckError) -> None:
        """Put ``base`` back where it was after its worktree could not follow it."""
        try:
            self.repo.run("update-ref", "-m", "quarterdeck: undo", f"refs/heads/{base}", old, new)
        except git.GitCommandError:
            raise QuarterdeckError(
                f"{error}. {base} had already moved to {new[:7]} and moved again since, so it "
                f"was left there (it was at {old[:7]})"
            ) from None
        raise error

    def _replay(self, old: str, tip: str) -> tuple[str, tuple[str, ...], str]:
        """Replay the branch's commits (merges left out, as `git rebase` does) onto ``old``,
        one by one, with objects only. Returns (new tip, conflicts, the commit that
        conflicted)."""
        fmt = "--format=%H%x1f%P%x1f%an%x1f%ae%x1f%ad%x1f%B%x1e"
        log = self.repo.run(
            "log", "--reverse", "--topo-order", "--no-merges", "--date=raw", fmt, f"{old}..{tip}"
        )
        current, current_tree = old, self._tree(old)
        for record in log.split("\x1e"):
            record = record.strip("\n")
            if not record:
                continue
            sha, parents, name, email, date, body = record.split("\x1f", 5)
            parent = parents.split()[0] if parents else ""
            if not parent:
                raise QuarterdeckError(f"cannot rebase {sha[:7]}: it has no parent")
            if parent == current:
                current, current_tree = sha, self._tree(sha)  # already on top: kept as is
                continue
            # A throw-away commit with the current tree on the replayed commit's parent: the
            # merge of it with the commit is the commit's change applied to the current tree.
            helper = self._commit_tree(current_tree, [parent], "quarterdeck: replay", _IDENT)
            tree, conflicts = self._merge_tree(helper, sha)
            if conflicts:
                return "", conflicts, sha
            if tree == current_tree:
                continue  # its change is already there
            author = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_AUTHOR_DATE": date}
            current, current_tree = self._commit_tree(tree, [current], body, author), tree
        return current, (), ""

    def _checked_out(self, agent: Agent, strategy: MergeStrategy, holder: Path) -> str:
        where = shlex.quote(str(holder))
        branch = shlex.quote(agent.branch)
        by_hand = {
            MergeStrategy.MERGE: f"git merge {branch}",
            MergeStrategy.SQUASH: f"git merge --squash {branch} && git commit",
            MergeStrategy.REBASE: (
                f"git -C {shlex.quote(agent.worktree)} rebase {shlex.quote(agent.base)} && "
                f"git merge --ff-only {branch}"
            ),
        }[strategy]
        return (
            f"{agent.base} is checked out in {holder}: landing moves {agent.base}, so that "
            "worktree's files would have to move with it, and Quarterdeck changes a working "
            "tree only when asked. Land again with --update-worktree to bring it forward too "
            "(changes of yours there are kept; nothing is done if one would be overwritten), "
            f"or merge there yourself: cd {where} && {by_hand}"
        )

    def send_conflict(self, name: str) -> Message:
        """Send the agent its last merge conflict: the files, the base commit, what to do."""
        agent = self.fleet.get(name)
        conflict = self.db.conflict(agent.id)
        if conflict is None:
            raise UsageError(f"no merge conflict is recorded for {name}")
        text = conflict_message(
            agent.branch, conflict.base, conflict.base_commit, conflict.files, conflict.strategy
        )
        return self.fleet.send([name], text, MessageMode.QUEUE)[0]

    # ------------------------------------------------------------------ pushing

    def push_branch(self, name: str) -> str:
        """Push the branch (setting its upstream), then open a pull request with `gh` when it
        is installed and logged in: returns the pull request's address, or what to run."""
        agent = self.fleet.get(name)
        remote = self._remote(agent)
        ref = f"refs/heads/{agent.branch}"
        try:
            self.repo.run(
                "push",
                "-u",
                remote,
                f"{ref}:{ref}",
                env={"GIT_TERMINAL_PROMPT": "0"},
                timeout=NETWORK_TIMEOUT,
            )
        except git.GitCommandError as exc:
            detail = str(exc.stderr).strip() or str(exc)
            raise QuarterdeckError(f"git push {remote} {agent.branch} failed: {detail}") from None
        pr = [
            "gh",
            "pr",
            "create",
            "--base",
            agent.base,
            "--head",
            agent.branch,
            "--title",
            first_line(agent.prompt) or agent.branch,
            "--body",
            self._pr_body(agent),
        ]
        pushed = f"pushed {agent.branch} to {remote}"
        left = self.repo.changed_files(Path(agent.worktree))
        if left:
            n = len(left)
            pushed += (
                f" (its {n} uncommitted or untracked file{'s' if n != 1 else ''} in the worktree"
                f" {'stay' if n != 1 else 'stays'} behind: only commits are pushed)"
            )
        gh = shutil.which("gh")
        if gh is None:
            return f"{pushed}; gh is not installed: open a pull request with\n{shlex.join(pr)}"
        if not _runs_ok([gh, "auth", "status"], self.repo.root):
            return f"{pushed}; gh is not logged in (gh auth login): then run\n{shlex.join(pr)}"
        try:
            done = subprocess.run(
                [gh, *pr[1:]],
                cwd=self.repo.root,
                capture_output=True,
                text=True,
                stdin=subprocess.DEVNULL,
                timeout=NETWORK_TIMEOUT,
                check=False,
                start_new_session=True,  # no terminal to prompt on
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{pushed}; gh pr create failed ({exc}): run\n{shlex.join(pr)}"
        urls = [w for w in done.stdout.split() if w.startswith(("https://", "http://"))]
        if done.returncode == 0 and urls:
            return urls[-1]
        why = (done.stderr or done.stdout).strip().splitlines()
        return f"{pushed}; gh pr create failed ({why[-1] if why else 'no output'}): run\n" + (
            shlex.join(pr)
        )

    def _remote(self, agent: Agent) -> str:
        remotes = self.repo.run("remote").split()
        if not remotes:
            raise QuarterdeckError(
                f"{self.repo.root} has no remote to push {agent.branch} to: add one (git remote "
                "add origin URL) and push again"
            )
        upstream = self.repo.call("config", "--get", f"branch.{agent.base}.remote").out.decode()
        if upstream.strip() in remotes:
            return upstream.strip()
        if "origin" in remotes:
            return "origin"
        if len(remotes) == 1:
            return remotes[0]
        raise QuarterdeckError(
            f"several remotes ({', '.join(remotes)}) and none is origin or {agent.base}'s "
            f"upstream: push by hand with git push -u REMOTE {agent.branch}"
        )

    def _pr_body(self, agent: Agent) -> str:
        log = self.repo.call(
            "log", "--reverse", "--format=- %h %s", f"{agent.base}..refs/heads/{agent.branch}"
        )
        commits = log.out.decode("utf-8", "replace").strip()
        parts = [f"Work of the Quarterdeck agent `{agent.name}` ({agent.kind})."]
        if agent.prompt.strip():
            parts.append("Task:\n\n" + "\n".join("> " + line for line in agent.prompt.splitlines()))
        if commits:
            parts.append("Commits:\n\n" + commits)
        # What the pushed branch changes (uncommitted work in the worktree is not pushed).
        stat = self.repo.call("diff", "--shortstat", f"{agent.base}...refs/heads/{agent.branch}")
        shortstat = stat.out.decode("utf-8", "replace").strip()
        if shortstat:
            parts.append(shortstat)
        return "\n\n".join(parts) + "\n"

    # ------------------------------------------------------------------ agents leaving

    def forget(self, agent: Agent) -> None:
        """An agent is being removed: its running check ends, its review state goes."""
        with self._checks_lock:
            run = self._runs.get(agent.id)
        if run is not None:
            run.cancel.set()
            _killpg(run.proc.pid, signal.SIGKILL)
            run.done.wait(5.0)
        self.db.forget(agent.id)
        self.reader.forget(agent.worktree)
        with self._lock:
            self._diffs.pop(agent.id, None)
            self._paths.pop(agent.id, None)
            self._overlaps_due = True
        self._work.set()


def _runs_ok(argv: list[str], cwd: Path) -> bool:
    try:
        done = subprocess.run(
            argv,
            cwd=cwd,
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=30,
            check=False,
            start_new_session=True,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def format_diff(diff: AgentDiff, *, stat: bool = False) -> str:
    """An agent's diff as text: a unified diff (summaries as comments), or one line per file
    with ``stat``; then a total."""
    out: list[str] = []
    for f in diff.files:
        name = f"{f.old_path} → {f.path}" if f.old_path else f.path
        if stat:
            note = f"  ({f.summary})" if f.binary else ""
            out.append(f"{f.change.value:<9} {name}  +{f.added} −{f.removed}{note}")
            continue
        old = (
            "/dev/null"
            if f.change in (FileChange.ADDED, FileChange.UNTRACKED)
            else "a/" + (f.old_path or f.path)
        )
        new = "/dev/null" if f.change is FileChange.DELETED else "b/" + f.path
        out.append(f"diff --quarterdeck {name} ({f.change.value})")
        out.append(f"--- {old}")
        out.append(f"+++ {new}")
        if f.summary:
            out.append(f"# {f.summary}")
        for hunk in f.hunks:
            out.append(hunk.header)
            out.extend(hunk.lines)
    n = len(diff.files)
    s = "s" if diff.commits != 1 else ""
    out.append(
        f"{n} file{'s' if n != 1 else ''} changed, +{diff.added} −{diff.removed} "
        f"({diff.commits} commit{s} since {diff.base_commit[:7]})"
    )
    return "\n".join(out)
