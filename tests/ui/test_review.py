"""Reviewing and landing an agent's work, driven by keys through Pilot against the fake port:
the table's review columns, the diff screen, comments, checks, landing, conflicts, pushing."""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import replace

import pytest
from rich.style import Style
from textual import events
from textual.content import Content
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widgets import TextArea

from app.core.checks import CheckResult, CheckState, CheckSummary
from app.core.diff import AgentDiff
from app.core.errors import BaseCheckedOutError, CheckRefusalError, QuarterdeckError
from app.core.landing import MergeOutcome, MergeStrategy
from app.core.status import Status
from app.ui.app import QuarterdeckApp
from app.ui.dialogs.confirm import ConfirmScreen
from app.ui.dialogs.evidence import EvidenceScreen
from app.ui.dialogs.help import HelpScreen
from app.ui.dialogs.land import ConflictScreen, LandScreen, TextScreen
from app.ui.review.comment import CommentScreen
from app.ui.review.screen import ReviewScreen
from app.ui.widgets.agent_table import OVERLAP_GLYPH, check_cell, diff_cell
from tests.ui.fakes import (
    NOW,
    FakePort,
    big_diff,
    make_row,
    sample_diff,
    twelve_rows,
    wait_for_screen,
    wait_until,
)
from tests.ui.test_dashboard import SIZE, cell, make_app, record_notifications

AGENT = "fix-login-bug"


def review_port(**kwargs: object) -> FakePort:
    """Twelve agents; the first one (selected at start) changed `sample_diff`."""
    port = FakePort(rows=twelve_rows(), **kwargs)  # type: ignore[arg-type]
    port.diffs[AGENT] = sample_diff()
    return port


async def open_review(pilot: Pilot[None]) -> ReviewScreen:
    """Press v and wait for the diff."""
    await pilot.press("v")
    return await wait_for_screen(pilot, ReviewScreen, lambda screen: screen.loaded)


def file_names(screen: ReviewScreen) -> list[str]:
    """The file list as shown."""
    options = screen.file_list.options
    return [str(option.prompt) for option in options]


def cursor_text(screen: ReviewScreen) -> str:
    return screen.view.line_text(screen.view.cursor)


# -- the table -----------------------------------------------------------------------------


async def test_the_table_shows_files_checks_and_overlaps() -> None:
    port = FakePort(rows=twelve_rows())
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert cell(app, "refactor-db-layer", "diff") == "+230 −118 14f"
        assert cell(app, "fix-login-bug", "diff") == "+12 −3 1f"
        assert cell(app, "bump-deps", "diff") == "·"
        assert cell(app, "fix-login-bug", "check") == "⋯"
        assert cell(app, "docs-api", "check") == "✓ 12s"
        assert cell(app, "refactor-db-layer", "check") == f"✗ 41s {OVERLAP_GLYPH}"
        assert cell(app, "type-hints", "check") == f"  {OVERLAP_GLYPH}"
        assert cell(app, "bump-deps", "check") == ""
        # The preview says which agents overlap, and the check.
        app.dashboard.table.select_name("refactor-db-layer")
        await pilot.pause()
        subtitle = str(app.dashboard.preview.border_subtitle)
        assert "check failed 41s" in subtitle
        assert f"{OVERLAP_GLYPH} overlaps type-hints" in subtitle
        # So does e.
        await pilot.press("e")
        await wait_for_screen(pilot, EvidenceScreen)
        text = str(app.screen.query_one("#evidence-review").render())
        assert "Changes: 14 files, +230 −118" in text
        assert "Check: failed 41s" in text
        assert f"{OVERLAP_GLYPH} Touches the same files as: type-hints" in text


def test_a_narrow_diff_column_drops_the_file_count_first() -> None:
    row = make_row("a", added=230, removed=118, files=14)

    def plain(_variable: str) -> Style:
        return Style()

    assert str(diff_cell(row, plain)) == "+230 −118 14f"
    assert str(diff_cell(row, plain, 13)) == "+230 −118 14f"
    assert str(diff_cell(row, plain, 12)) == "+230 −118"
    assert str(diff_cell(make_row("b", files=2), plain)) == "+0 −0 2f"


