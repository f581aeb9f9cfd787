"""The dashboard's keys, in one place: bindings, their help text, and tmux key names for humans."""

from __future__ import annotations

from dataclasses import dataclass

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


#: Keys of the agent table, on top of a scrolling widget's own (left/right and
#: ctrl+pageup/ctrl+pagedown scroll sideways).
TABLE_BINDINGS: list[Binding] = [
    Binding("enter", "app.attach", "Attach"),
    Binding("j,down", "cursor_down", "Down", show=False),
    Binding("k,up", "cursor_up", "Up", show=False),
    Binding("pagedown", "page_down", "Page down", show=False),
    Binding("pageup", "page_up", "Page up", show=False),
    Binding("home,ctrl+home", "scroll_top", "First", show=False),
    Binding("end,ctrl+end", "scroll_bottom", "Last", show=False),
]

#: Every key of the dashboard, for the help screen, with Textual's key names.
DASHBOARD_HELP: tuple[KeyHelp, ...] = (
    KeyHelp("j / down", "Select the next agent"),
    KeyHelp("k / up", "Select the previous agent"),
    KeyHelp("pageup / pagedown", "Move the selection a page up / down"),
    KeyHelp("home / end", "Select the first / last agent"),
    KeyHelp("ctrl+home / ctrl+end", "Select the first / last agent"),
    KeyHelp("left / right", "Scroll the table sideways"),
    KeyHelp("ctrl+pageup / ctrl+pagedown", "Scroll the table sideways by a page"),
    KeyHelp("enter", "Attach to the selected agent's pane"),
    KeyHelp("i", "Inbox: the agents waiting on you, oldest first, answered in place"),
    KeyHelp("w", "Select the next agent waiting on you (again: the one after)"),
    KeyHelp("space", "Mark / unmark the selected agent and move down"),
    KeyHelp("escape", "Clear the marks"),
    KeyHelp("m", "Message the marked agents (or the selected one)"),
    KeyHelp("M / shift+m", "Message every live agent (broadcast)"),
    KeyHelp("c", "Correct: interrupt the marked/selected agents, then message them"),
    KeyHelp("!", "Interrupt the marked/selected agents now (asks first if several)"),
    KeyHelp("n", "New agent: prompt, kind, name, base branch"),
    KeyHelp("x", "Stop the selected agent: ends its process tree (asks first)"),
    KeyHelp("v", "Review its changes: files, hunks, its check; comment, land, push"),
    KeyHelp("C / shift+c", "Run its check (while one runs: cancel it, asks first)"),
    KeyHelp("g", "Land its branch in its base: merge, squash or rebase (asks)"),
    KeyHelp("P / shift+p", "Push its branch and open a pull request (or say how)"),
    KeyHelp("d", "Discard/remove: its worktree, window and branch (asks first)"),
    KeyHelp("e", "Why this status? The evidence and the agent's trail of signals"),
    KeyHelp("1/2/3/4/5/6/7/8/9", "Answer the selected agent's dialog with that option (verified)"),
    KeyHelp("t", "Switch to the next theme"),
    KeyHelp("ctrl+p", "Command palette (also switches themes)"),
    KeyHelp("tab / shift+tab", "Move the focus"),
    KeyHelp("ctrl+c / super+c", "Copy selected text"),
    KeyHelp("?", "This help"),
    KeyHelp("q / ctrl+q", "Quit the dashboard (agents keep running)"),
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
