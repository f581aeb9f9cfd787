"""The dashboard's keys, in one place: bindings, how the help is made from bindings, and tmux
key names for humans.

A binding says what it does in its ``tooltip`` (the footer shows it on hover); the help screen's
sections are made of those (`binding_help`), every screen's from its own bindings, so a key
cannot be bound without being explained. Textual's own bindings get what they mean here by
action (`TEXTUAL_TOOLTIPS`, `TABLE_SCROLL_TOOLTIPS`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from itertools import groupby

from textual.app import App
from textual.binding import Binding, BindingType
from textual.dom import DOMNode
from textual.keys import key_to_character

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
_TASKS = "Task board: tasks, what they wait on, their attempts; add, start, compare"


#: What escape says in every dialog.
CLOSE = "Close a dialog or this help without doing anything"
#: What q says in the dialogs that are only read.
CLOSE_READ = "Close what you read: why this status, a conflict, what a push said, this help"


def binding_help(
    bindings: Iterable[BindingType], tooltips: Mapping[str, str] | None = None
) -> tuple[KeyHelp, ...]:
    """The help's lines for ``bindings``: one per binding that says what it does (its
    ``tooltip``, or for a binding of Textual's own the one ``tooltips`` gives its action), keys
    as Textual names them (a single key's ``key_display`` if it has one, ``]`` for
    ``right_square_bracket``).

    A binding's keys share its line (``j / down``); consecutive bindings that say the same
    share lines too: one when each has one key (``M / shift+m``), else one per key position
    (``home / end``, then ``ctrl+home / ctrl+end``). A binding that says nothing is left out:
    it may only be a variant of one that does (``2`` to ``9`` beside ``1``, whose
    ``key_display`` shows them all); ``tests/ui/test_help.py`` fails for any other.
    """
    lines: list[KeyHelp] = []
    described = [b for b in _described(bindings, tooltips or {}) if b.tooltip]
    for description, group in groupby(described, key=lambda b: b.tooltip):
        keys = [_binding_keys(b) for b in group]
        widths = {len(k) for k in keys}
        if len(keys) > 1 and len(widths) == 1 and (width := widths.pop()) > 1:
            for i in range(width):
                lines.append(KeyHelp(" / ".join(k[i] for k in keys), description))
        else:
            lines.append(KeyHelp(" / ".join(key for k in keys for key in k), description))
    return tuple(lines)


def merged_help(*parts: Iterable[KeyHelp]) -> tuple[KeyHelp, ...]:
    """``parts`` as one list in which lines that say the same are one line with all their keys
    (every dialog's ``escape`` is one line)."""
    keys: dict[str, list[str]] = {}
    for line in (line for part in parts for line in part):
        shown = keys.setdefault(line.description, [])
        shown.extend(k for k in line.keys.split(" / ") if k not in shown)
    return tuple(KeyHelp(" / ".join(k), description) for description, k in keys.items())


def own_bindings(node: type[DOMNode]) -> list[Binding]:
    """The bindings ``node`` declares itself, and those of its bases in this product."""
    return [
        b
        for cls in reversed(node.__mro__)
        if cls.__module__.startswith("app.")
        for b in _bindings(cls)
        if not _overridden(b, node, cls)
    ]


def inherited_bindings(node: type[DOMNode]) -> list[Binding]:
    """The bindings ``node`` inherits from Textual's classes and does not bind over."""
    return [
        b
        for cls in reversed(node.__mro__)
        if not cls.__module__.startswith("app.")
        for b in _bindings(cls)
        if not _overridden(b, node, cls)
    ]


def key_hints(bindings: Iterable[BindingType], words: Mapping[str, str]) -> str:
    """``i inbox · w next``: the first key of the binding of each action in ``words``, then its
    word, in the order of ``words``."""
    first = {b.action: _binding_keys(b)[0] for b in _described(bindings, {})}
    return " · ".join(f"{first[action]} {word}" for action, word in words.items())


def _described(bindings: Iterable[BindingType], tooltips: Mapping[str, str]) -> list[Binding]:
    """``bindings`` as `Binding` objects, each with the tooltip ``tooltips`` gives its action
    (what Textual's own binding means here), else its own."""
    found = [b if isinstance(b, Binding) else Binding(*b) for b in bindings]
    return [replace(b, tooltip=tooltips[b.action]) if b.action in tooltips else b for b in found]


def _bindings(cls: type) -> list[Binding]:
    """The bindings ``cls`` declares in its own body (not those it inherits)."""
    return _described(cls.__dict__.get("BINDINGS", []), {})


def _overridden(binding: Binding, node: type[DOMNode], owner: type) -> bool:
    """Whether a class between ``node`` and ``owner`` binds one of ``binding``'s keys again, or
    does not inherit bindings at all (Textual then keeps only the subclass's)."""
    keys = set(binding.key.split(","))
    for cls in node.__mro__:
        if cls is owner:
            return False
        if keys & {k for b in _bindings(cls) for k in b.key.split(",")}:
            return True
        if not cls.__dict__.get("_inherit_bindings", True):
            return True
    return False


def _binding_keys(binding: Binding) -> list[str]:
    keys = binding.key.split(",")
    if len(keys) == 1 and binding.key_display:
        return [binding.key_display]
    return [_key_name(key) for key in keys]


def _key_name(key: str) -> str:
    """``]`` for ``right_square_bracket``; names of keys that print nothing stay names."""
    character = key_to_character(key) if len(key) > 1 else None
    if character is None or not character.isprintable() or character.isspace():
        return key
    return character


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

#: What a scrolling widget's own keys (left, right, ctrl+pageup, ctrl+pagedown) do on the table.
TABLE_SCROLL_TOOLTIPS: dict[str, str] = {
    "scroll_left": "Scroll the table sideways",
    "scroll_right": "Scroll the table sideways",
    "page_left": "Scroll the table sideways by a page",
    "page_right": "Scroll the table sideways by a page",
}

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
    Binding("T,shift+t", "app.task_board", "Tasks", key_display="T", tooltip=_TASKS),
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

#: What Textual's own keys on every screen and on the app do here, by action (its ``ctrl+c``
#: on the app only says how to quit; the screen's copy key answers first).
TEXTUAL_TOOLTIPS: dict[str, str] = {
    "command_palette": "Command palette (also switches themes)",
    "app.focus_next": "Move the focus",
    "app.focus_previous": "Move the focus",
    "screen.copy_text": "Copy selected text",
    "quit": "Quit the dashboard, from any screen (agents keep running)",
}

#: Textual's command palette key as a binding (Textual binds `App.COMMAND_PALETTE_BINDING`).
COMMAND_PALETTE = Binding(App.COMMAND_PALETTE_BINDING, "command_palette", "Palette", show=False)

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
