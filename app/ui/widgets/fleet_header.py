"""The header line: the repository and how many agents are in each status."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Static

from app.core.status import Status
from app.core.views import FleetView
from app.ui.themes import STATUS_VARIABLE


def counts_content(view: FleetView) -> Content:
    """``3 needs_input · 2 working · 1 idle`` in attention order, each in its status colour.

    The waiting count is bold and reversed so it stands out from across the room.
    """
    counts = view.counts()
    if not counts:
        return Content("no agents")
    parts: list[Content] = []
    for status, n in counts.items():
        variable = STATUS_VARIABLE[status]
        if status is Status.NEEDS_INPUT:
            style = f"bold $background on ${variable}"
            parts.append(Content.from_markup(f"[{style}] {n} $label [/]", label=status.value))
        else:
            parts.append(Content.from_markup(f"[${variable}]{n} $label[/]", label=status.value))
    return Content(" · ").join(parts)


class FleetHeader(Horizontal):
    """One line at the top. Attributes down: the app calls `show` with each new view."""

    DEFAULT_CSS = """
    FleetHeader {
        height: 1;
        dock: top;
        background: $panel;
        color: $foreground;
        #fleet-title { width: auto; padding: 0 1; text-style: bold; color: $primary; }
        #fleet-counts { width: 1fr; padding: 0 1; }
        #fleet-notice { width: auto; padding: 0 1; color: $warning; text-style: bold; }
    }
    """

    def __init__(self, repo: str) -> None:
        super().__init__()
        self._repo = repo
        self._counts = Static("", id="fleet-counts")
        self._notice = Static("", id="fleet-notice", markup=False)
        self._notice.display = False
        self._shown_counts: Content | None = None
        self._shown_notice = ""

    def compose(self) -> ComposeResult:
        """The title and the counts."""
        yield Static(
            Content.from_markup("⚓ Quarterdeck · $repo", repo=self._repo), id="fleet-title"
        )
        yield self._counts
        yield self._notice

    def show(self, view: FleetView) -> None:
        """Show the counts of this view (repainting only what changed)."""
        counts = counts_content(view)
        if counts != self._shown_counts:
            self._shown_counts = counts
            self._counts.update(counts, layout=False)  # its width is fixed: 1fr
        if view.notice != self._shown_notice:
            self._shown_notice = view.notice
            self._notice.update(view.notice)
            self._notice.display = bool(view.notice)
