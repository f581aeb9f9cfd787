"""Diffs against real git repositories, worktrees and a real tmux server: what a diff holds and
that looking writes nothing, the watcher keeping stats current, overlaps, review comments, and
``quarterdeck diff``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from app.cli import main
from app.core.agent import SpawnRequest
from app.core.diff import Comment, FileChange, FileDiff, parse_hunks
from app.core.errors import QuarterdeckError
from app.core.landing import MergeStrategy
from app.fleet import diff_reader
from app.fleet.diff_reader import DiffReader
from app.fleet.engine import Engine
from app.fleet.fleet import Fleet
from app.infra.git import Repository
from tests.helpers import git, wait_for
from tests.integration.review_helpers import (
    commit,
    look,
    set_check,
    settled,
    spawn,
)


def test_diff_has_committed_uncommitted_and_untracked_changes_and_writes_nothing(
    repo: Path,
) -> None:
    commit(repo, "src/app.py", "a = 1\nb = 2\nc = 3\n", "app")
    commit(repo, "old name.txt", "kept\ncontent\nhere\n", "to rename")
    fleet = Fleet.open(repo)
    wt = spawn(fleet, "one")
    base = fleet.get("one").checkout.base_commit
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
    monkeypatch.setattr(diff_reader, "PATHSPEC_BATCH", 2)  # several commands

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
    reader = fleet.diffs.reader
    base = fleet.get("logger").checkout.base_commit

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
        wait_for(lambda: fleet.diffs.covers(fleet.get("w")), what="the watch")
        started = time.monotonic()
        (wt / "a.txt").write_text("one\ntwo\n")
        # The file may be seen empty first (created, then written): wait for both.
        wait_for(
            lambda: (
                (fleet.get("w").stats.files_changed, fleet.get("w").stats.lines_added) == (1, 2)
            ),
            timeout=5,
            what="the first edit",
        )
        first = time.monotonic() - started
        wait_for(
            lambda: (
                next(
                    (r.stats.files_changed, r.stats.lines_added)
                    for r in fleet.view().rows
                    if r.name == "w"
                )
                == (1, 2)
            ),
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
        diffs = fleet.diffs
        wait_for(
            lambda: fleet.get("w").stats.files_changed == 2,
            timeout=5,
            what=lambda: (
                f"the second edit (last error {diffs.last_error!r}, watcher error "
                f"{diffs.watcher.error!r}, {diffs.watcher.restarts} watch starts)"
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
        wait_for(lambda: fleet.diffs.covers(fleet.get("mine")), what="the watch")
        commit(mine, "mine.txt", "mine\n", "mine")
        commit(theirs, "theirs.txt", "theirs\n", "theirs")
        wait_for(lambda: fleet.get("mine").stats.files_changed == 1, what="mine's change")
        assert fleet.merge("theirs", MergeStrategy.MERGE, force=True).merged
        # Their work landed: their row counts nothing left to land.
        wait_for(lambda: fleet.get("theirs").stats.files_changed == 0, what="theirs landed")
        # Mine merges the base in: the base's work is not counted as mine.
        git(mine, "merge", "-q", "--no-edit", "develop")
        wait_for(lambda: fleet.diff("mine").commits == 2, what="the merge")
        assert [f.path for f in fleet.diff("mine").files] == ["mine.txt"]
        # The stats follow on the worker (a look in the middle of the merge may have counted
        # the base's file too).
        wait_for(lambda: fleet.get("mine").stats.files_changed == 1, what="mine's stats after it")
        assert fleet.merge("mine", MergeStrategy.MERGE, force=True).merged
        wait_for(lambda: fleet.get("mine").stats.files_changed == 0, what="mine landed")
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
        wait_for(lambda: fleet.diffs.covers(fleet.get("flaky")), what="the watch")
        monkeypatch.setattr(DiffReader, "files", failing_once)
        (wt / "a.txt").write_text("one\n")
        wait_for(lambda: not failures, what="the failure")
        # No other change comes: the stats arrive anyway.
        wait_for(lambda: fleet.get("flaky").stats.files_changed == 1, timeout=5, what="a retry")
        assert "index.lock exists" in fleet.diffs.last_error
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


def test_an_agent_started_from_anothers_work_is_not_flagged_until_that_one_edits_more(
    repo: Path,
) -> None:
    """A task that starts from its dependency's branch shares its files by construction:
    no overlap, unless the dependency goes on editing those files."""
    fleet = Fleet.open(repo)
    first = spawn(fleet, "first")
    tip = commit(first, "README.md", "first's readme\n", "first's work")
    fleet.spawn(SpawnRequest(prompt="", kind="shell", name="second", start_point=tip))
    second = Path(fleet.get("second").checkout.worktree)
    commit(second, "README.md", "first's readme\nand second's line\n", "second's work")
    # The look a process without a watcher takes (the watcher's worker shares the rule); each
    # look records the agent's paths, so the second pass compares both.
    for _ in range(2):
        looks = {name: fleet.diffs.with_stats(fleet.get(name)) for name in ("first", "second")}
    assert looks["second"].stats.files_changed == 1
    assert [a.overlap for a in looks.values()] == [(), ()]
    (first / "README.md").write_text("first edits it again\n")
    looks = {name: fleet.diffs.with_stats(fleet.get(name)) for name in ("first", "second")}
    assert looks["first"].overlap == ("second",) and looks["second"].overlap == ("first",)


def test_attempts_at_one_task_are_not_flagged_against_each_other(repo: Path) -> None:
    fleet = Fleet.open(repo)
    for name, task in (("try-1", "t#1"), ("try-2", "t#2"), ("other", "")):
        fleet.spawn(SpawnRequest(prompt="", kind="shell", name=name, task=task))
        Path(fleet.get(name).checkout.worktree, "README.md").write_text(f"{name}'s readme\n")
    for _ in range(2):
        looks = {n: fleet.diffs.with_stats(fleet.get(n)) for n in ("try-1", "try-2", "other")}
    assert looks["try-1"].overlap == ("other",) and looks["try-2"].overlap == ("other",)
    assert looks["other"].overlap == ("try-1", "try-2")


def test_comment_is_queued_for_the_agent(repo: Path) -> None:
    fleet = Fleet.open(repo)
    wt = spawn(fleet, "talk")
    (wt / "README.md").write_text("# test repo\nnew line\n")
    hunk = fleet.diff("talk").files[0].hunks[0]
    message = fleet.comment("talk", Comment("README.md", 2, hunk, "Say why.", index=1))
    assert message.text.startswith("Review comment on README.md line 2:")
    assert message.text.endswith("Say why.") and "+new line" in message.text


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
        "2 files changed, +2 −0 (0 commits since "
        + fleet.get("cli").checkout.base_commit[:7]
        + ")",
    ]
    assert main(["-C", str(repo), "diff", "cli"]) == 0
    assert "+more" in capsys.readouterr().out
    assert main(["-C", str(repo), "diff", "nobody"]) == 1
    assert main(["-C", str(repo), "check", "cli", "--run"]) == 2  # no check command
    set_check(repo, "echo fine")
    assert main(["-C", str(repo), "check", "cli", "--run"]) == 0
    assert "cli: passed" in capsys.readouterr().out
