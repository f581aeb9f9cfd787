"""A scripted model server for running the real agent CLIs offline, on 127.0.0.1 only.

It speaks what the five CLIs speak: Anthropic Messages (``POST /v1/messages``, SSE or JSON, plus
``/count_tokens``), OpenAI Responses (``POST /v1/responses``, SSE) and Chat Completions
(``POST /v1/chat/completions``, SSE or JSON, with ``tool_calls``), Gemini ``generateContent`` and
``streamGenerateContent`` (``POST /v1beta/models/<model>:<method>``), and ``GET /v1/models``.

It keeps no state. The first word of the latest prompt the user typed picks a scenario, and the
step within it is the number of tool results sent back since that prompt:

- ``bash:``  a shell tool call that needs permission (``echo … > fake_bash_output.txt``), then a
  final text quoting the tool's output;
- ``edit:``  a file write (``fake_notes.md``; with only a shell tool offered, as Codex does, an
  ``apply_patch`` command), then a final text;
- ``fix:``   a file write like ``edit:``, of the file named right after ``fix:``, or, when the
  prompt carries ``missing: FILE`` (a check's failure output given back), the last file named
  so; then a final text. A loop whose check wants two files passes on its second round;
- ``ask:``   a question tool (Which color…? Red / Blue), then a final text quoting the answer;
- ``slow:``  words streamed for ``--slow-seconds``;
- ``hang:``  no bytes at all for ``--hang-seconds``;
- ``error:`` an HTTP error (529 overloaded for Anthropic, 500 elsewhere; ``error: 400 …`` picks
  the status, e.g. one no client retries);
- anything else: a short text.

Tools are called by the names each CLI offers (``Bash``/``exec_command``/``run_shell_command``/
``bash``; ``Write``/``write_file``/``write``/``apply_patch``; ``AskUserQuestion``/
``request_user_input``/``ask_user``/``question``), with arguments built from the tool's own
schema. Aider offers no tools: its replies are text in its edit format (a fenced shell block, a
SEARCH/REPLACE edit). Requests that offer no tools (titles, routers) get a short text, or an
object filled from the JSON schema they ask for.

Every request is appended to ``--log`` as one JSON line (time, path, headers, body, scenario,
step). Usage::

    python tests/conformance/model_server.py --port 0 --port-file PORT --log requests.jsonl
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

SCENARIOS = ("bash", "edit", "fix", "ask", "slow", "hang", "error")
MARKER_COMMAND = "echo hello-from-fake-model > fake_bash_output.txt && cat fake_bash_output.txt"
NOTES_FILE = "fake_notes.md"
NOTES_TEXT = "# Notes\n\nWritten by the fake model.\n"
QUESTION = "Which color should the fake model use?"
OPTIONS = (("Red", "A warm color"), ("Blue", "A cool color"))
SHORT_TEXT = "Hello from the fake model."
LOREM = (
    "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut "
    "labore et dolore magna aliqua"
)

SHELL_TOOLS = ("Bash", "exec_command", "run_shell_command", "bash", "shell")
WRITE_TOOLS = ("Write", "write_file", "write", "apply_patch")
QUESTION_TOOLS = ("AskUserQuestion", "request_user_input", "ask_user", "question")


@dataclass(frozen=True)
class Turn:
    """What the latest request asks of the script: the prompt, the scenario and its step."""

    prompt: str
    scenario: str
    step: int
    last_tool_result: str = ""
    cwd: str = ""


def fix_target(prompt: str) -> str:
    """The file a ``fix:`` turn writes: the last ``missing: FILE`` of the prompt, else the word
    right after ``fix:``."""
    missing = re.findall(r"missing: ([\w.-]+\.\w+)", prompt)
    if missing:
        return str(missing[-1])
    match = re.match(r"\s*fix:\s*(\S+)", prompt, flags=re.I)
    return match.group(1) if match else "fixed.txt"


def fix_text(name: str) -> str:
    """What a ``fix:`` turn writes in its file."""
    return f"Written by the fake model for {name}.\n"


def scenario_of(prompt: str) -> str:
    """The scenario a prompt picks: its first word, when that word is one of ours."""
    match = re.match(r"\s*([A-Za-z]+):", prompt)
    word = match.group(1).lower() if match else ""
    return word if word in SCENARIOS else "text"


def is_wrapper(text: str) -> bool:
    """Text a CLI adds around the user's words (context, reminders, instructions)."""
    stripped = text.lstrip()
    return stripped.startswith("<") or stripped.startswith("# AGENTS.md")


