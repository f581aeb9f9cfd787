"""An agent's diff against its base as files and hunks, the remarks made on it, branches that
touch the same files, and the readers of git's diff output that build it. Pure: git runs in
`app/fleet/diff_reader.py`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

#: A file with more changed lines than this is summarised, not rendered line by line.
MAX_RENDERED_LINES = 20_000
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
        return self.new_start + sum(1 for line in self.lines[:index] if line[:1] in ("+", " "))

    def old_line_of(self, index: int) -> int:
        """The line number in the old file of ``lines[index]`` (the nearest old-side line for an
        added line)."""
        return self.old_start + sum(1 for line in self.lines[:index] if line[:1] in ("-", " "))

    def removed_at(self, index: int | None) -> bool:
        """``lines[index]`` is a removed line (it has a number in the old file only)."""
        return index is not None and 0 <= index < len(self.lines) and self.lines[index][:1] == "-"


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
    #: The commit checked out in the agent's worktree when the diff was taken ('' = unknown).
    head: str = ""

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


_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def parse_hunks(text: str) -> tuple[Hunk, ...]:
    """The hunks of one file's unified diff (anything before the first ``@@`` is ignored)."""
    hunks: list[Hunk] = []
    header = ""
    numbers = (0, 0, 0, 0)
    lines: list[str] = []
    # Only "\n" ends a line in a diff: form feeds, \x1c-\x1e, U+2028 and lone "\r" are content.
    for line in text.split("\n"):
        match = _HUNK.match(line)
        if match:
            if header:
                hunks.append(Hunk(header, *numbers, tuple(lines)))
            header = line
            a, b, c, d = match.groups()
            numbers = (int(a), int(b or 1), int(c), int(d or 1))
            lines = []
        elif line.startswith("diff --git "):  # a second section of the same path
            if header:
                hunks.append(Hunk(header, *numbers, tuple(lines)))
            header, lines = "", []
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
    """A remark on a hunk or a line, to be sent to the agent as a steering message.

    ``line`` is the line's number in the new file (for a removed line, the nearest one);
    ``index`` is the remarked line's index in the hunk's lines (None: the whole hunk).
    """

    path: str
    line: int
    hunk: Hunk
    text: str
    index: int | None = None
    context_lines: int = field(default=6)

    @property
    def where(self) -> str:
        """Where the remark is: ``src/app.py line 12``, ``src/app.py removed line 9 (old
        numbering)``, ``src/app.py line 12 (the whole hunk)``."""
        if self.hunk.removed_at(self.index):
            assert self.index is not None
            return f"{self.path} removed line {self.hunk.old_line_of(self.index)} (old numbering)"
        if self.index is None:
            return f"{self.path} line {self.line} (the whole hunk)"
        return f"{self.path} line {self.line}"

    def message(self) -> str:
        """The message the agent gets: where, the hunk's lines around it, the remarked line
        itself, and the remark."""
        body = list(self.hunk.lines)
        if len(body) > self.context_lines * 2:
            # Keep the lines nearest the remarked line.
            index = max(0, min(len(body) - 1, self._index_of_line()))
            start = max(0, index - self.context_lines)
            body = body[start : start + self.context_lines * 2]
        quoted = "\n".join(body)
        on = ""
        if self.index is not None and 0 <= self.index < len(self.hunk.lines):
            on = f"The remark is about this line:\n{self.hunk.lines[self.index]}\n\n"
        return (
            f"Review comment on {self.where}:\n"
            f"{self.hunk.header}\n{quoted}\n\n{on}{self.text.strip()}"
        )

    def _index_of_line(self) -> int:
        if self.index is not None:
            return self.index
        for i in range(len(self.hunk.lines)):
            if self.hunk.new_line_of(i) >= self.line:
                return i
        return len(self.hunk.lines) - 1


# --------------------------------------------------------------------- reading git's output