async def test_a_new_check_state_repaints_the_row() -> None:
    port = FakePort(rows=twelve_rows())
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        port.push_from_thread(
            replace(r, check=CheckSummary(CheckState.PASSED, 3.0), overlap=())
            if r.name == "refactor-db-layer"
            else r
            for r in port.rows
        )
        await wait_until(pilot, lambda: cell(app, "refactor-db-layer", "check") == "✓ 3s")
        # A failure's last line of output is in the preview's subtitle.
        port.push_from_thread(
            replace(
                r, check=CheckSummary(CheckState.FAILED, 120.0, "FAILED test_x - assert 1 == 2")
            )
            if r.name == "refactor-db-layer"
            else r
            for r in port.rows
        )
        await wait_until(pilot, lambda: cell(app, "refactor-db-layer", "check") == "✗ 2m")
        app.dashboard.table.select_name("refactor-db-layer")
        await wait_until(
            pilot,
            lambda: (
                "check failed 2m: FAILED test_x - assert 1 == 2"
                in Content.from_markup(str(app.dashboard.preview.border_subtitle)).plain
            ),
        )


def test_a_narrow_check_column_keeps_the_glyphs_and_drops_the_duration() -> None:
    row = make_row("a", check=CheckSummary(CheckState.FAILED, 7800.0), overlap=("b",))

    def plain(_variable: str) -> Style:
        return Style()

    assert str(check_cell(row, plain)) == f"✗ 2h10m {OVERLAP_GLYPH}"
    assert str(check_cell(row, plain, 8)) == f"✗ {OVERLAP_GLYPH}"
    assert str(check_cell(replace(row, overlap=()), plain, 8)) == "✗ 2h10m"
    assert (
        str(check_cell(replace(row, check=CheckSummary(CheckState.CANCELLED)), plain, 8))
        == f"⊘ {OVERLAP_GLYPH}"
    )


# -- the diff screen -----------------------------------------------------------------------


async def test_the_review_loads_in_the_background_then_lists_files_and_hunks() -> None:
    port = review_port(diff_gate=threading.Event())
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("v")
        await wait_for_screen(pilot, ReviewScreen)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        assert not screen.loaded
        assert "loading the diff of fix-login-bug…" in str(
            screen.query_one("#review-loading").render()
        )
        assert port.diff_gate is not None
        port.diff_gate.set()
        await wait_until(pilot, lambda: screen.loaded)
        await pilot.pause()
        assert file_names(screen) == [
            "M src/login.py +5 −2",
            "A docs/login.md +4 −0",
            "M assets/logo.png binary",
            "A data/fixtures.json +9000 −0 large",
            "R src/auth/session.py +1 −1",
        ]
        title = str(screen.query_one("#review-title").render())
        assert "Review fix-login-bug" in title
        assert "2 commits on base 1a2b3c4d" in title
        assert "5 files +9010 −3" in title
        view = screen.view
        assert screen.current_file is not None and screen.current_file.path == "src/login.py"
        assert view.line_text(0) == "@@ -1,6 +1,8 @@"
        assert view.line_text(3) == "-import os"
        assert view.line_text(4) == "+import hashlib"
        assert view.hunk_starts == (0, 9)
        assert "src/login.py" in str(view.border_title)
        assert str(view.border_subtitle) == "file 1/5 · hunk 1/2 · line 1"
        # The lines on screen carry their numbers, signs and code.
        assert view.render_line(3).text.startswith("  3     - import os ")
        assert view.render_line(4).text.startswith("      3 + import hashlib ")
        assert view.render_line(9).text.startswith("          @@ -20,7 +22,9 @@ def login")


