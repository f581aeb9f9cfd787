"""The engine: one background thread per repository that keeps the fleet's status true."""

from __future__ import annotations

import threading
import time

from app.fleet.fleet import Fleet
from app.fleet.tracking import MIN_CAPTURE_INTERVAL

SWEEP_INTERVAL = 0.25
#: With the control connection open, output and hook events wake the engine at once; the tick
#: is left to notice what makes no output (a process that exits, agents added by another
#: process). Diff stats come from the watcher (`Diffs`), not from ticks.
CONNECTED_INTERVAL = 1.0
RECONNECT_SECONDS = 2.0
#: After a wake-up, wait this long so that a burst of output or events makes one sweep.
COALESCE_SECONDS = 0.02


class Engine:
    """Sweeps the fleet on a thread while it holds the repository's engine lock.

    A second dashboard on the same repository cannot take the lock; its engine then only re-reads
    the store (a viewer), so exactly one process writes statuses.
    """

    def __init__(self, fleet: Fleet, interval: float = SWEEP_INTERVAL) -> None:
        self.fleet = fleet
        fleet.wake = self.wake
        self.interval = interval
        self.driving = False
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str = ""
        self._connect_tried = -RECONNECT_SECONDS

    def start(self) -> None:
        """Take the lock if free and start sweeping."""
        self.driving = self.fleet.lock.acquire()
        if self.driving:
            self.fleet.recover_prompts()
            self.fleet.steering.recover()
            self.fleet.checks.recover_checks()
        self.fleet.notifier.outside = self.driving
        self.fleet.spool.watch(self._event_arrived, self._stop)
        # Diff stats: one watcher for the fleet, no polling (see `Diffs`).
        self.fleet.diffs.start(self._stop)
        self.fleet.diffs.track(self.fleet.agents(), writer=self.driving)
        self._thread = threading.Thread(target=self._run, name="quarterdeck-engine", daemon=True)
        self._thread.start()

    def _event_arrived(self) -> None:
        self.fleet.hook_arrived.set()
        self._wake.set()

    def wake(self) -> None:
        """Sweep now rather than at the next tick (a hook event arrived, a pane wrote)."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.driving:
                    self._connect()
                    if self.fleet.hook_arrived.is_set():
                        # Hook events first, on their own: they are the fastest evidence.
                        self.fleet.sweep_events()
                    self.fleet.sweep(deliver=True)
                    self.fleet.steering.pump(self.fleet.agents())
                    self.fleet.steering.auto_approve(self.fleet.view().rows)
                else:
                    self.fleet.reload()
                    self.driving = self.fleet.lock.acquire()
                    self.fleet.notifier.outside = self.driving
                    if self.driving:
                        self.fleet.recover_prompts()
                        self.fleet.steering.recover()
                        self.fleet.checks.recover_checks()
                self.fleet.diffs.track(self.fleet.agents(), writer=self.driving)
                self.last_error = ""
            except Exception as exc:  # keep tracking; the view shows the error
                self.last_error = f"{type(exc).__name__}: {exc}"
            self.fleet.set_notice(self._notice())
            self._wake.wait(self._next_wait())
            self._wake.clear()
            self._stop.wait(COALESCE_SECONDS)

    def _notice(self) -> str:
        if self.last_error:
            return f"status tracking failed: {self.last_error}"
        if not self.driving:
            holder = self.fleet.lock.holder()
            who = f" (pid {holder})" if holder else ""
            return f"viewer: another Quarterdeck{who} tracks this fleet"
        return ""

    def _next_wait(self) -> float:
        """Until the next tick, or sooner when a held-back status change becomes due or a lost
        control connection should be retried."""
        control = self.fleet.tmux.control
        connected = control is not None and control.alive
        wait = max(self.interval, CONNECTED_INTERVAL) if connected else self.interval
        settle = self.fleet.tracking.next_settle()
        if settle is not None:
            wait = min(wait, max(0.0, settle - self.fleet.clock() + 0.01))
        if self.fleet.tracking.deferred:
            wait = min(wait, MIN_CAPTURE_INTERVAL)  # panes held back to coalesce their output
        if self.driving and not connected:
            wait = min(wait, RECONNECT_SECONDS)
        return wait

    def _connect(self) -> None:
        """Keep the control connection open; retry a lost one at most every few seconds."""
        tmux = self.fleet.tmux
        if tmux.control is not None and tmux.control.alive:
            return
        now = time.monotonic()
        if now - self._connect_tried < RECONNECT_SECONDS:
            return
        self._connect_tried = now
        tmux.connect(self.fleet.session, on_output=self.wake)

    def stop(self) -> None:
        """Stop sweeping and release the lock."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.fleet.steering.close()
        self.fleet.diffs.close()
        self.fleet.checks.close()
        self.fleet.tmux.disconnect()
        self.fleet.lock.release()
