"""The inbox: every agent waiting on the human, the longest-waiting first, answered in place.

The screen follows the fleet's views (the app hands each one to `show_view`). An agent just
answered is hidden for a few seconds, until the engine sees it moved on, unless it starts
waiting again meanwhile (a new ``since``); if the answer fails it comes back at once. Port calls
run in thread workers of the app (`RunPort`), so a closed inbox still reports how they went.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Static

from app.core.answers import no_option, request_subject, similar_requests, yes_option
from app.core.ports import SteeringPort
from app.core.views import AgentRow, FleetView, format_duration
from app.ui.dialogs.confirm import ConfirmScreen
from app.ui.dialogs.reply import ReplyScreen
from app.ui.messages import OperationReported, RunPort, describe_error
from app.ui.widgets.key_footer import KeyFooter

#: What the inbox says when it is empty.
EMPTY_INBOX = "No agent waits for you"
#: How to get back from an empty inbox.
EMPTY_HINT = "esc, i or q returns to the dashboard"
#: Seconds an answered agent stays hidden while the view still shows it waiting.
HIDE_ANSWERED_SECONDS = 5.0
#: Lines of the screen above the dialog shown with the focused item, and with the others.
FOCUSED_CONTEXT_LINES = 8
CONTEXT_LINES = 3
#: How often the waiting times advance (seconds).
INBOX_TICK_SECONDS = 1.0


def request_text(row: AgentRow) -> str:
    """What a request is about, in one line: the hook's detail, the context, or the question."""
    if row.detail:
        return row.detail
    tool, subject = request_subject(row)
    return f"{tool}: {subject}" if tool else subject or row.question or "a dialog"


def item_content(row: AgentRow, now: float, *, focused: bool = False) -> Content:
    """One waiting agent: who, how long, what is on its screen above the dialog, the question,
    what it is about, and the options by number."""
    kind = row.input_kind.value if row.input_kind is not None else "input"
    lines = [
        Content.from_markup(
            "[b]$marker$name[/b]  [dim]$kind · $input · waiting[/dim] [b]$age[/b]",
            marker="▶ " if focused else "  ",
            name=row.name,
            kind=row.kind,
            input=kind,
            age=format_duration(now - row.since),
        )
    ]
    shown = FOCUSED_CONTEXT_LINES if focused else CONTEXT_LINES
    context = [line.rstrip() for line in row.context if line.strip()][-shown:]
    for line in context:
        lines.append(Content.from_markup("  [dim]│ $line[/dim]", line=line))
    question = row.question or "waits for you"
    lines.append(
        Content.from_markup("  [b $status-waiting]?[/] [b]$question[/b]", question=question)
    )
    if row.detail:
        lines.append(Content.from_markup("    [$accent]$detail[/]", detail=row.detail))
    if row.options:
        options = Content("    ")
        for number, option in enumerate(row.options, 1):
            options += Content.from_markup(
                "[b $accent]$n[/] $option   ", n=str(number), option=option
            )
        lines.append(options.rstrip())
    else:
        lines.append(Content.from_markup("    [dim]no options: r replies, enter attaches[/dim]"))
    for other in row.others:
        also = "  [b $status-waiting]?[/] [dim]also open:[/] $dialog"
        lines.append(Content.from_markup(also, dialog=other))
    if row.others and not row.focused:
        lines.append(
            Content.from_markup(
                "    [b $error]several dialogs: which one takes keys is not known; "
                "enter attaches[/]"
            )
        )
    return Content("\n").join(lines)


class InboxItem(Static):
    """One waiting agent. Re-rendered only when its row, waiting time or focus changes."""

    DEFAULT_CSS = """
    InboxItem {
        height: auto;
        padding: 0 1;
        margin-bottom: 1;
        border-left: thick $surface;
        &.-focused {
            border-left: thick $status-waiting;
            background: $boost;
        }
    }
    """

    class Clicked(Message):
        """The human clicked the item of agent ``name``."""

        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    def __init__(self, row: AgentRow) -> None:
        super().__init__("")
        self.row = row
        self._shown: tuple[object, ...] | None = None
        self._content = Content("")

    @property
    def text(self) -> str:
        """What the item says, as plain text."""
        return self._content.plain

    def show(self, row: AgentRow, now: float, focused: bool) -> None:
        """Show ``row`` as of ``now``."""
        self.row = row
        shown = (row, format_duration(now - row.since), focused)
        if shown == self._shown:
            return
        self._shown = shown
        self.set_class(focused, "-focused")
        self._content = item_content(row, now, focused=focused)
        self.update(self._content)

    def on_click(self, event: events.Click) -> None:
        """A click focuses the item."""
        event.stop()
        self.post_message(self.Clicked(self.row.name))


