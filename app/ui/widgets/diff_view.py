"""The diff view: one file's hunks, syntax-highlighted, drawn with Textual's Line API.

Nothing is rendered ahead of time. The file's lines are found by position (a bisect over the
hunks' first lines), highlighted in chunks of `CHUNK_LINES` when a line of the chunk is first
drawn (the old and the new side each as one text, so a string or comment spanning lines keeps
its colours), and each drawn line is kept as a `Strip`. Both caches are keyed by the file's
index in the diff and bounded, so returning to a file is instant and a 10,000-line diff costs
only what is on screen. Another file shown under an index (a reloaded diff) drops both caches.
A change of width, theme or focus drops the strips; a theme change drops the highlighting too.

A line longer than `MAX_LINE_CHARS` (minified code) is cut for display, with a marker saying how
much is not shown; only the cut text is highlighted and drawn. `DiffView.line_text` (what a
comment quotes) and the comment sent to the agent keep the whole line.

Why one long module: positions, highlighting and strips share two bounded caches keyed the same
way; split, the rules for dropping them would live in several places.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import ClassVar

# Pygments ships without type information (its tokens and lexers are typed here by use).
from pygments.lexer import Lexer  # type: ignore[import-untyped]
from pygments.lexers import get_lexer_for_filename  # type: ignore[import-untyped]
from pygments.styles import get_style_by_name  # type: ignore[import-untyped]
from pygments.token import _TokenType  # type: ignore[import-untyped]
from pygments.util import ClassNotFound  # type: ignore[import-untyped]
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from app.core.diff import FileDiff

#: Lines highlighted together (the unit of lazy highlighting).
CHUNK_LINES = 64
#: Highlighted chunks and drawn lines kept (over all files of the diff).
MAX_CHUNKS = 400
MAX_STRIPS = 4000
#: Tabs are shown this wide.
TAB_SIZE = 4
#: Characters of a line's code highlighted and drawn; the rest is counted by a marker.
MAX_LINE_CHARS = 2_000
#: The pygments styles used for code on dark and light themes.
DARK_SYNTAX = "monokai"
LIGHT_SYNTAX = "default"

_LEXERS: dict[str, Lexer | None] = {}


def lexer_for(path: str) -> Lexer | None:
    """The pygments lexer for a file name (by its extension, or its name when it has none);
    None for plain text. Cached: the first look-up of a kind loads pygments' lexer module."""
    name = PurePosixPath(path).name
    suffix = PurePosixPath(name).suffix
    key = suffix.lower() if suffix else name
    if key not in _LEXERS:
        try:
            lexer = get_lexer_for_filename(name, stripnl=False, ensurenl=False, stripall=False)
        except ClassNotFound:
            lexer = None
        _LEXERS[key] = lexer
    return _LEXERS[key]


def warm_up() -> None:
    """Load what highlighting a first diff needs (pygments' lexer map, a common lexer, both
    styles), so the first review opens as fast as the next ones. Blocking: run it in a thread."""
    lexer_for("warm.py")
    for name in (DARK_SYNTAX, LIGHT_SYNTAX):
        get_style_by_name(name)