@dataclass(frozen=True)
class ChangeEntry:
    """One changed file as ``git diff --raw --numstat -z`` reports it (no hunks)."""

    path: str
    change: FileChange
    added: int
    removed: int
    old_path: str = ""
    binary: bool = False


_CHANGE_OF = {"A": FileChange.ADDED, "D": FileChange.DELETED, "R": FileChange.RENAMED}


def parse_raw_numstat(text: str) -> list[ChangeEntry]:
    """The files of ``git diff --raw --numstat -z`` output: every raw entry (status and paths)
    paired with its numstat entry (counts; ``-`` for binary files), in git's order."""
    tokens = text.split("\0")
    raw: list[tuple[FileChange, str, str]] = []
    counts: list[tuple[int | None, int | None]] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if not token:
            continue
        if token.startswith(":"):
            status = token.split(" ")[4][:1] if token.count(" ") >= 4 else "M"
            if status in ("R", "C") and i + 1 < len(tokens):
                old, new = tokens[i], tokens[i + 1]
                i += 2
                change = FileChange.RENAMED if status == "R" else FileChange.ADDED
                raw.append((change, new, old if status == "R" else ""))
            elif i < len(tokens):
                raw.append((_CHANGE_OF.get(status, FileChange.MODIFIED), tokens[i], ""))
                i += 1
            continue
        added, _, rest = token.partition("\t")
        removed, _, path = rest.partition("\t")
        if not path:
            i += 2  # a rename: old and new path follow as their own tokens
        a = int(added) if added.isdigit() else None
        r = int(removed) if removed.isdigit() else None
        counts.append((a, r))
    entries = []
    for n, (change, path, old) in enumerate(raw):
        a, r = counts[n] if n < len(counts) else (0, 0)
        binary = a is None or r is None
        entries.append(ChangeEntry(path, change, a or 0, r or 0, old, binary))
    return entries


_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


def unquote_path(text: str) -> str:
    """A path as git prints it in a patch header: C-quoted (``"a/we\\"ird"``) or as is."""
    if len(text) < 2 or not (text.startswith('"') and text.endswith('"')):
        return text
    body, out, i = text[1:-1], bytearray(), 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in "01234567" and i + 3 < len(body) + 1:
                out.append(int(body[i + 1 : i + 4], 8) & 0xFF)
                i += 4
                continue
            out.append(_ESCAPES.get(nxt, ord(nxt)))
            i += 2
            continue
        out.extend(ch.encode("utf-8", "surrogateescape"))
        i += 1
    return out.decode("utf-8", "surrogateescape")


def _header_path(rest: str, prefix: str) -> str:
    if not rest.startswith('"') and rest.endswith("\t"):
        rest = rest[:-1]  # git ends a name with a space in it with a tab
    path = unquote_path(rest)
    return path[len(prefix) :] if path.startswith(prefix) else path


def split_patch(text: str) -> dict[str, str]:
    """One unified diff of many files (``a/`` and ``b/`` prefixes), split per file and keyed
    by the file's path (the new one; the old one for a deleted file)."""
    sections: dict[str, str] = {}
    lines: list[str] = []

    def flush() -> None:
        if not lines:
            return
        key = ""
        old = new = ""
        for line in lines[1:]:
            if line.startswith("@@"):
                break
            if line.startswith(("rename to ", "copy to ")):
                key = unquote_path(line.split(" ", 2)[2])
            elif line.startswith("--- "):
                old = _header_path(line[4:], "a/")
            elif line.startswith("+++ "):
                new = _header_path(line[4:], "b/")
        if not key:
            key = new if new and new != "/dev/null" else old
        if not key or key == "/dev/null":
            # No ---/+++ lines (a mode change): `diff --git a/<p> b/<p>` names the path twice.
            head = lines[0][len("diff --git ") :]
            if head.startswith('"'):
                end = head.find('" ', 1)
                key = _header_path(head[: end + 1], "a/") if end > 0 else head
            else:
                half = (len(head) - 1) // 2
                key = head[:half].removeprefix("a/")
        text = "\n".join(lines)
        # A file that became a symlink (or back) comes as two sections: a deletion and an
        # addition of the same path. Both are kept.
        sections[key] = f"{sections[key]}\n{text}" if key in sections else text

    for line in text.split("\n"):
        if line.startswith("diff --git "):
            flush()
            lines = [line]
        elif lines:
            lines.append(line)
    flush()
    return sections


