"""A fake of the view port: scripted views and alerts; the base of the other fakes, which
look their agents up in its rows."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from app.core.alerts import Alert
from app.core.errors import AgentNotFoundError, QuarterdeckError
from app.core.views import AgentRow, FleetView


@dataclass
class FakeViews:
    """A ViewPort in memory. Tests script it through its attributes and `push`."""

    rows: list[AgentRow] = field(default_factory=list)
    repo_name: str = "acme-shop"
    #: What the engine says about itself in the view.
    notice: str = ""
    #: Raised by the next steering, comment, merge or push call when set (that call only).
    steer_error: QuarterdeckError | None = None
    callbacks: list[Callable[[FleetView], None]] = field(default_factory=list)
    alert_callbacks: list[Callable[[Alert], None]] = field(default_factory=list)

    def push(self, rows: Iterable[AgentRow]) -> None:
        """Replace the fleet and tell subscribers, on the calling thread."""
        self.rows = list(rows)
        view = self.view()
        for callback in list(self.callbacks):
            callback(view)

    def push_from_thread(self, rows: Iterable[AgentRow]) -> None:
        """Replace the fleet from a background thread, as the real engine does."""
        thread = threading.Thread(target=self.push, args=(list(rows),))
        thread.start()
        thread.join()

    def alert(self, alert: Alert) -> None:
        """Announce ``alert`` to subscribers, as the engine does."""
        for callback in list(self.alert_callbacks):
            callback(alert)

    def view(self) -> FleetView:
        return FleetView(repo=self.repo_name, rows=tuple(self.rows), notice=self.notice)

    def subscribe(self, callback: Callable[[FleetView], None]) -> None:
        self.callbacks.append(callback)

    def subscribe_alerts(self, callback: Callable[[Alert], None]) -> None:
        self.alert_callbacks.append(callback)

    def _row(self, name: str) -> AgentRow:
        for row in self.rows:
            if row.name == name:
                return row
        raise AgentNotFoundError(f"no agent named {name!r}")

    def _steer_error(self) -> None:
        error, self.steer_error = self.steer_error, None
        if error is not None:
            raise error
