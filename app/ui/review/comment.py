"""The comment form: a remark on one line of a hunk, for the agent to take as a message."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static, TextArea

from app.ui.dialogs.form import FormScreen


class CommentScreen(FormScreen):
    """A remark on one line of a hunk. Sends nothing itself: ``send(form, text)`` is called,
    and the caller answers with `finished` (an error keeps the form open with the text)."""

    CSS_PATH = "review.tcss"

    AUTO_FOCUS = "#comment-text"
    TEXT_ID = "comment-text"
    SEND_ID = "comment-send"
    CANCEL_ID = "comment-cancel"
    ERROR_ID = "comment-error"

    def __init__(
        self,
        name: str,
        where: str,
        quoted: str,
        send: Callable[[CommentScreen, str], None],
    ) -> None:
        super().__init__()
        self.agent = name
        self.where = where
        self.quoted = quoted
        self.send = send

    def compose(self) -> ComposeResult:
        """Where, the line quoted, the text, an error line and the buttons."""
        with Vertical(id="comment-box"):
            yield Static(self.where, id="comment-where", markup=False)
            yield Static(self.quoted, id="comment-quote", markup=False)
            yield TextArea(id="comment-text", soft_wrap=True, show_line_numbers=False)
            yield Static("", id="comment-error", markup=False)
            with Horizontal(id="comment-buttons"):
                yield Static("ctrl+s sends · enter is a new line · esc cancels", id="comment-hint")
                yield Button("Send", id="comment-send", variant="primary")
                yield Button("Cancel", id="comment-cancel")

    def on_mount(self) -> None:
        """Title the box."""
        self.query_one("#comment-box").border_title = f"Comment to {self.agent}"

    def problem(self) -> str:
        """An empty comment is not sent."""
        return "" if self.text else "The comment is empty: write something first (esc cancels)"

    def submit(self) -> None:
        """Hand the remark to the caller."""
        self.send(self, self.text)
