"""Steering from the dashboard, driven by keys through Pilot: the next waiting agent, marks,
messages (queued, interrupt-first, broadcast), interrupts and the bell."""

from __future__ import annotations

import threading

import pytest
from textual.pilot import Pilot
from textual.widgets import RadioSet, Static, TextArea

from app.core.alerts import Alert, AlertKind
from app.core.errors import UsageError
from app.core.messages import MessageMode
from app.core.status import is_ended
from app.ui.app import QuarterdeckApp
from app.ui.dialogs.confirm import ConfirmScreen
from app.ui.dialogs.message import MessageScreen
from tests.ui.fakes import NOW, FakePort, make_row, twelve_rows, wait_until, waiting_rows
from tests.ui.test_dashboard import SIZE, make_app, record_notifications


async def open_message(pilot: Pilot[None], key: str = "m") -> MessageScreen:
    await pilot.press(key)
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, MessageScreen))
    screen = pilot.app.screen
    assert isinstance(screen, MessageScreen)
    return screen


def recipients(screen: MessageScreen) -> str:
    return str(screen.query_one("#recipients", Static).render())


# -- the next waiting agent --------------------------------------------------------------------


async def test_w_selects_the_next_waiting_agent_and_cycles(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = FakePort(rows=waiting_rows())
    app = make_app(port)
    notes = record_notifications(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.dashboard.selected_name == "build-fix"
        seen = []
        for _ in range(4):
            await pilot.press("w")
            seen.append(app.dashboard.selected_name)
        # Longest-waiting first, then in inbox order, wrapping.
        assert seen == ["docs-site", "api-auth", "web-ui", "docs-site"]
        port.push_from_thread([make_row("alpha"), make_row("beta")])
        await wait_until(pilot, lambda: app.dashboard.table.row_count == 2)
        await pilot.press("w")
        await wait_until(pilot, lambda: "information: No agent waits for you" in notes)


# -- marks -------------------------------------------------------------------------------------


async def test_space_marks_and_moves_down_escape_clears() -> None:
    app = make_app(FakePort(rows=twelve_rows()))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space", "space", "j", "space")
        assert list(app.dashboard.table.marked_names) == [
            "fix-login-bug",
            "add-dark-mode",
            "docs-api",
        ]
        assert app.dashboard.selected_name == "flaky-test-hunt"
        await pilot.press("k", "space")  # unmark
        assert list(app.dashboard.table.marked_names) == ["fix-login-bug", "add-dark-mode"]
        await pilot.press("escape")
        assert list(app.dashboard.table.marked_names) == []


# -- messages ----------------------------------------------------------------------------------


async def test_m_sends_a_two_line_message_to_the_marked_agents(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = FakePort(rows=twelve_rows())
    app = make_app(port)
    notes = record_notifications(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space", "space")
        screen = await open_message(pilot)
        assert recipients(screen) == "To: fix-login-bug, add-dark-mode (2 agents)"
        assert screen.mode is MessageMode.QUEUE
        await pilot.press(*"use the new API", "enter", *"and add a test", "ctrl+s")
        await wait_until(pilot, lambda: bool(port.sent))
        assert port.sent == [
            (
                ("fix-login-bug", "add-dark-mode"),
                "use the new API\nand add a test",
                MessageMode.QUEUE,
            )
        ]
        await wait_until(pilot, lambda: app.screen is not screen)
        await wait_until(pilot, lambda: "information: Message queued for 2 agents" in notes)


async def test_m_without_marks_messages_the_selected_agent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = FakePort(rows=twelve_rows())
    app = make_app(port)
    notes = record_notifications(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("j")
        screen = await open_message(pilot)
        assert recipients(screen) == "To: add-dark-mode (1 agent)"
        await pilot.press(*"hi", "ctrl+s")
        await wait_until(
            pilot, lambda: port.sent == [(("add-dark-mode",), "hi", MessageMode.QUEUE)]
        )
        await wait_until(pilot, lambda: "information: Message queued for add-dark-mode" in notes)


async def test_c_opens_the_message_screen_in_interrupt_mode(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = FakePort(rows=twelve_rows())
    app = make_app(port)
    notes = record_notifications(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_message(pilot, "c")
        assert screen.mode is MessageMode.INTERRUPT
        assert recipients(screen) == "To: fix-login-bug (1 agent)"
        await pilot.press(*"stop, wrong file", "ctrl+s")
        await wait_until(pilot, lambda: bool(port.sent))
        assert port.sent == [(("fix-login-bug",), "stop, wrong file", MessageMode.INTERRUPT)]
        await wait_until(pilot, lambda: any("Interrupting fix-login-bug" in n for n in notes))


async def test_the_mode_can_be_switched_in_the_screen() -> None:
    port = FakePort(rows=twelve_rows())
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_message(pilot)
        await pilot.press(*"x", "tab")  # to the mode choice
        assert isinstance(screen.focused, RadioSet)
        await pilot.press("down", "enter")
        assert screen.mode is MessageMode.INTERRUPT
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: bool(port.sent))
        assert port.sent[0][2] is MessageMode.INTERRUPT


async def test_shift_m_broadcasts_to_every_live_agent() -> None:
    rows = twelve_rows()
    port = FakePort(rows=rows)
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        app.dashboard.table.toggle_mark("docs-api")  # marks do not matter to a broadcast
        screen = await open_message(pilot, "M")
        # A finished (done) agent takes no messages, like an exited or failed one.
        live = tuple(r.name for r in rows if not is_ended(r.status))
        assert len(live) == 9
        assert recipients(screen).startswith("To: every live agent (9 agents): fix-login-bug")
        assert "and 3 more" in recipients(screen)
        await pilot.press(*"wrap up and commit", "ctrl+s")
        await wait_until(pilot, lambda: bool(port.sent))
        assert port.sent == [(live, "wrap up and commit", MessageMode.QUEUE)]


async def test_an_empty_message_is_refused_in_the_screen() -> None:
    port = FakePort(rows=twelve_rows())
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_message(pilot)
        await pilot.press(" ", "enter", "ctrl+s")
        error = screen.query_one("#error", Static)
        await wait_until(pilot, lambda: bool(error.display))
        assert "empty" in str(error.render())
        assert app.screen is screen
        assert port.sent == []


async def test_a_refused_send_keeps_the_screen_and_the_text() -> None:
    port = FakePort(rows=twelve_rows())
    port.steer_error = UsageError("bump-deps has exited; it cannot take a message")
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_message(pilot)
        await pilot.press(*"keep me", "ctrl+s")
        error = screen.query_one("#error", Static)
        await wait_until(pilot, lambda: bool(error.display))
        assert "bump-deps has exited" in str(error.render())
        assert app.screen is screen
        assert screen.query_one("#text", TextArea).text == "keep me"
        assert not screen.busy
        # Try again: it goes now.
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: bool(port.sent))
        await wait_until(pilot, lambda: app.screen is not screen)


async def test_escape_cancels_a_message() -> None:
    port = FakePort(rows=twelve_rows())
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_message(pilot)
        await pilot.press(*"never mind", "escape")
        await wait_until(pilot, lambda: app.screen is not screen)
        assert port.sent == []


async def test_keys_typed_right_after_m_reach_the_text() -> None:
    port = FakePort(rows=twelve_rows())
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_message(pilot)
        screen.set_focus(None)
        await pilot.press("o", "k", "ctrl+s")
        await wait_until(pilot, lambda: bool(port.sent))
        assert port.sent[0][1] == "ok"


# -- interrupts --------------------------------------------------------------------------------


async def test_bang_interrupts_the_selected_agent_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = FakePort(rows=twelve_rows())
    app = make_app(port)
    notes = record_notifications(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("exclamation_mark")
        await wait_until(pilot, lambda: port.interrupted == ["fix-login-bug"])
        await wait_until(pilot, lambda: "information: Interrupted fix-login-bug" in notes)


async def test_bang_on_several_marked_agents_asks_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = FakePort(rows=twelve_rows())
    app = make_app(port)
    notes = record_notifications(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space", "space", "exclamation_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen)
        assert dialog.question.startswith("Interrupt 2 agents now?")
        await pilot.press("n")
        await pilot.pause()
        assert port.interrupted == []
        port.steer_error = UsageError("the pane of 'fix-login-bug' is gone")
        await pilot.press("exclamation_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: port.interrupted == ["add-dark-mode"])
        await wait_until(
            pilot, lambda: "error: fix-login-bug: the pane of 'fix-login-bug' is gone" in notes
        )


async def test_steering_keys_do_nothing_on_an_empty_fleet() -> None:
    port = FakePort()
    app = make_app(port)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("m", "c", "M", "exclamation_mark", "space")
        await pilot.pause()
        assert app.screen is app.screen_stack[0]
        assert port.interrupted == []


# -- the bell ----------------------------------------------------------------------------------


async def test_an_alert_rings_the_bell_and_says_who_waits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = FakePort(rows=waiting_rows())
    app = make_app(port)
    notes = record_notifications(app, monkeypatch)
    rung: list[bool] = []
    monkeypatch.setattr(QuarterdeckApp, "bell", lambda self: rung.append(True))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert len(port.alert_callbacks) == 1
        alert = Alert(
            "api-auth",
            AlertKind.WAITING,
            "api-auth waits for you (permission)",
            "Bash: npm test -- auth",
            ("api-auth", NOW, "needs_input"),
        )
        port.alert(alert)  # on the event loop's thread
        await wait_until(pilot, lambda: rung == [True])
        await wait_until(pilot, lambda: "warning: Bash: npm test -- auth" in notes)
        finished = Alert(
            "build-fix", AlertKind.FINISHED, "build-fix finished its turn", "", ("b", NOW, "idle")
        )
        thread = threading.Thread(target=port.alert, args=(finished,))
        thread.start()
        thread.join()
        await wait_until(pilot, lambda: len(rung) == 2)
        await wait_until(pilot, lambda: "information: build-fix finished its turn" in notes)


async def test_a_burst_of_alerts_rings_once_and_names_everyone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = FakePort(rows=waiting_rows())
    app = make_app(port)
    notes = record_notifications(app, monkeypatch)
    rung: list[bool] = []
    monkeypatch.setattr(QuarterdeckApp, "bell", lambda self: rung.append(True))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for name in ("docs-site", "api-auth", "web-ui"):
            port.alert(
                Alert(name, AlertKind.WAITING, f"{name} waits", "?", (name, NOW, "needs_input"))
            )
        port.alert(Alert("build-fix", AlertKind.FINISHED, "build-fix finished", "", ("b", 0, "i")))
        await wait_until(pilot, lambda: len(notes) == 2)
        await pilot.pause()
        assert rung == [True]
        assert notes == ["warning: docs-site, api-auth, web-ui", "information: build-fix finished"]


async def test_bang_says_what_the_interrupt_did_as_the_port_tells_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An agent that was not working is not reported "interrupted": the key was only pressed.
    port = FakePort(rows=twelve_rows())
    monkeypatch.setattr(
        port, "interrupt", lambda name: f"pressed Escape in {name} (it was not working)"
    )
    app = make_app(port)
    notes = record_notifications(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("exclamation_mark")
        await wait_until(
            pilot,
            lambda: "information: Pressed Escape in fix-login-bug (it was not working)" in notes,
        )
        assert not any("Interrupted" in note for note in notes)