def prompt_text(text: str) -> str:
    """The user's own words in a text part: a CLI may put its context before them."""
    if not is_wrapper(text):
        return text
    # Gemini puts <session_context>…</session_context> before the first prompt in one part.
    rest = re.sub(r"(?s)\A\s*<([\w-]+)[^>]*>.*?</\1>\s*", "", text)
    return "" if rest == text or is_wrapper(rest) else rest


def cwd_of(text: str) -> str:
    """The working directory a CLI names in its system prompt, if any."""
    match = re.search(r"(?im)(?:working directory|cwd)[^\n:]*:\s*(/\S+)", text)
    return match.group(1).rstrip(".,;`'\"") if match else ""


def prompt_tag(prompt: str) -> str:
    """A short digest of a prompt: the ids of the tool calls made for it begin with it."""
    return hashlib.sha1(prompt.strip().encode()).hexdigest()[:8]


def turn_of(messages: list[tuple[str, list[tuple[str, str]]]], system: str = "") -> Turn:
    """The turn asked for by a conversation given as (role, [(part kind, text)]), where a part
    kind is ``text`` or ``result`` (a tool result; ``result@<call id>`` when the call's id is
    known)."""
    prompt, index = "", -1
    for i, (role, parts) in enumerate(messages):
        if role != "user":
            continue
        for kind, text in parts:
            words = prompt_text(text) if kind == "text" else ""
            if words.strip():
                prompt, index = words, i
    results: list[str] = []
    for _, parts in messages[index + 1 :] if index >= 0 else []:
        results += [text for kind, text in parts if kind.startswith("result")]
    # In the prompt's own message: the results after the prompt's text (Claude Code puts the
    # user's next prompt beside a rejected result, before it), and the results of our calls
    # for this prompt wherever they are (after an interrupt Claude Code merges the turns into
    # one message, every result first and every prompt after them).
    if index >= 0:
        tag = prompt_tag(prompt)
        parts = messages[index][1]
        last = max(
            (i for i, (k, t) in enumerate(parts) if k == "text" and prompt_text(t).strip()),
            default=-1,
        )
        for i, (kind, text) in enumerate(parts):
            if kind.startswith("result") and (i > last or tag in kind):
                results.append(text)
    all_text = system + "\n" + "\n".join(t for _, parts in messages for _, t in parts)
    return Turn(
        prompt=prompt,
        scenario=scenario_of(prompt),
        step=len(results),
        last_tool_result=results[-1] if results else "",
        cwd=cwd_of(all_text),
    )


# --- what the script says -------------------------------------------------------------------


@dataclass(frozen=True)
class ToolCall:
    """One tool call the script makes."""

    name: str
    arguments: dict[str, Any]
    #: Unique per call: CLIs match results to calls by it.
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])


def error_status(prompt: str, default: int) -> int:
    """The HTTP status of an ``error:`` turn: the number right after ``error:`` (400-599), else
    ``default``."""
    match = re.match(r"\s*error:\s*([45]\d\d)\b", prompt, flags=re.I)
    return int(match.group(1)) if match else default


def final_text(turn: Turn) -> str:
    """The closing text of a scenario once its tool has run."""
    result = " ".join(turn.last_tool_result.split())[:300]
    if turn.scenario == "bash":
        return f"Done: the command ran. Output: {result}"
    if turn.scenario == "edit":
        return f"Done: wrote {NOTES_FILE}. {result}".strip()
    if turn.scenario == "fix":
        return f"Done: wrote {fix_target(turn.prompt)}. {result}".strip()
    if turn.scenario == "ask":
        return f"You answered: {result}"
    return SHORT_TEXT


