"""The scripted model server the conformance suite points the real CLIs at, spoken to over HTTP."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.model_server import ScriptServer, scenario_of, serve_in_thread

SHELL = {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]}
ASK = {
    "type": "object",
    "properties": {
        "questions": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "question": {"type": "string"},
                    "header": {"type": "string"},
                    "options": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "label": {"type": "string"},
                                "description": {"type": "string"},
                            },
                        },
                    },
                },
            },
        }
    },
}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ScriptServer]:
    running = serve_in_thread(log=tmp_path / "requests.jsonl", slow_seconds=0.6, hang_seconds=0.5)
    yield running
    running.stop()


def post(server: ScriptServer, path: str, body: dict[str, Any]) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    response = connection.getresponse()
    return response.status, response.read().decode()


def events(text: str) -> list[Any]:
    return [
        json.loads(line[6:])
        for line in text.splitlines()
        if line.startswith("data: ") and line != "data: [DONE]"
    ]


def test_the_first_word_of_the_prompt_picks_the_scenario() -> None:
    assert scenario_of("bash: run it") == "bash"
    assert scenario_of("  Ask: which?") == "ask"
    assert scenario_of("please change: hang: nothing") == "text"
    assert scenario_of("slowly now") == "text"


def test_anthropic_asks_for_the_shell_tool_then_quotes_its_result(server: ScriptServer) -> None:
    ask: dict[str, Any] = {
        "model": "m",
        "stream": True,
        "tools": [{"name": "Bash", "input_schema": SHELL}],
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "<system-reminder>context</system-reminder>"},
                    {"type": "text", "text": "bash: run it"},
                ],
            }
        ],
    }
    status, body = post(server, "/v1/messages?beta=true", ask)
    assert status == 200
    started = [e for e in events(body) if e["type"] == "content_block_start"]
    block = started[0]["content_block"]
    assert block["type"] == "tool_use" and block["name"] == "Bash"
    delta = next(e for e in events(body) if e["type"] == "content_block_delta")["delta"]
    assert "fake_bash_output.txt" in json.loads(delta["partial_json"])["command"]
    ask["messages"] += [
        {"role": "assistant", "content": [block]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": block["id"], "content": "hi-out"}],
        },
    ]
    _, body = post(server, "/v1/messages", ask)
    text = "".join(
        e["delta"].get("text", "") for e in events(body) if e["type"] == "content_block_delta"
    )
    assert "hi-out" in text
    # A second call of the same scenario gets a call id of its own.
    _, again = post(server, "/v1/messages", {**ask, "messages": ask["messages"][:1]})
    second = next(e for e in events(again) if e["type"] == "content_block_start")
    assert second["content_block"]["id"] != block["id"]


def test_a_result_merged_before_its_prompt_still_counts(server: ScriptServer) -> None:
    # After an interrupt Claude Code merges the turns into one user message: every tool result
    # first, then every prompt. The result of the call made for the last prompt ends its turn.
    first = {"role": "user", "content": [{"type": "text", "text": "slow: go on"}]}
    ask: dict[str, Any] = {
        "model": "m",
        "stream": True,
        "tools": [{"name": "Bash", "input_schema": SHELL}],
        "messages": [
            {
                "role": "user",
                "content": [
                    *first["content"],
                    {"type": "text", "text": "[Request interrupted by user]"},
                    {"type": "text", "text": "bash: run it"},
                ],
            }
        ],
    }
    _, body = post(server, "/v1/messages", ask)
    block = next(e for e in events(body) if e["type"] == "content_block_start")["content_block"]
    assert block["type"] == "tool_use"
    result = {"type": "tool_result", "tool_use_id": block["id"], "content": "hi-out"}
    merged: list[dict[str, Any]] = [
        {"role": "assistant", "content": [{"type": "text", "text": "lorem"}, block]},
        {"role": "user", "content": [result, *ask["messages"][0]["content"]]},
    ]
    _, body = post(server, "/v1/messages", {**ask, "messages": merged})
    assert not [e for e in events(body) if e.get("content_block", {}).get("type") == "tool_use"]
    text = "".join(
        e["delta"].get("text", "") for e in events(body) if e["type"] == "content_block_delta"
    )
    assert "hi-out" in text
    # Someone else's result in that place is not this prompt's.
    other = {**result, "tool_use_id": "toolu_0123456789abcdef"}
    merged[1]["content"][0] = other
    _, body = post(server, "/v1/messages", {**ask, "messages": merged})
    assert [e for e in events(body) if e.get("content_block", {}).get("type") == "tool_use"]


def test_anthropic_error_is_an_overload(server: ScriptServer) -> None:
    status, body = post(
        server,
        "/v1/messages",
        {"tools": [{"name": "Bash"}], "messages": [{"role": "user", "content": "error: now"}]},
    )
    assert status == 529
    assert json.loads(body)["error"]["type"] == "overloaded_error"


def test_an_error_turn_may_name_its_status(server: ScriptServer) -> None:
    tools = [{"name": "Bash"}]
    said = {"role": "user", "content": "error: 400 a request no client retries"}
    status, body = post(server, "/v1/messages", {"tools": tools, "messages": [said]})
    assert status == 400
    assert json.loads(body)["error"]["type"] == "invalid_request_error"
    chat = {"tools": [{"type": "function", "function": {"name": "bash", "parameters": SHELL}}]}
    status, body = post(server, "/v1/chat/completions", {**chat, "messages": [said]})
    assert status == 400 and json.loads(body)["error"]["code"] == 400
    status, _ = post(
        server,
        "/v1/chat/completions",
        {**chat, "messages": [{"role": "user", "content": "error:"}]},
    )
    assert status == 500


def test_an_edit_with_only_a_shell_tool_is_an_apply_patch_command(server: ScriptServer) -> None:
    exec_command = {
        "type": "object",
        "properties": {
            "cmd": {"type": "string"},
            "sandbox_permissions": {"type": "string", "enum": ["use_default", "require_escalated"]},
        },
        "required": ["cmd"],
    }
    body = {
        "model": "fake-model",
        "stream": True,
        "tools": [{"type": "function", "name": "exec_command", "parameters": exec_command}],
        "input": [
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "edit: the notes"}],
            }
        ],
    }
    status, text = post(server, "/v1/responses", body)
    assert status == 200
    done = next(e for e in events(text) if e["type"] == "response.output_item.done")["item"]
    assert done["name"] == "exec_command"
    args = json.loads(done["arguments"])
    assert args["cmd"].startswith(
        "apply_patch <<'PATCH'\n*** Begin Patch\n*** Add File: fake_notes.md"
    )
    assert "sandbox_permissions" not in args  # inside the sandbox: no escalation asked


WRITE = {
    "type": "object",
    "properties": {"file_path": {"type": "string"}, "content": {"type": "string"}},
    "required": ["file_path", "content"],
}


def write_call(server: ScriptServer, prompt: str) -> dict[str, Any]:
    """The Write call the server makes for ``prompt`` (Anthropic, streamed)."""
    body = {
        "model": "m",
        "stream": True,
        "system": "Primary working directory: /work/tree",
        "tools": [{"name": "Write", "input_schema": WRITE}],
        "messages": [{"role": "user", "content": [{"type": "text", "text": prompt}]}],
    }
    _, text = post(server, "/v1/messages", body)
    delta = next(e for e in events(text) if e["type"] == "content_block_delta")["delta"]
    arguments: dict[str, Any] = json.loads(delta["partial_json"])
    return arguments


def test_fix_writes_the_file_it_names_until_a_check_says_what_is_missing(
    server: ScriptServer,
) -> None:
    first = write_call(server, "fix: loop-a.txt")
    assert first["file_path"] == "/work/tree/loop-a.txt"
    assert first["content"] == "Written by the fake model for loop-a.txt.\n"
    # A later round's prompt: the task, then the check's output (its command names `$f`).
    again = (
        'fix: loop-a.txt\n\n---\nThe check `for f in a b; do echo "missing: $f"; done` '
        "failed. Its output ends with:\n\nmissing: loop-a.txt\nmissing: loop-b.txt\n"
    )
    assert write_call(server, again)["file_path"] == "/work/tree/loop-b.txt"
    _, text = post(
        server,
        "/v1/chat/completions",
        {"stream": True, "messages": [{"role": "user", "content": "fix: notes.txt"}]},
    )
    content = "".join(c["choices"][0]["delta"].get("content") or "" for c in events(text))
    assert content.startswith("notes.txt\n```\n<<<<<<< SEARCH\n=======\nWritten by")


def test_a_questions_options_are_given_even_when_its_schema_does_not_require_them(
    server: ScriptServer,
) -> None:
    # Gemini CLI's ask_user: `options` is required only for type "choice", so not in `required`.
    ask = json.loads(json.dumps(ASK))
    ask["properties"]["questions"]["items"]["required"] = ["question", "header", "type"]
    ask["properties"]["questions"]["items"]["properties"]["type"] = {
        "type": "string",
        "enum": ["choice", "text", "yesno"],
    }
    decl = {"name": "ask_user", "parametersJsonSchema": ask}
    status, text = post(
        server,
        "/v1beta/models/gemini-pro:streamGenerateContent?alt=sse",
        {
            "contents": [{"role": "user", "parts": [{"text": "ask: colour?"}]}],
            "tools": [{"functionDeclarations": [decl]}],
        },
    )
    assert status == 200
    call = events(text)[0]["candidates"][0]["content"]["parts"][0]["functionCall"]
    question = call["args"]["questions"][0]
    assert question["type"] == "choice"
    assert [o["label"] for o in question["options"]] == ["Red", "Blue"]


def test_responses_call_a_question_tool_filled_from_its_schema(server: ScriptServer) -> None:
    body = {
        "model": "fake-model",
        "stream": True,
        "tools": [{"type": "function", "name": "request_user_input", "parameters": ASK}],
        "input": [
            {
                "type": "message",
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "<environment_context>x</environment_context>"}
                ],
            },
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "ask: colour?"}],
            },
        ],
    }
    status, text = post(server, "/v1/responses", body)
    assert status == 200
    done = next(e for e in events(text) if e["type"] == "response.output_item.done")["item"]
    assert done["type"] == "function_call" and done["name"] == "request_user_input"
    question = json.loads(done["arguments"])["questions"][0]
    assert question["question"].startswith("Which color")
    assert [o["label"] for o in question["options"]] == ["Red", "Blue"]
    assert events(text)[-1]["type"] == "response.completed"


def test_chat_completions_without_tools_answer_in_aiders_edit_format(server: ScriptServer) -> None:
    status, text = post(
        server,
        "/v1/chat/completions",
        {
            "stream": True,
            "messages": [{"role": "user", "content": "bash: do it\n\n# rules ```x```"}],
        },
    )
    assert status == 200
    content = "".join(c["choices"][0]["delta"].get("content") or "" for c in events(text))
    assert "```bash\necho hello-from-fake-model" in content
    assert text.rstrip().endswith("data: [DONE]")


def test_a_title_request_gets_a_short_text(server: ScriptServer) -> None:
    _, text = post(
        server,
        "/v1/chat/completions",
        {
            "messages": [
                {"role": "user", "content": "Generate a title for this conversation:\n"},
                {"role": "user", "content": "bash: do it"},
            ]
        },
    )
    assert "```" not in json.loads(text)["choices"][0]["message"]["content"]


def test_chat_completions_tool_call_and_slow_stream(server: ScriptServer) -> None:
    tools = [{"type": "function", "function": {"name": "bash", "parameters": SHELL}}]
    _, text = post(
        server,
        "/v1/chat/completions",
        {"stream": True, "tools": tools, "messages": [{"role": "user", "content": "bash: go"}]},
    )
    calls = [
        c["choices"][0]["delta"]["tool_calls"]
        for c in events(text)
        if "tool_calls" in c["choices"][0]["delta"]
    ]
    assert calls[0][0]["function"]["name"] == "bash"
    assert events(text)[-1]["choices"][0]["finish_reason"] == "tool_calls"
    _, slow = post(
        server,
        "/v1/chat/completions",
        {"stream": True, "tools": tools, "messages": [{"role": "user", "content": "slow: go"}]},
    )
    words = [c["choices"][0]["delta"].get("content") for c in events(slow)]
    assert len([w for w in words if w]) >= 2


def test_gemini_streams_a_function_call_and_fills_a_router_schema(server: ScriptServer) -> None:
    decl = {"name": "run_shell_command", "parametersJsonSchema": SHELL}
    prompt = {
        "role": "user",
        "parts": [{"text": "<session_context>\nhi\n</session_context>\nbash: go"}],
    }
    status, text = post(
        server,
        "/v1beta/models/gemini-pro:streamGenerateContent?alt=sse",
        {"contents": [prompt], "tools": [{"functionDeclarations": [decl]}]},
    )
    assert status == 200
    part = events(text)[0]["candidates"][0]["content"]["parts"][0]
    assert part["functionCall"]["name"] == "run_shell_command"
    schema = {
        "type": "object",
        "properties": {
            "reasoning": {"type": "string"},
            "model_choice": {"type": "string", "enum": ["flash", "pro"]},
        },
    }
    _, routed = post(
        server,
        "/v1beta/models/flash:generateContent",
        {"contents": [prompt], "generationConfig": {"responseJsonSchema": schema}},
    )
    answer = json.loads(json.loads(routed)["candidates"][0]["content"]["parts"][0]["text"])
    assert answer["model_choice"] == "flash"


def test_every_request_is_logged_and_the_server_listens_on_loopback(
    server: ScriptServer, tmp_path: Path
) -> None:
    post(server, "/v1/messages", {"messages": [{"role": "user", "content": "hello"}]})
    post(server, "/v1/nowhere", {})
    logged = [json.loads(line) for line in (tmp_path / "requests.jsonl").read_text().splitlines()]
    assert [entry["path"] for entry in logged] == ["/v1/messages", "/v1/nowhere"]
    assert logged[0]["prompt"] == "hello" and logged[0]["scenario"] == "text"
    assert server.server_address[0] == "127.0.0.1"


def test_hang_sends_nothing_until_it_gives_up(server: ScriptServer) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    body = {"tools": [{"name": "Bash"}], "messages": [{"role": "user", "content": "hang: wait"}]}
    connection.request("POST", "/v1/messages", json.dumps(body))
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        connection.getresponse()
