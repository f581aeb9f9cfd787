"""Dialogs, answers and interrupts as the real CLIs take them, with stand-ins that draw the
recorded screens of the real CLIs and react to keys as those were seen to (`standin_cli`),
in real tmux panes, through the real fleet."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.agent import SpawnRequest
from app.core.errors import QuarterdeckError, UsageError
from app.core.status import InputKind, Status
from app.fleet.fleet import Fleet
from tests.helpers import wait_for

STANDIN = Path(__file__).resolve().parent / "standin_cli.py"


def standin(fleet: Fleet, name: str, kind: str, *args: str, prompt: str = "go on") -> None:
    command = " ".join(["{python}", str(STANDIN), *args])
    fleet.spawn(SpawnRequest(prompt=prompt, kind=kind, name=name, command=command))


def status(fleet: Fleet, name: str) -> Status:
    fleet.sweep(deliver=True)
    return fleet.get(name).shown.status


def test_interrupt_presses_again_when_the_cli_asks_and_verifies_the_turn_stopped(
    repo: Path,
) -> None:
    fleet = Fleet.open(repo)
    standin(fleet, "oc", "opencode", "double-esc")
    wait_for(lambda: status(fleet, "oc") is Status.WORKING, what="working")
    assert fleet.interrupt("oc") == "interrupted oc"
    wait_for(lambda: status(fleet, "oc") is Status.IDLE, what="idle after the interrupt")
    trail = [e for _, _, e in fleet.evidence("oc")]
    assert "user: interrupt again (asked)" in trail


def test_interrupt_presses_again_when_a_press_showed_no_sign(repo: Path) -> None:
    fleet = Fleet.open(repo)
    standin(fleet, "lossy", "opencode", "double-esc", "lose-first")
    wait_for(lambda: status(fleet, "lossy") is Status.WORKING, what="working")
    assert fleet.interrupt("lossy") == "interrupted lossy"
    trail = [e for _, _, e in fleet.evidence("lossy")]
    assert "user: interrupt again (no sign of the last press)" in trail
    assert "user: interrupt again (asked)" in trail


def test_an_answer_that_restarts_the_cli_is_followed_past_the_usual_wait(repo: Path) -> None:
    # Gemini keeps its trust box up under a restart note for about 12 s; the stand-in for 6 s,
    # longer than an answer usually may take.
    fleet = Fleet.open(repo)
    # No first prompt: the stand-in would never show it taken, and the agent stay starting.
    standin(fleet, "gt", "gemini", "restart-trust", "6", prompt="")
    wait_for(
        lambda: (
            status(fleet, "gt") is Status.NEEDS_INPUT
            and fleet.get("gt").shown.input_kind is InputKind.TRUST
        ),
        what="the trust box",
    )
    said = fleet.answer("gt", 1)
    assert said == "answered gt: Trust folder (gemini1) (it restarted to apply it)"
    wait_for(lambda: status(fleet, "gt") is Status.IDLE, what="idle after the restart")


def test_no_key_is_pressed_when_the_screen_has_two_dialogs_and_the_focus_is_unknown(
    repo: Path, tmp_path: Path
) -> None:
    # The recorded Gemini screen with a shell confirmation above the trust box, read by rules
    # that do not say which dialog takes the keys.
    (repo / ".quarterdeck.toml").write_text('[agents.gemini]\ndialog_focus = ""\n')
    keys = tmp_path / "keys.log"
    fleet = Fleet.open(repo)
    fleet.spawn(
        SpawnRequest(
            prompt="bash: run a command",
            kind="gemini",
            name="g2",
            command=f"env STANDIN_KEYS={keys} {{python}} {STANDIN} show "
            "gemini/02-trust-box-under-shell-permission",
        )
    )
    # The screen may be read while tmux has drawn only its top part (the shell confirmation
    # alone, which then takes the keys): wait for both dialogs.
    wait_for(
        lambda: (
            status(fleet, "g2") is Status.NEEDS_INPUT
            and fleet.get("g2").shown.input_kind is InputKind.TRUST
        ),
        what="the dialogs",
    )
    shown = fleet.get("g2").shown
    assert not shown.focused
    assert shown.others == (
        "permission: Allow execution of [Shell]? (1. Allow once; 2. No, suggest changes (esc))",
    )
    with pytest.raises(UsageError, match="cannot tell which one the keys would reach"):
        fleet.answer("g2", 1)
    with pytest.raises(UsageError, match="cannot tell which one the keys would reach"):
        fleet.reply("g2", "trust it")
    assert not keys.exists() or keys.read_text() == ""


def test_no_text_follows_an_option_that_answered_at_once(repo: Path, tmp_path: Path) -> None:
    # Gemini's question, where picking "Enter a custom value" would here answer at once.
    keys = tmp_path / "keys.log"
    fleet = Fleet.open(repo)
    fleet.spawn(
        SpawnRequest(
            prompt="ask: pick a color",
            kind="gemini",
            name="gq",
            command=f"env STANDIN_KEYS={keys} {{python}} {STANDIN} then "
            "gemini/30-question-ask-user gemini/13-idle-after-turn",
        )
    )
    wait_for(
        lambda: (
            status(fleet, "gq") is Status.NEEDS_INPUT
            and fleet.get("gq").shown.input_kind is InputKind.QUESTION
        ),
        what="the question",
    )
    with pytest.raises(QuarterdeckError, match="answered gq's question at once; the text was not"):
        fleet.reply("gq", "green please")
    assert keys.read_text().splitlines() == ["'3'"]


def test_the_text_follows_an_option_whose_field_opens_after_a_redraw(
    repo: Path, tmp_path: Path
) -> None:
    # Gemini's question: "Enter a custom value" opens its field, the dialog redrawn (a moment
    # with no dialog on screen) with its footer saying submit.
    keys = tmp_path / "keys.log"
    fleet = Fleet.open(repo)
    fleet.spawn(
        SpawnRequest(
            prompt="ask: pick a color",
            kind="gemini",
            name="gf",
            command=f"env STANDIN_KEYS={keys} {{python}} {STANDIN} flicker "
            "gemini/30-question-ask-user gemini/31-ask-user-custom-field-open",
        )
    )
    wait_for(
        lambda: (
            status(fleet, "gf") is Status.NEEDS_INPUT
            and fleet.get("gf").shown.input_kind is InputKind.QUESTION
        ),
        what="the question",
    )
    # The stand-in never takes the answer: typed, then not seen taken.
    with pytest.raises(QuarterdeckError, match="typed a reply into gf"):
        fleet.reply("gf", "green please")
    assert keys.read_text().splitlines()[:2] == ["'3'", "'green please'"]


def test_no_key_reaches_a_trust_box_with_a_prompt_running_behind_it(
    repo: Path, tmp_path: Path
) -> None:
    # Gemini with a -i prompt in a folder it does not trust: the box is drawn alone, but a tool
    # confirmation of the prompt behind it takes a "1" meant for the box (it ran the command).
    keys = tmp_path / "keys.log"
    fleet = Fleet.open(repo)
    fleet.spawn(
        SpawnRequest(
            prompt="",
            kind="gemini",
            name="g3",
            command=f"env STANDIN_KEYS={keys} {{python}} {STANDIN} show "
            "gemini/63-trust-box-over-running-prompt",
        )
    )
    wait_for(lambda: status(fleet, "g3") is Status.NEEDS_INPUT, what="the trust box")
    shown = fleet.get("g3").shown
    assert shown.input_kind is InputKind.TRUST and not shown.focused
    assert shown.others == (
        "a dialog of the prompt running behind it (not drawn: it may take the keys)",
    )
    with pytest.raises(UsageError, match="cannot tell which one the keys would reach"):
        fleet.answer("g3", 1)
    assert not keys.exists() or keys.read_text() == ""
