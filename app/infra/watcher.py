"""One watchfiles thread for many owners' folders and files, reporting which owners changed.

Each owner (an agent, for the fleet) names folders (everything under them counts, but for
caches, environments and VCS folders: watchfiles' default ignore rules) and single files.
What is watched are the folders *holding* those, so the watch restarts only when that set of
folders changes (debounced), not when an owner comes or goes inside them.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import watchfiles

#: The watch answers at least this often (ms), with nothing when nothing changed; its first
#: answer says it is set up.
WATCH_READY_MS = 1000
#: Folders are re-watched this long after the set of watched folders last changed.
RESTART_DEBOUNCE = 0.2
#: Folders whose changes are never reported (watchfiles' defaults: caches, environments, VCS).
_IGNORED_DIRS = frozenset(watchfiles.DefaultFilter.ignore_dirs)
_IGNORED_NAMES = tuple(re.compile(p) for p in watchfiles.DefaultFilter.ignore_entity_patterns)


@dataclass(frozen=True)
class Watched:
    """What one owner watches: ``folders`` (real paths; everything under them) and ``files``
    (exact paths)."""

    folders: tuple[str, ...] = ()
    files: tuple[str, ...] = ()


class _Either:
    """Set when either event is (watchfiles only needs ``is_set``)."""

    def __init__(self, *events: threading.Event) -> None:
        self.events = events

    def is_set(self) -> bool:
        return any(e.is_set() for e in self.events)


class Watcher:
    """Watches every owner's folders and files on one thread; calls ``on_change`` (on that
    thread) with the owners whose paths changed, and once with every owner when a watch is set
    up (whatever changed while none ran). Paths under ``unfiltered`` (a git dir, which the
    default rules would drop) are never dropped by the ignore rules."""

    def __init__(self, on_change: Callable[[set[str]], None], *, unfiltered: str = "") -> None:
        self._unfiltered = os.path.realpath(unfiltered) + os.sep if unfiltered else ""
        self._on_change = on_change
        self._lock = threading.Lock()
        self._prefixes: list[tuple[str, str]] = []
        self._files: dict[str, set[str]] = {}
        self._needs: dict[str, frozenset[str]] = {}
        self._roots: frozenset[str] = frozenset()
        self._active: frozenset[str] = frozenset()
        self._changed_at = 0.0
        self._generation = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: Why the watch gave up ('' while it runs), e.g. out of inotify watches.
        self.error = ""
        #: How many times a watch was set up.
        self.restarts = 0

    @property
    def running(self) -> bool:
        """The watch thread runs (and has not given up)."""
        return self._thread is not None and self._thread.is_alive() and not self.error

    def set_watched(self, watched: Mapping[str, Watched]) -> None:
        """Watch these owners' paths (cheap when the folders holding them stay the same: a few
        stat calls)."""
        prefixes: list[tuple[str, str]] = []
        files: dict[str, set[str]] = {}
        needs: dict[str, frozenset[str]] = {}
        roots: set[str] = set()
        for owner, what in watched.items():
            holders = set()
            for folder in what.folders:
                prefixes.append((folder + os.sep, owner))
                holder = os.path.dirname(folder)
                holders.add(holder)
                if os.path.isdir(holder):
                    roots.add(holder)
            needs[owner] = frozenset(holders)
            for path in what.files:
                files.setdefault(path, set()).add(owner)
                holder = os.path.dirname(path)
                if os.path.isdir(holder):
                    roots.add(holder)
        with self._lock:
            self._prefixes, self._files, self._needs = prefixes, files, needs
            if frozenset(roots) != self._roots:
                self._roots = frozenset(roots)
                self._changed_at = time.monotonic()
                self._generation.set()

    def covers(self, owner: str) -> bool:
        """True when the running watch sees every change in the owner's folders."""
        if not self.running:
            return False
        with self._lock:
            needs = self._needs.get(owner, frozenset())
            return bool(needs) and needs <= self._active

    def start(self, stop: threading.Event) -> None:
        """Start the watch thread (it ends when ``stop`` is set or `close` is called)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._run, args=(stop,), name="quarterdeck-diff-watch", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        """Stop watching."""
        self._stop.set()
        self._generation.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self, stop: threading.Event) -> None:
        stopped = _Either(stop, self._stop)
        while not stopped.is_set():
            with self._lock:
                wait = self._changed_at + RESTART_DEBOUNCE - time.monotonic()
            if wait > 0:
                self._stop.wait(wait)
                continue
            with self._lock:
                roots = sorted(r for r in self._roots if os.path.isdir(r))
                generation = self._generation = threading.Event()
                self._active = frozenset()  # covered once the watch is really set up
                owned = set(self._needs)
            if not roots:
                while not stopped.is_set() and not generation.wait(0.5):
                    pass
                continue
            self.restarts += 1
            ready = False
            try:
                for changes in watchfiles.watch(
                    *roots,
                    watch_filter=self._wanted,
                    stop_event=_Either(stop, self._stop, generation),
                    debounce=200,
                    step=50,
                    rust_timeout=WATCH_READY_MS,
                    yield_on_timeout=True,
                    raise_interrupt=False,
                ):
                    if not ready:
                        # The first answer (changes, or a timeout) comes once the watch is
                        # set up: from now on it sees every change. Whatever changed before
                        # (while no watch ran, or while it was being set up) is looked at once.
                        ready = True
                        with self._lock:
                            self._active = frozenset(roots)
                        self._on_change(owned)
                    ids = self._owners_of(p for _, p in changes)
                    if ids:
                        self._on_change(ids)
            except Exception as exc:  # e.g. out of inotify watches: the owner polls instead
                self.error = f"{type(exc).__name__}: {exc}"
                with self._lock:
                    self._active = frozenset()
                return
        with self._lock:
            self._active = frozenset()

    def _wanted(self, _change: watchfiles.Change, path: str) -> bool:
        if self._unfiltered and path.startswith(self._unfiltered):
            return True
        with self._lock:
            prefixes = list(self._prefixes)
        for prefix, _owner in prefixes:
            if path.startswith(prefix):
                parts = path[len(prefix) :].split(os.sep)
                if any(p in _IGNORED_DIRS for p in parts[:-1]):
                    return False
                return not any(r.search(parts[-1]) for r in _IGNORED_NAMES)
        return False

    def _owners_of(self, paths: Iterable[str]) -> set[str]:
        with self._lock:
            prefixes, files = list(self._prefixes), dict(self._files)
        found: set[str] = set()
        for path in paths:
            if path in files:
                found |= files[path]
                continue
            for prefix, owner in prefixes:
                if path.startswith(prefix) or path == prefix[:-1]:
                    found.add(owner)
                    break
        return found
