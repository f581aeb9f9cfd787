"""The diff view and the review screen's loading of diffs: a reload draws the new diff (not
lines cached from the old one), very long lines are cut for display only, and a superseded
load cannot replace a newer diff. Driven through Pilot against the fake port."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import pytest
from pygments.lexer import Lexer  # type: ignore[import-untyped]
from rich.text import Text
from textual.message import Message

from app.core.diff import AgentDiff, FileChange, FileDiff, parse_hunks
from app.ui.review.comment import CommentScreen
from app.ui.review.screen import ReviewScreen
from app.ui.widgets import diff_view
from app.ui.widgets.diff_view import MAX_LINE_CHARS, TokenStyles
from tests.ui.fakes import FakePort, sample_diff, twelve_rows, wait_until
from tests.ui.test_dashboard import SIZE, make_app
from tests.ui.test_review import AGENT, open_review, review_port


def one_file(path: str, hunks: str) -> AgentDiff:
    """A diff of one modified file with the hunks in ``hunks`` (git's text)."""
    parsed = parse_hunks(hunks)
    added = sum(h.added for h in parsed)
    removed = sum(h.removed for h in parsed)
    return AgentDiff(
        base_commit="2" * 40,
        commits=1,
        files=(FileDiff(path, FileChange.MODIFIED, added, removed, hunks=parsed),),
    )


def drawn(view: diff_view.DiffView, y: int) -> str:
    """Line ``y`` of the view as drawn (the view is scrolled to its top)."""
    return view.render_line(y).text


# -- a reload draws the new diff -----------------------------------------------------------


async def test_a_reload_draws_the_new_lines_not_the_cached_old_ones() -> None:
    port = review_port()
    port.diffs[AGENT] = one_file("src/app.py", "@@ -1,2 +1,2 @@\n-OLD one\n+OLD two\n")
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        view = screen.view
        assert "OLD one" in drawn(view, 1)
        assert "OLD two" in drawn(view, 2)
        # The same file (same place in the list), other lines.
        port.diffs[AGENT] = one_file("src/app.py", "@@ -1,2 +1,2 @@\n-NEW one\n+NEW two\n")
        await pilot.press("r")
        await wait_until(pilot, lambda: view.line_text(1) == "-NEW one")
        await pilot.pause()
        assert "NEW one" in drawn(view, 1)
        assert "NEW two" in drawn(view, 2)
        assert "OLD" not in drawn(view, 1) + drawn(view, 2)


async def test_a_reload_with_a_longer_hunk_draws_every_line() -> None:
    """The old highlighted chunk had 2 lines; the new hunk has 12: drawing line 12 must not
    look into the old chunk (it raised IndexError and ended the app)."""
    port = review_port()
    port.diffs[AGENT] = one_file("src/app.py", "@@ -1,1 +1,1 @@\n-short = 1\n+short = 2\n")
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        view = screen.view
        assert "short = 2" in drawn(view, 2)
        longer = "".join(f"+line_{n} = {n}\n" for n in range(12))
        port.diffs[AGENT] = one_file("src/app.py", f"@@ -0,0 +1,12 @@\n{longer}")
        await pilot.press("r")
        await wait_until(pilot, lambda: view.line_count == 13)
        await pilot.pause()
        for y in range(1, 13):
            assert f"line_{y - 1} = {y - 1}" in drawn(view, y)
        assert app.is_running and app.return_code is None


async def test_going_back_to_a_file_of_the_same_diff_keeps_its_drawn_lines() -> None:
    """The caches still serve a file seen before in the same diff (no highlighting again)."""
    port = review_port()
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        view = screen.view
        calls: list[int] = []
        real = diff_view.highlight_lines

        def counting(lexer: Lexer | None, lines: Sequence[str], styles: TokenStyles) -> list[Text]:
            calls.append(len(lines))
            return real(lexer, lines, styles)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(diff_view, "highlight_lines", counting)
            await pilot.press("n")
            await pilot.pause()
            seen = len(calls)
            assert seen > 0  # docs/login.md was new
            await pilot.press("p", "n")
            await pilot.pause()
            assert len(calls) == seen
            assert "Passwords are compared" in drawn(view, 3)


# -- very long lines -----------------------------------------------------------------------


LONG = 300_000


def minified_diff() -> AgentDiff:
    """A minified script: one added line of more than `LONG` characters between short ones."""
    body = "var a=[" + ",".join(f'"{n:05d}"' for n in range(LONG // 8)) + "];"
    assert len(body) > LONG
    return one_file("dist/app.min.js", f"@@ -1,2 +1,3 @@\n first();\n+{body}\n last();\n")


async def test_a_very_long_line_is_cut_for_display_but_quoted_in_full() -> None:
    port = review_port()
    diff = minified_diff()
    port.diffs[AGENT] = diff
    full = diff.files[0].hunks[0].lines[1]
    handed: list[int] = []
    real = diff_view.highlight_lines

    def measuring(lexer: Lexer | None, lines: Sequence[str], styles: TokenStyles) -> list[Text]:
        handed.append(sum(len(line) for line in lines))
        return real(lexer, lines, styles)

    app = make_app(port)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(diff_view, "highlight_lines", measuring)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_review(pilot)
            view = screen.view
            # The highlighter saw the cut line (both sides of the chunk), not the whole of it.
            assert handed
            assert sum(handed) <= 2 * (MAX_LINE_CHARS + 100)
            # The view is as wide as the cut line and its marker, not the whole line.
            assert view.virtual_size.width <= MAX_LINE_CHARS + 100
            hidden = len(full) - 1 - MAX_LINE_CHARS
            assert drawn(view, 2).startswith("      2 + var a=[")
            # Scrolled to the end of the line: the marker says how much is not shown.
            view.scroll_to(x=view.max_scroll_x, animate=False, force=True)
            await pilot.pause()
            assert f"… ({hidden:,} more characters)" in drawn(view, 2)
            # Focus and width changes draw the line again, from the cut text: still bounded.
            view.blur()
            await pilot.pause()
            view.focus()
            await pilot.resize_terminal(SIZE[0] - 20, SIZE[1])
            await pilot.pause()
            assert sum(handed) <= 2 * (MAX_LINE_CHARS + 100)
            # The text of the line, what a comment quotes, is the whole line.
            assert view.line_text(2) == full
            await pilot.press("j", "j", "c")
            await wait_until(pilot, lambda: isinstance(app.screen, CommentScreen))
            form = app.screen
            assert isinstance(form, CommentScreen)
            assert form.quoted == full
            await pilot.press(*"unminify", "ctrl+s")
            await wait_until(pilot, lambda: bool(port.comments))
            [(_, comment)] = port.comments
            assert full in comment.message()


def test_a_cut_line_keeps_the_start_and_counts_the_rest() -> None:
    code, hidden = diff_view.display_code("x" * (MAX_LINE_CHARS + 5))
    assert code == "x" * MAX_LINE_CHARS and hidden == 5
    assert diff_view.display_code("a\tb") == ("a   b", 0)
    assert diff_view.display_code("y" * MAX_LINE_CHARS) == ("y" * MAX_LINE_CHARS, 0)


# -- a superseded load ---------------------------------------------------------------------


@dataclass
class HeldPort(FakePort):
    """A fake port whose `diff` answers what `diffs` held when it was called, after waiting on
    the next of ``holds`` (if any): a test decides the order in which loads finish."""

    holds: list[threading.Event] = field(default_factory=list)
    started: int = 0

    def diff(self, name: str) -> AgentDiff:
        answer = self.diffs[name]
        hold = self.holds.pop(0) if self.holds else None
        self.started += 1
        if hold is not None:
            hold.wait(timeout=10)
        return answer


class Marker(Message):
    """Posted to the screen behind another message: once it is handled, so is that one."""


async def test_an_older_diff_arriving_late_does_not_replace_the_newer_one() -> None:
    port = HeldPort(rows=twelve_rows())
    port.diffs[AGENT] = sample_diff()
    seen: list[Message] = []
    app = make_app(port)
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        screen = await open_review(pilot)
        assert port.started == 1
        # A reload that is held: it took the old diff and will answer it late.
        old = replace(sample_diff(), files=sample_diff().files[:1])
        port.diffs[AGENT] = old
        hold = threading.Event()
        port.holds.append(hold)
        await pilot.press("r")
        await wait_until(pilot, lambda: port.started == 2)
        # A second reload answers at once with the newer diff.
        new = replace(sample_diff(), files=sample_diff().files[1:])
        port.diffs[AGENT] = new
        await pilot.press("r")
        await wait_until(pilot, lambda: screen.diff is new)
        assert screen.current_file is not None
        # Now the old answer arrives.
        hold.set()

        def stale_arrived() -> bool:
            return any(isinstance(m, ReviewScreen.DiffLoaded) and m.diff is old for m in seen)

        await wait_until(pilot, stale_arrived)
        marker = Marker()
        screen.post_message(marker)
        await wait_until(pilot, lambda: marker in seen)
        await pilot.pause()
        assert screen.diff is new
        assert len(screen.file_list.options) == len(new.files)
        assert screen.current_file is not None
        assert screen.current_file.path == new.files[screen.file_index].path
