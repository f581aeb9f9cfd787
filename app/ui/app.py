"""The dashboard app: renders the fleet's view and turns the human's keys into port calls.

Threads: the port's blocking methods run only in thread workers, which post messages back; the
port's change callback (any thread) becomes a coalescing `FleetChanged` message. Widgets are
only touched on the event loop.
"""

from __future__ import annotations

import logging
import shlex
import subprocess
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import App, ComposeResult, SuspendNotSupported
from textual.binding import Binding, BindingType
from textual.containers import Container, Horizontal
from textual.notifications import SeverityLevel
from textual.timer import Timer
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState, get_current_worker

from app.core.agent import SpawnRequest
from app.core.alerts import Alert, AlertKind
from app.core.errors import UsageError
from app.core.messages import MessageMode
from app.core.ports import FleetPort, RemovalRisk
from app.core.status import Status, is_ended
from app.core.views import FleetView
from app.ui.dialogs.confirm import ConfirmScreen, RemoveRiskyScreen
from app.ui.dialogs.evidence import EvidenceScreen
from app.ui.dialogs.help import HelpScreen
from app.ui.dialogs.message import MessageScreen
from app.ui.dialogs.new_agent import NewAgentScreen
from app.ui.inbox.screen import InboxScreen
from app.ui.keys import tmux_key_display
from app.ui.messages import (
    AlertRaised,
    AttachReady,
    EvidenceLoaded,
    FleetChanged,
    OperationReported,
    PaneCaptured,
    RemovalAssessed,
    SendFinished,
    SpawnFinished,
    describe_error,
)
from app.ui.review.flow import ReviewActions
from app.ui.review.screen import CHECK_INTERVAL, ReviewScreen
from app.ui.themes import (
    DEFAULT_THEME,
    FALLBACK_THEMES,
    default_themes_dir,
    load_themes,
    status_variable_defaults,
)
from app.ui.widgets.agent_table import AgentTable
from app.ui.widgets.diff_view import warm_up
from app.ui.widgets.fleet_header import FleetHeader
from app.ui.widgets.inbox_strip import InboxStrip
from app.ui.widgets.pane_preview import PanePreview, pane_text

log = logging.getLogger(__name__)

#: What the dashboard says when there is nothing to show.
EMPTY_MESSAGE = "No agents yet — press n to start one"

#: From this many columns on, the preview sits right of the table instead of below it.
WIDE_LAYOUT_COLUMNS = 180
#: The table is repainted at most this often (seconds) while the fleet keeps changing.
VIEW_INTERVAL = 0.2
#: How often the time-in-status column advances (rows whose time text changed are repainted).
TICK_SECONDS = 5.0

#: Actions that need a selected agent; disabled (greyed in the footer) on an empty fleet.
_AGENT_ACTIONS = frozenset(
    {
        "attach",
        "stop_agent",
        "remove_agent",
        "evidence",
        "toggle_mark",
        "message",
        "broadcast",
        "correct",
        "interrupt",
        "review",
        "run_check",
        "land",
        "push",
    }
)

#: Alerts arriving this close together (seconds) are announced together, with one bell.
ALERT_BATCH_SECONDS = 0.25

#: Statuses of agents that can no longer take a message.


