"""Comparing a task's attempts: ranked (the check passed, then the smallest change, the quickest
check, the least time, the fewest rounds), the diff between two of them, the review of one, and
keeping one (it lands; the others are discarded, their work archived).

The board hands the screen every look it takes at the tasks (`show_tasks`). Port calls run in
thread workers of the app (`RunPort`); their answers come back as `DiffLoaded` and `Kept`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import ClassVar

from rich.style import Style
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Static

from app.core.diff import FileDiff, patch_files
from app.core.ports import TasksPort
from app.core.tasks import Attempt, AttemptState, Task, rank_attempts
from app.ui.dialogs.confirm import ConfirmScreen
from app.ui.dialogs.land import TextScreen
from app.ui.messages import LONG_NOTICE, OperationReported, RunPort
from app.ui.review.lines import file_title
from app.ui.tasks.lines import ATTEMPT_COLUMNS, attempt_cells, smallest_passing
from app.ui.tasks.table import RowTable
from app.ui.widgets.diff_view import DiffView
from app.ui.widgets.key_footer import KeyFooter

_REVIEW = "Review the highlighted attempt's changes, as v on the dashboard does"
_DIFF = "Mark the highlighted attempt; d on another shows the diff between the two"
_KEEP = "Keep the highlighted attempt: it lands, the others are discarded (asks)"
_FILE = "Next / previous file of the diff between two attempts"


class CompareScreen(ModalScreen[None]):
    """A task's attempts side by side; see the module's docstring.

    Args:
        port: The fleet's tasks port.
        task: The task, as the board last saw it.
        run_port: Runs a port call in a worker of the app and reports failures.
        review: Opens the review of an agent by name; False when there is no such agent.
        palette: The style of a theme variable.
        default_kind: The repository's default agent kind.
    """

    CSS_PATH = "tasks.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("v", "review", "Review", tooltip=_REVIEW),
        Binding("d", "diff", "Diff", tooltip=_DIFF),
        Binding("k", "keep", "Keep", tooltip=_KEEP),
        Binding("question_mark", "app.help", "Help", key_display="?", tooltip="This help"),
        Binding("escape,q", "close", "Back", key_display="esc", tooltip="Back to the task board"),
    ]

    AUTO_FOCUS = "#attempts"

    class DiffLoaded(Message):
        """The diff between attempts ``first`` and ``second``, as files."""

        def __init__(self, first: int, second: int, files: Sequence[FileDiff]) -> None:
            super().__init__()
            self.first = first
            self.second = second
            self.files = tuple(files)

    class Kept(Message):
        """Attempt ``number`` was kept; ``said`` is what the port did."""

        def __init__(self, number: int, said: str) -> None:
            super().__init__()
            self.number = number
            self.said = said

    def __init__(
        self,
        port: TasksPort,
        task: Task,
        run_port: RunPort,
        *,
        review: Callable[[str], bool],
        palette: Callable[[str], Style],
        default_kind: str = "",
    ) -> None:
        super().__init__()
        self.port = port
        #: The task compared (``task`` is Textual's own attribute).
        self.subject = task
        self.run_port = run_port
        self.review = review
        self.palette = palette
        self.default_kind = default_kind
        #: The attempt marked for a diff (``d``), by number.
        self.marked: int | None = None
        self._title = Static("", id="compare-title")
        self._table = RowTable(ATTEMPT_COLUMNS, ("note",), id="attempts")

    def compose(self) -> ComposeResult:
        """The title, the ranked attempts, a hint and the keys."""
        with Vertical(id="compare-box"):
            yield self._title
            yield self._table
            yield Static(
                "d marks an attempt, d on another shows the diff between them · k keeps the "
                "highlighted one · v reviews it",
                id="compare-hint",
                markup=False,
            )
        yield KeyFooter()

    def on_mount(self) -> None:
        """Show the attempts."""
        self.query_one("#compare-box").border_title = f"Attempts of {self.subject.name}"
        self._show()

    @property
    def table(self) -> RowTable:
        """The attempts' table, best first."""
        return self._table

    @property
    def ranked(self) -> list[Attempt]:
        """The attempts, best first (`rank_attempts`)."""
        return rank_attempts(self.subject.attempts)

    @property
    def selected(self) -> Attempt | None:
        """The highlighted attempt."""
        key = self._table.selected_key
        return self.subject.attempt(int(key)) if key is not None else None

    def show_tasks(self, tasks: Sequence[Task]) -> None:
        """Follow the board's latest look at the tasks."""
        task = next((t for t in tasks if t.name == self.subject.name), None)
        if task is not None and task != self.subject:
            self.subject = task
            self._show()

    def _show(self) -> None:
        task = self.subject
        passed = sum(a.passed for a in task.attempts)
        self._title.update(
            Content.from_markup(
                "[b]$name[/b]  $title [dim]·[/dim] $passed of $n passed [dim]· best first: the "
                "check passed, the smallest change, the quickest check, time, rounds[/dim]",
                name=task.name,
                title=task.spec.title,
                passed=str(passed),
                n=str(len(task.attempts)),
            )
        )
        smallest = smallest_passing(task.attempts)
        self._table.show(
            {
                str(a.number): attempt_cells(
                    a,
                    rank,
                    smallest,
                    self.palette,
                    marked=a.number == self.marked,
                    default=self.default_kind,
                )
                for rank, a in enumerate(self.ranked, 1)
            }
        )

    # -- review, diff, keep -----------------------------------------------------------------

    def action_review(self) -> None:
        """Review the highlighted attempt's agent."""
        attempt = self.selected
        if attempt is None:
            return
        if not attempt.agent_name or not self.review(attempt.agent_name):
            who = attempt.agent_name or "it has no agent"
            self.notify(f"Attempt {attempt.number}: {who} is not on the dashboard", timeout=4)

    def action_diff(self) -> None:
        """Mark the highlighted attempt; with one marked, show the diff between the two."""
        attempt = self.selected
        if attempt is None:
            return
        first, number = self.marked, attempt.number
        self.marked = None if first is not None else number
        self._show()
        if first is not None and first != number:
            self.run_port(
                partial(self._compare, first, number),
                to=self,
                failure=f"{self.subject.name}: attempts {first} and {number} not compared",
                group="tasks-edit",
            )

    def _compare(self, first: int, second: int) -> Message:
        """In a thread: the diff between two attempts' branches, read as files."""
        text = self.port.compare_attempts(self.subject.name, first, second)
        return self.DiffLoaded(first, second, patch_files(text))

    @on(DiffLoaded)
    def _diff_loaded(self, message: DiffLoaded) -> None:
        title = f"Attempt {message.first} → attempt {message.second} of {self.subject.name}"
        self.app.push_screen(AttemptDiffScreen(title, message.files))

    def action_keep(self) -> None:
        """Ask, naming what is discarded; then keep the highlighted attempt."""
        attempt, task = self.selected, self.subject
        if attempt is None:
            return
        if task.kept is not None:
            self.notify(f"Attempt {task.kept.number} of {task.name} was kept already", timeout=4)
            return
        if not attempt.passed:
            self.notify(
                f"Attempt {attempt.number} has not passed its check: only one that passed can "
                "be kept",
                severity="warning",
            )
            return
        others = [
            a for a in task.attempts if a is not attempt and a.state is not AttemptState.DISCARDED
        ]
        listed = ", ".join(f"{a.number} ({a.agent_name or 'not started'})" for a in others)
        kind = attempt.choice.label(self.default_kind)
        question = (
            f"Keep attempt {attempt.number} of {task.name} ({attempt.agent_name}, {kind})? "
            f"It lands in {task.spec.base or 'its base branch'}.\n\n"
            f"Discarded: attempt{'s' if len(others) != 1 else ''} {listed} — their agents, "
            "worktrees and branches are removed; archive refs keep their work."
        )
        self.app.push_screen(
            ConfirmScreen(question, yes_label="Keep"),
            lambda yes: self._keep(attempt.number) if yes else None,
        )

    def _keep(self, number: int) -> None:
        self.run_port(
            partial(self._land, number),
            to=self,
            failure=f"{self.subject.name}: attempt {number} not kept",
            timeout=LONG_NOTICE,
            group="tasks-edit",
        )

    def _land(self, number: int) -> Message:
        """In a thread: keep attempt ``number`` (a closed screen's answer goes to the app)."""
        said = self.port.land_task(self.subject.name, number)
        if not self.is_attached:
            return OperationReported(said, timeout=LONG_NOTICE)
        return self.Kept(number, said)

    @on(Kept)
    def _kept(self, message: Kept) -> None:
        self.app.push_screen(
            TextScreen(f"Kept attempt {message.number} of {self.subject.name}", message.said)
        )

    def action_close(self) -> None:
        """Back to the task board."""
        self.dismiss(None)


