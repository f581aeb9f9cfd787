"""The inbox and its strip, driven by keys through Pilot: every waiting agent answered in place."""

from __future__ import annotations

from dataclasses import replace

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from app.core.errors import UsageError
from app.core.status import InputKind, Status
from app.ui.app import QuarterdeckApp
from app.ui.dialogs.confirm import ConfirmScreen
from app.ui.dialogs.reply import ReplyScreen
from app.ui.inbox.screen import EMPTY_INBOX, InboxScreen
from app.ui.widgets.inbox_strip import NOBODY_WAITS
from tests.ui.fakes import FakePort, make_row, wait_until, waiting_rows
from tests.ui.test_dashboard import SIZE, make_app, record_notifications


async def open_inbox(pilot: Pilot[None]) -> InboxScreen:
    await pilot.press("i")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, InboxScreen))
    screen = pilot.app.screen
    assert isinstance(screen, InboxScreen)
    await pilot.pause()
    return screen


def shown(screen: InboxScreen) -> list[str]:
    """The names of the items shown, in order."""
    return [item.row.name for item in screen.items]


def focused(screen: InboxScreen) -> str | None:
    row = screen.focused_row
    return row.name if row is not None else None


async def test_the_inbox_lists_every_waiting_agent_oldest_first_with_its_dialog() -> None:
    port = FakePort(rows=waiting_rows())
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_inbox(pilot)
        assert shown(screen) == ["docs-site", "api-auth", "web-ui"]
        assert focused(screen) == "docs-site"
        docs, api, web = screen.items
        assert docs.has_class("-focused") and not api.has_class("-focused")
        assert "▶ docs-site" in docs.text
        assert "codex · question · waiting 2m" in docs.text
        assert "Which locale should be the default?" in docs.text
        assert "1 English   2 German   3 Type something else" in docs.text
        assert "│ The site has pages in two languages." in docs.text
        text = api.text
        assert "claude · permission · waiting 40s" in text
        assert "Do you want to proceed?" in text
        assert "Bash: npm test -- auth" in text  # the hook's detail
        assert "│ I'll run the test suite to check the token refresh." in text
        assert "│ ● Bash(npm test -- auth)" in text
        assert "3 No" in text
        # The context comes before the question, as on the agent's screen.
        assert text.index("token refresh") < text.index("proceed?") < text.index("1 Yes")
        assert "waiting 20s" in web.text
        title = str(screen.query_one("#inbox-title").render())
        assert "3 agents waiting on you" in title and "2m" in title


