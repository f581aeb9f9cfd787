"""SVG snapshots of the dashboard's screens (pytest-textual-snapshot).

Deterministic by construction: a constant clock, a fixed terminal size, fixed fleet data, the
preview's timer effectively off (the capture taken on selection is awaited), no blinking cursors.
Update with ``pytest tests/ui/test_snapshots.py --snapshot-update`` and review the SVGs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from app.core.checks import CheckResult, CheckState
from app.core.landing import MergeOutcome, MergeStrategy
from app.core.ports import RemovalRisk
from app.core.status import Status
from app.core.views import AgentRow
from app.ui.app import QuarterdeckApp
from app.ui.dialogs.confirm import ConfirmScreen, RemoveRiskyScreen
from app.ui.dialogs.help import HelpScreen
from app.ui.dialogs.land import ConflictScreen, LandScreen
from app.ui.dialogs.message import MessageScreen
from app.ui.dialogs.new_agent import NewAgentScreen
from app.ui.inbox.screen import InboxScreen
from app.ui.review.screen import ReviewScreen
from tests.ui.fakes import (
    NOW,
    FakePort,
    make_row,
    sample_diff,
    twelve_rows,
    wait_until,
    waiting_rows,
)

SIZE = (140, 36)

SnapCompare = Callable[..., bool]


def dashboard(rows: list[AgentRow], **kwargs: Any) -> QuarterdeckApp:
    """The app over a fixed fleet, frozen in time."""
    port = FakePort(
        rows=rows,
        risks=kwargs.pop("risks", {}),
        diffs=kwargs.pop("diffs", {}),
        check_results=kwargs.pop("checks", {}),
        merge_outcomes=kwargs.pop("outcomes", {}),
    )
    return QuarterdeckApp(port, clock=lambda: NOW, preview_interval=3600, **kwargs)


async def preview_settled(pilot: Pilot[None]) -> None:
    """Wait until the selected agent's pane is on screen (captured in a thread)."""
    app = pilot.app
    assert isinstance(app, QuarterdeckApp)
    await wait_until(
        pilot, lambda: app.dashboard.preview.agent is None or app.dashboard.preview.has_capture
    )


def press_then_settle(*keys: str, screen: type | None = None) -> Callable[[Pilot[None]], Any]:
    """A ``run_before`` that presses keys, waits for ``screen`` and stops cursors blinking."""

    async def run_before(pilot: Pilot[None]) -> None:
        await preview_settled(pilot)
        await pilot.press(*keys)
        await preview_settled(pilot)
        if screen is not None:
            await wait_until(pilot, lambda: isinstance(pilot.app.screen, screen))
        for widget in pilot.app.screen.query("Input, TextArea"):
            if isinstance(widget, Input | TextArea):
                widget.cursor_blink = False
        await pilot.pause()

    return run_before


def test_dashboard_empty(snap_compare: SnapCompare) -> None:
    """No agents: the friendly message, no table, no preview."""
    assert snap_compare(dashboard([]), terminal_size=SIZE, run_before=preview_settled)


def test_dashboard_one_agent(snap_compare: SnapCompare) -> None:
    """One working agent, its pane in the preview."""
    rows = [
        make_row(
            "fix-login-bug",
            Status.WORKING,
            age=42,
            added=12,
            removed=3,
            summary="Running pytest tests/test_login.py",
        )
    ]
    assert snap_compare(dashboard(rows), terminal_size=SIZE, run_before=preview_settled)


def test_dashboard_twelve_agents_waiting_one_selected(snap_compare: SnapCompare) -> None:
    """Twelve agents in mixed statuses; the selected one waits on a permission question."""
    assert snap_compare(
        dashboard(twelve_rows()), terminal_size=SIZE, run_before=press_then_settle("j")
    )


def test_dashboard_twelve_agents_light_theme(snap_compare: SnapCompare) -> None:
    """The same fleet in the light theme."""
    assert snap_compare(
        dashboard(twelve_rows(), theme_name="quarterdeck-light"),
        terminal_size=SIZE,
        run_before=preview_settled,
    )


