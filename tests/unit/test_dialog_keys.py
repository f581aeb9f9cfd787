"""The keys that answer the real CLIs' dialogs, read from their recorded screens: by number,
by arrows where digits only move the selection, and in words the way each CLI takes words
(learned from the CLIs themselves; see the notes in ``tests/fixtures/screens/labels.toml``)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.agents.registry import builtin_adapters
from app.core.answers import free_text_option
from app.core.classify import PaneView, classify
from app.core.status import InputKind, Reading
from app.infra.settings import builtin_profiles
from tests.unit.test_real_screens import load_pane

PROFILES = builtin_profiles()
ADAPTERS = {kind: builtin_adapters().for_kind(kind, p) for kind, p in PROFILES.items()}


def dialog(agent: str, stem: str) -> Reading:
    return classify(PROFILES[agent], load_pane(agent, stem))


@pytest.mark.parametrize(
    ("agent", "stem", "number", "keys"),
    [
        # Claude Code's trust list has no numbers (a digit does nothing): arrows, then Enter.
        ("claude", "01-trust-folder-prompt", 2, [["Down"], ["Enter"]]),
        ("claude", "01-trust-folder-prompt", 1, [["Enter"]]),
        # Its API-key list starts on its second option.
        ("claude", "02-custom-api-key-prompt", 1, [["Up"], ["Enter"]]),
        # Numbered lists take the number.
        ("claude", "20-permission-bash", 1, [["-l", "1"]]),
        # Codex's folder screen: "1" only selects, Enter confirms.
        ("codex", "01-trust-folder-prompt", 1, [["Enter"]]),
        ("codex", "20-permission-bash", 1, [["-l", "1"]]),
        ("gemini", "01-trust-folder-prompt", 1, [["-l", "1"]]),
        ("opencode", "20-permission-bash", 3, [["Down"], ["Down"], ["Enter"]]),
        ("aider", "20-permission-run-shell-command", 1, [["-l", "y"], ["Enter"]]),
    ],
)
def test_the_keys_that_pick_an_option(
    agent: str, stem: str, number: int, keys: list[list[str]]
) -> None:
    reading = dialog(agent, stem)
    assert ADAPTERS[agent].answer_keys(PROFILES[agent], number, reading) == keys


@pytest.mark.parametrize(
    ("agent", "stem", "keys"),
    [
        # Claude: the selection moves onto "Type something." and the text is typed into it
        # (its number, pressed again while there, would be typed into the answer).
        (
            "claude",
            "30-question-askuserquestion",
            [["Down"], ["Down"], ["-l", "green please"], ["Enter"]],
        ),
        # Codex: "None of the above" by arrows (its number submits at once), Tab for notes.
        (
            "codex",
            "30-question-request-user-input-plan-mode",
            [["Down"], ["Down"], ["Tab"], ["-l", "green please"], ["Enter"]],
        ),
        # opencode: Enter on "Type your own answer" opens its field.
        (
            "opencode",
            "30-question-tool",
            [["Down"], ["Down"], ["Enter"], ["-l", "green please"], ["Enter"]],
        ),
    ],
)
def test_the_keys_that_answer_a_question_in_words(
    agent: str, stem: str, keys: list[list[str]]
) -> None:
    reading = dialog(agent, stem)
    assert reading.kind is InputKind.QUESTION
    option = free_text_option(reading.options)
    assert option is not None, reading.options
    assert ADAPTERS[agent].reply_keys(PROFILES[agent], reading, option, "green please") == keys


def test_gemini_takes_words_by_picking_its_custom_value_option_first() -> None:
    reading = dialog("gemini", "30-question-ask-user")
    option = free_text_option(reading.options)
    assert option == 3
    assert ADAPTERS["gemini"].reply_keys(PROFILES["gemini"], reading, option, "x") is None
    assert ADAPTERS["gemini"].answer_keys(PROFILES["gemini"], option, reading) == [["-l", "3"]]


def _stacked(agent: str, upper: str, lower: str) -> PaneView:
    """Two recorded dialogs of one CLI on one screen, the first above the second."""

    def trimmed(stem: str, keep: int) -> list[str]:
        lines = load_pane(agent, stem).text.splitlines()
        while lines and not lines[-1].strip():
            lines.pop()
        return lines[-keep:]

    pane = load_pane(agent, lower)
    return replace(pane, text="\n".join([*trimmed(upper, 14), "", *trimmed(lower, 14)]))


@pytest.mark.parametrize(
    ("agent", "upper", "lower"),
    [
        ("claude", "20-permission-bash", "30-question-askuserquestion"),
        ("codex", "20-permission-bash", "01-trust-folder-prompt"),
        ("gemini", "20-permission-bash", "01-trust-folder-prompt"),
        ("opencode", "30-question-tool", "20-permission-bash"),
    ],
)
def test_every_cli_rule_set_finds_a_second_dialog_on_the_screen(
    agent: str, upper: str, lower: str
) -> None:
    profile = replace(PROFILES[agent], dialog_focus="")
    reading = classify(profile, _stacked(agent, upper, lower))
    alone = classify(profile, load_pane(agent, upper))
    assert len(reading.others) == 1 and not reading.focused
    assert alone.options[0] in reading.others[0]


def test_a_line_based_prompt_has_only_answered_questions_above_it() -> None:
    # Aider asks one line at a time: the question above the last line was answered ("y").
    screen = (
        "Add .aider* to .gitignore (recommended)? (Y)es/(N)o [Yes]: y\n"
        "Run shell command? (Y)es/(N)o/(D)on't ask again [Yes]: "
    )
    reading = classify(PROFILES["aider"], PaneView(screen))
    assert reading.question == "Run shell command?" and reading.others == ()