class QuarterdeckApp(App[None]):
    """A full-screen dashboard over one repository's fleet of agents.

    Args:
        port: The fleet, as the UI may use it.
        theme_name: A theme from the themes folder (or a Textual built-in); default
            ``quarterdeck-dark``.
        themes_dir: Where theme files live; default the repository's ``themes/`` folder.
        clock: The time source for the "time in status" column (tests pass a constant).
        hosted: True when the dashboard runs in window 0 of the fleet's own tmux session.
        preview_interval: Seconds between captures of the selected agent's pane.
        tick_interval: Seconds between updates of the time-in-status column.
        check_interval: Seconds between looks at a running check while it is reviewed.

    Raises:
        UsageError: A theme file is invalid or ``theme_name`` is not a known theme.
    """

    CSS_PATH = "app.tcss"
    TITLE = "Quarterdeck"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("i", "inbox", "Inbox"),
        Binding("w", "next_waiting", "Next waiting", show=False),  # the inbox strip says it
        Binding("m", "message", "Message"),
        Binding("n", "new_agent", "New"),
        Binding("v", "review", "Review"),
        Binding("C,shift+c", "run_check", "Check", key_display="C"),
        Binding("g", "land", "Land"),
        Binding("P,shift+p", "push", "Push", show=False, key_display="P"),
        Binding("x", "stop_agent", "Stop"),
        Binding("d", "remove_agent", "Remove"),
        Binding("e", "evidence", "Why?", show=False),
        Binding("space", "toggle_mark", "Mark", show=False),
        Binding("escape", "clear_marks", "Clear marks", show=False),
        Binding("M", "broadcast", "Message all", show=False),
        Binding("shift+m", "broadcast", "Message all", show=False),
        Binding("c", "correct", "Correct", show=False),
        Binding("exclamation_mark", "interrupt", "Interrupt", show=False, key_display="!"),
        *[Binding(str(n), f"answer({n})", f"Answer {n}", show=False) for n in range(1, 10)],
        Binding("t", "cycle_theme", "Theme", show=False),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(
        self,
        port: FleetPort,
        *,
        theme_name: str | None = None,
        themes_dir: Path | None = None,
        clock: Callable[[], float] = time.time,
        hosted: bool = False,
        preview_interval: float = 0.5,
        tick_interval: float = TICK_SECONDS,
        check_interval: float = CHECK_INTERVAL,
    ) -> None:
        super().__init__()
        self.port = port
        self.clock = clock
        self.hosted = hosted
        self.preview_interval = preview_interval
        self.tick_interval = tick_interval
        self.check_interval = check_interval
        self.return_key = tmux_key_display(port.return_key)
        self.sub_title = f"{self.return_key}: back from an agent"
        self.theme_names = self._install_themes(themes_dir, theme_name)
        self._select_when_shown: str | None = None
        self._pending_view: FleetView | None = None
        self._view = FleetView(port.repo_name, ())
        self._alerts: list[Alert] = []
        self._alert_timer: Timer | None = None
        self._view_timer: Timer | None = None
        self._view_shown_at = 0.0
        self._has_selection = False
        # The dashboard's widgets, kept by reference: `query_one` searches the *active* screen,
        # which is a dialog while one is open.
        self._header = FleetHeader(port.repo_name)
        self._body = Container(id="body", classes="-empty")
        self._table = AgentTable(id="agents")
        self._preview = PanePreview(id="preview")
        self._strip = InboxStrip(id="inbox-strip")
        #: Checks, landing, pushing and comments, for the dashboard and the review screen.
        self.review = ReviewActions(self, port, remove=self.remove_agent)

    # -- themes -----------------------------------------------------------------------------

    def _install_themes(self, themes_dir: Path | None, theme_name: str | None) -> list[str]:
        """Register the theme files and select the starting theme; the names `t` cycles through."""
        folder = themes_dir if themes_dir is not None else default_themes_dir()
        self._theme_warning = ""
        if folder.is_dir():
            themes = load_themes(folder)
            for theme in themes:
                self.register_theme(theme)
            names = [theme.name for theme in themes]
        else:
            self._theme_warning = f"theme folder {folder} is missing; using Textual's themes"
            log.warning(self._theme_warning)
            names = list(FALLBACK_THEMES)
        wanted = theme_name or (DEFAULT_THEME if DEFAULT_THEME in names else names[0])
        if wanted not in self.available_themes:
            known = ", ".join(names)
            raise UsageError(f"unknown theme {wanted!r}: use one of {known} (or a Textual theme)")
        self.theme = wanted
        return names

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """Status colours for themes that do not define them (Textual's built-in themes)."""
        return status_variable_defaults(self.current_theme.to_color_system().generate())

    def action_cycle_theme(self) -> None:
        """Switch to the next of our themes."""
        names = self.theme_names
        index = names.index(self.theme) + 1 if self.theme in names else 0
        self.theme = names[index % len(names)]
        self.notify(f"Theme: {self.theme}", timeout=2)

    # -- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        """Header, the table (or the empty message) with the preview, and the footer."""
        yield self._header
        with self._body:
            yield Static(EMPTY_MESSAGE, id="empty", markup=False)
            yield self._table
            yield self._preview
        yield self._strip
        with Horizontal(id="bottom-bar"):
            yield Footer(show_command_palette=False)
            yield Static(self.sub_title, id="return-hint", markup=False)

    @property
    def table(self) -> AgentTable:
        """The agent table."""
        return self._table

    @property
    def preview(self) -> PanePreview:
        """The pane preview."""
        return self._preview

    @property
    def strip(self) -> InboxStrip:
        """The inbox strip above the footer."""
        return self._strip

    @property
    def view(self) -> FleetView:
        """The view shown now."""
        return self._view

    @property
    def selected_name(self) -> str | None:
        """The selected agent's name, or None when the fleet is empty."""
        return self.table.selected_name

    def on_mount(self) -> None:
        """Show the fleet, follow its changes and start the clocks."""
        if self._theme_warning:
            self.notify(self._theme_warning, severity="warning")
        self._fit_layout(self.size.width)
        self.port.subscribe(self._port_changed)
        self.port.subscribe_alerts(self._port_alerted)
        self._show_view(self.port.view())
        self.set_interval(self.tick_interval, self._tick)
        self.set_interval(self.preview_interval, self._poll_preview)
        # The first review would otherwise wait for pygments to load.
        self.run_worker(warm_up, thread=True, group="warm-up", exit_on_error=False)

    def on_resize(self) -> None:
        """Put the preview beside the table on wide terminals, below it otherwise."""
        self._fit_layout(self.size.width)

    def _fit_layout(self, width: int) -> None:
        self._body.set_class(width >= WIDE_LAYOUT_COLUMNS, "-wide")

    # -- the fleet's view -------------------------------------------------------------------

    def _port_changed(self, view: FleetView) -> None:
        """The port's callback; runs on any thread, so it only posts a message."""
        self.post_message(FleetChanged(view))

    def on_fleet_changed(self, message: FleetChanged) -> None:
        """Render the newest view: at once after a quiet spell, else at most every
        `VIEW_INTERVAL` (a busy fleet changes many times a second; each view shown costs cells
        for the changed rows and a repaint of those on screen)."""
        self._pending_view = message.view
        if self._view_timer is not None:
            return
        wait = VIEW_INTERVAL - (time.monotonic() - self._view_shown_at)
        if wait <= 0:
            self._show_pending_view()
        else:
            self._view_timer = self.set_timer(wait, self._show_pending_view)

    def _show_pending_view(self) -> None:
        self._view_timer = None
        view, self._pending_view = self._pending_view, None
        if view is not None:
            self._view_shown_at = time.monotonic()
            self._show_view(view)

    def _show_view(self, view: FleetView) -> None:
        self._view = view
        self._header.show(view)
        empty = not view.rows
        self._body.set_class(empty, "-empty")
        self._strip.display = not empty
        self._strip.show(view, self.clock())
        for screen in self.screen_stack:
            if isinstance(screen, InboxScreen):
                screen.show_view(view)
        table = self.table
        table.show_rows(view.rows, self.clock())
        if self._select_when_shown is not None and table.select_name(self._select_when_shown):
            self._select_when_shown = None
        if not empty and self.screen.focused is None and self.screen is self.screen_stack[0]:
            table.focus()
        self.preview.show_agent(table.selected_row)
        if self._has_selection != (not empty):
            self._has_selection = not empty
            self.refresh_bindings()

    def _tick(self) -> None:
        now = self.clock()
        self.table.tick(now)
        self._strip.tick(now)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Agent actions are shown disabled while no agent is selected."""
        if action in _AGENT_ACTIONS and not self._has_selection:
            return None
        return True

    # -- preview ----------------------------------------------------------------------------

    def on_agent_table_agent_highlighted(self, message: AgentTable.AgentHighlighted) -> None:
        """A different agent is selected: retitle the preview and capture its pane now."""
        self.preview.show_agent(self.table.selected_row)
        if message.name is not None:
            self._capture(message.name, None)

    def _poll_preview(self) -> None:
        name = self.preview.agent
        if name is None:
            return
        busy = any(
            w.group == "preview" and w.state in (WorkerState.PENDING, WorkerState.RUNNING)
            for w in self.workers
        )
        if not busy:
            self._capture(name, self.preview.last_capture(name))

    @work(thread=True, exclusive=True, exit_on_error=False, group="preview")
    def _capture(self, name: str, shown: str | None) -> None:
        """Capture a pane off the event loop; a failure shows in the preview, not as a toast.

        ``shown`` is the capture on screen now: an unchanged pane is neither parsed nor repainted.
        """
        worker = get_current_worker()
        try:
            capture = self.port.capture(name)
            if capture == shown:
                return  # unchanged: nothing to parse or repaint
            message = PaneCaptured(name, capture, pane_text(capture))
        except Exception as error:
            message = PaneCaptured(name, "", None, describe_error(error))
        if not worker.is_cancelled:
            self.post_message(message)

    def on_pane_captured(self, message: PaneCaptured) -> None:
        """Show a capture (the preview ignores one for an agent no longer selected)."""
        self.preview.show_capture(message.name, message.capture, message.text, message.error)

    # -- new agent --------------------------------------------------------------------------

    def action_new_agent(self) -> None:
        """Open the new-agent form."""
        try:
            kinds = self.port.kinds()
            base = self.port.default_base()
        except Exception as error:
            self.notify(describe_error(error), severity="error")
            return
        self.push_screen(NewAgentScreen(kinds, base))

    def on_new_agent_screen_submitted(self, message: NewAgentScreen.Submitted) -> None:
        """Start the agent the form asks for."""
        self._spawn(message.form, message.request)

    @work(thread=True, exit_on_error=False, group="spawn")
    def _spawn(self, form: NewAgentScreen, request: SpawnRequest) -> None:
        try:
            agents = self.port.spawn(request)
        except Exception as error:
            self.post_message(SpawnFinished(form, [], describe_error(error)))
        else:
            self.post_message(SpawnFinished(form, agents))

    def _close_form(self, form: NewAgentScreen | MessageScreen, error: str, title: str) -> bool:
        """After a form's request finished: show the error in the form (or, if the form was
        closed meanwhile, as a notification) and return False; else close it, return True."""
        form_open = form in self.screen_stack
        if error:
            if form_open:
                form.show_error(error)
            else:
                self.notify(error, title=title, severity="error")
            return False
        if form_open:
            form.dismiss(None)
        return True

    def on_spawn_finished(self, message: SpawnFinished) -> None:
        """Close the form and select the new agent, or show why it did not start."""
        if not self._close_form(message.form, message.error, "Agent not started"):
            return
        names = [agent.name for agent in message.agents]
        if names:
            self.notify(f"Started {', '.join(names)}")
            if not self.table.select_name(names[0]):
                self._select_when_shown = names[0]

    # -- attach -----------------------------------------------------------------------------

    def action_attach(self) -> None:
        """Show the selected agent's pane."""
        name = self.selected_name
        if name is not None:
            self._request_attach(name)

    def attach_agent(self, name: str) -> None:
        """Show agent ``name``'s pane and select it (the inbox attaches this way)."""
        self._request_attach(name)

    @work(thread=True, exclusive=True, exit_on_error=False, group="attach")
    def _request_attach(self, name: str) -> None:
        try:
            argv = self.port.attach(name)
        except Exception as error:
            self.post_message(OperationReported(describe_error(error), "error"))
        else:
            self.post_message(AttachReady(name, argv))

    def on_attach_ready(self, message: AttachReady) -> None:
        """Hand the terminal to the attach command (if any), then keep the selection."""
        if message.argv:
            self.run_foreground(message.argv)
        self.table.select_name(message.name)

    def run_foreground(self, argv: list[str]) -> None:
        """Run ``argv`` with the terminal, the dashboard suspended until it ends."""
        try:
            with self.suspend():
                subprocess.run(argv, check=False)
        except SuspendNotSupported:
            self.notify(
                f"This terminal cannot be handed over; run: {shlex.join(argv)}",
                severity="warning",
            )
        except OSError as error:
            self.notify(f"{shlex.join(argv)}: {error}", severity="error")

    # -- stop -------------------------------------------------------------------------------

    def action_stop_agent(self) -> None:
        """Ask, then stop the selected agent."""
        name = self.selected_name
        if name is None:
            return
        question = f"Stop {name}? Its process tree will be ended."
        self.push_screen(
            ConfirmScreen(question, yes_label="Stop"), partial(self._stop_answered, name)
        )

    def _stop_answered(self, name: str, yes: bool | None) -> None:
        if yes:
            self._stop(name)

    @work(thread=True, exit_on_error=False, group="fleet")
    def _stop(self, name: str) -> None:
        try:
            self.port.stop(name)
        except Exception as error:
            self.post_message(OperationReported(describe_error(error), "error"))
        else:
            self.post_message(OperationReported(f"Stopped {name}"))

    # -- remove -----------------------------------------------------------------------------

    def action_remove_agent(self) -> None:
        """Find out what removing the selected agent would lose, then ask accordingly."""
        name = self.selected_name
        if name is not None:
            self._assess_removal(name)

    def remove_agent(self, name: str) -> None:
        """Offer to remove agent ``name`` (after landing it): the removal asks as `d` does."""
        self._assess_removal(name)

    @work(thread=True, exit_on_error=False, group="fleet")
    def _assess_removal(self, name: str) -> None:
        try:
            risk = self.port.removal_risk(name)
        except Exception as error:
            self.post_message(OperationReported(describe_error(error), "error"))
        else:
            self.post_message(RemovalAssessed(risk))

    def on_removal_assessed(self, message: RemovalAssessed) -> None:
        """Safe: a plain yes/no. Risky: say what is lost and require the name typed out."""
        risk = message.risk
        if risk.safe:
            question = (
                f"Remove {risk.name}? Its worktree, window and branch go; "
                "nothing unmerged or uncommitted is lost."
            )
            self.push_screen(
                ConfirmScreen(question, yes_label="Remove"),
                partial(self._remove_answered, risk, False),
            )
        else:
            self.push_screen(RemoveRiskyScreen(risk), partial(self._remove_answered, risk, True))

    def _remove_answered(self, risk: RemovalRisk, discard: bool, yes: bool | None) -> None:
        if yes:
            # A review of the agent (asked from there after landing it) has nothing left to show.
            if isinstance(self.screen, ReviewScreen) and self.screen.agent == risk.name:
                self.screen.dismiss(None)
            self._remove(risk.name, discard)

    @work(thread=True, exit_on_error=False, group="fleet")
    def _remove(self, name: str, discard: bool) -> None:
        try:
            kept = self.port.remove(name, discard_unmerged=discard, discard_changes=discard)
        except Exception as error:
            self.post_message(OperationReported(describe_error(error), "error"))
        else:
            self.post_message(OperationReported(kept or f"Removed {name}"))

    # -- answering a dialog -----------------------------------------------------------------

    def action_answer(self, number: int) -> None:
        """Pick an option of the selected agent's dialog (trust, setup, permission...)."""
        row = self.table.selected_row
        if row is None:
            return
        if row.status is not Status.NEEDS_INPUT:
            self.notify(f"{row.name} is not waiting on a dialog", severity="warning", timeout=3)
            return
        self._answer(row.name, number)

    @work(thread=True, exit_on_error=False, group="fleet")
    def _answer(self, name: str, number: int) -> None:
        try:
            said = self.port.answer(name, number)
        except Exception as error:
            self.post_message(OperationReported(describe_error(error), "error"))
        else:
            self.post_message(OperationReported(said))

    # -- the inbox --------------------------------------------------------------------------

    def action_inbox(self) -> None:
        """Open the inbox: every waiting agent, answered in place."""
        self.push_screen(
            InboxScreen(self.port, self._view, clock=self.clock, attach=self.attach_agent)
        )

    def action_next_waiting(self) -> None:
        """Select the next agent that waits on the human (the longest-waiting first)."""
        row = self._view.next_waiting(self.selected_name)
        if row is None:
            self.notify("No agent waits for you", timeout=3)
            return
        self.table.select_name(row.name)

    # -- marks, messages, interrupts --------------------------------------------------------

    def action_toggle_mark(self) -> None:
        """Mark or unmark the selected agent and move down one row."""
        name = self.selected_name
        if name is not None:
            self.table.toggle_mark(name)
            self.table.action_cursor_down()

    def action_clear_marks(self) -> None:
        """Unmark every agent."""
        self.table.clear_marks()

    @property
    def targets(self) -> tuple[str, ...]:
        """The agents a message or an interrupt is for: the marked ones, else the selected one."""
        marked = self.table.marked_names
        if marked:
            return marked
        name = self.selected_name
        return (name,) if name is not None else ()

    def action_message(self) -> None:
        """Write a message to the marked agents (or the selected one)."""
        if self.targets:
            self.push_screen(MessageScreen(self.targets))

    def action_correct(self) -> None:
        """Interrupt the marked agents (or the selected one), then send them a message."""
        if self.targets:
            self.push_screen(MessageScreen(self.targets, MessageMode.INTERRUPT))

    def action_broadcast(self) -> None:
        """Write a message to every agent that has not ended."""
        names = tuple(r.name for r in self._view.rows if not is_ended(r.status))
        if not names:
            self.notify("No live agent to message", severity="warning", timeout=3)
            return
        self.push_screen(MessageScreen(names, broadcast=True))

    def on_message_screen_submitted(self, message: MessageScreen.Submitted) -> None:
        """Send what the message screen asks for."""
        self._send(message.form, message.names, message.text, message.mode)

    @work(thread=True, exit_on_error=False, group="send")
    def _send(
        self, form: MessageScreen, names: tuple[str, ...], text: str, mode: MessageMode
    ) -> None:
        try:
            sent = self.port.send(names, text, mode)
        except Exception as error:
            self.post_message(SendFinished(form, [], describe_error(error)))
        else:
            self.post_message(SendFinished(form, sent))

    def on_send_finished(self, message: SendFinished) -> None:
        """Close the form and say the message is on its way, or show why it is not."""
        form = message.form
        if not self._close_form(form, message.error, "Message not sent"):
            return
        n = len(message.messages)
        agents = f"{n} agent{'s' if n != 1 else ''}" if n != 1 else message.messages[0].agent_name
        if form.mode is MessageMode.INTERRUPT:
            self.notify(f"Interrupting {agents}; the message follows")
        else:
            self.notify(f"Message queued for {agents}")

    def action_interrupt(self) -> None:
        """Interrupt the marked agents (or the selected one) now; asks first when several."""
        names = self.targets
        if len(names) > 1:
            listed = ", ".join(names)
            self.push_screen(
                ConfirmScreen(
                    f"Interrupt {len(names)} agents now?\n\n{listed}", yes_label="Interrupt"
                ),
                partial(self._interrupt_answered, names),
            )
        elif names:
            self._interrupt(names)

    def _interrupt_answered(self, names: tuple[str, ...], yes: bool | None) -> None:
        if yes:
            self._interrupt(names)

    @work(thread=True, exit_on_error=False, group="fleet")
    def _interrupt(self, names: tuple[str, ...]) -> None:
        done = []
        for name in names:
            try:
                self.port.interrupt(name)
            except Exception as error:
                self.post_message(OperationReported(f"{name}: {describe_error(error)}", "error"))
            else:
                done.append(name)
        if done:
            self.post_message(OperationReported(f"Interrupted {', '.join(done)}"))

    # -- alerts -----------------------------------------------------------------------------

    def _port_alerted(self, alert: Alert) -> None:
        """The port's alert callback; runs on any thread, so it only posts a message."""
        self.post_message(AlertRaised(alert))

    def on_alert_raised(self, message: AlertRaised) -> None:
        """Collect alerts for a moment: one sweep often finds several agents waiting."""
        self._alerts.append(message.alert)
        if self._alert_timer is None:
            self._alert_timer = self.set_timer(ALERT_BATCH_SECONDS, self._announce_alerts)

    def _announce_alerts(self) -> None:
        """Ring the bell once and say who waits (a warning) and who finished."""
        self._alert_timer = None
        alerts, self._alerts = self._alerts, []
        if not alerts:
            return
        self.bell()
        batches: tuple[tuple[AlertKind, SeverityLevel, str], ...] = (
            (AlertKind.WAITING, "warning", "{n} agents wait for you"),
            (AlertKind.FINISHED, "information", "{n} agents finished"),
        )
        for kind, severity, several in batches:
            these = [a for a in alerts if a.kind is kind]
            if len(these) == 1:
                [alert] = these
                self.notify(alert.body or alert.title, title=alert.title, severity=severity)
            elif these:
                names = ", ".join(dict.fromkeys(a.name for a in these))
                self.notify(names, title=several.format(n=len(these)), severity=severity)

    # -- review -----------------------------------------------------------------------------

    def action_review(self) -> None:
        """Review the selected agent's changes: files, hunks, its check; comment, land, push."""
        row = self.table.selected_row
        if row is not None:
            self.push_screen(
                ReviewScreen(
                    self.port,
                    row,
                    self.review,
                    clock=self.clock,
                    check_interval=self.check_interval,
                )
            )

    def action_run_check(self) -> None:
        """Run the selected agent's check; while one runs, offer to cancel it."""
        row = self.table.selected_row
        if row is not None:
            running = row.check.split()[:1] == ["running"]
            self.review.toggle_check(row.name, running=running)

    def action_land(self) -> None:
        """Land the selected agent's branch in its base (the strategy is asked first)."""
        row = self.table.selected_row
        if row is not None:
            self.review.land(row.name, row.branch)

    def action_push(self) -> None:
        """Push the selected agent's branch and open a pull request (when `gh` can)."""
        name = self.selected_name
        if name is not None:
            self.review.push(name)

    # -- evidence ---------------------------------------------------------------------------

    def action_evidence(self) -> None:
        """Why does the selected agent's status say what it says?"""
        name = self.selected_name
        if name is not None:
            self._load_evidence(name)

    @work(thread=True, exit_on_error=False, group="fleet")
    def _load_evidence(self, name: str) -> None:
        try:
            trail = self.port.evidence(name)
        except Exception as error:
            self.post_message(OperationReported(describe_error(error), "error"))
        else:
            self.post_message(EvidenceLoaded(name, trail))

    def on_evidence_loaded(self, message: EvidenceLoaded) -> None:
        """Show the trail (if the agent is still there)."""
        row = self.table.row(message.name)
        if row is not None:
            self.push_screen(EvidenceScreen(row, message.trail))

    # -- help, reports, failures ------------------------------------------------------------

    def action_help(self) -> None:
        """Show every key (from the review: its keys at the top)."""
        section = "Review (v)" if isinstance(self.screen, ReviewScreen) else ""
        self.push_screen(HelpScreen(self.return_key, hosted=self.hosted, section=section))

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Show a notification, always as plain text: what we show comes from git, agents and
        settings (``[checks]``), where square brackets are text, not markup."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def on_operation_reported(self, message: OperationReported) -> None:
        """Tell the human how a background operation went."""
        self.notify(message.text, severity=message.severity, timeout=8)

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        """A safety net: workers report their own errors, but nothing may crash the app."""
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            log.error("worker %s failed", event.worker.name, exc_info=event.worker.error)
            self.notify(describe_error(event.worker.error), severity="error")
