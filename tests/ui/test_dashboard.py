"""The dashboard driven by keys through Pilot, against an in-memory fleet port."""

from __future__ import annotations

from dataclasses import replace

import pytest
from textual.binding import Binding
from textual.pilot import Pilot
from textual.strip import Strip
from textual.widgets import Button, Input, Static, TextArea

from app.core.agent import SpawnRequest
from app.core.errors import UsageError
from app.core.ports import RemovalRisk
from app.core.status import Status
from app.ui.app import QuarterdeckApp
from app.ui.dashboard.screen import EMPTY_MESSAGE, DashboardScreen
from app.ui.dialogs.confirm import ConfirmScreen, RemoveRiskyScreen
from app.ui.dialogs.help import HelpScreen
from app.ui.dialogs.message import MessageScreen
from app.ui.dialogs.new_agent import NewAgentScreen
from app.ui.dialogs.reply import ReplyScreen
from app.ui.inbox.screen import InboxScreen
from app.ui.keys import tmux_key_display
from app.ui.widgets.agent_table import MARK_GLYPH, AgentTable
from app.ui.widgets.pane_preview import PanePreview
from tests.ui.fakes import NOW, FakePort, make_row, twelve_rows, wait_until

SIZE = (140, 40)


def make_app(port: FakePort, **kwargs: object) -> QuarterdeckApp:
    """The app over ``port`` with a frozen clock and a fast preview."""
    return QuarterdeckApp(port, clock=lambda: NOW, preview_interval=0.05, **kwargs)  # type: ignore[arg-type]


