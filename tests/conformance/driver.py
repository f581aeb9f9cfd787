"""Driving Quarterdeck the way a user does: its own commands as subprocesses, its tmux server
read with ``capture-pane``, the processes of an agent found in ``/proc``; every look at a pane
saved (text, text with escapes, pane facts) so it can become a labelled fixture."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[2]
QUARTERDECK = ROOT / ".venv" / "bin" / "quarterdeck"
TMUX = shutil.which("tmux") or "tmux"


class StepFailed(Exception):
    """A check of the suite did not hold; the message is the short reason for the table."""


class StepSkipped(Exception):
    """The step does not apply to this CLI (the message says why)."""


@dataclass(frozen=True)
class Done:
    argv: list[str]
    rc: int
    out: str
    err: str
    seconds: float

    def said(self) -> str:
        text = (self.err.strip() or self.out.strip()).replace("\n", " ⏎ ")
        return text[:300]


def poll(fn: Callable[[], T | None], timeout: float, every: float = 0.5) -> T | None:
    """``fn()`` until it returns something other than None, or None when ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while True:
        got = fn()
        if got is not None:
            return got
        if time.monotonic() >= deadline:
            return None
        time.sleep(every)


class Running:
    """A ``quarterdeck`` command started by `Qd.begin`."""

    def __init__(
        self, argv: list[str], proc: subprocess.Popen[str], start: float, log: Path
    ) -> None:
        self.argv = argv
        self.proc = proc
        self.start = start
        self.log = log

    def ended(self) -> bool:
        return self.proc.poll() is not None

    def finish(self, timeout: float, stdin: str | None = None) -> Done:
        """Wait for it (killed after ``timeout``), log it to the run's commands log."""
        try:
            out, err = self.proc.communicate(stdin, timeout=timeout)
            rc = self.proc.returncode
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
            rc, err = -9, f"timed out after {timeout:.0f}s"
        result = Done(self.argv, rc, out or "", err or "", time.monotonic() - self.start)
        with self.log.open("a", encoding="utf-8") as fh:
            fh.write(
                f"$ quarterdeck {' '.join(result.argv)}  # rc={rc} {result.seconds:.1f}s\n"
                f"{result.out}{result.err}\n"
            )
        return result