async def test_keys_move_through_lines_hunks_and_files() -> None:
    port = review_port()
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        view = screen.view
        await pilot.press("j", "j", "j")
        assert cursor_text(screen) == "-import os"
        assert str(view.border_subtitle) == "file 1/5 · hunk 1/2 · old line 3"
        await pilot.press("k")
        assert view.cursor == 2
        await pilot.press("right_square_bracket")
        assert cursor_text(screen).startswith("@@ -20,7 +22,9 @@")
        await pilot.press("J")  # past the file's last hunk: the next file's first
        assert screen.current_file is not None and screen.current_file.path == "docs/login.md"
        assert cursor_text(screen) == "@@ -0,0 +1,4 @@"
        await pilot.press("K")  # and back
        assert screen.current_file.path == "src/login.py"
        assert cursor_text(screen).startswith("@@ -20,7 +22,9 @@")
        await pilot.press("left_square_bracket")
        assert view.cursor == 0
        await pilot.press("end")
        assert cursor_text(screen) == " def logout(user):"
        await pilot.press("home")
        assert view.cursor == 0
        await pilot.press("n")
        assert screen.current_file.path == "docs/login.md"
        await pilot.press("tab")
        assert screen.current_file.path == "assets/logo.png"
        await pilot.press("p")
        assert screen.current_file.path == "docs/login.md"
        await pilot.press("shift+tab")
        assert screen.current_file.path == "src/login.py"
        assert screen.file_list.highlighted == 0
        await pilot.press("p")  # already the first: stays
        assert screen.current_file.path == "src/login.py"
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ReviewScreen))


async def test_binary_large_and_renamed_files_show_what_they_are() -> None:
    port = review_port()
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        view = screen.view
        await pilot.press("n", "n")
        assert view.line_count == 1
        assert view.line_text(0) == "Binary file changed: 12.0 KiB → 14.5 KiB"
        await pilot.press("n")
        assert view.line_text(0) == "9000 changed lines: too large to show (git diff shows it)"
        await pilot.press("c")  # nothing to comment on
        assert not isinstance(app.screen, CommentScreen)
        await pilot.press("n")
        assert "src/session.py → src/auth/session.py" in str(view.border_title)
        assert view.line_text(3) == "+TTL = 3600"


async def test_a_click_on_a_file_shows_it() -> None:
    port = review_port()
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        await pilot.click("#review-files", offset=(5, 2))
        await wait_until(pilot, lambda: screen.file_index == 1)
        assert screen.view.has_focus


async def test_an_agent_without_changes_says_so() -> None:
    port = review_port()
    port.diffs[AGENT] = AgentDiff(base_commit="0" * 40)
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        text = str(screen.query_one("#review-loading").render())
        assert "has not changed anything against its base yet" in text
        await pilot.press("j", "right_square_bracket", "n", "c")  # nothing breaks
        assert isinstance(app.screen, ReviewScreen)


async def test_r_reads_the_diff_again_and_keeps_the_file() -> None:
    port = review_port()
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        await pilot.press("n", "n", "n", "n")
        diff = sample_diff()
        port.diffs[AGENT] = replace(diff, files=diff.files[1:])
        await pilot.press("r")
        await wait_until(pilot, lambda: len(file_names(screen)) == 4)
        assert screen.current_file is not None
        assert screen.current_file.path == "src/auth/session.py"


async def test_a_10000_line_diff_opens_and_scrolls() -> None:
    """A 10,000-line diff opens, pages and reaches its end. Its figures are printed
    (`pytest -s`); speed is measured by `bench/table_bench.py`'s kind of benchmark, not
    asserted here (a loaded machine would make a timed test flaky)."""
    port = review_port()
    diff = big_diff(10_000)
    port.diffs[AGENT] = diff
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        started = time.perf_counter()
        screen = await open_review(pilot)
        opened = time.perf_counter() - started
        view = screen.view
        assert view.line_count == 10_001
        region = Region(0, 0, view.size.width, view.size.height)
        # The view's own work: show the file and draw what is on screen, nothing cached.
        view.restyle()
        started = time.perf_counter()
        view.show_file(diff.files[0], 0)
        view.render_lines(region)
        work = time.perf_counter() - started
        # A page down, drawn, 40 times (each page new to the caches).
        pages = []
        for _ in range(40):
            started = time.perf_counter()
            view.action_page_down()
            view.render_lines(region)
            pages.append(time.perf_counter() - started)
        # And through the keyboard, end to end.
        keyed = []
        for _ in range(10):
            started = time.perf_counter()
            await pilot.press("pagedown")
            keyed.append(time.perf_counter() - started)
        await pilot.press("end")
        assert view.cursor == 10_000
        ms = 1000
        print(
            f"\n10,000-line diff: open (keys, worker, screen) {opened * ms:.0f} ms; "
            f"file shown and drawn {work * ms:.1f} ms; "
            f"page down drawn: median {statistics.median(pages) * ms:.1f} ms, "
            f"max {max(pages) * ms:.1f} ms; page down key end to end: median "
            f"{statistics.median(keyed) * ms:.0f} ms, max {max(keyed) * ms:.0f} ms"
        )
        assert len(pages) == 40 and len(keyed) == 10