def record_notifications(app: QuarterdeckApp, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Collect ``"severity: message"`` for every notification the app shows."""
    seen: list[str] = []
    original = app.notify

    def notify(message: str, **kwargs: object) -> None:
        seen.append(f"{kwargs.get('severity', 'information')}: {message}")
        original(message, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(app, "notify", notify)
    return seen


def cell(app: QuarterdeckApp, name: str, column: str) -> str:
    """The plain text of one cell."""
    return str(app.dashboard.table.get_cell(name, column))


async def open_form(pilot: Pilot[None]) -> NewAgentScreen:
    await pilot.press("n")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, NewAgentScreen))
    screen = pilot.app.screen
    assert isinstance(screen, NewAgentScreen)
    return screen


# -- the table and the view --------------------------------------------------------------------


async def test_rows_show_agents_in_creation_order_with_formatted_cells() -> None:
    port = FakePort(rows=twelve_rows())
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = app.dashboard.table
        assert [r.name for r in table.agent_rows] == [r.name for r in twelve_rows()]
        assert cell(app, "fix-login-bug", "status") == "● working"
        assert cell(app, "add-dark-mode", "status") == "? needs_input:permission"
        assert cell(app, "fix-login-bug", "time") == "42s"
        assert cell(app, "docs-api", "time") == "1h06m"
        assert cell(app, "fix-login-bug", "diff") == "+12 −3 1f"
        assert cell(app, "fix-login-bug", "branch") == "qd/fix-login-bug"
        header = str(app.query_one("#fleet-counts", Static).render())
        assert "2 needs_input" in header
        assert header.index("needs_input") < header.index("working") < header.index("exited")


class RenderSpy:
    """Records, per call, which rows `AgentTable` renders into strips and which lines it paints."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.rendered: list[str] = []
        self.painted: list[int] = []
        render_row = AgentTable._render_row
        render_line = AgentTable.render_line

        def spy_row(table: AgentTable, name: str, *, cursor: bool) -> Strip:
            self.rendered.append(name)
            return render_row(table, name, cursor=cursor)

        def spy_line(table: AgentTable, y: int) -> Strip:
            self.painted.append(y)
            return render_line(table, y)

        monkeypatch.setattr(AgentTable, "_render_row", spy_row)
        monkeypatch.setattr(AgentTable, "render_line", spy_line)

    def reset(self) -> None:
        self.rendered.clear()
        self.painted.clear()


def row_line(table: AgentTable, name: str) -> int:
    """The widget line that shows agent ``name`` (the header is line 0; no scrolling)."""
    return 1 + [r.name for r in table.agent_rows].index(name)


async def test_pushed_view_re_renders_changed_rows_only_and_keeps_the_selection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = twelve_rows()
    port = FakePort(rows=rows)
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("j", "j")
        assert app.dashboard.selected_name == "refactor-db-layer"
        await pilot.pause()
        spy = RenderSpy(monkeypatch)

        # One agent changes status: its row alone is rendered again, its line alone repainted.
        one_changed = [
            replace(r, status=Status.IDLE, status_label="idle", since=NOW - 3)
            if r.name == "split-utils"
            else r
            for r in rows
        ]
        port.push_from_thread(one_changed)
        await wait_until(pilot, lambda: cell(app, "split-utils", "status") == "○ idle")
        await pilot.pause()
        assert spy.rendered == ["split-utils"]
        assert spy.painted == [row_line(app.dashboard.table, "split-utils")]
        assert cell(app, "split-utils", "time") == "3s"

        # An agent before the selection goes away and one is new: the lines move, so they are
        # repainted, but only the new row is rendered (the others' strips are reused).
        spy.reset()
        changed = [r for r in one_changed if r.name != "fix-login-bug"]
        changed.append(make_row("new-one", Status.STARTING, age=1))
        port.push_from_thread(changed)
        await wait_until(
            pilot, lambda: "new-one" in [r.name for r in app.dashboard.table.agent_rows]
        )
        await pilot.pause()
        assert spy.rendered == ["new-one"]
        assert len(spy.painted) > 1
        assert app.dashboard.selected_name == "refactor-db-layer"
        assert [r.name for r in app.dashboard.table.agent_rows][-1] == "new-one"
        assert "fix-login-bug" not in [r.name for r in app.dashboard.table.agent_rows]

        # The same view again: nothing to render or paint.
        spy.reset()
        app.dashboard.table.show_rows(changed, NOW)
        await pilot.pause()
        assert spy.rendered == [] and spy.painted == []


async def test_a_cursor_move_repaints_two_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    port = FakePort(rows=twelve_rows())
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        spy = RenderSpy(monkeypatch)
        await pilot.press("j")
        await pilot.pause()
        assert app.dashboard.selected_name == "add-dark-mode"
        assert sorted(spy.painted) == [1, 2]
        assert sorted(spy.rendered) == ["add-dark-mode", "fix-login-bug"]
        spy.reset()
        await pilot.press("k")  # both rows have strips for both states by now
        await pilot.pause()
        assert sorted(spy.painted) == [1, 2]
        assert spy.rendered == ["fix-login-bug"]  # the cursor row's own strip is re-made


async def test_selection_moves_to_the_nearest_row_when_its_agent_disappears() -> None:
    rows = [make_row(n) for n in ("a", "b", "c")]
    port = FakePort(rows=rows)
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("down")
        assert app.dashboard.selected_name == "b"
        port.push_from_thread([rows[0], rows[2]])
        await wait_until(pilot, lambda: app.dashboard.table.row_count == 2)
        assert app.dashboard.selected_name == "c"
        port.push_from_thread([rows[0]])
        await wait_until(pilot, lambda: app.dashboard.table.row_count == 1)
        assert app.dashboard.selected_name == "a"


async def test_time_column_ticks_without_a_new_view() -> None:
    now = [NOW]
    port = FakePort(rows=[make_row("a", age=58)])
    app = QuarterdeckApp(port, clock=lambda: now[0], tick_interval=0.05)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert cell(app, "a", "time") == "58s"
        now[0] = NOW + 3
        await wait_until(pilot, lambda: cell(app, "a", "time") == "1m")


async def test_a_tick_re_renders_only_rows_whose_time_text_changed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = FakePort(rows=[make_row("a", age=58), make_row("b", age=3600)])
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        spy = RenderSpy(monkeypatch)
        app.dashboard.table.tick(NOW + 3)  # a: 58s -> 1m; b: 1h00m -> 1h00m
        await pilot.pause()
        assert spy.rendered == ["a"]
        assert spy.painted == [row_line(app.dashboard.table, "a")]
        assert cell(app, "a", "time") == "1m"


def in_view(table: AgentTable) -> bool:
    """Whether the selected row is on screen (below the header)."""
    top = table.scroll_offset.y
    return top <= table.cursor_row < top + table.scrollable_content_region.height - 1


async def test_table_keys_move_the_selection_and_keep_it_in_view() -> None:
    rows = [make_row(f"agent-{i:02d}") for i in range(40)]
    app = make_app(FakePort(rows=rows))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = app.dashboard.table
        page = table.scrollable_content_region.height - 1
        assert 5 < page < 30
        seen: list[tuple[str, str | None, bool]] = []
        for key in ("down", "j", "up", "pagedown", "pagedown", "ctrl+end", "pageup", "k"):
            await pilot.press(key)
            seen.append((key, app.dashboard.selected_name, in_view(table)))
        for key in ("ctrl+home", "end", "home"):
            await pilot.press(key)
            seen.append((key, app.dashboard.selected_name, in_view(table)))
        names = [r.name for r in rows]
        assert seen == [
            ("down", names[1], True),
            ("j", names[2], True),
            ("up", names[1], True),
            ("pagedown", names[1 + page], True),
            ("pagedown", names[1 + 2 * page], True),
            ("ctrl+end", names[-1], True),
            ("pageup", names[-1 - page], True),
            ("k", names[-2 - page], True),
            ("ctrl+home", names[0], True),
            ("end", names[-1], True),
            ("home", names[0], True),
        ]
        assert table.scroll_offset.y == 0


async def test_left_and_right_scroll_a_table_wider_than_the_screen() -> None:
    app = make_app(FakePort(rows=twelve_rows()))
    async with app.run_test(size=(80, 30)) as pilot:
        await pilot.pause()
        table = app.dashboard.table
        assert table.virtual_size.width > table.scrollable_content_region.width
        await pilot.press("right", "right")
        assert table.scroll_offset.x == 2
        assert table.render_line(0).text.startswith("ame")  # " Name" scrolled by two cells
        await pilot.press("left", "left")
        assert table.scroll_offset.x == 0
        assert app.dashboard.selected_name == "fix-login-bug"


async def test_a_click_selects_the_row() -> None:
    app = make_app(FakePort(rows=twelve_rows()))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.click(app.dashboard.table, offset=(4, 3))  # line 3: the third agent
        await wait_until(pilot, lambda: app.dashboard.preview.agent == "refactor-db-layer")
        assert app.dashboard.selected_name == "refactor-db-layer"
        await pilot.click(app.dashboard.table, offset=(4, 0))  # the header: nothing happens
        await pilot.pause()
        assert app.dashboard.selected_name == "refactor-db-layer"


async def test_highlighted_only_when_the_selected_agent_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = twelve_rows()
    port = FakePort(rows=rows)
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        names: list[str | None] = []
        original = DashboardScreen.on_agent_table_agent_highlighted

        def spy(self: DashboardScreen, message: AgentTable.AgentHighlighted) -> None:
            names.append(message.name)
            original(self, message)

        monkeypatch.setattr(DashboardScreen, "on_agent_table_agent_highlighted", spy)
        await pilot.press("k", "home", "j")  # at the top already: only j moves
        port.push_from_thread(rows[1:])  # the selection's row stays; the one above goes
        await wait_until(pilot, lambda: app.dashboard.table.row_count == len(rows) - 1)
        port.push_from_thread(rows[2:])  # the selection's row goes: the next takes its place
        await wait_until(pilot, lambda: app.dashboard.table.row_count == len(rows) - 2)
        port.push_from_thread([])
        await wait_until(pilot, lambda: app.dashboard.table.row_count == 0)
        await pilot.pause()
        assert names == ["add-dark-mode", "refactor-db-layer", None]


async def test_marks_toggle_list_in_table_order_and_show_a_glyph() -> None:
    rows = twelve_rows()
    port = FakePort(rows=rows)
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = app.dashboard.table

        def first_cell(name: str) -> str:
            return table.render_line(row_line(table, name)).text[0]

        assert not table.marked_names
        assert table.toggle_mark("docs-api") is True
        assert table.toggle_mark("fix-login-bug") is True  # the selected row
        assert table.toggle_mark("add-dark-mode") is True
        assert table.toggle_mark("add-dark-mode") is False
        assert table.toggle_mark("no-such-agent") is False
        assert list(table.marked_names) == ["fix-login-bug", "docs-api"]
        assert table.is_marked("docs-api") and not table.is_marked("add-dark-mode")
        await pilot.pause()
        assert first_cell("docs-api") == MARK_GLYPH
        assert first_cell("fix-login-bug") == MARK_GLYPH
        assert first_cell("add-dark-mode") == " "
        # The mark has the theme's accent colour; the selection is the cursor's background.
        [glyph] = table.render_line(row_line(table, "docs-api")).crop(0, 1)
        assert glyph.style is not None and glyph.style.color is not None
        assert glyph.style.color.triplet is not None
        assert glyph.style.color.triplet.hex == app.theme_variables["accent"].lower()
        [cursor] = table.render_line(row_line(table, "fix-login-bug")).crop(0, 1)
        [text] = table.render_line(row_line(table, "fix-login-bug")).crop(1, 2)
        assert cursor.style is not None and text.style is not None
        assert cursor.style.bgcolor == text.style.bgcolor != glyph.style.bgcolor

        # Marks survive other changes, go with their agent, and do not come back with it.
        port.push_from_thread([r for r in rows if r.name != "docs-api"])
        await wait_until(pilot, lambda: table.row("docs-api") is None)
        assert list(table.marked_names) == ["fix-login-bug"]
        port.push_from_thread(rows)
        await wait_until(pilot, lambda: table.row("docs-api") is not None)
        assert list(table.marked_names) == ["fix-login-bug"]

        table.toggle_mark("split-utils")
        table.clear_marks()
        assert list(table.marked_names) == []
        await pilot.pause()
        assert first_cell("fix-login-bug") == " "
        assert first_cell("split-utils") == " "


async def test_empty_fleet_shows_a_friendly_message_until_an_agent_appears() -> None:
    port = FakePort()
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        empty = app.query_one("#empty", Static)
        assert empty.display
        assert str(empty.render()) == EMPTY_MESSAGE
        assert not app.dashboard.table.display
        assert not app.dashboard.preview.display
        port.push_from_thread([make_row("first")])
        await wait_until(
            pilot, lambda: app.dashboard.table.display and app.dashboard.table.row_count == 1
        )
        assert not empty.display
        assert app.dashboard.selected_name == "first"


async def test_preview_shows_the_selected_pane_with_title_and_question() -> None:
    rows = twelve_rows()
    port = FakePort(rows=rows)
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        preview = app.query_one(PanePreview)
        await wait_until(pilot, lambda: preview.has_capture)
        assert preview.agent == "fix-login-bug"
        assert "fix-login-bug" in str(preview.border_title)
        assert "screen: spinner" in str(preview.border_title)
        await pilot.press("j")
        await wait_until(pilot, lambda: preview.agent == "add-dark-mode" and preview.has_capture)
        assert "hook: Notification" in str(preview.border_title)
        assert "Allow edit to src/theme.css?" in str(preview.border_subtitle)
        assert "Yes, and don't ask again" in str(preview.border_subtitle)
        assert "add-dark-mode" in port.captured


async def test_capture_failure_shows_in_the_preview_not_as_a_crash() -> None:
    port = FakePort(rows=[make_row("a")])

    def broken(name: str) -> str:
        raise UsageError("pane %9 is gone")

    port.capture = broken  # type: ignore[method-assign]
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        message = app.query_one("#pane-message", Static)
        await wait_until(pilot, lambda: "pane %9 is gone" in str(message.render()))


# -- new agent --------------------------------------------------------------------------------


async def test_new_agent_form_submits_a_spawn_request_with_the_typed_values() -> None:
    port = FakePort(rows=[make_row("alpha")])
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot)
        assert form.query_one("#base", Input).value == "main"
        await pilot.press(*"fix the login bug")
        await pilot.press("tab", "enter", "up", "up", "enter")  # kind: demo -> claude
        await pilot.press("tab", *"login-fix")
        await pilot.press("tab", "home", "ctrl+k", *"develop")
        await pilot.press("enter")  # enter in the last field submits
        await wait_until(pilot, lambda: bool(port.spawned))
        assert port.spawned == [
            SpawnRequest(
                prompt="fix the login bug", kind="claude", name="login-fix", base="develop"
            )
        ]
        await wait_until(pilot, lambda: not isinstance(app.screen, NewAgentScreen))
        await wait_until(pilot, lambda: app.dashboard.selected_name == "login-fix")


