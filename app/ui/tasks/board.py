"""The task board: every task in a table, the selected one's detail below, and the keys that
add, edit, start, retry and cancel tasks, go to a task's agent and compare its attempts.

The board follows the tasks by asking the port about twice a second (`tasks`, `max_running`
and the selected task's history) in a thread worker of its own; the answer comes back as
`Loaded`. Actions run in thread workers of the app (`RunPort`), so a closed board still reports
how they went; each asks for a look at once after it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import ClassVar

from rich.style import Style
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static
from textual.worker import WorkerState

from app.core.ports import AgentsPort, TasksPort
from app.core.tasks import Task, TaskEvent, TaskSpec
from app.ui.dialogs.confirm import ConfirmScreen
from app.ui.messages import OperationReported, RunPort, describe_error
from app.ui.tasks.compare import CompareScreen
from app.ui.tasks.form import TaskFormScreen
from app.ui.tasks.lines import TASK_COLUMNS, agent_attempt, board_title, task_cells, task_detail
from app.ui.tasks.table import RowTable
from app.ui.themes import theme_style
from app.ui.widgets.key_footer import KeyFooter

#: Seconds between looks at the tasks while the board is open.
TASK_POLL_SECONDS = 0.5
#: What the board says when there is no task.
EMPTY_BOARD = "No tasks yet — press a to add one"

_JUMP = "Go to the task's agent on the dashboard (of several attempts: the first live one)"
_START = "Start the task now, over the cap on running attempts (once its dependencies allow)"
_RETRY = "Run a failed or cancelled task again (its work is kept)"
_CANCEL = "Cancel the task: its agents stop (work kept), its dependents are held (asks)"
_COMPARE = "Compare the task's attempts: ranked, their diffs, keep one"


class TaskTable(RowTable):
    """The tasks, one row each; ``enter`` goes to the selected task's agent."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "screen.jump", "Agent", tooltip=_JUMP),
        Binding("k,up", "cursor_up", "Up", show=False, tooltip="Select the previous row"),
    ]


