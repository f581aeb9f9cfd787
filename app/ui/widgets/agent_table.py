"""The agent table: one row per agent, keyed by name, updated cell by cell."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import BindingType
from textual.color import Color, ColorParseError
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from app.core.status import STATUS_GLYPH
from app.core.views import AgentRow, format_duration
from app.ui.keys import TABLE_BINDINGS
from app.ui.themes import STATUS_VARIABLE

#: Resolves a theme variable name (``status-working``) to a Rich style.
Palette = Callable[[str], Style]


@dataclass(frozen=True)
class ColumnSpec:
    """A column of the agent table: its key, label, preferred and smallest width."""

    key: str
    label: str
    width: int
    min_width: int


COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("name", "Name", 18, 10),
    ColumnSpec("kind", "Kind", 8, 6),
    ColumnSpec("status", "Status", 24, 15),
    ColumnSpec("time", "Time", 6, 6),
    ColumnSpec("branch", "Branch", 22, 10),
    ColumnSpec("diff", "+/-", 11, 9),
    ColumnSpec("summary", "Last output", 40, 12),
)

#: Columns that give up width, in this order, when the table is narrow (the name goes last).
_SHRINK_ORDER = ("branch", "kind", "diff", "status", "name")
#: The last-output column gets at least this much before others shrink.
_SUMMARY_COMFORT = 24


def _cell(*parts: tuple[str, Style | None]) -> Text:
    """A one-line cell that ends in an ellipsis when cut."""
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    for value, style in parts:
        text.append(value, style)
    return text


def status_cell(row: AgentRow, palette: Palette, width: int = 0) -> Text:
    """The status cell: glyph and label in the status's colour.

    When the column is too narrow for ``needs_input:permission``, the part after the colon is
    kept (``? permission``): the glyph already says the agent waits on the human.
    """
    style = palette(STATUS_VARIABLE[row.status])
    label = row.status_label
    text = f"{STATUS_GLYPH[row.status]} {label}"
    if width and len(text) > width and ":" in label:
        text = f"{STATUS_GLYPH[row.status]} {label.split(':', 1)[1]}"
    return _cell((text, style))


def diff_cell(row: AgentRow, palette: Palette) -> Text:
    """Lines added and removed: ``+12 −3`` in the success and error colours."""
    if not row.added and not row.removed:
        return _cell(("·", Style(dim=True)))
    return _cell(
        (f"+{row.added}", palette("success")),
        (" ", None),
        (f"−{row.removed}", palette("error")),
    )


def time_cell(row: AgentRow, now: float) -> Text:
    """How long the agent has been in its status."""
    return _cell((format_duration(now - row.since), None))


def row_cells(
    row: AgentRow, now: float, palette: Palette, status_width: int = 0
) -> dict[str, Text]:
    """Every cell of one row, by column key."""
    return {
        "name": _cell((row.name, Style(bold=True))),
        "kind": _cell((row.kind, None)),
        "status": status_cell(row, palette, status_width),
        "time": time_cell(row, now),
        "branch": _cell((row.branch, None)),
        "diff": diff_cell(row, palette),
        "summary": _cell((" ".join(row.summary.split()), None)),
    }


def fit_widths(available: int, padding: int) -> dict[str, int]:
    """Column widths for a table ``available`` cells wide; the last-output column takes the rest.

    Narrow tables shrink the branch, kind, diff, status and name columns (in that order) down to
    their minimum before the last-output column goes below a comfortable width.
    """
    widths = {spec.key: spec.width for spec in COLUMNS}
    minimum = {spec.key: spec.min_width for spec in COLUMNS}
    overhead = padding * 2 * len(COLUMNS)

    def rest() -> int:
        return available - overhead - sum(w for k, w in widths.items() if k != "summary")

    for key in _SHRINK_ORDER:
        short = _SUMMARY_COMFORT - rest()
        if short <= 0:
            break
        widths[key] -= min(short, widths[key] - minimum[key])
    widths["summary"] = max(minimum["summary"], rest())
    return widths


class AgentTable(DataTable[Text]):
    """The fleet as a table. Rows are keyed by agent name and keep their creation order.

    Attributes down: the app calls `show_rows` with new view rows and `tick` every second.
    Messages up: `AgentHighlighted` when the selected agent (by name) changes.
    """

    BINDINGS: ClassVar[list[BindingType]] = list(TABLE_BINDINGS)

    DEFAULT_CSS = """
    AgentTable {
        scrollbar-size-vertical: 1;
    }
    """

    class AgentHighlighted(Message):
        """The selection moved to another agent (``name`` is None when the table is empty)."""

        def __init__(self, name: str | None) -> None:
            super().__init__()
            self.name = name

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self._rows: dict[str, AgentRow] = {}
        self._cells: dict[str, dict[str, Text]] = {}
        self._now = 0.0
        self._last_selected: str | None = None
        self._styles: dict[str, Style] = {}
        self._widths: dict[str, int] = {}

    def on_mount(self) -> None:
        """Add the columns and follow theme changes."""
        for spec in COLUMNS:
            self.add_column(spec.label, width=spec.width, key=spec.key)
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.restyle())

    @property
    def agent_rows(self) -> tuple[AgentRow, ...]:
        """The rows shown, in table order."""
        return tuple(self._rows[name] for name in self._rows)

    @property
    def selected_name(self) -> str | None:
        """The name of the agent under the cursor, or None when the table is empty."""
        if not self.row_count:
            return None
        row = min(max(self.cursor_row, 0), self.row_count - 1)
        key = self.coordinate_to_cell_key(Coordinate(row, 0)).row_key.value
        return key

    def row(self, name: str) -> AgentRow | None:
        """The row shown for the agent called ``name``."""
        return self._rows.get(name)

    @property
    def selected_row(self) -> AgentRow | None:
        """The view row of the selected agent."""
        name = self.selected_name
        return None if name is None else self._rows.get(name)

    def select_name(self, name: str) -> bool:
        """Move the cursor to the agent ``name``; False when no such row."""
        if name not in self._rows:
            return False
        index = self.get_row_index(name)
        if index != self.cursor_row:
            self.move_cursor(row=index)
        self._check_selection()
        return True

    def show_rows(self, rows: Sequence[AgentRow], now: float) -> None:
        """Show these rows: add new agents, remove gone ones, update changed cells only.

        The selection stays on the same agent; if that agent is gone it moves to the row that
        took its place (or the last row).
        """
        self._now = now
        previous = self.selected_name
        previous_index = self.cursor_row
        wanted = {row.name for row in rows}
        with self.app.batch_update():
            for name in [n for n in self._rows if n not in wanted]:
                self.remove_row(name)
                del self._rows[name]
                del self._cells[name]
            for row in rows:
                if self._rows.get(row.name) == row:
                    continue  # unchanged (its time cell is kept current by `tick`)
                cells = row_cells(row, now, self._palette, self._widths.get("status", 0))
                old = self._cells.get(row.name)
                if old is None:
                    self.add_row(*(cells[spec.key] for spec in COLUMNS), key=row.name)
                else:
                    self._update_changed(row.name, old, cells)
                self._rows[row.name] = row
                self._cells[row.name] = cells
        if previous is not None and previous in self._rows:
            index = self.get_row_index(previous)
            if index != self.cursor_row:
                self.move_cursor(row=index)
        elif self.row_count:
            self.move_cursor(row=min(max(previous_index, 0), self.row_count - 1))
        self._check_selection()

    def tick(self, now: float) -> None:
        """Advance the clock: update the time cells whose text changed."""
        self._now = now
        with self.app.batch_update():
            for name, row in self._rows.items():
                cell = time_cell(row, now)
                if cell != self._cells[name]["time"]:
                    self._cells[name]["time"] = cell
                    self.update_cell(name, "time", cell)

    def restyle(self) -> None:
        """Re-render the cells after a theme change (colours) or a resize (status labels)."""
        self._styles.clear()
        with self.app.batch_update():
            for name, row in self._rows.items():
                cells = row_cells(row, self._now, self._palette, self._widths.get("status", 0))
                self._update_changed(name, self._cells[name], cells)
                self._cells[name] = cells

    def _update_changed(self, name: str, old: dict[str, Text], new: dict[str, Text]) -> None:
        for key, cell in new.items():
            if cell != old[key]:
                self.update_cell(name, key, cell)

    def _palette(self, variable: str) -> Style:
        """The style for a theme variable (a colour), cached until the theme changes."""
        style = self._styles.get(variable)
        if style is None:
            value = self.app.theme_variables.get(variable, "")
            try:
                style = Style(color=Color.parse(value).rich_color)
            except ColorParseError:
                style = Style()
            self._styles[variable] = style
        return style

    def _check_selection(self) -> None:
        name = self.selected_name
        if name != self._last_selected:
            self._last_selected = name
            self.post_message(self.AgentHighlighted(name))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Turn cursor moves into `AgentHighlighted` when the agent changes."""
        if event.data_table is self:
            self._check_selection()

    def on_resize(self, event: events.Resize) -> None:
        """Give the last-output column the width that is left."""
        widths = fit_widths(event.size.width - 1, self.cell_padding)
        if widths == self._widths or not self.columns:
            return
        self._widths = widths
        for key, width in widths.items():
            self.columns[ColumnKey(key)].width = width
        # DataTable has no public "column width changed" call; this is what add_column does:
        # invalidate the render caches and re-measure the virtual size once, on the next idle.
        self._update_count += 1
        self._require_update_dimensions = True
        self.restyle()
        self.refresh()
