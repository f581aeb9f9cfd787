"""The check command run in an agent's worktree: started in its own process group, followed
on a thread (its output's tail kept, in the store for other processes to see), cancelled from
any Quarterdeck process of the repository, and recorded as it ends."""

from __future__ import annotations

import contextlib
import os
import re
import select
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from app.core.agent import Agent
from app.core.checks import CheckResult, CheckState, CheckSummary
from app.core.errors import QuarterdeckError, UsageError
from app.infra.git import READ_ONLY, Repository
from app.infra.procs import child_exited, is_alive, kill_group, start_time
from app.infra.review_tables import CheckRecord, CheckTable
from app.infra.settings import Settings

#: Lines of a check's output kept (stdout and stderr together).
CHECK_TAIL_LINES = 40
#: Characters kept of one output line.
CHECK_LINE_CHARS = 400
#: How long a cancelled check has after SIGTERM before its process group is SIGKILLed.
CHECK_GRACE = 3.0
#: A check's shell has exited but something it started still holds its output open: after this
#: long the rest of its process group is killed (a check's processes end with it).
LEFTOVER_GRACE = 1.0
#: How often a running check's output tail is written for other processes to see.
TAIL_SAVE_INTERVAL = 0.5

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07")
#: Writes an agent's latest check to its record (``set_check(agent_id, summary)``), from any
#: thread, leaving the rest of the record as it is.
SetCheck = Callable[[str, CheckSummary | None], object]


class _Tail:
    """The last lines of a process's output (colour escapes and carriage-return redraws
    removed)."""

    def __init__(self) -> None:
        self.lines: deque[str] = deque(maxlen=CHECK_TAIL_LINES)
        self._partial = b""

    def feed(self, data: bytes) -> None:
        """Take more output."""
        *complete, self._partial = (self._partial + data).split(b"\n")
        for raw in complete:
            self.lines.append(self._clean(raw))
        if len(self._partial) > 64 * CHECK_LINE_CHARS:
            self._partial = self._partial[-CHECK_LINE_CHARS * 4 :]

    @staticmethod
    def _clean(raw: bytes) -> str:
        text = _ANSI.sub("", raw.decode("utf-8", "replace")).rstrip("\r")
        text = text.rsplit("\r", 1)[-1]
        return text if len(text) <= CHECK_LINE_CHARS else text[: CHECK_LINE_CHARS - 1] + "…"

    def text(self) -> str:
        """The tail as text."""
        lines = list(self.lines)
        if self._partial:
            lines = [*lines, self._clean(self._partial)][-CHECK_TAIL_LINES:]
        return "\n".join(lines)


@dataclass
class _Run:
    agent: Agent
    command: str
    proc: subprocess.Popen[bytes]
    started: float
    started_at: float
    commit: str
    dirty: bool
    tail: _Tail = field(default_factory=_Tail)
    cancel: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)

    def result(self) -> CheckResult:
        return CheckResult(
            self.command,
            CheckState.RUNNING,
            self.started_at,
            time.monotonic() - self.started,
            None,
            self.tail.text(),
            self.commit,
            self.dirty,
        )


def _owner_alive(row: CheckRecord) -> bool:
    """The Quarterdeck process that runs the check is still that process (not a new one that
    got its pid)."""
    if not is_alive(row.owner):
        return False
    return not row.owner_start or start_time(row.owner) == row.owner_start


