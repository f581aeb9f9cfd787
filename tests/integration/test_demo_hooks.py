"""The demo agent's Claude Code-style hooks, run for real by a real agent in a real tmux pane.

Every hook here is a tiny POSIX sh script that appends ``<event> TAB <payload>`` to a log, so
the tests read exactly what a hook consumer would have received, in the order it arrived.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_demo_agent import (
    SPINNER_LINE,
    Pane,
    alive,
    make_repo,
    private_tmux,
    wait_for,
)

EVENTS = (
    "SessionStart",
    "UserPromptSubmit",
    "PreToolUse",
    "PermissionRequest",
    "PostToolUse",
    "Stop",
    "SessionEnd",
)
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
Event = tuple[str, dict[str, Any]]


class HookLog:
    """A settings file whose hooks log every event, and what they logged."""

    def __init__(self, folder: Path) -> None:
        self.log = folder / "hooks.log"
        self.script = folder / "log-hook.sh"
        self.script.write_text(
            "#!/bin/sh\n"
            f"log={shlex.quote(str(self.log))}\n"
            'printf \'%s\\t\' "$1" >> "$log"; cat >> "$log"; echo >> "$log"\n'
        )
        self.script.chmod(0o755)
        self.settings = folder / "settings.json"
        self.write()

    def command(self, event: str) -> str:
        return f"{shlex.quote(str(self.script))} {event}"

    def write(self, extra: dict[str, list[str]] | None = None) -> None:
        """Log every event; ``extra`` adds more commands to some events' groups."""
        hooks: dict[str, list[dict[str, Any]]] = {}
        for event in EVENTS:
            entries = [{"type": "command", "command": self.command(event)}]
            entries += [{"type": "command", "command": c} for c in (extra or {}).get(event, [])]
            # Both forms Claude Code accepts: tool events with a matcher, the others without.
            group: dict[str, Any] = {"hooks": entries}
            if "Tool" in event or event == "PermissionRequest":
                group["matcher"] = "*"
            hooks[event] = [group]
        hooks["NoSuchEvent"] = [{"hooks": [{"type": "command", "command": "false"}]}]
        self.settings.write_text(json.dumps({"model": "x", "hooks": hooks}))

    def events(self) -> list[Event]:
        """The events logged so far (a line still being written is left for later)."""
        try:
            text = self.log.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        found: list[Event] = []
        for line in text[: text.rfind("\n") + 1].splitlines():
            if line.strip():
                name, _, payload = line.partition("\t")
                found.append((name, json.loads(payload)))
        return found

    def names(self) -> list[str]:
        return [name for name, _ in self.events()]

    def wait(self, name: str, count: int = 1, timeout: float = 10) -> list[Event]:
        """Wait until ``name`` was logged ``count`` times; all events logged by then."""
        wait_for(lambda: self.names().count(name) >= count, timeout, f"{count}× {name}")
        return self.events()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


@pytest.fixture
def hooks(tmp_path: Path) -> HookLog:
    return HookLog(tmp_path)


@pytest.fixture
def pane(repo: Path) -> Iterator[Pane]:
    with private_tmux() as socket:
        yield Pane(socket, repo)


def start(pane: Pane, hooks: HookLog, behaviour: str, *args: str, **kw: Any) -> Pane:
    pane.start(behaviour, args=["--settings", str(hooks.settings), *args], **kw).wait_prompt()
    return pane


def dialog_open(lines: list[str]) -> bool:
    return bool(lines) and lines[-1].startswith("╰")


def check_common(events: list[Event], repo: Path) -> None:
    """What every payload carries: its name, one session id, the agent's working directory."""
    sessions = {payload["session_id"] for _, payload in events}
    assert len(sessions) == 1 and UUID.match(sessions.pop())
    for name, payload in events:
        assert payload["hook_event_name"] == name
        assert payload["cwd"] == os.path.realpath(repo)
        assert payload["transcript_path"].endswith(".jsonl")


def check_tool_uses(events: list[Event]) -> None:
    """Each PostToolUse (and PermissionRequest) belongs to the PreToolUse just before it."""
    pre: dict[str, Any] = {}
    for name, payload in events:
        if name == "PreToolUse":
            pre = payload
            assert payload["tool_use_id"].startswith("toolu_")
        elif name in ("PermissionRequest", "PostToolUse"):
            assert pre, f"{name} without a PreToolUse"
            assert payload["tool_name"] == pre["tool_name"]
            assert payload["tool_input"] == pre["tool_input"]
            if name == "PostToolUse":
                assert payload["tool_use_id"] == pre["tool_use_id"]
                assert payload["tool_response"]
                pre = {}


