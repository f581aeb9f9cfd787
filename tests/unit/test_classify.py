"""The demo agent's screens, and the classifier's pane-fact rules."""

import tomllib
from importlib import resources

import pytest

from app.core.classify import PaneView, classify, screen_lines
from app.core.errors import UsageError
from app.core.profiles import parse_profile, parse_profiles
from app.core.status import InputKind, Status

PROFILES = parse_profiles(
    tomllib.loads(resources.files("app.profiles").joinpath("agents.toml").read_text())
)
DEMO = PROFILES["demo"]

PERMISSION = """\
Quarterdeck demo agent · payments · seed 2 · warming up…
Ready. Type a task and press Enter (/exit to quit).
demo> Refactor payments
• Read src/shop/payments.py
• Edited src/shop/payments.py (+4 -1)
╭──────────────────────────────────────────────────────╮
│ Permission required                                  │
│ Allow demo to run `pytest -q tests/test_pay.py`?     │
│ ❯ 1. Yes                                             │
│   2. Yes, and don't ask again for this command       │
│   3. No, tell the agent what to do instead           │
│ Press 1-3 or ↑/↓ and Enter · Esc to cancel           │
╰──────────────────────────────────────────────────────╯



"""

QUESTION = """\
demo> Pick a cache
• Read src/shop/api.py
╭──────────────────────────────────────────────────────╮
│ Question from demo                                   │
│ Which cache backend should the API use?              │
│ Type your answer and press Enter · Esc to skip       │
╰──────────────────────────────────────────────────────╯
answer> red"""

WORKING = """\
demo> Fix the flaky login test
• Read tests/test_login.py
• Edited notes/login.md (+3 -1)
⠹ Editing… (esc to interrupt)"""

IDLE = """\
• Committed 1a2b3c4 Fix flaky login test
✓ Turn done: edited 2 files, 1 commits

demo> """

STARTING = "Quarterdeck demo agent · x · seed 1 · warming up…"


def test_permission_dialog_with_question_and_options() -> None:
    r = classify(DEMO, PaneView(PERMISSION, command="python3"))
    assert (r.status, r.kind) == (Status.NEEDS_INPUT, InputKind.PERMISSION)
    assert r.question == "Allow demo to run `pytest -q tests/test_pay.py`?"
    assert r.options == (
        "Yes",
        "Yes, and don't ask again for this command",
        "No, tell the agent what to do instead",
    )
    assert r.summary == r.question


def test_free_text_question() -> None:
    r = classify(DEMO, PaneView(QUESTION, command="python3"))
    assert (r.status, r.kind) == (Status.NEEDS_INPUT, InputKind.QUESTION)
    assert r.question == "Which cache backend should the API use?"


@pytest.mark.parametrize(
    ("screen", "status"),
    [
        (WORKING, Status.WORKING),
        (IDLE, Status.IDLE),
        (STARTING, Status.STARTING),
        ("", Status.UNKNOWN),
    ],
)
def test_demo_states(screen: str, status: Status) -> None:
    assert classify(DEMO, PaneView(screen, command="python3")).status is status


def test_old_dialog_above_a_new_prompt_is_not_waiting() -> None:
    screen = (
        PERMISSION.rstrip()
        + "\n✓ Allowed: pytest -q\n✓ Turn done: edited 1 files, 1 commits\n\ndemo> "
    )
    assert classify(DEMO, PaneView(screen, command="python3")).status is Status.IDLE


def test_summary_skips_spinner_and_prompt() -> None:
    assert classify(DEMO, PaneView(WORKING)).summary == "• Edited notes/login.md (+3 -1)"
    assert classify(DEMO, PaneView(IDLE)).summary == "✓ Turn done: edited 2 files, 1 commits"


def test_pane_facts_win_over_the_screen() -> None:
    dead = classify(DEMO, PaneView(PERMISSION, dead=True, dead_status=0))
    assert dead.status is Status.EXITED and dead.evidence.source == "pane"
    crashed = classify(DEMO, PaneView(WORKING, dead=True, dead_status=1))
    assert crashed.status is Status.FAILED and "status 1" in crashed.evidence.detail
    shell_back = classify(DEMO, PaneView(WORKING, command="bash"))
    assert shell_back.status is Status.EXITED
    # For the shell kind a shell in the pane is the agent itself.
    assert (
        classify(PROFILES["shell"], PaneView("user@host:~$ ", command="bash")).status is Status.IDLE
    )


def test_title_rules() -> None:
    codex = PROFILES["codex"]
    assert classify(codex, PaneView("", title="⠋ repo", command="codex")).status is Status.WORKING


def test_screen_lines_strip_box_borders() -> None:
    assert screen_lines("│ hi │\n\n  \n╰──╯") == ["hi", "╰──╯"]


def test_profile_errors_name_the_place() -> None:
    with pytest.raises(UsageError, match="missing 'command'"):
        parse_profile("x", {})
    with pytest.raises(UsageError, match=r"agent 'x', rule 1.*invalid regular expression"):
        parse_profile("x", {"command": "x", "rules": [{"status": "idle", "screen": "("}]})
    with pytest.raises(UsageError, match="unknown status"):
        parse_profile("x", {"command": "x", "rules": [{"status": "sleepy", "screen": "a"}]})
    with pytest.raises(UsageError, match="needs a 'screen' or a 'title'"):
        parse_profile("x", {"command": "x", "rules": [{"status": "idle"}]})


def test_every_builtin_kind_has_a_command() -> None:
    assert {"claude", "codex", "gemini", "aider", "opencode", "demo", "shell"} <= set(PROFILES)
    argv = PROFILES["gemini"].argv("do it; rm -rf /", "py", "sh")
    assert argv == ["gemini", "-i", "do it; rm -rf /"]
    assert PROFILES["demo"].argv("x", "/py", "sh") == ["/py", "-m", "app.demo.agent"]


def test_tmux_dead_pane_note_is_not_output() -> None:
    screen = IDLE + "\nBye.\n\nPane is dead (status 0, Sat Nov 21 08:54:41 2026)"
    assert classify(DEMO, PaneView(screen, dead=True, dead_status=0)).summary == "Bye."
