"""The agent table: one line per agent, drawn with Textual's Line API.

Every row is rendered once into a `Strip` and kept under the agent's name. A row is rendered
again only when its cells or its mark change; the row under the cursor has a strip of its own;
a change of width or of any style (theme, focus) drops them all. `show_rows` and `tick` refresh
only the lines of rows that changed (all of them when rows come, go or move), so a busy fleet
costs in proportion to what changed, not to the number of rows on screen.

Why one long module: the cells' formatting, the row strips and the caches that keep them are
one idea (a change to a cell's text decides which strips are dropped); split, they would have to
share the caches' invariants across modules.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from app.core.checks import CheckState, CheckSummary
from app.core.status import STATUS_GLYPH
from app.core.views import AgentRow, check_took, format_duration
from app.ui.keys import TABLE_BINDINGS
from app.ui.themes import STATUS_VARIABLE, theme_style

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
    ColumnSpec("diff", "+/-", 14, 9),
    ColumnSpec("check", "Check", 8, 3),
    ColumnSpec("summary", "Last output", 40, 12),
)

#: Columns that give up width, in this order, when the table is narrow (the name goes last).
_SHRINK_ORDER = ("branch", "check", "kind", "diff", "status", "name")
#: The last-output column gets at least this much before others shrink.
_SUMMARY_COMFORT = 24

#: Blank cells on each side of every cell.
CELL_PADDING = 1
#: Drawn in a marked row's first cell (the name column's left padding), in the mark's colour.
MARK_GLYPH = "▌"
#: Lines above the first row: the column labels.
HEADER_HEIGHT = 1

#: The check column's glyph and theme variable (empty: dim) for each check state.
CHECK_GLYPHS: dict[CheckState, tuple[str, str]] = {
    CheckState.PASSED: ("✓", "success"),
    CheckState.FAILED: ("✗", "error"),
    CheckState.RUNNING: ("⋯", "warning"),
    CheckState.CANCELLED: ("⊘", ""),
}
#: Shown in the check column when other agents' changes touch the same files.
OVERLAP_GLYPH = "⚠"
#: Before the task an agent works on, in the last-output column.
TASK_MARK = "⚑"


def cell(*parts: tuple[str, Style | None]) -> Text:
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
    return cell((text, style))


def diff_cell(row: AgentRow, palette: Palette, width: int = 0) -> Text:
    """The row's lines added and removed and files changed (`change_cell`)."""
    stats = row.stats
    return change_cell(stats.lines_added, stats.lines_removed, stats.files_changed, palette, width)


def change_cell(added: int, removed: int, files: int, palette: Palette, width: int = 0) -> Text:
    """Lines added and removed and files changed: ``+12 −3 2f``, the counts in the success and
    error colours. The files are left out when the column is narrower than all of it."""
    if not added and not removed and not files:
        return cell(("·", Style(dim=True)))
    parts: list[tuple[str, Style | None]] = [
        (f"+{added}", palette("success")),
        (" ", None),
        (f"−{removed}", palette("error")),
    ]
    shown = f" {files}f" if files else ""
    if shown and (not width or len(f"+{added} −{removed}{shown}") <= width):
        parts.append((shown, Style(dim=True)))
    return cell(*parts)


def check_glyph(check: CheckSummary | None) -> tuple[str, str]:
    """The glyph and theme variable (empty: dim) for a row's check; ``("", "")`` for none."""
    return CHECK_GLYPHS[check.state] if check is not None else ("", "")


def check_cell(row: AgentRow, palette: Palette, width: int = 0) -> Text:
    """The latest check (``✓`` passed, ``✗`` failed, ``⋯`` running, ``⊘`` cancelled) with how
    long it ran, and `OVERLAP_GLYPH` when other agents touch the same files: ``✗ 41s ⚠``.
    The duration is left out when the column is narrower than all of it."""
    glyph, variable = check_glyph(row.check)
    style = palette(variable) if variable else Style(dim=True)
    took = check_took(row.check) if row.check is not None else ""
    whole = len(glyph) + len(took) + 1 + (2 if row.overlap else 0)
    if took and (not width or whole <= width):
        glyph = f"{glyph} {took}"
    parts: list[tuple[str, Style | None]] = [(glyph or " ", style)]
    if row.overlap:
        parts.append((" ", None))
        parts.append((OVERLAP_GLYPH, palette("warning") + Style(bold=True)))
    elif not glyph:
        return cell(("", None))
    return cell(*parts)


