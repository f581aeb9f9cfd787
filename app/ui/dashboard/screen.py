"""The dashboard screen: the fleet's table, the selected agent's pane, and the keys that act on
them.

Threads: the port's blocking methods run only in thread workers (the app's `run_port`, or the
preview's own capture worker), which post messages back; the port's callbacks (any thread)
become coalescing `FleetChanged` and `AlertRaised` messages. Widgets are only touched on the
event loop. What is done to an agent after asking lives in `AgentFlow`, the forms in
`FormFlow`, checks, landing and pushing in `ReviewFlow`: invisible widgets of this screen, which
is always there.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Container, Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Static
from textual.worker import WorkerState, get_current_worker

from app.core.alerts import Alert
from app.core.checks import CheckState
from app.core.messages import MessageMode
from app.core.ports import FleetPort
from app.core.status import Status, is_ended
from app.core.views import AgentRow, FleetView
from app.ui.dashboard.agent_flow import AgentFlow
from app.ui.dashboard.alerts import ALERT_BATCH_SECONDS, announcements
from app.ui.dashboard.form_flow import FormFlow
from app.ui.dialogs.evidence import EvidenceScreen
from app.ui.inbox.screen import InboxScreen
from app.ui.keys import AGENT_ACTIONS, DASHBOARD_BINDINGS
from app.ui.messages import AlertRaised, FleetChanged, RunPort, describe_error
from app.ui.review.flow import ReviewFlow
from app.ui.review.screen import CHECK_INTERVAL, ReviewScreen
from app.ui.widgets.agent_table import AgentTable
from app.ui.widgets.diff_view import warm_up
from app.ui.widgets.fleet_header import FleetHeader
from app.ui.widgets.inbox_strip import InboxStrip
from app.ui.widgets.key_footer import KeyFooter
from app.ui.widgets.pane_preview import PanePreview, pane_text

#: What the dashboard says when there is nothing to show.
EMPTY_MESSAGE = "No agents yet — press n to start one"

#: From this many columns on, the preview sits right of the table instead of below it.
WIDE_LAYOUT_COLUMNS = 180
#: The table is repainted at most this often (seconds) while the fleet keeps changing.
VIEW_INTERVAL = 0.2
#: How often the time-in-status column advances (rows whose time text changed are repainted).
TICK_SECONDS = 5.0


class DashboardScreen(Screen[None]):
    """The fleet at a glance: header, agent table, the selected pane, the inbox strip, keys.

    Args:
        port: The fleet, as the UI may use it.
        run_port: Runs a port call in a worker of the app and reports failures.
        return_hint: The footer's note on the key that returns here from an agent.
        clock: The time source for the "time in status" column (tests pass a constant).
        preview_interval: Seconds between captures of the selected agent's pane.
        tick_interval: Seconds between updates of the time-in-status column.
        check_interval: Seconds between looks at a running check while it is reviewed.
    """

    CSS_PATH = "dashboard.tcss"

    BINDINGS: ClassVar[list[BindingType]] = list(DASHBOARD_BINDINGS)

    class PaneCaptured(Message):
        """A capture of an agent's pane arrived: the raw ``capture`` and its ``text`` (both
        empty and ``error`` set when the capture failed)."""

        def __init__(self, name: str, capture: str, text: Text | None, error: str = "") -> None:
            super().__init__()
            self.name = name
            self.capture = capture
            self.text = text
            self.error = error

        def can_replace(self, message: Message) -> bool:
            """Only the newest capture of the same pane matters."""
            return isinstance(message, DashboardScreen.PaneCaptured) and message.name == self.name

    class EvidenceLoaded(Message):
        """An agent's evidence trail, read off the event loop."""

        def __init__(self, name: str, trail: list[tuple[float, str, str]]) -> None:
            super().__init__()
            self.name = name
            self.trail = trail

    def __init__(
        self,
        port: FleetPort,
        run_port: RunPort,
        *,
        return_hint: str,
        clock: Callable[[], float] = time.time,
        preview_interval: float = 0.5,
        tick_interval: float = TICK_SECONDS,
        check_interval: float = CHECK_INTERVAL,
    ) -> None:
        super().__init__()
        self.port = port
        self.run_port = run_port
        self.return_hint = return_hint
        self.clock = clock
        self.preview_interval = preview_interval
        self.tick_interval = tick_interval
        self.check_interval = check_interval
        self._select_when_shown: str | None = None
        self._pending_view: FleetView | None = None
        self._view = FleetView(port.repo_name, ())
        self._alerts: list[Alert] = []
        self._alert_timer: Timer | None = None
        self._view_timer: Timer | None = None
        self._view_shown_at = 0.0
        self._has_selection = False
        self._header = FleetHeader(port.repo_name)
        self._body = Container(id="body", classes="-empty")
        self._table = AgentTable(id="agents")
        self._preview = PanePreview(id="preview")
        self._strip = InboxStrip(id="inbox-strip")
        #: Attaching, stops, removals, interrupts and answers (asked first where something is lost).
        self.agent_flow = AgentFlow(port, port, port, run_port)
        #: The new-agent and message forms and what they ask for.
        self.form_flow = FormFlow(port, port, run_port)
        #: Checks, landing and pushing, for the dashboard and the review screen.
        self.review_flow = ReviewFlow(port, run_port)

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
            yield KeyFooter()
            yield Static(self.return_hint, id="return-hint", markup=False)
        yield self.agent_flow
        yield self.form_flow
        yield self.review_flow

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
        self._fit_layout(self.app.size.width)
        self.port.subscribe(self._port_changed)
        self.port.subscribe_alerts(self._port_alerted)
        self._show_view(self.port.view())
        # The clocks and the preview's captures belong to the app: a message handled by this
        # screen while a see-through dialog covers it repaints the whole dialog (Textual), so
        # nothing arrives here at their rate.
        self.app.set_interval(self.tick_interval, self._tick)
        self.app.set_interval(self.preview_interval, self._poll_preview)
        # The first review would otherwise wait for pygments to load.
        self.run_worker(warm_up, thread=True, group="warm-up", exit_on_error=False)

    def on_resize(self) -> None:
        """Put the preview beside the table on wide terminals, below it otherwise."""
        self._fit_layout(self.app.size.width)

    def _fit_layout(self, width: int) -> None:
        self._body.set_class(width >= WIDE_LAYOUT_COLUMNS, "-wide")

    # -- the fleet's view -------------------------------------------------------------------

    def _port_changed(self, view: FleetView) -> None:
        """The port's callback; runs on any thread, so it only posts a message."""
        self.post_message(FleetChanged(view))

    def _port_alerted(self, alert: Alert) -> None:
        """The port's alert callback; runs on any thread, so it only posts a message."""
        self.post_message(AlertRaised(alert))

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
        for screen in self.app.screen_stack:
            if isinstance(screen, InboxScreen):
                screen.show_view(view)
        table = self.table
        table.show_rows(view.rows, self.clock())
        if self._select_when_shown is not None and table.select_name(self._select_when_shown):
            self._select_when_shown = None
        if not empty and self.focused is None and self.app.screen is self:
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
        if action in AGENT_ACTIONS and not self._has_selection:
            return None
        return True

    # -- preview ----------------------------------------------------------------------------

    def on_agent_table_agent_highlighted(self, message: AgentTable.AgentHighlighted) -> None:
        """A different agent is selected: retitle the preview and capture its pane now."""
        self.preview.show_agent(self.table.selected_row)
        if message.name is not None:
            self._start_capture(message.name, None)

    def _poll_preview(self) -> None:
        name = self.preview.agent
        if name is None:
            return
        busy = any(
            w.group == "preview" and w.state in (WorkerState.PENDING, WorkerState.RUNNING)
            for w in self.workers
        )
        if not busy:
            self._start_capture(name, self.preview.last_capture(name))

    def _start_capture(self, name: str, shown: str | None) -> None:
        """Capture agent ``name``'s pane in a worker of the app (a newer capture supersedes
        one still running)."""
        self.app.run_worker(
            partial(self._capture, name, shown),
            thread=True,
            exclusive=True,
            exit_on_error=False,
            group="preview",
        )

    def _capture(self, name: str, shown: str | None) -> None:
        """Capture a pane off the event loop; a failure shows in the preview, not as a toast.

        ``shown`` is the capture on screen now: an unchanged pane is neither parsed nor repainted.
        """
        worker = get_current_worker()
        try:
            capture = self.port.capture(name)
            if capture == shown:
                return  # unchanged: nothing to parse or repaint
            message = self.PaneCaptured(name, capture, pane_text(capture))
        except Exception as error:
            message = self.PaneCaptured(name, "", None, describe_error(error))
        if not worker.is_cancelled:
            self.post_message(message)

    def on_dashboard_screen_pane_captured(self, message: PaneCaptured) -> None:
        """Show a capture (the preview ignores one for an agent no longer selected)."""
        self.preview.show_capture(message.name, message.capture, message.text, message.error)

    # -- forms: a new agent, a message -------------------------------------------------------

    def action_new_agent(self) -> None:
        """Open the new-agent form."""
        self.form_flow.new_agent()

    def on_form_flow_started(self, message: FormFlow.Started) -> None:
        """Select the agent just started (once the view shows it)."""
        if not self.table.select_name(message.name):
            self._select_when_shown = message.name

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
            self.form_flow.message(self.targets)

    def action_correct(self) -> None:
        """Interrupt the marked agents (or the selected one), then send them a message."""
        if self.targets:
            self.form_flow.message(self.targets, MessageMode.INTERRUPT)

    def action_broadcast(self) -> None:
        """Write a message to every agent that has not ended."""
        names = tuple(r.name for r in self._view.rows if not is_ended(r.status))
        if not names:
            self.notify("No live agent to message", severity="warning", timeout=3)
            return
        self.form_flow.message(names, broadcast=True)

    # -- attach -----------------------------------------------------------------------------

    def action_attach(self) -> None:
        """Show the selected agent's pane."""
        name = self.selected_name
        if name is not None:
            self.attach_agent(name)

    def attach_agent(self, name: str) -> None:
        """Show agent ``name``'s pane and select it (the inbox attaches this way)."""
        self.agent_flow.attach(name)

    def on_agent_flow_attached(self, message: AgentFlow.Attached) -> None:
        """Back from the agent's pane: it stays selected."""
        self.table.select_name(message.name)

    # -- acting on the selected (or marked) agents ------------------------------------------

    def action_stop_agent(self) -> None:
        """Ask, then stop the selected agent."""
        name = self.selected_name
        if name is not None:
            self.agent_flow.stop(name)

    def action_remove_agent(self) -> None:
        """Find out what removing the selected agent would lose, then ask accordingly."""
        name = self.selected_name
        if name is not None:
            self.agent_flow.offer_removal(name)

    def on_review_flow_landed(self, message: ReviewFlow.Landed) -> None:
        """After landing, offer to remove the agent: the removal asks as `d` does."""
        self.agent_flow.offer_removal(message.name)

    def action_answer(self, number: int) -> None:
        """Pick an option of the selected agent's dialog (trust, setup, permission...)."""
        row = self.table.selected_row
        if row is None:
            return
        if row.status is not Status.NEEDS_INPUT:
            self.notify(f"{row.name} is not waiting on a dialog", severity="warning", timeout=3)
            return
        self.agent_flow.answer(row.name, number)

    def action_interrupt(self) -> None:
        """Interrupt the marked agents (or the selected one) now; asks first when several."""
        self.agent_flow.interrupt(self.targets)

    def action_toggle_mark(self) -> None:
        """Mark or unmark the selected agent and move down one row."""
        name = self.selected_name
        if name is not None:
            self.table.toggle_mark(name)
            self.table.action_cursor_down()

    def action_clear_marks(self) -> None:
        """Unmark every agent."""
        self.table.clear_marks()

    # -- the inbox --------------------------------------------------------------------------

    def action_inbox(self) -> None:
        """Open the inbox: every waiting agent, answered in place."""
        self.app.push_screen(
            InboxScreen(
                self.port, self._view, self.run_port, clock=self.clock, attach=self.attach_agent
            )
        )

    def action_next_waiting(self) -> None:
        """Select the next agent that waits on the human (the longest-waiting first)."""
        row = self._view.next_waiting(self.selected_name)
        if row is None:
            self.notify("No agent waits for you", timeout=3)
            return
        self.table.select_name(row.name)

    # -- alerts -----------------------------------------------------------------------------

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
        self.app.bell()
        for text, title, severity in announcements(alerts):
            self.notify(text, title=title, severity=severity)

    # -- review, evidence -------------------------------------------------------------------

    def action_review(self) -> None:
        """Review the selected agent's changes: files, hunks, its check; comment, land, push."""
        row = self.table.selected_row
        if row is not None:
            self.review(row)

    def review(self, row: AgentRow) -> None:
        """Review an agent's changes (the task board's attempts are reviewed this way)."""
        self.app.push_screen(
            ReviewScreen(
                self.port,
                row,
                self.review_flow,
                self.run_port,
                clock=self.clock,
                check_interval=self.check_interval,
            )
        )

    def action_run_check(self) -> None:
        """Run the selected agent's check; while one runs, offer to cancel it."""
        row = self.table.selected_row
        if row is not None:
            running = row.check is not None and row.check.state is CheckState.RUNNING
            self.review_flow.toggle_check(row.name, running=running)

    def action_land(self) -> None:
        """Land the selected agent's branch in its base (the strategy is asked first)."""
        row = self.table.selected_row
        if row is not None:
            self.review_flow.land(row.name, row.branch)

    def action_push(self) -> None:
        """Push the selected agent's branch and open a pull request (when `gh` can)."""
        name = self.selected_name
        if name is not None:
            self.review_flow.push(name)

    def action_evidence(self) -> None:
        """Why does the selected agent's status say what it says?"""
        name = self.selected_name
        if name is not None:
            self.run_port(lambda: self.EvidenceLoaded(name, self.port.evidence(name)), to=self)

    def on_dashboard_screen_evidence_loaded(self, message: EvidenceLoaded) -> None:
        """Show the trail (if the agent is still there)."""
        row = self.table.row(message.name)
        if row is not None:
            self.app.push_screen(EvidenceScreen(row, message.trail))
