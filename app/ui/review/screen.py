"""The review screen: what an agent changed against its base, file by file and hunk by hunk,
with its check, comments on lines, landing and pushing.

The diff is loaded in a thread worker (the screen says "loading…" meanwhile); each load is
numbered, and only the latest one's diff is shown (a thread cannot be stopped, so a superseded
load may still answer, late: it is dropped). The file list
is on the left, the selected file's hunks on the right in a `DiffView` (Line API, highlighted
lazily), the check on the second title line with its output's tail in a panel that ``o``
toggles. While the screen is open and the check runs, the port is asked for it every
``check_interval`` seconds, in a worker.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import WorkerState

from app.core.checks import CheckResult, CheckState
from app.core.diff import AgentDiff, Comment, FileDiff
from app.core.ports import ReviewPort
from app.core.views import AgentRow
from app.ui.messages import NOTICE, RunPort, describe_error
from app.ui.review.comment import CommentScreen
from app.ui.review.flow import ReviewFlow
from app.ui.review.lines import check_content, diff_summary, file_entry, file_title
from app.ui.widgets.diff_view import DiffView, lexer_for
from app.ui.widgets.key_footer import KeyFooter

_FILE = "Next / previous file (or click one in the list)"
_HUNK = "Next / previous hunk (on into the next / previous file)"
_COMMENT = "Comment on the line under the cursor; the agent gets it as a message"
_CHECK = "Run the check (while one runs: cancel it); shown on the 2nd line"
_LAND = "Land the branch: merge, squash or rebase; then offers to remove the agent"
_PUSH = "Push the branch and open a pull request (or say how)"
_HELP = "This help, at the review's keys"

#: Seconds between looks at a running check while the screen is open.
CHECK_INTERVAL = 0.5
#: Lines of the check's output shown in the output panel.
CHECK_TAIL_LINES = 14


class FileList(OptionList, can_focus=False):
    """The diff's files; a click picks one (the keys stay with the diff view)."""

    DEFAULT_CSS = """
    FileList {
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """


