"""Yes/no dialogs: a plain confirmation, and the specific one that removing unmerged work needs."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from app.core.ports import RemovalRisk
from app.ui.keys import CLOSE

#: How many of the files that would be lost the dialog lists by name.
MAX_FILES_LISTED = 6


class ConfirmScreen(ModalScreen[bool]):
    """Ask a yes/no question; dismisses with True for yes. ``y``/``n``, Esc means no."""

    CSS_PATH = "confirm.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", tooltip="Answer a yes/no question"),
        Binding("n", "answer(False)", "No", tooltip="Answer a yes/no question"),
        Binding("escape", "answer(False)", "Cancel", tooltip=CLOSE),
    ]

    AUTO_FOCUS = "#no"

    def __init__(self, question: str, *, yes_label: str = "Yes") -> None:
        super().__init__()
        self.question = question
        self.yes_label = yes_label

    def compose(self) -> ComposeResult:
        """The question and two buttons."""
        with Vertical(id="dialog"):
            yield Static(self.question, id="question", markup=False)
            with Horizontal(id="buttons"):
                yield Button(f"{self.yes_label} (y)", id="yes", variant="warning")
                yield Button("No (n)", id="no")

    def action_answer(self, answer: bool) -> None:
        """Close the dialog with this answer."""
        self.dismiss(answer)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class RemoveRiskyScreen(ModalScreen[bool]):
    """Removing an agent would lose work: say exactly what, and require its name typed out.

    Dismisses with True only after the agent's exact name was typed and Remove pressed (or Enter
    in the name field).
    """

    CSS_PATH = "confirm.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", tooltip=CLOSE),
    ]

    AUTO_FOCUS = "#confirm-name"

    def __init__(self, risk: RemovalRisk) -> None:
        super().__init__()
        self.risk = risk

    def compose(self) -> ComposeResult:
        """What would be lost, the name field and the buttons."""
        risk = self.risk
        with Vertical(id="dialog", classes="-danger"):
            yield Static(
                f"Remove {risk.name}? This loses {risk.describe()}.",
                id="question",
                markup=False,
            )
            if risk.changed_files:
                listed = list(risk.changed_files[:MAX_FILES_LISTED])
                more = len(risk.changed_files) - len(listed)
                if more:
                    listed.append(f"… and {more} more")
                yield Static("\n".join(f"  {f}" for f in listed), id="files", markup=False)
            yield Static(
                f"An archive ref keeps the branch tip. Type {risk.name} to confirm:",
                id="instructions",
                markup=False,
            )
            yield Input(placeholder="the agent's name", id="confirm-name", select_on_focus=False)
            with Horizontal(id="buttons"):
                yield Button("Remove", id="yes", variant="error", disabled=True)
                yield Button("Cancel", id="no")

    @property
    def confirmed(self) -> bool:
        """True when the name field holds the agent's exact name."""
        return self.query_one("#confirm-name", Input).value == self.risk.name

    @on(Input.Changed, "#confirm-name")
    def _name_changed(self) -> None:
        self.query_one("#yes", Button).disabled = not self.confirmed

    @on(Input.Submitted, "#confirm-name")
    def _name_submitted(self) -> None:
        if self.confirmed:
            self.dismiss(True)

    @on(Button.Pressed, "#yes")
    def _remove(self) -> None:
        if self.confirmed:
            self.dismiss(True)

    @on(Button.Pressed, "#no")
    def _cancel_pressed(self) -> None:
        self.dismiss(False)

    def action_cancel(self) -> None:
        """Close without removing."""
        self.dismiss(False)
