"""Diffs for UI tests: a small one of every kind of file, and a big one."""

from __future__ import annotations

from app.core.diff import AgentDiff, FileChange, FileDiff, Hunk, parse_hunks


def sample_diff() -> AgentDiff:
    """A small diff: a modified Python file with two hunks, an added Markdown file, a binary
    image, a file too large to render and a rename."""
    app_py = parse_hunks(
        "@@ -1,6 +1,8 @@\n"
        ' """The login view."""\n'
        " \n"
        "-import os\n"
        "+import hashlib\n"
        "+import hmac\n"
        " \n"
        " \n"
        " def login(user, password):\n"
        "@@ -20,7 +22,9 @@ def login(user, password):\n"
        "     record = USERS.get(user)\n"
        "     if record is None:\n"
        "         return False\n"
        "-    return record.password == password\n"
        '+    # Compare in constant time: "==" leaks the length of the common prefix.\n'
        "+    digest = hashlib.sha256(password.encode()).hexdigest()\n"
        "+    return hmac.compare_digest(record.digest, digest)\n"
        " \n"
        " \n"
        " def logout(user):\n"
    )
    notes = parse_hunks(
        "@@ -0,0 +1,4 @@\n+# Login\n+\n+Passwords are compared in constant time.\n+\n"
    )
    return AgentDiff(
        base_commit="1a2b3c4d5e6f" + "0" * 28,
        commits=2,
        files=(
            FileDiff("src/login.py", FileChange.MODIFIED, 5, 2, hunks=app_py),
            FileDiff("docs/login.md", FileChange.ADDED, 4, 0, hunks=notes),
            FileDiff(
                "assets/logo.png",
                FileChange.MODIFIED,
                0,
                0,
                binary=True,
                summary="Binary file changed: 12.0 KiB → 14.5 KiB",
            ),
            FileDiff(
                "data/fixtures.json",
                FileChange.ADDED,
                9000,
                0,
                summary="9000 changed lines: too large to show (git diff shows it)",
            ),
            FileDiff(
                "src/auth/session.py",
                FileChange.RENAMED,
                1,
                1,
                old_path="src/session.py",
                hunks=parse_hunks("@@ -3,3 +3,3 @@\n import time\n-TTL = 60\n+TTL = 3600\n \n"),
            ),
        ),
    )


def big_diff(lines: int = 10_000, *, hunk_lines: int = 0) -> AgentDiff:
    """One Python file with ``lines`` changed lines (added and removed in turns, with context),
    in hunks of ``hunk_lines`` lines (0: one hunk)."""
    body: list[str] = []
    for n in range(lines):
        if n % 3 == 0:
            body.append(f"-    value_{n} = compute({n}, 'old')  # the old way")
        elif n % 3 == 1:
            body.append(f'+    value_{n} = compute({n}, "new")  # the new way')
        else:
            body.append(f"     total += value_{n - 1}")
    size = hunk_lines or lines
    hunks: list[Hunk] = []
    old = new = 1
    for start in range(0, lines, size):
        chunk = tuple(body[start : start + size])
        removed = sum(1 for line in chunk if line.startswith("-"))
        added = sum(1 for line in chunk if line.startswith("+"))
        context = len(chunk) - removed - added
        header = f"@@ -{old},{removed + context} +{new},{added + context} @@ def big():"
        hunks.append(Hunk(header, old, removed + context, new, added + context, chunk))
        old += removed + context + 10
        new += added + context + 10
    added = sum(h.added for h in hunks)
    removed = sum(h.removed for h in hunks)
    return AgentDiff(
        base_commit="9" * 40,
        commits=1,
        files=(FileDiff("src/big.py", FileChange.MODIFIED, added, removed, hunks=tuple(hunks)),),
    )
