"""Gemini CLI runs a ``-i`` prompt behind its trust box in a folder it does not trust yet, and a
tool confirmation of that prompt takes the keys meant for the box, unseen. Quarterdeck holds the
prompt back instead: it is typed once the trust dialog is answered."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

QD = str(Path(sys.executable).with_name("quarterdeck"))
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "screens"


def start(repo: Path, home: Path, name: str) -> list[str]:
    """Start a Gemini agent whose stand-in program writes down its arguments; return them."""
    argv_file = home / f"{name}.argv"
    stand_in = f'sh -c \'printf "%s\\n" "$@" > {argv_file}; exec tail -f /dev/null\' gemini'
    env = {**os.environ, "HOME": str(home)}
    env.pop("GEMINI_CLI_HOME", None)
    done = subprocess.run(
        [
            *(QD, "-C", str(repo), "new", "bash: write the marker", "--agent", "gemini"),
            *("--name", name, "--command", stand_in, "--no-wait"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    deadline = time.monotonic() + 15
    while not argv_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return argv_file.read_text().splitlines()


def prompt_state(repo: Path, name: str) -> str:
    listed = subprocess.run(
        [QD, "-C", str(repo), "ls", "--json"], capture_output=True, text=True, timeout=60
    )
    agent = next(a for a in json.loads(listed.stdout) if a["name"] == name)
    return str(agent["first_prompt"])


def test_an_untrusted_worktree_gets_the_prompt_typed_after_its_trust_dialog(
    repo: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    (home / ".gemini").mkdir(parents=True)
    argv = start(repo, home, "untrusted")
    assert "-i" not in argv and "bash: write the marker" not in argv
    assert prompt_state(repo, "untrusted") == "pending"


def test_a_trusted_worktree_gets_the_prompt_on_the_command_line(repo: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".gemini").mkdir(parents=True)
    (home / ".gemini" / "trustedFolders.json").write_text(json.dumps({"/": "TRUST_FOLDER"}))
    argv = start(repo, home, "trusted")
    assert argv[-2:] == ["-i", "bash: write the marker"]


def test_new_says_the_trust_dialog_holds_the_prompt_and_does_not_wait_it_out(
    repo: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    (home / ".gemini").mkdir(parents=True)
    screen = FIXTURES / "gemini" / "01-trust-folder-prompt.txt"
    stand_in = f"sh -c 'cat {screen}; exec tail -f /dev/null'"
    began = time.monotonic()
    done = subprocess.run(
        [
            *(QD, "-C", str(repo), "new", "bash: write the marker", "--agent", "gemini"),
            *("--name", "held", "--command", stand_in),
        ],
        capture_output=True,
        text=True,
        timeout=90,
        env={**os.environ, "HOME": str(home)},
    )
    assert done.returncode == 0, done.stderr
    assert "held waits on its trust dialog (Do you trust the files in this folder?)" in done.stderr
    assert time.monotonic() - began < 45  # not the whole wait for a prompt to be taken
    assert prompt_state(repo, "held") == "pending"