# -- comments ------------------------------------------------------------------------------


async def test_c_comments_on_the_line_under_the_cursor() -> None:
    port = review_port()
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        await pilot.press("right_square_bracket", "j", "j", "j", "j", "j")
        assert cursor_text(screen).startswith("+    # Compare in constant time")
        await pilot.press("c")
        await wait_for_screen(pilot, CommentScreen)
        form = app.screen
        assert isinstance(form, CommentScreen)
        assert form.where == "src/login.py line 25"
        assert "Compare in constant time" in form.quoted
        await pilot.press(*"use hmac for the digest too", "ctrl+s")
        await wait_until(pilot, lambda: bool(port.comments))
        await wait_until(pilot, lambda: app.screen is screen)
        [(name, comment)] = port.comments
        assert name == AGENT
        assert (comment.path, comment.line, comment.text) == (
            "src/login.py",
            25,
            "use hmac for the digest too",
        )
        assert comment.hunk == sample_diff().files[0].hunks[1]


async def test_a_comment_on_a_removed_line_names_it_by_its_old_number() -> None:
    port = review_port()
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        await pilot.press("right_square_bracket", "j", "j", "j", "j")
        assert cursor_text(screen).startswith("-    return record.password == password")
        assert str(screen.view.border_subtitle).endswith("· old line 23")
        await pilot.press("c")
        await wait_for_screen(pilot, CommentScreen)
        form = app.screen
        assert isinstance(form, CommentScreen)
        assert form.where == "src/login.py removed line 23 (old numbering)"
        await pilot.press(*"keep a fallback", "ctrl+s")
        await wait_until(pilot, lambda: bool(port.comments))
        [(_, comment)] = port.comments
        assert comment.index == 3 and comment.hunk.removed_at(3)
        assert "removed line 23" in comment.message()


async def test_a_comment_on_a_hunk_header_and_a_failed_send() -> None:
    port = review_port()
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        await open_review(pilot)
        await pilot.press("c")
        await wait_for_screen(pilot, CommentScreen)
        form = app.screen
        assert isinstance(form, CommentScreen)
        assert form.where == "src/login.py line 1 (the whole hunk)"
        await pilot.press("ctrl+s")  # empty: refused in the form
        assert "empty" in str(form.query_one("#comment-error").render())
        port.steer_error = QuarterdeckError("fix-login-bug has exited")
        await pilot.press(*"why os?", "ctrl+s")
        await wait_until(
            pilot, lambda: "has exited" in str(form.query_one("#comment-error").render())
        )
        assert app.screen is form
        assert form.query_one("#comment-text", TextArea).text == "why os?"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: len(port.comments) == 1)
        assert port.comments[0][1].hunk.header == "@@ -1,6 +1,8 @@"


# -- checks --------------------------------------------------------------------------------


def check(state: CheckState, *, tail: str = "", duration: float = 0.0) -> CheckResult:
    return CheckResult(
        "make check", state, NOW - 4, duration, 1 if state is CheckState.FAILED else None, tail
    )