class AttemptDiffScreen(ModalScreen[None]):
    """The diff between two attempts' branches, a file at a time (``n`` / ``p``)."""

    CSS_PATH = "tasks.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n,tab", "next_file", "Next file", key_display="n", tooltip=_FILE),
        Binding("p,shift+tab", "previous_file", "Prev file", key_display="p", tooltip=_FILE),
        Binding("question_mark", "app.help", "Help", key_display="?", tooltip="This help"),
        Binding("escape,q", "close", "Back", key_display="esc", tooltip="Back to the attempts"),
    ]

    AUTO_FOCUS = "#attempts-diff"

    def __init__(self, title: str, files: Sequence[FileDiff]) -> None:
        super().__init__()
        self.title_text = title
        self.files = tuple(files)
        self.index = 0
        self._view = DiffView(id="attempts-diff")

    def compose(self) -> ComposeResult:
        """The title, the diff (or that there is none) and the keys."""
        added = sum(f.added for f in self.files)
        removed = sum(f.removed for f in self.files)
        n = len(self.files)
        with Vertical(id="attempts-diff-box"):
            yield Static(
                Content.from_markup(
                    "[b]$title[/b] [dim]·[/dim] $n file$s "
                    "[$success]+$added[/] [$error]−$removed[/]",
                    title=self.title_text,
                    n=str(n),
                    s="s" if n != 1 else "",
                    added=str(added),
                    removed=str(removed),
                ),
                id="attempts-diff-title",
            )
            if not self.files:
                yield Static("The two attempts' branches do not differ.", id="attempts-diff-none")
            yield self._view
        yield KeyFooter()

    def on_mount(self) -> None:
        """Show the first file."""
        self._view.display = bool(self.files)
        self._show(0)

    @property
    def view(self) -> DiffView:
        """The diff view."""
        return self._view

    def _show(self, index: int) -> None:
        if not self.files:
            return
        self.index = index
        file = self.files[index]
        self._view.border_title = file_title(file)
        self._view.border_subtitle = f"file {index + 1}/{len(self.files)}"
        self._view.show_file(file, index)

    def action_next_file(self) -> None:
        """Show the next file."""
        if self.index + 1 < len(self.files):
            self._show(self.index + 1)

    def action_previous_file(self) -> None:
        """Show the previous file."""
        if self.index > 0:
            self._show(self.index - 1)

    def action_close(self) -> None:
        """Back to the attempts."""
        self.dismiss(None)