async def test_new_agent_defaults_to_demo_kind_and_ctrl_s_submits() -> None:
    port = FakePort()
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        await open_form(pilot)
        await pilot.press(*"hello", "ctrl+s")
        await wait_until(pilot, lambda: bool(port.spawned))
        assert port.spawned == [SpawnRequest(prompt="hello", kind="demo", name=None, base="main")]


async def test_a_kind_whose_hooks_will_not_load_is_announced_when_started(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = FakePort()
    warning = "Gemini CLI will skip its hook settings (folder /tmp …)"
    port.hook_warnings["demo"] = [warning]
    app = make_app(port)
    notes = record_notifications(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await open_form(pilot)
        await pilot.press(*"hello", "ctrl+s")
        await wait_until(pilot, lambda: "information: Started new-agent" in notes)
        await wait_until(pilot, lambda: f"warning: {warning}" in notes)


async def test_spawn_error_keeps_the_form_open_with_the_typed_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = FakePort(rows=[make_row("alpha")])
    port.spawn_error = UsageError("an agent named 'alpha' already exists; pick another --name")
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot)
        await pilot.press(*"keep this prompt", "tab", "tab", *"alpha", "ctrl+s")
        error = form.query_one("#error", Static)
        await wait_until(pilot, lambda: error.display)
        assert "already exists" in str(error.render())
        assert app.screen is form
        assert form.query_one("#prompt", TextArea).text == "keep this prompt"
        assert form.query_one("#name", Input).value == "alpha"
        assert not form.query_one("#start", Button).disabled
        # Fix the name and try again: now it starts and the form closes.
        await pilot.press(*"-2", "ctrl+s")
        await wait_until(pilot, lambda: app.screen is not form)
        assert [r.name for r in port.spawned] == ["alpha", "alpha-2"]


async def test_escape_cancels_the_form_without_spawning() -> None:
    port = FakePort()
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot)
        await pilot.press(*"never mind", "escape")
        await wait_until(pilot, lambda: app.screen is not form)
        assert port.spawned == []


