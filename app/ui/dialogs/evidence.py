"""The evidence screen: why an agent's status says what it says, and how it got there."""

from __future__ import annotations

import time
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from app.core.views import AgentRow, check_label
from app.ui.keys import CLOSE, CLOSE_READ


def clock_time(at: float) -> str:
    """``14:03:07.125``: local wall-clock time to the millisecond."""
    return time.strftime("%H:%M:%S", time.localtime(at)) + f".{int(at * 1000) % 1000:03d}"


def review_lines(row: AgentRow) -> list[str]:
    """What the row says about the agent's work: its changes, its check, its overlaps."""
    lines = []
    stats = row.stats
    if stats.files_changed or stats.lines_added or stats.lines_removed:
        s = "s" if stats.files_changed != 1 else ""
        lines.append(
            f"Changes: {stats.files_changed} file{s}, +{stats.lines_added} −{stats.lines_removed}"
        )
    if row.check is not None:
        said = f" — {row.check.last_line}" if row.check.last_line else ""
        lines.append(f"Check: {check_label(row.check)}{said}")
    if row.overlap:
        lines.append(f"⚠ Touches the same files as: {', '.join(row.overlap)}")
    return lines


class EvidenceScreen(ModalScreen[None]):
    """The agent's status, the evidence that set it, and its trail: every status change and
    every signal (hook events, actions) with its time, newest first."""

    CSS_PATH = "evidence.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", tooltip=CLOSE),
        Binding("e", "close", "Close", show=False, tooltip="Why this status?: close it"),
        Binding("q", "close", "Close", show=False, tooltip=CLOSE_READ),
    ]

    def __init__(self, row: AgentRow, trail: list[tuple[float, str, str]]) -> None:
        super().__init__()
        self.row = row
        self.trail = trail

    def compose(self) -> ComposeResult:
        """The current status and evidence above the trail."""
        with Vertical(id="evidence-box"):
            evidence = self.row.evidence or "no evidence"
            yield Static(
                f"{self.row.name} is {self.row.status_label} — {evidence}",
                id="evidence-now",
                markup=False,
            )
            review = review_lines(self.row)
            if review:
                yield Static("\n".join(review), id="evidence-review", markup=False)
            table: DataTable[str] = DataTable(id="evidence-trail", cursor_type="row")
            table.add_columns("Time", "Status", "Evidence")
            for at, status, evidence in reversed(self.trail):
                table.add_row(clock_time(at), status, evidence)
            yield table
            yield Static("esc closes", id="evidence-hint", markup=False)

    def on_mount(self) -> None:
        """Title the box."""
        self.query_one("#evidence-box").border_title = f"Why {self.row.name} says what it says"

    def action_close(self) -> None:
        """Back to the dashboard."""
        self.dismiss(None)