_MOVE = "Focus the next / previous waiting agent"
_PICK = "Pick that option of the focused agent's dialog (verified)"
_APPROVE = "Approve all waiting requests like this one (asks first)"


class InboxScreen(ModalScreen[None]):
    """Every waiting agent, oldest first; the focused one is answered with single keys.

    Attributes down: the app calls `show_view` with each view it shows.
    """

    CSS_PATH = "inbox.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "move(1)", "Down", show=False, tooltip=_MOVE),
        Binding("k,up", "move(-1)", "Up", show=False, tooltip=_MOVE),
        Binding("1", "pick(1)", "Answer", key_display="1…9", tooltip=_PICK),
        *[Binding(str(n), f"pick({n})", f"Answer {n}", show=False) for n in range(2, 10)],
        Binding("y", "yes", "Yes", tooltip="Pick the dialog's yes / no option"),
        Binding("n", "no", "No", tooltip="Pick the dialog's yes / no option"),
        Binding("r", "reply", "Reply", tooltip="Reply in words (enter sends, escape cancels)"),
        Binding("a", "approve_all", "Approve alike", tooltip=_APPROVE),
        Binding("enter", "attach", "Attach", tooltip="Attach to the focused agent's pane"),
        Binding("w", "next", "Next", tooltip="Jump to the next waiting agent"),
        Binding("tab", "next", "Next", show=False, tooltip="Jump to the next waiting agent"),
        Binding("escape", "close", "Back", tooltip="Back to the dashboard"),
        Binding("i", "close", "Back", show=False, tooltip="Back to the dashboard"),
        Binding("q", "close", "Back", show=False, tooltip="Back to the dashboard"),
    ]

    class AnswerFailed(Message):
        """An answer to ``name`` did not go: show the agent again."""

        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    def __init__(
        self,
        port: SteeringPort,
        view: FleetView,
        run_port: RunPort,
        *,
        clock: Callable[[], float] = time.time,
        attach: Callable[[str], None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.port = port
        self.run_port = run_port
        self.view = view
        self.clock = clock
        self.attach = attach
        self.monotonic = monotonic
        #: Agents answered from here: name -> (the wait's ``since``, when answered).
        self._answered: dict[str, tuple[float, float]] = {}
        self._items: dict[str, InboxItem] = {}
        self._order: list[str] = []
        self._focused: str | None = None
        self._list = VerticalScroll(id="inbox-list", can_focus=False)
        self._title = Static("", id="inbox-title")
        self._shown_title: Content | None = None
        self._empty = Static(
            Content.from_markup(
                "[b]$empty[/b]\n[dim]$hint[/dim]", empty=EMPTY_INBOX, hint=EMPTY_HINT
            ),
            id="inbox-empty",
        )

    def compose(self) -> ComposeResult:
        """A title line, the items (or the empty message) and the keys."""
        with Vertical(id="inbox-box"):
            with Horizontal(id="inbox-top"):
                yield self._title
            yield self._empty
            yield self._list
        yield KeyFooter()

    def on_mount(self) -> None:
        """Show the view the inbox opened with and start the clock."""
        self.query_one("#inbox-box").border_title = "Inbox"
        self._sync()
        self.set_interval(INBOX_TICK_SECONDS, self._tick)

    # -- what is shown ----------------------------------------------------------------------

    @property
    def rows(self) -> tuple[AgentRow, ...]:
        """The waiting agents shown, oldest first (answered ones hidden meanwhile)."""
        now = self.monotonic()
        for name, (_since, at) in list(self._answered.items()):
            if now - at > HIDE_ANSWERED_SECONDS:
                del self._answered[name]
        return tuple(
            row
            for row in self.view.inbox()
            if self._answered.get(row.name, (None, 0.0))[0] != row.since
        )

    @property
    def focused_row(self) -> AgentRow | None:
        """The item the keys act on."""
        item = self._items.get(self._focused or "")
        return item.row if item is not None else None

    @property
    def items(self) -> list[InboxItem]:
        """The items, in the order shown."""
        return [self._items[name] for name in self._order]

    def show_view(self, view: FleetView) -> None:
        """Follow the fleet: items come, change and go with the view."""
        self.view = view
        self._sync()

    def _tick(self) -> None:
        self._sync()

    def _sync(self) -> None:
        rows = self.rows
        names = [row.name for row in rows]
        now = self.clock()
        if self._focused not in names:
            self._focused = self._successor(names)
        if names != self._order:
            self._reorder(rows)
        for row in rows:
            self._items[row.name].show(row, now, row.name == self._focused)
        self._show_title(rows, now)
        self.set_class(not rows, "-empty")

    def _successor(self, names: list[str]) -> str | None:
        """Where the focus goes when its item left: the next item still shown (after the last:
        the first, the longest-waiting)."""
        if self._focused in self._order:
            index = self._order.index(self._focused)
            for name in self._order[index + 1 :]:
                if name in names:
                    return name
        return names[0] if names else None

    def _reorder(self, rows: Sequence[AgentRow]) -> None:
        """Mount items that are new, drop those that went, keep the rest (in view order)."""
        names = [row.name for row in rows]
        for name in [n for n in self._order if n not in names]:
            self._items.pop(name).remove()
        kept = [n for n in self._order if n in names]
        if kept != [n for n in names if n in kept]:
            # An agent waits anew and moved to the end: rebuild its item.
            for name in kept:
                self._items.pop(name).remove()
            kept = []
        for index, row in enumerate(rows):
            if row.name in kept:
                continue
            item = InboxItem(row)
            self._items[row.name] = item
            after = next((n for n in names[index + 1 :] if n in kept), None)
            if after is not None:
                self._list.mount(item, before=self._items[after])
            else:
                self._list.mount(item)
        self._order = names

    def _show_title(self, rows: Sequence[AgentRow], now: float) -> None:
        if rows:
            n = len(rows)
            text = Content.from_markup(
                "[b]$count[/b] waiting on you · oldest first · longest [b]$age[/b]",
                count=f"{n} agent{'s' if n != 1 else ''}",
                age=format_duration(now - rows[0].since),
            )
        else:
            text = Content("")
        if text != self._shown_title:
            self._shown_title = text
            self._title.update(text, layout=False)

    def _focus(self, name: str | None) -> None:
        if name == self._focused:
            return
        self._focused = name
        self._sync()
        item = self._items.get(name or "")
        if item is not None:
            self.call_after_refresh(self._list.scroll_to_widget, item, animate=False)

    # -- keys -------------------------------------------------------------------------------

    def action_move(self, delta: int) -> None:
        """Focus the item ``delta`` places down (up when negative)."""
        if not self._order:
            return
        index = self._order.index(self._focused) if self._focused in self._order else 0
        self._focus(self._order[min(max(index + delta, 0), len(self._order) - 1)])

    def action_next(self) -> None:
        """Jump to the next waiting item (after the last: the first)."""
        if not self._order:
            self.notify(EMPTY_INBOX, timeout=3)
            return
        index = self._order.index(self._focused) if self._focused in self._order else -1
        self._focus(self._order[(index + 1) % len(self._order)])

    @on(InboxItem.Clicked)
    def _item_clicked(self, message: InboxItem.Clicked) -> None:
        self._focus(message.name)

    def action_pick(self, number: int) -> None:
        """Pick option ``number`` of the focused agent's dialog."""
        row = self.focused_row
        if row is None:
            return
        if row.options and number > len(row.options):
            self.notify(
                f"{row.name}'s dialog has options 1 to {len(row.options)}", severity="error"
            )
            return
        self._answer([(row, number)])

    def action_yes(self) -> None:
        """Pick the focused dialog's yes option (never guessed: said when there is none)."""
        self._pick_labelled(yes_option, "yes")

    def action_no(self) -> None:
        """Pick the focused dialog's no option (never guessed: said when there is none)."""
        self._pick_labelled(no_option, "no")

    def _pick_labelled(self, find: Callable[[Sequence[str]], int | None], label: str) -> None:
        row = self.focused_row
        if row is None:
            return
        number = find(row.options)
        if number is None:
            listed = "  ".join(f"{i} {o}" for i, o in enumerate(row.options, 1)) or "none"
            self.notify(
                f"{row.name}'s dialog has no {label} option; pick a number ({listed})",
                severity="error",
            )
            return
        self._answer([(row, number)])

    def action_reply(self) -> None:
        """Answer the focused agent in words."""
        row = self.focused_row
        if row is not None:
            self.app.push_screen(ReplyScreen(row), lambda text: self._replied(row, text))

    def _replied(self, row: AgentRow, text: str | None) -> None:
        if text:
            self._hide([row])
            self.run_port(lambda: self._reply_blocking(row.name, text), group="inbox")

    def action_attach(self) -> None:
        """Show the focused agent's pane (the inbox stays open for the way back)."""
        row = self.focused_row
        if row is not None and self.attach is not None:
            self.attach(row.name)

    def action_approve_all(self) -> None:
        """Approve every waiting permission request like the focused one, after asking."""
        row = self.focused_row
        if row is None:
            return
        shown = {r.name for r in self.rows}
        alike = [r for r in similar_requests(self.view.rows, row) if r.name in shown]
        if not alike:
            self.notify(
                f"{row.name} is not asking a permission that can be approved with a yes",
                severity="warning",
            )
            return
        if len(alike) == 1:
            self._answer([(r, yes_option(r.options) or 1) for r in alike])
            return
        names = ", ".join(r.name for r in alike)
        question = f"Approve {len(alike)} requests like `{request_text(row)}`?\n\n{names}"
        self.app.push_screen(
            ConfirmScreen(question, yes_label="Approve all"),
            lambda yes: self._approve_confirmed(alike, yes),
        )

    def _approve_confirmed(self, rows: list[AgentRow], yes: bool | None) -> None:
        if yes:
            self._answer([(r, yes_option(r.options) or 1) for r in rows], approve_all=True)

    def action_close(self) -> None:
        """Back to the dashboard."""
        self.dismiss(None)

    # -- answering --------------------------------------------------------------------------

    def _hide(self, rows: Sequence[AgentRow]) -> None:
        """Hide answered agents; the focus moves on to the next waiting one."""
        at = self.monotonic()
        for row in rows:
            self._answered[row.name] = (row.since, at)
        self._sync()

    def _answer(self, picks: list[tuple[AgentRow, int]], *, approve_all: bool = False) -> None:
        self._hide([row for row, _number in picks])
        targets = [(row.name, number) for row, number in picks]
        subject = request_text(picks[0][0]) if approve_all else ""
        self.run_port(lambda: self._answer_blocking(targets, subject), group="inbox")

    def _answer_blocking(self, targets: list[tuple[str, int]], subject: str) -> Message | None:
        """In a thread: answer each agent; report each failure, and the successes."""
        done: list[str] = []
        said = ""
        for name, number in targets:
            try:
                said = self.port.answer(name, number)
            except Exception as error:
                self._failed(name, describe_error(error))
            else:
                done.append(name)
        if not done:
            return None
        if subject:
            s = "s" if len(done) != 1 else ""
            text = f"Approved {len(done)} request{s} like {subject}: {', '.join(done)}"
        else:
            text = said
        return OperationReported(text)

    def _reply_blocking(self, name: str, text: str) -> Message | None:
        """In a thread: reply to ``name`` in words."""
        try:
            said = self.port.reply(name, text)
        except Exception as error:
            self._failed(name, describe_error(error))
            return None
        return OperationReported(said)

    def _failed(self, name: str, error: str) -> None:
        self.app.post_message(OperationReported(f"{name}: {error}", "error"))
        self.post_message(self.AnswerFailed(name))

    def on_inbox_screen_answer_failed(self, message: InboxScreen.AnswerFailed) -> None:
        """The answer did not go: the agent is shown again."""
        if self._answered.pop(message.name, None) is not None:
            self._sync()
