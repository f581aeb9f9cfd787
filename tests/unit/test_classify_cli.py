"""``quarterdeck classify``: how a saved screen reads, without a repository or tmux."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import main

SCREENS = Path(__file__).resolve().parents[1] / "fixtures" / "screens"
CLAUDE_PERMISSION = SCREENS / "claude" / "20-permission-bash.txt"


@pytest.fixture(autouse=True)
def no_user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The built-in profiles only: no ~/.config/quarterdeck, no .quarterdeck.toml in the cwd."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.chdir(tmp_path)


def test_human_output_names_status_question_options_and_rule(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["classify", "--agent", "claude", "--screen", str(CLAUDE_PERMISSION)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "status:   needs_input (permission)"
    assert out[1] == "question: Do you want to proceed?"
    assert out[2:7] == [
        "options:",
        "  1. Yes",
        "  2. Yes, and always allow access to /home/user/projects/claude2 from this project",
        "  3. Yes, and switch to auto mode · auto mode handles these prompts for you",
        "  4. No",
    ]
    assert out[7] == "context:"  # the lines above the dialog
    assert "  echo hello-from-fake-model > fake_bash_output.txt && cat fake_bash_output.txt" in out
    assert out[-2] == "rule:     claude: permission dialog"
    assert out[-1] == "summary:  Do you want to proceed?"


def test_json_output_with_title_from_the_meta_file(capsys: pytest.CaptureFixture[str]) -> None:
    stem = SCREENS / "codex" / "11-working-before-first-token"
    argv = ["classify", "-a", "codex", "--screen", f"{stem}.ansi.txt", "--json"]
    assert main([*argv, "--meta", f"{stem}.meta.json"]) == 0
    reading = json.loads(capsys.readouterr().out)
    assert reading == {
        "agent": "codex",
        "status": "working",
        "kind": None,
        "question": "",
        "options": [],
        "context": [],
        "evidence": "screen: codex: spinner title",
        "rule": "codex: spinner title",
        "summary": "• lorem",
        "others": [],
        "focused": True,
    }
    # Without the title the same screen shows only Codex's composer; --title overrides the meta.
    assert main([*argv, "--meta", f"{stem}.meta.json", "--title", "codex1"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "idle"


def test_pane_facts_from_flags(capsys: pytest.CaptureFixture[str]) -> None:
    screen = str(SCREENS / "claude" / "00-fresh-onboarding-preflight-fail.txt")
    assert main(["classify", "-a", "claude", "--screen", screen, "--dead", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "failed"
    assert (
        main(["classify", "-a", "claude", "--screen", str(CLAUDE_PERMISSION), "--command", "zsh"])
        == 0
    )
    out = capsys.readouterr().out
    assert "status:   exited" in out and "rule:     pane: shell 'zsh' is back" in out
    assert main(["classify", "-a", "claude", "--screen", screen, "--dead-status", "3"]) == 0
    assert "status:   failed" in capsys.readouterr().out


def test_screen_from_standard_input(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("Run shell command? (Y)es/(N)o [Yes]: "))
    assert main(["classify", "-a", "aider", "--screen", "-"]) == 0
    out = capsys.readouterr().out
    assert "status:   needs_input (permission)" in out and "  2. No" in out


def test_unknown_kind_lists_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["classify", "-a", "nope", "--screen", str(CLAUDE_PERMISSION)]) == 2
    err = capsys.readouterr().err
    assert "unknown agent kind 'nope'" in err
    assert "aider, claude, codex, demo, gemini, opencode, shell" in err


def test_missing_screen_file_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["classify", "-a", "claude", "--screen", "no-such-screen.txt"]) == 2
    err = capsys.readouterr().err
    assert "cannot read the screen file 'no-such-screen.txt'" in err
    assert "No such file or directory" in err


def test_the_installed_command(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("quarterdeck")
    if not exe.exists():
        pytest.skip("quarterdeck is not installed in this environment")
    stem = SCREENS / "gemini" / "20-permission-bash"
    title = "✋  Action Required (gemini1)"
    out = subprocess.run(
        [
            str(exe),
            "classify",
            "-a",
            "gemini",
            "--screen",
            f"{stem}.txt",
            "--json",
            "--title",
            title,
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "XDG_CONFIG_HOME": str(tmp_path), "HOME": str(tmp_path)},
    )
    reading = json.loads(out.stdout)
    assert (reading["status"], reading["kind"]) == ("needs_input", "permission")
    assert reading["question"] == "Allow execution of [Shell]?"
    assert reading["options"] == [
        "Allow once",
        "Allow for this session",
        "No, suggest changes (esc)",
    ]


def test_other_dialogs_on_the_screen_are_printed(capsys: pytest.CaptureFixture[str]) -> None:
    stem = SCREENS / "gemini" / "02-trust-box-under-shell-permission"
    argv = ["classify", "-a", "gemini", "--screen", f"{stem}.txt", "--meta", f"{stem}.meta.json"]
    assert main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "question: Allow execution of [Shell]?"
    assert any(line.startswith("also open: trust: Do you trust the files") for line in out)
