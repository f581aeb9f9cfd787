"""The help screen against the keys: each section lists exactly the keys its screen binds, so a
key bound without being explained, or explained without being bound, fails here."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable
from typing import Any

from textual.binding import Binding
from textual.keys import key_to_character
from textual.screen import ModalScreen, Screen

import app.ui
from app.ui.dialogs.help import (
    ATTEMPTS_DIFF_SECTION,
    BOARD_SECTION,
    COMPARE_SECTION,
    DIALOGS,
    HelpScreen,
    help_sections,
)
from app.ui.inbox.screen import InboxScreen
from app.ui.keys import KeyHelp, binding_help, key_hints
from app.ui.review.screen import ReviewScreen
from app.ui.tasks.board import TaskBoardScreen
from app.ui.tasks.compare import AttemptDiffScreen, CompareScreen
from app.ui.widgets.inbox_strip import STRIP_KEYS
from tests.ui.fakes import FakePort, make_row, wait_until, waiting_rows
from tests.ui.test_dashboard import SIZE, make_app
from tests.ui.test_review import open_review, review_port
from tests.ui.test_task_board import board_app, board_port, open_board, open_compare

#: Textual's actions on every screen, listed once at the end of the dashboard's section.
EVERYWHERE = frozenset(
    {"screen.copy_text", "quit", "help_quit", "command_palette", "app.command_palette"}
)
#: Textual's focus keys, which the dialogs' section lists again (as moving between fields).
FOCUS = frozenset({"app.focus_next", "app.focus_previous"})


def _expand(shown: str) -> set[str]:
    """The keys one shown name stands for: ``1…9`` and ``1/2/3`` are each key they list."""
    if "…" in shown and len(shown) == 3:
        first, last = shown.split("…")
        return {chr(c) for c in range(ord(first), ord(last) + 1)}
    if "/" in shown and shown != "/":
        return set(shown.split("/"))
    return {shown}


def shown_keys(lines: Iterable[KeyHelp]) -> set[str]:
    """Every key the help's ``lines`` name, as they print (``]``, ``shift+j``, ``escape``)."""
    return {key for line in lines for part in line.keys.split(" / ") for key in _expand(part)}


def printed(key: str) -> str:
    """A Textual key name as the help prints it: ``]`` for ``right_square_bracket``."""
    character = key_to_character(key) if len(key) > 1 else None
    if character is None or not character.isprintable() or character.isspace():
        return key
    return character


def section(title: str) -> tuple[KeyHelp, ...]:
    """The help's section titled ``title``."""
    return dict(help_sections("Ctrl-q"))[title]


def bound_keys(screen: Screen[Any], *, besides: frozenset[str] = frozenset()) -> set[str]:
    """Every key that does something on ``screen`` now (its focused widget's, its own, the
    app's), but those bound to one of the actions ``besides``."""
    return {
        printed(key)
        for key, active in screen.active_bindings.items()
        if active.binding.action not in besides
    }


async def test_the_dashboard_section_lists_exactly_the_dashboards_keys() -> None:
    app = make_app(FakePort(rows=[make_row("alpha")]))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert bound_keys(app.screen) == shown_keys(section("Dashboard"))


async def test_the_inbox_section_lists_exactly_the_inbox_keys() -> None:
    app = make_app(FakePort(rows=waiting_rows()))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("i")
        await wait_until(pilot, lambda: isinstance(app.screen, InboxScreen))
        await pilot.pause()
        bound = bound_keys(app.screen, besides=EVERYWHERE | FOCUS)
        assert bound == shown_keys(section("Inbox (i)"))


async def test_the_review_section_lists_exactly_the_review_keys() -> None:
    app = make_app(review_port())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        bound = bound_keys(screen, besides=EVERYWHERE | FOCUS)
        assert bound == shown_keys(section("Review (v)"))


async def test_the_task_board_sections_list_exactly_their_screens_keys() -> None:
    port = board_port()
    app = board_app(port)
    async with app.run_test(size=SIZE) as pilot:
        board = await open_board(pilot)
        assert bound_keys(board, besides=EVERYWHERE | FOCUS) == shown_keys(section(BOARD_SECTION))
        await pilot.press("escape")
        compare = await open_compare(pilot)
        bound = bound_keys(compare, besides=EVERYWHERE | FOCUS)
        assert bound == shown_keys(section(COMPARE_SECTION))
        await pilot.press("d", "down", "d")
        await wait_until(pilot, lambda: isinstance(app.screen, AttemptDiffScreen))
        await pilot.pause()
        bound = bound_keys(app.screen, besides=EVERYWHERE | FOCUS)
        assert bound == shown_keys(section(ATTEMPTS_DIFF_SECTION))
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        assert help_screen.section == ATTEMPTS_DIFF_SECTION


def test_the_dialogs_section_lists_exactly_the_dialogs_keys() -> None:
    dialogs: tuple[type[ModalScreen[Any]], ...] = (*DIALOGS, HelpScreen)
    bound = {
        printed(key)
        for dialog in dialogs
        for key, bindings in dialog._merge_bindings().key_to_bindings.items()
        if any(binding.action not in EVERYWHERE for binding in bindings)
    }
    assert bound == shown_keys(section("Dialogs"))


def _modal_screens() -> set[type[ModalScreen[Any]]]:
    """Every modal screen class the modules under `app.ui` define."""
    for module in pkgutil.walk_packages(app.ui.__path__, "app.ui."):
        importlib.import_module(module.name)
    found: set[type[ModalScreen[Any]]] = set()
    todo: list[type[ModalScreen[Any]]] = [ModalScreen]
    while todo:
        for cls in todo.pop().__subclasses__():
            todo.append(cls)
            if cls.__module__.startswith("app.ui."):
                found.add(cls)
    return found


def test_every_dialog_is_in_the_help() -> None:
    dialogs = _modal_screens()
    described = {
        *DIALOGS,
        HelpScreen,
        InboxScreen,
        ReviewScreen,
        TaskBoardScreen,
        CompareScreen,
        AttemptDiffScreen,
    }
    abstract = {cls for cls in dialogs if any(issubclass(d, cls) and d is not cls for d in dialogs)}
    assert dialogs - abstract == described - abstract


def test_a_binding_that_says_nothing_is_not_in_the_help() -> None:
    """What the checks above catch: a key bound with no tooltip the help cannot list."""
    lines = binding_help([Binding("z", "zap", "Zap"), Binding("y", "yes", "Yes", tooltip="Yes")])
    assert shown_keys(lines) == {"y"}


def test_the_inbox_strip_names_the_keys_the_dashboard_binds() -> None:
    assert STRIP_KEYS == "i inbox · w next"
    rebound = [Binding("I", "inbox", "Inbox"), Binding("W,tab", "next_waiting", "Next")]
    assert key_hints(rebound, {"inbox": "inbox", "next_waiting": "next"}) == "I inbox · W next"