def task_label(row: AgentRow) -> str:
    """The task the agent works on, as its row says it: `TASK_MARK` alone when the agent is
    named after it (``fix`` for task ``fix``, ``fix-2`` for ``fix#2``), else with the task's
    name; '' for an agent of no task."""
    if not row.task:
        return ""
    task, _, attempt = row.task.partition("#")
    named = f"{task}-{attempt}" if attempt else task
    return TASK_MARK if row.name == named else f"{TASK_MARK} {row.task}"


def summary_cell(row: AgentRow, palette: Palette) -> Text:
    """The last output, after the task the agent works on (`task_label`) if any."""
    summary = " ".join(row.summary.split())
    label = task_label(row)
    if not label:
        return cell((summary, None))
    return cell((label, palette("accent")), (" ", None), (summary, None))


def time_cell(row: AgentRow, now: float) -> Text:
    """How long the agent has been in its status."""
    return cell((format_duration(now - row.since), None))


def row_cells(
    row: AgentRow, now: float, palette: Palette, widths: dict[str, int] | None = None
) -> dict[str, Text]:
    """Every cell of one row, by column key; ``widths`` (by column key) fits the cells whose
    content depends on the width (status, diff, check)."""
    widths = widths or {}
    return {
        "name": cell((row.name, Style(bold=True))),
        "kind": cell((row.kind, None)),
        "status": status_cell(row, palette, widths.get("status", 0)),
        "time": time_cell(row, now),
        "branch": cell((row.branch, None)),
        "diff": diff_cell(row, palette, widths.get("diff", 0)),
        "check": check_cell(row, palette, widths.get("check", 0)),
        "summary": summary_cell(row, palette),
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


def table_width(widths: dict[str, int], padding: int = CELL_PADDING) -> int:
    """Cells from the first column's left edge to the last column's right edge."""
    return sum(widths.values()) + padding * 2 * len(widths)


def cell_segments(cell: Text, width: int, console: Console) -> list[Segment]:
    """One cell cut (with an ellipsis) or padded to exactly ``width`` cells, as segments."""
    text = cell.copy()
    text.truncate(width, overflow="ellipsis", pad=True)
    return list(text.render(console))


class AgentTable(ScrollView, can_focus=True):
    """The fleet as a table: a header line, then one line per agent in the order shown.

    Attributes down: the app calls `show_rows` with new view rows and `tick` every few seconds.
    Messages up: `AgentHighlighted` when the selected agent (by name) changes.

    Marks (for acting on several agents at once) are kept by name, shown with `MARK_GLYPH` and
    dropped when their agent disappears; see `toggle_mark`, `marked_names`, `clear_marks`.
    """

    BINDINGS: ClassVar[list[BindingType]] = list(TABLE_BINDINGS)

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "agent-table--header",
        "agent-table--cursor",
        "agent-table--mark",
    }
    """
    | Class | Description |
    | :- | :- |
    | `agent-table--header` | The column labels. |
    | `agent-table--cursor` | The selected row. |
    | `agent-table--mark` | The mark of a marked row. |
    """

    ALLOW_SELECT = False

    DEFAULT_CSS = """
    AgentTable {
        background: $surface;
        color: $foreground;
        height: auto;
        max-height: 100%;
        scrollbar-size-vertical: 1;
        &:focus {
            background-tint: $foreground 5%;
            & > .agent-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .agent-table--header {
                background-tint: $foreground 5%;
            }
        }
        & > .agent-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .agent-table--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .agent-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        & > .agent-table--mark {
            color: $accent;
            text-style: bold;
        }
    }
    """

    class AgentHighlighted(Message):
        """The selection moved to another agent (``name`` is None when the table is empty)."""

        def __init__(self, name: str | None) -> None:
            super().__init__()
            self.name = name

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._rows: dict[str, AgentRow] = {}
        self._cells: dict[str, dict[str, Text]] = {}
        self._order: list[str] = []
        self._index: dict[str, int] = {}
        self._cursor = 0
        self._marks: set[str] = set()
        self._now = 0.0
        self._last_selected: str | None = None
        self._palette_styles: dict[str, Style] = {}
        self._widths: dict[str, int] = {spec.key: spec.width for spec in COLUMNS}
        # Render caches: plain rows by name, the row under the cursor, the header. They hold
        # only while `_render_key` (width and styles) is what they were rendered with.
        self._strips: dict[str, Strip] = {}
        self._cursor_strip: tuple[str, Strip] | None = None
        self._header_strip: Strip | None = None
        self._render_key: tuple[object, ...] | None = None
        self._base_style = Style()

    def on_mount(self) -> None:
        """Size the table and follow theme changes."""
        self._update_virtual_size()
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.restyle())

    # -- what is shown ----------------------------------------------------------------------

    @property
    def agent_rows(self) -> tuple[AgentRow, ...]:
        """The rows shown, in table order."""
        return tuple(self._rows[name] for name in self._order)

    @property
    def row_count(self) -> int:
        """How many agents the table shows."""
        return len(self._order)

    def row(self, name: str) -> AgentRow | None:
        """The row shown for the agent called ``name``."""
        return self._rows.get(name)

    def get_cell(self, name: str, column: str) -> Text:
        """The cell shown for agent ``name`` in column ``column`` (a `COLUMNS` key).

        Raises:
            KeyError: No such agent or column.
        """
        return self._cells[name][column]

    def get_row(self, name: str) -> list[Text]:
        """The cells shown for agent ``name``, in column order.

        Raises:
            KeyError: No such agent.
        """
        cells = self._cells[name]
        return [cells[spec.key] for spec in COLUMNS]

    def get_row_at(self, index: int) -> list[Text]:
        """The cells of the row at ``index`` (0 is the first agent), in column order.

        Raises:
            IndexError: No row at that index.
        """
        if not 0 <= index < len(self._order):
            raise IndexError(f"no row {index} in a table of {len(self._order)}")
        return self.get_row(self._order[index])

    # -- the selection ----------------------------------------------------------------------

    @property
    def cursor_row(self) -> int:
        """The index of the selected row (0 when the table is empty)."""
        return self._cursor

    @property
    def selected_name(self) -> str | None:
        """The name of the agent under the cursor, or None when the table is empty."""
        return self._order[self._cursor] if self._order else None

    @property
    def selected_row(self) -> AgentRow | None:
        """The view row of the selected agent."""
        name = self.selected_name
        return None if name is None else self._rows.get(name)

    def select_name(self, name: str) -> bool:
        """Move the cursor to the agent ``name``; False when no such row."""
        index = self._index.get(name)
        if index is None:
            return False
        self._move_cursor(index)
        return True

    # -- marks ------------------------------------------------------------------------------

    @property
    def marked_names(self) -> tuple[str, ...]:
        """The marked agents, in table order."""
        return tuple(name for name in self._order if name in self._marks)

    def is_marked(self, name: str) -> bool:
        """Whether the agent ``name`` is marked."""
        return name in self._marks

    def toggle_mark(self, name: str) -> bool:
        """Mark the agent ``name``, or unmark it if marked; True when it is marked now.

        An agent the table does not show cannot be marked (False, nothing changes).
        """
        if name not in self._rows:
            return False
        if name in self._marks:
            self._marks.discard(name)
        else:
            self._marks.add(name)
        self._row_changed(name)
        return name in self._marks

    def clear_marks(self) -> None:
        """Unmark every agent."""
        marked, self._marks = self._marks, set()
        for name in marked:
            self._row_changed(name)

    # -- updates from the app ---------------------------------------------------------------

    def show_rows(self, rows: Sequence[AgentRow], now: float) -> None:
        """Show these rows, in this order; re-render and repaint only the rows that changed.

        The selection stays on the same agent; if that agent is gone it moves to the row that
        took its place (or the last row). Marks of agents that are gone are dropped.
        """
        self._now = now
        previous = self.selected_name
        changed: list[str] = []
        for row in rows:
            name = row.name
            if self._rows.get(name) == row:
                continue  # unchanged (its time cell is kept current by `tick`)
            self._rows[name] = row
            cells = row_cells(row, now, self._palette, self._widths)
            if cells != self._cells.get(name):
                self._cells[name] = cells
                changed.append(name)
        order = [row.name for row in rows]
        if order == self._order:
            for name in changed:
                self._row_changed(name)
            return
        # Rows came, went or moved: every line below the first change may show another row.
        wanted = set(order)
        for name in [n for n in self._rows if n not in wanted]:
            del self._rows[name]
            del self._cells[name]
            self._strips.pop(name, None)
            self._marks.discard(name)
        for name in changed:
            self._forget_strips(name)
        self._order = order
        self._index = {name: i for i, name in enumerate(order)}
        if previous is not None and previous in self._index:
            self._cursor = self._index[previous]
        else:
            self._cursor = min(self._cursor, max(len(order) - 1, 0))
        self._update_virtual_size()
        self.refresh()
        # The height may change with the row count; scroll once the new size is known.
        self.call_after_refresh(self._scroll_cursor_into_view)
        self._check_selection()

    def tick(self, now: float) -> None:
        """Advance the clock: re-render the rows whose time text changed."""
        self._now = now
        for name, row in self._rows.items():
            cells = self._cells[name]
            cell = time_cell(row, now)
            if cell != cells["time"]:
                cells["time"] = cell
                self._row_changed(name)

    def restyle(self) -> None:
        """Re-make every cell after a theme change (colours) or a resize (status and diff
        cells)."""
        self._palette_styles.clear()
        for name, row in self._rows.items():
            self._cells[name] = row_cells(row, self._now, self._palette, self._widths)
        self._clear_render_cache()
        self.refresh()

    def _palette(self, variable: str) -> Style:
        """The style for a theme variable (a colour), cached until the theme changes."""
        style = self._palette_styles.get(variable)
        if style is None:
            style = self._palette_styles[variable] = theme_style(self.app.theme_variables, variable)
        return style

    # -- cursor and scrolling ---------------------------------------------------------------

    def _move_cursor(self, index: int, *, scroll: bool = True) -> None:
        if self._order:
            index = min(max(index, 0), len(self._order) - 1)
            if index != self._cursor:
                old, self._cursor = self._cursor, index
                self._refresh_row(old)
                self._refresh_row(index)
            if scroll:
                self._scroll_cursor_into_view()
        self._check_selection()

    def _check_selection(self) -> None:
        name = self.selected_name
        if name != self._last_selected:
            self._last_selected = name
            self.post_message(self.AgentHighlighted(name))

    @property
    def _page_rows(self) -> int:
        """How many rows fit below the header."""
        return max(1, self.scrollable_content_region.height - HEADER_HEIGHT)

    def _scroll_cursor_into_view(self) -> None:
        if not self._order or not self.scrollable_content_region.height:
            return
        top = self.scroll_offset.y
        page = self._page_rows
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False, force=True)
        elif self._cursor >= top + page:
            self.scroll_to(y=self._cursor - page + 1, animate=False, force=True)

    def action_cursor_down(self) -> None:
        """Select the next agent."""
        self._move_cursor(self._cursor + 1)

    def action_cursor_up(self) -> None:
        """Select the previous agent."""
        self._move_cursor(self._cursor - 1)

    def action_page_down(self) -> None:
        """Move the selection, and the view, a page down."""
        page = self._page_rows
        self.scroll_to(y=self.scroll_offset.y + page, animate=False, force=True)
        self._move_cursor(self._cursor + page)

    def action_page_up(self) -> None:
        """Move the selection, and the view, a page up."""
        page = self._page_rows
        self.scroll_to(y=self.scroll_offset.y - page, animate=False, force=True)
        self._move_cursor(self._cursor - page)

    def action_scroll_top(self) -> None:
        """Select the first agent."""
        self._move_cursor(0)

    def action_scroll_bottom(self) -> None:
        """Select the last agent."""
        self._move_cursor(len(self._order) - 1)

    def on_click(self, event: events.Click) -> None:
        """A click on a row selects it."""
        offset = event.get_content_offset(self)
        if offset is None or offset.y < HEADER_HEIGHT:
            return
        index = offset.y - HEADER_HEIGHT + self.scroll_offset.y
        if index < len(self._order):
            self._move_cursor(index)

    def on_resize(self, event: events.Resize) -> None:
        """Give the last-output column the width that is left; keep the cursor in view."""
        # One column is kept free for the vertical scrollbar, which comes and goes with the rows.
        widths = fit_widths(self.size.width - 1, CELL_PADDING)
        if widths != self._widths:
            fitted = ("status", "diff")
            refit = any(widths[key] != self._widths[key] for key in fitted)
            self._widths = widths
            self._update_virtual_size()
            if refit:
                self.restyle()  # the status and diff cells depend on their column's width
            else:
                self._clear_render_cache()
                self.refresh()
        self._scroll_cursor_into_view()

    def _update_virtual_size(self) -> None:
        size = Size(table_width(self._widths), HEADER_HEIGHT + len(self._order))
        if size != self.virtual_size:
            self.virtual_size = size

    # -- rendering --------------------------------------------------------------------------

    def _row_changed(self, name: str) -> None:
        """Forget the row's strips and repaint its line."""
        self._forget_strips(name)
        index = self._index.get(name)
        if index is not None:
            self._refresh_row(index)

    def _forget_strips(self, name: str) -> None:
        self._strips.pop(name, None)
        if self._cursor_strip is not None and self._cursor_strip[0] == name:
            self._cursor_strip = None

    def _refresh_row(self, index: int) -> None:
        """Repaint the line of row ``index`` if it is on screen."""
        y = HEADER_HEIGHT + index - self.scroll_offset.y
        if HEADER_HEIGHT <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))

    def _clear_render_cache(self) -> None:
        self._strips.clear()
        self._cursor_strip = None
        self._header_strip = None

    def render_lines(self, crop: Region) -> list[Strip]:
        """Render the lines in ``crop``; drop the cached strips first if a style changed."""
        base = self.rich_style
        style = self.get_component_rich_style
        key = (
            self.size.width,
            base,
            style("agent-table--header"),
            style("agent-table--cursor"),
            style("agent-table--mark", partial=True),
        )
        if key != self._render_key:
            self._render_key = key
            self._base_style = base
            self._clear_render_cache()
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        """Line ``y`` of the widget: the header, or the row scrolled there."""
        width = self.size.width
        scroll_x, scroll_y = self.scroll_offset
        if y < HEADER_HEIGHT:
            strip = self._header()
        else:
            index = y - HEADER_HEIGHT + scroll_y
            if index >= len(self._order):
                return Strip.blank(width, self._base_style)
            name = self._order[index]
            if index == self._cursor:
                cached = self._cursor_strip
                if cached is None or cached[0] != name:
                    cached = (name, self._render_row(name, cursor=True))
                    self._cursor_strip = cached
                strip = cached[1]
            else:
                plain = self._strips.get(name)
                if plain is None:
                    plain = self._strips[name] = self._render_row(name, cursor=False)
                strip = plain
        return strip.crop_extend(scroll_x, scroll_x + width, self._base_style)

    def _full_width(self) -> int:
        return max(table_width(self._widths), self.size.width)

    def _header(self) -> Strip:
        if self._header_strip is None:
            style = self._base_style + self.get_component_rich_style("agent-table--header")
            pad = " " * CELL_PADDING
            parts = []
            for spec in COLUMNS:
                width = self._widths[spec.key]
                label = Text(spec.label, no_wrap=True, overflow="ellipsis", end="")
                label.truncate(width, overflow="ellipsis", pad=True)
                parts.append(f"{pad}{label.plain}{pad}")
            line = "".join(parts)
            strip = Strip([Segment(line, style)])
            self._header_strip = strip.extend_cell_length(self._full_width(), style)
        return self._header_strip

    def _render_row(self, name: str, *, cursor: bool) -> Strip:
        """Render one row's cells into a strip as wide as the table (or the widget)."""
        pre = self._base_style
        post: Style | None = None
        if cursor:
            cursor_style = self.get_component_rich_style("agent-table--cursor")
            pre = pre + cursor_style
            if cursor_style.color is not None:
                post = Style.from_color(color=cursor_style.color)  # the cursor's text colour wins
        console = self.app.console
        pad = Segment(" " * CELL_PADDING, pre)
        cells = self._cells[name]
        segments: list[Segment] = []
        for spec in COLUMNS:
            if spec.key == "name" and name in self._marks:
                mark = pre + self.get_component_rich_style("agent-table--mark", partial=True)
                segments.append(Segment(MARK_GLYPH + " " * (CELL_PADDING - 1), mark))
            else:
                segments.append(pad)
            segments.extend(cell_segments(cells[spec.key], self._widths[spec.key], console))
            segments.append(pad)
        segments = list(Segment.apply_style(segments, pre, post))
        strip = Strip(segments, table_width(self._widths))
        return strip.extend_cell_length(self._full_width(), pre).simplify()