def test_an_approved_turn_sends_claudes_events_in_order(
    pane: Pane, hooks: HookLog, repo: Path
) -> None:
    start(pane, hooks, "asker")
    assert hooks.wait("SessionStart")[0][1]["source"] == "startup"
    pane.type("run the tests")
    pane.wait(dialog_open, "the dialog")
    command = re.search(r"Allow demo to run `(.+)`\?", pane.screen())
    assert command
    # The PermissionRequest comes while the dialog is open, not when it is answered.
    events = hooks.wait("PermissionRequest")
    assert events[-2][0] == "PreToolUse" and events[-1][0] == "PermissionRequest"
    assert events[-1][1]["tool_name"] == "Bash"
    assert events[-1][1]["tool_input"] == {"command": command[1]}
    assert dialog_open(pane.lines())
    pane.keys("1")
    pane.wait(lambda lines: lines[-1] == "demo>" and "Turn done" in lines[-2], "the turn's end")
    hooks.wait("Stop")
    pane.type("/exit")
    assert pane.wait_exit() == 0

    events = hooks.events()  # complete: the agent waits for its hooks before it exits
    names = " ".join(hooks.names())
    assert re.fullmatch(
        "SessionStart UserPromptSubmit (PreToolUse PostToolUse )+"
        "PreToolUse PermissionRequest PostToolUse (PreToolUse PostToolUse )*Stop SessionEnd",
        names,
    ), names
    check_common(events, repo)
    check_tool_uses(events)
    payloads = dict(events)  # the last of each kind
    assert payloads["UserPromptSubmit"]["prompt"] == "run the tests"
    assert payloads["Stop"]["last_assistant_message"].startswith("✓ Turn done: edited ")
    assert payloads["Stop"]["stop_hook_active"] is False
    assert payloads["SessionEnd"]["reason"] == "prompt_input_exit"
    turn = [payload for name, payload in events if name not in ("SessionStart", "SessionEnd")]
    assert len({payload["prompt_id"] for payload in turn}) == 1
    for name, payload in events:
        if name == "PostToolUse" and payload["tool_name"] in ("Edit", "Write"):
            path = Path(payload["tool_input"]["file_path"])
            assert path.is_absolute() and path.is_file() and repo.resolve() in path.parents
    bash = {"command": command[1]}
    ran = [p for n, p in events if n == "PostToolUse" and p["tool_input"] == bash]
    assert len(ran) == 1 and ran[0]["tool_response"]["stdout"] == f"Ran {command[1]} (exit 0)"


def test_dismissing_or_denying_a_dialog_sends_nothing(pane: Pane, hooks: HookLog) -> None:
    start(pane, hooks, "asker", seed=2)
    pane.type("deploy it")
    pane.wait(dialog_open, "the dialog")
    hooks.wait("PermissionRequest")
    pane.keys("Escape")
    pane.wait_line("⎋ Dialog dismissed.")
    pane.wait_prompt()
    pane.type("push it")
    pane.wait(dialog_open, "the second dialog")
    hooks.wait("PermissionRequest", 2)
    pane.keys("3")
    pane.wait_line("✗ Denied: ")
    pane.wait(lambda lines: lines[-1] == "demo>", "the prompt after the refusal")
    pane.type("/exit")
    assert pane.wait_exit() == 0
    names = hooks.names()
    # Everything queued before SessionEnd has run by now: nothing came of Esc or "No".
    first, second = (i for i, name in enumerate(names) if name == "PermissionRequest")
    assert names[first + 1] == "UserPromptSubmit"
    assert names[second + 1 :] == ["SessionEnd"]
    assert "Stop" not in names


def test_an_interrupt_sends_nothing(pane: Pane, hooks: HookLog) -> None:
    start(pane, hooks, "busy", speed=4)
    pane.type("a long job")
    hooks.wait("PostToolUse")
    pane.keys("Escape")
    pane.wait_line("⎋ Interrupted.")
    pane.wait_prompt()
    pane.type("/exit")
    assert pane.wait_exit() == 0
    names = hooks.names()
    # The step under way when Esc came gets no PostToolUse, and the turn no Stop.
    assert names[-2:] == ["PreToolUse", "SessionEnd"] and "Stop" not in names


