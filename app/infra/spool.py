"""The event spool: a folder where agents' hooks drop one file per event, and one watcher."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import watchfiles

#: The "agent" of an event that only wakes the engine (a message was queued by another process).
DOORBELL = "doorbell"

#: Files bigger than this are not events (a hook never writes one); they are removed unread.
MAX_EVENT_BYTES = 1 << 20


@dataclass(frozen=True)
class HookEvent:
    """One event an agent's hook reported, with the time its hook ran.

    ``order`` sorts events in the order their hooks ran: the hook's own clock in nanoseconds
    (the file's modification time for a file that carries none), then the file's name.
    """

    agent_id: str
    event: str
    payload: Any
    at: float
    order: tuple[int, str] = (0, "")


def _parse(path: Path) -> HookEvent | None:
    try:
        stat = path.stat()
        if stat.st_size > MAX_EVENT_BYTES:
            return None
        raw = path.read_bytes()
    except OSError:
        return None
    head, _, body = raw.partition(b"\n")
    parts = head.decode("ascii", "replace").split(" ")
    if len(parts) not in (2, 3):
        return None
    stamp = stat.st_mtime_ns  # an event written before hooks stamped theirs
    if len(parts) == 3:
        if not parts[2].isdigit():
            return None
        stamp = int(parts[2])
    text = body.decode("utf-8", "replace").strip()
    payload: Any = None
    if text:
        try:
            payload = json.loads(text)
        except ValueError:
            payload = text
    return HookEvent(
        agent_id=parts[0],
        event=parts[1],
        payload=payload,
        at=stamp / 1e9,
        order=(stamp, path.name),
    )


class EventSpool:
    """``<state dir>/events``: hooks write there (see ``app/hooks/qd-hook``), the engine drains."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def drain(self) -> list[HookEvent]:
        """Every complete event waiting, in the order their hooks ran (see `HookEvent.order`);
        each is read once and removed."""
        events: list[HookEvent] = []
        try:
            entries = list(os.scandir(self.directory))
        except OSError:
            return events
        for entry in entries:
            if entry.name.startswith("."):
                continue  # still being written
            path = Path(entry.path)
            event = _parse(path)
            with contextlib.suppress(OSError):
                path.unlink()
            if event is not None:
                events.append(event)
        events.sort(key=lambda e: e.order)
        return events

    def ring(self) -> None:
        """Wake the engine watching this spool, from any process."""
        with contextlib.suppress(OSError):
            fd, tmp = tempfile.mkstemp(prefix=".ring.", dir=self.directory)
            with os.fdopen(fd, "w") as fh:
                fh.write(f"{DOORBELL} ring {time.time_ns()}\n")
            os.replace(tmp, self.directory / f"ring.{os.getpid()}.{time.monotonic_ns()}")

    def watch(self, on_change: Callable[[], None], stop: threading.Event) -> threading.Thread:
        """Call ``on_change`` (on a thread) within milliseconds of an event file appearing."""

        def run() -> None:
            with contextlib.suppress(Exception):
                for _changes in watchfiles.watch(
                    self.directory,
                    # The default filter ignores everything under a `.git` folder: ours is one.
                    watch_filter=None,
                    stop_event=stop,
                    debounce=20,
                    step=5,
                    rust_timeout=500,
                    yield_on_timeout=False,
                    raise_interrupt=False,
                ):
                    on_change()

        thread = threading.Thread(target=run, name="quarterdeck-events", daemon=True)
        thread.start()
        return thread
