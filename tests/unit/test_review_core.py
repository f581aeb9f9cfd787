"""The pure part of review: reading git's diff output, summaries, check labels and merge
refusals, conflict messages; and the review settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.errors import UsageError
from app.core.review import (
    MAX_FILE_DIFF_BYTES,
    CheckResult,
    CheckState,
    Comment,
    FileChange,
    MergeStrategy,
    binary_summary,
    check_refusal,
    conflict_message,
    count_lines,
    first_line,
    format_size,
    new_file_hunk,
    parse_hunks,
    parse_raw_numstat,
    split_patch,
    squash_message,
    too_large_summary,
    unquote_path,
)
from app.infra.settings import load_settings

RAW_NUMSTAT = (
    ":100644 100644 1111111 0000000 M\0src/app.py\0"
    ":100644 100644 2222222 3333333 R087\0old name.txt\0new näme.txt\0"
    ":000000 100644 0000000 4444444 A\0logo.png\0"
    ":100644 000000 5555555 0000000 D\0gone.txt\0"
    "2\t1\tsrc/app.py\0"
    "1\t1\t\0old name.txt\0new näme.txt\0"
    "-\t-\tlogo.png\0"
    "0\t3\tgone.txt\0"
)


def test_raw_and_numstat_entries_are_paired_in_order() -> None:
    entries = parse_raw_numstat(RAW_NUMSTAT)
    assert [(e.path, e.change, e.added, e.removed, e.old_path, e.binary) for e in entries] == [
        ("src/app.py", FileChange.MODIFIED, 2, 1, "", False),
        ("new näme.txt", FileChange.RENAMED, 1, 1, "old name.txt", False),
        ("logo.png", FileChange.ADDED, 0, 0, "", True),
        ("gone.txt", FileChange.DELETED, 0, 3, "", False),
    ]
    assert parse_raw_numstat("") == []


PATCH = """diff --git a/src/app.py b/src/app.py
index 1111111..2222222 100644
--- a/src/app.py
+++ b/src/app.py
@@ -1,3 +1,3 @@
 a = 1
-b = 2
+b = 20
 c = 3