def patch_files(text: str) -> tuple[FileDiff, ...]:
    """The files of one plain unified diff of many files (``git diff A B``), in its order, each
    with its hunks and counts: added, deleted and renamed files as their headers say, binary
    files marked (git prints no lines for them)."""
    files: list[FileDiff] = []
    for path, section in split_patch(text).items():
        header = section.split("\n@@", 1)[0].split("\n")
        change, old_path = FileChange.MODIFIED, ""
        if any(line.startswith("new file mode") for line in header):
            change = FileChange.ADDED
        elif any(line.startswith("deleted file mode") for line in header):
            change = FileChange.DELETED
        for line in header:
            if line.startswith("rename from "):
                change, old_path = FileChange.RENAMED, unquote_path(line.split(" ", 2)[2])
        binary = any(line.startswith(("Binary files ", "GIT binary patch")) for line in header)
        hunks = parse_hunks(section)
        added = sum(h.added for h in hunks)
        removed = sum(h.removed for h in hunks)
        files.append(FileDiff(path, change, added, removed, old_path, binary, hunks=hunks))
    return tuple(files)


def count_lines(data: bytes) -> int:
    """Lines in a text (a last line without a newline counts)."""
    if not data:
        return 0
    return data.count(b"\n") + (0 if data.endswith(b"\n") else 1)


def looks_binary(head: bytes) -> bool:
    """Git's test: a NUL byte in the first 8000 bytes."""
    return b"\0" in head[:8000]


def new_file_hunk(text: str) -> tuple[Hunk, ...]:
    """The hunk of a file that is entirely new (an untracked file)."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()  # the newline that ends the last line
    if not lines:
        return ()
    header = f"@@ -0,0 +1,{len(lines)} @@" if len(lines) != 1 else "@@ -0,0 +1 @@"
    body = tuple("+" + line for line in lines)
    if not text.endswith("\n"):
        body += ("\\ No newline at end of file",)
    return (Hunk(header, 0, 0, 1, len(lines), body),)


def format_size(size: int) -> str:
    """``512 B``, ``12 KiB``, ``3.4 MiB``, ``1.2 GiB``."""
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if value >= 10 else f"{value:.1f} {unit}"
    return f"{size} B"  # pragma: no cover


def binary_summary(old_size: int | None, new_size: int | None) -> str:
    """``binary, 12 KiB → 14 KiB`` (``new`` or ``deleted`` when one side is missing)."""
    if old_size is None and new_size is None:
        return "binary"
    if old_size is None:
        return f"binary, new, {format_size(new_size or 0)}"
    if new_size is None:
        return f"binary, deleted, {format_size(old_size)}"
    return f"binary, {format_size(old_size)} → {format_size(new_size)}"


def too_large_summary(
    added: int, removed: int, diff_bytes: int = 0, *, what: str = "its diff"
) -> str:
    """Why a text file's hunks were left out: too many changed lines, or ``what`` (its diff,
    or the file itself) is ``diff_bytes`` long."""
    if diff_bytes > MAX_FILE_DIFF_BYTES:
        return (
            f"+{added} −{removed}: {what} is {format_size(diff_bytes)}, over "
            f"{format_size(MAX_FILE_DIFF_BYTES)}; not shown"
        )
    return f"+{added} −{removed}: over {MAX_RENDERED_LINES} changed lines; not shown"
