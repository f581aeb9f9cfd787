"""The new-agent form: a prompt, an agent kind, an optional name and the base branch."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from app.core.agent import SpawnRequest
from app.ui.dialogs.form import FormScreen
from app.ui.keys import CLOSE

_START = "New agent: start it (or enter in the last field)"

#: The kind the form offers first when the fleet has it: it works offline, with no account.
PREFERRED_KIND = "demo"


class NewAgentScreen(FormScreen):
    """The form. It does not start anything itself: it calls ``start`` with the request.

    The dashboard starts the agent in a worker and then either dismisses the form or calls
    `show_error`, which keeps everything typed so the human can fix it.
    """

    CSS_PATH = "new_agent.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "send", "Start", tooltip=_START),
        Binding("escape", "cancel", "Cancel", tooltip=CLOSE),
    ]

    TEXT_ID = "prompt"
    SEND_ID = "start"
    SEND_WORDS = ("Start", "Starting…")

    AUTO_FOCUS = "#prompt"

    def __init__(
        self, kinds: list[str], default_base: str, start: Callable[[SpawnRequest], None]
    ) -> None:
        super().__init__()
        self.start = start
        self.kinds = kinds
        self.default_base = default_base

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

    @property
    def request(self) -> SpawnRequest:
        """The request the fields describe now."""
        kind_value = self.query_one("#kind", Select).value
        kind = kind_value if isinstance(kind_value, str) else PREFERRED_KIND
        name = self.query_one("#name", Input).value.strip()
        base = self.query_one("#base", Input).value.strip()
        return SpawnRequest(
            prompt=self.text,
            kind=kind,
            name=name or None,
            base=base or None,
        )

    def submit(self) -> None:
        """Hand the request to the starter."""
        self.start(self.request)

    @on(Input.Submitted, "#base")
    def _last_field_submitted(self) -> None:
        self.action_send()