# -- stop and remove --------------------------------------------------------------------------


async def test_stop_asks_then_stops_the_selected_agent(monkeypatch: pytest.MonkeyPatch) -> None:
    port = FakePort(rows=[make_row("alpha"), make_row("beta")])
    app = make_app(port)
    notes = record_notifications(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("j", "x")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen)
        assert dialog.question == "Stop beta? Its process tree will be ended."
        await pilot.press("y")
        await wait_until(pilot, lambda: port.stopped == ["beta"])
        await wait_until(pilot, lambda: "information: Stopped beta" in notes)
        await wait_until(pilot, lambda: cell(app, "beta", "status") == "■ exited")


async def test_stop_answered_no_does_nothing() -> None:
    port = FakePort(rows=[make_row("alpha")])
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")
        await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        assert port.stopped == []


async def test_remove_safe_agent_asks_yes_no_and_keeps_nothing_at_risk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = FakePort(rows=[make_row("alpha"), make_row("beta")])
    app = make_app(port)
    notes = record_notifications(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: port.removed == [("alpha", False, False)])
        await wait_until(pilot, lambda: any("refs/quarterdeck/archive/alpha" in n for n in notes))
        await wait_until(pilot, lambda: app.dashboard.table.row_count == 1)
        assert app.dashboard.selected_name == "beta"


