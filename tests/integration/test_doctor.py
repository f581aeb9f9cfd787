"""`quarterdeck doctor`: real files in a temporary home, stand-in CLIs on PATH that print their
version (real processes), and each missing piece named with its fix."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.fleet import doctor as doctor_module
from app.fleet.fleet import Fleet

QD = str(Path(sys.executable).with_name("quarterdeck"))
KEY = "sk-ant-test-0123456789abcdefghijklmnopqrst"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var in (
        "CLAUDE_CONFIG_DIR",
        "CODEX_HOME",
        "GEMINI_CLI_HOME",
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_BASE_URL",
        "OPENAI_API_KEY",
        "OPENAI_API_BASE",
        "GEMINI_API_KEY",
        "GOOGLE_API_KEY",
    ):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture
def bin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Stand-ins for the CLIs, first on PATH: each prints a version like the real one."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for name, version in {
        "claude": "2.1.329 (Claude Code)",
        "codex": "codex-cli 0.169.0",
        "gemini": "0.61.0",
        "aider": "aider 0.86.2",
        "opencode": "1.18.33",
        "slowcli": "",
    }.items():
        script = folder / name
        body = f"echo '{version}'" if version else "exec sleep 30"
        script.write_text(f"#!/bin/sh\n{body}\n")
        script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}:{os.environ['PATH']}")
    return folder


def doctor(repo: Path, *kinds: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [QD, "-C", str(repo), "doctor", *kinds], capture_output=True, text=True, timeout=60
    )


def test_claude_each_missing_piece_is_named_with_its_fix(
    home: Path, bin_dir: Path, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = doctor(repo, "claude")
    assert out.returncode == 1
    assert f"claude: problems  2.1.329 (Claude Code)  ({bin_dir / 'claude'})" in out.stdout
    assert "✗ no API key and no login — set ANTHROPIC_API_KEY" in out.stdout
    assert "✗ every new agent starts with the first-run onboarding" in out.stdout
    assert f"asks whether to trust its worktree ({repo} is not trusted in" in out.stdout
    assert "run `quarterdeck pretrust on`" in out.stdout
    assert "· permission mode auto (the default of Claude Code 2.1)" in out.stdout
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")
    (home / ".claude.json").write_text(json.dumps({"hasCompletedOnboarding": True}))
    out = doctor(repo, "claude")
    assert "every new agent asks whether to use ANTHROPIC_API_KEY" in out.stdout
    assert "customApiKeyResponses.approved" in out.stdout
    assert "· talks to ANTHROPIC_BASE_URL=http://127.0.0.1:9" in out.stdout
    (home / ".claude.json").write_text(
        json.dumps(
            {
                "hasCompletedOnboarding": True,
                "customApiKeyResponses": {"approved": [KEY[-20:]], "rejected": []},
            }
        )
    )
    (home / ".claude").mkdir()
    (home / ".claude" / "settings.json").write_text(
        json.dumps({"permissions": {"defaultMode": "default"}})
    )
    # A trusted repository covers its worktrees (as Claude Code 2.1 does), as pretrust does.
    claude_json = json.loads((home / ".claude.json").read_text())
    claude_json["projects"] = {str(repo): {"hasTrustDialogAccepted": True}}
    (home / ".claude.json").write_text(json.dumps(claude_json))
    assert "trust its worktree" not in doctor(repo, "claude").stdout
    del claude_json["projects"]
    (home / ".claude.json").write_text(json.dumps(claude_json))
    Fleet.open(repo).set_pretrust(True)
    out = doctor(repo, "claude")
    assert out.returncode == 0, out.stdout
    assert "claude: ok  2.1.329 (Claude Code)" in out.stdout
    assert "✗" not in out.stdout and "permission mode" not in out.stdout


def test_the_config_home_comes_from_the_kinds_env(
    home: Path, bin_dir: Path, repo: Path, tmp_path: Path
) -> None:
    config = tmp_path / "claude-config"
    config.mkdir()
    (config / ".claude.json").write_text(json.dumps({"hasCompletedOnboarding": True}))
    (repo / ".quarterdeck.toml").write_text(
        f'[agents.claude]\nenv = {{ CLAUDE_CONFIG_DIR = "{config}", ANTHROPIC_API_KEY = "k" }}\n'
    )
    out = doctor(repo, "claude")
    assert f"config home {config} and {config / '.claude.json'} (CLAUDE_CONFIG_DIR)" in out.stdout
    assert "onboarding" not in out.stdout and "no API key" not in out.stdout


def test_codex_gemini_aider_and_opencode(
    home: Path, bin_dir: Path, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    codex = home / ".codex"
    codex.mkdir()
    (codex / "config.toml").write_text(
        'model_provider = "local"\n[model_providers.local]\n'
        'base_url = "http://127.0.0.1:9/v1"\nenv_key = "LOCAL_KEY"\n'
    )
    (codex / "hooks.json").write_text("{}")
    out = doctor(repo, "codex", "gemini", "aider", "opencode")
    assert out.returncode == 1
    assert "codex: problems  codex-cli 0.169.0" in out.stdout
    assert "✗ model provider 'local' reads its key from LOCAL_KEY, which is not set" in out.stdout
    assert 'stops at "Hooks need review"' in out.stdout
    assert "✗ no Gemini API key and no login — set GEMINI_API_KEY" in out.stdout
    # The repository is under /tmp (world-writable): Gemini would skip the hook settings.
    assert "✗ Gemini CLI will skip its hook settings" in out.stdout
    assert "✗ no model key" in out.stdout and "OPENAI_API_BASE" in out.stdout
    assert "asks whether to add .aider* to .gitignore" in out.stdout
    assert "✗ no provider" in out.stdout and "opencode auth login" in out.stdout
    monkeypatch.setenv("OPENAI_API_BASE", "http://127.0.0.1:9/v1")
    (repo / ".gitignore").write_text(".aider*\n")
    out = doctor(repo, "aider")
    assert "aider: ok  aider 0.86.2" in out.stdout and out.returncode == 0, out.stdout


def test_not_installed_and_the_exit_status(home: Path, repo: Path) -> None:
    (repo / ".quarterdeck.toml").write_text('[agents.mine]\ncommand = ["no-such-cli-here"]\n')
    out = doctor(repo, "mine")
    assert out.returncode == 1
    assert "✗ not installed: 'no-such-cli-here' is not on PATH" in out.stdout
    assert "[agents.mine] command" in out.stdout
    everything = doctor(repo)  # every kind; only the default kind (demo) decides the status
    assert everything.returncode == 0, everything.stdout
    assert "demo: ok" in everything.stdout and "mine: problems" in everything.stdout
    unknown = doctor(repo, "nope")
    assert unknown.returncode == 2 and "unknown agent kind 'nope'" in unknown.stderr


def test_a_version_that_never_comes_is_given_up_on(
    home: Path, bin_dir: Path, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / ".quarterdeck.toml").write_text('[agents.slow]\ncommand = ["slowcli"]\n')
    monkeypatch.setattr(doctor_module, "VERSION_TIMEOUT", 0.3)
    (report,) = Fleet.open(repo).doctor().check(["slow"])
    assert not report.ok
    assert report.findings[0].what == "`slowcli --version` did not answer in 0.3s"