class TaskBoardScreen(ModalScreen[None]):
    """The task board; see the module's docstring. Modal, over the whole terminal.

    Args:
        tasks: The fleet's tasks port.
        agents: The fleet's agents port (the kinds the form offers).
        run_port: Runs a port call in a worker of the app and reports failures.
        review: Opens the review of an agent by name; False when there is no such agent.
        jump: Selects an agent's row on the dashboard; False when there is no such agent.
        interval: Seconds between looks at the tasks.
    """

    CSS_PATH = "tasks.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", "Add", tooltip="Add a task: title, prompt, agents, dependencies…"),
        Binding("e", "edit", "Edit", tooltip="Edit the selected task (before it started)"),
        Binding("s", "start", "Start now", tooltip=_START),
        Binding("r", "retry", "Retry", tooltip=_RETRY),
        Binding("x", "cancel_task", "Cancel", tooltip=_CANCEL),
        Binding("c", "compare", "Compare", tooltip=_COMPARE),
        Binding("question_mark", "app.help", "Help", key_display="?", tooltip="This help"),
        Binding(
            "escape,T,shift+t,q",
            "close",
            "Back",
            key_display="esc",
            tooltip="Back to the dashboard",
        ),
    ]

    AUTO_FOCUS = "#tasks"

    class Loaded(Message):
        """A look at the tasks: all of them, the cap, and the history of task ``name``
        (``error`` set when the port could not be read)."""

        def __init__(
            self,
            tasks: Sequence[Task],
            max_running: int,
            name: str | None = None,
            history: Sequence[TaskEvent] = (),
            error: str = "",
        ) -> None:
            super().__init__()
            self.tasks = tuple(tasks)
            self.max_running = max_running
            self.name = name
            self.history = tuple(history)
            self.error = error

    class Saved(Message):
        """The form's task was added or edited (``name``), or not (``error``)."""

        def __init__(self, name: str = "", error: str = "") -> None:
            super().__init__()
            self.name = name
            self.error = error

    class Changed(Message):
        """A task was changed from the board: look again now."""

    def __init__(
        self,
        tasks: TasksPort,
        agents: AgentsPort,
        run_port: RunPort,
        *,
        review: Callable[[str], bool],
        jump: Callable[[str], bool],
        interval: float = TASK_POLL_SECONDS,
    ) -> None:
        super().__init__()
        self.port = tasks
        self.agents = agents
        self.run_port = run_port
        self.review = review
        self.jump = jump
        self.interval = interval
        self.tasks: tuple[Task, ...] = ()
        self.max_running = 0
        #: True once the port answered a first time.
        self.loaded = False
        #: The repository's default agent kind (what an attempt that names none runs).
        self.default_kind = ""
        #: The selected task's history, as last read (by task name).
        self._history: tuple[str, tuple[TaskEvent, ...]] | None = None
        self._select_when_shown: str | None = None
        self._form: TaskFormScreen | None = None
        self._shown: dict[Static, Content] = {}
        self._title = Static(board_title((), 0, "reading the tasks…"), id="board-title")
        self._table = TaskTable(TASK_COLUMNS, ("why", "task"), id="tasks")
        self._empty = Static(EMPTY_BOARD, id="board-empty", markup=False)
        self._detail = Static("", id="task-detail-text")

    def compose(self) -> ComposeResult:
        """The title line, the table (or the empty message), the detail and the keys."""
        with Vertical(id="board-box"):
            yield self._title
            yield self._table
            yield self._empty
            with VerticalScroll(id="task-detail"):
                yield self._detail
        yield KeyFooter()

    def on_mount(self) -> None:
        """Look at the tasks now and every `interval`."""
        self.query_one("#board-box").border_title = "Task board"
        try:
            kinds = self.agents.kinds()  # the default first; the port answers at once
        except Exception:
            kinds = []  # the form says why when it is opened
        self.default_kind = kinds[0] if kinds else ""
        self.set_class(True, "-empty")
        self.set_interval(self.interval, self.look)
        self.look()

    @property
    def table(self) -> TaskTable:
        """The tasks' table."""
        return self._table

    @property
    def detail(self) -> str:
        """The selected task's detail, as plain text."""
        return str(self._detail.content)

    @property
    def selected(self) -> Task | None:
        """The task under the cursor."""
        name = self._table.selected_key
        return next((t for t in self.tasks if t.name == name), None)

    # -- following the tasks ----------------------------------------------------------------

    def look(self) -> None:
        """Ask the port for the tasks, unless a look is under way or a dialog covers the board
        (its answer would repaint the whole dialog; the comparison follows the looks)."""
        covered = self.app.screen is not self and not isinstance(self.app.screen, CompareScreen)
        busy = any(
            w.group == "tasks" and w.state in (WorkerState.PENDING, WorkerState.RUNNING)
            for w in self.workers
        )
        if not busy and not covered:
            name = self._table.selected_key
            self.run_worker(
                partial(self._read, name), thread=True, group="tasks", exit_on_error=False
            )

    def _read(self, name: str | None) -> None:
        """In a thread: the tasks, the cap, the history of task ``name`` (or of the first)."""
        try:
            tasks = self.port.tasks()
            cap = self.port.max_running
            names = [t.name for t in tasks]
            if name not in names:
                name = names[0] if names else None
            history = self.port.task_history(name) if name is not None else []
        except Exception as error:
            self.post_message(
                self.Loaded(self.tasks, self.max_running, error=describe_error(error))
            )
        else:
            self.post_message(self.Loaded(tasks, cap, name, history))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self._update(self._title, board_title(message.tasks, message.max_running, message.error))
        if message.error:
            return
        self.loaded = True
        self.tasks, self.max_running = message.tasks, message.max_running
        if message.name is not None:
            self._history = (message.name, message.history)
        self.set_class(not self.tasks, "-empty")
        self._table.show(
            {t.name: task_cells(t, self.palette, self.default_kind) for t in self.tasks}
        )
        if self._select_when_shown is not None and self._table.select_key(self._select_when_shown):
            self._select_when_shown = None
        self._show_detail()
        for screen in self.app.screen_stack:
            if isinstance(screen, CompareScreen):
                screen.show_tasks(self.tasks)

    def _show_detail(self) -> None:
        task = self.selected
        if task is None:
            self._update(self._detail, Content(""))
            return
        history = self._history[1] if self._history and self._history[0] == task.name else None
        self._update(self._detail, task_detail(task, history, self.default_kind))

    def _update(self, widget: Static, content: Content) -> None:
        """Show ``content`` unless it is shown already: a look that found nothing new repaints
        nothing (a dialog over the board would be repainted whole)."""
        if self._shown.get(widget) != content:
            self._shown[widget] = content
            widget.update(content)

    @on(DataTable.RowHighlighted, "#tasks")
    def _highlighted(self) -> None:
        self._show_detail()
        if self._history is None or self._history[0] != self._table.selected_key:
            self.look()

    # -- adding and editing -----------------------------------------------------------------

    def action_add(self) -> None:
        """Open the task form for a new task."""
        self._open_form(None)

    def action_edit(self) -> None:
        """Open the task form on the selected task, if it has not started."""
        task = self.selected
        if task is None:
            return
        if task.started:
            self.notify(f"{task.name} has started: it can no longer be edited", severity="warning")
            return
        self._open_form(task)

    def _open_form(self, editing: Task | None) -> None:
        try:
            kinds = self.agents.kinds()
        except Exception as error:
            self.notify(describe_error(error), severity="error")
            return
        self._form = TaskFormScreen(kinds, self.tasks, self._save, editing=editing)
        self.app.push_screen(self._form)

    def _save(self, form: TaskFormScreen, spec: TaskSpec) -> None:
        editing = form.editing.name if form.editing is not None else None
        self.run_port(partial(self._saved, editing, spec), to=self, group="tasks-edit")

    def _saved(self, editing: str | None, spec: TaskSpec) -> Message:
        """In a thread: add the task (or edit task ``editing``); a failure goes to the form."""
        try:
            if editing is None:
                name = self.port.add_tasks([spec])[0].name
            else:
                name = self.port.edit_task(editing, spec).name
        except Exception as error:
            return self.Saved(error=describe_error(error))
        return self.Saved(name)

    @on(Saved)
    def _form_answered(self, message: Saved) -> None:
        form = self._form
        form_open = form is not None and form in self.app.screen_stack
        if message.error:
            if form is not None and form_open:
                form.show_error(message.error)
            else:
                self.notify(message.error, title="Task not saved", severity="error")
            return
        if form is not None and form_open:
            form.dismiss(None)
        edited = form is not None and form.editing is not None
        self.notify(f"{'Saved' if edited else 'Added'} task {message.name}")
        self._select_when_shown = message.name
        self.look()

    # -- start, retry, cancel ---------------------------------------------------------------

    def _act(self, call: Callable[[str], Task], name: str, done: str, failure: str) -> None:
        self.run_port(partial(self._acted, call, name, done), to=self, failure=failure)

    def _acted(self, call: Callable[[str], Task], name: str, done: str) -> Message:
        """In a thread: the action; ``done`` is told to the app, the board looks again."""
        call(name)
        self.app.post_message(OperationReported(done))
        return self.Changed()

    @on(Changed)
    def _changed(self) -> None:
        self.look()

    def action_start(self) -> None:
        """Start the selected task now, over the cap."""
        task = self.selected
        if task is not None:
            done = f"{task.name} starts as soon as its dependencies allow, over the cap"
            self._act(self.port.start_task, task.name, done, f"{task.name}: not started")

    def action_retry(self) -> None:
        """Run the selected task again."""
        task = self.selected
        if task is not None:
            done = f"{task.name} runs again"
            self._act(self.port.retry_task, task.name, done, f"{task.name}: not retried")

    def action_cancel_task(self) -> None:
        """Ask, then cancel the selected task."""
        task = self.selected
        if task is None:
            return
        question = (
            f"Cancel task {task.name}? Its agents are stopped (their work is kept) and the "
            "tasks that wait on it are held."
        )
        self.app.push_screen(
            ConfirmScreen(question, yes_label="Cancel task"),
            lambda yes: self._cancel(task.name) if yes else None,
        )

    def _cancel(self, name: str) -> None:
        self._act(self.port.cancel_task, name, f"Cancelled {name}", f"{name}: not cancelled")

    # -- the agent, the attempts ------------------------------------------------------------

    def action_jump(self) -> None:
        """Go to the selected task's agent on the dashboard."""
        task = self.selected
        if task is None:
            return
        attempt = agent_attempt(task)
        if attempt is None:
            self.notify(f"{task.name} has no agent yet: {task.reason or task.state.value}")
        elif self.jump(attempt.agent_name):
            self.dismiss(None)
        else:
            self.notify(f"{attempt.agent_name} is not on the dashboard", severity="warning")

    def action_compare(self) -> None:
        """Compare the selected task's attempts."""
        task = self.selected
        if task is None:
            return
        if len(task.attempts) < 2:
            self.notify(f"{task.name} has one attempt: nothing to compare", severity="warning")
            return
        self.app.push_screen(
            CompareScreen(
                self.port,
                task,
                self.run_port,
                review=self.review,
                palette=self.palette,
                default_kind=self.default_kind,
            )
        )

    def action_close(self) -> None:
        """Back to the dashboard."""
        self.dismiss(None)

    def palette(self, variable: str) -> Style:
        """The style of a theme variable."""
        return theme_style(self.app.theme_variables, variable)
