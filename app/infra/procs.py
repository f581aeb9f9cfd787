"""Processes: find an agent's whole process tree and end it, verified; process groups (a
check's), start times that tell a recycled pid from the process that had it; a program's
version."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

_PROC = Path("/proc")


def _ppid_map() -> dict[int, int]:
    parents: dict[int, int] = {}
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may contain spaces: split after the last ')'.
        rest = stat[stat.rfind(")") + 2 :].split()
        parents[int(entry.name)] = int(rest[1])
    return parents


def environment_of(pid: int) -> dict[str, str] | None:
    """The environment process ``pid`` was started with, or None when it cannot be read (gone,
    not ours, no ``/proc``)."""
    try:
        raw = (_PROC / str(pid) / "environ").read_bytes()
    except OSError:
        return None
    env = {}
    for item in raw.split(b"\0"):
        name, sep, value = item.partition(b"=")
        if sep:
            env[name.decode(errors="replace")] = value.decode(errors="replace")
    return env


def _has_marker(pid: int, marker: bytes) -> bool:
    try:
        return marker in (_PROC / str(pid) / "environ").read_bytes().split(b"\0")
    except OSError:
        return False


def agent_processes(root_pid: int, agent_id: str) -> set[int]:
    """The pane's process and its descendants, plus any process that carries the agent's id in
    its environment (daemons that re-parented themselves away from the pane)."""
    parents = _ppid_map()
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    found: set[int] = set()
    stack = [root_pid] if root_pid in parents else []
    while stack:
        pid = stack.pop()
        if pid in found:
            continue
        found.add(pid)
        stack.extend(children.get(pid, []))
    marker = f"QUARTERDECK_AGENT_ID={agent_id}".encode()
    me = os.getpid()
    ancestors = set()
    p = me
    while p > 1 and p in parents:
        ancestors.add(p)
        p = parents[p]
    for pid in parents:
        if pid not in found and _has_marker(pid, marker):
            found.add(pid)
    # Zombies have ended; only their parent (tmux, for the pane's process) can reap them.
    return {pid for pid in found - ancestors - {me} if is_alive(pid)}


def is_alive(pid: int) -> bool:
    """The process exists and has not ended (a zombie, waiting to be reaped, has ended)."""
    if pid <= 0:
        return False
    try:
        state = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return False
    return state[state.rfind(")") + 2 :].split()[0] != "Z"


def _signal_all(pids: set[int], sig: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def _wait_gone(pids: set[int], timeout: float) -> set[int]:
    deadline = time.monotonic() + timeout
    left = {p for p in pids if is_alive(p)}
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = {p for p in left if is_alive(p)}
    return left


def end_process_tree(root_pid: int, agent_id: str, grace: float = 3.0) -> set[int]:
    """SIGTERM (and SIGHUP) the agent's processes, SIGKILL what is left after ``grace`` seconds.

    Returns the pids still alive afterwards (empty on success).
    """
    pids = agent_processes(root_pid, agent_id)
    if not pids:
        return set()
    # SIGTERM first (what programs expect), then SIGHUP, which interactive shells need.
    _signal_all(pids, signal.SIGTERM)
    _signal_all(pids, signal.SIGHUP)
    left = _wait_gone(pids, grace)
    # Children may have been forked while we waited: look again.
    left |= {p for p in agent_processes(root_pid, agent_id) if is_alive(p)}
    if left:
        _signal_all(left, signal.SIGKILL)
        left = _wait_gone(left, 2.0)
    return left


def start_time(pid: int) -> str:
    """A process's start time (from /proc; '' when it is gone), so a recycled pid is never
    taken for the process that had it."""
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return ""
    return text[text.rfind(")") + 2 :].split()[19]


def child_exited(pid: int) -> bool:
    """True when our child ``pid`` has exited (it is left for `Popen.wait` to reap)."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def kill_group(pgid: int, sig: signal.Signals) -> None:
    """Send ``sig`` to a process group (nothing when it is gone or not ours)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def program_version(
    program: str, env: Mapping[str, str], timeout: float = 10.0
) -> tuple[int | None, str]:
    """Run ``program --version`` in a session of its own (no terminal, no input) with ``env``:
    its exit status (None when it did not finish in ``timeout`` seconds: its whole process
    group is killed) and the line it printed that names a version (else its first line)."""
    proc = subprocess.Popen(
        [program, "--version"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        env=dict(env),
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc.pid, signal.SIGKILL)
        proc.communicate()
        return None, ""
    lines = [line.strip() for line in out.splitlines() if line.strip()]
    # A warning may come first (Codex's about helper binaries): the line with a version wins.
    versioned = [line for line in lines if re.search(r"\d+\.\d+", line) and len(line) < 80]
    return proc.returncode, (versioned or lines or [""])[0]
