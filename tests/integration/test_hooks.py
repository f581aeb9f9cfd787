"""The hook script and the hook settings Quarterdeck hands to agent CLIs."""

from __future__ import annotations

import json
import os
import subprocess
import time
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from app.agents.hooks import HookInstaller, hook_script
from app.agents.registry import builtin_adapters
from app.infra.settings import builtin_profiles
from app.infra.spool import EventSpool

AGENT = "0123456789ab"


def launch(installer: HookInstaller, dialect: str) -> tuple[list[str], dict[str, str]]:
    """The extra arguments and environment of an agent whose hooks speak ``dialect``."""
    adapter = builtin_adapters().for_kind(
        "any", replace(builtin_profiles()["shell"], hooks=dialect)
    )
    extra = adapter.install_hooks(installer)
    return list(extra.argv), dict(extra.env)


def run_hook(spool: Path, *args: str, stdin: str = "", agent: str = AGENT) -> float:
    env = {**os.environ, "QUARTERDECK_EVENTS": str(spool), "QUARTERDECK_AGENT_ID": agent}
    started = time.perf_counter()
    out = subprocess.run(
        ["sh", str(hook_script()), *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert out.returncode == 0 and out.stdout == "" and out.stderr == ""
    return time.perf_counter() - started


def test_an_event_arrives_whole_with_its_payload(tmp_path: Path) -> None:
    spool = EventSpool(tmp_path / "events")
    payload = {"hook_event_name": "Stop", "note": "$(touch pwned) `rm -rf /` ; 'quotes' \"x\""}
    run_hook(spool.directory, "Stop", stdin=json.dumps(payload))
    run_hook(spool.directory, "notify", json.dumps({"type": "agent-turn-complete"}))
    run_hook(spool.directory, "Notification", "")
    events = spool.drain()
    assert [(e.agent_id, e.event) for e in events] == [
        (AGENT, "Stop"),
        (AGENT, "notify"),
        (AGENT, "Notification"),
    ]
    assert events[0].payload == payload and events[1].payload == {"type": "agent-turn-complete"}
    assert events[2].payload is None
    assert not (tmp_path / "pwned").exists() and not Path("pwned").exists()
    assert spool.drain() == []  # each event is read once


def test_events_come_back_in_the_order_their_hooks_ran(tmp_path: Path) -> None:
    # Several events within one step of the file clock, listed by the directory in the
    # opposite order: only the stamp each hook writes can tell their order.
    spool = EventSpool(tmp_path / "events")
    fired = ["PreToolUse", "PostToolUse", "PermissionRequest", "PostToolUse", "Stop", "Start"]
    for event in fired:
        run_hook(spool.directory, event, stdin="{}")
    files = [Path(e.path) for e in os.scandir(spool.directory)]
    texts = sorted((f.read_bytes() for f in files), key=lambda t: int(t.split(b"\n")[0].split()[2]))
    for file, text in zip(files, reversed(texts), strict=True):
        file.write_bytes(text)  # the first listed file now holds the last event
    step = files[0].stat().st_mtime_ns
    for file in files:
        os.utime(file, ns=(step, step))
    listed = [f.read_bytes().split(b" ")[1].decode() for f in files]
    assert listed == list(reversed(fired))
    events = spool.drain()
    assert [e.event for e in events] == fired
    stamps = [e.order[0] for e in events]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    assert all(e.at == e.order[0] / 1e9 for e in events)


def test_an_event_without_a_stamp_is_ordered_by_its_file_time(tmp_path: Path) -> None:
    spool = EventSpool(tmp_path / "events")
    run_hook(spool.directory, "Stop", stdin="{}")
    (stamped,) = list(spool.directory.iterdir())
    old = spool.directory / "ev.old"
    old.write_text(f"{AGENT} PreToolUse\n{{}}")
    before = stamped.read_text().split()[2]
    os.utime(old, ns=(int(before) - 1000, int(before) - 1000))
    events = spool.drain()
    assert [(e.event, e.payload) for e in events] == [("PreToolUse", {}), ("Stop", {})]
    assert events[0].order == (int(before) - 1000, "ev.old")
    bad = spool.directory / "ev.bad"
    bad.write_text(f"{AGENT} Stop soon\n")
    assert spool.drain() == []


@pytest.mark.parametrize(
    ("agent", "event", "spool_exists"),
    [
        ("", "Stop", True),
        ("../../etc", "Stop", True),
        (AGENT, "Stop;rm", True),
        (AGENT, "Stop", False),
    ],
)
def test_bad_environment_or_arguments_write_nothing_and_still_exit_0(
    tmp_path: Path, agent: str, event: str, spool_exists: bool
) -> None:
    spool = tmp_path / "events"
    if spool_exists:
        spool.mkdir()
    run_hook(spool, event, stdin="{}", agent=agent)
    assert not spool.exists() or list(spool.iterdir()) == []


def test_the_hook_is_fast(tmp_path: Path) -> None:
    spool = tmp_path / "events"
    spool.mkdir()
    times = sorted(run_hook(spool, "PreToolUse", stdin='{"tool_name": "Bash"}') for _ in range(20))
    # The median, including the sh start-up: a bound that holds on a loaded machine (the
    # figure itself is measured by bench/, not here).
    assert times[len(times) // 2] < 0.25


def test_claude_settings_are_ours_alone_and_idempotent(tmp_path: Path) -> None:
    installer = HookInstaller(tmp_path / "state", tmp_path / "events")
    args, env = launch(installer, "claude")
    assert args[0] == "--settings" and env == {}
    settings = Path(args[1])
    first = settings.read_text()
    mtime = settings.stat().st_mtime_ns
    assert launch(installer, "claude") == (args, env)
    assert settings.stat().st_mtime_ns == mtime and settings.read_text() == first
    hooks = json.loads(first)["hooks"]
    assert hooks["PreToolUse"][0]["matcher"] == "*"
    assert hooks["Stop"][0]["hooks"][0]["command"].endswith("qd-hook Stop")
    assert "matcher" not in hooks["Stop"][0]


def test_gemini_system_settings_keep_what_was_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    system = tmp_path / "system.json"
    system.write_text(
        json.dumps(
            {
                "general": {"vimMode": True},
                "hooks": {"AfterAgent": [{"hooks": [{"type": "command", "command": "mine"}]}]},
            }
        )
    )
    monkeypatch.setenv("GEMINI_CLI_SYSTEM_SETTINGS_PATH", str(system))
    installer = HookInstaller(tmp_path / "state", tmp_path / "events")
    _, env = launch(installer, "gemini")
    merged = json.loads(Path(env["GEMINI_CLI_SYSTEM_SETTINGS_PATH"]).read_text())
    assert merged["general"] == {"vimMode": True}
    commands = [h["command"] for g in merged["hooks"]["AfterAgent"] for h in g["hooks"]]
    assert commands[0] == "mine" and commands[1].endswith("qd-hook AfterAgent")
    launch(installer, "gemini")  # again: still one copy of ours
    merged = json.loads(Path(env["GEMINI_CLI_SYSTEM_SETTINGS_PATH"]).read_text())
    assert len(merged["hooks"]["AfterAgent"]) == 2


def test_aider_gets_a_notifications_command_that_reads_no_stdin(tmp_path: Path) -> None:
    args, _ = launch(HookInstaller(tmp_path / "s", tmp_path / "e"), "aider")
    assert args[:2] == ["--notifications", "--notifications-command"]
    assert args[2].endswith("qd-hook Notification ''")
    assert launch(HookInstaller(tmp_path / "s", tmp_path / "e"), "") == ([], {})


def test_codex_notify_is_a_session_setting_that_delivers_its_json_argument(
    tmp_path: Path,
) -> None:
    spool = EventSpool(tmp_path / "events")
    args, env = launch(HookInstaller(tmp_path / "s", spool.directory), "codex")
    assert env == {} and args[0] == "-c" and args[1].startswith("notify=")
    # Codex reads `-c key=value` values as TOML.
    notify = tomllib.loads(args[1])["notify"]
    payload = {"type": "agent-turn-complete", "last-assistant-message": "it's done; $(rm -rf /)"}
    subprocess.run(
        [*notify, json.dumps(payload)],
        env={
            **os.environ,
            "QUARTERDECK_EVENTS": str(spool.directory),
            "QUARTERDECK_AGENT_ID": AGENT,
        },
        check=True,
        stdin=subprocess.DEVNULL,
    )
    (event,) = spool.drain()
    assert (event.agent_id, event.event, event.payload) == (AGENT, "codex-notify", payload)
