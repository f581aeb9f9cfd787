"""The dashboard's keys, in one place: bindings, the help generated from them, and tmux key names
for humans.

A binding says what it does in its ``tooltip`` (the footer shows it on hover); the help screen's
dashboard section is made of those, so a key cannot be bound without being explained.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import groupby

from textual.binding import Binding

_TMUX_MODIFIERS = {"C": "Ctrl", "M": "Alt", "S": "Shift"}


def tmux_key_display(key: str) -> str:
    """A tmux key name as people write it: ``C-q`` is ``Ctrl-q``, ``M-Left`` is ``Alt-Left``."""
    parts = key.split("-")
    modifiers: list[str] = []
    while len(parts) > 1 and parts[0] in _TMUX_MODIFIERS:
        modifiers.append(_TMUX_MODIFIERS[parts.pop(0)])
    rest = "-".join(parts)
    return "-".join([*modifiers, rest]) if rest else key


@dataclass(frozen=True)
class KeyHelp:
    """One line of the help screen: the key(s) as shown and what they do."""

    keys: str
    description: str


_PAGE = "Move the selection a page up / down"
_ENDS = "Select the first / last agent"
_INBOX = "Inbox: the agents waiting on you, oldest first, answered in place"
_NEXT = "Select the next agent waiting on you (again: the one after)"
_REVIEW = "Review its changes: files, hunks, its check; comment, land, push"
_CHECK = "Run its check (while one runs: cancel it, asks first)"
_LAND = "Land its branch in its base: merge, squash or rebase (asks)"
_PUSH = "Push its branch and open a pull request (or say how)"
_STOP = "Stop the selected agent: ends its process tree (asks first)"
_REMOVE = "Discard/remove: its worktree, window and branch (asks first)"
_WHY = "Why this status? The evidence and the agent's trail of signals"
_MARK = "Mark / unmark the selected agent and move down"
_BROADCAST = "Message every live agent (broadcast)"
_CORRECT = "Correct: interrupt the marked/selected agents, then message them"
_STOP_NOW = "Interrupt the marked/selected agents now (asks first if several)"
_DIGITS = "/".join(str(n) for n in range(1, 10))
_ANSWER = "Answer the selected agent's dialog with that option (verified)"


def binding_help(bindings: Iterable[Binding]) -> tuple[KeyHelp, ...]:
    """The help's lines for ``bindings``: one per binding that says what it does (its
    ``tooltip``), keys as Textual names them (a single key's ``key_display`` if it has one).

    A binding's keys share its line (``j / down``); consecutive bindings that say the same
    share lines too: one when each has one key (``M / shift+m``), else one per key position
    (``home / end``, then ``ctrl+home / ctrl+end``).
    """
    lines: list[KeyHelp] = []
    described = [b for b in bindings if b.tooltip]
    for description, group in groupby(described, key=lambda b: b.tooltip):
        keys = [_binding_keys(b) for b in group]
        widths = {len(k) for k in keys}
        if len(keys) > 1 and len(widths) == 1 and (width := widths.pop()) > 1:
            for i in range(width):
                lines.append(KeyHelp(" / ".join(k[i] for k in keys), description))
        else:
            lines.append(KeyHelp(" / ".join(key for k in keys for key in k), description))
    return tuple(lines)


def _binding_keys(binding: Binding) -> list[str]:
    keys = binding.key.split(",")
    if len(keys) == 1 and binding.key_display:
        return [binding.key_display]
    return keys


#: Keys of the agent table, on top of a scrolling widget's own (`SCROLL_HELP`).
TABLE_BINDINGS: list[Binding] = [
    Binding("enter", "screen.attach", "Attach", tooltip="Attach to the selected agent's pane"),
    Binding("j,down", "cursor_down", "Down", show=False, tooltip="Select the next agent"),
    Binding("k,up", "cursor_up", "Up", show=False, tooltip="Select the previous agent"),
    Binding("pageup", "page_up", "Page up", show=False, tooltip=_PAGE),
    Binding("pagedown", "page_down", "Page down", show=False, tooltip=_PAGE),
    Binding("home,ctrl+home", "scroll_top", "First", show=False, tooltip=_ENDS),
    Binding("end,ctrl+end", "scroll_bottom", "Last", show=False, tooltip=_ENDS),
]

#: What a scrolling widget binds itself, on the agent table.
SCROLL_HELP: tuple[KeyHelp, ...] = (
    KeyHelp("left / right", "Scroll the table sideways"),
    KeyHelp("ctrl+pageup / ctrl+pagedown", "Scroll the table sideways by a page"),
)

#: The dashboard screen's keys (the app adds the theme, help and quit keys).
DASHBOARD_BINDINGS: tuple[Binding, ...] = (
    Binding("i", "inbox", "Inbox", tooltip=_INBOX),
    Binding("w", "next_waiting", "Next waiting", show=False, tooltip=_NEXT),
    Binding("m", "message", "Message", tooltip="Message the marked agents (or the selected one)"),
    Binding("n", "new_agent", "New", tooltip="New agent: prompt, kind, name, base branch"),
    Binding("v", "review", "Review", tooltip=_REVIEW),
    Binding("C,shift+c", "run_check", "Check", key_display="C", tooltip=_CHECK),
    Binding("g", "land", "Land", tooltip=_LAND),
    Binding("P,shift+p", "push", "Push", show=False, key_display="P", tooltip=_PUSH),
    Binding("x", "stop_agent", "Stop", tooltip=_STOP),
    Binding("d", "remove_agent", "Remove", tooltip=_REMOVE),
    Binding("e", "evidence", "Why?", show=False, tooltip=_WHY),
    Binding("space", "toggle_mark", "Mark", show=False, tooltip=_MARK),
    Binding("escape", "clear_marks", "Clear marks", show=False, tooltip="Clear the marks"),
    Binding("M", "broadcast", "Message all", show=False, tooltip=_BROADCAST),
    Binding("shift+m", "broadcast", "Message all", show=False, tooltip=_BROADCAST),
    Binding("c", "correct", "Correct", show=False, tooltip=_CORRECT),
    Binding(
        "exclamation_mark", "interrupt", "Interrupt", show=False, key_display="!", tooltip=_STOP_NOW
    ),
    Binding("1", "answer(1)", "Answer 1", show=False, key_display=_DIGITS, tooltip=_ANSWER),
    *[Binding(str(n), f"answer({n})", f"Answer {n}", show=False) for n in range(2, 10)],
)

#: Actions that need a selected agent; disabled (greyed in the footer) on an empty fleet.
AGENT_ACTIONS = frozenset(
    {
        "attach",
        "stop_agent",
        "remove_agent",
        "evidence",
        "toggle_mark",
        "message",
        "broadcast",
        "correct",
        "interrupt",
        "review",
        "run_check",
        "land",
        "push",
    }
)

#: The app's own keys, on every screen that is not modal.
APP_BINDINGS: tuple[Binding, ...] = (
    Binding("t", "cycle_theme", "Theme", show=False, tooltip="Switch to the next theme"),
    Binding("question_mark", "help", "Help", key_display="?", tooltip="This help"),
    Binding("q", "quit", "Quit", tooltip="Quit the dashboard (agents keep running)"),
)

#: What Textual binds itself, on every screen of the dashboard.
TEXTUAL_HELP: tuple[KeyHelp, ...] = (
    KeyHelp("ctrl+p", "Command palette (also switches themes)"),
    KeyHelp("tab / shift+tab", "Move the focus"),
    KeyHelp("ctrl+c / super+c", "Copy selected text"),
    KeyHelp("ctrl+q", "Quit the dashboard, from any screen (agents keep running)"),
)

#: Every key of the dashboard, for the help screen, generated from the bindings.
DASHBOARD_HELP: tuple[KeyHelp, ...] = (
    *binding_help(TABLE_BINDINGS),
    *SCROLL_HELP,
    *binding_help(DASHBOARD_BINDINGS),
    *binding_help(APP_BINDINGS),
    *TEXTUAL_HELP,
)

#: Keys of the inbox (the focused item is the agent that waits longest until you move).
INBOX_HELP: tuple[KeyHelp, ...] = (
    KeyHelp("j / down, k / up", "Focus the next / previous waiting agent"),
    KeyHelp("1/2/3/4/5/6/7/8/9", "Pick that option of the focused agent's dialog (verified)"),
    KeyHelp("y / n", "Pick the dialog's yes / no option"),
    KeyHelp("r", "Reply in words (enter sends, escape cancels)"),
    KeyHelp("a", "Approve all waiting requests like this one (asks first)"),
    KeyHelp("enter", "Attach to the focused agent's pane"),
    KeyHelp("w / tab", "Jump to the next waiting agent"),
    KeyHelp("escape / i / q", "Back to the dashboard"),
)

#: Keys of the review screen (the diff view has the focus).
REVIEW_HELP: tuple[KeyHelp, ...] = (
    KeyHelp("j / down, k / up", "Move the cursor a line down / up"),
    KeyHelp("pageup / pagedown", "Move a page up / down"),
    KeyHelp("home / end", "The file's first / last line"),
    KeyHelp("left / right", "Scroll long lines sideways"),
    KeyHelp("] / J, [ / K", "Next / previous hunk (on into the next / previous file)"),
    KeyHelp("n / tab, p / shift+tab", "Next / previous file (or click one in the list)"),
    KeyHelp("c", "Comment on the line under the cursor; the agent gets it as a message"),
    KeyHelp("C / shift+c", "Run the check (while one runs: cancel it); shown on the 2nd line"),
    KeyHelp("o", "Show / hide the check's output"),
    KeyHelp("g", "Land the branch: merge, squash or rebase; then offers to remove the agent"),
    KeyHelp("P / shift+p", "Push the branch and open a pull request (or say how)"),
    KeyHelp("r", "Read the diff again"),
    KeyHelp("escape / q", "Back to the dashboard"),
)

#: Keys inside the dialogs.
DIALOG_HELP: tuple[KeyHelp, ...] = (
    KeyHelp(
        "ctrl+s", "New agent: start it (or enter in the last field); message, comment: send it"
    ),
    KeyHelp("1 / 2 / 3, enter", "Land: choose merge / squash / rebase; land"),
    KeyHelp("s", "Merge conflict: send it to the agent to resolve"),
    KeyHelp("c", "Pushed: copy what the push said"),
    KeyHelp("tab / shift+tab", "Move between fields"),
    KeyHelp("y / n", "Answer a yes/no question"),
    KeyHelp(
        "enter", "Press the focused button; confirm a typed name; send a reply (message: new line)"
    ),
    KeyHelp("escape", "Close a dialog or this help without doing anything"),
)

#: The command-line interface, for people who prefer scripts.
CLI_HELP: tuple[KeyHelp, ...] = (
    KeyHelp("quarterdeck", "Open (or re-attach to) this dashboard in its tmux session"),
    KeyHelp("quarterdeck new PROMPT", "Start agents (--agent KIND, --name, --base, -n COUNT)"),
    KeyHelp("quarterdeck ls", "List agents and their status"),
    KeyHelp("quarterdeck attach NAME", "Attach to an agent's pane"),
    KeyHelp("quarterdeck stop NAME", "Stop an agent"),
    KeyHelp("quarterdeck rm NAME", "Remove an agent (keeps an archive ref of its branch)"),
    KeyHelp("quarterdeck send NAME TEXT", "Message agents (a,b or all; --interrupt; - = stdin)"),
    KeyHelp("quarterdeck answer NAME OPTION", "Answer a dialog: number, y, n, label, or --text"),
    KeyHelp("quarterdeck wait NAME --until S", "Wait for idle, needs_input or exited (exit code)"),
    KeyHelp("quarterdeck demo", "A live fleet of demo agents, offline"),
    KeyHelp("quarterdeck dashboard", "This dashboard, in the current terminal"),
)
