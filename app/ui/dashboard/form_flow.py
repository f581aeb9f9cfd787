"""The dashboard's forms: a new agent, and a message for one agent, several or all.

`FormFlow` is an invisible widget of the dashboard screen. A form sends nothing itself: it hands
its request here; the port call runs in a thread worker of the app (`RunPort`) and its answer
comes back as `SpawnFinished` or `SendFinished`. Then the form closes, or says why nothing was
done and keeps what was typed; a form closed meanwhile gets its error as a notification. New
agents are announced up to the dashboard as `Started`, to select them.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.message import Message
from textual.widget import Widget

from app.core.agent import Agent, SpawnRequest
from app.core.messages import Message as AgentMessage
from app.core.messages import MessageMode
from app.core.ports import AgentsPort, SteeringPort
from app.ui.dialogs.form import FormScreen
from app.ui.dialogs.message import MessageScreen
from app.ui.dialogs.new_agent import NewAgentScreen
from app.ui.messages import RunPort, describe_error


class FormFlow(Widget):
    """Opens the forms and carries out what they ask.

    Args:
        agents: The fleet's agents port (kinds, default base, spawn).
        steering: The fleet's steering port (send).
        run_port: Runs a port call in a worker of the app.
    """

    DEFAULT_CSS = """
    FormFlow {
        display: none;
    }
    """

    class SpawnFinished(Message):
        """A spawn from the new-agent form finished: ``agents`` started, or ``error``."""

        def __init__(
            self, agents: list[Agent], error: str = "", warnings: Sequence[str] = ()
        ) -> None:
            super().__init__()
            self.agents = agents
            self.error = error
            #: What will not work as it should for the agents started (their hooks).
            self.warnings = tuple(warnings)

    class SendFinished(Message):
        """A send from the message form finished: ``messages`` queued, or ``error``."""

        def __init__(
            self, mode: MessageMode, messages: list[AgentMessage], error: str = ""
        ) -> None:
            super().__init__()
            self.mode = mode
            self.messages = messages
            self.error = error

    class Started(Message):
        """Agent ``name`` was started from the form (the dashboard selects it)."""

        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    def __init__(self, agents: AgentsPort, steering: SteeringPort, run_port: RunPort) -> None:
        super().__init__()
        self.agents = agents
        self.steering = steering
        self.run_port = run_port
        #: The form waiting for its request to finish (a modal: one at a time).
        self._form: FormScreen | None = None

    def _open(self, form: FormScreen) -> None:
        self._form = form
        self.app.push_screen(form)

    def _close_form(self, error: str, title: str) -> bool:
        """After a form's request finished: show the error in the form (or, if the form was
        closed meanwhile, as a notification) and return False; else close it, return True."""
        form = self._form
        form_open = form is not None and form in self.app.screen_stack
        if error:
            if form is not None and form_open:
                form.show_error(error)
            else:
                self.notify(error, title=title, severity="error")
            return False
        if form is not None and form_open:
            form.dismiss(None)
        return True

    # -- a new agent ------------------------------------------------------------------------

    def new_agent(self) -> None:
        """Open the new-agent form (its choices come from the port, which answers at once)."""
        try:
            kinds = self.agents.kinds()
            base = self.agents.default_base()
        except Exception as error:
            self.notify(describe_error(error), severity="error")
            return
        self._open(NewAgentScreen(kinds, base, self._spawn))

    def _spawn(self, request: SpawnRequest) -> None:
        self.run_port(lambda: self._spawned(request), to=self, group="spawn")

    def _spawned(self, request: SpawnRequest) -> Message:
        """In a thread: start the agents; a failure goes back to the form."""
        try:
            agents = self.agents.spawn(request)
        except Exception as error:
            return self.SpawnFinished([], describe_error(error))
        try:
            warnings = self.agents.hook_problems(request.kind)
        except Exception as error:
            warnings = [describe_error(error)]
        return self.SpawnFinished(agents, warnings=warnings)

    def on_form_flow_spawn_finished(self, message: SpawnFinished) -> None:
        """Close the form and announce the new agent, or show why it did not start."""
        if not self._close_form(message.error, "Agent not started"):
            return
        names = [agent.name for agent in message.agents]
        if names:
            self.notify(f"Started {', '.join(names)}")
            self.post_message(self.Started(names[0]))
        for warning in message.warnings:
            self.notify(warning, severity="warning", timeout=20)

    # -- a message --------------------------------------------------------------------------

    def message(
        self,
        names: Sequence[str],
        mode: MessageMode = MessageMode.QUEUE,
        *,
        broadcast: bool = False,
    ) -> None:
        """Open the message form for ``names``."""
        self._open(MessageScreen(names, mode, broadcast=broadcast, send=self._send))

    def _send(self, names: tuple[str, ...], text: str, mode: MessageMode) -> None:
        self.run_port(lambda: self._sent(names, text, mode), to=self, group="send")

    def _sent(self, names: tuple[str, ...], text: str, mode: MessageMode) -> Message:
        """In a thread: queue the message; a failure goes back to the form."""
        try:
            return self.SendFinished(mode, self.steering.send(names, text, mode))
        except Exception as error:
            return self.SendFinished(mode, [], describe_error(error))

    def on_form_flow_send_finished(self, message: SendFinished) -> None:
        """Close the form and say the message is on its way, or show why it is not."""
        if not self._close_form(message.error, "Message not sent"):
            return
        n = len(message.messages)
        agents = f"{n} agent{'s' if n != 1 else ''}" if n != 1 else message.messages[0].agent_name
        if message.mode is MessageMode.INTERRUPT:
            self.notify(f"Interrupting {agents}; the message follows")
        else:
            self.notify(f"Message queued for {agents}")