def marked(*names: str, then: Callable[[Pilot[None]], Any]) -> Callable[[Pilot[None]], Any]:
    """A ``run_before`` that marks agents, then runs ``then``."""

    async def run_before(pilot: Pilot[None]) -> None:
        app = pilot.app
        assert isinstance(app, QuarterdeckApp)
        for name in names:
            app.dashboard.table.toggle_mark(name)
        await then(pilot)

    return run_before


def test_dashboard_marked_agents(snap_compare: SnapCompare) -> None:
    """Three marked agents, one of them selected: the mark is a bar left of the name."""
    assert snap_compare(
        dashboard(twelve_rows()),
        terminal_size=SIZE,
        run_before=marked(
            "add-dark-mode", "docs-api", "flaky-test-hunt", then=press_then_settle("j")
        ),
    )


def test_dashboard_marked_agents_light_theme(snap_compare: SnapCompare) -> None:
    """The marks in the light theme."""
    assert snap_compare(
        dashboard(twelve_rows(), theme_name="quarterdeck-light"),
        terminal_size=SIZE,
        run_before=marked("add-dark-mode", "docs-api", then=press_then_settle("j")),
    )


def test_dashboard_narrow(snap_compare: SnapCompare) -> None:
    """A 100x30 terminal: columns shrink, the name column last."""
    assert snap_compare(
        dashboard(twelve_rows()), terminal_size=(100, 30), run_before=preview_settled
    )


def test_help_screen(snap_compare: SnapCompare) -> None:
    """Every key, the return key and the CLI."""
    assert snap_compare(
        dashboard(twelve_rows()),
        terminal_size=(140, 50),
        run_before=press_then_settle("question_mark", screen=HelpScreen),
    )


def test_new_agent_form(snap_compare: SnapCompare) -> None:
    """The new-agent form with a prompt typed."""
    assert snap_compare(
        dashboard(twelve_rows()),
        terminal_size=SIZE,
        run_before=press_then_settle("n", *"add a cache layer", screen=NewAgentScreen),
    )


def test_stop_confirmation(snap_compare: SnapCompare) -> None:
    """x asks before stopping."""
    assert snap_compare(
        dashboard(twelve_rows()),
        terminal_size=SIZE,
        run_before=press_then_settle("x", screen=ConfirmScreen),
    )


def test_remove_risky_dialog(snap_compare: SnapCompare) -> None:
    """d on an agent with unmerged commits and changes: says what is lost, wants the name."""
    risk = RemovalRisk(
        "fix-login-bug",
        "qd/fix-login-bug",
        "main",
        3,
        ("src/login.py", "tests/test_login.py", "notes.txt"),
    )
    assert snap_compare(
        dashboard(twelve_rows(), risks={"fix-login-bug": risk}),
        terminal_size=SIZE,
        run_before=press_then_settle("d", screen=RemoveRiskyScreen),
    )


def test_inbox_screen(snap_compare: SnapCompare) -> None:
    """i: three waiting agents, longest-waiting first and focused; context, detail, options."""
    assert snap_compare(
        dashboard(waiting_rows()),
        terminal_size=SIZE,
        run_before=press_then_settle("i", screen=InboxScreen),
    )


def test_inbox_screen_second_focused(snap_compare: SnapCompare) -> None:
    """j moves the focus to the second waiting agent."""
    assert snap_compare(
        dashboard(waiting_rows()),
        terminal_size=SIZE,
        run_before=press_then_settle("i", "j", screen=InboxScreen),
    )


def test_inbox_empty(snap_compare: SnapCompare) -> None:
    """Nobody waits: the inbox says so and how to get back."""
    assert snap_compare(
        dashboard(twelve_rows()[:1]),
        terminal_size=SIZE,
        run_before=press_then_settle("i", screen=InboxScreen),
    )


