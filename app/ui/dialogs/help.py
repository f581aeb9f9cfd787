"""The help screen: every key of the dashboard, the way back from an agent, and the CLI."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from app.ui.keys import (
    CLI_HELP,
    DASHBOARD_HELP,
    DIALOG_HELP,
    INBOX_HELP,
    REVIEW_HELP,
    KeyHelp,
)

HOSTED_NOTE = (
    "The dashboard lives in window 0 of the fleet's tmux session: agents keep running when you "
    "quit it or close the terminal; run quarterdeck again to come back."
)


def help_sections(return_key: str) -> list[tuple[str, tuple[KeyHelp, ...]]]:
    """The help's sections, for a fleet whose return key is shown as ``return_key``."""
    return [
        ("Dashboard", DASHBOARD_HELP),
        ("Inbox (i)", INBOX_HELP),
        ("Review (v)", REVIEW_HELP),
        ("Attached to an agent", (KeyHelp(return_key, "Return here from an agent's pane"),)),
        ("Dialogs", DIALOG_HELP),
        ("Command line", CLI_HELP),
    ]


class HelpScreen(ModalScreen[None]):
    """Every key, in a modal; Esc, q or ? closes it."""

    CSS_PATH = "help.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("q", "close", "Close", show=False),
        Binding("question_mark", "close", "Close", show=False, key_display="?"),
    ]

    def __init__(self, return_key: str, *, hosted: bool = False, section: str = "") -> None:
        super().__init__()
        self.return_key = return_key
        self.hosted = hosted
        #: The section shown at the top when the help opens (the review's, from the review).
        self.section = section

    def compose(self) -> ComposeResult:
        """One titled block per section, one row per key, in a scrollable box."""
        with VerticalScroll(id="help-box"):
            for title, entries in help_sections(self.return_key):
                yield Static(title, classes="section", markup=False, name=title)
                yield from self._entries(entries)
                if title.startswith("Attached") and self.hosted:
                    yield Static(HOSTED_NOTE, classes="note", markup=False)

    def _entries(self, entries: Iterable[KeyHelp]) -> ComposeResult:
        for entry in entries:
            with Horizontal(classes="entry"):
                yield Static(entry.keys, classes="keys", markup=False)
                yield Static(entry.description, classes="description", markup=False)

    def on_mount(self) -> None:
        """Title the box."""
        box = self.query_one("#help-box")
        box.border_title = "Quarterdeck keys"
        box.border_subtitle = "esc closes"
        for title in self.query(".section"):
            if self.section and title.name == self.section:
                self.call_after_refresh(box.scroll_to_widget, title, top=True, animate=False)

    @property
    def text(self) -> str:
        """Everything the help says, as plain text (for tests and screen readers)."""
        return "\n".join(str(widget.content) for widget in self.query(Static))

    def action_close(self) -> None:
        """Close the help."""
        self.dismiss(None)