class TokenStyles:
    """Rich styles for pygments token types from one pygments style, without backgrounds (the
    diff's own line backgrounds show through)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._style = get_style_by_name(name)
        self._cache: dict[_TokenType, Style] = {}

    def __call__(self, token: _TokenType) -> Style:
        style = self._cache.get(token)
        if style is None:
            try:
                spec = self._style.style_for_token(token)
            except KeyError:
                style = Style.null()
            else:
                color = spec["color"]
                style = Style(
                    color=f"#{color}" if color else None,
                    bold=spec["bold"] or None,
                    italic=spec["italic"] or None,
                    underline=spec["underline"] or None,
                )
            self._cache[token] = style
        return style


def clean_code(line: str) -> str:
    """A source line as drawn: tabs expanded, carriage returns and other controls dropped."""
    if "\t" in line:
        line = line.expandtabs(TAB_SIZE)
    if not line.isprintable():
        line = "".join(c for c in line if c.isprintable())
    return line


def display_code(code: str) -> tuple[str, int]:
    """A line's code as drawn (`clean_code`), cut to its first `MAX_LINE_CHARS` characters,
    and how many characters were cut off."""
    if len(code) <= MAX_LINE_CHARS:
        return clean_code(code), 0
    return clean_code(code[:MAX_LINE_CHARS]), len(code) - MAX_LINE_CHARS


def cut_marker(hidden: int) -> str:
    """What follows a cut line: how many characters are not shown."""
    return f" … ({hidden:,} more characters)"


def highlight_lines(lexer: Lexer | None, lines: Sequence[str], styles: TokenStyles) -> list[Text]:
    """``lines`` (one source text, already cleaned) highlighted with ``lexer``, one `Text` per
    line; plain texts without a lexer."""
    if lexer is None or not lines:
        return [Text(line, end="") for line in lines]
    result: list[Text] = [Text(end="")]
    for token, value in lexer.get_tokens("\n".join(lines)):
        style = styles(token)
        parts = value.split("\n")
        for n, part in enumerate(parts):
            if n:
                result.append(Text(end=""))
            if part:
                result[-1].append(part, style)
    if len(result) < len(lines):
        result.extend(Text(end="") for _ in range(len(lines) - len(result)))
    return result[: len(lines)]


@dataclass(frozen=True)
class Position:
    """Where the cursor is: hunk ``hunk`` (None outside hunks), line ``line`` of it (None on
    its header)."""

    hunk: int | None
    line: int | None


def number_width(file: FileDiff) -> int:
    """Digits of the file's largest line number in its hunks (at least 3)."""
    largest = 0
    for hunk in file.hunks:
        largest = max(largest, hunk.old_start + hunk.old_count, hunk.new_start + hunk.new_count)
    return max(3, len(str(largest)))


def line_numbers(lines: Sequence[str], old: int, new: int) -> list[tuple[int | None, int | None]]:
    """The old and new line number of each of a hunk's ``lines`` (None on the side a line is
    not on), the first line being at ``old`` and ``new``."""
    numbers: list[tuple[int | None, int | None]] = []
    for line in lines:
        sign = line[:1]
        if sign == "+":
            numbers.append((None, new))
            new += 1
        elif sign == "-":
            numbers.append((old, None))
            old += 1
        elif sign == "\\":
            numbers.append((None, None))
        else:
            numbers.append((old, new))
            old += 1
            new += 1
    return numbers


def advance(lines: Sequence[str], old: int, new: int) -> tuple[int, int]:
    """The old and new line numbers after ``lines``."""
    for line in lines:
        sign = line[:1]
        if sign != "+" and sign != "\\":
            old += 1
        if sign != "-" and sign != "\\":
            new += 1
    return old, new


@dataclass(frozen=True)
class Chunk:
    """`CHUNK_LINES` lines of a hunk as drawn: highlighted code (cut, see `display_code`),
    the characters cut off each line, and line numbers."""

    texts: list[Text]
    hidden: list[int]
    numbers: list[tuple[int | None, int | None]]


def file_notes(file: FileDiff) -> list[str]:
    """What the view says about a file without hunks: binary, summarised, or empty."""
    if file.summary:
        notes = file.summary.splitlines() or [file.summary]
    elif file.binary:
        notes = ["Binary file: its contents are not shown."]
    else:
        notes = ["No line changes (an empty file, a mode change or a pure rename)."]
    if file.old_path and file.old_path != file.path:
        notes.append(f"Renamed from {file.old_path}.")
    return notes


_LINE = "Move the cursor a line down / up"
_PAGE = "Move a page down / up"
_ENDS = "The file's first / last line"

#: What a scrolling widget's own keys (left, right, ctrl+pageup, ctrl+pagedown) do here.
SCROLL_TOOLTIPS: dict[str, str] = {
    "scroll_left": "Scroll long lines sideways",
    "scroll_right": "Scroll long lines sideways",
    "page_left": "Scroll long lines sideways by a page",
    "page_right": "Scroll long lines sideways by a page",
}


