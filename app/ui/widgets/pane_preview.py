"""The preview: the bottom of the selected agent's pane, in colour, with why it has its status."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

from app.core.status import Status
from app.core.views import AgentRow, check_label


def pane_text(capture: str) -> Text:
    """An ANSI capture as Rich text, trailing blank lines dropped (the cursor line is empty)."""
    return Text.from_ansi(capture.rstrip("\n"), no_wrap=True, overflow="crop", end="")


def bottom_lines(text: Text, height: int) -> Text:
    """The last ``height`` lines of ``text``: an agent's screen is read from the bottom."""
    lines = text.split("\n", allow_blank=True)
    while lines and not lines[-1].plain.strip():
        lines.pop()
    shown = lines[-height:] if height > 0 else []
    joined = Text("\n", no_wrap=True, overflow="crop", end="").join(shown)
    joined.no_wrap = True
    joined.overflow = "crop"
    return joined


def question_content(row: AgentRow) -> Content:
    """The question an agent waits on and its options, for the preview's subtitle."""
    text = row.question or "waiting for you"
    content = Content.from_markup("[b]? $text[/b]", text=text)
    if row.options:
        options = "  ".join(f"{i}. {option}" for i, option in enumerate(row.options, 1))
        content += Content.from_markup("  [dim]$options[/dim]", options=options)
    return content


def details_content(row: AgentRow) -> Content:
    """Kind and branch, the latest check and the agents whose changes touch the same files:
    ``claude · qd/api · check failed 3s: 1 failed, 4 passed · ⚠ overlaps web-ui``."""
    content = Content.from_markup("$kind · $branch", kind=row.kind, branch=row.branch)
    if row.check is not None:
        content += Content.from_markup(" · check $check", check=check_label(row.check))
        if row.check.last_line:
            content += Content.from_markup(": [dim]$line[/dim]", line=row.check.last_line)
    if row.overlap:
        content += Content.from_markup(
            " · [b $warning]⚠ overlaps $names[/]", names=", ".join(row.overlap)
        )
    return content


class PaneScreen(Widget):
    """The captured pane itself, cut to the widget's height from the bottom."""

    DEFAULT_CSS = """
    PaneScreen {
        height: 1fr;
        text-wrap: nowrap;
        text-overflow: clip;
        overflow: hidden;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._text = Text("", end="")

    def show(self, text: Text) -> None:
        """Show a new capture."""
        self._text = text
        self.refresh()

    def render(self) -> Text:
        """The bottom of the capture that fits."""
        return bottom_lines(self._text, self.size.height)


class PanePreview(Vertical):
    """The selected agent's pane. Attributes down: `show_agent` and `show_capture`."""

    DEFAULT_CSS = """
    PanePreview {
        border: round $foreground 30%;
        border-title-color: $foreground;
        border-title-style: bold;
        border-subtitle-color: $foreground-muted;
        padding: 0 1;
        &.-waiting {
            border: round $status-waiting;
            border-subtitle-color: $status-waiting;
        }
        #pane-message { color: $foreground-muted; display: none; }
        &.-message #pane-message { display: block; }
        &.-message PaneScreen { display: none; }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown_message: str | None = None
        self._shown_row: tuple[object, ...] | None = None
        self.agent: str | None = None
        self._capture: tuple[str, str] | None = None
        self._screen = PaneScreen(id="pane-screen")
        self._notice = Static("", id="pane-message", markup=False)

    def last_capture(self, name: str) -> str | None:
        """The raw capture shown for ``name``, if any."""
        if self._capture is not None and self._capture[0] == name:
            return self._capture[1]
        return None

    @property
    def has_capture(self) -> bool:
        """True once the selected agent's pane is shown."""
        return self._capture is not None and self._capture[0] == self.agent

    def compose(self) -> ComposeResult:
        """A message line (shown instead of the pane while there is no capture) and the pane."""
        yield self._notice
        yield self._screen

    def show_agent(self, row: AgentRow | None) -> None:
        """Show this agent's name and evidence (title) and its question or kind and branch
        (subtitle). A different agent clears the pane until its capture arrives."""
        name = None if row is None else row.name
        if name != self.agent:
            self.agent = name
            self._capture = None
            self._screen.show(Text("", end=""))
            self._message("capturing…" if row is not None else "")
        if row is None:
            self._shown_row = None
            self.border_title = "Preview"
            self.border_subtitle = ""
            self.set_class(False, "-waiting")
            return
        waiting = row.status is Status.NEEDS_INPUT
        shown = (
            row.name,
            row.evidence,
            waiting,
            row.question,
            row.options,
            row.kind,
            row.branch,
            row.check,
            row.overlap,
        )
        if shown == self._shown_row:
            return  # nothing in the titles changed: no repaint
        self._shown_row = shown
        title = Content.from_markup("$name", name=row.name)
        if row.evidence:
            title += Content.from_markup(" [dim]· $evidence[/dim]", evidence=row.evidence)
        self.border_title = title
        self.set_class(waiting, "-waiting")
        if waiting:
            self.border_subtitle = question_content(row)
        else:
            self.border_subtitle = details_content(row)

    def show_capture(self, name: str, capture: str, text: Text | None, error: str = "") -> None:
        """Show a capture of ``name``'s pane (ignored if another agent is selected by now)."""
        if name != self.agent:
            return
        if text is None:
            self._capture = None
            self._message(f"no preview: {error}" if error else "no preview")
            return
        self._capture = (name, capture)
        self._message("")
        self._screen.show(text)

    def _message(self, message: str) -> None:
        # Only on a change: an update re-lays out the screen, and captures come twice a second.
        if message != self._shown_message:
            self._shown_message = message
            self._notice.update(message)
            self.set_class(bool(message), "-message")
