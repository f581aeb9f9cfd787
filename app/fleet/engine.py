"""The engine: what keeps the fleet's status true, one tick at a time.

Exactly one process per repository tracks the fleet: the one holding the engine lock. Every entry
point runs the same `Engine.tick` — the dashboard's engine thread between waits, and
`Engine.run_until` for every command that waits on the fleet from a shell — so what happens in a
tick never depends on which process holds the lock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from app.core.agent import PromptState
from app.fleet.fleet import Fleet
from app.fleet.tracking import MIN_CAPTURE_INTERVAL

SWEEP_INTERVAL = 0.25
#: A command waiting on the fleet (`run_until`) looks this often: it has no control connection
#: to tell it of output, and the human waits on its answer.
COMMAND_INTERVAL = 0.1
#: With the control connection open, output and hook events wake the engine at once; the tick
#: is left to notice what makes no output (a process that exits, agents added by another
#: process). Diff stats come from the watcher (`Diffs`), not from ticks.
CONNECTED_INTERVAL = 1.0
RECONNECT_SECONDS = 2.0
#: After a wake-up, wait this long so that a burst of output or events makes one sweep.
COALESCE_SECONDS = 0.02
#: A held-back status change is looked at this long after it becomes due (clock granularity).
SETTLE_MARGIN = 0.01
#: How long a command that tracked the fleet waits, before it lets go of the lock, for the
#: prompts it started typing to be verified (a prompt left half-typed would be failed).
PROMPT_SETTLE_SECONDS = 30.0


def next_wait(
    interval: float,
    *,
    connected: bool,
    driving: bool,
    settle_in: float | None,
    deferred: bool,
) -> float:
    """Seconds until the next tick: the interval (at least `CONNECTED_INTERVAL` while the control
    connection reports output), sooner when a held-back status change becomes due
    (``settle_in`` seconds from now), when panes were held back to coalesce their output
    (``deferred``), or when a lost control connection should be retried."""
    wait = max(interval, CONNECTED_INTERVAL) if connected else interval
    if settle_in is not None:
        wait = min(wait, max(0.0, settle_in + SETTLE_MARGIN))
    if deferred:
        wait = min(wait, MIN_CAPTURE_INTERVAL)
    if driving and not connected:
        wait = min(wait, RECONNECT_SECONDS)
    return wait


def time_left(deadline: float | None, now: float) -> float | None:
    """Seconds until ``deadline`` (never negative), or None when there is none."""
    return None if deadline is None else max(0.0, deadline - now)


class Engine:
    """Ticks the fleet while it holds the repository's engine lock.

    A process that cannot take the lock only re-reads the store (a viewer), so exactly one
    process writes statuses; it takes over as soon as the lock is free. Run it either on its own
    thread (`start` / `stop`: the dashboard, with the hook watcher, the diff watcher and the
    control connection) or in the calling thread until something holds (`run_until`: the
    command line).
    """

    def __init__(self, fleet: Fleet, interval: float = SWEEP_INTERVAL) -> None:
        self.fleet = fleet
        fleet.wake = self.wake
        self.interval = interval
        self.driving = False
        #: True once this engine has held the lock (it stays so after `stop`).
        self.drove = False
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        #: Only the threaded engine keeps a control connection (`start`).
        self._connects = False
        self.last_error: str = ""
        self._connect_tried = -RECONNECT_SECONDS

    # ------------------------------------------------------------------ the tick

    def tick(self) -> None:
        """One turn of the engine. Every entry point runs exactly this, and these are all of
        its duties, in order:

        1. the lock: take it when it is free; newly taken, recover what a process that died
           left half-done (prompts and messages being typed are failed, never retyped; checks
           it left running are recorded as cancelled), and from now on announce alerts
           outside this process too (tmux clients, the desktop);
        2. holding it (this process tracks the fleet):
           a. keep the tmux control connection open (the threaded engine only);
           b. hook events first, on their own: they are the fastest evidence;
           c. a sweep of every agent, typing pending prompts into agents now ready;
           d. the message pump: start typing to each agent that can take its next message;
           e. auto-approve: answer the permission requests the repository's rules cover;
           f. tasks: follow each live attempt (turn over → commit → check → passed, another
              round or failed) and start what the dependencies and the cap allow;
        3. not holding it (a viewer): re-read the store;
        4. review tracking: diff stats follow the agents there are now (written only by the
           process holding the lock).

        Before them all, at most once a second, the configuration files are looked at (two
        ``stat`` calls) and read again when one changed (`Fleet.reload_settings`).

        Errors propagate: the engine thread shows them, a command reports them.
        """
        fleet = self.fleet
        if fleet.config.changed():
            fleet.reload_settings()
        if not self.driving:
            self._take_lock()
        if self.driving:
            self._connect()
            if fleet.hook_arrived.is_set():
                fleet.sweep_events()
            fleet.sweep(deliver=True)
            fleet.outbox.pump(fleet.agents())
            fleet.autoapprove.apply(fleet.view().rows)
            fleet.runner.advance()
        else:
            fleet.reload()
        fleet.diffs.track(fleet.agents(), writer=self.driving)

    def _take_lock(self) -> None:
        """Duty 1: take the lock if it is free, and recover when newly taken."""
        self.driving = self.fleet.lock.acquire()
        self.fleet.notifier.outside = self.driving
        if self.driving:
            self.drove = True
            self.fleet.recover_prompts()
            self.fleet.outbox.recover()
            self.fleet.checks.recover_checks()

    def _connect(self) -> None:
        """Keep the control connection open; retry a lost one at most every few seconds."""
        if not self._connects:
            return
        tmux = self.fleet.tmux
        if tmux.control is not None and tmux.control.alive:
            return
        now = time.monotonic()
        if now - self._connect_tried < RECONNECT_SECONDS:
            return
        self._connect_tried = now
        tmux.connect(self.fleet.session, on_output=self.wake)

    def _next_wait(self) -> float:
        control = self.fleet.tmux.control
        settle = self.fleet.tracking.next_settle()
        return next_wait(
            self.interval,
            connected=control is not None and control.alive,
            driving=self.driving,
            settle_in=None if settle is None else settle - self.fleet.clock(),
            deferred=bool(self.fleet.tracking.deferred),
        )

    def wake(self) -> None:
        """Tick now rather than at the next interval (a hook event arrived, a pane wrote, a
        message moved on)."""
        self._wake.set()

    # ------------------------------------------------------------------ on a thread

    def start(self) -> None:
        """Take the lock if free, start the watchers and tick on a thread (the dashboard)."""
        self._take_lock()
        self._connects = True
        self.fleet.spool.watch(self._event_arrived, self._stop)
        # Diff stats: one watcher for the fleet, no polling (see `Diffs`).
        self.fleet.diffs.start(self._stop)
        self.fleet.diffs.track(self.fleet.agents(), writer=self.driving)
        self._thread = threading.Thread(target=self._run, name="quarterdeck-engine", daemon=True)
        self._thread.start()

    def _event_arrived(self) -> None:
        self.fleet.hook_arrived.set()
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
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
        if self.fleet.profiles.problem:
            return self.fleet.profiles.problem
        if not self.driving:
            holder = self.fleet.lock.holder()
            who = f" (pid {holder})" if holder else ""
            return f"viewer: another Quarterdeck{who} tracks this fleet"
        return ""

    def _close_delivery(self) -> None:
        """Take no more typing work; what is being typed or answered finishes."""
        self.fleet.autoapprove.close()
        self.fleet.outbox.close()

    def stop(self) -> None:
        """Stop ticking, the watchers and typing, and release the lock."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._close_delivery()
        self.fleet.diffs.close()
        self.fleet.checks.close()
        self.fleet.tmux.disconnect()
        self.fleet.lock.release()
        self.driving = False

    # ------------------------------------------------------------------ in the caller

    def run_until(self, predicate: Callable[[], bool], timeout: float | None) -> bool:
        """Tick in this thread until ``predicate()`` holds (asked after every tick); True if it
        did before ``timeout`` seconds (None: no limit). Every command that needs the fleet
        tracked while it waits uses this: with no dashboard holding the lock, the command
        tracks the fleet meanwhile (and types prompts and messages); otherwise it views.

        Before it returns, what this process started typing is finished and verified, and the
        lock is released; typing ends with it, so an engine runs until once (a command is one
        process).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while True:
                self.tick()
                if predicate():
                    return True
                left = time_left(deadline, time.monotonic())
                if left == 0.0:
                    return False
                wait = self._next_wait()
                self._wake.wait(wait if left is None else min(wait, left))
                self._wake.clear()
        finally:
            self._let_go()

    def _let_go(self) -> None:
        """End of `run_until`: finish typing what this process started, then release."""
        if not self.driving:
            return
        deadline = time.monotonic() + PROMPT_SETTLE_SECONDS
        while self._typing_prompts() and time.monotonic() < deadline:
            self._wake.wait(COMMAND_INTERVAL)
            self._wake.clear()
        self._close_delivery()
        self.fleet.notifier.outside = False
        self.fleet.lock.release()
        self.driving = False

    def _typing_prompts(self) -> bool:
        """True while a prompt is being typed. Holding the lock, only this process types
        prompts (any older half-typed one was failed when the lock was taken)."""
        return any(a.prompt_state is PromptState.SENDING for a in self.fleet.reload())
