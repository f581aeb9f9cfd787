"""One module per agent CLI: discovery of the adapters and their rules files, and how a
configured kind's data picks its adapters."""

from __future__ import annotations

import ast
import importlib
import sys
from dataclasses import replace
from pathlib import Path

import pytest

import app.agents
from app.agents import claude
from app.agents.base import GENERIC, AgentAdapter
from app.agents.registry import ConfiguredAdapter, builtin_adapters, discover
from app.core.errors import UsageError
from app.core.status import Status
from app.infra.settings import builtin_agents, builtin_profiles, load_settings

APP = Path(app.agents.__file__).resolve().parents[1]


def test_every_builtin_kind_is_a_module_and_a_rules_file_of_its_name() -> None:
    modules = builtin_adapters().builtin
    assert (
        set(modules)
        == set(builtin_agents())
        == {
            "claude",
            "codex",
            "gemini",
            "aider",
            "opencode",
            "demo",
            "shell",
        }
    )
    for kind, adapter in modules.items():
        assert type(adapter).__module__ == f"app.agents.{kind}"
        assert (APP / "agents" / f"{kind}.toml").is_file()


def test_a_new_cli_is_one_module_plus_its_rules_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "fakeagents"
    package.mkdir()
    (package / "__init__.py").write_text('"""Fake agent CLIs."""\n')
    (package / "helpers.py").write_text("VALUE = 1\n")  # no ADAPTER: not a kind
    (package / "newcli.py").write_text(
        "from app.agents.base import AgentAdapter\n\n"
        "class NewCli(AgentAdapter):\n"
        "    def interrupt_keys(self, profile):\n"
        "        return ('C-c', 'C-c')\n\n"
        "ADAPTER = NewCli()\n"
    )
    (package / "newcli.toml").write_text(
        'command = ["newcli"]\n[[rules]]\nstatus = "idle"\nscreen = "^> "\n'
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        found = discover(importlib.import_module("fakeagents"))
        assert list(found) == ["newcli"]
        tables = builtin_agents(package)
        assert list(tables) == ["newcli"] and tables["newcli"]["command"] == ["newcli"]
    finally:
        for name in [m for m in sys.modules if m.startswith("fakeagents")]:
            del sys.modules[name]


def _overrides(adapter: AgentAdapter, method: str) -> bool:
    return getattr(type(adapter), method) is not getattr(AgentAdapter, method)


def test_every_dialect_and_status_file_a_kind_names_is_its_modules() -> None:
    adapters = builtin_adapters().builtin
    named = {p.hooks for p in builtin_profiles().values()} - {""}
    assert named == {"claude", "codex", "gemini", "aider"}
    for dialect in named:
        assert _overrides(adapters[dialect], "install_hooks")
        assert _overrides(adapters[dialect], "reading_from_hook")
    assert {p.status_file for p in builtin_profiles().values()} - {""} == {"claude"}
    assert _overrides(adapters["claude"], "status_file")
    trusting = {k for k, a in adapters.items() if _overrides(a, "set_trust")}
    assert trusting == {"claude", "codex", "gemini"}


def test_a_configured_kind_gets_the_adapters_its_data_names() -> None:
    profiles = builtin_profiles()
    adapters = builtin_adapters()
    # A user's kind that speaks Claude Code's hooks: generic, but with Claude's dialect.
    mine = replace(profiles["shell"], kind="mine", hooks="claude", status_file="claude")
    adapter = adapters.for_kind("mine", mine)
    assert isinstance(adapter, ConfiguredAdapter) and adapter.own is GENERIC
    reading = adapter.reading_from_hook("Stop", {})
    assert reading is not None and reading.status is Status.IDLE
    assert adapter.status_file(42) == claude.state_dir() / "sessions" / "42.json"
    assert adapter.interrupt_keys(mine) == ("C-c",)
    # A built-in kind with its hooks turned off in config reads no hook.
    quiet = adapters.for_kind("claude", replace(profiles["claude"], hooks="", status_file=""))
    assert quiet.reading_from_hook("Stop", {}) is None and quiet.status_file(1) is None
    assert adapters.for_kind("gone", None) is GENERIC
    with pytest.raises(UsageError, match="hooks: 'nope' is not one of"):
        adapters.for_kind("x", replace(mine, hooks="nope"))


def test_unknown_dialects_in_config_are_refused(tmp_path: Path) -> None:
    (tmp_path / ".quarterdeck.toml").write_text('[agents.mine]\ncommand = "x"\nhooks = "nope"\n')
    with pytest.raises(UsageError, match=r"agent 'mine' hooks: 'nope' is not one of 'aider'"):
        load_settings(tmp_path)
    (tmp_path / ".quarterdeck.toml").write_text(
        '[agents.mine]\ncommand = "x"\nhooks = "gemini"\nstatus_file = "codex"\n'
    )
    with pytest.raises(UsageError, match="status_file: 'codex' is not one of 'claude'"):
        load_settings(tmp_path)


def test_claude_config_dir_is_resolved_in_one_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    readers = [
        path.relative_to(APP.parent).as_posix()
        for path in APP.rglob("*.py")
        if "CLAUDE_CONFIG_DIR" in path.read_text()
    ]
    assert readers == ["app/agents/claude.py"]
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    assert claude.state_dir() == tmp_path / ".claude"
    assert claude.config_file() == tmp_path / ".claude.json"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "cfg"))
    assert claude.state_dir() == tmp_path / "cfg"
    assert claude.config_file() == tmp_path / "cfg" / ".claude.json"


def test_lower_layers_never_import_the_agents() -> None:
    for layer in ("core", "infra"):
        for path in (APP / layer).rglob("*.py"):
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                    if isinstance(node, ast.ImportFrom)
                    else []
                )
                assert not any(n.startswith("app.agents") for n in names), path


def test_a_configured_kind_s_adapter_is_made_once_per_configuration() -> None:
    adapters = builtin_adapters()
    claude = builtin_profiles()["claude"]
    first = adapters.for_kind("claude", claude)
    assert adapters.for_kind("claude", claude) is first
    quiet = adapters.for_kind("claude", replace(claude, hooks=""))
    assert quiet is not first
    assert quiet.reading_from_hook("Stop", {}) is None
    assert first.reading_from_hook("Stop", {}) is not None
