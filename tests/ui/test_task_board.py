"""The task board driven by keys through Pilot against the fake port: the board and its detail,
following the tasks, the task form, start / retry / cancel, going to a task's agent, comparing
attempts (ranked, a diff between two, review, keeping one), and the task on an agent's row."""

from __future__ import annotations

from dataclasses import replace

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select, Static, TextArea

from app.core.errors import UsageError
from app.core.tasks import AgentChoice, AttemptState, Caps, Task, TaskSpec, TaskState
from app.ui.app import QuarterdeckApp
from app.ui.dialogs.confirm import ConfirmScreen
from app.ui.dialogs.land import TextScreen
from app.ui.review.screen import ReviewScreen
from app.ui.tasks.board import EMPTY_BOARD, TaskBoardScreen
from app.ui.tasks.compare import AttemptDiffScreen, CompareScreen
from app.ui.tasks.form import TaskFormScreen
from app.ui.tasks.lines import LARGE_MARK
from app.ui.tasks.table import fit_widths
from app.ui.widgets.agent_table import TASK_MARK
from tests.ui.fakes import (
    FakePort,
    make_row,
    sample_history,
    sample_tasks,
    twelve_rows,
    wait_for_screen,
    wait_until,
)
from tests.ui.test_dashboard import SIZE, cell, make_app, record_notifications


def board_port(**kwargs: object) -> FakePort:
    """Twelve agents and the sample board (the first task's agent is the first row)."""
    return FakePort(
        rows=twelve_rows(),
        task_list=sample_tasks(),
        histories=sample_history(),
        **kwargs,  # type: ignore[arg-type]
    )


def board_app(port: FakePort) -> QuarterdeckApp:
    return make_app(port, task_interval=0.05)


async def open_board(pilot: Pilot[None]) -> TaskBoardScreen:
    """Press T and wait for the first look at the tasks."""
    await pilot.press("T")
    return await wait_for_screen(pilot, TaskBoardScreen, lambda screen: screen.loaded)


async def select_task(pilot: Pilot[None], board: TaskBoardScreen, name: str) -> None:
    assert board.table.select_key(name)
    await wait_until(pilot, lambda: board.table.selected_key == name)


def title_of(screen: TaskBoardScreen) -> str:
    return str(screen.query_one("#board-title", Static).content)


# -- the board -----------------------------------------------------------------------------


async def test_T_opens_the_board_with_a_row_per_task_and_the_selected_tasks_detail() -> None:
    app = board_app(board_port())
    async with app.run_test(size=SIZE) as pilot:
        board = await open_board(pilot)
        table = board.table
        assert table.keys == (
            "fix-login-bug",
            "add-tests",
            "docs-update",
            "pick-parser",
            "flaky-ci",
        )
        assert table.cell_text("fix-login-bug", "state") == "● running"
        assert table.cell_text("fix-login-bug", "round") == "r2/5"
        assert table.cell_text("fix-login-bug", "check") == "✗ 41s"
        # A round is counted when it ends: round 1's change until round 2 ends.
        assert table.cell_text("fix-login-bug", "diff") == "+10 −2 1f"
        assert table.cell_text("docs-update", "why") == "waits on fix-login-bug running"
        assert table.cell_text("pick-parser", "agent") == "claude, codex, demo"
        assert table.cell_text("add-tests", "agent") == "claude"  # the default kind
        assert table.cell_text("pick-parser", "attempts") == "3 · 2✓"
        assert table.cell_text("flaky-ci", "round") == "r3/3"
        assert "1 of 2 running" in title_of(board)
        detail = board.detail
        assert "Users are logged out after a minute." in detail
        assert "loop up to 5 rounds, 30 min" in detail
        assert "check pytest -q tests/test_login.py" in detail
        await wait_until(pilot, lambda: "round 1's check failed; round 2 starts" in board.detail)
        await select_task(pilot, board, "docs-update")
        await wait_until(pilot, lambda: "waits on fix-login-bug (landed)" in board.detail)
        await pilot.press("T")
        await wait_until(pilot, lambda: app.screen is app.dashboard)
        await open_board(pilot)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.dashboard)


