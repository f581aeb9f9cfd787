"""An agent's diff as the command line prints it."""

from __future__ import annotations

from app.core.diff import AgentDiff, FileChange, FileDiff, parse_hunks
from app.core.diff_text import format_diff

DIFF = AgentDiff(
    base_commit="abcdef1234",
    files=(
        FileDiff(
            "src/app.py",
            FileChange.MODIFIED,
            1,
            1,
            hunks=parse_hunks("@@ -1,2 +1,2 @@\n a = 1\n-b = 2\n+b = 3\n"),
        ),
        FileDiff("new name.txt", FileChange.RENAMED, 0, 0, old_path="old.txt"),
        FileDiff("logo.png", FileChange.UNTRACKED, 0, 0, binary=True, summary="binary, new, 2 B"),
        FileDiff("gone.txt", FileChange.DELETED, 0, 3, hunks=parse_hunks("@@ -1 +0,0 @@\n-x\n")),
    ),
    commits=1,
)


def test_stat_is_one_line_per_file_then_the_total() -> None:
    assert format_diff(DIFF, stat=True).splitlines() == [
        "modified  src/app.py  +1 −1",
        "renamed   old.txt → new name.txt  +0 −0",
        "untracked logo.png  +0 −0  (binary, new, 2 B)",
        "deleted   gone.txt  +0 −3",
        "4 files changed, +1 −4 (1 commit since abcdef1)",
    ]


def test_the_full_diff_has_headers_summaries_and_hunks() -> None:
    text = format_diff(DIFF).splitlines()
    assert text[:8] == [
        "diff --quarterdeck src/app.py (modified)",
        "--- a/src/app.py",
        "+++ b/src/app.py",
        "@@ -1,2 +1,2 @@",
        " a = 1",
        "-b = 2",
        "+b = 3",
        "diff --quarterdeck old.txt → new name.txt (renamed)",
    ]
    assert text[8:10] == ["--- a/old.txt", "+++ b/new name.txt"]
    assert text[10:14] == [
        "diff --quarterdeck logo.png (untracked)",
        "--- /dev/null",
        "+++ b/logo.png",
        "# binary, new, 2 B",
    ]
    assert text[14:17] == [
        "diff --quarterdeck gone.txt (deleted)",
        "--- a/gone.txt",
        "+++ /dev/null",
    ]
    assert text[-1] == "4 files changed, +1 −4 (1 commit since abcdef1)"
    one = AgentDiff(base_commit="0" * 40, files=DIFF.files[:1], commits=2)
    assert format_diff(one).splitlines()[-1] == "1 file changed, +1 −1 (2 commits since 0000000)"