class ReviewScreen(ModalScreen[None]):
    """One agent's changes against its base, with its check; see the module's docstring.

    Modal (the dashboard's keys do not reach through), drawn over the whole terminal.
    """

    CSS_PATH = "review.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n,tab", "next_file", "Next file", key_display="n", tooltip=_FILE),
        Binding("p,shift+tab", "previous_file", "Prev file", key_display="p", tooltip=_FILE),
        Binding(
            "right_square_bracket,J,shift+j",
            "next_hunk",
            "Next hunk",
            key_display="]",
            tooltip=_HUNK,
        ),
        Binding(
            "left_square_bracket,K,shift+k",
            "previous_hunk",
            "Prev hunk",
            key_display="[",
            tooltip=_HUNK,
        ),
        Binding("c", "comment", "Comment", tooltip=_COMMENT),
        Binding("C,shift+c", "check", "Check", key_display="C", tooltip=_CHECK),
        Binding("o", "toggle_output", "Output", tooltip="Show / hide the check's output"),
        Binding("g", "land", "Land", tooltip=_LAND),
        Binding("P,shift+p", "push", "Push", key_display="P", tooltip=_PUSH),
        Binding("r", "reload", "Reload", show=False, tooltip="Read the diff again"),
        Binding("question_mark", "app.help", "Help", key_display="?", tooltip=_HELP),
        Binding("escape,q", "close", "Back", key_display="esc", tooltip="Back to the dashboard"),
    ]

    AUTO_FOCUS = "#diff"

    class DiffLoaded(Message):
        """The diff arrived (``diff`` None and ``error`` set when it could not be read);
        ``load`` is the number of the load that read it."""

        def __init__(self, diff: AgentDiff | None, error: str = "", *, load: int = 0) -> None:
            super().__init__()
            self.diff = diff
            self.error = error
            self.load = load

    class CheckLoaded(Message):
        """The latest check, as the port has it."""

        def __init__(self, result: CheckResult | None, error: str = "") -> None:
            super().__init__()
            self.result = result
            self.error = error

    class CommentSent(Message):
        """A comment on ``where`` was queued for the agent ('' ``error``), or not."""

        def __init__(self, where: str, error: str = "") -> None:
            super().__init__()
            self.where = where
            self.error = error

    def __init__(
        self,
        port: ReviewPort,
        row: AgentRow,
        flow: ReviewFlow,
        run_port: RunPort,
        *,
        clock: Callable[[], float] = time.time,
        check_interval: float = CHECK_INTERVAL,
    ) -> None:
        super().__init__()
        self.port = port
        self.row = row
        self.agent = row.name
        self.flow = flow
        self.run_port = run_port
        self._comment_form: CommentScreen | None = None
        self.clock = clock
        self.check_interval = check_interval
        self.diff: AgentDiff | None = None
        #: The number of the latest load of the diff (only its answer is shown).
        self._diff_load = 0
        self.file_index = 0
        self.check_result: CheckResult | None = None
        self._check_timer: Timer | None = None
        #: True while the running check is followed (the port asked every `check_interval`).
        self.polling = False
        self._title = Static(diff_summary(row.name, row.branch, None), id="review-title")
        self._check_line = Static(check_content(None, 0), id="review-check")
        self._loading = Static(f"loading the diff of {row.name}…", id="review-loading")
        self._files = FileList(id="review-files")
        self._view = DiffView(id="diff")
        self._output = Static("", id="check-output", markup=False)

    def compose(self) -> ComposeResult:
        """Title and check lines, the files and the diff (or "loading…"), the check's output
        and the keys."""
        with Vertical(id="review-box"):
            yield self._title
            yield self._check_line
            yield self._loading
            with Horizontal(id="review-body"):
                yield self._files
                yield self._view
            yield self._output
        yield KeyFooter()

    def on_mount(self) -> None:
        """Load the diff and the check."""
        self.set_class(True, "-loading")
        self._output.border_title = "check output"
        self._check_timer = self.set_interval(self.check_interval, self._poll_check, pause=True)
        self.action_reload()
        self._load_check()

    # -- the diff ---------------------------------------------------------------------------

    @property
    def loaded(self) -> bool:
        """True once the diff is shown (or it is known that there is none)."""
        return not self.has_class("-loading")

    @property
    def view(self) -> DiffView:
        """The diff view."""
        return self._view

    @property
    def file_list(self) -> FileList:
        """The file list."""
        return self._files

    @property
    def _head(self) -> str:
        """The commit the diff was taken at ('' when unknown)."""
        return self.diff.head if self.diff is not None else ""

    @property
    def current_file(self) -> FileDiff | None:
        """The file shown."""
        if self.diff is None or not self.diff.files:
            return None
        return self.diff.files[self.file_index]

    def action_reload(self) -> None:
        """Read the diff again (the agent may have changed more since)."""
        if not self.is_attached:
            return  # closed meanwhile (a landing finished after the screen was left)
        self._diff_load += 1
        self.run_worker(
            partial(self._load_diff, self._diff_load),
            thread=True,
            exclusive=True,
            group="diff",
            exit_on_error=False,
        )

    def _load_diff(self, load: int) -> None:
        """In a thread: ask the port for the diff; warm the first file's lexer up. ``load``
        numbers this load (see `_diff_loaded`)."""
        try:
            diff = self.port.diff(self.agent)
            for file in diff.files[:1]:
                lexer_for(file.path)
        except Exception as error:
            self.post_message(self.DiffLoaded(None, describe_error(error), load=load))
        else:
            self.post_message(self.DiffLoaded(diff, load=load))

    @on(DiffLoaded)
    def _diff_loaded(self, message: DiffLoaded) -> None:
        if message.load != self._diff_load:
            return  # a superseded load answering late: a newer diff is (or will be) shown
        self.set_class(False, "-loading")
        diff = message.diff
        if diff is None:
            self._loading.update(f"Could not read {self.agent}'s diff: {message.error}")
            self.set_class(True, "-empty")
            return
        previous = self.current_file.path if self.current_file is not None else None
        self.diff = diff
        self._title.update(diff_summary(self.agent, self.row.branch, diff))
        if self.check_result is not None:
            self._check_line.update(check_content(self.check_result, self.clock(), diff.head))
        if not diff.files:
            self._loading.update(f"{self.agent} has not changed anything against its base yet.")
            self.set_class(True, "-empty")
            self._files.clear_options()
            self._view.show_file(None, -1)
            return
        self.set_class(False, "-empty")
        self._files.set_options(
            Option(file_entry(file), id=str(index)) for index, file in enumerate(diff.files)
        )
        paths = [file.path for file in diff.files]
        self._show(paths.index(previous) if previous in paths else 0)

    def _show(self, index: int, *, line: int = 0) -> None:
        """Show file ``index`` with the cursor on ``line``."""
        if self.diff is None or not self.diff.files:
            return
        self.file_index = index
        file = self.diff.files[index]
        self._files.highlighted = index
        self._view.border_title = file_title(file)
        self._view.show_file(file, index, line=line)

    @on(DiffView.CursorMoved)
    def _cursor_moved(self) -> None:
        view = self._view
        where = view.position()
        if self.diff is None or not self.diff.files:
            view.border_subtitle = ""
            return
        files = f"file {self.file_index + 1}/{len(self.diff.files)}"
        if where.hunk is None:
            view.border_subtitle = files
            return
        hunks = f"hunk {where.hunk + 1}/{len(view.hunk_starts)}"
        hunk = self.current_file.hunks[where.hunk] if self.current_file else None
        if hunk is not None and hunk.removed_at(where.line):
            assert where.line is not None
            line = f"old line {hunk.old_line_of(where.line)}"
        else:
            line = f"line {self._line_number(where.hunk)}"
        view.border_subtitle = f"{files} · {hunks} · {line}"

    def _line_number(self, h: int) -> int:
        file = self.current_file
        assert file is not None
        hunk = file.hunks[h]
        where = self._view.position()
        return hunk.new_start if where.line is None else hunk.new_line_of(where.line)

    @on(OptionList.OptionSelected, "#review-files")
    def _file_clicked(self, event: OptionList.OptionSelected) -> None:
        if event.option_index != self.file_index:
            self._show(event.option_index)
        self._view.focus()

    # -- files and hunks --------------------------------------------------------------------

    def action_next_file(self) -> None:
        """Show the next file."""
        if self.diff is not None and self.file_index + 1 < len(self.diff.files):
            self._show(self.file_index + 1)

    def action_previous_file(self) -> None:
        """Show the previous file."""
        if self.diff is not None and self.file_index > 0:
            self._show(self.file_index - 1)

    def action_next_hunk(self) -> None:
        """The next hunk's header (after the file's last hunk: the next file's first)."""
        view = self._view
        index = bisect.bisect_right(view.hunk_starts, view.cursor)
        if index < len(view.hunk_starts):
            view.move_to_hunk(index)
            return
        diff = self.diff
        if diff is None:
            return
        for next_index in range(self.file_index + 1, len(diff.files)):
            if diff.files[next_index].hunks:
                self._show(next_index)
                self._view.move_to_hunk(0)
                return

    def action_previous_hunk(self) -> None:
        """The previous hunk's header (before the file's first: the previous file's last)."""
        view = self._view
        index = bisect.bisect_left(view.hunk_starts, view.cursor) - 1
        if index >= 0:
            view.move_to_hunk(index)
            return
        diff = self.diff
        if diff is None:
            return
        for previous in range(self.file_index - 1, -1, -1):
            if diff.files[previous].hunks:
                self._show(previous)
                self._view.move_to_hunk(len(self._view.hunk_starts) - 1)
                return

    # -- comments ---------------------------------------------------------------------------

    def action_comment(self) -> None:
        """Comment on the line under the cursor (a hunk's header: on the whole hunk)."""
        file = self.current_file
        where = self._view.position()
        if file is None or where.hunk is None:
            self.notify("Put the cursor on a hunk's line to comment on it", severity="warning")
            return
        hunk = file.hunks[where.hunk]
        blank = Comment(file.path, self._line_number(where.hunk), hunk, "", where.line)
        quoted = self._view.line_text(self._view.cursor)
        self.app.push_screen(
            CommentScreen(
                self.agent,
                blank.where,
                quoted,
                lambda form, text: self._send_comment(form, replace(blank, text=text)),
            )
        )

    def _send_comment(self, form: CommentScreen, comment: Comment) -> None:
        self._comment_form = form
        self.run_port(partial(self._comment, comment), to=self, group="review")

    def _comment(self, comment: Comment) -> Message:
        """In a thread: queue the comment for the agent."""
        try:
            self.port.comment(self.agent, comment)
        except Exception as error:
            return self.CommentSent(comment.where, describe_error(error))
        return self.CommentSent(comment.where)

    @on(CommentSent)
    def _comment_sent(self, message: CommentSent) -> None:
        if not message.error:
            self.notify(f"Comment on {message.where} queued for {self.agent}", timeout=NOTICE)
        if self._comment_form is not None:
            self._comment_form.finished(message.error)

    # -- the check --------------------------------------------------------------------------

    def action_check(self) -> None:
        """Run the check; while it runs, offer to cancel it."""
        result = self.check_result
        running = result is not None and result.state is CheckState.RUNNING
        self.flow.toggle_check(self.agent, running=running)

    @on(ReviewFlow.CheckChanged)
    def _check_changed(self, message: ReviewFlow.CheckChanged) -> None:
        if message.name == self.agent:
            self._load_check()

    def action_toggle_output(self) -> None:
        """Show or hide the check's output."""
        self.set_class(not self.has_class("-output"), "-output")

    def _poll_check(self) -> None:
        busy = any(
            w.group == "check" and w.state in (WorkerState.PENDING, WorkerState.RUNNING)
            for w in self.workers
        )
        if not busy:
            self._load_check()

    def _load_check(self) -> None:
        """Ask the port for the latest check, in a worker."""
        self.run_worker(self._read_check, thread=True, group="check", exit_on_error=False)

    def _read_check(self) -> None:
        try:
            result = self.port.check(self.agent)
        except Exception as error:
            self.post_message(self.CheckLoaded(None, describe_error(error)))
        else:
            self.post_message(self.CheckLoaded(result))

    @on(CheckLoaded)
    def _check_loaded(self, message: CheckLoaded) -> None:
        if message.error:
            self._check_line.update(Content(f"check: {message.error}"))
            return
        previous, result = self.check_result, message.result
        self.check_result = result
        self._check_line.update(check_content(result, self.clock(), self._head))
        tail = result.tail.rstrip() if result is not None else ""
        lines = tail.splitlines()[-CHECK_TAIL_LINES:]
        self._output.update("\n".join(lines) if lines else "no output")
        running = result is not None and result.state is CheckState.RUNNING
        if self._check_timer is not None and running != self.polling:
            if running:
                self._check_timer.resume()
            else:
                self._check_timer.pause()
        self.polling = running
        was_running = previous is not None and previous.state is CheckState.RUNNING
        if was_running and result is not None and result.state is CheckState.FAILED:
            self.set_class(True, "-output")

    # -- landing, pushing, leaving ----------------------------------------------------------

    def action_land(self) -> None:
        """Land the agent's branch (the strategy is asked first)."""
        self.flow.land(self.agent, self.row.branch)

    @on(ReviewFlow.Landed)
    def _landed(self, message: ReviewFlow.Landed) -> None:
        if message.name == self.agent:
            message.stop()
            self.action_reload()

    def action_push(self) -> None:
        """Push the agent's branch (and open a pull request when possible)."""
        self.flow.push(self.agent)

    def action_close(self) -> None:
        """Back to the dashboard."""
        self.dismiss(None)
