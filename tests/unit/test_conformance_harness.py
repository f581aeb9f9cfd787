"""The pieces of the conformance suite that need no real agent CLI: the version pins, what the
cache holds, the result table, Quarterdeck's configuration of the kinds, the request log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.infra import settings
from tests.conformance import versions
from tests.conformance.homes import Home, quarterdeck_config, write_home
from tests.conformance.modelserver import RequestLog
from tests.conformance.report import FAIL, PASS, SKIP, Result, table

GOOD = """
[claude]
registry = "npm"
package = "@anthropic-ai/claude-code"
version = "2.1.329"
bin = "node_modules/.bin/claude"

[aider]
registry = "pypi"
package = "aider-chat"
version = "0.86.2"
bin = "bin/aider"
"""


def test_the_pins_file_names_the_five_clis_at_exact_versions() -> None:
    pins = {p.cli: p for p in versions.load_pins()}
    assert set(pins) == {"claude", "codex", "gemini", "opencode", "aider"}
    assert pins["claude"].spec == "@anthropic-ai/claude-code@2.1.329"
    assert pins["codex"].spec == "@openai/codex@0.169.0"
    assert pins["gemini"].spec == "@google/gemini-cli@0.61.0"
    assert pins["opencode"].spec == "opencode-ai@1.18.33"
    assert pins["aider"].spec == "aider-chat==0.86.2"


def test_pins_are_read_in_file_order() -> None:
    assert [p.cli for p in versions.parse_pins(GOOD)] == ["claude", "aider"]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('[x]\nregistry = "npm"\npackage = "x"\nbin = "b"\n', "missing version"),
        ('[x]\nregistry = "apt"\npackage = "x"\nversion = "1"\nbin = "b"\n', "not one of npm"),
        ('[x]\nregistry = "npm"\npackage = "x"\nversion = "^1.2"\nbin = "b"\n', "exact version"),
        ('[x]\nregistry = "npm"\npackage = "x"\nversion = "1"\nbin = "b"\ntag = 1\n', "unknown"),
        ("[x\n", "not valid TOML"),
    ],
)
def test_a_mistake_in_the_pins_is_named(text: str, says: str) -> None:
    with pytest.raises(versions.SetupError, match=says):
        versions.parse_pins(text, "v.toml")


def test_the_installed_versions_are_read_from_the_cache(tmp_path: Path) -> None:
    claude, aider = versions.parse_pins(GOOD)
    assert versions.installed_version(tmp_path, claude) is None
    assert versions.installed_version(tmp_path, aider) is None
    manifest = tmp_path / "npm" / "node_modules" / "@anthropic-ai" / "claude-code"
    manifest.mkdir(parents=True)
    (manifest / "package.json").write_text(json.dumps({"version": "2.1.329"}))
    site = tmp_path / "aider" / "lib" / "python3.11" / "site-packages"
    (site / "aider_chat-0.86.1.dist-info").mkdir(parents=True)
    assert versions.installed_version(tmp_path, claude) == "2.1.329"
    assert versions.installed_version(tmp_path, aider) == "0.86.1"
    assert versions.executable(tmp_path, aider) == tmp_path / "aider" / "bin" / "aider"


def test_an_installed_pin_is_reused_without_installing(tmp_path: Path) -> None:
    (claude,) = versions.parse_pins(GOOD)[:1]
    manifest = tmp_path / "npm" / "node_modules" / "@anthropic-ai" / "claude-code"
    manifest.mkdir(parents=True)
    (manifest / "package.json").write_text(json.dumps({"version": "2.1.329"}))
    exe = versions.executable(tmp_path, claude)
    exe.parent.mkdir(parents=True)
    exe.write_text("#!/bin/sh\n")
    assert versions.ensure_installed(tmp_path, claude) == "2.1.329"
    assert not (tmp_path / "npm.log").exists()


def test_the_table_has_a_row_per_step_and_the_reasons_below() -> None:
    rows = [
        Result("claude", "spawn", PASS, "", 1.2),
        Result("codex", "spawn", PASS, "", 0.8),
        Result("claude", "interrupt", FAIL, "still working after 20s", 20.4),
        Result("codex", "interrupt", SKIP, "needs slow stream working", 0.0),
    ]
    text = table(rows, ["claude", "codex", "aider"])
    lines = text.splitlines()
    assert lines[0].split() == ["step", "claude", "codex", "aider"]
    assert lines[2].split()[:5] == ["spawn", "pass", "1s", "pass", "1s"]
    assert lines[3].startswith("interrupt")
    assert "FAIL 20s" in lines[3] and "skip 0s" in lines[3]
    assert lines[2].rstrip().endswith("-")  # aider ran nothing
    assert "FAIL claude / interrupt: still working after 20s" in text
    assert "skip codex / interrupt: needs slow stream working" in text
    assert lines[-1] == "2 passed, 1 failed, 1 skipped"


def test_quarterdecks_configuration_of_the_kinds_is_what_quarterdeck_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = Home(tmp_path / "home", "http://127.0.0.1:4567", "sock")
    exes = {"claude": tmp_path / "bin" / "claude", "aider": tmp_path / "bin" / "aider"}
    write_home(home, exes)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home.config))
    loaded = settings.load_settings()
    claude, aider = loaded.profiles["claude"], loaded.profiles["aider"]
    assert claude.command == (str(exes["claude"]),)
    assert claude.env["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:4567"
    assert aider.command[0] == str(exes["aider"]) and "--edit-format" in aider.command
    assert aider.env["OPENAI_API_BASE"] == "http://127.0.0.1:4567/v1"
    # The built-in rules of the kind are kept: only command, program and env are given.
    assert claude.rules == settings.builtin_profiles()["claude"].rules
    assert not loaded.notify.bell and not loaded.notify.desktop
    claude_json = json.loads((home.root / ".claude.json").read_text())
    assert claude_json["hasCompletedOnboarding"] is True
    assert claude_json["projects"] == {}  # no folder trusted: the trust dialog is checked


def test_every_url_in_the_configuration_is_the_local_server(tmp_path: Path) -> None:
    home = Home(tmp_path / "home", "http://127.0.0.1:4567", "sock")
    exes = {c: tmp_path / c for c in ("claude", "codex", "gemini", "opencode", "aider")}
    write_home(home, exes)
    text = "\n".join(
        p.read_text()
        for p in home.root.rglob("*")
        if p.is_file() and p.suffix in (".json", ".toml")
    )
    urls = {u for u in text.replace('"', " ").split() if u.startswith("http")}
    assert urls and all(
        u.startswith("http://127.0.0.1:4567") or u == "https://opencode.ai/config.json"
        for u in urls
    ), urls
    assert quarterdeck_config({}, {}).startswith("[notify]")


def test_the_request_log_finds_a_text_only_inside_a_tool_result(tmp_path: Path) -> None:
    log = tmp_path / "requests.jsonl"
    entries = [
        {"body": {"messages": [{"role": "user", "content": "green please"}]}},
        {
            "body": {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "tool_result",
                                "tool_use_id": "t1",
                                "content": "User answered: green please",
                            }
                        ],
                    }
                ]
            }
        },
        {"body": {"input": [{"type": "function_call_output", "output": '{"a": "green please"}'}]}},
        {"body": {"messages": [{"role": "tool", "content": "green please"}]}},
        {
            "body": {
                "contents": [
                    {
                        "parts": [
                            {
                                "functionResponse": {
                                    "name": "ask_user",
                                    "response": {"answer": "green please"},
                                }
                            }
                        ]
                    }
                ]
            }
        },
    ]
    log.write_text("".join(json.dumps(e) + "\n" for e in entries[:1]) + "not json\n")
    reader = RequestLog(log, 30)
    assert reader.text_seen("green please") and not reader.tool_result_has("green please")
    for entry in entries[1:]:
        since = reader.mark()
        with log.open("a") as fh:
            fh.write(json.dumps(entry) + "\n")
        assert reader.tool_result_has("green please", since), entry
        assert not reader.tool_result_has("green please", reader.mark())
