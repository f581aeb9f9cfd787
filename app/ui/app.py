"""The dashboard app: its themes, its screens, and the one way port calls leave the event loop.

The dashboard itself is `DashboardScreen`; the app installs it as the default screen, shows the
help over whichever screen is open, and runs port calls in thread workers (`run_port`), whose
failures it reports to the human. Widgets are only touched on the event loop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from textual import on
from textual.app import App
from textual.binding import BindingType
from textual.message import Message
from textual.message_pump import MessagePump
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from app.core.errors import UsageError
from app.core.ports import FleetPort
from app.ui.dashboard.screen import EMPTY_MESSAGE, TICK_SECONDS, DashboardScreen
from app.ui.dialogs.help import (
    ATTEMPTS_DIFF_SECTION,
    BOARD_SECTION,
    COMPARE_SECTION,
    HelpScreen,
)
from app.ui.keys import APP_BINDINGS, tmux_key_display
from app.ui.messages import NOTICE, OperationReported, describe_error
from app.ui.review.screen import CHECK_INTERVAL, ReviewScreen
from app.ui.tasks.board import TASK_POLL_SECONDS, TaskBoardScreen
from app.ui.tasks.compare import AttemptDiffScreen, CompareScreen
from app.ui.themes import (
    DEFAULT_THEME,
    FALLBACK_THEMES,
    default_themes_dir,
    load_themes,
    status_variable_defaults,
)

__all__ = ["EMPTY_MESSAGE", "QuarterdeckApp"]

log = logging.getLogger(__name__)

#: The help's section shown first from each screen that has one.
_SECTIONS: tuple[tuple[type[Screen[Any]], str], ...] = (
    (ReviewScreen, "Review (v)"),
    (TaskBoardScreen, BOARD_SECTION),
    (CompareScreen, COMPARE_SECTION),
    (AttemptDiffScreen, ATTEMPTS_DIFF_SECTION),
)


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
        task_interval: Seconds between looks at the tasks while the task board is open.

    Raises:
        UsageError: A theme file is invalid or ``theme_name`` is not a known theme.
    """

    TITLE = "Quarterdeck"
    #: The dashboard is the screen under every other (a mode loads its screen's .tcss).
    DEFAULT_MODE = "dashboard"

    BINDINGS: ClassVar[list[BindingType]] = list(APP_BINDINGS)

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
        task_interval: float = TASK_POLL_SECONDS,
    ) -> None:
        super().__init__()
        self.port = port
        self.hosted = hosted
        self.task_interval = task_interval
        self.return_key = tmux_key_display(port.return_key)
        self.sub_title = f"{self.return_key}: back from an agent"
        self.theme_names = self._install_themes(themes_dir, theme_name)
        self.dashboard = DashboardScreen(
            port,
            self.run_port,
            return_hint=self.sub_title,
            clock=clock,
            preview_interval=preview_interval,
            tick_interval=tick_interval,
            check_interval=check_interval,
        )
        self.add_mode(self.DEFAULT_MODE, lambda: self.dashboard)

    def on_mount(self) -> None:
        """Say so when the theme folder was missing."""
        if self._theme_warning:
            self.notify(self._theme_warning, severity="warning")

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

    # -- screens ----------------------------------------------------------------------------

    def action_help(self) -> None:
        """Show every key (from another screen than the dashboard: its keys at the top)."""
        section = next((title for kind, title in _SECTIONS if isinstance(self.screen, kind)), "")
        self.push_screen(HelpScreen(self.return_key, hosted=self.hosted, section=section))

    def action_task_board(self) -> None:
        """Open the task board (the dashboard's ``T``)."""
        self.push_screen(
            TaskBoardScreen(
                self.port,
                self.port,
                self.run_port,
                review=self._review_agent,
                jump=self.dashboard.table.select_name,
                interval=self.task_interval,
            )
        )

    def _review_agent(self, name: str) -> bool:
        """Review agent ``name`` (an attempt's, from the task board); False when it is gone."""
        row = self.dashboard.table.row(name)
        if row is not None:
            self.dashboard.review(row)
        return row is not None

    # -- port calls and reports -------------------------------------------------------------

    def run_port(
        self,
        call: Callable[[], Message | None],
        *,
        to: MessagePump | None = None,
        failure: str = "",
        timeout: float = NOTICE,
        group: str = "fleet",
        exclusive: bool = False,
    ) -> None:
        """Run ``call`` (blocking port calls) in a thread worker of the app, so it finishes
        even when the screen that asked is closed; post the message it returns to ``to`` (the
        app when None). If it raises, tell the human: ``failure`` (when given), then the error,
        for ``timeout`` seconds."""
        work = partial(self._port_worker, call, to, failure, timeout)
        self.run_worker(work, group=group, thread=True, exclusive=exclusive, exit_on_error=False)

    def _port_worker(
        self,
        call: Callable[[], Message | None],
        to: MessagePump | None,
        failure: str,
        timeout: float,
    ) -> None:
        """In a thread: the call, then its message (or the report of its failure)."""
        try:
            message = call()
        except Exception as error:
            said = describe_error(error)
            text = f"{failure}: {said}" if failure else said
            self.post_message(OperationReported(text, "error", timeout))
            return
        if message is not None:
            (to or self).post_message(message)

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
        self.notify(message.text, severity=message.severity, timeout=message.timeout)

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        """A safety net: workers report their own errors, but nothing may crash the app."""
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            log.error("worker %s failed", event.worker.name, exc_info=event.worker.error)
            self.notify(describe_error(event.worker.error), severity="error")
