"""Telling the human: the terminal bell (through the dashboard), a message on the fleet's tmux
clients, and a desktop notification through ``notify-send`` when it is installed."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import threading
from collections.abc import Callable

from app.core.alerts import Alert, AlertKind, alerts_between
from app.core.views import FleetView
from app.infra.settings import NotifySettings
from app.infra.tmux import TmuxServer

#: How long a tmux client shows the message (ms).
DISPLAY_MS = 4000


class Notifier:
    """Announces each new wait (and, if configured, each finish) once.

    Every process with a dashboard rings its own terminal's bell; only the process that tracks
    the fleet (`outside` set by the engine) writes to tmux clients and the desktop, so several
    dashboards never announce the same thing twice.
    """

    def __init__(self, settings: NotifySettings, tmux: TmuxServer, session: str) -> None:
        self.settings = settings
        self._tmux = tmux
        self._session = session
        self._callbacks: list[Callable[[Alert], None]] = []
        self._announced: set[tuple[str, float, str]] = set()
        self._primed = False
        self._lock = threading.Lock()
        self.outside = False
        self.notify_send = shutil.which("notify-send")

    def subscribe(self, callback: Callable[[Alert], None]) -> None:
        """Call ``callback`` with each alert (for the bell), when the bell is on."""
        self._callbacks.append(callback)

    def observe(self, before: FleetView, after: FleetView) -> list[Alert]:
        """Announce what changed from ``before`` to ``after``; returns what was announced. The
        first view a process sees is taken as known: a restart announces nothing again."""
        with self._lock:
            if not self._primed:
                self._primed = bool(after.rows)
                self._announced |= {a.key for a in alerts_between(FleetView(after.repo, ()), after)}
                return []
            alerts = [
                a
                for a in alerts_between(before, after, finished=self.settings.finished)
                if a.key not in self._announced
            ]
            self._announced |= {a.key for a in alerts}
        for alert in alerts:
            self._announce(alert)
        return alerts

    def _announce(self, alert: Alert) -> None:
        if self.settings.bell:
            for callback in list(self._callbacks):
                with contextlib.suppress(Exception):
                    callback(alert)
        if not self.outside:
            return
        if self.settings.tmux:
            with contextlib.suppress(Exception):
                self._tmux.display(self._session, f"Quarterdeck: {alert.title}", DISPLAY_MS)
        if self.settings.desktop and self.notify_send:
            urgency = "critical" if alert.kind is AlertKind.WAITING else "normal"
            with contextlib.suppress(OSError):
                subprocess.Popen(
                    [self.notify_send, "-a", "Quarterdeck", "-u", urgency, alert.title, alert.body],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
