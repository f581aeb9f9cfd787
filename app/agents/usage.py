"""How many tokens an agent's CLI used, read from the files the CLI writes itself.

What counts, for every CLI alike: the input the model read fresh plus the output it wrote
(reasoning included). Input read back from a prompt cache does not count: every call reads the
whole conversation again, mostly from the cache, so counting those reads would make the figure
grow with the square of the conversation's length. Input written to a cache is read fresh, and
counts. (Codex calls the same sum its "blended total".)

A CLI's reader is a `Tally` fed the lines of one file; `tally` keeps each file's tally with how far
it was read, so a file that grew is read on from where it was left and an unchanged one is not
read at all (the task runner asks every few seconds while a round runs). Files are read a line at
a time, a malformed line is skipped, and `quietly` turns whatever a strange file raises into "no
information".
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

#: How much earlier than the round a session may seem to start (CLIs write their start time to
#: the second, or a moment after the runner recorded the round).
SLACK = 1.0
#: Files whose tallies are kept (beyond that, the memory starts again).
MAX_FILES = 1024


def number(value: object) -> int:
    """A token count as a CLI wrote it (a whole number, never negative); 0 for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return 0
    return max(int(value), 0)


def dig(record: object, *keys: str) -> object:
    """``record[k1][k2]…``, or None where a level is missing or not an object."""
    for key in keys:
        if not isinstance(record, Mapping):
            return None
        record = record.get(key)
    return record


def iso_time(value: object) -> float | None:
    """An ISO 8601 time (``2026-11-21T08:13:29.281Z``; local time when it names no zone) as
    seconds since the epoch, or None."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.astimezone()).timestamp()


def folders(worktree: Path) -> frozenset[str]:
    """The spellings of ``worktree`` a CLI may have recorded: as given, and with its links
    resolved (a CLI records the folder its process runs in)."""
    names = {str(worktree)}
    with contextlib.suppress(OSError, RuntimeError):
        names.add(str(worktree.resolve()))
    return frozenset(names)


class Tally:
    """What one file of a CLI says so far: its sessions (when each started, the tokens it used)
    and the folder they ran in, when the file says."""

    def __init__(self) -> None:
        #: The folder the file's sessions ran in (None until a line says).
        self.cwd: str | None = None

    def feed(self, line: bytes) -> None:
        """Take one complete line of the file."""

    def sessions(self) -> Iterable[tuple[float, int]]:
        """Each session's start (seconds since the epoch) and tokens so far."""
        return ()


class JsonTally(Tally):
    """A tally of a file of JSON lines (a line that is not a JSON object is skipped)."""

    def feed(self, line: bytes) -> None:
        """Parse the line and take it as a record."""
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            return
        if isinstance(record, dict):
            self.record(record)

    def record(self, record: dict[str, Any]) -> None:
        """Take one record."""


@dataclass
class _Read:
    file: tuple[int, int]  # device and inode: a file replaced under the same name starts over
    offset: int
    tally: Tally


T = TypeVar("T", bound=Tally)
_READ: dict[tuple[Path, type[Tally]], _Read] = {}
_LOCK = threading.Lock()


def tally(path: Path, kind: type[T], wanted: frozenset[str] | None = None) -> T | None:
    """``path`` read into a ``kind`` tally: on from where it was read before when it only grew.
    Reading stops early at a line that shows the file belongs to a folder not ``wanted`` (it
    goes on from there when one that wants it asks). A last line still being written is left
    for the next look. None when the file cannot be read."""
    try:
        info = os.stat(path)
        with _LOCK:
            key = (path, kind)
            seen = _READ.get(key)
            file = (info.st_dev, info.st_ino)
            if seen is None or seen.file != file or info.st_size < seen.offset:
                if len(_READ) >= MAX_FILES:
                    _READ.clear()
                seen = _READ[key] = _Read(file, 0, kind())
            if info.st_size > seen.offset:
                seen.offset = _read_on(path, seen, wanted)
            found = seen.tally
    except OSError:
        return None
    return found if isinstance(found, kind) else None


def _read_on(path: Path, seen: _Read, wanted: frozenset[str] | None) -> int:
    offset = seen.offset
    with path.open("rb") as fh:
        fh.seek(offset)
        for line in fh:
            if wanted is not None and seen.tally.cwd is not None and seen.tally.cwd not in wanted:
                break
            if not line.endswith(b"\n"):
                break
            offset += len(line)
            seen.tally.feed(line)
    return offset


def written_since(paths: Iterable[Path], since: float) -> list[Path]:
    """The files among ``paths`` written at or after ``since`` (a session that started then
    has written its file since)."""
    found = []
    for path in paths:
        try:
            if os.stat(path).st_mtime >= since - SLACK:
                found.append(path)
        except OSError:
            continue
    return found


def total(
    tallies: Iterable[Tally | None], since: float, wanted: frozenset[str] | None
) -> int | None:
    """The tokens of the sessions that started at or after ``since`` (in a folder ``wanted``,
    when given), or None when there is none."""
    used = [
        tokens
        for t in tallies
        if t is not None and (wanted is None or t.cwd in wanted)
        for started, tokens in t.sessions()
        if started >= since - SLACK
    ]
    return sum(used) if used else None


def tokens_in(
    files: Callable[[], Iterable[Path]],
    kind: type[Tally],
    since: float,
    wanted: frozenset[str] | None = None,
) -> int | None:
    """The tokens of the sessions that started at or after ``since`` (in a folder ``wanted``,
    when given) in the ``files`` a CLI writes, each read as a ``kind`` tally; quietly."""

    def read() -> int | None:
        recent = written_since(files(), since)
        return total((tally(path, kind, wanted) for path in recent), since, wanted)

    return quietly(read)


def quietly(read: Callable[[], int | None]) -> int | None:
    """``read()``, or None when it fails however it fails: another program's files must never
    stop the engine that reads them."""
    try:
        return read()
    except Exception:
        return None