async def test_a_digit_answers_the_focused_agent_and_the_focus_moves_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = FakePort(rows=waiting_rows())
    app = make_app(port)
    notes = record_notifications(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_inbox(pilot)
        await pilot.press("2")
        # The focus moves at once; the answered agent is hidden though the view still shows it.
        assert focused(screen) == "api-auth"
        assert shown(screen) == ["api-auth", "web-ui"]
        await wait_until(pilot, lambda: port.answered == [("docs-site", 2)])
        await wait_until(pilot, lambda: "information: answered docs-site: 2" in notes)
        port.push_from_thread(port.rows)  # a new view, the engine has not seen it move on yet
        await pilot.pause()
        assert shown(screen) == ["api-auth", "web-ui"]
        # The engine sees it working: it stays gone once the hiding is over.
        port.push_from_thread(
            replace(r, status=Status.WORKING) if r.name == "docs-site" else r for r in port.rows
        )
        await pilot.pause()
        assert shown(screen) == ["api-auth", "web-ui"]


async def test_an_answered_agent_that_waits_again_comes_back() -> None:
    port = FakePort(rows=waiting_rows())
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_inbox(pilot)
        await pilot.press("1")
        await wait_until(pilot, lambda: port.answered == [("docs-site", 1)])
        assert "docs-site" not in shown(screen)
        # A new dialog (a new `since`): shown again, as the newest wait.
        port.push_from_thread(
            replace(r, since=r.since + 200) if r.name == "docs-site" else r for r in port.rows
        )
        await wait_until(pilot, lambda: shown(screen) == ["api-auth", "web-ui", "docs-site"])
        assert focused(screen) == "api-auth"


async def test_hidden_answered_agents_return_after_the_grace_period() -> None:
    port = FakePort(rows=waiting_rows())
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        clock = [0.0]
        screen = await open_inbox(pilot)
        screen.monotonic = lambda: clock[0]
        await pilot.press("1")
        await wait_until(pilot, lambda: bool(port.answered))
        assert "docs-site" not in shown(screen)
        clock[0] = 10.0  # the engine still shows it waiting long after: the answer did not take
        port.push_from_thread(port.rows)
        await wait_until(pilot, lambda: "docs-site" in shown(screen))


async def test_y_and_n_pick_the_dialogs_yes_and_no_options() -> None:
    port = FakePort(rows=waiting_rows())
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_inbox(pilot)
        await pilot.press("j")
        assert focused(screen) == "api-auth"
        await pilot.press("y")
        await wait_until(pilot, lambda: port.answered == [("api-auth", 1)])
        assert focused(screen) == "web-ui"
        await pilot.press("k")  # back to the first: docs-site ("api-auth" is hidden)
        assert focused(screen) == "docs-site"
        await pilot.press("n")  # "English / German / Type something else": no "no" option
        await pilot.pause()
        assert port.answered == [("api-auth", 1)]


async def test_n_picks_no_and_a_dialog_without_one_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = FakePort(rows=waiting_rows())
    app = make_app(port)
    notes = record_notifications(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_inbox(pilot)
        await pilot.press("down", "n")
        await wait_until(pilot, lambda: port.answered == [("api-auth", 3)])
        assert focused(screen) == "web-ui"
        await pilot.press("n")  # web-ui: "Yes" / "Yes, allow all edits this session"
        await wait_until(pilot, lambda: any("no no option" in n for n in notes))
        [note] = [n for n in notes if "no no option" in n]
        assert note.startswith("error: web-ui's dialog has no no option")
        assert "1 Yes" in note
        assert port.answered == [("api-auth", 3)]
        assert "web-ui" in shown(screen)


async def test_a_number_beyond_the_options_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    port = FakePort(rows=waiting_rows())
    app = make_app(port)
    notes = record_notifications(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await open_inbox(pilot)
        await pilot.press("7")
        await wait_until(pilot, lambda: "error: docs-site's dialog has options 1 to 3" in notes)
        assert port.answered == []


async def test_r_replies_in_words() -> None:
    port = FakePort(rows=waiting_rows())
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_inbox(pilot)
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, ReplyScreen))
        await pilot.press("enter")  # empty: nothing is sent, the box stays
        await pilot.pause()
        assert type(app.screen).__name__ == "ReplyScreen"
        await pilot.press(*"Spanish, please", "enter")
        await wait_until(pilot, lambda: port.replied == [("docs-site", "Spanish, please")])
        assert app.screen is screen
        assert focused(screen) == "api-auth"
        # Escape cancels a reply.
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, ReplyScreen))
        await pilot.press(*"never mind", "escape")
        await wait_until(pilot, lambda: app.screen is screen)
        assert port.replied == [("docs-site", "Spanish, please")]