async def test_remove_risky_agent_needs_the_exact_name_typed() -> None:
    risk = RemovalRisk("alpha", "qd/alpha", "main", 2, ("src/a.py", "notes.txt"))
    port = FakePort(rows=[make_row("alpha")], risks={"alpha": risk})
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, RemoveRiskyScreen))
        dialog = app.screen
        text = str(dialog.query_one("#question", Static).render())
        assert risk.describe() in text
        remove = dialog.query_one("#yes", Button)
        assert remove.disabled
        await pilot.press(*"alph")
        assert remove.disabled
        await pilot.press("enter")  # not the exact name: nothing happens
        await pilot.pause()
        assert app.screen is dialog
        await pilot.press(*"aX")
        assert remove.disabled  # "alphaX" is not the name either
        await pilot.press("backspace")
        assert dialog.query_one("#confirm-name", Input).value == "alpha"
        assert not remove.disabled
        await pilot.click("#yes")
        await wait_until(pilot, lambda: port.removed == [("alpha", True, True)])
        assert app.screen is not dialog


async def test_remove_risky_agent_cancelled_with_escape() -> None:
    risk = RemovalRisk("alpha", "qd/alpha", "main", 0, ("dirty.txt",))
    port = FakePort(rows=[make_row("alpha")], risks={"alpha": risk})
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, RemoveRiskyScreen))
        await pilot.press(*"alpha", "escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, RemoveRiskyScreen))
        assert port.removed == []


async def test_port_errors_become_error_notifications(monkeypatch: pytest.MonkeyPatch) -> None:
    port = FakePort(rows=[make_row("alpha")])

    def refuse(name: str) -> None:
        raise UsageError("alpha is already stopped")

    port.stop = refuse  # type: ignore[method-assign]
    app = make_app(port)
    notes = record_notifications(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("x", "y")
        await wait_until(pilot, lambda: "error: alpha is already stopped" in notes)
        assert app.is_running


async def test_agent_keys_do_nothing_on_an_empty_fleet() -> None:
    port = FakePort()
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("x", "d", "enter")
        await pilot.pause()
        assert app.screen is app.screen_stack[0]
        assert port.attached == [] and port.stopped == []


# -- attach -----------------------------------------------------------------------------------


async def test_attach_runs_the_returned_command_and_keeps_the_selection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = FakePort(
        rows=[make_row("alpha"), make_row("beta")], attach_argv=["tmux", "attach", "-t", "x"]
    )
    app = make_app(port)
    ran: list[list[str]] = []
    monkeypatch.setattr(app.dashboard.agent_flow, "run_foreground", ran.append)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("j", "enter")
        await wait_until(pilot, lambda: bool(ran))
        assert port.attached == ["beta"]
        assert ran == [["tmux", "attach", "-t", "x"]]
        assert app.dashboard.selected_name == "beta"


async def test_attach_when_hosted_needs_no_command(monkeypatch: pytest.MonkeyPatch) -> None:
    port = FakePort(rows=[make_row("alpha")], attach_argv=None)
    app = make_app(port, hosted=True)
    ran: list[list[str]] = []
    monkeypatch.setattr(app.dashboard.agent_flow, "run_foreground", ran.append)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await wait_until(pilot, lambda: port.attached == ["alpha"])
        await pilot.pause()
        assert ran == []


# -- help, themes, quit -----------------------------------------------------------------------


def _help_tokens(screen: HelpScreen) -> set[str]:
    tokens: set[str] = set()
    for widget in screen.query(".keys").results(Static):
        for part in str(widget.render()).replace(",", "/").split("/"):
            tokens.add(part.strip())
    return tokens


async def test_help_lists_every_key() -> None:
    port = FakePort(rows=[make_row("alpha")], key="C-q")
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        dashboard_bindings = [ab.binding for ab in app.screen.active_bindings.values()]
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        screen = app.screen
        assert isinstance(screen, HelpScreen)
        tokens = _help_tokens(screen)
        dialogs = (
            NewAgentScreen,
            ConfirmScreen,
            RemoveRiskyScreen,
            HelpScreen,
            InboxScreen,
            ReplyScreen,
            MessageScreen,
        )
        dialog_bindings: list[Binding] = [
            b for cls in dialogs for b in cls.BINDINGS if isinstance(b, Binding)
        ]
        missing = [
            key
            for b in dashboard_bindings + dialog_bindings
            for key in b.key.split(",")
            if not ({key, b.key_display or key} & tokens)
        ]
        assert missing == []
        for key in ("i", "w", "space", "m", "M", "shift+m", "c", "!", "escape", "r", "a"):
            assert key in tokens
        assert "Ctrl-q" in tokens
        text = screen.text
        for command in ("new", "ls", "attach", "stop", "rm", "demo", "dashboard"):
            assert f"quarterdeck {command}" in text
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen))


