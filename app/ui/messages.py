"""Messages every screen may post, and how a port call run in a worker reports back.

Messages that belong to one screen are nested in it (`DashboardScreen.SpawnFinished`); these
are the ones shared by all: the fleet's view, its alerts, and a report for the human. They carry
data only, never screens or widgets.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from textual.message import Message
from textual.message_pump import MessagePump
from textual.notifications import SeverityLevel

from app.core.alerts import Alert
from app.core.errors import QuarterdeckError
from app.core.views import FleetView

#: Seconds a report of a background operation stays up.
NOTICE = 8.0
#: Seconds a report about a push, a landing or a failure of either stays up.
LONG_NOTICE = 20.0


def describe_error(error: BaseException) -> str:
    """What to tell the human about a failure: our errors' messages are written for them."""
    if isinstance(error, QuarterdeckError):
        return str(error)
    return f"{type(error).__name__}: {error}"


class RunPort(Protocol):
    """Runs port calls in a thread worker of the app (`QuarterdeckApp.run_port`)."""

    def __call__(
        self,
        call: Callable[[], Message | None],
        *,
        to: MessagePump | None = None,
        failure: str = "",
        timeout: float = NOTICE,
        group: str = "fleet",
        exclusive: bool = False,
    ) -> None:
        """Run ``call`` off the event loop; post the message it returns to ``to`` (the app
        when None); if it raises, report ``failure`` and the error to the human."""
        ...


class FleetChanged(Message):
    """The fleet's view changed. Coalesces: only the newest pending one is handled."""

    def __init__(self, view: FleetView) -> None:
        super().__init__()
        self.view = view

    def can_replace(self, message: Message) -> bool:
        """A newer view makes any older pending view redundant."""
        return isinstance(message, FleetChanged)


class OperationReported(Message):
    """A background operation finished; tell the human (``severity`` as for ``App.notify``,
    shown for ``timeout`` seconds)."""

    def __init__(
        self, text: str, severity: SeverityLevel = "information", timeout: float = NOTICE
    ) -> None:
        super().__init__()
        self.text = text
        self.severity = severity
        self.timeout = timeout


class AlertRaised(Message):
    """The fleet announced something the human should hear of (the bell)."""

    def __init__(self, alert: Alert) -> None:
        super().__init__()
        self.alert = alert
