"""Status benchmark: what the real dashboard costs and how fast it reports, against a naive poller.

Usage::

    .venv/bin/python bench/status_bench.py --agents 10 50 100 [--seconds 15] [--dialogs 30]

For each fleet size N, on private tmux servers and in a throwaway repository, it runs the real
``quarterdeck dashboard`` (engine thread included) in a 160x50 "terminal" (a window of a second
private tmux server), starts N demo agents through `Fleet.spawn`, and measures:

- **CPU** of the dashboard process and its children (its tmux control client, git) from
  ``/proc/<pid>/stat``, in % of one core, over ``--seconds`` with an idle fleet and with a busy one
  (every agent working), the busy fleet once with hooks off and once with hooks on;
- the same for a **naive baseline**, a separate process that runs one ``tmux capture-pane``
  subprocess per agent every 500 ms and compares a hash (its subprocesses are counted too), on the
  same fleet in the same run, so the result is a ratio;
- **status latency** from "an agent opens a permission dialog" to "the engine reports
  needs_input": decided (the ``at`` of that transition in the store's ``events`` table) and
  written (the agent record's ``updated_at``), for ``--dialogs`` dialogs via the screen only and
  again with hooks on; the dialog's opening is taken both from a trace hook the agent runs for
  ``PermissionRequest`` and from a bench-owned tmux control client that sees the dialog's bytes
  as tmux reads them from the agent's terminal;
- **keypress-to-repaint**: ``j``/``k`` sent to the dashboard's pane over a control client of the
  terminal server, timed to the first ``%output`` of the dashboard that redraws the selection;
- **memory**: the dashboard's RSS (and peak), the baseline's, and the demo agents' summed RSS.

Fleet composition: two agents stay idle at the top of the table (the keypress targets), N/5 (at
least 4) ``asker`` agents open the dialogs at the demo's default pace, and the rest are ``busy``
agents (``--speed 0.3``: a step every 2 s or so, with a spinner redrawn 8 times a second), given
a new task whenever one finishes. Phases, in order: busy with hooks off (dashboard window with
screen-latency dialogs; baseline window; keypresses), busy with hooks on (dashboard window with
hook-latency dialogs), then every agent interrupted and the idle fleet measured (dashboard
window, baseline window, keypresses). Hooks are switched without restarting agents: every agent
gets a bench-owned Claude-style settings file whose Quarterdeck hook commands run a relay
script, a no-op while hooks are "off" and a byte-for-byte copy of ``app/hooks/qd-hook`` while
they are "on". See docs/performance.md for the method and its caveats.

The Markdown report goes to stdout and to ``bench/results/status-<date>.md``; progress to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import os
import platform
import random
import re
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.agents.claude import CLAUDE_EVENTS, CLAUDE_TOOL_EVENTS  # noqa: E402
from app.agents.hooks import HookInstaller, hook_script  # noqa: E402
from app.core.agent import SpawnRequest  # noqa: E402
from app.core.diff_stats import STATS_PER_SECOND  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
TERMINAL_SIZE = (160, 50)
#: The demo agents' speeds: askers reach their dialog fast; busy agents have long turns.
ASKER_SPEED = 1.0
BUSY_SPEED = 0.3
#: Two agents that always stay idle: the keypress test moves the selection between them.
PROBES = ("keys-one", "keys-two")
PROBES_B = tuple(name.encode() for name in PROBES)
#: The dialog every asker turn opens, as the demo agent draws it.
DIALOG_MARK = b"Permission required"
#: A probe's Name cell in the dashboard's output (as tmux's %output escapes it): the style (and
#: the cell's left padding when the row is selected), the name, the cell's right padding.
#: Elsewhere (the preview's title) the name is followed by a single space.
_CELL = rb"(\\033\[[0-9;]*m ?)%s(?:\\033\[0m\\033\[[0-9;]*m)? {3,}"
#: The naive baseline's period.
BASELINE_PERIOD = 0.5
#: How often the bench polls the store for the askers' statuses.
POLL_SECONDS = 0.02
DIALOG_TIMEOUT = 10.0
KEYPRESSES = 40
BUSY_WINDOWS = ("busy_dash", "busy_base", "hooks_dash")
TASKS = (
    "Refactor the parser module",
    "Add tests for the cache",
    "Tidy the billing code",
    "Document the search API",
    "Speed up the router",
)


def log(message: str) -> None:
    """Progress, to stderr."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (nearest rank), NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


# ------------------------------------------------------------------------------- /proc


def _stat(pid: int) -> tuple[int, int, int] | None:
    """(ppid, own utime+stime, reaped children's cutime+cstime) in clock ticks."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2 :].split()
    return int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _stat(int(entry))
            if st is not None:
                kids.setdefault(st[0], []).append(int(entry))
    return kids


def tree(pid: int) -> list[int]:
    """``pid`` and all its live descendants."""
    kids = _children()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += kids.get(p, [])
    return out


def tree_ticks(pid: int) -> tuple[int, int]:
    """CPU ticks of ``pid`` alone, and of its whole tree (live descendants plus reaped ones)."""
    own = total = 0
    for p in tree(pid):
        st = _stat(p)
        if st is None:
            continue
        if p == pid:
            own = st[1]
        total += st[1] + st[2]
    return own, total


def status_kib(pid: int, key: str) -> int:
    """A ``/proc/<pid>/status`` field in KiB (VmRSS, VmHWM), 0 when the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass
class CpuMeter:
    """CPU of some processes (and their trees) over a window, in % of one core."""

    pids: dict[str, int]
    _start: dict[str, tuple[int, int]] = field(default_factory=dict)
    _t0: float = 0.0

    def start(self) -> None:
        """Open the window."""
        self._start = {name: tree_ticks(pid) for name, pid in self.pids.items()}
        self._t0 = time.monotonic()

    def stop(self) -> dict[str, tuple[float, float]]:
        """Close it: per name, (own %, tree %) of one core."""
        wall = time.monotonic() - self._t0
        out = {}
        for name, pid in self.pids.items():
            own, total = tree_ticks(pid)
            own0, total0 = self._start[name]
            scale = 100.0 / CLK_TCK / wall
            out[name] = ((own - own0) * scale, (total - total0) * scale)
        return out