async def test_return_key_is_shown_beside_the_footer() -> None:
    port = FakePort(rows=[make_row("alpha")], key="M-F12")
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        hint = str(app.query_one("#return-hint", Static).render())
        assert hint == "Alt-F12: back from an agent"


@pytest.mark.parametrize(
    ("tmux", "shown"),
    [
        ("C-q", "Ctrl-q"),
        ("M-Left", "Alt-Left"),
        ("F12", "F12"),
        ("C-M-x", "Ctrl-Alt-x"),
        ("C--", "Ctrl--"),
    ],
)
def test_tmux_key_display(tmux: str, shown: str) -> None:
    assert tmux_key_display(tmux) == shown


async def test_t_cycles_through_our_themes() -> None:
    port = FakePort(rows=[make_row("alpha", Status.NEEDS_INPUT)])
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == "quarterdeck-dark"
        dark_status = app.dashboard.table.get_cell("alpha", "status").spans[0].style
        await pilot.press("t")
        await wait_until(pilot, lambda: app.theme == "quarterdeck-light")
        await wait_until(
            pilot,
            lambda: app.dashboard.table.get_cell("alpha", "status").spans[0].style != dark_status,
        )
        await pilot.press("t")
        await wait_until(pilot, lambda: app.theme == "quarterdeck-dark")