diff --git a/sp ace.txt b/sp ace.txt
index 587be6b..975fbec 100644
--- a/sp ace.txt\t
+++ b/sp ace.txt\t
@@ -1 +1 @@
-x
+y
diff --git "a/we\\"ird.txt" "b/we\\"ird.txt"
deleted file mode 100644
--- "a/we\\"ird.txt"
+++ /dev/null
@@ -1 +0,0 @@
-gone
diff --git a/f.txt b/g.txt
similarity index 100%
rename from f.txt
rename to g.txt
diff --git a/run.sh b/run.sh
old mode 100644
new mode 100755
"""


def test_a_patch_splits_per_file_by_its_headers() -> None:
    sections = split_patch(PATCH)
    assert list(sections) == ["src/app.py", "sp ace.txt", 'we"ird.txt', "g.txt", "run.sh"]
    (hunk,) = parse_hunks(sections["src/app.py"])
    assert (hunk.old_start, hunk.old_count, hunk.new_start, hunk.new_count) == (1, 3, 1, 3)
    assert (hunk.added, hunk.removed) == (1, 1)
    assert parse_hunks(sections['we"ird.txt'])[0].lines == ("-gone",)
    assert parse_hunks(sections["g.txt"]) == ()


def test_only_newlines_end_lines_in_a_diff() -> None:
    odd = "a\x0cb", "c\x1cd", "e\u2028f", "g\rh", "i\x85j"
    patch = "@@ -1,5 +1,5 @@\n" + "".join(f"-{x}\n+{x}!\n" for x in odd)
    (hunk,) = parse_hunks(patch)
    assert hunk.lines == tuple(line for x in odd for line in (f"-{x}", f"+{x}!"))
    assert [hunk.new_line_of(i) for i in (1, 3, 9)] == [1, 2, 5]
    (new,) = new_file_hunk("x\x0cy\nz\n")
    assert new.lines == ("+x\x0cy", "+z") and new.new_count == 2


def test_a_file_that_became_a_symlink_keeps_both_halves() -> None:
    patch = (
        "diff --git a/link b/link\ndeleted file mode 100644\n--- a/link\n+++ /dev/null\n"
        "@@ -1 +0,0 @@\n-plain text\n"
        "diff --git a/link b/link\nnew file mode 120000\n--- /dev/null\n+++ b/link\n"
        "@@ -0,0 +1 @@\n+target.txt\n\\ No newline at end of file\n"
    )
    (only,) = split_patch(patch).items()
    assert only[0] == "link"
    assert [h.lines for h in parse_hunks(only[1])] == [
        ("-plain text",),
        ("+target.txt", "\\ No newline at end of file"),
    ]


def test_quoted_paths() -> None:
    assert unquote_path('"a/we\\"ird"') == 'a/we"ird'
    assert unquote_path('"\\303\\274n\\303\\257"') == "ünï"
    assert unquote_path('"tab\\there"') == "tab\there"
    assert unquote_path("plain name") == "plain name"


def test_untracked_files_become_one_hunk() -> None:
    (hunk,) = new_file_hunk("one\ntwo\n")
    assert hunk.header == "@@ -0,0 +1,2 @@" and hunk.lines == ("+one", "+two")
    (hunk,) = new_file_hunk("last")
    assert hunk.lines == ("+last", "\\ No newline at end of file") and hunk.added == 1
    assert new_file_hunk("") == ()
    assert [count_lines(b) for b in (b"", b"a", b"a\n", b"a\nb")] == [0, 1, 1, 2]


def test_summaries() -> None:
    assert [format_size(n) for n in (512, 12 * 1024, 3_500_000, 5 << 30)] == [
        "512 B",
        "12 KiB",
        "3.3 MiB",
        "5.0 GiB",
    ]
    assert binary_summary(12 * 1024, 14 * 1024) == "binary, 12 KiB → 14 KiB"
    assert binary_summary(None, 2048) == "binary, new, 2.0 KiB"
    assert binary_summary(2048, None) == "binary, deleted, 2.0 KiB"
    assert too_large_summary(29000, 1) == "+29000 −1: over 20000 changed lines; not shown"
    assert "its diff is 2.0 MiB" in too_large_summary(3, 0, 2 * MAX_FILE_DIFF_BYTES)
    big = too_large_summary(3, 0, 2 * MAX_FILE_DIFF_BYTES, what="the file")
    assert big == "+3 −0: the file is 2.0 MiB, over 1.0 MiB; not shown"


def test_check_labels_and_what_they_allow() -> None:
    head = "a" * 40

    def result(state: CheckState, commit: str = head, dirty: bool = False) -> CheckResult:
        return CheckResult("pytest -q", state, 0.0, 12.4, 0, "", commit, dirty)

    assert result(CheckState.PASSED).label == "passed 12s"
    assert result(CheckState.FAILED).label == "failed 12s"
    assert result(CheckState.RUNNING).label == "running"
    assert result(CheckState.CANCELLED).label == "cancelled"
    assert result(CheckState.PASSED, dirty=True).ran_on == "aaaaaaa+dirty"
    assert check_refusal(result(CheckState.PASSED), head) == ""
    assert check_refusal(None, head) == "no check has run on it"
    assert "failed with exit code 0" in check_refusal(result(CheckState.FAILED), head)
    assert "still running" in check_refusal(result(CheckState.RUNNING), head)
    assert "cancelled" in check_refusal(result(CheckState.CANCELLED), head)
    moved = check_refusal(result(CheckState.PASSED, "b" * 40), head)
    assert moved == "its latest check passed on bbbbbbb, but the branch is now at aaaaaaa"
    assert "uncommitted" in check_refusal(result(CheckState.PASSED, dirty=True), head)
    assert check_refusal(result(CheckState.PASSED), head, "pytest -q") == ""
    changed = check_refusal(result(CheckState.PASSED), head, "make test")
    assert changed == "its latest check ran `pytest -q`, but the check is now `make test`"


def test_a_checks_last_line_is_its_last_non_blank_line_once_it_ended() -> None:
    def result(state: CheckState, tail: str) -> CheckResult:
        return CheckResult("pytest -q", state, 0.0, 1.0, 1, tail)

    assert result(CheckState.FAILED, "a\n  1 failed, 3 passed  \n\n").last_line == (
        "1 failed, 3 passed"
    )
    assert result(CheckState.PASSED, "").last_line == ""
    assert result(CheckState.RUNNING, "collecting").last_line == ""


def test_comments_say_which_line_on_which_side() -> None:
    [hunk] = parse_hunks(
        "@@ -10,4 +10,4 @@ def f():\n"
        "     a = 1\n"
        "-    b = 2\n"
        "+    b = 3\n"
        "     return a + b\n"
        "\\ No newline at end of file\n"
    )
    assert [hunk.old_line_of(i) for i in range(4)] == [10, 11, 12, 12]
    assert [hunk.new_line_of(i) for i in range(4)] == [10, 11, 11, 12]
    removed = Comment("f.py", hunk.new_line_of(1), hunk, "Keep 2.", index=1)
    assert removed.where == "f.py removed line 11 (old numbering)"
    text = removed.message()
    assert text.startswith("Review comment on f.py removed line 11 (old numbering):\n@@ -10,4")
    assert "The remark is about this line:\n-    b = 2\n\nKeep 2." in text
    added = Comment("f.py", hunk.new_line_of(2), hunk, "Why 3?", index=2)
    assert added.where == "f.py line 11"
    assert "about this line:\n+    b = 3" in added.message()
    whole = Comment("f.py", hunk.new_start, hunk, "Split this.")
    assert whole.where == "f.py line 10 (the whole hunk)"
    assert "about this line" not in whole.message()


def test_merge_messages() -> None:
    assert first_line("\n  Fix the login bug  \nand more") == "Fix the login bug"
    assert len(first_line("x" * 100)) == 72
    message = squash_message("Fix it", "qd/fix", [("1" * 40, "one"), ("2" * 40, "two")])
    assert message == ("Fix it\n\nSquashed 2 commits of qd/fix:\n- 1111111 one\n- 2222222 two\n")
    text = conflict_message("qd/x", "main", "c" * 40, ["a.py", "b.py"], MergeStrategy.MERGE)
    assert text.startswith("Your branch qd/x cannot be merged into main (at ccccccc)")
    assert "conflicts in 2 files: a.py, b.py" in text
    assert "merge main into your branch (`git merge main`)" in text
    rebase = conflict_message("qd/x", "main", "c" * 40, ["a.py"], MergeStrategy.REBASE)
    assert "`git rebase main`" in rebase and "1 file: a.py" in rebase


def test_review_settings(tmp_path: Path) -> None:
    (tmp_path / ".quarterdeck.toml").write_text(
        'check = "pytest -q"\nmerge_strategy = "squash"\n[checks]\nslow = "make check"\n'
    )
    settings = load_settings(tmp_path)
    assert settings.merge_strategy is MergeStrategy.SQUASH
    assert settings.check_command("fast") == "pytest -q"
    assert settings.check_command("slow") == "make check"
    (tmp_path / ".quarterdeck.toml").write_text('merge_strategy = "octopus"\n')
    with pytest.raises(UsageError, match="merge_strategy 'octopus' is not one of"):
        load_settings(tmp_path)
    (tmp_path / ".quarterdeck.toml").write_text("check = 3\n")
    with pytest.raises(UsageError, match="check must be a command in quotes"):
        load_settings(tmp_path)
    (tmp_path / ".quarterdeck.toml").write_text("")
    assert load_settings(tmp_path).check_command("any") == ""