def pick_tool(offered: dict[str, dict[str, Any]], names: tuple[str, ...]) -> str | None:
    """The first of ``names`` the CLI offers (case as offered)."""
    lowered = {name.lower(): name for name in offered}
    for name in names:
        if name in offered:
            return name
        if name.lower() in lowered:
            return lowered[name.lower()]
    return None


def fill(schema: Any, key: str, values: dict[str, Any], depth: int = 0) -> Any:
    """A value for ``schema`` (a JSON schema), preferring ``values[key]`` where given."""
    if key in values:
        return values[key]
    if not isinstance(schema, dict) or depth > 6:
        return ""
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        required = set(schema.get("required") or props)
        return {
            name: fill(sub, name, values, depth + 1)
            for name, sub in props.items()
            # A question's choices are optional in some schemas (Gemini's ask_user requires them
            # only for type "choice"): always give them.
            if name in required or name in values or name in ("options", "choices")
        }
    if kind == "array":
        items = schema.get("items", {})
        if key in ("options", "choices"):
            return [
                fill(items, "", {"label": label, "description": text, "value": label}, depth + 1)
                for label, text in OPTIONS
            ]
        return [fill(items, key, values, depth + 1)]
    if kind == "boolean":
        return False
    if kind in ("integer", "number"):
        return 1
    return "Color" if key == "header" else ("fake" if key == "id" else "")


def tool_call(turn: Turn, offered: dict[str, dict[str, Any]]) -> ToolCall | None:
    """The tool call of the turn's scenario at step 0, with arguments fitting the tool's schema;
    None when the scenario needs no tool or the CLI offers none that fits. Its id begins with
    the prompt's tag (`prompt_tag`), so its result is known for this prompt wherever it is."""
    call = _tool_call(turn, offered)
    return replace(call, id=prompt_tag(turn.prompt) + call.id[:8]) if call else None


def _tool_call(turn: Turn, offered: dict[str, dict[str, Any]]) -> ToolCall | None:
    if turn.step > 0 or turn.scenario not in ("bash", "edit", "fix", "ask"):
        return None
    if turn.scenario == "bash":
        name = pick_tool(offered, SHELL_TOOLS)
        if name is None:
            return None
        schema = offered[name]
        cmd_key = next(
            (k for k in ("command", "cmd") if k in schema.get("properties", {})), "command"
        )
        command: Any = MARKER_COMMAND
        if schema.get("properties", {}).get(cmd_key, {}).get("type") == "array":
            command = ["bash", "-lc", MARKER_COMMAND]
        values: dict[str, Any] = {
            cmd_key: command,
            "description": "Write a marker file with echo",
            "justification": "Write a marker file with echo",
            "sandbox_permissions": "require_escalated",
        }
        return ToolCall(name, fill(schema, "", values))
    if turn.scenario == "edit":
        return _write_call(turn, offered, NOTES_FILE, NOTES_TEXT)
    if turn.scenario == "fix":
        target = fix_target(turn.prompt)
        return _write_call(turn, offered, target, fix_text(target))
    name = pick_tool(offered, QUESTION_TOOLS)
    if name is None:
        return None
    values = {
        "question": QUESTION,
        "header": "Color",
        "multiSelect": False,
        "multiple": False,
        "type": "choice",
        "id": "color",
    }
    return ToolCall(name, fill(offered[name], "", values))


def _write_call(
    turn: Turn, offered: dict[str, dict[str, Any]], filename: str, text: str
) -> ToolCall | None:
    """A call that writes ``text`` to ``filename`` in the working directory, by the CLI's file
    tool (or, with only a shell tool, an ``apply_patch`` command)."""
    patch = (
        "*** Begin Patch\n*** Add File: "
        + filename
        + "\n"
        + "".join("+" + line + "\n" for line in text.splitlines())
        + "*** End Patch\n"
    )
    name = pick_tool(offered, WRITE_TOOLS)
    if name is None:
        # Codex offers no file tool: it takes `apply_patch` as a command of its shell tool
        # and applies it in its sandbox (no escalation asked for).
        shell = pick_tool(offered, SHELL_TOOLS)
        if shell is None:
            return None
        props = offered[shell].get("properties", {})
        cmd_key = next((k for k in ("command", "cmd") if k in props), "command")
        script = f"apply_patch <<'PATCH'\n{patch}PATCH\n"
        argv: Any = script
        if props.get(cmd_key, {}).get("type") == "array":
            argv = ["bash", "-lc", script]
        values = {cmd_key: argv, "description": f"Write {filename}"}
        return ToolCall(shell, fill(offered[shell], "", values))
    path = f"{turn.cwd}/{filename}" if turn.cwd and name == "Write" else filename
    if name == "apply_patch":
        return ToolCall(name, fill(offered[name], "", {"input": patch, "patch": patch}))
    values = {"file_path": path, "filePath": path, "path": path, "content": text}
    return ToolCall(name, fill(offered[name], "", values))


