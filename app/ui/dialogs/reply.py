"""The reply dialog: a one-line answer in words to an agent's question (from the inbox)."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from app.core.views import AgentRow
from app.ui.keys import CLOSE


class ReplyScreen(ModalScreen[str | None]):
    """A one-line answer in words to an agent's question; dismisses with the text (Enter) or
    None (Escape). An empty answer is not sent."""

    CSS_PATH = "reply.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", tooltip=CLOSE),
    ]

    AUTO_FOCUS = "#reply"

    def __init__(self, row: AgentRow) -> None:
        super().__init__()
        self.row = row

    def compose(self) -> ComposeResult:
        """The question and the answer field."""
        with Vertical(id="reply-box"):
            yield Static(self.row.question or "waits for you", id="reply-question", markup=False)
            yield Input(placeholder="your answer; enter sends, esc cancels", id="reply")

    def on_mount(self) -> None:
        """Title the box with the agent."""
        self.query_one("#reply-box").border_title = f"Reply to {self.row.name}"

    @on(Input.Submitted, "#reply")
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        """Close without replying."""
        self.dismiss(None)
