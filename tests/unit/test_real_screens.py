"""Every recorded screen of the real agent CLIs reads as labelled.

The screens, their pane facts (``.meta.json``) and ``labels.toml`` were recorded from Claude Code,
Codex, Gemini CLI, Aider and opencode (see ``tests/fixtures/screens/README.md``). Each one is
classified with the built-in profile of its CLI, exactly as the fleet does it: the plain capture,
the pane title, the pane's current command and its dead flag.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from app.core.classify import PaneView, classify, strip_ansi
from app.core.status import InputKind, Status
from app.infra.settings import builtin_profiles

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "screens"
LABELS: dict[str, dict[str, dict[str, Any]]] = tomllib.loads(
    (FIXTURES / "labels.toml").read_text(encoding="utf-8")
)
# Built-in profiles only: a user's config must not change what this suite checks.
PROFILES = builtin_profiles()

#: Labels this suite disagrees with, what it asserts instead, and why. The recording is kept as
#: it is; the override is asserted so that a change of reading is still caught.
DISPUTED: dict[tuple[str, str], tuple[dict[str, Any], str]] = {
    ("gemini", "13-idle-after-turn"): (
        {"status": "working"},
        "captured mid-turn: the pane title is '✦  Working… (gemini1)' and the screen shows the "
        "'⠙ Thinking... (esc to cancel, 5s)' spinner (3 s after 12-working-streaming's 2 s); "
        "reading it as idle would mean ignoring both of Gemini's working signals",
    ),
}


def load_pane(agent: str, stem: str, *, ansi: bool = False) -> PaneView:
    """The recorded look at one pane, as `Fleet` would pass it to `classify`."""
    folder = FIXTURES / agent
    suffix = ".ansi.txt" if ansi else ".txt"
    text = (folder / f"{stem}{suffix}").read_text(encoding="utf-8")
    meta = json.loads((folder / f"{stem}.meta.json").read_text(encoding="utf-8"))
    status = str(meta.get("pane_dead_status", "")).strip()
    return PaneView(
        text=strip_ansi(text) if ansi else text,
        title=str(meta.get("pane_title", "")),
        command=str(meta.get("pane_current_command", "")),
        dead=str(meta.get("pane_dead")) == "1",
        dead_status=int(status) if status.lstrip("-").isdigit() else None,
    )


def expected(agent: str, stem: str) -> dict[str, Any]:
    """The label of a screen, with this suite's override where it disputes the label."""
    override, _why = DISPUTED.get((agent, stem), ({}, ""))
    return {**LABELS[agent][stem], **override}


CASES = [
    pytest.param(agent, stem, id=f"{agent}/{stem}")
    for agent, entries in LABELS.items()
    for stem in entries
]


@pytest.mark.parametrize(("agent", "stem"), CASES)
def test_recorded_screen_reads_as_labelled(agent: str, stem: str) -> None:
    label = expected(agent, stem)
    reading = classify(PROFILES[agent], load_pane(agent, stem))
    assert reading.status is Status(label["status"]), reading.evidence
    assert reading.kind == (InputKind(label["kind"]) if "kind" in label else None)
    if "question" in label:
        assert reading.question == label["question"]
    if "options" in label:
        assert list(reading.options) == label["options"]
    if "detail" in label:
        assert reading.detail == label["detail"]
    if "summary" in label:
        assert reading.summary == label["summary"]
    # Every other dialog open on the screen is read too, and on no other screen is one found.
    assert list(reading.others) == label.get("others", [])
    if reading.status is Status.NEEDS_INPUT:
        # What the agent asks is what the dashboard shows for it.
        assert reading.question and reading.summary == reading.question


@pytest.mark.parametrize(("agent", "stem"), CASES)
def test_the_capture_with_escapes_reads_the_same(agent: str, stem: str) -> None:
    plain = classify(PROFILES[agent], load_pane(agent, stem))
    coloured = classify(PROFILES[agent], load_pane(agent, stem, ansi=True))
    assert coloured.same_state(plain) and coloured.evidence == plain.evidence


def test_every_recorded_screen_has_a_label_and_its_files() -> None:
    screens = {
        (path.parent.name, path.name.removesuffix(".txt"))
        for path in FIXTURES.glob("*/*.txt")
        if not path.name.endswith(".ansi.txt")
    }
    labelled = {(agent, stem) for agent, entries in LABELS.items() for stem in entries}
    assert screens, "no recorded screens found"
    assert sorted(screens - labelled) == [], "recorded screens without a label in labels.toml"
    assert sorted(labelled - screens) == [], "labels without a recorded screen"
    for agent, stem in screens:
        for suffix in (".ansi.txt", ".meta.json"):
            assert (FIXTURES / agent / f"{stem}{suffix}").is_file(), f"{agent}/{stem}{suffix}"