def test_message_screen(snap_compare: SnapCompare) -> None:
    """Two marked agents, m, a two-line message typed; queued by default."""
    assert snap_compare(
        dashboard(waiting_rows()),
        terminal_size=SIZE,
        run_before=press_then_settle(
            "space",
            "space",
            "m",
            *"use the new token API",
            "enter",
            *"and add a test",
            screen=MessageScreen,
        ),
    )


def test_correct_screen(snap_compare: SnapCompare) -> None:
    """c: the message screen set to interrupt first."""
    assert snap_compare(
        dashboard(twelve_rows()),
        terminal_size=SIZE,
        run_before=press_then_settle("c", *"stop: wrong file", screen=MessageScreen),
    )


def review_loaded(*keys: str) -> Callable[[Pilot[None]], Any]:
    """A ``run_before`` that opens the review of the selected agent, waits for its diff and
    its check, then presses ``keys``."""

    async def run_before(pilot: Pilot[None]) -> None:
        await preview_settled(pilot)
        await pilot.press("v")
        app = pilot.app
        await wait_until(pilot, lambda: isinstance(app.screen, ReviewScreen) and app.screen.loaded)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        port = screen.port
        assert isinstance(port, FakePort)
        expected = port.check_results.get(screen.agent)
        await wait_until(pilot, lambda: screen.check_result == expected)
        await pilot.press(*keys)
        await pilot.pause()

    return run_before


REVIEWED = {"fix-login-bug": sample_diff()}


def test_review_screen(snap_compare: SnapCompare) -> None:
    """v: the files, the first file's hunks highlighted, the cursor in the second hunk; the
    check passed."""
    checks = {
        "fix-login-bug": CheckResult(
            "make check", CheckState.PASSED, NOW - 20, 12.4, 0, "14 passed", "abc"
        )
    }
    assert snap_compare(
        dashboard(twelve_rows(), diffs=REVIEWED, checks=checks),
        terminal_size=SIZE,
        run_before=review_loaded("right_square_bracket", "j", "j", "j", "j", "j"),
    )


def test_review_screen_failed_check_output(snap_compare: SnapCompare) -> None:
    """o on a failed check: its output's tail in the bottom panel; a binary file selected."""
    tail = "\n".join(
        [
            "tests/test_login.py::test_login PASSED",
            "tests/test_login.py::test_wrong_password FAILED",
            "E   assert True is False",
            "1 failed, 13 passed in 0.41s",
        ]
    )
    checks = {"fix-login-bug": CheckResult("make check", CheckState.FAILED, NOW - 20, 3.2, 1, tail)}
    assert snap_compare(
        dashboard(twelve_rows(), diffs=REVIEWED, checks=checks),
        terminal_size=SIZE,
        run_before=review_loaded("n", "n", "o"),
    )


def test_review_screen_light_theme(snap_compare: SnapCompare) -> None:
    """The review in the light theme."""
    assert snap_compare(
        dashboard(twelve_rows(), diffs=REVIEWED, theme_name="quarterdeck-light"),
        terminal_size=SIZE,
        run_before=review_loaded("j", "j", "j"),
    )


def test_land_dialog(snap_compare: SnapCompare) -> None:
    """g: the strategies, merge chosen."""
    assert snap_compare(
        dashboard(twelve_rows()),
        terminal_size=SIZE,
        run_before=press_then_settle("g", screen=LandScreen),
    )


def test_conflict_dialog(snap_compare: SnapCompare) -> None:
    """A merge that conflicts: the files, and s to send it to the agent."""
    outcome = MergeOutcome(
        MergeStrategy.SQUASH,
        "main",
        False,
        conflicts=("src/login.py", "tests/test_login.py"),
        message="CONFLICT (content): Merge conflict in src/login.py",
    )
    assert snap_compare(
        dashboard(twelve_rows(), outcomes={"fix-login-bug": outcome}),
        terminal_size=SIZE,
        run_before=press_then_settle("g", "2", "enter", screen=ConflictScreen),
    )