def text_reply(turn: Turn) -> str:
    """The whole text of a reply that calls no tool."""
    if turn.step > 0:
        return final_text(turn)
    return SHORT_TEXT


def aider_reply(turn: Turn) -> str:
    """A reply in Aider's edit format (it offers no tools)."""
    if turn.scenario == "bash":
        return f"I will write the marker file.\n\n```bash\n{MARKER_COMMAND}\n```\n"
    if turn.scenario in ("edit", "fix"):
        name = NOTES_FILE if turn.scenario == "edit" else fix_target(turn.prompt)
        body = (NOTES_TEXT if turn.scenario == "edit" else fix_text(name)).rstrip("\n")
        return f"{name}\n```\n<<<<<<< SEARCH\n=======\n{body}\n>>>>>>> REPLACE\n```\n"
    return SHORT_TEXT


def slow_words(seconds: float) -> Iterator[str]:
    """Words, one every so often, for ``seconds``."""
    deadline = time.monotonic() + seconds
    words = LOREM.split()
    i = 0
    while time.monotonic() < deadline:
        yield words[i % len(words)] + " "
        i += 1
        time.sleep(0.25)


# --- the HTTP side --------------------------------------------------------------------------


class Handler(BaseHTTPRequestHandler):
    """One request. The server's settings are on ``self.server``."""

    protocol_version = "HTTP/1.1"
    server: ScriptServer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the JSONL log says it all."""

    # plumbing

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            return {}

    def _log(self, body: Any, turn: Turn | None) -> None:
        self.server.record(
            {
                "time": time.time(),
                "method": self.command,
                "path": self.path,
                "headers": dict(self.headers.items()),
                "body": body,
                "scenario": turn.scenario if turn else None,
                "step": turn.step if turn else None,
                "prompt": turn.prompt if turn else None,
            }
        )

    def _json(self, status: int, data: Any) -> None:
        raw = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _sse(self, events: Iterator[tuple[str | None, Any]]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        try:
            for name, data in events:
                chunk = "" if name is None else f"event: {name}\n"
                payload = data if isinstance(data, str) else json.dumps(data)
                self.wfile.write((chunk + f"data: {payload}\n\n").encode())
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _answered(self, turn: Turn, plain: bool, status: int, anthropic: bool) -> Turn | None:
        """The turn to reply to (a plain text when ``plain``: no tools offered, a title asked);
        None when its scenario was answered here already (an error, a hang)."""
        if plain:
            turn = Turn(turn.prompt, "text", 0)
        if turn.scenario == "error":
            self._error(turn, status, anthropic=anthropic)
            return None
        if turn.scenario == "hang":
            self._hang()
            return None
        return turn

    def _hang(self) -> None:
        deadline = time.monotonic() + self.server.hang_seconds
        while time.monotonic() < deadline and not self.server.stopping.is_set():
            time.sleep(0.1)
        self.close_connection = True

    def _error(self, turn: Turn, default: int, anthropic: bool) -> None:
        status = error_status(turn.prompt, default)
        if anthropic:
            kind, message = (
                ("overloaded_error", "Fake overload")
                if status == 529
                else ("api_error", "Fake server error")
                if status >= 500
                else ("invalid_request_error", "Fake invalid request")
            )
            body: dict[str, Any] = {"type": "error", "error": {"type": kind, "message": message}}
        else:
            kind = "server_error" if status >= 500 else "invalid_request_error"
            message = "Fake server error" if status >= 500 else "Fake invalid request"
            body = {"error": {"message": message, "type": kind, "code": status}}
        self._json(status, body)

    # routes

    def do_GET(self) -> None:
        """``/v1/models`` (and anything else: an empty list)."""
        self._log(None, None)
        models = [{"id": "fake-model", "object": "model", "created": 0, "owned_by": "fake"}]
        self._json(200, {"object": "list", "data": models, "models": []})

    def do_POST(self) -> None:
        """Route by path."""
        body = self._body()
        path = urlparse(self.path).path
        routes: dict[str, Callable[[Any], None]] = {
            "/v1/messages": self.messages,
            "/v1/messages/count_tokens": self.count_tokens,
            "/v1/responses": self.openai_responses,
            "/v1/chat/completions": self.chat,
        }
        route = routes.get(path.removeprefix("/api"))
        if route is None and ":" in path and "/models/" in path:
            route = self.gemini
        if route is None:
            self._log(body, None)
            self._json(404, {"error": {"message": f"no such endpoint: {path}"}})
            return
        route(body)

    # Anthropic Messages

    def count_tokens(self, body: Any) -> None:
        """A token count."""
        self._log(body, None)
        self._json(200, {"input_tokens": 42})

    def messages(self, body: Any) -> None:
        """Anthropic Messages, streamed or whole."""
        conversation: list[tuple[str, list[tuple[str, str]]]] = []
        for message in body.get("messages", []):
            content = message.get("content")
            parts: list[tuple[str, str]] = []
            for block in (
                [{"type": "text", "text": content}] if isinstance(content, str) else content or []
            ):
                if block.get("type") == "text":
                    parts.append(("text", block.get("text", "")))
                elif block.get("type") == "tool_result":
                    kind = f"result@{block.get('tool_use_id', '')}"
                    parts.append((kind, _text_of(block.get("content"))))
            conversation.append((message.get("role", ""), parts))
        system = _text_of(body.get("system"))
        turn = turn_of(conversation, system)
        self._log(body, turn)
        tools = {t["name"]: t.get("input_schema", {}) for t in body.get("tools", []) if "name" in t}
        answering = self._answered(turn, not tools, 529, anthropic=True)
        if answering is None:
            return
        turn = answering
        call = tool_call(turn, tools)
        model = body.get("model", "fake-model")
        if not body.get("stream"):
            content = (
                [
                    {
                        "type": "tool_use",
                        "id": f"toolu_{call.id}",
                        "name": call.name,
                        "input": call.arguments,
                    }
                ]
                if call
                else [{"type": "text", "text": text_reply(turn)}]
            )
            self._json(200, _anthropic_message(model, content, "tool_use" if call else "end_turn"))
            return
        self._sse(self._anthropic_events(model, turn, call))

    def _anthropic_events(
        self, model: str, turn: Turn, call: ToolCall | None
    ) -> Iterator[tuple[str | None, Any]]:
        start = _anthropic_message(model, [], None)
        yield "message_start", {"type": "message_start", "message": start}
        if call:
            block = {"type": "tool_use", "id": f"toolu_{call.id}", "name": call.name, "input": {}}
            yield (
                "content_block_start",
                {"type": "content_block_start", "index": 0, "content_block": block},
            )
            delta = {"type": "input_json_delta", "partial_json": json.dumps(call.arguments)}
            yield "content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}
        else:
            block = {"type": "text", "text": ""}
            yield (
                "content_block_start",
                {"type": "content_block_start", "index": 0, "content_block": block},
            )
            for word in self._words(turn):
                delta = {"type": "text_delta", "text": word}
                yield (
                    "content_block_delta",
                    {"type": "content_block_delta", "index": 0, "delta": delta},
                )
        yield "content_block_stop", {"type": "content_block_stop", "index": 0}
        stop = {"stop_reason": "tool_use" if call else "end_turn", "stop_sequence": None}
        yield (
            "message_delta",
            {"type": "message_delta", "delta": stop, "usage": {"output_tokens": 10}},
        )
        yield "message_stop", {"type": "message_stop"}

    def _words(self, turn: Turn) -> Iterator[str]:
        if turn.scenario == "slow" and turn.step == 0:
            yield from slow_words(self.server.slow_seconds)
        else:
            yield text_reply(turn)

    # OpenAI Responses

    def openai_responses(self, body: Any) -> None:
        """OpenAI Responses, streamed."""
        conversation: list[tuple[str, list[tuple[str, str]]]] = []
        items = body.get("input", [])
        if isinstance(items, str):
            items = [{"type": "message", "role": "user", "content": items}]
        for item in items:
            kind = item.get("type", "message")
            if kind == "message":
                conversation.append(
                    (item.get("role", ""), [("text", _text_of(item.get("content")))])
                )
            elif kind.endswith("_call_output"):
                conversation.append(("tool", [("result", _text_of(item.get("output")))]))
        turn = turn_of(conversation, _text_of(body.get("instructions")))
        self._log(body, turn)
        tools: dict[str, dict[str, Any]] = {}
        for tool in body.get("tools", []):
            name = tool.get("name") or tool.get("function", {}).get("name")
            if name:
                tools[name] = (
                    tool.get("parameters") or tool.get("function", {}).get("parameters") or {}
                )
        answering = self._answered(turn, not tools, 500, anthropic=False)
        if answering is None:
            return
        turn = answering
        self._sse(
            self._responses_events(body.get("model", "fake-model"), turn, tool_call(turn, tools))
        )

    def _responses_events(
        self, model: str, turn: Turn, call: ToolCall | None
    ) -> Iterator[tuple[str | None, Any]]:
        rid = f"resp_fake{int(time.time() * 1000)}"
        response: dict[str, Any] = {
            "id": rid,
            "object": "response",
            "model": model,
            "status": "in_progress",
            "output": [],
        }
        yield "response.created", {"type": "response.created", "response": response}
        item: dict[str, Any]
        if call:
            item = {
                "type": "function_call",
                "id": f"fc_{call.id}",
                "call_id": f"call_{call.id}",
                "name": call.name,
                "arguments": json.dumps(call.arguments),
                "status": "completed",
            }
            yield (
                "response.output_item.added",
                {
                    "type": "response.output_item.added",
                    "output_index": 0,
                    "item": {**item, "arguments": ""},
                },
            )
            yield (
                "response.function_call_arguments.delta",
                {
                    "type": "response.function_call_arguments.delta",
                    "output_index": 0,
                    "item_id": f"fc_{call.id}",
                    "delta": item["arguments"],
                },
            )
            yield (
                "response.output_item.done",
                {"type": "response.output_item.done", "output_index": 0, "item": item},
            )
        else:
            text = ""
            added: dict[str, Any] = {
                "type": "message",
                "id": "msg_fake1",
                "role": "assistant",
                "status": "in_progress",
                "content": [],
            }
            yield (
                "response.output_item.added",
                {"type": "response.output_item.added", "output_index": 0, "item": added},
            )
            part: dict[str, Any] = {"type": "output_text", "text": "", "annotations": []}
            yield (
                "response.content_part.added",
                {
                    "type": "response.content_part.added",
                    "output_index": 0,
                    "item_id": "msg_fake1",
                    "content_index": 0,
                    "part": part,
                },
            )
            for word in self._words(turn):
                text += word
                yield (
                    "response.output_text.delta",
                    {
                        "type": "response.output_text.delta",
                        "output_index": 0,
                        "item_id": "msg_fake1",
                        "content_index": 0,
                        "delta": word,
                    },
                )
            yield (
                "response.output_text.done",
                {
                    "type": "response.output_text.done",
                    "output_index": 0,
                    "item_id": "msg_fake1",
                    "content_index": 0,
                    "text": text,
                },
            )
            item = {**added, "status": "completed", "content": [{**part, "text": text}]}
            yield (
                "response.output_item.done",
                {"type": "response.output_item.done", "output_index": 0, "item": item},
            )
        usage = {
            "input_tokens": 100,
            "output_tokens": 10,
            "total_tokens": 110,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 0},
        }
        done = {**response, "status": "completed", "output": [item], "usage": usage}
        yield "response.completed", {"type": "response.completed", "response": done}

    # OpenAI Chat Completions

    def chat(self, body: Any) -> None:
        """Chat Completions, streamed or whole, with tool calls."""
        conversation: list[tuple[str, list[tuple[str, str]]]] = []
        system = ""
        for message in body.get("messages", []):
            role = message.get("role", "")
            text = _text_of(message.get("content"))
            if role == "system":
                system += text + "\n"
            elif role == "tool":
                conversation.append(("tool", [("result", text)]))
            else:
                conversation.append((role, [("text", text)]))
        turn = turn_of(conversation, system)
        self._log(body, turn)
        tools = {
            t["function"]["name"]: t["function"].get("parameters", {})
            for t in body.get("tools", [])
            if isinstance(t, dict) and "function" in t
        }
        asked = " ".join(text for _, parts in conversation for _, text in parts)
        titling = (
            not tools and re.search(r"(?i)generate a (?:\w+ )*title", system + asked) is not None
        )
        answering = self._answered(turn, titling, 500, anthropic=False)
        if answering is None:
            return
        turn = answering
        call = tool_call(turn, tools) if tools else None
        reply_text: str | None = None
        if call is None:
            reply_text = text_reply(turn) if tools or titling else aider_reply(turn)
        model = body.get("model", "fake-model")
        if not body.get("stream"):
            reply: dict[str, Any] = {"role": "assistant", "content": reply_text}
            if call:
                reply["tool_calls"] = [_chat_tool_call(call)]
            choice = {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if call else "stop",
            }
            self._json(
                200,
                {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [choice],
                    "usage": _chat_usage(),
                },
            )
            return
        self._sse(self._chat_events(model, turn, call, reply_text))

    def _chat_events(
        self, model: str, turn: Turn, call: ToolCall | None, text: str | None
    ) -> Iterator[tuple[str | None, Any]]:
        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            choice = {"index": 0, "delta": delta, "finish_reason": finish}
            return {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": model,
                "choices": [choice],
            }

        yield None, chunk({"role": "assistant", "content": ""})
        if call:
            yield None, chunk({"tool_calls": [{"index": 0, **_chat_tool_call(call)}]})
        elif turn.scenario == "slow" and turn.step == 0:
            for word in slow_words(self.server.slow_seconds):
                yield None, chunk({"content": word})
        else:
            yield None, chunk({"content": text or ""})
        final = chunk({}, "tool_calls" if call else "stop")
        final["usage"] = _chat_usage()
        yield None, final
        yield None, "[DONE]"

    # Gemini

    def gemini(self, body: Any) -> None:
        """``generateContent`` and ``streamGenerateContent``."""
        path = urlparse(self.path).path
        conversation: list[tuple[str, list[tuple[str, str]]]] = []
        for content in body.get("contents", []):
            parts: list[tuple[str, str]] = []
            for part in content.get("parts", []):
                if "text" in part and not part.get("thought"):
                    parts.append(("text", part["text"]))
                elif "functionResponse" in part:
                    parts.append(("result", _text_of(part["functionResponse"].get("response"))))
            conversation.append((content.get("role", "user"), parts))
        system = _text_of((body.get("systemInstruction") or {}).get("parts"))
        turn = turn_of(conversation, system)
        self._log(body, turn)
        tools: dict[str, dict[str, Any]] = {}
        for group in body.get("tools", []):
            for decl in group.get("functionDeclarations", []):
                tools[decl["name"]] = (
                    decl.get("parametersJsonSchema") or decl.get("parameters") or {}
                )
        config = body.get("generationConfig", {})
        schema = config.get("responseJsonSchema") or config.get("responseSchema")
        answering = self._answered(turn, not tools, 500, anthropic=False)
        if answering is None:
            return
        turn = answering
        call = tool_call(turn, tools)
        if schema and not tools:
            text_parts = [{"text": json.dumps(fill(schema, "", {"reasoning": "fake"}))}]
        else:
            text_parts = []
        streaming = path.endswith(":streamGenerateContent")
        if not streaming:
            parts_out = (
                [{"functionCall": {"name": call.name, "args": call.arguments}}]
                if call
                else (text_parts or [{"text": text_reply(turn)}])
            )
            self._json(200, _gemini_response(parts_out))
            return
        self._sse(self._gemini_events(turn, call, text_parts))

    def _gemini_events(
        self, turn: Turn, call: ToolCall | None, text_parts: list[dict[str, Any]]
    ) -> Iterator[tuple[str | None, Any]]:
        if call:
            yield (
                None,
                _gemini_response([{"functionCall": {"name": call.name, "args": call.arguments}}]),
            )
            return
        if text_parts:
            yield None, _gemini_response(text_parts)
            return
        words = list(self._words(turn)) if turn.scenario != "slow" else None
        if words is None:
            for word in slow_words(self.server.slow_seconds):
                yield None, _gemini_response([{"text": word}], finish=None)
            yield None, _gemini_response([{"text": "."}])
        else:
            yield None, _gemini_response([{"text": "".join(words)}])


def _text_of(value: Any) -> str:
    """The text in a content value of any dialect (a string, parts, blocks, objects)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n".join(_text_of(v) for v in value)
    if isinstance(value, dict):
        for key in ("text", "output", "content", "result", "llmContent"):
            if key in value:
                return _text_of(value[key])
        return json.dumps(value)
    return str(value)


