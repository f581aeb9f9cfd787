"""Messages that carry results from background threads (the port, workers) to the event loop."""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.notifications import SeverityLevel

from app.core.agent import Agent
from app.core.alerts import Alert
from app.core.errors import QuarterdeckError
from app.core.messages import Message as AgentMessage
from app.core.ports import RemovalRisk
from app.core.views import FleetView
from app.ui.dialogs.message import MessageScreen
from app.ui.dialogs.new_agent import NewAgentScreen


def describe_error(error: BaseException) -> str:
    """What to tell the human about a failure: our errors' messages are written for them."""
    if isinstance(error, QuarterdeckError):
        return str(error)
    return f"{type(error).__name__}: {error}"


class FleetChanged(Message):
    """The fleet's view changed. Coalesces: only the newest pending one is handled."""

    def __init__(self, view: FleetView) -> None:
        super().__init__()
        self.view = view

    def can_replace(self, message: Message) -> bool:
        """A newer view makes any older pending view redundant."""
        return isinstance(message, FleetChanged)


class PaneCaptured(Message):
    """A capture of an agent's pane arrived: the raw ``capture`` and its ``text`` (both empty and
    ``error`` set when the capture failed)."""

    def __init__(self, name: str, capture: str, text: Text | None, error: str = "") -> None:
        super().__init__()
        self.name = name
        self.capture = capture
        self.text = text
        self.error = error

    def can_replace(self, message: Message) -> bool:
        """Only the newest capture of the same pane matters."""
        return isinstance(message, PaneCaptured) and message.name == self.name


class AttachReady(Message):
    """The port prepared an attach; ``argv`` is a command to run in the foreground, if any."""

    def __init__(self, name: str, argv: list[str] | None) -> None:
        super().__init__()
        self.name = name
        self.argv = argv


class RemovalAssessed(Message):
    """The port said what removing an agent would lose."""

    def __init__(self, risk: RemovalRisk) -> None:
        super().__init__()
        self.risk = risk


class EvidenceLoaded(Message):
    """An agent's evidence trail, read off the event loop."""

    def __init__(self, name: str, trail: list[tuple[float, str, str]]) -> None:
        super().__init__()
        self.name = name
        self.trail = trail


class SpawnFinished(Message):
    """A spawn from the new-agent form finished: ``agents`` started, or ``error`` to show."""

    def __init__(self, form: NewAgentScreen, agents: list[Agent], error: str = "") -> None:
        super().__init__()
        self.form = form
        self.agents = agents
        self.error = error


class OperationReported(Message):
    """A background operation finished; tell the human (``severity`` as for ``App.notify``)."""

    def __init__(self, text: str, severity: SeverityLevel = "information") -> None:
        super().__init__()
        self.text = text
        self.severity = severity


class SendFinished(Message):
    """A send from the message screen finished: ``messages`` queued, or ``error`` to show."""

    def __init__(self, form: MessageScreen, messages: list[AgentMessage], error: str = "") -> None:
        super().__init__()
        self.form = form
        self.messages = messages
        self.error = error


class AlertRaised(Message):
    """The fleet announced something the human should hear of (the bell)."""

    def __init__(self, alert: Alert) -> None:
        super().__init__()
        self.alert = alert