async def test_the_board_follows_the_tasks_and_keeps_the_selection() -> None:
    port = board_port()
    app = board_app(port)
    async with app.run_test(size=SIZE) as pilot:
        board = await open_board(pilot)
        await select_task(pilot, board, "docs-update")
        first = port.task_list[0]
        checking = replace(
            first, state=TaskState.CHECKING, reason="round 2 of 5: running the check"
        )
        added = Task(6, "late-one", TaskSpec("Late one"), TaskState.QUEUED, "waits for a free slot")
        # One task changes, one goes before the selected one, one comes after it.
        port.task_list = [checking, *port.task_list[2:], added]
        await wait_until(pilot, lambda: board.table.keys[-1] == "late-one")
        assert board.table.cell_text("fix-login-bug", "state") == "⟳ checking"
        assert board.table.selected_key == "docs-update"
        assert "Update the docs" in board.detail
        polls = port.task_polls
        await wait_until(pilot, lambda: port.task_polls >= polls + 3)
        assert board.table.selected_key == "docs-update"


async def test_a_board_without_tasks_says_how_to_add_one() -> None:
    app = board_app(FakePort(rows=twelve_rows()))
    async with app.run_test(size=SIZE) as pilot:
        board = await open_board(pilot)
        assert board.has_class("-empty")
        assert str(board.query_one("#board-empty", Static).content) == EMPTY_BOARD
        assert "0 of 2 running" in title_of(board)


async def test_a_board_that_cannot_be_read_says_why_on_its_title() -> None:
    port = board_port()

    def broken() -> list[Task]:
        raise UsageError("the tasks table is locked")

    app = board_app(port)
    async with app.run_test(size=SIZE) as pilot:
        board = await open_board(pilot)
        port.tasks = broken  # type: ignore[method-assign]
        await wait_until(pilot, lambda: "the tasks table is locked" in title_of(board))
        assert board.table.keys[0] == "fix-login-bug"  # what was read stays


def test_the_flexible_columns_share_the_width_the_others_leave() -> None:
    columns = (("a", "A", 4), ("b", "B", 10), ("c", "C", 6))
    assert fit_widths(columns, ("b", "c"), 4 + 10 + 6 + 6 + 11) == {"a": 4, "b": 16, "c": 11}
    assert fit_widths(columns, ("c",), 10) == {"a": 4, "b": 10, "c": 6}


# -- the form ------------------------------------------------------------------------------


async def open_task_form(pilot: Pilot[None], key: str = "a") -> TaskFormScreen:
    await pilot.press(key)
    return await wait_for_screen(pilot, TaskFormScreen)


def fill(form: TaskFormScreen, **fields: str) -> None:
    """Set the form's inputs by their short names (``after``, ``rounds``...)."""
    for field, value in fields.items():
        form.query_one(f"#task-{field}", Input).value = value


def form_error(form: TaskFormScreen) -> str:
    error = form.query_one("#task-error", Static)
    return str(error.content) if error.display else ""


async def test_the_form_adds_the_task_it_describes() -> None:
    port = board_port()
    app = board_app(port)
    async with app.run_test(size=SIZE) as pilot:
        board = await open_board(pilot)
        form = await open_task_form(pilot)
        await pilot.press(*"Speed up search")
        form.query_one("#task-prompt", TextArea).insert("Index the titles.\nCache the results.")
        form.query_one("#task-kind", Select).value = "codex"
        fill(form, attempts="2", after="fix-login-bug, add-tests", check="make test")
        fill(form, rounds="3", minutes="15")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: bool(port.tasks_added))
        assert port.tasks_added == [
            TaskSpec(
                "Speed up search",
                prompt="Index the titles.\nCache the results.",
                attempts=(AgentChoice("codex"), AgentChoice("codex")),
                check="make test",
                after=("fix-login-bug", "add-tests"),
                caps=Caps(rounds=3, minutes=15.0),
            )
        ]
        await wait_until(pilot, lambda: app.screen is board)
        await wait_until(pilot, lambda: board.table.selected_key == "speed-up-search")


