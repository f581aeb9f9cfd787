"""Dialogs of landing and sharing an agent's work: the merge strategy, a merge conflict, and
what pushing the branch said."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, RadioButton, RadioSet, Static, TextArea

from app.core.landing import MergeOutcome, MergeStrategy
from app.ui.keys import CLOSE, CLOSE_READ

#: The strategies offered, the first preselected, with what each does to the base branch.
STRATEGY_LABELS: dict[MergeStrategy, str] = {
    MergeStrategy.MERGE: "Merge — a merge commit keeps the agent's commits as they are",
    MergeStrategy.SQUASH: "Squash — one new commit with all of the agent's changes",
    MergeStrategy.REBASE: "Rebase — the agent's commits replayed on top of the base",
}

_LAND = "Land: land with the chosen strategy"
_CHOOSE = "Land: choose merge / squash / rebase"
_SEND = "Merge conflict: send it to the agent to resolve"

#: How many conflicting files the conflict dialog lists by name.
MAX_CONFLICTS_LISTED = 12


class LandScreen(ModalScreen[MergeStrategy | None]):
    """Choose how to land an agent's branch in its base; dismisses with the strategy (Enter or
    Land) or None (Escape). ``1``/``2``/``3`` pick a strategy."""

    CSS_PATH = "land.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        # A priority binding: Enter lands whatever is focused (the radio set would take it).
        Binding("enter", "land", "Land", priority=True, tooltip=_LAND),
        Binding("escape", "cancel", "Cancel", tooltip=CLOSE),
        # Priority too: priority bindings run as the app reads the keys, others only once the
        # focused widget has passed the key on; "2" then Enter typed at once must choose first.
        *[
            Binding(
                str(n), f"choose({n})", f"Strategy {n}", show=False, priority=True, tooltip=_CHOOSE
            )
            for n in (1, 2, 3)
        ],
    ]

    AUTO_FOCUS = "#strategy"

    def __init__(self, name: str, branch: str) -> None:
        super().__init__()
        self.agent = name
        self.branch = branch
        # Kept here, not read back from the radio set: it learns of a choice by a message,
        # and "2" then Enter typed at once must land with the second strategy.
        self._chosen = MergeStrategy.MERGE
        #: Changes of the radio set caused by `action_choose`, not yet reported by it.
        self._choices_in_flight = 0

    def compose(self) -> ComposeResult:
        """The question, the strategies and the buttons."""
        with Vertical(id="land-box"):
            yield Static(
                f"Land {self.branch} in its base branch? It is done with git objects: no "
                "working tree changes unless you allow it.",
                id="land-question",
                markup=False,
            )
            with RadioSet(id="strategy"):
                for n, (strategy, label) in enumerate(STRATEGY_LABELS.items(), 1):
                    yield RadioButton(f"{n} {label}", value=n == 1, id=strategy.value)
            with Horizontal(classes="buttons"):
                yield Static("enter lands · 1/2/3 choose · esc cancels", classes="hint")
                yield Button("Land", id="land", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        """Title the box after the agent."""
        self.query_one("#land-box").border_title = f"Land {self.agent}"

    @property
    def strategy(self) -> MergeStrategy:
        """The strategy chosen."""
        return self._chosen

    def action_choose(self, number: int) -> None:
        """Choose strategy ``number`` (1 merge, 2 squash, 3 rebase)."""
        buttons = list(self.query(RadioButton))
        if 1 <= number <= len(buttons):
            if not buttons[number - 1].value:
                self._choices_in_flight += 1
                buttons[number - 1].value = True
            self._chosen = list(STRATEGY_LABELS)[number - 1]

    @on(RadioSet.Changed, "#strategy")
    def _changed(self, event: RadioSet.Changed) -> None:
        if self._choices_in_flight:  # the echo of a choice by number: already taken
            self._choices_in_flight -= 1
        elif event.pressed.id is not None:  # chosen on the radio set itself
            self._chosen = MergeStrategy(event.pressed.id)

    def action_land(self) -> None:
        """Land with the chosen strategy (Cancel focused: close instead)."""
        if self.focused is not None and self.focused.id == "cancel":
            self.dismiss(None)
        else:
            self.dismiss(self.strategy)

    def action_cancel(self) -> None:
        """Close without landing."""
        self.dismiss(None)

    @on(Button.Pressed, "#land")
    def _land_pressed(self) -> None:
        self.dismiss(self.strategy)

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.dismiss(None)


class ConflictScreen(ModalScreen[bool]):
    """Landing stopped on a conflict (nothing changed): the files, and ``s`` to send the
    conflict to the agent to resolve. Dismisses with True for send."""

    CSS_PATH = "land.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "send", "Send to agent", tooltip=_SEND),
        Binding("escape", "close", "Close", tooltip=CLOSE),
        Binding("q", "close", "Close", show=False, tooltip=CLOSE_READ),
    ]

    AUTO_FOCUS = "#send"

    def __init__(self, name: str, outcome: MergeOutcome) -> None:
        super().__init__()
        self.agent = name
        self.outcome = outcome

    def compose(self) -> ComposeResult:
        """What conflicts, and the buttons."""
        outcome = self.outcome
        with Vertical(id="land-box", classes="-danger"):
            n = len(outcome.conflicts)
            s = "s" if n != 1 else ""
            yield Static(
                f"{self.agent} cannot be landed in {outcome.base} with {outcome.strategy.value}: "
                f"{n} file{s} conflict. Nothing was changed.",
                id="land-question",
                markup=False,
            )
            listed = list(outcome.conflicts[:MAX_CONFLICTS_LISTED])
            if n > len(listed):
                listed.append(f"… and {n - len(listed)} more")
            yield Static("\n".join(f"  {f}" for f in listed), id="conflicts", markup=False)
            if outcome.message:
                yield Static(outcome.message, id="land-message", markup=False)
            with Horizontal(classes="buttons"):
                yield Static("s sends it to the agent · esc closes", classes="hint")
                yield Button("Send to agent (s)", id="send", variant="warning")
                yield Button("Close", id="close")

    def on_mount(self) -> None:
        """Title the box."""
        self.query_one("#land-box").border_title = "Merge conflict"

    def action_send(self) -> None:
        """Send the conflict to the agent."""
        self.dismiss(True)

    def action_close(self) -> None:
        """Close without sending."""
        self.dismiss(False)

    @on(Button.Pressed, "#send")
    def _send_pressed(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#close")
    def _close_pressed(self) -> None:
        self.dismiss(False)


class TextScreen(ModalScreen[None]):
    """A text to read and perhaps copy: what pushing a branch said (a pull request's address,
    or the command to run), or why a branch was not landed. Selectable; ``c`` copies it."""

    CSS_PATH = "land.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "copy", "Copy", tooltip="Pushed: copy what the push said"),
        Binding("escape", "close", "Close", tooltip=CLOSE),
        Binding("q", "close", "Close", show=False, tooltip=CLOSE_READ),
        Binding("enter", "close", "Close", show=False, tooltip="Pushed: close it"),
    ]

    AUTO_FOCUS = "#text-body"

    def __init__(self, title: str, text: str, *, danger: bool = False) -> None:
        super().__init__()
        self.title_text = title
        self.text = text
        self.danger = danger

    def compose(self) -> ComposeResult:
        """The text, read-only, and the buttons."""
        with Vertical(id="land-box", classes="-danger" if self.danger else ""):
            yield TextArea(
                self.text, id="text-body", read_only=True, soft_wrap=True, show_cursor=False
            )
            with Horizontal(classes="buttons"):
                yield Static("c copies · esc closes", classes="hint")
                yield Button("Copy (c)", id="copy")
                yield Button("Close", id="close", variant="primary")

    def on_mount(self) -> None:
        """Title the box."""
        self.query_one("#land-box").border_title = self.title_text

    def action_copy(self) -> None:
        """Copy the text to the clipboard (the terminal's, through OSC 52)."""
        self.app.copy_to_clipboard(self.text)
        self.notify("Copied", timeout=2)

    def action_close(self) -> None:
        """Close."""
        self.dismiss(None)

    @on(Button.Pressed, "#copy")
    def _copy_pressed(self) -> None:
        self.action_copy()

    @on(Button.Pressed, "#close")
    def _close_pressed(self) -> None:
        self.dismiss(None)
