"""The message screen: words for one agent or many, queued behind their current step or sent
after interrupting them."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, RadioButton, RadioSet, Static, TextArea

from app.core.messages import MessageMode
from app.ui.dialogs.form import FormScreen

#: What each mode means, in the words the screen offers them.
MODE_LABELS: dict[MessageMode, str] = {
    MessageMode.QUEUE: "Queue — the agent takes it after its current step",
    MessageMode.INTERRUPT: "Interrupt and send — stop it first",
}

#: The recipients line names at most this many agents, then says how many more.
MAX_NAMED = 6


def recipients_line(names: Sequence[str], *, broadcast: bool = False) -> str:
    """``To: api-auth, docs-site (2 agents)``; a broadcast says it goes to every live agent."""
    count = f"{len(names)} agent{'s' if len(names) != 1 else ''}"
    listed = ", ".join(names[:MAX_NAMED])
    if len(names) > MAX_NAMED:
        listed += f" and {len(names) - MAX_NAMED} more"
    if broadcast:
        return f"To: every live agent ({count}): {listed}"
    return f"To: {listed} ({count})"


#: What sends a message: the recipients, the text and the mode.
SendMessage = Callable[[tuple[str, ...], str, MessageMode], None]


class MessageScreen(FormScreen):
    """The form. It sends nothing itself: it calls ``send``; the dashboard sends in a worker
    and then either dismisses the form or calls `show_error`, which keeps the text."""

    CSS_PATH = "message.tcss"

    AUTO_FOCUS = "#text"

    def __init__(
        self,
        names: Sequence[str],
        mode: MessageMode = MessageMode.QUEUE,
        *,
        broadcast: bool = False,
        send: SendMessage,
    ) -> None:
        super().__init__()
        self.send = send
        self.names = tuple(names)
        self.initial_mode = mode
        self.broadcast = broadcast

    def compose(self) -> ComposeResult:
        """Recipients, the text, the mode, an error line and the buttons."""
        with Vertical(id="form"):
            yield Static(
                recipients_line(self.names, broadcast=self.broadcast),
                id="recipients",
                markup=False,
            )
            yield TextArea(id="text", soft_wrap=True, show_line_numbers=False)
            with RadioSet(id="mode"):
                for mode, label in MODE_LABELS.items():
                    yield RadioButton(label, value=mode is self.initial_mode, id=mode.value)
            yield Static("", id="error", markup=False)
            with Horizontal(id="buttons"):
                yield Static("ctrl+s sends · enter is a new line · esc cancels", id="hint")
                yield Button("Send", id="send", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        """Title the form after what it will do."""
        if self.initial_mode is MessageMode.INTERRUPT:
            title = "Correct: interrupt, then send"
        elif self.broadcast:
            title = "Message every live agent"
        else:
            title = "Message"
        self.query_one("#form").border_title = title

    @property
    def mode(self) -> MessageMode:
        """The mode chosen."""
        pressed = self.query_one("#mode", RadioSet).pressed_button
        if pressed is not None and pressed.id == MessageMode.INTERRUPT.value:
            return MessageMode.INTERRUPT
        return MessageMode.QUEUE

    def problem(self) -> str:
        """An empty message is not sent."""
        return "" if self.text else "The message is empty: write something first (esc cancels)"

    def submit(self) -> None:
        """Hand the message to the sender."""
        self.send(self.names, self.text, self.mode)