async def test_several_kinds_of_attempts_are_one_each() -> None:
    port = board_port()
    app = board_app(port)
    async with app.run_test(size=SIZE) as pilot:
        await open_board(pilot)
        form = await open_task_form(pilot)
        fill(form, title="Try three", attempts="claude,codex:o3,demo")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: bool(port.tasks_added))
        (spec,) = port.tasks_added
        assert spec.attempts == (
            AgentChoice("claude"),
            AgentChoice("codex", "o3"),
            AgentChoice("demo"),
        )
        assert spec.caps == Caps() and spec.after == () and spec.prompt == ""


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"attempts": "30"}, "between 1 and 20 attempts"),
        ({"attempts": "claude,,codex"}, "an empty kind"),
        ({"attempts": "claude,cursor"}, "attempts: no agent kind 'cursor' (kinds: claude, codex"),
        ({"after": "fix-login-bug, nope"}, "waits on nope: not a task"),
        ({"rounds": "many"}, "max rounds: 'many' is not a whole number"),
        ({"minutes": "-5"}, "max minutes: at least 0"),
        ({"title": ""}, "a task needs a title"),
    ],
)
async def test_what_the_form_cannot_use_is_shown_in_it_and_nothing_is_added(
    fields: dict[str, str], said: str
) -> None:
    port = board_port()
    app = board_app(port)
    async with app.run_test(size=SIZE) as pilot:
        await open_board(pilot)
        form = await open_task_form(pilot)
        fill(form, **{"title": "A task", **fields})
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: said in form_error(form))
        assert port.tasks_added == []
        assert app.screen is form and not form.busy


async def test_what_the_port_refuses_is_shown_in_the_form_with_everything_kept() -> None:
    port = board_port(task_error=UsageError("dependency cycle: a → b → a; nothing was added"))
    app = board_app(port)
    async with app.run_test(size=SIZE) as pilot:
        await open_board(pilot)
        form = await open_task_form(pilot)
        fill(form, title="A task", after="add-tests")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "dependency cycle" in form_error(form))
        assert form.query_one("#task-after", Input).value == "add-tests"
        assert port.tasks_added == []
        await pilot.press("ctrl+s")  # the port takes it now
        await wait_until(pilot, lambda: len(port.tasks_added) == 1)


async def test_e_edits_a_task_that_has_not_started(monkeypatch: pytest.MonkeyPatch) -> None:
    port = board_port()
    app = board_app(port)
    seen = record_notifications(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        board = await open_board(pilot)
        await pilot.press("e")  # the selected task runs
        await wait_until(pilot, lambda: any("can no longer be edited" in s for s in seen))
        assert app.screen is board
        await select_task(pilot, board, "docs-update")
        form = await open_task_form(pilot, "e")
        assert form.query_one("#task-title", Input).value == "Update the docs"
        assert form.query_one("#task-after", Input).value == "fix-login-bug"
        assert form.query_one("#task-rounds", Input).value == "1"
        fill(form, rounds="4")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: bool(port.tasks_edited))
        ((name, spec),) = port.tasks_edited
        assert name == "docs-update"
        # What the form does not show is kept.
        assert spec == replace(port.task_list[2].spec, caps=Caps(rounds=4))
        assert spec.needs_landed


# -- start, retry, cancel ------------------------------------------------------------------


