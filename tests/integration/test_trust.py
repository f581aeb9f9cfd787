"""Pre-trusting worktrees in each CLI's own trust record, and withdrawing it on removal."""

from __future__ import annotations

import json
import os
import subprocess
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from app.agents.registry import builtin_adapters
from app.core.agent import SpawnRequest
from app.fleet.fleet import Fleet

#: The CLIs that ask whether to trust a new folder.
TRUSTING_KINDS = ("claude", "gemini", "codex")


def set_trust(kind: str, worktree: Path, trust: bool) -> bool:
    return builtin_adapters().for_kind(kind, None).set_trust(worktree, trust)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    monkeypatch.delenv("CODEX_HOME", raising=False)
    return home


def test_each_cli_record_is_added_and_removed_surgically(home: Path, tmp_path: Path) -> None:
    claude = home / ".claude.json"
    claude.write_text(json.dumps({"theme": "dark", "projects": {"/mine": {"x": 1}}}))
    codex = home / ".codex" / "config.toml"
    codex.parent.mkdir()
    codex.write_text('model = "o4"\n[projects."/mine"]\ntrust_level = "trusted"\n')
    wt = tmp_path / "wt"
    for kind in TRUSTING_KINDS:
        assert set_trust(kind, wt, True)
    assert json.loads(claude.read_text())["projects"][str(wt)] == {"hasTrustDialogAccepted": True}
    assert json.loads((home / ".gemini" / "trustedFolders.json").read_text()) == {
        str(wt): "TRUST_FOLDER"
    }
    assert tomllib.loads(codex.read_text())["projects"][str(wt)] == {"trust_level": "trusted"}
    for kind in TRUSTING_KINDS:
        assert set_trust(kind, wt, False)
    assert json.loads(claude.read_text()) == {"theme": "dark", "projects": {"/mine": {"x": 1}}}
    assert json.loads((home / ".gemini" / "trustedFolders.json").read_text()) == {}
    assert codex.read_text() == 'model = "o4"\n[projects."/mine"]\ntrust_level = "trusted"\n'


def test_a_file_it_cannot_read_is_left_alone(home: Path, tmp_path: Path) -> None:
    broken = home / ".claude.json"
    broken.write_text("{ not json")
    assert not set_trust("claude", tmp_path / "wt", True)
    assert broken.read_text() == "{ not json"
    assert set_trust("demo", tmp_path / "wt", True)  # kinds without trust: nothing to do


def test_opt_in_per_repository_trusts_new_worktrees(home: Path, repo: Path) -> None:
    fleet = Fleet.open(repo)
    assert not fleet.pretrust
    fleet.spawn(SpawnRequest(prompt="", kind="shell", name="plain"))
    fleet.set_pretrust(True)
    assert Fleet.open(repo).pretrust
    # A gemini-kind agent whose program is a shell stands in for the real CLI here.
    fleet.settings.profiles["gemini"] = fleet.settings.profiles["shell"]
    fleet.spawn(SpawnRequest(prompt="", kind="gemini", name="g", command="sh"))
    worktree = fleet.get("g").checkout.worktree
    trusted = home / ".gemini" / "trustedFolders.json"
    assert json.loads(trusted.read_text()) == {worktree: "TRUST_FOLDER"}
    fleet.remove("g", discard_unmerged=False, discard_changes=False)
    assert json.loads(trusted.read_text()) == {}


def test_trust_and_status_files_follow_the_config_home_of_the_kinds_env(
    home: Path, repo: Path, tmp_path: Path
) -> None:
    claude_dir, codex_home, gemini_home = (tmp_path / n for n in ("claude", "codex", "gemini"))
    (repo / ".quarterdeck.toml").write_text(
        f'[agents.claude]\nenv = {{ CLAUDE_CONFIG_DIR = "{claude_dir}" }}\n'
        f'[agents.codex]\nenv = {{ CODEX_HOME = "{codex_home}" }}\n'
        f'[agents.gemini]\nenv = {{ GEMINI_CLI_HOME = "{gemini_home}" }}\n'
    )
    fleet = Fleet.open(repo)
    fleet.set_pretrust(True)
    records: dict[str, Callable[[], dict[str, object]]] = {
        "claude": lambda: json.loads((claude_dir / ".claude.json").read_text()).get("projects", {}),
        "codex": lambda: tomllib.loads((codex_home / "config.toml").read_text()).get(
            "projects", {}
        ),
        "gemini": lambda: json.loads((gemini_home / ".gemini" / "trustedFolders.json").read_text()),
    }
    for kind, record in records.items():
        # A shell stands in for the real CLI (its hook arguments land in "$@").
        stand_in = "sh -c 'exec tail -f /dev/null' qd"
        fleet.spawn(SpawnRequest(prompt="", kind=kind, name=f"{kind}-agent", command=stand_in))
        worktree = fleet.get(f"{kind}-agent").checkout.worktree
        assert worktree in record(), kind
        fleet.remove(f"{kind}-agent", discard_unmerged=False, discard_changes=False)
        assert worktree not in record(), kind
    assert not (home / ".claude.json").exists() and not (home / ".gemini").exists()
    assert fleet.profiles.adapter("claude").status_file(42) == claude_dir / "sessions" / "42.json"


def test_a_status_file_is_looked_for_where_the_agent_process_keeps_it(
    home: Path, repo: Path, tmp_path: Path
) -> None:
    # CLAUDE_CONFIG_DIR was in the environment of the command that started the agent only.
    started = subprocess.Popen(
        ["sleep", "30"], env={**os.environ, "CLAUDE_CONFIG_DIR": str(tmp_path / "theirs")}
    )
    try:
        adapter = Fleet.open(repo).profiles.adapter("claude")
        expected = tmp_path / "theirs" / "sessions" / f"{started.pid}.json"
        assert adapter.status_file(started.pid) == expected
    finally:
        started.kill()
        started.wait()
    assert adapter.status_file(2**22 + 7) == home / ".claude" / "sessions" / f"{2**22 + 7}.json"