class DiffView(ScrollView, can_focus=True):
    """One file of a diff with a line cursor. Attributes down: `show_file`. Messages up:
    `CursorMoved` when the cursor changes line.

    Line ``y`` (counted from the top of the content) is hunk ``h``'s header when
    ``y == starts[h]`` and its line ``y - starts[h] - 1`` after that.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "cursor_down", "Down", show=False, tooltip=_LINE),
        Binding("k,up", "cursor_up", "Up", show=False, tooltip=_LINE),
        Binding("pagedown", "page_down", "Page down", show=False, tooltip=_PAGE),
        Binding("pageup", "page_up", "Page up", show=False, tooltip=_PAGE),
        Binding("home,ctrl+home", "first_line", "First line", show=False, tooltip=_ENDS),
        Binding("end,ctrl+end", "last_line", "Last line", show=False, tooltip=_ENDS),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "diff-view--added",
        "diff-view--removed",
        "diff-view--added-sign",
        "diff-view--removed-sign",
        "diff-view--hunk",
        "diff-view--gutter",
        "diff-view--note",
        "diff-view--cursor",
    }
    """
    | Class | Description |
    | :- | :- |
    | `diff-view--added` | An added line. |
    | `diff-view--removed` | A removed line. |
    | `diff-view--added-sign` | The ``+`` of an added line. |
    | `diff-view--removed-sign` | The ``-`` of a removed line. |
    | `diff-view--hunk` | A hunk's header (``@@ -1,3 +1,4 @@``). |
    | `diff-view--gutter` | The line numbers. |
    | `diff-view--note` | What is said about a file without hunks. |
    | `diff-view--cursor` | The line under the cursor (its background only). |
    """

    ALLOW_SELECT = False

    DEFAULT_CSS = """
    DiffView {
        background: $surface;
        color: $foreground;
        scrollbar-size-vertical: 1;
        scrollbar-size-horizontal: 1;
        & > .diff-view--added { background: $success-muted; }
        & > .diff-view--removed { background: $error-muted; }
        & > .diff-view--added-sign { color: $success; text-style: bold; }
        & > .diff-view--removed-sign { color: $error; text-style: bold; }
        & > .diff-view--hunk { background: $panel; color: $accent; }
        & > .diff-view--gutter { color: $foreground-muted; }
        & > .diff-view--note { color: $foreground-muted; text-style: italic; }
        & > .diff-view--cursor { background: $block-cursor-blurred-background; }
        &:focus > .diff-view--cursor { background: $primary 40%; }
    }
    """

    class CursorMoved(Message):
        """The cursor moved to another line."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.file: FileDiff | None = None
        self._key = -1
        self._lexer: Lexer | None = None
        self._starts: list[int] = []
        self._notes: list[str] = []
        self._total = 0
        self._cursor = 0
        self._digits = 3
        #: Per hunk: the old and new line numbers at the start of each chunk found so far.
        self._chunk_starts: dict[int, list[tuple[int, int]]] = {}
        #: The file shown under each key since the caches were last dropped (by identity: a
        #: reloaded diff brings new objects, and its file at a key may have other lines).
        self._shown: dict[int, FileDiff | None] = {}
        # Caches: chunks by (file key, hunk, chunk); drawn lines by (file key, y).
        self._chunks: LRUCache[tuple[int, int, int], Chunk] = LRUCache(MAX_CHUNKS)
        self._strips: LRUCache[tuple[int, int], tuple[Strip, Style]] = LRUCache(MAX_STRIPS)
        self._cursor_strip: tuple[tuple[int, int], Strip, Style] | None = None
        self._render_key: tuple[object, ...] | None = None
        self._styles: dict[str, Style] = {}
        self._base = Style()
        self._syntax: TokenStyles | None = None

    def on_mount(self) -> None:
        """Follow theme changes."""
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.restyle())

    # -- what is shown ----------------------------------------------------------------------

    def show_file(self, file: FileDiff | None, key: int, *, line: int = 0) -> None:
        """Show ``file`` (``key`` tells files apart in the caches: its index in the diff) with
        the cursor on ``line``. Costs O(hunks); lines are drawn when they come into view.

        When ``key`` was used by another file (a diff read again), everything cached is dropped:
        it was drawn from the old diff."""
        if key in self._shown and self._shown[key] is not file:
            self._chunks.clear()
            self._clear_strips()
            self._shown.clear()
        self._shown[key] = file
        self.file = file
        self._key = key
        self._chunk_starts = {}
        self._starts = []
        self._notes = []
        self._cursor_strip = None
        if file is None:
            self._lexer = None
            self._total = 0
        elif file.hunks:
            self._lexer = lexer_for(file.path)
            y = 0
            for hunk in file.hunks:
                self._starts.append(y)
                y += 1 + len(hunk.lines)
            self._total = y
            self._digits = number_width(file)
        else:
            self._lexer = None
            self._notes = file_notes(file)
            self._total = len(self._notes)
        width = self._gutter_width + self._code_width()
        self.virtual_size = Size(width, self._total)
        self._cursor = min(max(line, 0), max(self._total - 1, 0))
        self.scroll_to(0, 0, animate=False, force=True)
        self._scroll_cursor_into_view()
        self.refresh()
        self.post_message(self.CursorMoved())

    def restyle(self) -> None:
        """Drop everything drawn (a theme change: new colours for code and lines)."""
        self._chunks.clear()
        self._syntax = None
        self._clear_strips()
        self.refresh()

    @property
    def line_count(self) -> int:
        """Lines of the file as shown (hunk headers included)."""
        return self._total

    @property
    def cursor(self) -> int:
        """The line under the cursor."""
        return self._cursor

    @property
    def hunk_starts(self) -> tuple[int, ...]:
        """The line of each hunk's header."""
        return tuple(self._starts)

    def position(self, y: int | None = None) -> Position:
        """Which hunk and line of it is at ``y`` (default: under the cursor)."""
        y = self._cursor if y is None else y
        if not self._starts or not 0 <= y < self._total:
            return Position(None, None)
        h = bisect.bisect_right(self._starts, y) - 1
        offset = y - self._starts[h]
        return Position(h, offset - 1 if offset else None)

    def line_text(self, y: int) -> str:
        """The plain text of line ``y`` (for tests and the comment form), whole: a line cut
        for display (see `MAX_LINE_CHARS`) is not cut here."""
        where = self.position(y)
        if self.file is None or not 0 <= y < self._total:
            return ""
        if where.hunk is None:
            return self._notes[y]
        hunk = self.file.hunks[where.hunk]
        return hunk.header if where.line is None else hunk.lines[where.line]

    # -- the cursor -------------------------------------------------------------------------

    def move_to(self, y: int) -> None:
        """Put the cursor on line ``y`` (clamped) and scroll it into view."""
        y = min(max(y, 0), max(self._total - 1, 0))
        if y != self._cursor:
            old, self._cursor = self._cursor, y
            self._refresh_content_line(old)
            self._refresh_content_line(y)
            self.post_message(self.CursorMoved())
        self._scroll_cursor_into_view()

    def move_to_hunk(self, index: int, *, top: bool = True) -> None:
        """Put the cursor on hunk ``index``'s header, scrolled to the top of the view."""
        if not 0 <= index < len(self._starts):
            return
        y = self._starts[index]
        self.move_to(y)
        if top:
            self.scroll_to(y=y, animate=False, force=True)

    @property
    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height)

    def _scroll_cursor_into_view(self) -> None:
        height = self.scrollable_content_region.height
        if not height:
            return
        top = self.scroll_offset.y
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False, force=True)
        elif self._cursor >= top + height:
            self.scroll_to(y=self._cursor - height + 1, animate=False, force=True)

    def action_cursor_down(self) -> None:
        """The next line."""
        self.move_to(self._cursor + 1)

    def action_cursor_up(self) -> None:
        """The previous line."""
        self.move_to(self._cursor - 1)

    def action_page_down(self) -> None:
        """A page down: the view and the cursor."""
        page = self._page
        self.scroll_to(y=self.scroll_offset.y + page, animate=False, force=True)
        self.move_to(self._cursor + page)

    def action_page_up(self) -> None:
        """A page up: the view and the cursor."""
        page = self._page
        self.scroll_to(y=self.scroll_offset.y - page, animate=False, force=True)
        self.move_to(self._cursor - page)

    def action_first_line(self) -> None:
        """The file's first line."""
        self.move_to(0)

    def action_last_line(self) -> None:
        """The file's last line."""
        self.move_to(self._total - 1)

    def on_click(self, event: events.Click) -> None:
        """A click puts the cursor on the line."""
        offset = event.get_content_offset(self)
        if offset is not None:
            self.move_to(offset.y + self.scroll_offset.y)

    def on_resize(self, event: events.Resize) -> None:
        """Keep the cursor in view."""
        self._scroll_cursor_into_view()

    # -- rendering --------------------------------------------------------------------------

    def _refresh_content_line(self, y: int) -> None:
        self._cursor_strip = None if y == self._cursor else self._cursor_strip
        row = y - self.scroll_offset.y
        if 0 <= row < self.size.height:
            self.refresh(Region(0, row, self.size.width, 1))

    def _clear_strips(self) -> None:
        self._strips.clear()
        self._cursor_strip = None

    @property
    def _gutter_width(self) -> int:
        """Old and new line numbers, a space after each, the sign and a space."""
        return (self._digits + 1) * 2 + 2 if self._starts else 1

    def _code_width(self) -> int:
        file = self.file
        if file is None:
            return 0
        if not file.hunks:
            return max((len(note) for note in self._notes), default=0)
        longest = 0
        for hunk in file.hunks:
            longest = max(longest, len(hunk.header), *(len(line) for line in hunk.lines))
        if longest > MAX_LINE_CHARS + 1:
            # A cut line: the sign, its first characters and the marker (as wide as the
            # longest line's, the widest marker).
            longest = max(
                1 + MAX_LINE_CHARS + len(cut_marker(longest - 1 - MAX_LINE_CHARS)),
                *(len(hunk.header) for hunk in file.hunks),
            )
        return longest + 1

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = self.get_component_rich_style(name, partial=True)
        return style

    def render_lines(self, crop: Region) -> list[Strip]:
        """Render the lines in ``crop``; drop the drawn lines first if the width or a style
        changed."""
        key = (
            self.size.width,
            self.rich_style,
            self.has_focus,
            self.app.current_theme.name,
        )
        if key != self._render_key:
            self._render_key = key
            self._base = self.rich_style
            self._styles.clear()
            self._clear_strips()
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        """Line ``y`` of the widget: the file's line scrolled there, the cursor's highlighted."""
        width = self.size.width
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        if index >= self._total or self.file is None:
            return Strip.blank(width, self._base)
        key = (self._key, index)
        if index == self._cursor:
            cached = self._cursor_strip
            if cached is None or cached[0] != key:
                strip, fill = self._draw(index)
                # The full style: its background blended over the widget's (it has an alpha).
                cursor = self.get_component_rich_style("diff-view--cursor")
                if cursor.bgcolor is not None:
                    bg = Style(bgcolor=cursor.bgcolor)
                    strip = Strip(Segment.apply_style(list(strip), post_style=bg))
                    fill = fill + bg
                cached = self._cursor_strip = (key, strip, fill)
            strip, fill = cached[1], cached[2]
        else:
            drawn = self._strips.get(key)
            if drawn is None:
                drawn = self._draw(index)
                self._strips[key] = drawn
            strip, fill = drawn
        gutter = self._gutter_width
        if scroll_x:
            strip = Strip.join(
                [strip.crop(0, gutter), strip.crop(gutter + scroll_x, gutter + scroll_x + width)]
            )
        return strip.crop_extend(0, width, fill)

    def _draw(self, y: int) -> tuple[Strip, Style]:
        """Line ``y`` as a strip (gutter and code, not cut to the width) and the style that
        fills the rest of the line."""
        base = self._base
        where = self.position(y)
        if where.hunk is None:
            note = self._style("diff-view--note")
            return Strip([Segment(" "), Segment(self._notes[y], base + note)]), base
        assert self.file is not None
        hunk = self.file.hunks[where.hunk]
        digits = self._digits
        if where.line is None:
            style = base + self._style("diff-view--hunk")
            text = " " * (self._gutter_width) + hunk.header
            return Strip([Segment(text, style)]), style
        line = hunk.lines[where.line]
        sign = line[:1]
        if sign == "+":
            fill = base + self._style("diff-view--added")
            sign_style = fill + self._style("diff-view--added-sign")
        elif sign == "-":
            fill = base + self._style("diff-view--removed")
            sign_style = fill + self._style("diff-view--removed-sign")
        else:
            fill = base
            sign_style = base
        chunk = self._chunk(where.hunk, where.line // CHUNK_LINES)
        index = where.line % CHUNK_LINES
        old, new = chunk.numbers[index]
        gutter_style = fill + self._style("diff-view--gutter")
        numbers = f"{'' if old is None else old:>{digits}} {'' if new is None else new:>{digits}} "
        segments = [Segment(numbers, gutter_style), Segment(f"{sign} ", sign_style)]
        if sign == "\\":
            segments.append(Segment(line[1:].strip(), gutter_style))
        else:
            code = chunk.texts[index].copy()
            code.stylize_before(fill)
            hidden = chunk.hidden[index]
            if hidden:
                code.append(cut_marker(hidden), fill + self._style("diff-view--note"))
            segments.extend(code.render(self.app.console))
        return Strip(segments), fill

    def _chunk(self, h: int, c: int) -> Chunk:
        """Chunk ``c`` of hunk ``h`` (highlighted and numbered on first use)."""
        key = (self._key, h, c)
        chunk = self._chunks.get(key)
        if chunk is None:
            assert self.file is not None
            lines = self.file.hunks[h].lines[c * CHUNK_LINES : (c + 1) * CHUNK_LINES]
            old, new = self._chunk_start(h, c)
            codes = [display_code(line[1:]) for line in lines]
            chunk = Chunk(
                self._highlight_chunk(lines, [code for code, _ in codes]),
                [hidden for _, hidden in codes],
                line_numbers(lines, old, new),
            )
            self._chunks[key] = chunk
        return chunk

    def _chunk_start(self, h: int, c: int) -> tuple[int, int]:
        """The old and new line numbers of chunk ``c``'s first line (counted once per chunk)."""
        assert self.file is not None
        hunk = self.file.hunks[h]
        starts = self._chunk_starts.setdefault(h, [(hunk.old_start, hunk.new_start)])
        while len(starts) <= c:
            k = len(starts) - 1
            lines = hunk.lines[k * CHUNK_LINES : (k + 1) * CHUNK_LINES]
            starts.append(advance(lines, *starts[k]))
        return starts[c]

    def _highlight_chunk(self, lines: Sequence[str], codes: Sequence[str]) -> list[Text]:
        """Each side (old: context and removed; new: context and added) highlighted as one
        text; context lines take the new side's colours. ``codes`` are the lines' code as
        drawn (see `display_code`), ``lines`` tell their signs."""
        if self._syntax is None:
            self._syntax = TokenStyles(DARK_SYNTAX if self.app.current_theme.dark else LIGHT_SYNTAX)
        old_index: list[int] = []
        new_index: list[int] = []
        for n, line in enumerate(lines):
            sign = line[:1]
            if sign in ("-", " ", ""):
                old_index.append(n)
            if sign in ("+", " ", ""):
                new_index.append(n)
        result = [Text(end="") for _ in lines]
        for index in (old_index, new_index):
            code = [codes[n] for n in index]
            for n, text in zip(
                index, highlight_lines(self._lexer, code, self._syntax), strict=True
            ):
                result[n] = text
        return result
