"""Claude Code-style hooks for the demo agent: settings parsing, payloads and a hook runner.

The demo agent can be given a Claude Code settings file (``--settings PATH``); of it only
``hooks`` matters::

    {"hooks": {"PreToolUse": [{"matcher": "*", "hooks": [{"type": "command",
                                                           "command": "/path/to/hook"}]}]}}

Each configured command runs as ``/bin/sh -c <command>`` in the agent's working directory,
with the agent's environment (plus ``CLAUDE_PROJECT_DIR``, as Claude Code sets it) and the
event's payload as one JSON line on stdin. Like Claude Code, all of an event's matching hooks
run in parallel and identical commands run once; unlike it, the next event's hooks wait for
them, so a hook consumer sees one agent's events in order. Exit codes and output are ignored
(the output goes nowhere: it must never reach the agent's screen), and a hook still running
after its timeout is killed with its process group.

Everything here but `HookRunner` is pure, so the unit tests can check it without processes.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.demo.script import Step

#: Seconds a hook may run before it is killed (Claude Code's own default is 60 s; the demo's
#: hooks are test doubles, and a stuck one should not hold the next events back for long).
HOOK_TIMEOUT = 10.0
#: The events whose matcher is tested against the payload field named here.
MATCHED_FIELD = {
    "PreToolUse": "tool_name",
    "PermissionRequest": "tool_name",
    "PostToolUse": "tool_name",
    "SessionStart": "source",
    "SessionEnd": "reason",
}

JsonObject = dict[str, Any]


@dataclass(frozen=True)
class HookCommand:
    """One configured ``command`` hook.

    Attributes:
        command: The shell command line, run with ``/bin/sh -c``.
        matcher: The group's matcher; "" or "*" matches everything.
        timeout: Seconds before the hook is killed.
    """

    command: str
    matcher: str = ""
    timeout: float = HOOK_TIMEOUT


Hooks = Mapping[str, tuple[HookCommand, ...]]
"""Configured hooks by event name (``PreToolUse``...)."""


def _command(entry: object, matcher: str) -> HookCommand | None:
    """The hook in one ``{"type": "command", "command": ...}`` entry, if it is one."""
    if not isinstance(entry, dict) or entry.get("type", "command") != "command":
        return None  # Claude Code also has "prompt" hooks, which need a model: skipped
    command = entry.get("command")
    if not isinstance(command, str) or not command.strip():
        return None
    timeout = entry.get("timeout")  # seconds, as in Claude Code's settings
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        timeout = HOOK_TIMEOUT
    return HookCommand(command, matcher, float(timeout))


def parse_hooks(settings: object) -> dict[str, tuple[HookCommand, ...]]:
    """The command hooks in a parsed Claude Code settings object.

    Each event maps to a list of groups ``{"matcher": M, "hooks": [entry, ...]}``; the
    matcher may be left out, and a bare hook entry in place of a group is accepted too.
    Entries that are not command hooks, and malformed ones, are skipped rather than fatal,
    like unknown event names (which simply never fire).

    Args:
        settings: The settings file's parsed JSON.

    Returns:
        The hooks by event name, in the order configured.
    """
    raw = settings.get("hooks") if isinstance(settings, dict) else None
    hooks: dict[str, tuple[HookCommand, ...]] = {}
    if not isinstance(raw, dict):
        return hooks
    for event, groups in raw.items():
        found: list[HookCommand] = []
        for group in groups if isinstance(groups, list) else []:
            if isinstance(group, dict) and isinstance(group.get("hooks"), list):
                matcher = group.get("matcher")
                matcher = matcher if isinstance(matcher, str) else ""
                found += filter(None, (_command(entry, matcher) for entry in group["hooks"]))
            elif (command := _command(group, "")) is not None:
                found.append(command)
        if found and isinstance(event, str):
            hooks[event] = tuple(found)
    return hooks


def load_hooks(path: Path) -> dict[str, tuple[HookCommand, ...]]:
    """The command hooks in the settings file at ``path``.

    Raises:
        ValueError: The file cannot be read or is not JSON (bad input fails loudly).
    """
    try:
        settings = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"cannot read settings {path}: {err}") from err
    return parse_hooks(settings)


def matches(matcher: str, event: str, payload: Mapping[str, object]) -> bool:
    """Whether a group's ``matcher`` selects this event.

    Tool events match on ``tool_name``, SessionStart on ``source`` and SessionEnd on
    ``reason``, the whole value against the matcher as a regular expression (``Edit|Write``)
    or, if it is not a valid one, as plain text. Other events ignore matchers, as in Claude.
    """
    field = MATCHED_FIELD.get(event)
    if matcher in ("", "*") or field is None:
        return True
    value = str(payload.get(field, ""))
    try:
        return re.fullmatch(matcher, value) is not None
    except re.error:
        return matcher == value


def session_id(seed: int, pid: int) -> str:
    """A session id shaped like Claude Code's (a UUID), fixed for one run of one process."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"quarterdeck-demo:{seed}:{pid}"))


