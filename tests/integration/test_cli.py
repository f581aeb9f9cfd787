"""The command line, as a user runs it: a real process, a real repository, a private tmux."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

QD = str(Path(sys.executable).with_name("quarterdeck"))


def qd(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([QD, *args], capture_output=True, text=True, timeout=60)


def test_new_ls_stop_rm_and_their_errors(repo: Path) -> None:
    out = qd("-C", str(repo), "new", "echo hi", "--agent", "shell", "--name", "one")
    assert out.returncode == 0, out.stderr
    assert "started one (shell) on qd/one" in out.stdout
    listed = json.loads(qd("-C", str(repo), "ls", "--json").stdout)
    assert [a["name"] for a in listed] == ["one"]
    assert set(listed[0]) >= {"name", "kind", "status", "branch", "worktree", "pane"}
    assert qd("ls", "-C", str(repo)).returncode == 0  # -C after the command too
    bad = qd("-C", str(repo), "new", "x", "--name", "two words")
    assert bad.returncode == 2 and "invalid agent name 'two words'" in bad.stderr
    missing = qd("-C", str(repo), "stop", "nobody")
    assert missing.returncode == 1 and "no agent named 'nobody'" in missing.stderr
    assert qd("-C", str(repo), "stop", "one").returncode == 0
    assert qd("-C", str(repo), "rm", "one").returncode == 0
    assert json.loads(qd("-C", str(repo), "ls", "--json").stdout) == []


def test_a_refused_removal_exits_2_and_names_what_would_be_lost(repo: Path) -> None:
    assert qd("-C", str(repo), "new", "", "--agent", "shell", "--name", "keep").returncode == 0
    worktree = json.loads(qd("-C", str(repo), "ls", "--json").stdout)[0]["worktree"]
    (Path(worktree) / "notes.txt").write_text("unsaved\n")
    refused = qd("-C", str(repo), "rm", "keep")
    assert refused.returncode == 2, refused.stderr
    assert "--discard-changes" in refused.stderr
    assert [a["name"] for a in json.loads(qd("-C", str(repo), "ls", "--json").stdout)] == ["keep"]
    assert qd("-C", str(repo), "rm", "keep", "--discard-changes").returncode == 0


def test_pretrust_is_a_per_repository_switch(repo: Path) -> None:
    assert "pretrust is off" in qd("-C", str(repo), "pretrust", "status").stdout
    assert "pretrust is on" in qd("-C", str(repo), "pretrust", "on").stdout
    assert "pretrust is on" in qd("-C", str(repo), "pretrust", "status").stdout
    assert "pretrust is off" in qd("-C", str(repo), "pretrust", "off").stdout


def test_outside_a_repository(tmp_path: Path) -> None:
    out = qd("-C", str(tmp_path), "ls")
    assert out.returncode == 1 and "is not inside a git repository" in out.stderr


def test_send_wait_answer_and_interrupt_from_scripts(repo: Path, tmp_path: Path) -> None:
    """No dashboard runs: each command tracks the fleet itself while it waits."""
    transcript = tmp_path / "t.jsonl"
    command = f"{{python}} -m app.demo.agent --behaviour asker --speed 3 --transcript {transcript}"
    C = ("-C", str(repo))
    out = qd(*C, "new", "", "--agent", "demo", "--name", "bot", "--command", command)
    assert out.returncode == 0, out.stderr
    waited = qd(*C, "wait", "bot", "--until", "idle", "--timeout", "20")
    assert waited.returncode == 0 and "bot is idle" in waited.stdout, waited.stderr
    # Shell metacharacters, unicode and lines arrive as sent.
    text = "deploy: $(whoami) `id` 'quoted' \"dq\" ünï ✓\nsecond line"
    sent = qd(*C, "send", "bot", text)
    assert sent.returncode == 0 and "delivered to bot" in sent.stdout, sent.stderr
    taken = [json.loads(line) for line in transcript.read_text().splitlines()]
    assert taken[-1]["text"] == text
    # The asker opens a permission dialog: wait says so, with the question; ls --json has it.
    asked = qd(*C, "wait", "bot", "--until", "needs_input", "--timeout", "30")
    assert asked.returncode == 0 and "bot is needs_input" in asked.stdout, asked.stderr
    (row,) = json.loads(qd(*C, "ls", "--json").stdout)
    assert row["status"] == "needs_input" and row["input_kind"] == "permission"
    assert row["question"] and row["options"][0].startswith("Yes")
    assert row["message"] == "✉ message delivered"
    # A timeout says so by its exit status.
    late = qd(*C, "wait", "bot", "--until", "exited", "--timeout", "0.5")
    assert late.returncode == 3 and "bot is still needs_input" in late.stderr
    bad = qd(*C, "answer", "bot", "maybe")
    assert bad.returncode == 2 and "no option starts with 'maybe'" in bad.stderr
    answered = qd(*C, "answer", "bot", "y")
    assert answered.returncode == 0 and "answered bot: Yes" in answered.stdout, answered.stderr
    # From stdin, then an interrupt; an agent that ended refuses messages.
    piped = subprocess.run(
        [QD, *C, "send", "bot", "-", "--no-wait"],
        input="from stdin\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert piped.returncode == 0 and "queued message" in piped.stdout
    assert qd(*C, "interrupt", "bot").returncode == 0
    assert qd(*C, "stop", "bot").returncode == 0
    ended = qd(*C, "wait", "bot", "--until", "idle", "--timeout", "10")
    assert ended.returncode == 4 and "bot is exited" in ended.stdout
    refused = qd(*C, "send", "bot", "hello")
    assert refused.returncode == 2 and "bot has exited" in refused.stderr


def test_a_turn_that_ends_in_an_error_stops_wait_and_takes_the_next_message(repo: Path) -> None:
    """The demo agent's "error:" task ends its turn in an API error, as a real CLI's does when
    its model server fails: the agent reads `error` with the error line, `wait --until idle`
    stops there with exit status 5, and the agent still takes a message."""
    C = ("-C", str(repo))
    command = "{python} -m app.demo.agent --behaviour worker --speed 4"
    out = qd(*C, "new", "error: call the model", "--name", "bot", "--command", command)
    assert out.returncode == 0, out.stderr
    waited = qd(*C, "wait", "bot", "--until", "idle", "--timeout", "30")
    assert waited.returncode == 5, (waited.stdout, waited.stderr)
    assert "bot is error: API Error: 529 simulated overload" in waited.stdout
    (row,) = json.loads(qd(*C, "ls", "--json").stdout)
    assert row["status"] == "error"
    assert row["detail"] == "API Error: 529 simulated overload"
    sent = qd(*C, "send", "bot", "read the readme")
    assert sent.returncode == 0 and "delivered to bot" in sent.stdout, sent.stderr
    again = qd(*C, "wait", "bot", "--until", "idle", "--timeout", "30")
    assert again.returncode == 0 and "bot is idle" in again.stdout, again.stderr
