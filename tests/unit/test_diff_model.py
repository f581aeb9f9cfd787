"""The diff model: reading git's diff output (raw and numstat entries, patches, quoted paths),
untracked files as hunks, summaries, and where a review comment points."""

from __future__ import annotations

from app.core.diff import (
    MAX_FILE_DIFF_BYTES,
    Comment,
    FileChange,
    binary_summary,
    count_lines,
    format_size,
    new_file_hunk,
    parse_hunks,
    parse_raw_numstat,
    patch_files,
    split_patch,
    too_large_summary,
    unquote_path,
)

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


def test_a_plain_patch_reads_as_files_with_their_changes_and_counts() -> None:
    more = (
        "diff --git a/logo.png b/logo.png\nindex 1..2 100644\n"
        "Binary files a/logo.png and b/logo.png differ\n"
        "diff --git a/new.py b/new.py\nnew file mode 100644\n--- /dev/null\n+++ b/new.py\n"
        "@@ -0,0 +1,2 @@\n+one\n+two\n"
    )
    files = patch_files(PATCH + more)
    assert [(f.path, f.change, f.added, f.removed, f.old_path, f.binary) for f in files] == [
        ("src/app.py", FileChange.MODIFIED, 1, 1, "", False),
        ("sp ace.txt", FileChange.MODIFIED, 1, 1, "", False),
        ('we"ird.txt', FileChange.DELETED, 0, 1, "", False),
        ("g.txt", FileChange.RENAMED, 0, 0, "f.txt", False),
        ("run.sh", FileChange.MODIFIED, 0, 0, "", False),
        ("logo.png", FileChange.MODIFIED, 0, 0, "", True),
        ("new.py", FileChange.ADDED, 2, 0, "", False),
    ]
    assert files[0].hunks[0].lines == (" a = 1", "-b = 2", "+b = 20", " c = 3")
    assert patch_files("") == ()


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