def tool_call(step: Step, cwd: str, exists: bool) -> tuple[str, JsonObject]:
    """The Claude Code tool a step stands for: its ``tool_name`` and ``tool_input``.

    Args:
        step: A read, edit, tick, test, commit, ask, run or question step.
        cwd: The agent's working directory (tool paths are absolute, as in Claude Code).
        exists: Whether an edit's file exists already (an Edit) or not (a Write).
    """
    path = os.path.join(cwd, step.path)
    body = "\n".join(step.lines)
    if step.kind == "read":
        return "Read", {"file_path": path}
    if step.kind == "edit" and exists:
        return "Edit", {"file_path": path, "old_string": "", "new_string": body}
    if step.kind == "edit":
        return "Write", {"file_path": path, "content": body}
    if step.kind == "tick":
        ticked = {"old_string": f"[ ] {step.text}", "new_string": f"[x] {step.text}"}
        return "Edit", {"file_path": path, **ticked}
    if step.kind == "question":
        question = {"question": step.text, "header": "Question", "options": []}
        return "AskUserQuestion", {"questions": [{**question, "multiSelect": False}]}
    if step.kind == "test":
        return "Bash", {"command": "make test", "description": "Run the tests"}
    if step.kind == "commit":
        return "Bash", {"command": f"git commit -m {json.dumps(step.text)}"}
    return "Bash", {"command": step.text}  # ask, run (and anything new: still a tool call)


def tool_response(name: str, tool_input: Mapping[str, object], output: str) -> JsonObject:
    """A minimal ``tool_response`` for PostToolUse, shaped like Claude Code's for the tool.

    Args:
        name: The tool's name, from `tool_call`.
        tool_input: The tool's input, from `tool_call`.
        output: What the step reported (a Bash tool's stdout).
    """
    if name in ("Read", "Edit", "Write"):
        return {"filePath": tool_input.get("file_path", ""), "success": True}
    return {"stdout": output, "stderr": "", "interrupted": False, "isImage": False}


class HookRunner:
    """Runs an agent's hooks on one background thread, one event after another.

    The agent's UI thread only queues events (`emit` never blocks on a hook), so a slow hook
    cannot stall the spinner or the keys; the single worker keeps the events in order.
    """

    def __init__(
        self, hooks: Hooks, cwd: str, session: str, env: Mapping[str, str] | None = None
    ) -> None:
        """Prepare to run ``hooks`` for session ``session``; no thread starts until needed.

        Args:
            hooks: The configured hooks by event name (may be empty: then nothing ever runs).
            cwd: The agent's working directory, where the hooks run.
            session: The ``session_id`` sent in every payload.
            env: The hooks' environment (default: the agent's own).
        """
        self.hooks, self.cwd, self.session = hooks, cwd, session
        self.transcript = os.path.join(tempfile.gettempdir(), f"demo-{session}.jsonl")  # unused
        self.env = {**(os.environ if env is None else env), "CLAUDE_PROJECT_DIR": cwd}
        self.queue: queue.Queue[tuple[list[HookCommand], bytes] | None] = queue.Queue()
        self.thread: threading.Thread | None = None
        self.running: set[subprocess.Popen[bytes]] = set()
        self.lock = threading.Lock()

    def payload(self, event: str, fields: Mapping[str, object]) -> JsonObject:
        """The payload for ``event``: the common fields, then ``fields``."""
        common = {"session_id": self.session, "transcript_path": self.transcript, "cwd": self.cwd}
        return {**common, "hook_event_name": event, **fields}

    def emit(self, event: str, **fields: object) -> None:
        """Queue ``event`` for the hooks configured for it (returns at once)."""
        payload = self.payload(event, fields)
        commands = [h for h in self.hooks.get(event, ()) if matches(h.matcher, event, payload)]
        if not commands:
            return
        if self.thread is None:
            self.thread = threading.Thread(target=self._work, name="hooks", daemon=True)
            self.thread.start()
        line = json.dumps(payload, ensure_ascii=False) + "\n"
        self.queue.put((commands, line.encode("utf-8")))

    def close(self, wait: float) -> None:
        """Let queued hooks run for up to ``wait`` seconds, then kill any still running."""
        if self.thread is None:
            return
        self.queue.put(None)
        self.thread.join(max(wait, 0.0))
        with self.lock:
            for process in self.running:
                _kill(process)

    def _work(self) -> None:
        while (item := self.queue.get()) is not None:
            commands, line = item
            unique = list({h.command: h for h in commands}.values())
            self._run(unique, line)

    def _run(self, commands: list[HookCommand], line: bytes) -> None:
        """Run one event's hooks in parallel; return when all have ended or been killed."""
        started: list[tuple[subprocess.Popen[bytes], float]] = []
        for hook in commands:
            try:
                process = subprocess.Popen(
                    ["/bin/sh", "-c", hook.command],
                    cwd=self.cwd,
                    env=self.env,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    process_group=0,  # its own group, so a timeout kills the hook's children too
                )
            except OSError:
                continue  # e.g. the working directory is gone: a hook failure, not the agent's
            with self.lock:
                self.running.add(process)
            started.append((process, time.monotonic() + hook.timeout))
            assert process.stdin is not None
            # A payload is far smaller than a pipe's buffer, so this write never blocks.
            with contextlib.suppress(OSError):  # the hook need not read its stdin
                process.stdin.write(line)
            with contextlib.suppress(OSError):
                process.stdin.close()
        for process, deadline in started:
            try:
                process.wait(max(deadline - time.monotonic(), 0.0))
            except subprocess.TimeoutExpired:
                _kill(process)
                process.wait()
            with self.lock:
                self.running.discard(process)


def _kill(process: subprocess.Popen[bytes]) -> None:
    """Kill a hook and everything it started (they share its process group)."""
    with contextlib.suppress(OSError):
        os.killpg(process.pid, signal.SIGKILL)