def _anthropic_message(model: str, content: list[Any], stop: str | None) -> dict[str, Any]:
    return {
        "id": "msg_fake1",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {
            "input_tokens": 100,
            "output_tokens": 10,
            "cache_read_input_tokens": 0,
            "cache_creation_input_tokens": 0,
        },
    }


def _chat_tool_call(call: ToolCall) -> dict[str, Any]:
    return {
        "id": f"call_{call.id}",
        "type": "function",
        "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
    }


def _chat_usage() -> dict[str, int]:
    return {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}


def _gemini_response(parts: list[dict[str, Any]], finish: str | None = "STOP") -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    usage = {"promptTokenCount": 100, "candidatesTokenCount": 10, "totalTokenCount": 110}
    return {"candidates": [candidate], "usageMetadata": usage, "modelVersion": "fake-model"}


class ScriptServer(ThreadingHTTPServer):
    """The server: loopback only, its settings, and the request log."""

    daemon_threads = True

    def __init__(
        self, port: int, log: Path | None, slow_seconds: float, hang_seconds: float
    ) -> None:
        super().__init__(("127.0.0.1", port), Handler)
        self.log_path = log
        self.slow_seconds = slow_seconds
        self.hang_seconds = hang_seconds
        self.stopping = threading.Event()
        self._lock = threading.Lock()

    @property
    def port(self) -> int:
        """The port it listens on."""
        return int(self.server_address[1])

    def record(self, entry: dict[str, Any]) -> None:
        """Append one request to the log."""
        if self.log_path is None:
            return
        line = json.dumps(entry, default=str) + "\n"
        with self._lock, self.log_path.open("a", encoding="utf-8") as handle:
            handle.write(line)

    def stop(self) -> None:
        """End hanging replies and stop serving."""
        self.stopping.set()
        self.shutdown()
        self.server_close()


def serve_in_thread(
    port: int = 0, log: Path | None = None, slow_seconds: float = 20.0, hang_seconds: float = 600.0
) -> ScriptServer:
    """Start a server in a background thread and return it (``stop()`` ends it)."""
    server = ScriptServer(port, log, slow_seconds, hang_seconds)
    threading.Thread(target=server.serve_forever, daemon=True, name="model-server").start()
    return server


def main(argv: list[str] | None = None) -> int:
    """Run the server in the foreground."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--port-file", type=Path, help="write the port here once listening")
    parser.add_argument("--log", type=Path, help="append every request here (JSON lines)")
    parser.add_argument("--slow-seconds", type=float, default=20.0)
    parser.add_argument("--hang-seconds", type=float, default=600.0)
    args = parser.parse_args(argv)
    server = ScriptServer(args.port, args.log, args.slow_seconds, args.hang_seconds)
    if args.port_file:
        args.port_file.write_text(str(server.port))
    print(f"model server on http://127.0.0.1:{server.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