async def test_shift_c_on_the_dashboard_runs_the_check_and_again_cancels_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = FakePort(rows=[make_row("api"), make_row("web", check=CheckSummary(CheckState.RUNNING))])
    app = make_app(port)
    notes = record_notifications(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("C")
        await wait_until(pilot, lambda: port.checks_run == ["api"])
        await wait_until(pilot, lambda: "information: Check started for api" in notes)
        await pilot.press("j", "shift+c")
        await wait_for_screen(pilot, ConfirmScreen)
        await pilot.press("y")
        await wait_until(pilot, lambda: port.checks_cancelled == ["web"])
        assert port.checks_run == ["api"]


async def test_notifications_show_square_brackets_as_they_are() -> None:
    port = review_port()
    port.rows = [make_row("api")]
    app = make_app(port)

    def refuse(name: str) -> None:
        raise QuarterdeckError('no check command: set [checks] api = "..." or [/bold]')

    port.run_check = refuse  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("C")
        await wait_until(pilot, lambda: bool(app._notifications))
        [note] = list(app._notifications)
        assert (
            note.message
            == 'api: check not started: no check command: set [checks] api = "..." or [/bold]'
        )
        assert not note.markup


async def test_the_review_shows_the_check_and_follows_it_while_it_runs() -> None:
    port = review_port()
    app = make_app(port, check_interval=0.02)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        line = screen.query_one("#review-check")
        assert "no check yet · C runs it" in str(line.render())
        port.check_results[AGENT] = check(CheckState.RUNNING, tail="collecting…")
        await pilot.press("C")
        await wait_until(pilot, lambda: port.checks_run == [AGENT])
        await wait_until(pilot, lambda: "check running" in str(line.render()))
        assert screen.polling
        assert "4.0s · make check" in str(line.render())
        # It fails: the header says so, the output opens, the polling stops.
        port.check_results[AGENT] = check(
            CheckState.FAILED, duration=3.25, tail="\n".join(f"line {n}" for n in range(30))
        )
        await wait_until(pilot, lambda: "check failed" in str(line.render()))
        assert "(exit 1) in 3.2s" in str(line.render())
        assert not screen.polling
        assert screen.has_class("-output")
        output = str(screen.query_one("#check-output").render())
        assert "line 29" in output and "line 15" not in output
        await pilot.press("o")
        assert not screen.has_class("-output")


async def test_a_passed_check_on_another_commit_says_landing_needs_a_new_one() -> None:
    port = review_port()
    port.diffs[AGENT] = replace(sample_diff(), head="b" * 40)
    port.check_results[AGENT] = replace(
        check(CheckState.PASSED, duration=12.4), commit="a" * 40, exit_code=0
    )
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        line = screen.query_one("#review-check")
        await wait_until(pilot, lambda: "check passed" in str(line.render()))
        text = str(line.render())
        assert "in 12.4s · make check on aaaaaaa" in text
        assert "⚠ its latest check passed on aaaaaaa, but the branch is now at bbbbbbb" in text


async def test_shift_c_in_the_review_cancels_a_running_check() -> None:
    port = review_port()
    port.check_results[AGENT] = check(CheckState.RUNNING)
    app = make_app(port, check_interval=0.02)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        await wait_until(pilot, lambda: screen.polling)
        await pilot.press("C")
        await wait_for_screen(pilot, ConfirmScreen)
        await pilot.press("y")
        await wait_until(pilot, lambda: port.checks_cancelled == [AGENT])
        port.check_results[AGENT] = check(CheckState.CANCELLED, duration=5)
        await wait_until(pilot, lambda: not screen.polling)
        assert "check cancelled" in str(screen.query_one("#review-check").render())
        assert port.checks_run == []


# -- landing -------------------------------------------------------------------------------


def chosen(screen: LandScreen) -> MergeStrategy:
    """The strategy the land dialog has chosen now."""
    return screen.strategy


async def test_g_lands_with_the_chosen_strategy_then_offers_removal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = review_port()
    app = make_app(port)
    notes = record_notifications(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("g")
        await wait_for_screen(pilot, LandScreen)
        land = app.screen
        assert isinstance(land, LandScreen)
        assert chosen(land) is MergeStrategy.MERGE
        await pilot.press("2")
        assert chosen(land) is MergeStrategy.SQUASH
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: port.merged == [(AGENT, MergeStrategy.SQUASH, False, False)]
        )
        await wait_until(
            pilot,
            lambda: (
                f"information: Landed {AGENT} in main (one squashed commit), now at fffffff"
                in notes
            ),
        )
        # Removing it is offered at once, by the app's removal flow: nothing would be lost, so
        # a plain question.
        await wait_until(
            pilot,
            lambda: (
                isinstance(app.screen, ConfirmScreen)
                and app.screen.question.startswith(f"Remove {AGENT}?")
            ),
        )
        await pilot.press("y")
        await wait_until(pilot, lambda: port.removed == [(AGENT, False, False)])


async def test_keys_typed_at_once_land_with_the_strategy_they_chose() -> None:
    port = review_port()
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("g")
        await wait_for_screen(pilot, LandScreen)
        land = app.screen
        assert isinstance(land, LandScreen)
        # "3" and Enter in one read from the terminal: both keys queued at once, as the
        # terminal driver posts them.
        app.post_message(events.Key("3", "3"))
        app.post_message(events.Key("enter", "\r"))
        await wait_until(
            pilot, lambda: port.merged == [(AGENT, MergeStrategy.REBASE, False, False)]
        )
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))  # removal
        await pilot.press("n")
        # On the radio set itself: arrows and space choose.
        await pilot.press("g")
        await wait_for_screen(pilot, LandScreen)
        await pilot.press("down", "space", "enter")
        await wait_until(pilot, lambda: port.merged[-1][1] is MergeStrategy.SQUASH)


