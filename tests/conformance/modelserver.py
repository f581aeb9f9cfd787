"""The scripted model server (``model_server.py``) as the suite uses it: started on a free port
of 127.0.0.1 with its own request log, and that log read back."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

SERVER = Path(__file__).with_name("model_server.py")

#: Shapes a tool's result takes in the dialects the server speaks: Anthropic ``tool_result``
#: blocks, OpenAI Responses ``function_call_output`` items, Chat Completions ``role: tool``
#: messages, Gemini ``functionResponse`` parts.
_RESULT_TYPES = {"tool_result", "function_call_output", "custom_tool_call_output"}


def _tool_results(node: Any) -> list[Any]:
    found: list[Any] = []
    if isinstance(node, dict):
        if str(node.get("type")) in _RESULT_TYPES or node.get("role") == "tool":
            found.append(node)
        elif "functionResponse" in node:
            found.append(node["functionResponse"])
        else:
            for value in node.values():
                found.extend(_tool_results(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_tool_results(value))
    return found


class RequestLog:
    """The server's JSONL log: one request per line."""

    def __init__(self, path: Path, slow_seconds: float) -> None:
        self.path = path
        self.slow_seconds = slow_seconds

    def entries(self) -> list[dict[str, Any]]:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        out = []
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict):
                out.append(entry)
        return out

    def mark(self) -> int:
        """How many requests so far (to look only at later ones)."""
        return len(self.entries())

    def tool_result_has(self, text: str, since: int = 0) -> bool:
        """Whether a request after ``since`` carried ``text`` inside a tool's result."""
        for entry in self.entries()[since:]:
            for result in _tool_results(entry.get("body", entry)):
                if text in json.dumps(result, ensure_ascii=False):
                    return True
        return False

    def text_seen(self, text: str, since: int = 0) -> bool:
        return any(text in json.dumps(e, ensure_ascii=False) for e in self.entries()[since:])


class ModelServer:
    """One server process on 127.0.0.1 (a free port), logging to ``log``."""

    def __init__(self, log: Path, slow_seconds: float, hang_seconds: float = 30) -> None:
        self.log = RequestLog(log, slow_seconds)
        self._slow = slow_seconds
        self._hang = hang_seconds
        self._proc: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self) -> str:
        out = self.log.path.with_suffix(".out")
        out.parent.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, str(SERVER), "--port", "0", "--log", str(self.log.path)]
        argv += ["--slow-seconds", str(self._slow), "--hang-seconds", str(self._hang)]
        self._proc = subprocess.Popen(
            argv,
            stdout=out.open("w"),
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            found = re.search(r"127\.0\.0\.1:(\d+)", out.read_text(errors="replace"))
            if found:
                self.url = f"http://127.0.0.1:{found.group(1)}"
                return self.url
            if self._proc.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the model server did not start: {out.read_text(errors='replace')}")

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(5)