def test_every_labelled_agent_has_a_builtin_profile() -> None:
    assert set(LABELS) <= set(PROFILES)


def test_disputed_labels_still_differ_from_the_recording() -> None:
    # When a label is corrected, its override here must go.
    for (agent, stem), (override, why) in DISPUTED.items():
        assert why
        label = LABELS[agent][stem]
        assert any(label.get(key) != value for key, value in override.items()), (agent, stem)


@pytest.mark.parametrize(
    ("agent", "stem"),
    [
        (agent, stem)
        for agent, entries in LABELS.items()
        for stem in entries
        if "permission" in stem and ("bash" in stem or "shell" in stem)
    ],
)
def test_a_permission_dialog_keeps_the_command_above_it_as_context(agent: str, stem: str) -> None:
    reading = classify(PROFILES[agent], load_pane(agent, stem))
    assert reading.status is Status.NEEDS_INPUT
    assert 0 < len(reading.context) <= 6
    assert any("echo hello-from-fake-model" in line for line in reading.context)
    # The dialog's own question and options are not context.
    assert reading.question not in reading.context
    assert not set(reading.options) & set(reading.context)


@pytest.mark.parametrize(
    ("agent", "stem", "summary"),
    [
        # Aider's files in the chat, on the line above its prompt.
        ("aider", "23-after-edit", "You can use /undo to undo and discard each aider commit."),
        # Codex's header (its folder) and its model and folder line.
        ("codex", "10-idle-at-prompt", ""),
        # Gemini's tips and its terminal warning.
        ("gemini", "18-text-in-input-while-working", ""),
        # opencode's sidebar (context, LSP, its folder) and its input placeholder.
        ("opencode", "10-idle-at-prompt", ""),
    ],
)
def test_the_last_output_skips_each_clis_furniture(agent: str, stem: str, summary: str) -> None:
    assert classify(PROFILES[agent], load_pane(agent, stem)).summary == summary


def test_a_screen_with_two_dialogs_shows_the_one_the_keys_reach_first() -> None:
    # Gemini, in a folder not trusted yet, ran its -i prompt behind the trust box: a shell
    # confirmation above the trust box, both with the selection glyph. Keys reach the upper
    # one (Down moved its selection), so it is what the agent waits on; the trust box is
    # listed with it.
    reading = classify(
        PROFILES["gemini"], load_pane("gemini", "02-trust-box-under-shell-permission")
    )
    assert reading.kind is InputKind.PERMISSION and reading.focused
    assert reading.others[0].startswith("trust: Do you trust the files in this folder?")
    assert any("echo hello-from-fake-model" in line for line in reading.context)


def test_several_dialogs_are_found_with_any_rule_set_and_not_known_focused() -> None:
    # The same screen read by a CLI whose profile does not say which dialog takes the keys:
    # both dialogs are found, the lower one shown, and it is not taken as focused.
    from dataclasses import replace

    profile = replace(PROFILES["gemini"], dialog_focus="")
    reading = classify(profile, load_pane("gemini", "02-trust-box-under-shell-permission"))
    assert reading.kind is InputKind.TRUST and not reading.focused
    assert reading.others == (
        "permission: Allow execution of [Shell]? (1. Allow once; 2. No, suggest changes (esc))",
    )


@pytest.mark.parametrize(
    ("agent", "stem", "body"),
    [
        (
            "opencode",
            "20-permission-bash",
            [
                "# Shell command",
                "$ echo hello-from-fake-model > fake_bash_output.txt && cat fake_bash_output.txt",
            ],
        ),
        (
            "codex",
            "20-permission-bash",
            [
                "Environment: local",
                "Reason: Do you want to let the fake model write a marker file?",
                "$ echo hello-from-fake-model > fake_bash_output.txt && cat fake_bash_output.txt",
            ],
        ),
    ],
)
def test_what_a_dialog_shows_under_its_question_is_its_context(
    agent: str, stem: str, body: list[str]
) -> None:
    # opencode's question is always "Permission required": what it wants to run is in the
    # dialog, between that title and the options.
    from app.core.answers import request_subject
    from app.core.views import AgentRow

    reading = classify(PROFILES[agent], load_pane(agent, stem))
    assert list(reading.context[-len(body) :]) == body
    row = AgentRow(
        "a",
        agent,
        reading.status,
        "",
        0.0,
        "",
        "",
        "",
        "",
        reading.question,
        reading.options,
        input_kind=reading.kind,
        context=reading.context,
    )
    subject = "echo hello-from-fake-model > fake_bash_output.txt && cat fake_bash_output.txt"
    assert request_subject(row) == ("", subject)