async def test_a_approves_every_request_alike_after_asking(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = FakePort(rows=waiting_rows())
    app = make_app(port)
    notes = record_notifications(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_inbox(pilot)
        await pilot.press("j", "a")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen)
        assert dialog.question.startswith("Approve 2 requests like `Bash: npm test -- auth`?")
        assert "api-auth, web-ui" in dialog.question
        await pilot.press("y")
        await wait_until(pilot, lambda: len(port.answered) == 2)
        assert sorted(port.answered) == [("api-auth", 1), ("web-ui", 1)]
        await wait_until(pilot, lambda: any("Approved 2 requests" in n for n in notes))
        assert shown(screen) == ["docs-site"]


async def test_approving_alike_reports_each_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    port = FakePort(rows=waiting_rows())
    app = make_app(port)
    notes = record_notifications(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_inbox(pilot)
        port.steer_error = UsageError("api-auth is working, not waiting on a dialog")
        await pilot.press("j", "a")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: port.answered == [("web-ui", 1)])
        await wait_until(
            pilot, lambda: "error: api-auth: api-auth is working, not waiting on a dialog" in notes
        )
        await wait_until(pilot, lambda: any("Approved 1 request like" in n for n in notes))
        await wait_until(pilot, lambda: "api-auth" in shown(screen))  # back: not answered


async def test_a_on_a_request_with_no_alike_or_no_permission(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = waiting_rows()
    port = FakePort(rows=[r for r in rows if r.name != "web-ui"])
    app = make_app(port)
    notes = record_notifications(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_inbox(pilot)
        await pilot.press("a")  # docs-site asks a question: nothing to approve
        await wait_until(pilot, lambda: any("not asking a permission" in n for n in notes))
        assert port.answered == []
        await pilot.press("j", "a")  # api-auth alone: approved without asking
        await wait_until(pilot, lambda: port.answered == [("api-auth", 1)])
        assert not isinstance(app.screen, ConfirmScreen)
        assert shown(screen) == ["docs-site"]


async def test_a_port_error_is_shown_and_the_agent_comes_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = FakePort(rows=waiting_rows())
    port.steer_error = UsageError("docs-site's dialog went away before the answer")
    app = make_app(port)
    notes = record_notifications(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_inbox(pilot)
        await pilot.press("1")
        await wait_until(
            pilot,
            lambda: "error: docs-site: docs-site's dialog went away before the answer" in notes,
        )
        await wait_until(pilot, lambda: shown(screen) == ["docs-site", "api-auth", "web-ui"])
        assert port.answered == []
        assert app.is_running


async def test_w_and_tab_jump_to_the_next_item_and_wrap() -> None:
    port = FakePort(rows=waiting_rows())
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_inbox(pilot)
        seen = []
        for key in ("w", "tab", "w", "down", "up", "k", "j", "j", "j"):
            await pilot.press(key)
            seen.append(focused(screen))
        assert seen == [
            "api-auth",
            "web-ui",
            "docs-site",
            "api-auth",
            "docs-site",
            "docs-site",
            "api-auth",
            "web-ui",
            "web-ui",
        ]


async def test_the_inbox_follows_the_view() -> None:
    rows = waiting_rows()
    port = FakePort(rows=rows)
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_inbox(pilot)
        await pilot.press("j")
        newcomer = make_row(
            "db-migrate",
            Status.NEEDS_INPUT,
            age=1,
            input_kind=InputKind.PERMISSION,
            question="Run the migration?",
            options=("Yes", "No"),
        )
        port.push_from_thread([*rows, newcomer])
        await wait_until(pilot, lambda: "db-migrate" in shown(screen))
        assert shown(screen) == ["docs-site", "api-auth", "web-ui", "db-migrate"]
        assert focused(screen) == "api-auth"
        # The focused agent moves on (answered in its pane): the focus goes to the next one.
        port.push_from_thread(
            [replace(r, status=Status.WORKING) if r.name == "api-auth" else r for r in port.rows]
        )
        await wait_until(pilot, lambda: "api-auth" not in shown(screen))
        assert focused(screen) == "web-ui"
        # A detail that a hook reports later shows up in the item.
        port.push_from_thread(
            [
                replace(r, detail="Edit: db/schema.sql") if r.name == "db-migrate" else r
                for r in port.rows
            ]
        )
        await wait_until(pilot, lambda: "Edit: db/schema.sql" in screen.items[-1].text)


async def test_an_empty_inbox_says_so_and_how_to_get_back() -> None:
    port = FakePort(rows=[make_row("alpha")])
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_inbox(pilot)
        empty = screen.query_one("#inbox-empty")
        assert empty.display
        assert EMPTY_INBOX in str(empty.render())
        assert "esc" in str(empty.render())
        await pilot.press("1", "y", "a", "r", "enter")  # nothing to act on: nothing happens
        await pilot.pause()
        assert app.screen is screen
        assert port.answered == [] and port.attached == []
        # An agent starts waiting: it appears.
        port.push_from_thread(waiting_rows())
        await wait_until(pilot, lambda: len(screen.items) == 3)
        assert not empty.display


@pytest.mark.parametrize("key", ["escape", "i", "q"])
async def test_escape_i_and_q_close_the_inbox(key: str) -> None:
    app = make_app(FakePort(rows=waiting_rows()))
    async with app.run_test(size=SIZE) as pilot:
        await open_inbox(pilot)
        await pilot.press(key)
        await wait_until(pilot, lambda: not isinstance(app.screen, InboxScreen))
        assert app.is_running


async def test_enter_attaches_to_the_focused_agent(monkeypatch: pytest.MonkeyPatch) -> None:
    port = FakePort(rows=waiting_rows(), attach_argv=["tmux", "attach"])
    app = make_app(port)
    ran: list[list[str]] = []
    monkeypatch.setattr(app.dashboard.agent_flow, "run_foreground", ran.append)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_inbox(pilot)
        await pilot.press("j", "enter")
        await wait_until(pilot, lambda: bool(ran))
        assert port.attached == ["api-auth"]
        assert app.screen is screen  # back from the pane, the inbox is still there
        assert app.dashboard.selected_name == "api-auth"


async def test_a_click_focuses_an_item() -> None:
    app = make_app(FakePort(rows=waiting_rows()))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_inbox(pilot)
        await pilot.click(screen.items[2])
        await wait_until(pilot, lambda: focused(screen) == "web-ui")


async def test_reply_box_is_an_input() -> None:
    app = make_app(FakePort(rows=waiting_rows()))
    async with app.run_test(size=SIZE) as pilot:
        await open_inbox(pilot)
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, ReplyScreen))
        assert app.screen.focused is app.screen.query_one("#reply", Input)


# -- the strip on the dashboard ----------------------------------------------------------------


async def test_the_strip_says_how_many_wait_and_what_the_oldest_asks() -> None:
    rows = waiting_rows()
    port = FakePort(rows=rows)
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        text = app.dashboard.strip.text
        assert text.startswith(" ⚑ 3 waiting ")
        assert "docs-site 2m: Which locale should be the default?" in text
        assert "1 English  2 German" in text
        assert app.dashboard.strip.has_class("-waiting")
        # Nobody waits: one dim line.
        port.push_from_thread(
            replace(r, status=Status.WORKING) if r.status is Status.NEEDS_INPUT else r for r in rows
        )
        await wait_until(pilot, lambda: NOBODY_WAITS in app.dashboard.strip.text)
        assert not app.dashboard.strip.has_class("-waiting")


async def test_the_strip_repaints_only_when_the_inbox_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = waiting_rows()
    port = FakePort(rows=rows)
    now = [1_700_000_000.0]
    app = QuarterdeckApp(port, clock=lambda: now[0], preview_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        updates: list[object] = []
        text_widget = app.dashboard.strip.query_one("#strip-text")
        original = text_widget.update  # type: ignore[attr-defined]

        def spy(*args: object, **kwargs: object) -> None:
            updates.append(args)
            original(*args, **kwargs)

        monkeypatch.setattr(text_widget, "update", spy)
        # A busy agent changes: the inbox part did not.
        port.push_from_thread(
            replace(r, summary="Running make check") if r.name == "build-fix" else r for r in rows
        )
        table = app.dashboard.table
        await wait_until(
            pilot,
            lambda: table.row("build-fix").summary == "Running make check",  # type: ignore[union-attr]
        )
        app.dashboard.strip.tick(now[0] + 20)  # 2m30s -> 2m50s: still "2m"
        assert updates == []
        app.dashboard.strip.tick(now[0] + 40)  # 3m
        assert len(updates) == 1
        assert "docs-site 3m:" in app.dashboard.strip.text


async def test_the_strip_is_hidden_on_an_empty_fleet() -> None:
    app = make_app(FakePort())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert not app.dashboard.strip.display


def test_a_screen_with_several_dialogs_shows_them_all_and_says_when_focus_is_unknown() -> None:
    from app.ui.inbox.screen import item_content

    row = replace(
        waiting_rows()[1],
        others=("trust: Do you trust the files in this folder? (1. Trust folder; 2. Don't trust)",),
        focused=False,
    )
    text = item_content(row, now=row.since + 5).plain
    assert "also open: trust: Do you trust the files in this folder?" in text
    assert "which one takes keys is not known" in text
    known = item_content(replace(row, focused=True), now=row.since + 5).plain
    assert "also open: trust:" in known and "not known" not in known