async def test_start_retry_and_cancel_call_the_port(monkeypatch: pytest.MonkeyPatch) -> None:
    port = board_port()
    app = board_app(port)
    seen = record_notifications(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        board = await open_board(pilot)
        await select_task(pilot, board, "add-tests")
        await pilot.press("s")
        await wait_until(pilot, lambda: port.tasks_started == ["add-tests"])
        await wait_until(pilot, lambda: "starts over the cap" in board.detail)
        await select_task(pilot, board, "flaky-ci")
        await pilot.press("r")
        await wait_until(pilot, lambda: port.tasks_retried == ["flaky-ci"])
        await pilot.press("x")
        confirm = await wait_for_screen(pilot, ConfirmScreen)
        assert "Cancel task flaky-ci?" in confirm.question
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen is board)
        assert port.tasks_cancelled == []
        await pilot.press("x")
        await wait_for_screen(pilot, ConfirmScreen)
        await pilot.press("y")
        await wait_until(pilot, lambda: port.tasks_cancelled == ["flaky-ci"])
        await wait_until(pilot, lambda: board.table.cell_text("flaky-ci", "state") == "⊘ cancelled")
        assert "information: Cancelled flaky-ci" in seen


async def test_an_action_the_port_refuses_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    port = board_port(task_error=UsageError("task 'fix-login-bug' is running: nothing to retry"))
    app = board_app(port)
    seen = record_notifications(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        board = await open_board(pilot)
        await pilot.press("r")
        expected = "error: fix-login-bug: not retried: task 'fix-login-bug' is running"
        await wait_until(pilot, lambda: any(s.startswith(expected) for s in seen))
        assert app.screen is board


# -- going to the agent --------------------------------------------------------------------


async def test_enter_goes_to_the_agent_of_the_selected_task(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = board_app(board_port())
    seen = record_notifications(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("down", "down")
        assert app.dashboard.selected_name == "refactor-db-layer"
        board = await open_board(pilot)
        await select_task(pilot, board, "add-tests")
        await pilot.press("enter")
        await wait_until(pilot, lambda: any("add-tests has no agent yet" in s for s in seen))
        assert app.screen is board
        await select_task(pilot, board, "fix-login-bug")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is app.dashboard)
        assert app.dashboard.selected_name == "fix-login-bug"


async def test_enter_goes_to_the_first_live_attempt_of_several() -> None:
    port = board_port()
    tasks = port.task_list
    pick = tasks[3]
    live = pick.with_attempt(
        replace(pick.attempt(3), state=AttemptState.RUNNING, agent_name="split-utils")
    )
    port.task_list = [*tasks[:3], replace(live, state=TaskState.RUNNING), tasks[4]]
    app = board_app(port)
    async with app.run_test(size=SIZE) as pilot:
        board = await open_board(pilot)
        await select_task(pilot, board, "pick-parser")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is app.dashboard)
        assert app.dashboard.selected_name == "split-utils"


# -- comparing attempts --------------------------------------------------------------------


async def open_compare(pilot: Pilot[None]) -> CompareScreen:
    """Open the board, then the comparison of `pick-parser`'s attempts."""
    board = await open_board(pilot)
    await select_task(pilot, board, "pick-parser")
    await pilot.press("c")
    return await wait_for_screen(pilot, CompareScreen)


async def test_the_comparison_ranks_attempts_and_marks_a_much_larger_change() -> None:
    port = board_port()
    pick = port.task_list[3]
    # Attempt 3 passes too, with the smallest change: it comes first.
    third = pick.attempt(3)
    passed = replace(
        third, state=AttemptState.PASSED, rounds=(replace(third.rounds[0], check="passed"),)
    )
    port.task_list[3] = pick.with_attempt(passed)
    app = board_app(port)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_compare(pilot)
        table = screen.table
        assert table.keys == ("3", "1", "2")
        assert [table.cell_text(k, "rank") for k in table.keys] == ["1", "2", "3"]
        assert table.cell_text("3", "check") == "✓ 3s"
        assert table.cell_text("3", "diff") == "+5 −1 1f"
        assert table.cell_text("1", "note") == f"{LARGE_MARK} 8× the smallest passing change"
        assert table.cell_text("2", "note") == f"{LARGE_MARK} 83× the smallest passing change"
        assert table.cell_text("3", "note") == ""


async def test_c_on_a_task_of_one_attempt_says_there_is_nothing_to_compare(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = board_app(board_port())
    seen = record_notifications(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        board = await open_board(pilot)
        await pilot.press("c")
        await wait_until(pilot, lambda: any("nothing to compare" in s for s in seen))
        assert app.screen is board


async def test_keeping_an_attempt_asks_what_is_discarded_then_lands_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = board_port()
    app = board_app(port)
    seen = record_notifications(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_compare(pilot)
        assert screen.table.keys == ("1", "2", "3")
        assert screen.table.cell_text("2", "note").startswith(LARGE_MARK)
        await pilot.press("down", "down", "k")  # attempt 3 failed
        await wait_until(pilot, lambda: any("has not passed its check" in s for s in seen))
        assert app.screen is screen
        await pilot.press("home", "k")
        confirm = await wait_for_screen(pilot, ConfirmScreen)
        assert "Keep attempt 1 of pick-parser (pick-parser-1, claude)?" in confirm.question
        assert "attempts 2 (pick-parser-2), 3 (pick-parser-3)" in confirm.question
        await pilot.press("y")
        said = await wait_for_screen(pilot, TextScreen)
        assert port.tasks_landed == [("pick-parser", 1)]
        assert "Landed attempt 1 of pick-parser" in said.text
        await pilot.press("escape")
        # The board's next look reaches the comparison.
        await wait_until(pilot, lambda: screen.table.cell_text("1", "state") == "⇡ kept")
        assert screen.table.cell_text("2", "state") == "⊘ discarded"


async def test_d_then_d_on_another_attempt_shows_the_diff_between_them() -> None:
    port = board_port()
    app = board_app(port)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_compare(pilot)
        await pilot.press("d")
        await wait_until(pilot, lambda: "marked" in screen.table.cell_text("1", "note"))
        await pilot.press("down", "d")
        diff = await wait_for_screen(pilot, AttemptDiffScreen)
        assert port.attempts_compared == [("pick-parser", 1, 2)]
        assert [f.path for f in diff.files] == ["src/parser.py"]
        assert (diff.files[0].added, diff.files[0].removed) == (2, 1)
        assert diff.view.line_text(3) == '+TOKEN = re.compile(r"[A-Za-z_]\\w*")'
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)
        assert "marked" not in screen.table.cell_text("1", "note")


async def test_v_reviews_the_highlighted_attempts_agent(monkeypatch: pytest.MonkeyPatch) -> None:
    port = board_port()
    port.rows.append(make_row("pick-parser-2", kind="codex"))
    app = board_app(port)
    seen = record_notifications(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_compare(pilot)
        await pilot.press("v")  # attempt 1's agent is not on the dashboard
        await wait_until(
            pilot, lambda: any("pick-parser-1 is not on the dashboard" in s for s in seen)
        )
        await pilot.press("down", "v")
        review = await wait_for_screen(pilot, ReviewScreen)
        assert review.agent == "pick-parser-2"
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)


# -- the agent table -----------------------------------------------------------------------


async def test_an_agents_row_names_the_task_it_works_on() -> None:
    rows = [
        make_row("pick-parser-2", summary="Running pytest", task="pick-parser#2"),
        make_row("fix-login", summary="Editing", task="fix-login"),
        make_row("helper", summary="Reading", task="fix-login#3"),
        make_row("b"),
    ]
    app = make_app(FakePort(rows=rows))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        # Named after its task, the mark says enough; otherwise the task is named.
        assert cell(app, "pick-parser-2", "summary") == f"{TASK_MARK} Running pytest"
        assert cell(app, "fix-login", "summary") == f"{TASK_MARK} Editing"
        assert cell(app, "helper", "summary") == f"{TASK_MARK} fix-login#3 Reading"
        assert cell(app, "b", "summary") == ""