def test_a_question_is_an_ask_user_question_tool_use(
    pane: Pane, hooks: HookLog, repo: Path
) -> None:
    start(pane, hooks, "questioner")
    pane.type("set up caching")
    pane.wait(lambda lines: lines[-1] == "answer>", "the question")
    events = hooks.wait("PermissionRequest")
    (pre, pre_payload), (request, asked) = events[-2:]
    assert (pre, request) == ("PreToolUse", "PermissionRequest")
    assert asked["tool_name"] == "AskUserQuestion"
    question = asked["tool_input"]["questions"][0]["question"]
    assert f"│ {question}" in pane.screen()
    pane.type("Redis")
    pane.wait_line("↳ answer: Redis")
    hooks.wait("Stop")
    events = hooks.events()
    check_common(events, repo)
    check_tool_uses(events)
    answered = [p for n, p in events if n == "PostToolUse" and p["tool_name"] == "AskUserQuestion"]
    assert len(answered) == 1 and answered[0]["tool_use_id"] == pre_payload["tool_use_id"]
    assert answered[0]["tool_response"]["answers"] == {question: "Redis"}


def test_a_queued_message_is_a_new_prompt(pane: Pane, hooks: HookLog) -> None:
    start(pane, hooks, "worker", speed=2)
    pane.type("first task")
    pane.wait(lambda lines: SPINNER_LINE.match(lines[-1]), "the spinner")
    pane.type("second task")
    pane.wait_line("↳ queued: second task")
    events = hooks.wait("Stop", 2)
    prompts = [(n, p.get("prompt")) for n, p in events if n in ("UserPromptSubmit", "Stop")]
    assert prompts == [
        ("UserPromptSubmit", "first task"),
        ("Stop", None),
        ("UserPromptSubmit", "second task"),
        ("Stop", None),
    ]


def test_a_slow_hook_holds_back_no_screen_and_no_order(pane: Pane, hooks: HookLog) -> None:
    # Hooks of one event run side by side: this one logs at once, the next events wait.
    hooks.write(extra={"UserPromptSubmit": ["sleep 5"]})
    start(pane, hooks, "worker", speed=2)
    hooks.wait("SessionStart")
    submitted = time.monotonic()
    pane.type("slow hooks")
    screens: set[str] = set()

    def turn_done() -> bool:
        screen = pane.screen()
        screens.add(screen)
        return "✓ Turn done" in screen

    wait_for(turn_done, 4, "the turn to end while the hook sleeps")
    # The whole turn ran on screen while the hooks were still stuck on UserPromptSubmit.
    assert time.monotonic() - submitted < 5
    assert hooks.names() == ["SessionStart", "UserPromptSubmit"]
    assert len(screens) >= 3  # the spinner turned and the steps' lines came
    pane.wait_prompt()
    events = hooks.wait("Stop", timeout=15)
    assert time.monotonic() - submitted >= 5
    names = " ".join(name for name, _ in events)
    assert re.fullmatch("SessionStart UserPromptSubmit (PreToolUse PostToolUse )+Stop", names)
    check_tool_uses(events)


def test_ignoring_sighup_outlives_the_terminal(pane: Pane, hooks: HookLog) -> None:
    start(pane, hooks, "worker", "--ignore-sighup", speed=2)
    pid = pane.pid()
    socket_path = Path(pane.show("#{socket_path}"))
    try:
        pane.type("carry on alone")
        pane.wait(lambda lines: SPINNER_LINE.match(lines[-1]), "the spinner")
        pane.tmux("kill-server")  # the terminal hangs up, as on `tmux kill-session`
        socket_path.unlink(missing_ok=True)
        # Like Gemini CLI, it works on without a terminal: the turn ends, its hooks run.
        hooks.wait("Stop")
        assert alive(pid)
        os.kill(pid, signal.SIGTERM)
        wait_for(lambda: not alive(pid), 10, "SIGTERM to end it")
        name, payload = hooks.events()[-1]
        assert name == "SessionEnd" and payload["reason"] == "other"
    finally:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)
