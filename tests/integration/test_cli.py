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


def test_pretrust_is_a_per_repository_switch(repo: Path) -> None:
    assert "pretrust is off" in qd("-C", str(repo), "pretrust", "status").stdout
    assert "pretrust is on" in qd("-C", str(repo), "pretrust", "on").stdout
    assert "pretrust is on" in qd("-C", str(repo), "pretrust", "status").stdout
    assert "pretrust is off" in qd("-C", str(repo), "pretrust", "off").stdout


def test_outside_a_repository(tmp_path: Path) -> None:
    out = qd("-C", str(tmp_path), "ls")
    assert out.returncode == 1 and "is not inside a git repository" in out.stderr
