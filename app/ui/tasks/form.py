"""The task form: a new task, or one that has not started, edited — its title, prompt, agent,
attempts, what it waits on, its check and its loop's caps.

The form checks what it can before anything is sent (the attempts as `parse_attempts` reads
them, dependencies against the tasks there are, the caps as numbers) and says what is wrong in
place; the port checks the rest (a cycle, a name taken) and its answer comes back the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from app.core.errors import UsageError
from app.core.tasks import AgentChoice, Caps, Task, TaskSpec, parse_attempts
from app.ui.dialogs.form import FormScreen
from app.ui.keys import CLOSE

_SAVE = "Task form: add the task, or save the edit (or enter in the last field)"


def attempts_text(attempts: Sequence[AgentChoice]) -> tuple[str, str]:
    """How the form shows a task's attempts: the kind chosen and the attempts field —
    ``("claude", "3")`` for three alike, ``("", "claude,codex:o3")`` for several kinds."""
    first = attempts[0] if attempts else AgentChoice()
    if all(choice == first for choice in attempts):
        return first.kind, str(len(attempts)) if len(attempts) != 1 else ""
    return "", ",".join(f"{c.kind}:{c.model}" if c.model else c.kind for c in attempts)


def _number(text: str, what: str, *, whole: bool, default: float, least: float) -> float:
    """The number typed in a field, or a `UsageError` naming the field."""
    text = text.strip()
    if not text:
        return default
    try:
        value = int(text) if whole else float(text)
    except ValueError:
        kind = "a whole number" if whole else "a number"
        raise UsageError(f"{what}: {text!r} is not {kind}") from None
    if value < least:
        raise UsageError(f"{what}: at least {least:g}")
    return value


class TaskFormScreen(FormScreen):
    """The form. It adds nothing itself: it calls ``save(form, spec)``; the caller closes it
    or calls `show_error`, which keeps everything typed.

    Args:
        kinds: The agent kinds to choose from (the repository's default first).
        tasks: The tasks there are (dependencies are checked against them).
        save: Called with the form and the task it describes.
        editing: The task edited (its fields filled in); None for a new one.
    """

    CSS_PATH = "tasks.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "send", "Save", tooltip=_SAVE),
        Binding("escape", "cancel", "Cancel", tooltip=CLOSE),
    ]

    TEXT_ID = "task-prompt"
    SEND_ID = "task-save"
    CANCEL_ID = "task-cancel"
    ERROR_ID = "task-error"

    AUTO_FOCUS = "#task-title"

    def __init__(
        self,
        kinds: Sequence[str],
        tasks: Sequence[Task],
        save: Callable[[TaskFormScreen, TaskSpec], None],
        *,
        editing: Task | None = None,
    ) -> None:
        super().__init__()
        self.kinds = list(kinds)
        self.known = [t.name for t in tasks if editing is None or t.name != editing.name]
        self.save = save
        self.editing = editing
        self.SEND_WORDS = ("Save", "Saving…") if editing is not None else ("Add", "Adding…")
        self._spec: TaskSpec | None = None

    def compose(self) -> ComposeResult:
        """The fields, an error line and the buttons."""
        spec = self.editing.spec if self.editing is not None else TaskSpec("")
        kind, attempts = attempts_text(spec.attempts)
        caps = spec.caps
        with Vertical(id="task-form"):
            yield Label("Title", classes="field-label")
            yield Input(spec.title, placeholder="what is to be done, in a line", id="task-title")
            yield Label("Prompt (the title when empty)", classes="field-label")
            yield TextArea(spec.prompt, id="task-prompt", soft_wrap=True, show_line_numbers=False)
            with Horizontal(classes="row"):
                with Vertical(classes="field"):
                    yield Label("Agent kind", classes="field-label")
                    yield Select(
                        [(k, k) for k in self.kinds],
                        id="task-kind",
                        prompt="the repository's default",
                        value=kind if kind in self.kinds else Select.NULL,
                    )
                with Vertical(classes="field"):
                    yield Label("Attempts", classes="field-label")
                    yield Input(
                        attempts, placeholder="1; or 3; or claude,codex:o3", id="task-attempts"
                    )
            with Horizontal(classes="row"):
                with Vertical(classes="field"):
                    yield Label("Waits on (task names, comma-separated)", classes="field-label")
                    yield Input(", ".join(spec.after), placeholder="nothing", id="task-after")
                with Vertical(classes="field"):
                    yield Label("Check command", classes="field-label")
                    yield Input(spec.check, placeholder="the repository's check", id="task-check")
            with Horizontal(classes="row"):
                with Vertical(classes="field"):
                    yield Label("Max rounds (a failed check loops)", classes="field-label")
                    yield Input(str(caps.rounds), placeholder="1: no loop", id="task-rounds")
                with Vertical(classes="field"):
                    yield Label("Max minutes", classes="field-label")
                    minutes = f"{caps.minutes:g}" if caps.minutes else ""
                    yield Input(minutes, placeholder="no limit", id="task-minutes")
            yield Static("", id="task-error", markup=False)
            with Horizontal(id="task-buttons"):
                yield Static("ctrl+s saves · enter: next field · esc cancels")
                yield Button(self.SEND_WORDS[0], id="task-save", variant="primary")
                yield Button("Cancel", id="task-cancel")

    def on_mount(self) -> None:
        """Title the form."""
        title = f"Edit task {self.editing.name}" if self.editing is not None else "New task"
        self.query_one("#task-form").border_title = title

    def on_key(self, event: events.Key) -> None:
        """Printable keys typed before a field had focus go to the title (its first field)."""
        if self.focused is None and event.is_printable and event.character:
            title = self.query_one("#task-title", Input)
            title.focus()
            title.insert_text_at_cursor(event.character)
            event.prevent_default()
            event.stop()

    def _value(self, field: str) -> str:
        return self.query_one(f"#task-{field}", Input).value.strip()

    def spec(self) -> TaskSpec:
        """The task the fields describe, or a `UsageError` saying what to fix."""
        title = self._value("title")
        if not title:
            raise UsageError("a task needs a title")
        chosen = self.query_one("#task-kind", Select).value
        kind = chosen if isinstance(chosen, str) else ""
        original = self.editing.spec if self.editing is not None else TaskSpec(title)
        default = original.attempts[0] if original.attempts else AgentChoice()
        attempts = parse_attempts(self._value("attempts"), replace(default, kind=kind))
        strange = [c.kind for c in attempts if c.kind and c.kind not in self.kinds]
        if strange:
            known = ", ".join(self.kinds)
            raise UsageError(f"attempts: no agent kind {strange[0]!r} (kinds: {known})")
        after = tuple(
            dict.fromkeys(n.strip() for n in self._value("after").split(",") if n.strip())
        )
        unknown = [name for name in after if name not in self.known]
        if unknown:
            listed = ", ".join(self.known) or "none yet"
            raise UsageError(f"waits on {', '.join(unknown)}: not a task (tasks: {listed})")
        rounds = _number(self._value("rounds"), "max rounds", whole=True, default=1, least=1)
        minutes = _number(self._value("minutes"), "max minutes", whole=False, default=0, least=0)
        return replace(
            original,
            title=title,
            prompt=self.text,
            attempts=attempts,
            after=after,
            check=self._value("check"),
            caps=Caps(int(rounds), minutes, original.caps.tokens),
        )

    def problem(self) -> str:
        """What is wrong with the fields ('' when the task can be sent)."""
        try:
            self._spec = self.spec()
        except UsageError as error:
            return str(error)
        return ""

    def submit(self) -> None:
        """Hand the task to the caller."""
        assert self._spec is not None
        self.save(self, self._spec)

    @on(Input.Submitted)
    def _field_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "task-minutes":
            self.action_send()
        else:
            self.focus_next()