class CheckRunner:
    """Runs, follows, cancels and reports agents' checks."""

    def __init__(
        self,
        repo: Repository,
        table: CheckTable,
        *,
        get: Callable[[str], Agent],
        stored: Callable[[], list[Agent]],
        set_check: SetCheck,
        settings: Callable[[], Settings],
        defaults: Settings,
        task_check: Callable[[Agent], str] = lambda agent: "",
    ) -> None:
        """``get`` finds an agent by name, ``stored`` lists the agents as stored,
        ``set_check`` writes a check's summary to an agent's record; ``settings`` reads the
        repository's settings as the files say now (a check added while the dashboard runs
        counts), and ``defaults`` are the ones it was opened with; ``task_check`` is the check
        of the task an agent carries out ('' for none: the repository's then)."""
        self._repo = repo
        self._table = table
        self._get = get
        self._stored = stored
        self._set_check = set_check
        self._settings = settings
        self._defaults = defaults
        self._task_check = task_check
        #: Checks this process runs, by agent id.
        self._runs: dict[str, _Run] = {}
        #: Guards `_runs` (and starting a check: one at a time per agent).
        self._lock = threading.Lock()

    def check_command(self, agent: Agent) -> str:
        """The agent's check command, or a `UsageError` saying how to set one."""
        command = (
            self._task_check(agent)
            or self._settings().check_command(agent.name)
            or self._defaults.check_command(agent.name)
        )
        if not command:
            raise UsageError(
                'no check command: set check = "..." in .quarterdeck.toml (e.g. '
                'check = "pytest -q"), or [checks] ' + agent.name + ' = "..." for this agent'
            )
        return command

    def run_check(self, name: str) -> CheckResult:
        """Start the check command in the agent's worktree, in its own process group, and
        follow it on a thread. Returns the running check."""
        agent = self._get(name)
        command = self.check_command(agent)
        worktree = Path(agent.checkout.worktree)
        if not worktree.is_dir():
            raise QuarterdeckError(f"the worktree of {name} ({worktree}) is gone")
        with self._lock:
            if agent.id in self._runs:
                raise UsageError(f"{name}'s check is already running; cancel it first")
            row = self._table.get(agent.id)
            if row is not None and row.result.state is CheckState.RUNNING and _owner_alive(row):
                raise UsageError(
                    f"{name}'s check is already running (in Quarterdeck process {row.owner})"
                )
            head = self._repo.run("rev-parse", "HEAD", cwd=worktree, env=READ_ONLY)
            dirty = bool(self._repo.changed_files(worktree))
            env = {**os.environ, "QUARTERDECK_CHECK": "1", "QUARTERDECK_AGENT_NAME": name}
            proc = subprocess.Popen(
                ["sh", "-c", command],
                cwd=worktree,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=env,
            )
            run = _Run(agent, command, proc, time.monotonic(), time.time(), head, dirty)
            self._runs[agent.id] = run
            result = run.result()
            self._table.save(
                agent.id,
                agent.name,
                result,
                proc.pid,
                start_time(proc.pid),
                os.getpid(),
                start_time(os.getpid()),
            )
        self._set_check(agent.id, result.summary)
        threading.Thread(
            target=self._follow, args=(run,), name=f"quarterdeck-check-{name}", daemon=True
        ).start()
        return result

    def _follow(self, run: _Run) -> None:
        """Read the check's output until it ends, then record how it ended."""
        assert run.proc.stdout is not None
        fd = run.proc.stdout.fileno()
        exited_at: float | None = None
        saved = time.monotonic()
        try:
            while True:
                ready, _, _ = select.select([fd], [], [], 0.2)
                if ready:
                    chunk = os.read(fd, 1 << 16)
                    if not chunk:
                        break
                    run.tail.feed(chunk)
                now = time.monotonic()
                if exited_at is None and child_exited(run.proc.pid):
                    exited_at = now
                if exited_at is not None and now - exited_at > LEFTOVER_GRACE:
                    # Something the check started still holds its output open: its process
                    # group is killed; something that left the group is no longer waited for.
                    kill_group(run.proc.pid, signal.SIGKILL)
                    if now - exited_at > 2 * LEFTOVER_GRACE:
                        run.tail.feed(
                            b"\n(a process the check started outside its process group still "
                            b"holds its output: no longer read)\n"
                        )
                        break
                if now - saved > TAIL_SAVE_INTERVAL:
                    saved = now
                    self._table.save_tail(run.agent.id, run.tail.text(), run.started_at)
        finally:
            # The shell is not reaped yet, so its process group id cannot have been reused.
            kill_group(run.proc.pid, signal.SIGKILL)
            code = run.proc.wait()
            run.proc.stdout.close()
        cancelled = run.cancel.is_set()
        row = self._table.get(run.agent.id)
        if row is not None and row.result.started_at == run.started_at and row.cancel:
            cancelled = True
        if cancelled:
            state = CheckState.CANCELLED
        else:
            state = CheckState.PASSED if code == 0 else CheckState.FAILED
        result = CheckResult(
            run.command,
            state,
            run.started_at,
            time.monotonic() - run.started,
            code if code >= 0 else 128 - code,
            run.tail.text(),
            run.commit,
            run.dirty,
        )
        # The record first: whoever sees the check ended (`check`) sees the row say so.
        self._set_check(run.agent.id, result.summary)
        self._table.finish(run.agent.id, result, run.started_at)
        with self._lock:
            self._runs.pop(run.agent.id, None)
        run.done.set()

    def cancel_check(self, name: str) -> None:
        """Stop the agent's running check (SIGTERM to its process group, SIGKILL after
        `CHECK_GRACE`), here or in the Quarterdeck process that runs it; it ends cancelled."""
        agent = self._get(name)
        with self._lock:
            run = self._runs.get(agent.id)
        if run is not None:
            run.cancel.set()
            self._table.request_cancel(agent.id)
            kill_group(run.proc.pid, signal.SIGTERM)
            if not run.done.wait(CHECK_GRACE):
                kill_group(run.proc.pid, signal.SIGKILL)
                if not run.done.wait(5.0):
                    raise QuarterdeckError(f"{name}'s check did not end after SIGKILL")
            return
        row = self._table.get(agent.id)
        if row is None or row.result.state is not CheckState.RUNNING:
            raise UsageError(f"no check is running for {name}")
        self._table.request_cancel(agent.id)
        ours = row.pid > 0 and start_time(row.pid) == row.pid_start
        if ours:
            kill_group(row.pid, signal.SIGTERM)
        if _owner_alive(row):  # the process that runs it records it cancelled
            deadline = time.monotonic() + CHECK_GRACE
            while time.monotonic() < deadline:
                if self._final(agent.id):
                    return
                time.sleep(0.05)
            if ours:
                kill_group(row.pid, signal.SIGKILL)
            deadline = time.monotonic() + 5.0
            while time.monotonic() < deadline and not self._final(agent.id):
                time.sleep(0.05)
            if not self._final(agent.id):
                raise QuarterdeckError(
                    f"{name}'s check did not end: Quarterdeck process {row.owner} runs it"
                )
            return
        if ours:
            kill_group(row.pid, signal.SIGKILL)
        self._abandon(agent, row, "cancelled")

    def _final(self, agent_id: str) -> bool:
        row = self._table.get(agent_id)
        return row is None or row.result.final

    def _abandon(self, agent: Agent, row: CheckRecord, why: str) -> CheckResult:
        """Record as cancelled a check whose process can no longer record it."""
        tail = (row.result.tail + f"\n({why})").strip()
        result = CheckResult(
            row.result.command,
            CheckState.CANCELLED,
            row.result.started_at,
            max(0.0, time.time() - row.result.started_at),
            None,
            tail,
            row.result.commit,
            row.result.dirty,
        )
        self._table.finish(agent.id, result, row.result.started_at)
        self._set_check(agent.id, result.summary)
        return result

    def check(self, name: str) -> CheckResult | None:
        """The agent's latest check (a running one with its output so far)."""
        agent = self._get(name)
        with self._lock:
            run = self._runs.get(agent.id)
        if run is not None:
            return run.result()
        row = self._table.get(agent.id)
        if row is None:
            return None
        if row.result.state is CheckState.RUNNING and not _owner_alive(row):
            return self._abandon(
                agent, row, f"the Quarterdeck process that ran it (pid {row.owner}) has ended"
            )
        return row.result

    def recover_checks(self) -> None:
        """Checks left running by a Quarterdeck process that has ended are recorded as
        cancelled (called when an engine starts)."""
        for agent_id in self._table.running():
            agent = next((a for a in self._stored() if a.id == agent_id), None)
            if agent is not None:
                with contextlib.suppress(QuarterdeckError):
                    self.check(agent.name)

    def wait_check(self, name: str, timeout: float | None = None) -> CheckResult | None:
        """The agent's check once it has ended (or as it is at the timeout)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            result = self.check(name)
            if result is None or result.final:
                return result
            if deadline is not None and time.monotonic() > deadline:
                return result
            time.sleep(0.1)

    def close(self) -> None:
        """Cancel the checks this process runs (nobody would record their results)."""
        for run in list(self._runs.values()):
            run.cancel.set()
            kill_group(run.proc.pid, signal.SIGTERM)
        for run in list(self._runs.values()):
            if not run.done.wait(CHECK_GRACE):
                kill_group(run.proc.pid, signal.SIGKILL)
                run.done.wait(2.0)

    def forget(self, agent: Agent) -> None:
        """An agent is being removed: its running check ends, its record goes."""
        with self._lock:
            run = self._runs.get(agent.id)
        if run is not None:
            run.cancel.set()
            kill_group(run.proc.pid, signal.SIGKILL)
            run.done.wait(5.0)
        self._table.forget(agent.id)