async def test_landing_from_the_review_then_removing_closes_it() -> None:
    port = review_port()
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        review = await open_review(pilot)
        await pilot.press("g")
        await wait_for_screen(pilot, LandScreen)
        await pilot.press("escape")  # cancelled: nothing merged
        await wait_for_screen(pilot, ReviewScreen)
        assert port.merged == []
        await pilot.press("g")
        await wait_for_screen(pilot, LandScreen)
        await pilot.press("3", "enter")
        await wait_until(
            pilot, lambda: port.merged == [(AGENT, MergeStrategy.REBASE, False, False)]
        )
        await wait_until(
            pilot,
            lambda: (
                isinstance(app.screen, ConfirmScreen)
                and app.screen.question.startswith(f"Remove {AGENT}?")
            ),
        )
        await pilot.press("n")  # kept: back to the review
        await wait_until(pilot, lambda: app.screen is review)
        assert port.removed == []
        await pilot.press("g")
        await wait_for_screen(pilot, LandScreen)
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(port.merged) == 2)
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: port.removed == [(AGENT, False, False)])
        assert not any(isinstance(s, ReviewScreen) for s in app.screen_stack)


async def test_a_merge_refused_by_the_check_can_be_forced_after_asking() -> None:
    port = review_port()
    port.steer_error = CheckRefusalError(
        "fix-login-bug's check failed on its current commit: fix it, or land it anyway"
    )
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("g")
        await wait_for_screen(pilot, LandScreen)
        await pilot.press("enter")
        await wait_until(
            pilot,
            lambda: (
                isinstance(app.screen, ConfirmScreen)
                and "without a passing check" in app.screen.question
            ),
        )
        question = app.screen.question  # type: ignore[attr-defined]
        assert "check failed on its current commit" in question
        assert port.merged == []
        await pilot.press("y")
        await wait_until(pilot, lambda: port.merged == [(AGENT, MergeStrategy.MERGE, True, False)])