# ------------------------------------------------------------------------------- tmux


def tmux(socket: str, *args: str, check: bool = True) -> list[str]:
    """One tmux command on a private server, as a subprocess; its output lines."""
    done = subprocess.run(
        ["tmux", "-L", socket, *args], capture_output=True, text=True, check=False
    )
    if check and done.returncode != 0:
        raise RuntimeError(f"tmux {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.splitlines()


def quote(arg: str) -> str:
    """Single-quote one argument for tmux's command parser."""
    return "'" + arg.replace("'", "'\\''") + "'"


class Control:
    """A tmux control-mode client of the bench: cheap commands, and timed ``%output`` lines.

    ``on_output(pane, data, t)`` is called on the reader thread for every ``%output`` line, with
    the time (``time.time()``) the line was read.
    """

    def __init__(
        self,
        socket: str,
        session: str,
        on_output: Callable[[str, bytes, float], None] | None = None,
    ) -> None:
        self.on_output = on_output
        self.session = session
        self.closed = ""
        self._closing = False
        self.proc = subprocess.Popen(
            ["tmux", "-L", socket, "-C", "attach-session", "-t", f"={session}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            bufsize=0,
        )
        self._lock = threading.Lock()
        self._pending: list[tuple[threading.Event, list[str]]] = []
        first = threading.Event()
        self._pending.append((first, []))
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not first.wait(5):
            raise RuntimeError(f"cannot attach a control client to {session}")

    def _read(self) -> None:
        assert self.proc.stdout is not None
        current: list[str] | None = None
        done: threading.Event | None = None
        attached = False
        for raw in self.proc.stdout:
            now = time.time()
            if current is not None:
                if raw.startswith((b"%end ", b"%error ")):
                    assert done is not None
                    done.set()
                    current = None
                else:
                    current.append(raw.decode("utf-8", "replace").rstrip("\n"))
                continue
            if raw.startswith(b"%output "):
                cut = raw.find(b" ", 8)
                if self.on_output is not None:
                    self.on_output(raw[8:cut].decode(), raw[cut + 1 :], now)
            elif raw.startswith(b"%begin "):
                ours = raw.rstrip().rsplit(b" ", 1)[-1] == b"1" or not attached
                attached = True
                with self._lock:
                    if ours and self._pending:
                        done, current = self._pending.pop(0)
                    else:
                        done, current = threading.Event(), []
            elif raw.startswith(b"%exit"):
                self.closed = raw.decode("utf-8", "replace").strip()
                break
        if not self.closed:
            self.closed = "connection lost"
        if not self._closing:
            log(f"control client of {self.session} ended: {self.closed}")
        with self._lock:
            for event, _ in self._pending:
                event.set()

    def command(self, *args: str, wait: bool = True) -> list[str]:
        """Run one tmux command over the connection."""
        event, lines = threading.Event(), list[str]()
        assert self.proc.stdin is not None
        if self.closed:
            raise RuntimeError(f"the control client of {self.session} ended: {self.closed}")
        with self._lock:
            self._pending.append((event, lines))
            self.proc.stdin.write((" ".join(quote(a) for a in args) + "\n").encode())
        if wait:
            event.wait(5)
        return lines

    def close(self) -> None:
        """Detach."""
        self._closing = True
        with contextlib.suppress(Exception):
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# ------------------------------------------------------------------------------- baseline


def baseline_main(socket: str, panes_file: Path, watch: set[str], log_path: Path) -> None:
    """The naive baseline: every 500 ms, for every agent pane, one ``tmux capture-pane``
    subprocess and a hash compare with the previous capture. That is all it does; for the panes
    in ``watch`` it also logs when a changed capture shows a permission dialog (so the bench can
    tell when it would have noticed one)."""
    panes = panes_file.read_text().split()
    last: dict[str, bytes] = {}
    out = log_path.open("a", buffering=1)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    tick = time.monotonic()
    while True:
        for pane in panes:
            done = subprocess.run(
                ["tmux", "-L", socket, "capture-pane", "-p", "-t", pane],
                capture_output=True,
                check=False,
            )
            digest = hashlib.blake2b(done.stdout, digest_size=16).digest()
            if digest != last.get(pane):
                last[pane] = digest
                if pane in watch:
                    out.write(f"{pane} {time.time():.6f} {int(DIALOG_MARK in done.stdout)}\n")
        tick += BASELINE_PERIOD
        time.sleep(max(0.0, tick - time.monotonic()))
        tick = max(tick, time.monotonic() - BASELINE_PERIOD)


# ------------------------------------------------------------------------------- one size


@dataclass
class Dialog:
    """One permission dialog an asker opened, and what each observer saw of it."""

    agent: str
    pane: str
    phase: str
    task_at: float
    seen_at: float | None = None  # the bench saw needs_input in the store (polled every 20 ms)
    written_at: float | None = None  # that record's updated_at: when the engine wrote it
    answered_at: float | None = None
    missed: bool = False
    trace_at: float | None = None  # the PermissionRequest trace hook ran
    screen_at: float | None = None  # tmux read the dialog from the agent's terminal
    engine_at: float | None = None  # the engine decided needs_input (events.at)
    evidence: str = ""
    hook_file_at: float | None = None  # Quarterdeck's hook wrote its event file
    baseline_at: float | None = None  # the naive baseline's first capture showing it


@dataclass
class Asker:
    """The bench's state machine for one asker agent."""

    agent: str
    pane: str
    state: str = "wait"
    next_at: float = 0.0
    answer_at: float = 0.0
    dialog: Dialog | None = None


@dataclass
class Window:
    """One measured window: CPU per process, and memory at its end."""

    cpu: dict[str, tuple[float, float]]
    rss: dict[str, int]
    working: tuple[int, int] = (0, 0)


class SizeRun:
    """Everything for one fleet size: set up, measure, tear down."""

    def __init__(self, n: int, seconds: float, dialogs: int, seed: int) -> None:
        self.n = n
        self.seconds = seconds
        self.dialogs = dialogs
        self.rng = random.Random(seed)
        self.tmp = Path(tempfile.mkdtemp(prefix="qd-status-bench-"))
        tag = uuid.uuid4().hex[:8]
        self.fleet_socket = f"qdbench-{tag}"
        self.term_socket = f"qdbench-term-{tag}"
        self.repo = self.tmp / "repo"
        self.hooks_dir = self.tmp / "hooks"
        self.relay = self.hooks_dir / "relay.sh"
        self.trace = self.tmp / "trace.log"
        self.baseline_log = self.tmp / "baseline.log"
        self.env = {
            "QUARTERDECK_TMUX_SOCKET": self.fleet_socket,
            "XDG_DATA_HOME": str(self.tmp / "data"),
            "XDG_CONFIG_HOME": str(self.tmp / "config"),
            "SHELL": "/bin/sh",
        }
        self.saved_env = {k: os.environ.get(k) for k in self.env}
        self.probes: list[tuple[str, str]] = []  # (agent id, pane)
        self.askers: list[Asker] = []
        self.busy: list[tuple[str, str]] = []
        self.names: dict[str, str] = {}
        self.dashboard_pid = 0
        self.dashboard_pane = ""
        self.tmux_pid = 0
        self.baseline: subprocess.Popen[bytes] | None = None
        self.fleet_ctl: Control | None = None
        self.term_ctl: Control | None = None
        self.screen_seen: dict[str, list[float]] = {}
        self.term_lock = threading.Lock()
        self.term_last = 0.0
        self.term_expect = b""
        self.term_tail = b""
        self.term_learn = False
        self.term_frames: list[bytes] = []
        self.term_hit = threading.Event()
        self.term_hit_at = 0.0
        self.dialog_log: list[Dialog] = []
        self.phase = ""
        self.issuing = False
        self.answer_delay = 0.0
        self.keep_busy = False
        self.stop = threading.Event()
        self.driver: threading.Thread | None = None
        self.db_path = self.repo / ".git" / "quarterdeck" / "state.db"
        self.results: dict[str, Any] = {"agents": n}

    # -- set-up ---------------------------------------------------------------------------

    def setup(self) -> None:
        """Repository, configuration, hook scripts, the dashboard in its terminal, the fleet."""
        os.environ.update(self.env)
        git_env = {
            **os.environ,
            "GIT_AUTHOR_NAME": "b",
            "GIT_AUTHOR_EMAIL": "b@b",
            "GIT_COMMITTER_NAME": "b",
            "GIT_COMMITTER_EMAIL": "b@b",
        }
        self.repo.mkdir(parents=True)
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=self.repo, check=True, env=git_env)
        for i in range(40):
            path = self.repo / f"src/pkg{i % 5}/mod{i}.py"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"def f{i}():\n    return {i}\n" * 20)
        # The dashboard reads the demo kind's hook events as Claude-style ones. (The bench's own
        # spawning Fleet drops Quarterdeck's --settings: see spawn().)
        (self.repo / ".quarterdeck.toml").write_text('[agents.demo]\nhooks = "claude"\n')
        (self.repo / ".gitignore").write_text(".quarterdeck.toml\n")
        subprocess.run(["git", "add", "-A"], cwd=self.repo, check=True, env=git_env)
        subprocess.run(["git", "commit", "-qm", "init"], cwd=self.repo, check=True, env=git_env)
        self._write_hooks()
        self.results["commit"] = git_state()
        self._start_dashboard()
        self._spawn()

    def _write_hooks(self) -> None:
        """The settings file every agent gets: the trace hook first for PermissionRequest, then
        Quarterdeck's hook command for every event it listens to, through the relay script."""
        self.hooks_dir.mkdir()
        trace = self.hooks_dir / "trace.sh"
        trace.write_text(
            f'printf \'%s %s\\n\' "$QUARTERDECK_AGENT_ID" "$(date +%s.%N)" >> {self.trace}\n'
        )
        self.set_hooks(False)
        installer = HookInstaller(self.tmp / "unused", self.tmp / "unused-events")
        script = str(hook_script())
        hooks: dict[str, Any] = {}
        for event in CLAUDE_EVENTS:
            command = installer.command(event).replace(shlex.quote(script), str(self.relay))
            entries = [{"type": "command", "command": command}]
            if event == "PermissionRequest":
                entries.insert(0, {"type": "command", "command": f"sh {trace}"})
            group: dict[str, Any] = {"hooks": entries}
            if event in CLAUDE_TOOL_EVENTS:
                group["matcher"] = "*"
            hooks[event] = [group]
        (self.hooks_dir / "settings.json").write_text(json.dumps({"hooks": hooks}, indent=2))

    def set_hooks(self, on: bool) -> None:
        """Hooks on: the relay becomes Quarterdeck's hook script; off: a no-op."""
        text = hook_script().read_text() if on else "exit 0\n"
        tmp = self.relay.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.replace(self.relay)

    def _start_dashboard(self) -> None:
        width, height = TERMINAL_SIZE
        exe = ROOT / ".venv" / "bin" / "quarterdeck"
        env_args = [a for k, v in self.env.items() for a in ("-e", f"{k}={v}")]
        command = f"exec {shlex.quote(str(exe))} -C {shlex.quote(str(self.repo))} dashboard"
        tmux(self.term_socket, "-f", "/dev/null", "new-session", "-d", "-s", "term",
             "-x", str(width), "-y", str(height), *env_args, command)  # fmt: skip
        tmux(self.term_socket, "set", "-g", "window-size", "manual")
        pane, pid = tmux(self.term_socket, "list-panes", "-t", "term", "-F",
                         "#{pane_id} #{pane_pid}")[0].split()  # fmt: skip
        self.dashboard_pane, self.dashboard_pid = pane, int(pid)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.db_path.exists() and tmux(self.fleet_socket, "ls", check=False):
                break
            time.sleep(0.2)
        else:
            raise RuntimeError("the dashboard did not start")
        self.tmux_pid = int(tmux(self.fleet_socket, "display", "-p", "#{pid}")[0])
        self.term_ctl = Control(self.term_socket, "term", self._term_output)

    def _spawn(self) -> None:
        from app.fleet.fleet import Fleet

        # Quarterdeck would append its own --settings for a kind with hooks; the demo agent
        # takes the last --settings, which would drop the bench's. The bench's settings file
        # runs the same hook commands itself, so its spawning Fleet is built with a demo kind
        # that has none (the fleet's parts take the settings when it is built).
        opened = Fleet.open(self.repo)
        demo = replace(opened.settings.profiles["demo"], hooks="")
        quiet = replace(opened.settings, profiles={**opened.settings.profiles, "demo": demo})
        fleet = Fleet(opened.repo, quiet, opened.tmux, opened.store)
        fleet.reload()
        settings = self.hooks_dir / "settings.json"
        n_askers = max(4, self.n // 5)
        plan = [(name, "worker", 1.0) for name in PROBES]
        plan += [(f"ask-{i:02d}", "asker", ASKER_SPEED) for i in range(n_askers)]
        plan += [(f"busy-{i:03d}", "busy", BUSY_SPEED) for i in range(self.n - len(plan))]
        t0 = time.monotonic()
        for i, (name, behaviour, speed) in enumerate(plan):
            command = (
                f"{{python}} -m app.demo.agent --behaviour {behaviour} --seed {i} "
                f"--speed {speed} --settings {shlex.quote(str(settings))}"
            )
            (agent,) = fleet.spawn(SpawnRequest(prompt="", kind="demo", name=name, command=command))
            self.names[agent.id] = name
            entry = (agent.id, agent.placement.pane_id)
            if behaviour == "worker":
                self.probes.append(entry)
            elif behaviour == "asker":
                self.askers.append(Asker(agent.id, agent.placement.pane_id))
            else:
                self.busy.append(entry)
        fleet.store.close()
        self.results["spawn_s"] = time.monotonic() - t0
        log(f"N={self.n}: spawned {len(plan)} agents in {self.results['spawn_s']:.1f}s")
        self.results["fleet"] = (
            f"{len(self.probes)} idle, {len(self.askers)} askers, {len(self.busy)} busy"
        )
        self.wait_all("idle", 60 + self.n)
        self.fleet_ctl = Control(self.fleet_socket, self._session(), self._fleet_output)
        watched = {a.pane for a in self.askers}
        for pane in tmux(self.fleet_socket, "list-panes", "-a", "-F", "#{pane_id}"):
            if pane not in watched:
                self.fleet_ctl.command("refresh-client", "-A", f"{pane}:off")

    def _session(self) -> str:
        return tmux(self.fleet_socket, "ls", "-F", "#{session_name}")[0]

    # -- observers ------------------------------------------------------------------------

    def _fleet_output(self, pane: str, data: bytes, at: float) -> None:
        if DIALOG_MARK in data:
            self.screen_seen.setdefault(pane, []).append(at)

    def _term_output(self, pane: str, data: bytes, at: float) -> None:
        if pane != self.dashboard_pane:
            return
        with self.term_lock:
            self.term_last = at
            # A chunk boundary may cut the pattern: search the previous chunk's tail too.
            window, self.term_tail = self.term_tail + data, data[-96:]
            if self.term_expect and self.term_expect in window:
                self.term_expect = b""
                self.term_hit_at = at
                self.term_hit.set()
            elif self.term_learn:
                self.term_frames.append(window)

    def statuses(self, db: sqlite3.Connection, ids: Sequence[str] | None = None) -> dict[str, str]:
        """Each agent's status as stored."""
        return {k: v[0] for k, v in self.records(db, ids).items()}

    def records(
        self, db: sqlite3.Connection, ids: Sequence[str] | None = None
    ) -> dict[str, tuple[str, float]]:
        """Each agent's stored status and the time its record was last written."""
        query = "SELECT id, json_extract(data, '$.shown.status'), updated_at FROM agents"
        if ids is not None:
            query += f" WHERE id IN ({','.join('?' * len(ids))})"
        rows = db.execute(query, tuple(ids or ())).fetchall()
        return {r[0]: (r[1], r[2]) for r in rows}

    def wait_all(self, status: str, timeout: float) -> None:
        """Wait until every agent's stored status is ``status``."""
        db = sqlite3.connect(self.db_path, timeout=10)
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                states = self.statuses(db)
                if len(states) == self.n and all(s == status for s in states.values()):
                    return
                time.sleep(0.2)
            counts: dict[str, int] = {}
            for s in self.statuses(db).values():
                counts[s] = counts.get(s, 0) + 1
            rows = db.execute(
                "SELECT name, json_extract(data, '$.shown.status'),"
                " json_extract(data, '$.shown.evidence'),"
                " json_extract(data, '$.shown.since'), json_extract(data, '$.placement.pane_id')"
                " FROM agents"
            ).fetchall()
            for name, got, evidence, since, pane in rows:
                if got != status:
                    screen = tmux(self.fleet_socket, "capture-pane", "-p", "-t", pane, check=False)
                    last = [line for line in screen if line.strip()][-3:]
                    log(f"  {name}: {got} since {time.time() - since:.1f}s ({evidence}); {last}")
            raise RuntimeError(f"agents did not all become {status} in time: {counts}")
        finally:
            db.close()

    # -- driving the agents ---------------------------------------------------------------

    def type_task(self, pane: str) -> None:
        """Type a task into an agent's prompt and submit it."""
        assert self.fleet_ctl is not None
        self.fleet_ctl.command("send-keys", "-t", pane, "-l", self.rng.choice(TASKS))
        self.fleet_ctl.command("send-keys", "-t", pane, "Enter")

    def _drive(self) -> None:
        """The driver thread: askers' dialogs (type a task, wait for needs_input, answer) and
        busy agents kept working."""
        db = sqlite3.connect(self.db_path, timeout=10)
        ctl = self.fleet_ctl
        assert ctl is not None
        ids = [a.agent for a in self.askers]
        next_busy_check = 0.0
        typed_busy: dict[str, float] = {}
        try:
            while not self.stop.is_set():
                now = time.time()
                states = self.records(db, ids)
                for asker in self.askers:
                    self._step(asker, *states.get(asker.agent, ("", 0.0)), now)
                if self.keep_busy and now >= next_busy_check:
                    next_busy_check = now + 1.0
                    busy_states = self.statuses(db, [b[0] for b in self.busy])
                    for agent, pane in self.busy:
                        if busy_states.get(agent) == "idle" and now - typed_busy.get(agent, 0) > 3:
                            typed_busy[agent] = now
                            self.type_task(pane)
                time.sleep(POLL_SECONDS)
        finally:
            db.close()

    def _step(self, asker: Asker, status: str, written: float, now: float) -> None:
        ctl = self.fleet_ctl
        assert ctl is not None
        d = asker.dialog
        if asker.state == "wait":
            if self.issuing and now >= asker.next_at and status == "idle":
                asker.dialog = Dialog(asker.agent, asker.pane, self.phase, now)
                self.type_task(asker.pane)
                asker.state = "working"
        elif asker.state == "working" and d is not None:
            if status == "needs_input":
                d.seen_at, d.written_at = now, written
                asker.state, asker.answer_at = "dialog", now + self.answer_delay
            elif now - d.task_at > DIALOG_TIMEOUT:
                d.missed = True
                self.dialog_log.append(d)
                self._recover(asker, now)
        elif asker.state == "dialog" and d is not None and now >= asker.answer_at:
            ctl.command("send-keys", "-t", asker.pane, "-l", "1")
            d.answered_at = now
            self.dialog_log.append(d)
            asker.state = "answered"
        elif asker.state == "answered" and d is not None and d.answered_at is not None:
            if status == "idle" and now - d.answered_at > 0.2:
                asker.state = "wait"
                asker.next_at = now + self.rng.uniform(0.1, 0.8)
            elif now - d.answered_at > DIALOG_TIMEOUT:
                self._recover(asker, now)

    def _recover(self, asker: Asker, now: float) -> None:
        """Back to a clean prompt whatever the agent is doing (Esc interrupts or dismisses)."""
        assert self.fleet_ctl is not None
        self.fleet_ctl.command("send-keys", "-t", asker.pane, "Escape")
        time.sleep(0.1)
        self.fleet_ctl.command("send-keys", "-t", asker.pane, "C-c")
        asker.state, asker.next_at = "wait", now + 1.0

    def run_dialogs(
        self, phase: str, minimum: float, wanted: int, answer_delay: float = 0.0
    ) -> None:
        """Let askers open dialogs, tagged ``phase``, for at least ``minimum`` seconds and until
        ``wanted`` of them were answered (at most 120 s); then let the askers finish."""
        self.phase, self.answer_delay, self.issuing = phase, answer_delay, True
        t0 = time.monotonic()
        for asker in self.askers:
            asker.next_at = time.time() + self.rng.uniform(0.0, 1.0)
        while time.monotonic() - t0 < 120:
            count = sum(1 for d in self.dialog_log if d.phase == phase)
            if time.monotonic() - t0 >= minimum and count >= wanted:
                break
            time.sleep(0.1)
        self.drain()

    def drain(self) -> None:
        """Stop issuing tasks to askers and wait until all are back at their prompt."""
        self.issuing = False
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(a.state != "wait" for a in self.askers):
            time.sleep(0.05)

    # -- measuring ------------------------------------------------------------------------

    def window(self, who: dict[str, int], during: Callable[[], None] | None = None) -> Window:
        """CPU of ``who`` over ``--seconds`` (running ``during`` meanwhile if given)."""
        meter = CpuMeter(who)
        working0 = self.count_working()
        meter.start()
        if during is None:
            time.sleep(self.seconds)
        else:
            during()
        cpu = meter.stop()
        rss = {name: status_kib(pid, "VmRSS") for name, pid in who.items()}
        return Window(cpu, rss, (working0, self.count_working()))

    def count_working(self) -> int:
        """How many agents the store says are working or waiting for input."""
        db = sqlite3.connect(self.db_path, timeout=10)
        try:
            return sum(1 for s in self.statuses(db).values() if s in ("working", "needs_input"))
        finally:
            db.close()

    def start_baseline(self) -> None:
        """Start the naive baseline on every agent pane (a process of its own)."""
        panes = (
            [p for _, p in self.busy] + [a.pane for a in self.askers] + [p for _, p in self.probes]
        )
        panes_file = self.tmp / "baseline-panes.txt"
        panes_file.write_text("\n".join(panes))
        watch = ",".join(a.pane for a in self.askers)
        self.baseline = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--baseline-worker",
                self.fleet_socket,
                str(panes_file),
                watch,
                str(self.baseline_log),
            ],
            stdin=subprocess.DEVNULL,
        )
        time.sleep(1.0)  # its first round captures everything once

    def stop_baseline(self) -> None:
        """Stop the baseline."""
        if self.baseline is not None:
            self.baseline.terminate()
            self.baseline.wait(timeout=5)
            self.baseline = None

    def _selected_style(self) -> tuple[bytes, bytes]:
        """The escape sequences that precede a probe's name in the table when its row is
        selected and when it is not, learnt from the repaint of a first ``j`` (which selects
        the second probe and unselects the first)."""
        ctl = self.term_ctl
        assert ctl is not None
        ctl.command("send-keys", "-t", self.dashboard_pane, "Home")
        time.sleep(0.5)
        self.term_frames, self.term_learn = [], True
        ctl.command("send-keys", "-t", self.dashboard_pane, "j")
        time.sleep(0.6)
        self.term_learn = False
        ctl.command("send-keys", "-t", self.dashboard_pane, "k")
        time.sleep(0.5)
        styles: list[bytes] = []
        for name in (PROBES_B[1], PROBES_B[0]):
            found = [m for f in self.term_frames for m in re.finditer(_CELL % re.escape(name), f)]
            if not found:
                raise RuntimeError(f"no repaint showed the row of {name.decode()}")
            styles.append(found[-1].group(1))
        if styles[0] == styles[1]:
            raise RuntimeError("cannot tell the selected row from the others")
        return styles[0], styles[1]

    def keypresses(self, count: int) -> tuple[list[float], int]:
        """Send ``j``/``k`` to the dashboard's pane ``count`` times; the delays (ms) until the
        dashboard's output first shows the newly selected probe row as selected, and timeouts."""
        ctl = self.term_ctl
        assert ctl is not None
        try:
            selected, _ = self._selected_style()
        except RuntimeError as exc:
            log(f"N={self.n}: keypress test skipped: {exc}")
            return [], count
        samples, timeouts = [], 0
        for i in range(count):
            # Into a quiet moment if there is one within 1 s (a busy fleet repaints often);
            # only a repaint of the newly selected row as selected counts as the answer.
            deadline = time.time() + 1.0
            while time.time() - self.term_last < 0.1 and time.time() < deadline:
                time.sleep(0.01)
            with self.term_lock:
                self.term_hit.clear()
                self.term_expect = selected + PROBES_B[(i + 1) % 2]
                sent = time.time()
            ctl.command("send-keys", "-t", self.dashboard_pane, "j" if i % 2 == 0 else "k")
            if self.term_hit.wait(2.0):
                samples.append(1000 * (self.term_hit_at - sent))
            else:
                timeouts += 1
                with self.term_lock:
                    self.term_expect = b""
            time.sleep(0.15 + self.rng.uniform(0, 0.1))
        return samples, timeouts

    def memory(self) -> dict[str, int]:
        """RSS (KiB): dashboard now and peak, the demo agents summed, the tmux server."""
        pids = [int(p) for p in tmux(self.fleet_socket, "list-panes", "-a", "-F", "#{pane_pid}")]
        agents = sum(status_kib(p, "VmRSS") for p in pids if p != self.dashboard_pid)
        return {
            "dashboard": status_kib(self.dashboard_pid, "VmRSS"),
            "dashboard_peak": status_kib(self.dashboard_pid, "VmHWM"),
            "agents": agents,
            "tmux": status_kib(self.tmux_pid, "VmRSS"),
        }

    def measure(self) -> dict[str, Any]:
        """All the phases, in order: the busy fleet first (hooks off, then on), then the same
        fleet idle after its agents were interrupted (so every screen has a turn on it)."""
        r = self.results
        dash = {"dashboard": self.dashboard_pid, "tmux": self.tmux_pid, "bench": os.getpid()}
        self.driver = threading.Thread(target=self._drive, daemon=True)
        self.driver.start()
        log(f"N={self.n}: busy fleet: start every busy agent")
        for _, pane in self.busy:
            self.type_task(pane)
        self.keep_busy = True
        time.sleep(3)
        log(f"N={self.n}: busy, hooks off: dashboard window, dialogs via the screen")
        r["busy_dash"] = self.window(
            dash, lambda: self.run_dialogs("screen", self.seconds, self.dialogs)
        )
        log(f"N={self.n}: busy, hooks off: baseline window, dialogs it must notice")
        self.start_baseline()
        assert self.baseline is not None
        r["busy_base"] = self.window(
            {**dash, "baseline": self.baseline.pid},
            lambda: self.run_dialogs("baseline", self.seconds, self.dialogs // 2, 1.5),
        )
        self.stop_baseline()
        log(f"N={self.n}: busy: keypresses")
        r["keys_busy"] = self.keypresses(KEYPRESSES)
        log(f"N={self.n}: busy, hooks on: dashboard window, dialogs")
        self.set_hooks(True)
        time.sleep(1)
        r["hooks_dash"] = self.window(
            dash, lambda: self.run_dialogs("hooks", self.seconds, self.dialogs)
        )
        r["mem_busy"] = self.memory()
        self.keep_busy = False
        self.stop.set()
        self.driver.join(timeout=5)

        log(f"N={self.n}: interrupt every agent, wait until the whole fleet is idle")
        assert self.fleet_ctl is not None
        for _, pane in self.busy:
            self.fleet_ctl.command("send-keys", "-t", pane, "Escape")
        self.wait_all("idle", 60)
        # Hysteresis, and the diff stats of the last edits: the engine recomputes at most
        # STATS_PER_SECOND agents' stats a second, so a whole fleet's take n / that.
        time.sleep(3 + self.n / STATS_PER_SECOND)
        log(f"N={self.n}: idle: dashboard window ({self.seconds:g}s)")
        r["idle_dash"] = self.window(dash)
        log(f"N={self.n}: idle: baseline window")
        self.start_baseline()
        assert self.baseline is not None
        r["idle_base"] = self.window({**dash, "baseline": self.baseline.pid})
        self.stop_baseline()
        log(f"N={self.n}: idle: keypresses")
        r["keys_idle"] = self.keypresses(KEYPRESSES)
        r["mem_idle"] = self.memory()
        self._collect()
        return r

    def _collect(self) -> None:
        """Match every dialog with its trace line, screen sighting, engine transition, hook file
        and baseline sighting (each is the first of its kind within the dialog's turn)."""
        traces: dict[str, list[float]] = {}
        if self.trace.exists():
            for line in self.trace.read_text().splitlines():
                agent, _, stamp = line.partition(" ")
                traces.setdefault(agent, []).append(float(stamp))
        db = sqlite3.connect(self.db_path, timeout=10)
        rows = db.execute(
            "SELECT agent_id, at, status, evidence FROM events ORDER BY seq"
        ).fetchall()
        db.close()
        transitions: dict[str, list[tuple[float, str]]] = {}
        hook_files: dict[str, list[float]] = {}
        for agent, at, status, evidence in rows:
            if evidence == "hook: PermissionRequest":
                hook_files.setdefault(agent, []).append(at)
            elif status == "needs_input":
                transitions.setdefault(agent, []).append((at, evidence))
        base: dict[str, list[float]] = {}
        if self.baseline_log.exists():
            for line in self.baseline_log.read_text().splitlines():
                pane, stamp, flag = line.split()
                if flag == "1":
                    base.setdefault(pane, []).append(float(stamp))

        def first(values: list[float], lo: float, hi: float) -> float | None:
            return next((v for v in sorted(values) if lo <= v < hi), None)

        # A dialog's sightings fall between its task and the agent's next task (a trace hook
        # can run after the bench already answered: hooks queue behind the agent's screen).
        following: dict[int, float] = {}
        last: dict[str, Dialog] = {}
        for d in sorted(self.dialog_log, key=lambda d: d.task_at):
            if d.agent in last:
                following[id(last[d.agent])] = d.task_at
            last[d.agent] = d
        for d in self.dialog_log:
            hi = following.get(id(d), float("inf"))
            d.trace_at = first(traces.get(d.agent, []), d.task_at, hi)
            d.screen_at = first(self.screen_seen.get(d.pane, []), d.task_at, hi)
            d.hook_file_at = first(hook_files.get(d.agent, []), d.task_at, hi)
            d.baseline_at = first(base.get(d.pane, []), d.task_at, hi)
            for at, evidence in transitions.get(d.agent, []):
                if d.task_at <= at < hi:
                    d.engine_at, d.evidence = at, evidence
                    break
        self.results["dialogs"] = self.dialog_log

    # -- tear-down ------------------------------------------------------------------------

    def teardown(self) -> None:
        """Stop everything this size started and remove its files, whatever happened."""
        self.stop.set()
        with contextlib.suppress(Exception):
            self.stop_baseline()
        for ctl in (self.fleet_ctl, self.term_ctl):
            if ctl is not None:
                ctl.close()
        tmux(self.term_socket, "kill-server", check=False)
        if self.dashboard_pid:
            deadline = time.monotonic() + 5
            while _stat(self.dashboard_pid) is not None and time.monotonic() < deadline:
                time.sleep(0.1)
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.dashboard_pid, signal.SIGKILL)
        # The agents (and their hooks and git commands) get SIGHUP with the fleet's server; a
        # demo agent may take a few seconds to finish its queued hooks. Whatever is left of the
        # processes this run started is killed, by pid, before its files are removed.
        panes = tmux(self.fleet_socket, "list-panes", "-a", "-F", "#{pane_pid}", check=False)
        agents = [p for pid in panes if pid.isdigit() for p in tree(int(pid))]
        tmux(self.fleet_socket, "kill-server", check=False)
        deadline = time.monotonic() + 8
        while any(_stat(p) is not None for p in agents) and time.monotonic() < deadline:
            time.sleep(0.2)
        for pid in agents:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for _ in range(10):
            shutil.rmtree(self.tmp, ignore_errors=True)
            if not self.tmp.exists():
                break
            time.sleep(0.5)
        for key, value in self.saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# ------------------------------------------------------------------------------- report


