"""The inbox strip: one line above the footer saying how many agents wait on the human and what
the longest-waiting one asks."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Static

from app.core.views import AgentRow, FleetView, format_duration
from app.ui.keys import DASHBOARD_BINDINGS, key_hints

#: What the strip says when nobody waits.
NOBODY_WAITS = "No agent waits for you"
#: The keys the strip points at while someone waits (``i inbox · w next``), from the bindings.
STRIP_KEYS = key_hints(DASHBOARD_BINDINGS, {"inbox": "inbox", "next_waiting": "next"})


def options_text(options: tuple[str, ...]) -> str:
    """``1 Yes  2 Yes, always  3 No``."""
    return "  ".join(f"{i} {option}" for i, option in enumerate(options, 1))


def strip_content(waiting: int, oldest: AgentRow | None, now: float) -> Content:
    """``⚑ 3 waiting · api-auth 2m: Bash: rm -rf build · 1 Yes  2 No`` (dim when nobody waits)."""
    if oldest is None or not waiting:
        return Content.from_markup("[dim]✓ $text[/dim]", text=NOBODY_WAITS)
    what = oldest.detail or oldest.question or "waits for you"
    content = Content.from_markup(
        "[bold $background on $status-waiting] ⚑ $count waiting [/] "
        "[b]$name[/b] [dim]$age:[/dim] $what",
        count=str(waiting),
        name=oldest.name,
        age=format_duration(now - oldest.since),
        what=what,
    )
    if oldest.options:
        content += Content.from_markup(
            "  [dim]· $options[/dim]", options=options_text(oldest.options)
        )
    return content


class InboxStrip(Horizontal):
    """One line. Attributes down: the app calls `show` with each view and `tick` with the time.

    Re-renders only when what it says changes: the count, the longest-waiting agent and its
    request, or the text of its waiting time.
    """

    DEFAULT_CSS = """
    InboxStrip {
        height: 1;
        background: $panel;
        #strip-text { width: 1fr; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
        #strip-keys { width: auto; padding: 0 1; color: $foreground-muted; display: none; }
        &.-waiting #strip-keys { display: block; }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._text = Static("", id="strip-text")
        self._keys = Static(STRIP_KEYS, id="strip-keys", markup=False)
        self._waiting = 0
        self._oldest: AgentRow | None = None
        self._shown: tuple[object, ...] | None = None

    def compose(self) -> ComposeResult:
        """The summary and the keys."""
        yield self._text
        yield self._keys

    @property
    def text(self) -> str:
        """What the strip says, as plain text."""
        content = self._text.content
        return content.plain if isinstance(content, Content) else str(content)

    def show(self, view: FleetView, now: float) -> None:
        """Show the inbox part of ``view``."""
        inbox = view.inbox()
        self._waiting = len(inbox)
        self._oldest = inbox[0] if inbox else None
        self.tick(now)

    def tick(self, now: float) -> None:
        """Advance the clock (repaints only when the waiting time's text changed)."""
        oldest = self._oldest
        age = format_duration(now - oldest.since) if oldest is not None else ""
        shown = (self._waiting, oldest, age)
        if shown == self._shown:
            return
        self._shown = shown
        self._text.update(strip_content(self._waiting, oldest, now), layout=False)
        self.set_class(self._waiting > 0, "-waiting")
