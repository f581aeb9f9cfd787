"""The engine lock (exactly one engine drives a repository at a time) and the repository's
mutex for making and unmaking agents (one process at a time)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from app.core.errors import LockTimeoutError


class EngineLock:
    """An advisory ``flock`` on a file in the state directory, released when the process dies."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock without waiting; False when another process holds it."""
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return True

    def holder(self) -> int | None:
        """The pid written by the current holder, if readable."""
        try:
            text = self.path.read_text().strip()
        except OSError:
            return None
        return int(text) if text.isdigit() else None

    def release(self) -> None:
        """Let another engine take over."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        """True while this process holds the lock."""
        return self._fd is not None


class RepositoryMutex:
    """The repository's lock for making and unmaking agents, held across processes: any number
    of commands and dashboards may spawn, restart and remove at once, one at a time.

    An exclusive ``flock`` on a file in the state directory, taken with a deadline, reentrant
    within a thread (a spawn a task's retry makes while it holds the lock takes it again), and
    released when the process dies.
    """

    def __init__(self, path: Path, timeout: float = 120.0) -> None:
        self.path = path
        self.timeout = timeout
        self._local = threading.RLock()
        self._depth = 0
        self._fd: int | None = None

    @contextlib.contextmanager
    def held(self, what: str) -> Iterator[None]:
        """Hold the lock for ``what`` (said in the error when it stays taken too long)."""
        deadline = time.monotonic() + self.timeout
        if not self._local.acquire(timeout=self.timeout):
            raise LockTimeoutError(self._taken(what))
        try:
            if self._depth == 0:
                self._fd = self._take(what, deadline)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0 and self._fd is not None:
                    fcntl.flock(self._fd, fcntl.LOCK_UN)
                    os.close(self._fd)
                    self._fd = None
        finally:
            self._local.release()

    def _take(self, what: str, deadline: float) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        pause = 0.005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise LockTimeoutError(self._taken(what)) from None
                time.sleep(pause)
                pause = min(pause * 2, 0.1)
                continue
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
            return fd

    def _taken(self, what: str) -> str:
        holder = EngineLock(self.path).holder()
        by = f" by process {holder}" if holder else ""
        return (
            f"cannot {what}: {self.path} has been held{by} for over {self.timeout:.0f} s; "
            "if that process hangs, end it and try again"
        )
