"""The help screen: every key of every screen, the way back from an agent, and the CLI.

Each screen's section is made from the bindings of that screen and of the widget that has its
focus (their tooltips, see `app.ui.keys.binding_help`), so a key cannot be bound without being
explained, nor explained without being bound; only the way back from an agent (a tmux key) and
the command line are text.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from app.ui.dashboard.screen import DashboardScreen
from app.ui.dialogs.confirm import ConfirmScreen, RemoveRiskyScreen
from app.ui.dialogs.evidence import EvidenceScreen
from app.ui.dialogs.land import ConflictScreen, LandScreen, TextScreen
from app.ui.dialogs.message import MessageScreen
from app.ui.dialogs.new_agent import NewAgentScreen
from app.ui.dialogs.reply import ReplyScreen
from app.ui.inbox.screen import InboxScreen
from app.ui.keys import (
    APP_BINDINGS,
    CLI_HELP,
    CLOSE,
    CLOSE_READ,
    COMMAND_PALETTE,
    TABLE_SCROLL_TOOLTIPS,
    TEXTUAL_TOOLTIPS,
    KeyHelp,
    binding_help,
    inherited_bindings,
    merged_help,
    own_bindings,
)
from app.ui.review.comment import CommentScreen
from app.ui.review.screen import ReviewScreen
from app.ui.tasks.board import TaskBoardScreen, TaskTable
from app.ui.tasks.compare import AttemptDiffScreen, CompareScreen
from app.ui.tasks.form import TaskFormScreen
from app.ui.tasks.table import RowTable
from app.ui.widgets.agent_table import AgentTable
from app.ui.widgets.diff_view import SCROLL_TOOLTIPS, DiffView

#: The help's sections of the task board's screens (shown first when the help opens there).
BOARD_SECTION = "Task board (T)"
COMPARE_SECTION = "Attempts of a task (c on the board)"
ATTEMPTS_DIFF_SECTION = "Diff of two attempts (d, then d on another)"

HOSTED_NOTE = (
    "The dashboard lives in window 0 of the fleet's tmux session: agents keep running when you "
    "quit it or close the terminal; run quarterdeck again to come back."
)

#: Every dialog, in the order the help lists what their keys do.
DIALOGS: tuple[type[ModalScreen[Any]], ...] = (
    NewAgentScreen,
    TaskFormScreen,
    MessageScreen,
    CommentScreen,
    LandScreen,
    ConflictScreen,
    TextScreen,
    ConfirmScreen,
    RemoveRiskyScreen,
    ReplyScreen,
    EvidenceScreen,
)

_ENTER = "Press the focused button; confirm a typed name; send a reply (message: new line)"

#: What Textual's own keys do inside a dialog: on the screen, and on its buttons and inputs.
_DIALOG_TOOLTIPS = {
    "app.focus_next": "Move between fields",
    "app.focus_previous": "Move between fields",
    "press": _ENTER,
    "submit": _ENTER,
}


def dashboard_help() -> tuple[KeyHelp, ...]:
    """The dashboard's keys: the agent table's (its own, then a scrolling widget's), the
    dashboard screen's, the app's, then Textual's on every screen (palette, focus, copy, quit)."""
    return (
        *binding_help(own_bindings(AgentTable)),
        *binding_help(inherited_bindings(AgentTable), TABLE_SCROLL_TOOLTIPS),
        *binding_help(own_bindings(DashboardScreen)),
        *binding_help(APP_BINDINGS),
        *binding_help(
            [COMMAND_PALETTE, *inherited_bindings(DashboardScreen), *inherited_bindings(App)],
            TEXTUAL_TOOLTIPS,
        ),
    )


def inbox_help() -> tuple[KeyHelp, ...]:
    """The inbox's keys."""
    return binding_help(own_bindings(InboxScreen))


def review_help() -> tuple[KeyHelp, ...]:
    """The review's keys: the diff view's (its own, then a scrolling widget's), then the
    review screen's."""
    return (
        *binding_help(own_bindings(DiffView)),
        *binding_help(inherited_bindings(DiffView), SCROLL_TOOLTIPS),
        *binding_help(own_bindings(ReviewScreen)),
    )


def board_help() -> tuple[KeyHelp, ...]:
    """The task board's keys: its table's, then the board screen's."""
    return (*binding_help(own_bindings(TaskTable)), *binding_help(own_bindings(TaskBoardScreen)))


def compare_help() -> tuple[KeyHelp, ...]:
    """The keys of the comparison of a task's attempts: its table's, then its own."""
    return (*binding_help(own_bindings(RowTable)), *binding_help(own_bindings(CompareScreen)))


def attempts_diff_help() -> tuple[KeyHelp, ...]:
    """The keys of the diff between two attempts: the diff view's, then the screen's."""
    return (
        *binding_help(own_bindings(DiffView)),
        *binding_help(inherited_bindings(DiffView), SCROLL_TOOLTIPS),
        *binding_help(own_bindings(AttemptDiffScreen)),
    )


def dialog_help() -> tuple[KeyHelp, ...]:
    """The keys of every dialog and of this help, one line for what several say alike (escape
    closes them all), then Textual's focus keys."""
    return merged_help(
        *(binding_help(own_bindings(dialog)) for dialog in DIALOGS),
        binding_help(
            [*inherited_bindings(NewAgentScreen), *inherited_bindings(Button)], _DIALOG_TOOLTIPS
        ),
        binding_help(inherited_bindings(Input), _DIALOG_TOOLTIPS),
        binding_help(own_bindings(HelpScreen)),
    )


def help_sections(return_key: str) -> list[tuple[str, tuple[KeyHelp, ...]]]:
    """The help's sections, for a fleet whose return key is shown as ``return_key``."""
    return [
        ("Dashboard", dashboard_help()),
        ("Inbox (i)", inbox_help()),
        ("Review (v)", review_help()),
        (BOARD_SECTION, board_help()),
        (COMPARE_SECTION, compare_help()),
        (ATTEMPTS_DIFF_SECTION, attempts_diff_help()),
        ("Attached to an agent", (KeyHelp(return_key, "Return here from an agent's pane"),)),
        ("Dialogs", dialog_help()),
        ("Command line", CLI_HELP),
    ]


class HelpScreen(ModalScreen[None]):
    """Every key, in a modal; Esc, q or ? closes it."""

    CSS_PATH = "help.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", tooltip=CLOSE),
        Binding("q", "close", "Close", show=False, tooltip=CLOSE_READ),
        Binding(
            "question_mark",
            "close",
            "Close",
            show=False,
            key_display="?",
            tooltip="Close this help",
        ),
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