def _ms(values: list[float]) -> str:
    """``p50 / p95 / max`` in ms, or a dash."""
    if not values:
        return "–"
    return f"{percentile(values, 50):.0f} / {percentile(values, 95):.0f} / {max(values):.0f}"


def _lat(dialogs: list[Dialog], phase: str | None, origin: str, end: str) -> list[float]:
    """Delays (ms) from ``origin`` to ``end`` of the dialogs of ``phase`` (None: all)."""
    out = []
    for d in dialogs:
        start, stop = getattr(d, origin), getattr(d, end)
        if (phase is None or d.phase == phase) and start is not None and stop is not None:
            out.append(1000 * (stop - start))
    return out


def _cpu(r: dict[str, Any], window: str, who: str, own: bool = False) -> float:
    return float(r[window].cpu[who][0 if own else 1])


def git_state() -> str:
    """The commit measured, and whether the working tree had changes."""
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no", "app"],
        capture_output=True,
        text=True,
    ).stdout.split()[1::2]
    return f"commit {head}" + (f" + uncommitted changes in {', '.join(dirty)}" if dirty else "")


def report(runs: list[dict[str, Any]], args: argparse.Namespace, started: str) -> str:
    """The Markdown report of all sizes."""
    tmux_version = subprocess.run(["tmux", "-V"], capture_output=True, text=True).stdout.strip()
    states = {r["commit"] for r in runs}
    commits = (
        states.pop()
        if len(states) == 1
        else "the code changed during the run: "
        + "; ".join(f"{r['agents']}: {r['commit']}" for r in runs)
    )
    lines = [
        f"# Status benchmark, {started}",
        "",
        f"`{shlex.join(['bench/status_bench.py', *sys.argv[1:]])}` · {commits} · "
        f"{os.cpu_count()} cores · {platform.platform()} · Python {platform.python_version()} · "
        f"{tmux_version} · CPU windows of at least {args.seconds:g} s · load average before "
        "each size: " + ", ".join(f"{r['agents']}: {r['load']}" for r in runs),
        "",
        "## CPU, % of one core",
        "",
        "Dashboard and baseline: the process and its children (the dashboard's tmux control "
        "client and git; the baseline's capture-pane subprocesses). tmux: the fleet's tmux "
        "server alone. Agents: every demo agent with its hooks and git commands.",
        "",
        "| agents | fleet | dashboard (process alone) | tmux | baseline | tmux "
        "| baseline ÷ dashboard "
        "| agents (dashboard window) | bench |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        for label, dash_w, base_w in (
            ("idle", "idle_dash", "idle_base"),
            ("busy, hooks off", "busy_dash", "busy_base"),
            ("busy, hooks on", "hooks_dash", None),
        ):
            dash = _cpu(r, dash_w, "dashboard")
            base = f"{_cpu(r, base_w, 'baseline'):.1f}" if base_w else "–"
            base_tmux = f"{_cpu(r, base_w, 'tmux', own=True):.1f}" if base_w else "–"
            ratio = f"{_cpu(r, base_w, 'baseline') / max(dash, 0.01):.1f}×" if base_w else "–"
            agents = _cpu(r, dash_w, "tmux") - _cpu(r, dash_w, "tmux", own=True)
            alone = _cpu(r, dash_w, "dashboard", own=True)
            lines.append(
                f"| {r['agents']} | {label} | {dash:.1f} ({alone:.1f}) "
                f"| {_cpu(r, dash_w, 'tmux', own=True):.1f} "
                f"| {base} | {base_tmux} | {ratio} | {agents:.0f} "
                f"| {_cpu(r, dash_w, 'bench', own=True):.1f} |"
            )
    lines += [
        "",
        "## Status latency, ms: p50 / p95 / max",
        "",
        "From the dialog's opening to the engine's report of needs_input. Opening: *tmux* is "
        "when a bench control client read the dialog's bytes from the agent's terminal, *trace* "
        "when the agent's PermissionRequest trace hook ran. Report: *written* is the agent "
        "record's `updated_at` as the bench first read needs_input (polling every 20 ms); "
        "*events.at* is the transition's time in the `events` table, which is the start of the "
        "sweep that found it.",
        "",
        "| agents | path | dialogs | tmux → written | trace → written | tmux → events.at "
        "| decided by a hook |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        ds: list[Dialog] = r["dialogs"]
        for phase, label in (
            ("screen", "screen (hooks off)"),
            ("hooks", "hooks on"),
            ("baseline", "screen, baseline running"),
        ):
            got = [d for d in ds if d.phase == phase]
            decided = [d for d in got if d.engine_at is not None]
            by_hook = sum(1 for d in decided if d.evidence.startswith("hook:"))
            lines.append(
                f"| {r['agents']} | {label} | {len(decided)}/{len(got)} "
                f"| {_ms(_lat(ds, phase, 'screen_at', 'written_at'))} "
                f"| {_ms(_lat(ds, phase, 'trace_at', 'written_at'))} "
                f"| {_ms(_lat(ds, phase, 'screen_at', 'engine_at'))} "
                f"| {by_hook}/{len(decided)} |"
            )
        asked = [d for d in ds if d.phase == "baseline"]
        noticed = _lat(ds, "baseline", "screen_at", "baseline_at")
        lines.append(
            f"| {r['agents']} | naive baseline: first capture showing it | "
            f"{len(noticed)}/{len(asked)} | {_ms(noticed)} "
            f"| {_ms(_lat(ds, 'baseline', 'trace_at', 'baseline_at'))} | – | – |"
        )
    lines += [
        "",
        "Where the time goes (ms, p50 / p95 / max): the trace hook's offset (trace − tmux); "
        "with hooks on, Quarterdeck's event file written (file mtime − tmux) and the record "
        "written after it; events.at → written (how long after its start the sweep wrote the "
        "record; negative events.at − tmux values mean the sweep began before the dialog "
        "opened and captured it later).",
        "",
        "| agents | trace offset | hook file written | file → written | events.at → written |",
        "|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        ds = r["dialogs"]
        lines.append(
            f"| {r['agents']} | {_ms(_lat(ds, None, 'screen_at', 'trace_at'))} "
            f"| {_ms(_lat(ds, 'hooks', 'screen_at', 'hook_file_at'))} "
            f"| {_ms(_lat(ds, 'hooks', 'hook_file_at', 'written_at'))} "
            f"| {_ms(_lat(ds, None, 'engine_at', 'written_at'))} |"
        )
    lines += [
        "",
        "## Keypress to repaint (ms, p50 / p95 / max), and memory (MiB)",
        "",
        "| agents | keypress, idle fleet | keypress, busy fleet | no repaint within 2 s "
        "| dashboard RSS (peak) | baseline RSS | demo agents' RSS, total | tmux server RSS |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        mem = r["mem_busy"]
        base_rss = r["busy_base"].rss.get("baseline", 0)
        lines.append(
            f"| {r['agents']} | {_ms(r['keys_idle'][0])} | {_ms(r['keys_busy'][0])} "
            f"| {r['keys_idle'][1] + r['keys_busy'][1]} "
            f"| {mem['dashboard'] / 1024:.0f} ({mem['dashboard_peak'] / 1024:.0f}) "
            f"| {base_rss / 1024:.0f} | {mem['agents'] / 1024:.0f} | {mem['tmux'] / 1024:.0f} |"
        )
    lines += [
        "",
        "Fleets: "
        + "; ".join(f"{r['agents']}: {r['fleet']}" for r in runs)
        + ". Agents working or "
        "waiting at the start → end of each busy window: "
        + "; ".join(
            f"{r['agents']}: "
            + ", ".join(f"{r[k].working[0]}→{r[k].working[1]}" for k in BUSY_WINDOWS)
            for r in runs
        )
        + ". Spawn time (s): "
        + ", ".join(f"{r['agents']}: {r['spawn_s']:.1f}" for r in runs)
        + ".",
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark for every fleet size, print the report and write it to bench/results."""
    raw = list(sys.argv[1:] if argv is None else argv)
    if raw[:1] == ["--baseline-worker"]:
        socket, panes_file, watch, log_path = raw[1:5]
        baseline_main(socket, Path(panes_file), set(watch.split(",")), Path(log_path))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--agents", type=int, nargs="+", default=[10, 50, 100])
    parser.add_argument("--seconds", type=float, default=15.0, help="CPU window length")
    parser.add_argument("--dialogs", type=int, default=30, help="dialogs per latency phase")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(raw)
    if shutil.which("tmux") is None:
        parser.error("tmux is required")
    started = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    runs: list[dict[str, Any]] = []

    def interrupted(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    for n in args.agents:
        load = Path("/proc/loadavg").read_text().split()[:3]
        run = SizeRun(n, args.seconds, args.dialogs, args.seed + n)
        try:
            run.setup()
            result = run.measure()
            result["load"] = " ".join(load)
            runs.append(result)
        finally:
            run.teardown()
        log(f"N={n}: done")
    text = report(runs, args, started)
    print(text)
    out = ROOT / "bench" / "results" / f"status-{started[:10]}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    log(f"report written to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