async def test_a_checked_out_base_is_landed_only_when_its_worktree_may_move_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = review_port()
    checked_out = BaseCheckedOutError("main is checked out in /src/acme: …", "main", "/src/acme")
    port.merge_refusals = [checked_out, checked_out]
    app = make_app(port)
    notes = record_notifications(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for answer in ("n", "y"):
            await pilot.press("g")
            await wait_for_screen(pilot, LandScreen)
            await pilot.press("enter")
            await wait_until(
                pilot,
                lambda: (
                    isinstance(app.screen, ConfirmScreen) and "/src/acme" in app.screen.question
                ),
            )
            question = app.screen.question  # type: ignore[attr-defined]
            assert "base, main, is checked out in /src/acme" in question
            assert "bring that worktree forward" in question
            await pilot.press(answer)
        # No: nothing merged. Yes: merged with leave to move the worktree (and only that).
        await wait_until(pilot, lambda: port.merged == [(AGENT, MergeStrategy.MERGE, False, True)])
        await wait_until(pilot, lambda: any("/src/acme moved with it" in n for n in notes))


async def test_leave_to_move_the_worktree_is_kept_when_the_check_is_overridden_too() -> None:
    port = review_port()
    port.merge_refusals = [
        BaseCheckedOutError("main is checked out in /src/acme: …", "main", "/src/acme"),
        CheckRefusalError("fix-login-bug's check failed on its current commit"),
    ]
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("g")
        await wait_for_screen(pilot, LandScreen)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(
            pilot,
            lambda: (
                isinstance(app.screen, ConfirmScreen)
                and "without a passing check" in app.screen.question
            ),
        )
        await pilot.press("y")
        await wait_until(pilot, lambda: port.merged == [(AGENT, MergeStrategy.MERGE, True, True)])


async def test_a_merge_refused_for_another_reason_is_explained_not_forced() -> None:
    port = review_port()
    refusal = (
        "fix-login-bug has 1 uncommitted or untracked file (wip.txt): a merge takes only "
        "commits, so they would not be merged. Commit them in /wt/fix-login-bug first"
    )
    port.steer_error = QuarterdeckError(refusal)
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("g")
        await wait_for_screen(pilot, LandScreen)
        await pilot.press("enter")
        await wait_for_screen(pilot, TextScreen)
        area = app.screen.query_one("#text-body", TextArea)
        assert area.text == refusal  # to read, and to copy from
        assert str(app.screen.query_one("#land-box").border_title) == f"{AGENT} not landed"
        assert port.merged == []
        await pilot.press("escape")
        await wait_until(pilot, lambda: len(app.screen_stack) == 1)


async def test_a_conflict_lists_the_files_and_s_sends_it_to_the_agent() -> None:
    port = review_port()
    port.merge_outcomes[AGENT] = MergeOutcome(
        MergeStrategy.MERGE,
        "main",
        False,
        conflicts=("src/login.py", "tests/test_login.py"),
        message="CONFLICT (content): Merge conflict in src/login.py",
    )
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("g")
        await wait_for_screen(pilot, LandScreen)
        await pilot.press("enter")
        await wait_for_screen(pilot, ConflictScreen)
        text = str(app.screen.query_one("#conflicts").render())
        assert "src/login.py" in text and "tests/test_login.py" in text
        question = str(app.screen.query_one("#land-question").render())
        assert "2 files conflict. Nothing was changed." in question
        await pilot.press("s")
        await wait_until(pilot, lambda: port.conflicts_sent == [AGENT])


# -- pushing -------------------------------------------------------------------------------


async def test_shift_p_pushes_and_shows_what_the_port_said(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = review_port()
    app = make_app(port)
    copied: list[str] = []
    monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("P")
        await wait_for_screen(pilot, TextScreen)
        assert port.pushed == [AGENT]
        area = app.screen.query_one("#text-body", TextArea)
        assert area.text == f"pushed qd/{AGENT}"
        assert area.read_only
        await pilot.press("c")
        assert copied == [f"pushed qd/{AGENT}"]
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, TextScreen))


async def test_a_failed_push_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    port = review_port()
    port.steer_error = QuarterdeckError("no remote named origin: add one with git remote add")
    app = make_app(port)
    notes = record_notifications(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        await pilot.press("shift+p")
        await wait_until(pilot, lambda: any("not pushed" in n for n in notes))
        assert f"error: {AGENT} not pushed: no remote named origin" in notes[-1]
        assert app.screen is screen


# -- keys and help -------------------------------------------------------------------------


async def test_the_help_and_the_footer_tell_the_review_keys() -> None:
    port = review_port()
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "v" in app.screen.active_bindings
        screen = await open_review(pilot)
        shown = {b.binding.description for b in screen.active_bindings.values() if b.binding.show}
        assert {"Next file", "Next hunk", "Comment", "Check", "Land", "Push", "Back"} <= shown
        await pilot.press("question_mark")
        await wait_for_screen(pilot, HelpScreen)
        help_text = app.screen.text  # type: ignore[attr-defined]
        for words in (
            "Review (v)",
            "Discard/remove",
            "Next / previous hunk",
            "Next / previous file",
            "Comment on the line under the cursor",
            "Land its branch in its base",
            "Push its branch",
        ):
            assert words in help_text
        # Opened from the review, the help starts at the review's keys.
        box = app.screen.query_one("#help-box")
        await wait_until(pilot, lambda: box.scroll_offset.y > 0)


async def test_review_keys_do_nothing_on_an_empty_fleet() -> None:
    port = FakePort(rows=[])
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("v", "C", "g", "P")
        await pilot.pause()
        assert isinstance(app, QuarterdeckApp)
        assert len(app.screen_stack) == 1
        assert port.checks_run == [] and port.pushed == []


async def test_an_exited_agent_can_still_be_reviewed() -> None:
    port = review_port()
    port.rows = [replace(port.rows[0], status=Status.EXITED, status_label="exited")]
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        assert len(file_names(screen)) == 5
