"""Review and merge against real git repositories, worktrees and a real tmux server: diffs,
the watcher, overlaps, checks, merges, conflicts, pushes and the command line."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import git as git_errors
import pytest

from app.cli import main
from app.core.agent import SpawnRequest
from app.core.errors import BaseCheckedOutError, QuarterdeckError, UsageError
from app.core.messages import MessageState
from app.core.review import (
    CheckResult,
    CheckState,
    Comment,
    FileChange,
    FileDiff,
    MergeStrategy,
    parse_hunks,
)
from app.fleet import review as review_service
from app.fleet.engine import Engine
from app.fleet.fleet import Fleet
from app.fleet.review import DiffReader
from app.infra.git import Repository
from tests.helpers import git, wait_for

# --------------------------------------------------------------------------- helpers


def spawn(fleet: Fleet, name: str, base: str | None = None, prompt: str = "") -> Path:
    """A shell agent (it does nothing by itself) with its own worktree and branch."""
    fleet.spawn(SpawnRequest(prompt=prompt, kind="shell", name=name, base=base))
    return Path(fleet.get(name).worktree)


def commit(worktree: Path, path: str, text: str, message: str) -> str:
    """Write a file and commit it; the new commit."""
    target = worktree / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    git(worktree, "add", "--", path)
    git(worktree, "commit", "-q", "-m", message)
    return git(worktree, "rev-parse", "HEAD")


def look(worktree: Path) -> dict[str, object]:
    """Everything looking must not change in a worktree: its status, index (bytes and
    modification time), HEAD, and every file's bytes."""
    gitdir = Path(git(worktree, "rev-parse", "--absolute-git-dir"))
    index = gitdir / "index"
    files = {
        str(p.relative_to(worktree)): p.read_bytes()
        for p in sorted(worktree.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(worktree).parts
    }
    return {
        "status": git(worktree, "--no-optional-locks", "status", "--porcelain", "-uall"),
        "index": index.read_bytes() if index.exists() else b"",
        "index_mtime": index.stat().st_mtime_ns if index.exists() else 0,
        "head": git(worktree, "rev-parse", "HEAD"),
        "files": files,
    }


def advance(repo: Path, branch: str, path: str, text: str, message: str, where: Path) -> str:
    """Commit on ``branch`` in a throw-away worktree (the main one is never touched)."""
    git(repo, "worktree", "add", "-q", str(where), branch)
    try:
        return commit(where, path, text, message)
    finally:
        git(repo, "worktree", "remove", "--force", str(where))


def ended(pid: int) -> bool:
    """The process has exited (a zombie waiting for its new parent to reap it counts)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rfind(")") + 2 :].split()[0] in ("Z", "X")


def settled(calls: list[tuple[str, ...]], window: float = 0.5) -> None:
    """Wait until no git command has started for ``window`` seconds (the last edit's events
    have been looked at)."""
    seen = [len(calls), time.monotonic()]

    def still() -> bool:
        if len(calls) != seen[0]:
            seen[:] = [len(calls), time.monotonic()]
        return time.monotonic() - seen[1] >= window

    wait_for(still, timeout=10, what="git to go quiet")


def set_check(repo: Path, command: str) -> None:
    (repo / ".quarterdeck.toml").write_text(f"check = {json.dumps(command)}\n")


def latest(fleet: Fleet, name: str) -> CheckResult:
    result = fleet.check(name)
    assert result is not None, f"no check for {name}"
    return result


def run_check(fleet: Fleet, name: str) -> CheckState:
    fleet.run_check(name)
    wait_for(lambda: latest(fleet, name).final, what="the check to end")
    return latest(fleet, name).state


@pytest.fixture
def user_repo(repo: Path) -> Iterator[Path]:
    """The repository with a ``develop`` branch for agents to land in, and the user's main
    worktree (on ``main``) dirty: a modified file, a staged file, an untracked file."""
    git(repo, "branch", "develop")
    (repo / "README.md").write_text("# test repo\nthe user's unsaved edit\n")
    (repo / "staged.txt").write_text("staged by the user\n")
    git(repo, "add", "staged.txt")
    (repo / "scratch.txt").write_text("untracked notes\n")
    yield repo


# --------------------------------------------------------------------------- diffs


def test_diff_has_committed_uncommitted_and_untracked_changes_and_writes_nothing(
    repo: Path,
) -> None:
    commit(repo, "src/app.py", "a = 1\nb = 2\nc = 3\n", "app")
    commit(repo, "old name.txt", "kept\ncontent\nhere\n", "to rename")
    fleet = Fleet.open(repo)
    wt = spawn(fleet, "one")
    base = fleet.get("one").base_commit
    commit(wt, "src/app.py", "a = 1\nb = 20\nc = 3\n", "change b")
    git(wt, "mv", "old name.txt", "new näme.txt")
    git(wt, "commit", "-q", "-m", "rename")
    (wt / "src" / "app.py").write_text("a = 1\nb = 20\nc = 3\nd = 4\n")  # uncommitted
    (wt / "notes with spaces ü.md").write_text("one\ntwo\nthree\n")  # untracked
    (wt / "README.md").unlink()  # deleted, uncommitted
    before = look(wt)

    diff = fleet.diff("one")

    by_path = {f.path: f for f in diff.files}
    assert sorted(by_path) == [
        "README.md",
        "new näme.txt",
        "notes with spaces ü.md",
        "src/app.py",
    ]
    app = by_path["src/app.py"]
    assert (app.change, app.added, app.removed) == (FileChange.MODIFIED, 2, 1)
    assert [line for h in app.hunks for line in h.lines if line[0] in "+-"] == [
        "-b = 2",
        "+b = 20",
        "+d = 4",
    ]
    renamed = by_path["new näme.txt"]
    assert (renamed.change, renamed.old_path) == (FileChange.RENAMED, "old name.txt")
    untracked = by_path["notes with spaces ü.md"]
    assert (untracked.change, untracked.added, untracked.removed) == (FileChange.UNTRACKED, 3, 0)
    assert untracked.hunks[0].lines == ("+one", "+two", "+three")
    assert by_path["README.md"].change is FileChange.DELETED
    assert diff.commits == 2 and diff.base_commit == base
    assert diff.head == git(wt, "rev-parse", "HEAD")
    assert (diff.added, diff.removed) == (5, 2)
    assert "old name.txt" in diff.paths and "new näme.txt" in diff.paths
    # Looking changed nothing: index bytes and time, status, files, HEAD, refs.
    assert look(wt) == before
    assert git(wt, "ls-files", "--", "notes with spaces ü.md") == ""


def test_binary_and_large_files_are_summarised_quickly(repo: Path) -> None:
    blob = bytes(range(256)) * 48  # 12 KiB with NUL bytes
    (repo / "logo.bin").write_bytes(blob)
    git(repo, "add", "logo.bin")
    git(repo, "commit", "-q", "-m", "logo")
    fleet = Fleet.open(repo)
    wt = spawn(fleet, "big")
    (wt / "logo.bin").write_bytes(blob + blob[: 2 * 1024])  # 14 KiB
    (wt / "new.bin").write_bytes(b"\0" * 3000)  # untracked binary
    (wt / "huge.txt").write_text("".join(f"line {i}\n" for i in range(25_000)))
    commit(wt, "big.py", "".join(f"x{i} = {i}\n" for i in range(10_000)), "10000 lines")

    started = time.perf_counter()
    diff = fleet.diff("big")
    elapsed = time.perf_counter() - started

    files = {f.path: f for f in diff.files}
    logo = files["logo.bin"]
    assert logo.binary and not logo.hunks and logo.summary == "binary, 12 KiB → 14 KiB"
    assert files["new.bin"].binary and files["new.bin"].summary.startswith("binary, new")
    huge = files["huge.txt"]
    assert huge.added == 25_000 and not huge.hunks and "over 20000" in huge.summary
    parsed = files["big.py"]
    assert parsed.added == 10_000 and sum(h.added for h in parsed.hunks) == 10_000
    print(f"diff with a 25,000-line and a 10,000-line file: {elapsed * 1000:.0f} ms")
    # A 10,000-line hunk parses too, were it ever shown.
    text = "@@ -0,0 +1,10000 @@\n" + "".join(f"+line {i}\n" for i in range(10_000))
    assert parse_hunks(text)[0].added == 10_000


def test_what_is_shown_depends_neither_on_git_config_nor_on_how_many_files_changed(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git(repo, "config", "diff.suppressBlankEmpty", "true")
    commit(repo, "a.txt", "one\n\nthree\n", "a")
    commit(repo, "link", "plain text\n", "a file that becomes a symlink")
    fleet = Fleet.open(repo)
    wt = spawn(fleet, "many")
    commit(wt, "a.txt", "one\n\nthree!\n", "change a")
    for i in range(3):
        commit(wt, f"f{i}.txt", f"file {i}\n", f"f{i}")
    commit(wt, "huge.txt", "".join(f"line {i}\n" for i in range(25_000)), "huge")
    (wt / "link").unlink()
    (wt / "link").symlink_to("a.txt")
    git(wt, "add", "link")
    git(wt, "commit", "-q", "-m", "link")
    monkeypatch.setattr(review_service, "PATHSPEC_BATCH", 2)  # several commands

    files = {f.path: f for f in fleet.diff("many").files}

    assert files["a.txt"].hunks[0].lines == (" one", " ", "-three", "+three!")
    assert [files[f"f{i}.txt"].hunks[0].lines for i in range(3)] == [
        (f"+file {i}",) for i in range(3)
    ]
    assert not files["huge.txt"].hunks and "over 20000" in files["huge.txt"].summary
    link = [line for h in files["link"].hunks for line in h.lines]
    assert link[:2] == ["-plain text", "+a.txt"]


def test_a_growing_untracked_log_is_counted_from_where_it_was_counted_before(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fleet = Fleet.open(repo)
    wt = spawn(fleet, "logger")
    log = wt / "run.log"
    log.write_text("".join(f"line {i}\n" for i in range(100_000)))
    reader = fleet.review.reader
    base = fleet.get("logger").base_commit

    def lines() -> int:
        return next(f.added for f in reader.files(wt, base) if f.path == "run.log")

    assert lines() == 100_000
    read: list[int] = []
    opened = Path.open

    def counting(self: Path, *args: Any, **kwargs: Any) -> Any:
        handle = opened(self, *args, **kwargs)
        if self.name == "run.log":
            original = handle.read

            def read_and_count(n: int = -1) -> bytes:
                data: bytes = original(n)
                read.append(len(data))
                return data

            handle.read = read_and_count
        return handle

    monkeypatch.setattr(Path, "open", counting)
    with log.open("a") as fh:
        fh.write("one more\nand a half")
    assert lines() == 100_002
    assert sum(read) < 1000  # the new bytes (and the old last ones), not the whole log
    # Rewritten in place (same inode, other bytes where it ended): counted again, whole.
    log.write_text("short\n" * 3 + "x" * 2_000_000)
    assert lines() == 4


def test_the_watcher_updates_stats_at_once_and_git_stays_idle_while_nothing_changes(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, ...]] = []
    call = Repository.call

    def counting(self: Repository, *args: str, **kwargs: object) -> object:
        calls.append(args)
        return call(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Repository, "call", counting)
    fleet = Fleet.open(repo)
    wt = spawn(fleet, "w")
    engine = Engine(fleet, interval=0.05)  # fast ticks: ticks alone must not run git
    engine.start()
    try:
        wait_for(lambda: fleet.review.watcher.covers(fleet.get("w")), what="the watch")
        started = time.monotonic()
        (wt / "a.txt").write_text("one\ntwo\n")
        # The file may be seen empty first (created, then written): wait for both.
        wait_for(
            lambda: (fleet.get("w").files_changed, fleet.get("w").lines_added) == (1, 2),
            timeout=5,
            what="the first edit",
        )
        first = time.monotonic() - started
        wait_for(
            lambda: next((r.files, r.added) for r in fleet.view().rows if r.name == "w") == (1, 2),
            what="the row",
        )

        # Nothing changes: no git command at all, however often the engine ticks.
        settled(calls)
        quiet_from = len(calls)
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            assert calls[quiet_from:] == [], "git ran while nothing changed"
            time.sleep(0.1)

        started = time.monotonic()
        (wt / "b.txt").write_text("three\n")
        review = fleet.review
        wait_for(
            lambda: fleet.get("w").files_changed == 2,
            timeout=5,
            what=lambda: (
                f"the second edit (last error {review.last_error!r}, watcher error "
                f"{review.watcher.error!r}, {review.watcher.restarts} watch starts)"
            ),
        )
        second = time.monotonic() - started
        print(f"edit to row: {first * 1000:.0f} ms, then {second * 1000:.0f} ms")

        # A commit (it changes no file in the worktree) makes the cached diff stale at once.
        assert fleet.diff("w").commits == 0
        assert fleet.diff("w").commits == 0  # served from the cache
        git(wt, "add", "a.txt")
        git(wt, "commit", "-q", "-m", "a")
        wait_for(lambda: fleet.diff("w").commits == 1, timeout=3, what="the commit")
    finally:
        engine.stop()


def test_changes_are_counted_from_where_the_branch_meets_its_base_now(user_repo: Path) -> None:
    repo = user_repo
    fleet = Fleet.open(repo)
    mine, theirs = spawn(fleet, "mine", base="develop"), spawn(fleet, "theirs", base="develop")
    engine = Engine(fleet, interval=0.05)
    engine.start()
    try:
        wait_for(lambda: fleet.review.watcher.covers(fleet.get("mine")), what="the watch")
        commit(mine, "mine.txt", "mine\n", "mine")
        commit(theirs, "theirs.txt", "theirs\n", "theirs")
        wait_for(lambda: fleet.get("mine").files_changed == 1, what="mine's change")
        assert fleet.merge("theirs", MergeStrategy.MERGE, force=True).merged
        # Their work landed: their row counts nothing left to land.
        wait_for(lambda: fleet.get("theirs").files_changed == 0, what="theirs landed")
        # Mine merges the base in: the base's work is not counted as mine.
        git(mine, "merge", "-q", "--no-edit", "develop")
        wait_for(lambda: fleet.diff("mine").commits == 2, what="the merge")
        assert [f.path for f in fleet.diff("mine").files] == ["mine.txt"]
        assert fleet.get("mine").files_changed == 1
        assert fleet.merge("mine", MergeStrategy.MERGE, force=True).merged
        wait_for(lambda: fleet.get("mine").files_changed == 0, what="mine landed")
        assert fleet.diff("mine").files == () and fleet.diff("mine").commits == 0
    finally:
        engine.stop()


def test_stats_that_failed_to_compute_are_tried_again(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fleet = Fleet.open(repo)
    wt = spawn(fleet, "flaky")
    real = DiffReader.files
    failures = [QuarterdeckError("git diff failed: index.lock exists")]

    def failing_once(reader: DiffReader, worktree: Path, base: str) -> list[FileDiff]:
        if failures and worktree == wt:
            raise failures.pop()
        return real(reader, worktree, base)

    engine = Engine(fleet, interval=0.05)
    engine.start()
    try:
        wait_for(lambda: fleet.review.watcher.covers(fleet.get("flaky")), what="the watch")
        monkeypatch.setattr(DiffReader, "files", failing_once)
        (wt / "a.txt").write_text("one\n")
        wait_for(lambda: not failures, what="the failure")
        # No other change comes: the stats arrive anyway.
        wait_for(lambda: fleet.get("flaky").files_changed == 1, timeout=5, what="a retry")
        assert "index.lock exists" in fleet.review.last_error
    finally:
        engine.stop()


def test_overlapping_agents_are_flagged_on_both_rows(repo: Path) -> None:
    fleet = Fleet.open(repo)
    one, two, three = spawn(fleet, "one"), spawn(fleet, "two"), spawn(fleet, "three")
    engine = Engine(fleet, interval=0.05)
    engine.start()
    try:
        (one / "README.md").write_text("one's readme\n")
        (two / "README.md").write_text("two's readme\n")
        (three / "other.txt").write_text("elsewhere\n")

        def flagged() -> bool:
            rows = {r.name: r.overlap for r in fleet.view().rows}
            return rows == {"one": ("two",), "two": ("one",), "three": ()}

        wait_for(flagged, timeout=5, what="the overlap on both rows")
        (two / "README.md").write_text("# test repo\n")  # back as it was: no overlap
        wait_for(lambda: all(r.overlap == () for r in fleet.view().rows), timeout=5, what="cleared")
    finally:
        engine.stop()


# --------------------------------------------------------------------------- checks


def test_a_check_passes_or_fails_with_its_output_duration_and_commit(repo: Path) -> None:
    fleet = Fleet.open(repo)
    wt = spawn(fleet, "c")
    with pytest.raises(UsageError, match=r'no check command: set check = "\.\.\."'):
        fleet.run_check("c")
    set_check(repo, 'for i in $(seq 1 60); do echo "line $i"; done; echo "on $QUARTERDECK_CHECK"')
    assert run_check(fleet, "c") is CheckState.PASSED
    result = fleet.check("c")
    assert result is not None and result.exit_code == 0 and result.duration >= 0
    lines = result.tail.splitlines()
    assert len(lines) == 40 and lines[0] == "line 22" and lines[-1] == "on 1"
    assert result.commit == git(wt, "rev-parse", "HEAD") and not result.dirty
    assert fleet.get("c").check.startswith("passed ")
    assert fleet.get("c").check_line == "on 1"

    (wt / "wip.txt").write_text("uncommitted\n")
    set_check(repo, "echo checking; echo broken >&2; exit 3")
    assert run_check(fleet, "c") is CheckState.FAILED
    result = fleet.check("c")
    assert result is not None and result.exit_code == 3 and result.dirty
    assert result.tail == "checking\nbroken" and result.ran_on.endswith("+dirty")
    assert fleet.get("c").check.startswith("failed ")
    assert fleet.get("c").check_line == "broken"
    # Another process sees it (the store), and so does the command line.
    assert Fleet.open(repo).check("c") == result
    assert main(["-C", str(repo), "check", "c"]) == 1


def test_cancelling_a_check_ends_its_whole_process_group(repo: Path, tmp_path: Path) -> None:
    fleet = Fleet.open(repo)
    spawn(fleet, "slow")
    pids = tmp_path / "pids"
    set_check(repo, f"sleep 60 & echo $! > {pids}; echo started; wait")
    fleet.run_check("slow")
    wait_for(lambda: fleet.get("slow").check == "running")
    wait_for(lambda: "started" in latest(fleet, "slow").tail, what="output")
    child = int(pids.read_text())
    # Seen as running from another process too, with its output so far.
    other = Fleet.open(repo)
    wait_for(lambda: "started" in latest(other, "slow").tail, what="the tail saved")
    assert latest(other, "slow").state is CheckState.RUNNING
    with pytest.raises(UsageError, match="already running"):
        other.run_check("slow")
    other.cancel_check("slow")  # from the other process: the running one records it
    result = fleet.check("slow")
    assert result is not None and result.state is CheckState.CANCELLED
    assert fleet.get("slow").check == "cancelled"
    wait_for(lambda: ended(child), what="the check's child to end")
    with pytest.raises(UsageError, match="no check is running"):
        fleet.cancel_check("slow")


def test_a_check_ends_even_when_something_it_started_left_with_its_output(
    repo: Path, tmp_path: Path
) -> None:
    fleet = Fleet.open(repo)
    spawn(fleet, "stray")
    pid = tmp_path / "pid"
    # A daemon of its own session keeps the check's output open after the shell exits.
    set_check(repo, f"setsid sh -c 'echo $$ > {pid}; exec sleep 60' & echo started")
    fleet.run_check("stray")
    try:
        wait_for(lambda: latest(fleet, "stray").final, timeout=10, what="the check to end")
        result = latest(fleet, "stray")
        assert result.state is CheckState.PASSED and result.tail.startswith("started")
        assert "no longer read" in result.tail
        fleet.run_check("stray")  # not "already running"
        wait_for(lambda: latest(fleet, "stray").final, timeout=10, what="the second run")
    finally:
        wait_for(pid.exists, what="the daemon's pid")
        for line in pid.read_text().split():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(line), signal.SIGKILL)


def test_a_check_whose_owner_pid_was_reused_is_not_taken_for_running(repo: Path) -> None:
    fleet = Fleet.open(repo)
    spawn(fleet, "orphan")
    set_check(repo, "true")
    assert run_check(fleet, "orphan") is CheckState.PASSED
    agent = fleet.get("orphan")
    # As if a Quarterdeck process had died while its check ran, and its pid now belonged to
    # another process (here: this one, which did not start it).
    with sqlite3.connect(fleet.store.path) as db:
        db.execute(
            "UPDATE checks SET state = 'running', owner = ?, owner_start = 'another' "
            "WHERE agent_id = ?",
            (os.getpid(), agent.id),
        )
    other = Fleet.open(repo)
    assert latest(other, "orphan").state is CheckState.CANCELLED
    assert run_check(other, "orphan") is CheckState.PASSED


# --------------------------------------------------------------------------- merging


@pytest.mark.parametrize("strategy", list(MergeStrategy))
def test_merge_lands_the_branch_and_no_working_tree_is_touched(
    user_repo: Path, tmp_path: Path, strategy: MergeStrategy
) -> None:
    repo = user_repo
    fleet = Fleet.open(repo)
    wt = spawn(fleet, "feat", base="develop", prompt="Add the feature\nwith details")
    first = commit(wt, "feature.py", "def feature():\n    return 1\n", "add feature")
    second = commit(wt, "feature.py", "def feature():\n    return 2\n", "improve feature")
    # The base moved on meanwhile (in a throw-away worktree).
    old = advance(repo, "develop", "other.txt", "other work\n", "other", tmp_path / "side")
    set_check(repo, "true")
    assert run_check(fleet, "feat") is CheckState.PASSED
    user, agent = look(repo), look(wt)

    outcome = fleet.merge("feat", strategy, force=False)

    assert outcome.merged and outcome.strategy is strategy and outcome.base == "develop"
    new = git(repo, "rev-parse", "develop")
    assert outcome.commit == new != old
    assert git(repo, "show", "develop:feature.py") == "def feature():\n    return 2"
    assert git(repo, "show", "develop:other.txt") == "other work"
    if strategy is MergeStrategy.MERGE:
        assert git(repo, "rev-parse", "develop^1", "develop^2").split() == [old, second]
    elif strategy is MergeStrategy.SQUASH:
        assert git(repo, "rev-parse", "develop^") == old
        assert git(repo, "rev-list", "--count", "--parents", "develop^!") == "1"
        body = git(repo, "log", "-1", "--format=%B", "develop")
        assert body.startswith("Add the feature\n")
        assert f"- {first[:7]} add feature" in body and f"- {second[:7]} improve feature" in body
    else:
        assert git(repo, "rev-parse", "develop~2") == old
        assert git(repo, "log", "--format=%s", "-2", "develop").split("\n") == [
            "improve feature",
            "add feature",
        ]
        assert git(repo, "log", "-1", "--format=%an", "develop") == "Test"
    # The user's dirty main worktree and the agent's worktree are exactly as they were.
    assert look(repo) == user
    assert look(wt) == agent
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    # Its commits are in the base now: removing it needs no --discard-unmerged ...
    assert fleet.removal_risk("feat").safe
    again = fleet.merge("feat", strategy, force=False)
    assert again.merged and "nothing to merge" in again.message
    assert git(repo, "rev-parse", "develop") == new
    # ... until it commits more.
    commit(wt, "late.txt", "late\n", "late")
    assert fleet.removal_risk("feat").unmerged_commits == 1


@pytest.mark.parametrize("strategy", [MergeStrategy.SQUASH, MergeStrategy.REBASE])
def test_changes_already_in_the_base_land_as_nothing_not_as_an_empty_commit(
    user_repo: Path, tmp_path: Path, strategy: MergeStrategy
) -> None:
    repo = user_repo
    fleet = Fleet.open(repo)
    wt = spawn(fleet, "same", base="develop")
    commit(wt, "x.txt", "x\n", "x, by the agent")
    before = advance(repo, "develop", "x.txt", "x\n", "x, by someone else", tmp_path / "side")
    outcome = fleet.merge("same", strategy, force=True)
    assert outcome.merged and "nothing to merge" in outcome.message
    assert git(repo, "rev-parse", "develop") == before
    assert fleet.removal_risk("same").safe


def test_a_base_checked_out_is_refused_unless_its_worktree_may_move_too(
    user_repo: Path,
) -> None:
    repo = user_repo
    fleet = Fleet.open(repo)
    wt = spawn(fleet, "onmain", base="main")
    commit(wt, "f.txt", "f\n", "f")
    user, main_ref = look(repo), git(repo, "rev-parse", "main")
    with pytest.raises(BaseCheckedOutError, match="main is checked out in") as refused:
        fleet.merge("onmain", MergeStrategy.SQUASH, force=True)
    assert refused.value.worktree == str(repo)
    assert "--update-worktree" in str(refused.value)
    assert f"cd {repo} && git merge --squash qd/onmain && git commit" in str(refused.value)
    assert main(["-C", str(repo), "merge", "onmain", "--force"]) == 1
    assert look(repo) == user and git(repo, "rev-parse", "main") == main_ref


@pytest.mark.parametrize("strategy", list(MergeStrategy))
def test_landing_with_update_worktree_brings_it_forward_and_keeps_the_users_changes(
    user_repo: Path, tmp_path: Path, strategy: MergeStrategy
) -> None:
    repo = user_repo
    fleet = Fleet.open(repo)
    wt = spawn(fleet, "onmain", base="main")
    commit(wt, "src/new.py", "print('new')\n", "add new")
    commit(wt, "hello.txt", "added by the agent\n", "add hello")
    if strategy is not MergeStrategy.MERGE:  # a base that moved on: no fast-forward
        first = git(repo, "rev-parse", "main")
        git(repo, "worktree", "add", "-q", "-f", str(tmp_path / "side"), "main")
        commit(tmp_path / "side", "other.txt", "other\n", "other")
        git(repo, "worktree", "remove", str(tmp_path / "side"))
        git(repo, "read-tree", "-m", "-u", first, "main")  # as if the user had pulled it
    user_status = git(repo, "status", "--porcelain", "-uall")
    before = git(repo, "rev-parse", "main")

    outcome = fleet.merge("onmain", strategy, force=True, update_worktree=True)

    assert outcome.merged and outcome.worktree == str(repo)
    assert f"{repo}, where main is checked out, moved with it" in outcome.message
    new = git(repo, "rev-parse", "main")
    assert new == outcome.commit != before
    assert git(repo, "rev-parse", "HEAD") == new
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    # The agent's work is in the user's files; the user's own changes are exactly as they were.
    assert (repo / "src/new.py").read_text() == "print('new')\n"
    assert (repo / "hello.txt").read_text() == "added by the agent\n"
    assert git(repo, "status", "--porcelain", "-uall") == user_status
    assert (repo / "README.md").read_text() == "# test repo\nthe user's unsaved edit\n"
    assert git(repo, "diff", "--cached", "--name-only") == "staged.txt"
    assert (repo / "scratch.txt").read_text() == "untracked notes\n"
    assert fleet.removal_risk("onmain").safe


@pytest.mark.parametrize("in_the_way", ["modified", "untracked"])
def test_update_worktree_changes_nothing_when_it_would_overwrite_the_users_work(
    user_repo: Path, in_the_way: str
) -> None:
    repo = user_repo
    fleet = Fleet.open(repo)
    wt = spawn(fleet, "onmain", base="main")
    commit(wt, "notes/todo.md", "agent's todo\n", "add todo")
    if in_the_way == "modified":
        commit(wt, "README.md", "# retitled by the agent\n", "retitle")
        culprit = "README.md"  # the user's unsaved edit (see user_repo)
    else:
        (repo / "notes").mkdir()
        (repo / "notes/todo.md").write_text("the user's own todo\n")
        culprit = "notes/todo.md"
    user, main_ref = look(repo), git(repo, "rev-parse", "main")

    with pytest.raises(QuarterdeckError, match=f"would overwrite uncommitted changes .*{culprit}"):
        fleet.merge("onmain", MergeStrategy.MERGE, force=True, update_worktree=True)

    assert git(repo, "rev-parse", "main") == main_ref
    assert look(repo) == user
    command = ["-C", str(repo), "merge", "onmain", "--force", "--update-worktree"]
    assert main(command) == 1
    if in_the_way == "untracked":
        (repo / culprit).unlink()
    else:
        git(repo, "checkout", culprit)
        # Touched, not changed: stale stat information in the index is not taken for a change.
        later = (repo / culprit).stat().st_mtime_ns + 5 * 10**9
        os.utime(repo / culprit, ns=(later, later))
    assert main(command) == 0
    assert git(repo, "rev-parse", "HEAD") == git(repo, "rev-parse", "qd/onmain")
    assert (repo / "notes/todo.md").read_text() == "agent's todo\n"


def test_a_base_being_rebased_counts_as_checked_out(repo: Path) -> None:
    fleet = Fleet.open(repo)
    wt = spawn(fleet, "agent", base="main")
    commit(wt, "g.txt", "agent's\n", "g")
    # The user rebases main on a branch of theirs and stops at a conflict: main's worktree is
    # detached meanwhile, and git moves main when the rebase ends.
    git(repo, "checkout", "-q", "-b", "side")
    commit(repo, "f.txt", "side\n", "side")
    git(repo, "checkout", "-q", "main")
    commit(repo, "f.txt", "main\n", "main")
    main_ref = git(repo, "rev-parse", "main")
    subprocess.run(["git", "-C", str(repo), "rebase", "side"], capture_output=True, check=False)
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "HEAD"  # detached, mid-rebase
    with pytest.raises(BaseCheckedOutError):
        fleet.merge("agent", MergeStrategy.MERGE, force=True)
    with pytest.raises(QuarterdeckError, match="in the middle of a rebase"):
        fleet.merge("agent", MergeStrategy.MERGE, force=True, update_worktree=True)
    assert git(repo, "rev-parse", "main") == main_ref


def test_update_worktree_never_overwrites_ignored_files_or_a_vanished_checkout(
    user_repo: Path, tmp_path: Path
) -> None:
    repo = user_repo
    commit(repo, ".gitignore", "*.log\n", "ignore logs")
    (repo / "build.log").write_text("the user's own log\n")
    fleet = Fleet.open(repo)
    wt = spawn(fleet, "logger", base="main")
    (wt / "build.log").write_text("the agent's log\n")
    git(wt, "add", "-f", "build.log")
    git(wt, "commit", "-q", "-m", "log")
    main_ref = git(repo, "rev-parse", "main")
    with pytest.raises(QuarterdeckError, match=r"overwrite files git ignores .*\(build.log\)"):
        fleet.merge("logger", MergeStrategy.MERGE, force=True, update_worktree=True)
    assert (repo / "build.log").read_text() == "the user's own log\n"
    assert git(repo, "rev-parse", "main") == main_ref

    # A checkout of the base whose folder was deleted by hand: git still counts it.
    spawn(fleet, "dev", base="develop")
    commit(Path(fleet.get("dev").worktree), "d.txt", "d\n", "d")
    git(repo, "worktree", "add", "-q", str(tmp_path / "gone"), "develop")
    shutil.rmtree(tmp_path / "gone")
    with pytest.raises(QuarterdeckError, match=r"no longer exists.*worktree prune"):
        fleet.merge("dev", MergeStrategy.MERGE, force=True, update_worktree=True)
    git(repo, "worktree", "prune")
    assert fleet.merge("dev", MergeStrategy.MERGE, force=True).merged


def test_merge_is_refused_without_a_passing_check_on_the_tip_or_with_uncommitted_work(
    user_repo: Path,
) -> None:
    repo = user_repo
    fleet = Fleet.open(repo)
    wt = spawn(fleet, "careful", base="develop")
    commit(wt, "a.txt", "a\n", "a")
    develop = git(repo, "rev-parse", "develop")

    def refused(match: str) -> None:
        with pytest.raises(QuarterdeckError, match=match):
            fleet.merge("careful", None, force=False)
        assert git(repo, "rev-parse", "develop") == develop

    set_check(repo, "exit 1")
    refused("not merging careful: no check has run on it.*--force")
    assert run_check(fleet, "careful") is CheckState.FAILED
    refused("its latest check failed with exit code 1")
    set_check(repo, "true")
    assert run_check(fleet, "careful") is CheckState.PASSED
    tip = commit(wt, "b.txt", "b\n", "b")
    refused(f"passed on .*, but the branch is now at {tip[:7]}")
    (wt / "wip.txt").write_text("not committed\n")
    refused("1 uncommitted or untracked file .*wip.txt.*would not be merged")
    (wt / "wip.txt").unlink()
    assert main(["-C", str(repo), "merge", "careful"]) == 1
    assert main(["-C", str(repo), "merge", "careful", "--force"]) == 0
    assert git(repo, "rev-parse", "develop") == tip  # a fast-forward


def test_with_no_check_set_none_is_required(user_repo: Path) -> None:
    fleet = Fleet.open(user_repo)
    wt = spawn(fleet, "free", base="develop")
    tip = commit(wt, "a.txt", "a\n", "a")
    outcome = fleet.merge("free", None, force=False)
    assert outcome.merged and git(user_repo, "rev-parse", "develop") == tip
    assert "no check is set for this repository, so none was required" in outcome.message


@pytest.mark.parametrize("strategy", [MergeStrategy.MERGE, MergeStrategy.REBASE])
def test_a_conflict_changes_nothing_and_goes_to_the_agent(
    user_repo: Path, tmp_path: Path, strategy: MergeStrategy
) -> None:
    repo = user_repo
    fleet = Fleet.open(repo)
    wt = spawn(fleet, "clash", base="develop")
    commit(wt, "notes.txt", "fine\n", "unrelated")
    commit(wt, "README.md", "# the agent's title\n", "retitle")
    old = advance(repo, "develop", "README.md", "# the base's title\n", "base", tmp_path / "x")
    user, agent = look(repo), look(wt)
    objects_before = git(repo, "for-each-ref")

    outcome = fleet.merge("clash", strategy, force=True)

    assert not outcome.merged and outcome.conflicts == ("README.md",)
    assert "Nothing was changed" in outcome.message
    assert git(repo, "rev-parse", "develop") == old
    assert git(repo, "for-each-ref") == objects_before
    assert look(repo) == user and look(wt) == agent
    message = fleet.send_conflict("clash")
    assert message.state is MessageState.PENDING and message.agent_name == "clash"
    assert "README.md" in message.text and old[:7] in message.text
    todo = "git merge develop" if strategy is MergeStrategy.MERGE else "git rebase develop"
    assert todo in message.text
    assert fleet.messages("clash")[-1].id == message.id


def test_comment_is_queued_for_the_agent(repo: Path) -> None:
    fleet = Fleet.open(repo)
    wt = spawn(fleet, "talk")
    (wt / "README.md").write_text("# test repo\nnew line\n")
    hunk = fleet.diff("talk").files[0].hunks[0]
    message = fleet.comment("talk", Comment("README.md", 2, hunk, "Say why.", index=1))
    assert message.text.startswith("Review comment on README.md line 2:")
    assert message.text.endswith("Say why.") and "+new line" in message.text


# --------------------------------------------------------------------------- pushing


def test_git_runs_without_a_terminal_and_a_timeout_ends_all_it_started(
    repo: Path, tmp_path: Path
) -> None:
    repository = Repository.discover(repo)
    # What a command git starts (ssh, a credential helper) sees: another session, so no
    # controlling terminal to prompt on.
    sid = repository.run("-c", "alias.sid=!ps -o sid= -p $$", "sid")
    assert int(sid) != os.getsid(0)
    pid = tmp_path / "pid"
    hang = f"alias.hang=!sh -c 'echo $$ > {pid}; exec sleep 60'"
    with pytest.raises(git_errors.GitCommandError, match="timed out"):
        repository.run("-c", hang, "hang", timeout=1.0)
    wait_for(lambda: ended(int(pid.read_text())), what="the hung child to be killed")


def _path_without_gh() -> str:
    keep = [d for d in os.environ["PATH"].split(os.pathsep) if not (Path(d) / "gh").exists()]
    return os.pathsep.join(keep)


def test_push_to_a_bare_remote_then_pr_command_or_gh(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fleet = Fleet.open(repo)
    wt = spawn(fleet, "pub", prompt="Fix the login bug")
    tip = commit(wt, "fix.py", "fixed = True\n", "fix")
    with pytest.raises(QuarterdeckError, match="has no remote to push qd/pub to"):
        fleet.push_branch("pub")
    assert main(["-C", str(repo), "push", "pub"]) == 1

    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    git(repo, "remote", "add", "origin", str(remote))
    monkeypatch.setenv("PATH", _path_without_gh())
    assert shutil.which("gh") is None
    said = fleet.push_branch("pub")
    assert git(remote, "rev-parse", "refs/heads/qd/pub") == tip
    assert git(repo, "config", "branch.qd/pub.remote") == "origin"
    assert "gh is not installed" in said
    assert "gh pr create --base main --head qd/pub --title 'Fix the login bug' --body" in said
    # The body speaks of what was pushed, not of work still uncommitted in the worktree.
    (wt / "scratch.txt").write_text("not committed\n" * 50)
    body = fleet.push_branch("pub")
    assert "1 file changed, 1 insertion(+)" in body and "51 insertions" not in body
    assert "its 1 uncommitted or untracked file in the worktree stays behind" in body

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "gh.log"
    (bin_dir / "gh").write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$*" >> {log}\n'
        'case "$1" in pr) echo "https://github.com/acme/repo/pull/7";; esac\n'
    )
    (bin_dir / "gh").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{_path_without_gh()}")
    commit(wt, "more.py", "more = 1\n", "more")
    assert fleet.push_branch("pub") == "https://github.com/acme/repo/pull/7"
    calls = log.read_text().splitlines()
    assert calls[0] == "auth status"
    assert calls[1].startswith("pr create --base main --head qd/pub --title Fix the login bug")
    assert git(remote, "rev-parse", "refs/heads/qd/pub") == git(wt, "rev-parse", "HEAD")


# --------------------------------------------------------------------------- command line


def test_diff_on_the_command_line(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fleet = Fleet.open(repo)
    wt = spawn(fleet, "cli")
    (wt / "README.md").write_text("# test repo\nmore\n")
    (wt / "new.txt").write_text("x\n")
    assert main(["-C", str(repo), "diff", "cli", "--stat"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "modified  README.md  +1 −0",
        "untracked new.txt  +1 −0",
        "2 files changed, +2 −0 (0 commits since " + fleet.get("cli").base_commit[:7] + ")",
    ]
    assert main(["-C", str(repo), "diff", "cli"]) == 0
    assert "+more" in capsys.readouterr().out
    assert main(["-C", str(repo), "diff", "nobody"]) == 1
    assert main(["-C", str(repo), "check", "cli", "--run"]) == 2  # no check command
    set_check(repo, "echo fine")
    assert main(["-C", str(repo), "check", "cli", "--run"]) == 0
    assert "cli: passed" in capsys.readouterr().out