class Qd:
    """One repository's Quarterdeck, commanded through ``.venv/bin/quarterdeck``."""

    def __init__(self, repo: Path, env: dict[str, str], out: Path, log: Path) -> None:
        self.repo = repo
        self.env = env
        self.out = out
        self.log = log
        self.socket = env["QUARTERDECK_TMUX_SOCKET"]
        self._shot = 0
        out.mkdir(parents=True, exist_ok=True)

    # -- commands -------------------------------------------------------------------------
    def run(self, *args: str, timeout: float = 120.0, stdin: str | None = None) -> Done:
        return self.begin(*args, stdin=stdin is not None).finish(timeout, stdin)

    def begin(self, *args: str, stdin: bool = False) -> Running:
        """Start a command without waiting for it (`Running.finish` waits and logs it)."""
        argv = [str(QUARTERDECK), "-C", str(self.repo), *args]
        proc = subprocess.Popen(
            argv,
            env=self.env,
            stdin=subprocess.PIPE if stdin else None,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        return Running(argv[3:], proc, time.monotonic(), self.log)

    def ok(self, *args: str, timeout: float = 120.0) -> Done:
        done = self.run(*args, timeout=timeout)
        if done.rc != 0:
            raise StepFailed(f"`quarterdeck {' '.join(args[:2])}` exit {done.rc}: {done.said()}")
        return done

    def agents(self) -> list[dict[str, Any]]:
        done = self.run("ls", "--json", timeout=60)
        if done.rc != 0:
            raise StepFailed(f"`quarterdeck ls --json` exit {done.rc}: {done.said()}")
        data = json.loads(done.out)
        return [a for a in data if isinstance(a, dict)]

    def agent(self, name: str) -> dict[str, Any]:
        for a in self.agents():
            if a.get("name") == name:
                return a
        raise StepFailed(f"{name} is not in `quarterdeck ls`")

    def wait_for(
        self, name: str, pred: Callable[[dict[str, Any]], bool], timeout: float, what: str
    ) -> dict[str, Any]:
        """`ls --json` until the agent's record satisfies ``pred``; fails naming the status
        last seen."""
        last: dict[str, Any] = {}

        def look() -> dict[str, Any] | None:
            nonlocal last
            last = self.agent(name)
            return last if pred(last) else None

        got = poll(look, timeout, every=0.7)
        if got is None:
            raise StepFailed(f"not {what} after {timeout:.0f}s: {describe(last)}")
        return got

    def wait_status(self, name: str, statuses: tuple[str, ...], timeout: float) -> dict[str, Any]:
        return self.wait_for(
            name, lambda a: a.get("status") in statuses, timeout, " or ".join(statuses)
        )

    # -- tmux -----------------------------------------------------------------------------
    def tmux(self, *args: str) -> str:
        done = subprocess.run(
            [TMUX, "-L", self.socket, *args], capture_output=True, text=True, check=False
        )
        return done.stdout

    def pane_facts(self, pane: str) -> dict[str, str]:
        fmt = (
            "#{pane_pid}\t#{pane_dead}\t#{pane_dead_status}\t#{pane_current_command}\t#{pane_title}"
        )
        parts = self.tmux("display-message", "-p", "-t", pane, fmt).rstrip("\n").split("\t")
        keys = ("pane_pid", "pane_dead", "pane_dead_status", "pane_current_command", "pane_title")
        return dict(zip(keys, parts + [""] * (len(keys) - len(parts)), strict=True))

    def screen(self, pane: str) -> str:
        return self.tmux("capture-pane", "-p", "-t", pane)

    def save(self, pane: str, label: str, extra: dict[str, Any] | None = None) -> Path:
        """The pane as it is now: ``NN-label.txt``, ``.ansi.txt`` and ``.meta.json`` (the pane
        facts, what Quarterdeck said about the agent)."""
        self._shot += 1
        stem = f"{self._shot:02d}-{re.sub(r'[^a-z0-9]+', '-', label.lower()).strip('-')}"
        text = self.screen(pane)
        (self.out / f"{stem}.txt").write_text(text, encoding="utf-8")
        ansi = self.tmux("capture-pane", "-p", "-e", "-t", pane)
        (self.out / f"{stem}.ansi.txt").write_text(ansi, encoding="utf-8")
        meta: dict[str, Any] = dict(self.pane_facts(pane))
        if extra:
            meta["quarterdeck"] = extra
        (self.out / f"{stem}.meta.json").write_text(
            json.dumps(meta, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        return self.out / f"{stem}.txt"

    def snap(self, name: str, label: str) -> dict[str, Any] | None:
        """Save the agent's pane with its record; None when it has no pane any more."""
        try:
            agent = self.agent(name)
        except StepFailed:
            return None
        if agent.get("pane"):
            self.save(str(agent["pane"]), label, agent)
        return agent

    def kill_server(self) -> None:
        """End this run's tmux server and remove its socket file (tmux leaves it behind)."""
        self.tmux("kill-server")
        folder = Path(os.environ.get("TMUX_TMPDIR", "/tmp")) / f"tmux-{os.getuid()}"
        (folder / self.socket).unlink(missing_ok=True)


def describe(agent: dict[str, Any]) -> str:
    """An agent's record in a few words: status, input kind, question, evidence."""
    if not agent:
        return "no record"
    parts = [str(agent.get("status"))]
    if agent.get("input_kind"):
        parts[0] += f":{agent['input_kind']}"
    if agent.get("question"):
        parts.append(f"asking {agent['question']!r}")
    if agent.get("evidence"):
        parts.append(f"({agent['evidence']})")
    if agent.get("message"):
        parts.append(f"message: {agent['message']}")
    return " ".join(parts)[:300]


# -- processes --------------------------------------------------------------------------
def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def processes_of(agent_id: str, worktree: str) -> list[tuple[int, str]]:
    """Live processes started for the agent (``QUARTERDECK_AGENT_ID`` in their environment) or
    working in its worktree: (pid, command line)."""
    found = []
    needle = f"QUARTERDECK_AGENT_ID={agent_id}".encode()
    tree = os.path.realpath(worktree)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        stat = _read(entry / "stat").decode(errors="replace")
        if ") Z " in stat:
            continue
        env = _read(entry / "environ").split(b"\0")
        try:
            cwd = os.readlink(entry / "cwd")
        except OSError:
            cwd = ""
        if needle in env or cwd == tree or cwd.startswith(tree + "/"):
            cmd = _read(entry / "cmdline").replace(b"\0", b" ").decode(errors="replace")
            found.append((int(entry.name), cmd.strip()[:120]))
    return found


def kill_all(pids: list[int]) -> None:
    """SIGTERM, then SIGKILL, processes this run started (by pid)."""
    for sig in (15, 9):
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, sig)
        if sig == 15:
            poll(lambda: True if not any(Path(f"/proc/{p}").exists() for p in pids) else None, 3)
