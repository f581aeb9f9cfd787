"""The new-agent form: a prompt, an agent kind, an optional name and the base branch."""

from __future__ import annotations

from typing import ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from app.core.agent import SpawnRequest

#: The kind the form offers first when the fleet has it: it works offline, with no account.
PREFERRED_KIND = "demo"


class NewAgentScreen(ModalScreen[None]):
    """The form. It does not start anything itself: it posts `Submitted` with the request.

    The app starts the agent in a worker and then either dismisses the form or calls
    `show_error`, which keeps everything typed so the human can fix it.
    """

    CSS_PATH = "new_agent.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        # Not a priority binding: it must wait behind the keys typed before it, which the
        # focused field has not handled yet.
        Binding("ctrl+s", "submit", "Start"),
        Binding("escape", "cancel", "Cancel"),
    ]

    AUTO_FOCUS = "#prompt"

    class Submitted(Message):
        """The human asked for an agent with this request."""

        def __init__(self, form: NewAgentScreen, request: SpawnRequest) -> None:
            super().__init__()
            self.form = form
            self.request = request

    def __init__(self, kinds: list[str], default_base: str) -> None:
        super().__init__()
        self.kinds = kinds
        self.default_base = default_base
        self.busy = False

    def compose(self) -> ComposeResult:
        """The fields, an error line and the buttons."""
        kind: str | None = PREFERRED_KIND if PREFERRED_KIND in self.kinds else None
        if kind is None and self.kinds:
            kind = self.kinds[0]
        with Vertical(id="form"):
            yield Label("Prompt", classes="field-label")
            yield TextArea(id="prompt", soft_wrap=True, show_line_numbers=False)
            with Horizontal(id="row"):
                with Vertical(classes="field"):
                    yield Label("Agent kind", classes="field-label")
                    yield Select(
                        [(k, k) for k in self.kinds],
                        id="kind",
                        allow_blank=kind is None,
                        value=kind if kind is not None else Select.NULL,
                    )
                with Vertical(classes="field"):
                    yield Label("Name (optional)", classes="field-label")
                    yield Input(placeholder="from the prompt", id="name")
                with Vertical(classes="field"):
                    yield Label("Base branch", classes="field-label")
                    yield Input(self.default_base, placeholder="HEAD", id="base")
            yield Static("", id="error", markup=False)
            with Horizontal(id="buttons"):
                yield Static("ctrl+s starts · esc cancels", id="hint")
                yield Button("Start", id="start", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        """Title the form."""
        self.query_one("#form").border_title = "New agent"

    def on_key(self, event: events.Key) -> None:
        """Keys typed before the prompt got focus (a fast typist right after `n`) go to the
        prompt instead of being lost."""
        prompt = self.query_one("#prompt", TextArea)
        # Keys already queued for the screen when the prompt took focus arrive here as well.
        if self.focused in (None, prompt) and event.is_printable and event.character:
            prompt.focus()
            prompt.insert(event.character)
            event.stop()

    @property
    def request(self) -> SpawnRequest:
        """The request the fields describe now."""
        kind_value = self.query_one("#kind", Select).value
        kind = kind_value if isinstance(kind_value, str) else PREFERRED_KIND
        name = self.query_one("#name", Input).value.strip()
        base = self.query_one("#base", Input).value.strip()
        return SpawnRequest(
            prompt=self.query_one("#prompt", TextArea).text.strip(),
            kind=kind,
            name=name or None,
            base=base or None,
        )

    def action_submit(self) -> None:
        """Ask the app to start the agent (once; the form waits for the answer)."""
        if self.busy:
            return
        self.set_busy(True)
        self.query_one("#error", Static).display = False
        self.post_message(self.Submitted(self, self.request))

    def action_cancel(self) -> None:
        """Close the form without starting anything."""
        self.dismiss(None)

    def set_busy(self, busy: bool) -> None:
        """While the app starts the agent, the Start button is disabled."""
        self.busy = busy
        self.query_one("#start", Button).disabled = busy
        self.query_one("#start", Button).label = "Starting…" if busy else "Start"

    def show_error(self, message: str) -> None:
        """Show why the agent could not start; every field keeps its text."""
        self.set_busy(False)
        error = self.query_one("#error", Static)
        error.update(message)
        error.display = True

    @on(Input.Submitted, "#base")
    def _last_field_submitted(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#start")
    def _start_pressed(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()
