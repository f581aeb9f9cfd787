"""A table of tasks or attempts: a row per item, keyed by its name, refreshed in place.

`RowTable.show` is given every row each time (the board polls); only cells that changed are
redrawn, and the selection stays on the same item across refreshes (when it is gone, on the row
that took its place). The flexible columns share the width the others leave.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

_PAGE = "Move the selection a page up / down"
_ENDS = "Select the first / last row"
_SIDEWAYS = "Scroll the table sideways"

#: Cells of padding on each side of a cell (DataTable's default).
CELL_PADDING = 1


def fit_widths(
    columns: Sequence[tuple[str, str, int]], flexible: Sequence[str], available: int
) -> dict[str, int]:
    """Each column's width (by key) in a table ``available`` cells wide: the ``flexible`` ones
    share what the others leave (the first gets what does not divide), never less than their
    own widths."""
    widths = {key: width for key, _label, width in columns}
    spare = max(0, available - sum(widths.values()) - 2 * CELL_PADDING * len(columns))
    share, rest = divmod(spare, len(flexible))
    for n, key in enumerate(flexible):
        widths[key] += share + (rest if n == 0 else 0)
    return widths


class RowTable(DataTable[Text], inherit_bindings=False):
    """Rows of ``columns`` (key, label, width), the ``flexible`` ones widened to fill the
    table; see the module's docstring. Keys: its own only (``k`` is left to the screens)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "cursor_down", "Down", show=False, tooltip="Select the next row"),
        Binding("up", "cursor_up", "Up", show=False, tooltip="Select the previous row"),
        Binding("pageup", "page_up", "Page up", show=False, tooltip=_PAGE),
        Binding("pagedown", "page_down", "Page down", show=False, tooltip=_PAGE),
        Binding("home,ctrl+home", "scroll_top", "First", show=False, tooltip=_ENDS),
        Binding("end,ctrl+end", "scroll_bottom", "Last", show=False, tooltip=_ENDS),
        Binding("left", "scroll_left", "Left", show=False, tooltip=_SIDEWAYS),
        Binding("right", "scroll_right", "Right", show=False, tooltip=_SIDEWAYS),
    ]

    def __init__(
        self,
        columns: Sequence[tuple[str, str, int]],
        flexible: Sequence[str],
        *,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id, cursor_type="row", cell_padding=CELL_PADDING)
        self._columns = tuple(columns)
        self._flexible = tuple(flexible)
        self._widths: dict[str, int] = {}
        self._order: list[str] = []
        self._shown: dict[str, dict[str, Text]] = {}

    @property
    def selected_key(self) -> str | None:
        """The item under the cursor, None when the table is empty."""
        if not self._order:
            return None
        return self._order[min(self.cursor_row, len(self._order) - 1)]

    @property
    def keys(self) -> tuple[str, ...]:
        """The items shown, in order."""
        return tuple(self._order)

    def cell_text(self, key: str, column: str) -> str:
        """The plain text shown for item ``key`` in ``column``."""
        return self._shown[key][column].plain

    def select_key(self, key: str) -> bool:
        """Move the cursor to item ``key``; False when it is not shown."""
        if key not in self._order:
            return False
        self.move_cursor(row=self._order.index(key))
        return True

    def show(self, rows: Mapping[str, Mapping[str, Text]]) -> None:
        """Show ``rows`` (item → cells by column key), in this order."""
        order = list(rows)
        if order == self._order and self._widths:
            for key, cells in rows.items():
                shown = self._shown[key]
                for column, value in cells.items():
                    if value != shown.get(column):
                        self.update_cell(key, column, value)
            self._shown = {key: dict(cells) for key, cells in rows.items()}
            return
        self._shown = {key: dict(cells) for key, cells in rows.items()}
        self._rebuild(order)

    def on_resize(self, event: events.Resize) -> None:
        """Give the flexible columns the width the others leave."""
        widths = fit_widths(self._columns, self._flexible, self.size.width - 1)
        if widths != self._widths:
            self._widths = widths
            self._rebuild(self._order, columns=True)

    def _rebuild(self, order: list[str], *, columns: bool = False) -> None:
        """Add every row again (and every column); the cursor stays on its item."""
        selected, index = self.selected_key, self.cursor_row
        self.clear(columns=columns or not self.columns)
        if not self.columns:
            widths = self._widths or {key: width for key, _label, width in self._columns}
            for key, label, _width in self._columns:
                self.add_column(label, width=widths[key], key=key)
        for key in order:
            cells = self._shown[key]
            self.add_row(*(cells[column] for column, _label, _width in self._columns), key=key)
        self._order = order
        if selected in order:
            index = order.index(selected)
        if order:
            self.move_cursor(row=min(index, len(order) - 1))
