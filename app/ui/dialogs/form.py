"""What the dashboard's forms (a message, a new agent, a review comment) have in common: they
send what is typed somewhere slow, and wait for the answer without losing a keystroke."""

from __future__ import annotations

from typing import ClassVar

from textual import events, on
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.widgets import Button, Static, TextArea

from app.ui.keys import CLOSE


class FormScreen(ModalScreen[None]):
    """A form around one main text area. ``ctrl+s`` (or its send button) sends, once: the form
    shows it is busy, `submit` hands the work on, and the answer comes back as `finished`
    (closes the form) or `show_error` (says why, keeps everything typed). ``esc`` cancels.

    Keys typed before the text area had focus (a fast typist right after the key that opened
    the form) go to it instead of being lost.

    Subclasses name their widgets (`TEXT_ID`, `SEND_ID`, `CANCEL_ID`, `ERROR_ID`), the send
    button's words (`SEND_WORDS`), and implement `submit` (and `problem`, to refuse early).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        # Not a priority binding: it must wait behind the keys typed before it, which the
        # focused field has not handled yet.
        Binding("ctrl+s", "send", "Send", tooltip="Message, comment: send it"),
        Binding("escape", "cancel", "Cancel", tooltip=CLOSE),
    ]

    TEXT_ID = "text"
    SEND_ID = "send"
    CANCEL_ID = "cancel"
    ERROR_ID = "error"
    #: The send button's words, idle and busy.
    SEND_WORDS = ("Send", "Sending…")

    def __init__(self) -> None:
        super().__init__()
        self.busy = False

    @property
    def text(self) -> str:
        """The main text as typed (surrounding blank space dropped)."""
        return self.query_one(f"#{self.TEXT_ID}", TextArea).text.strip()

    def problem(self) -> str:
        """Why the form cannot be sent as it is ('' when it can)."""
        return ""

    def submit(self) -> None:
        """Hand the work on; the answer comes as `finished` or `show_error`."""
        raise NotImplementedError

    def on_key(self, event: events.Key) -> None:
        """Printable keys while nothing (or the text area) has focus go to the text area."""
        area = self.query_one(f"#{self.TEXT_ID}", TextArea)
        # Keys already queued for the screen when the area took focus arrive here as well.
        if self.focused in (None, area) and event.is_printable and event.character:
            area.focus()
            area.insert(event.character)
            event.stop()

    def action_send(self) -> None:
        """Send (once: the form waits for the answer)."""
        if self.busy:
            return
        problem = self.problem()
        if problem:
            self.show_error(problem)
            self.query_one(f"#{self.TEXT_ID}", TextArea).focus()
            return
        self.set_busy(True)
        self.query_one(f"#{self.ERROR_ID}", Static).display = False
        self.submit()

    def action_cancel(self) -> None:
        """Close the form without sending anything."""
        self.dismiss(None)

    def set_busy(self, busy: bool) -> None:
        """While the work runs, the send button is disabled and says so."""
        self.busy = busy
        button = self.query_one(f"#{self.SEND_ID}", Button)
        button.disabled = busy
        button.label = self.SEND_WORDS[1] if busy else self.SEND_WORDS[0]

    def show_error(self, message: str) -> None:
        """Say why nothing was done; everything typed stays."""
        self.set_busy(False)
        error = self.query_one(f"#{self.ERROR_ID}", Static)
        error.update(message)
        error.display = True

    def finished(self, error: str) -> None:
        """The work is over: close the form, or say why it failed (``error``)."""
        if not error:
            self.dismiss(None)
        else:
            self.show_error(f"Not sent: {error}")

    @on(Button.Pressed)
    def _button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == self.SEND_ID:
            self.action_send()
        elif event.button.id == self.CANCEL_ID:
            self.action_cancel()
