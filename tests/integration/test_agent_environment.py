"""An agent's environment is the one of the command that starts it (plus its kind's ``env``),
not the one the private tmux server happened to start with."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from app.fleet.fleet import Fleet
from tests.helpers import wait_for

QD = str(Path(sys.executable).with_name("quarterdeck"))
#: A kind that writes its environment to a file in its worktree and waits.
KIND = """
[agents.envdump]
command = ["sh", "-c", "env > env.txt; command -v only-here >> env.txt; exec tail -f /dev/null"]
program = "sh"
env = { KIND_VAR = "from-the-kind", ANTHROPIC_MODEL = "kind-model", PATH = "{path}" }
"""


def new(repo: Path, name: str, env: dict[str, str]) -> None:
    out = subprocess.run(
        [QD, "-C", str(repo), "new", "", "--agent", "envdump", "--name", name],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert out.returncode == 0, out.stderr


def seen(repo: Path, name: str) -> dict[str, str]:
    listed = subprocess.run(
        [QD, "-C", str(repo), "ls", "--json"], capture_output=True, text=True, timeout=60
    )
    worktree = next(a["worktree"] for a in json.loads(listed.stdout) if a["name"] == name)
    path = Path(worktree) / "env.txt"
    text: str = wait_for(lambda: path.read_text() if path.is_file() else "", what=f"{path}")
    env = {k: v for k, _, v in (line.partition("=") for line in text.splitlines()) if v}
    env["which only-here"] = text.splitlines()[-1]
    return env


def test_a_new_agent_gets_the_starting_commands_environment(repo: Path, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tool = bin_dir / "only-here"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    # tmux gives a window made by a command client that client's PATH, whatever `-e` says.
    kind_path = f"{bin_dir}:{os.environ['PATH']}"
    (repo / ".quarterdeck.toml").write_text(KIND.replace("{path}", kind_path))
    first = {
        **os.environ,
        "ANTHROPIC_BASE_URL": "http://127.0.0.1:1111",
        "DROPPED_LATER": "1",
        "TERM": "dumb-launcher-terminal",
    }
    new(repo, "first", first)  # starts the private tmux server with this environment
    second = {
        **{k: v for k, v in os.environ.items() if k != "DROPPED_LATER"},
        "ANTHROPIC_BASE_URL": "http://127.0.0.1:2222",
        "ANTHROPIC_MODEL": "shell-model",
        "TMUX": "/tmp/someone-elses-tmux,1,0",
    }
    new(repo, "second", second)
    env = seen(repo, "second")
    assert env["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:2222"
    assert "DROPPED_LATER" not in env
    assert env["PATH"] == kind_path
    assert env["which only-here"] == str(tool)
    assert env["KIND_VAR"] == "from-the-kind"
    assert env["ANTHROPIC_MODEL"] == "kind-model"  # the kind's env wins over the command's
    assert env["QUARTERDECK_AGENT_NAME"] == "second" and env["QUARTERDECK_EVENTS"]
    assert env["TMUX"].split(",")[0] != "/tmp/someone-elses-tmux"  # its own tmux server
    assert env["TERM"] != "dumb-launcher-terminal"
    assert seen(repo, "first")["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:1111"


def test_the_launcher_says_when_the_running_dashboard_has_another_environment(
    repo: Path, tmux_socket: str
) -> None:
    first = {**os.environ, "FOO": "1", "BAR": "x"}

    def launch(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        out = subprocess.run(
            [QD, "-C", str(repo), "open", "--detach"],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
        assert out.returncode == 0, out.stderr
        return out

    assert "note:" not in launch(first).stderr

    def dashboard_up() -> bool:
        shown = subprocess.run(
            ["tmux", "-L", tmux_socket, "list-panes", "-a", "-F", "#{pane_current_command}"],
            capture_output=True,
            text=True,
        ).stdout
        return "python" in shown

    wait_for(dashboard_up, timeout=30, what="the dashboard's process in window 0")
    assert "note:" not in launch(first).stderr  # the same environment: nothing to say
    second = {**{k: v for k, v in first.items() if k != "BAR"}, "FOO": "2"}
    said = launch(second).stderr
    assert "the running dashboard was started with another environment (BAR, FOO differ)" in said
    assert "quit the dashboard (q; agents keep running) and run quarterdeck again" in said
    # Restarted from the second environment, the dashboard has exactly it: BAR is gone too.
    hosting = Fleet.open(repo).hosting
    old_pid = hosting.tmux.window0_pid(hosting.session)
    hosting.start_dashboard(second)
    wait_for(
        lambda: (
            hosting.tmux.window0_pid(hosting.session) not in (None, old_pid)
            and dashboard_up()
            and not hosting.stale_environment(second)
        ),
        timeout=30,
        what=lambda: f"a fresh dashboard; differs: {hosting.stale_environment(second)}",
    )