async def test_builtin_theme_gets_status_colours() -> None:
    port = FakePort(rows=[make_row("alpha")])
    app = make_app(port, theme_name="nord")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == "nord"
        assert app.theme_variables["status-working"].startswith("#")


def test_unknown_theme_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown theme 'nope'"):
        make_app(FakePort(), theme_name="nope")


async def test_q_quits() -> None:
    app = make_app(FakePort(rows=[make_row("alpha")]))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        await wait_until(pilot, lambda: not app.is_running)


async def test_keys_typed_before_the_form_has_focus_reach_the_prompt() -> None:
    port = FakePort(rows=twelve_rows())
    async with make_app(port).run_test(size=SIZE) as pilot:
        screen = await open_form(pilot)
        screen.set_focus(None)
        await pilot.press("h", "i")
        assert screen.query_one("#prompt", TextArea).text == "hi"


async def test_the_header_says_when_this_dashboard_only_views() -> None:
    port = FakePort(rows=twelve_rows())
    async with make_app(port).run_test(size=SIZE) as pilot:
        notice = pilot.app.query_one("#fleet-notice", Static)
        assert not notice.display
        port.notice = "viewer: another Quarterdeck (pid 42) tracks this fleet"
        port.push_from_thread(twelve_rows())
        await wait_until(pilot, lambda: bool(notice.display))
        assert "pid 42" in str(notice.render())


async def test_e_shows_why_the_selected_agent_has_its_status() -> None:
    from app.ui.dialogs.evidence import EvidenceScreen

    port = FakePort(rows=twelve_rows())
    port.trail = [
        (NOW - 5, "working", "screen: demo: spinner"),
        (NOW - 2, "-", "hook: PermissionRequest"),
        (NOW - 1, "needs_input", "screen: demo: permission dialog"),
    ]
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        name = app.dashboard.selected_name
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, EvidenceScreen))
        screen = pilot.app.screen
        assert isinstance(screen, EvidenceScreen) and port.evidence_asked == [name]
        table = screen.query_one("#evidence-trail")
        assert table.row_count == 3  # type: ignore[attr-defined]
        assert "permission dialog" in str(table.get_row_at(0))  # type: ignore[attr-defined]
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(pilot.app.screen, EvidenceScreen))


async def test_a_digit_answers_the_selected_agents_dialog() -> None:
    rows = twelve_rows()
    waiting = next(r for r in rows if r.status is Status.NEEDS_INPUT)
    port = FakePort(rows=rows)
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        app.dashboard.table.select_name(waiting.name)
        await pilot.press("2")
        await wait_until(pilot, lambda: port.answered == [(waiting.name, 2)])
        working = next(r for r in rows if r.status is Status.WORKING)
        app.dashboard.table.select_name(working.name)
        await pilot.press("1")
        await pilot.pause()
        assert port.answered == [(waiting.name, 2)]  # not waiting: nothing sent
