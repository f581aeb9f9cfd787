"""A task graph carried out by one real CLI, driven the way a script drives it: a plan imported
with ``quarterdeck task import`` into the CLI's conformance repository, ``quarterdeck task wait
--until done`` (which tracks the fleet and runs the tasks) in the background, then what
``task ls --json`` / ``task show --json``, the tmux panes seen meanwhile and the model server's
request log say.

The plan (`plan_text`), with ``[tasks] max_running = 2`` in the repository's
``.quarterdeck.toml``:

- ``chain-one`` writes ``chain-one.txt`` (check: the file is there);
- ``loop`` writes ``loop-a.txt``; its check loops until ``loop-a.txt`` and ``loop-b.txt`` are
  both there, printing ``missing: FILE`` for the first one that is not. The model server's
  ``fix:`` scenario writes the file the prompt names, or the last ``missing: FILE`` the prompt
  carries, so the loop passes on exactly round 2, and only if the fresh agent of round 2 was
  given the check's failure output;
- ``chain-two`` runs after ``chain-one`` and writes ``chain-two.txt`` (check: both files are
  there): it must start from a commit that has ``chain-one.txt``.

The CLIs write without asking by their own switch, given as the tasks' ``flags`` (`FLAGS`): a
task runs unattended, and that is how a user runs one.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.conformance.driver import Done, Qd, Running, StepFailed
from tests.conformance.modelserver import RequestLog
from tests.conformance.report import Results
from tests.conformance.scenario import Flow

#: Each CLI's own switch for writing files without asking (a task runs unattended).
FLAGS: dict[str, list[str]] = {
    "claude": ["--permission-mode", "acceptEdits"],
    "codex": ["--ask-for-approval", "never"],
    "gemini": ["--approval-mode", "auto_edit"],
    "opencode": ["--auto"],
    "aider": ["--yes-always"],
}
MAX_RUNNING = 2
#: How long `task wait` may take for the whole graph (a run takes 30-60 s).
WAIT_SECONDS = 240.0
CHAIN_ONE = "chain-one.txt"
CHAIN_TWO = "chain-two.txt"
LOOP_FILES = ("loop-a.txt", "loop-b.txt")
LOOP_CHECK = (
    f'for f in {" ".join(LOOP_FILES)}; do test -f "$f" || {{ echo "missing: $f"; exit 1; }}; done'
)
#: The check's failure output after round 1, which round 2's prompt must carry.
LOOP_FAILURE = f"missing: {LOOP_FILES[1]}"
LIVE = ("starting", "running", "needs_input", "checking")


def plan_text(cli: str) -> str:
    """The plan, in TOML (`docs/tasks.md`), every task by ``cli`` with its switch."""
    flags = json.dumps(FLAGS[cli])

    def task(title: str, prompt: str, name: str, *lines: str) -> str:
        return "\n".join(
            [
                "[[task]]",
                f"title = {json.dumps(title)}",
                f"prompt = {json.dumps(prompt)}",
                f"name = {json.dumps(name)}",
                f"agent = {json.dumps(cli)}",
                f"flags = {flags}",
                *lines,
                "",
            ]
        )

    return "\n".join(
        [
            task(
                "Write the first file of the chain",
                f"fix: {CHAIN_ONE}",
                "chain-one",
                f"check = {json.dumps(f'test -f {CHAIN_ONE}')}",
            ),
            task(
                "Write both files of the loop",
                f"fix: {LOOP_FILES[0]}",
                "loop",
                f"until = {json.dumps(LOOP_CHECK)}",
                "rounds = 3",
            ),
            task(
                "Write the second file of the chain",
                f"fix: {CHAIN_TWO}",
                "chain-two",
                'after = ["chain-one"]',
                f"check = {json.dumps(f'test -f {CHAIN_ONE} && test -f {CHAIN_TWO}')}",
            ),
        ]
    )


TASKS = ("chain-one", "loop", "chain-two")


@dataclass
class Watch:
    """What was seen while the graph ran: each agent window's pane pids in the order seen, the
    most attempts live at once, and when."""

    pids: dict[str, list[int]] = field(default_factory=dict)
    most_live: int = 0
    live_at_most: list[str] = field(default_factory=list)
    looks: int = 0


class TaskGraph:
    """The plan through one CLI in its repository (after `scenario.CliRun`)."""

    def __init__(self, cli: str, qd: Qd, log: RequestLog, results: Results, plan: Path) -> None:
        self.cli = cli
        self.qd = qd
        self.log = log
        self.plan = plan
        self.flow = Flow(cli, results, qd)
        self.watch = Watch()
        self.since = 0
        self.tasks: dict[str, dict[str, Any]] = {}

    def run(self) -> None:
        f = self.flow
        f.step("task import", self.import_plan)
        f.step("task graph done", self.wait, needs=("task import",), snap=TASKS)
        f.step("task chain", self.chain, needs=("task import",))
        f.step("task loop", self.loop, needs=("task import",))
        f.step("task slots", self.slots, needs=("task import",))

    # -- steps ------------------------------------------------------------------------------
    def import_plan(self) -> str:
        settings = self.qd.repo / ".quarterdeck.toml"
        settings.write_text(f"[tasks]\nmax_running = {MAX_RUNNING}\n", encoding="utf-8")
        self.qd.ok("pretrust", "on", timeout=30)
        self.plan.write_text(plan_text(self.cli), encoding="utf-8")
        self.since = self.log.mark()
        # It starts what may start, and waits for typed first prompts: the graph runs already.
        done = self.watched(self.qd.begin("task", "import", str(self.plan)), 120)
        if done.rc != 0:
            raise StepFailed(f"`task import` exit {done.rc}: {done.said()}")
        added = re.findall(r"^added (\S+) #", done.out, flags=re.M)
        if added != list(TASKS):
            raise StepFailed(f"`task import` added {added}: {done.said()}")
        return done.out.strip().replace("\n", "; ")

    def wait(self) -> str:
        wait = ("task", "wait", "--until", "done", "--timeout", f"{WAIT_SECONDS:.0f}")
        done = self.watched(self.qd.begin(*wait), WAIT_SECONDS + 30)
        self.tasks = {t["name"]: t for t in self._task_ls()}
        states = {n: str(t.get("state")) for n, t in self.tasks.items()}
        if done.rc != 0:
            raise StepFailed(f"`task wait --until done` exit {done.rc}: {done.said()}; {states}")
        notpassed = {n: f"{s}: {self.tasks[n].get('reason')}" for n, s in states.items()}
        notpassed = {n: why for n, why in notpassed.items() if states[n] != "passed"}
        if notpassed:
            raise StepFailed(f"not passed: {notpassed}")
        return f"all {len(states)} passed in {done.seconds:.0f}s"

    def chain(self) -> str:
        one, two = self._show("chain-one"), self._show("chain-two")
        for task in (one, two):
            if task.get("state") != "passed":
                raise StepFailed(f"{task['name']} is {task.get('state')}: {task.get('reason')}")
        start = str(two["attempts"][0].get("start_commit") or "")
        if not start:
            raise StepFailed("chain-two has no start commit")
        if not self._has(start, CHAIN_ONE):
            raise StepFailed(f"chain-two started from {start[:7]}, which has no {CHAIN_ONE}")
        passed = _first(one, "passed")
        started = _first(two, "running")
        if passed is None or started is None or started < passed:
            raise StepFailed(
                f"chain-two started at {started} but chain-one passed at {passed}: {_history(two)}"
            )
        worktree = Path(str(two["attempts"][0].get("worktree") or ""))
        if not (worktree / CHAIN_ONE).is_file():
            raise StepFailed(f"{CHAIN_ONE} is not in chain-two's worktree {worktree}")
        return (
            f"chain-two started {started - passed:.1f}s after chain-one passed, from "
            f"{start[:7]} holding {CHAIN_ONE}"
        )

    def loop(self) -> str:
        task = self._show("loop")
        attempt = task["attempts"][0]
        rounds = attempt.get("rounds", [])
        checks = [str(r.get("check")) for r in rounds]
        problems = []
        if task.get("state") != "passed":
            problems.append(f"loop is {task.get('state')}: {task.get('reason')}")
        if checks != ["failed", "passed"]:
            problems.append(f"its rounds' checks were {checks}, not failed then passed")
        elif LOOP_FAILURE not in str(rounds[0].get("check_tail")):
            problems.append(f"round 1's check output: {rounds[0].get('check_tail')!r}")
        pids = self.watch.pids.get(str(attempt.get("agent_name")), [])
        if len(pids) < 2:
            problems.append(f"one agent process seen for its rounds: {pids}")
        elif _alive(pids[0]):
            problems.append(f"round 1's agent (pid {pids[0]}) still runs in round 2")
        asked = self._loop_requests()
        if not any(LOOP_FAILURE in p for p in asked):
            problems.append(
                f"no request for the loop carried {LOOP_FAILURE!r}; prompts: "
                + "; ".join(repr(p[:60]) for p in dict.fromkeys(asked))
            )
        elif LOOP_FAILURE in asked[0]:
            problems.append("its first request already carried the failure output")
        if problems:
            raise StepFailed("; ".join(problems))
        return f"rounds {checks}, agent pids {pids}, round 2 was given {LOOP_FAILURE!r}"

    def slots(self) -> str:
        tasks = [self._show(n) for n in TASKS]
        spans = [
            (float(a["started_at"]), float(a.get("ended_at") or time.time()))
            for t in tasks
            for a in t["attempts"]
            if a.get("started_at")
        ]
        most = max(
            (sum(1 for s, e in spans if s <= at < e) for at, _ in spans),
            default=0,
        )
        if most > MAX_RUNNING or self.watch.most_live > MAX_RUNNING:
            raise StepFailed(
                f"{max(most, self.watch.most_live)} attempts ran at once (max_running "
                f"{MAX_RUNNING}): {self.watch.live_at_most}"
            )
        if self.watch.looks == 0:
            raise StepFailed("the running graph was never looked at")
        return f"at most {max(most, self.watch.most_live)} of {MAX_RUNNING} running"

    # -- looking ----------------------------------------------------------------------------
    def watched(self, running: Running, timeout: float) -> Done:
        """The command's outcome, the graph looked at every half second while it ran."""
        deadline = time.monotonic() + timeout
        while not running.ended() and time.monotonic() < deadline:
            self._look()
            time.sleep(0.5)
        return running.finish(timeout=max(1.0, deadline - time.monotonic()))

    def _look(self) -> None:
        """One look while the graph runs: the agent panes' pids, and the live attempts in the
        state database (read-only; `task ls` would only queue behind the running `wait`)."""
        out = self.qd.tmux("list-panes", "-a", "-F", "#{window_name}\t#{pane_pid}")
        for line in out.splitlines():
            name, _, pid = line.partition("\t")
            if name in TASKS and pid.isdigit():
                seen = self.watch.pids.setdefault(name, [])
                if int(pid) not in seen:
                    seen.append(int(pid))
        live = [
            f"{t['name']}#{a.get('number')} {a.get('state')}"
            for t in _stored_tasks(self.qd.repo)
            for a in t.get("attempts", [])
            if a.get("state") in LIVE
        ]
        self.watch.looks += 1
        if len(live) > self.watch.most_live:
            self.watch.most_live, self.watch.live_at_most = len(live), live

    def _task_ls(self) -> list[dict[str, Any]]:
        done = self.qd.ok("task", "ls", "--json", timeout=60)
        return [t for t in json.loads(done.out) if isinstance(t, dict)]

    def _show(self, name: str) -> dict[str, Any]:
        done = self.qd.ok("task", "show", name, "--json", timeout=60)
        data: dict[str, Any] = json.loads(done.out)
        return data

    def _has(self, commit: str, path: str) -> bool:
        done = subprocess.run(
            ["git", "-C", str(self.qd.repo), "cat-file", "-e", f"{commit}:{path}"],
            capture_output=True,
            check=False,
        )
        return done.returncode == 0

    def _loop_requests(self) -> list[str]:
        """The prompts of the model server's requests for the loop task, in order."""
        wanted = f"fix: {LOOP_FILES[0]}"
        return [
            str(e.get("prompt"))
            for e in self.log.entries()[self.since :]
            if wanted in str(e.get("prompt") or "")
        ]


def _first(task: dict[str, Any], state: str) -> float | None:
    """When the task's history first reached ``state``."""
    return next((float(h["at"]) for h in task.get("history", []) if h["state"] == state), None)


def _history(task: dict[str, Any]) -> str:
    return "; ".join(f"{h['state']} ({h['reason']})" for h in task.get("history", []))[:300]


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return ") Z " not in stat


def _stored_tasks(repo: Path) -> list[dict[str, Any]]:
    db = repo / ".git" / "quarterdeck" / "state.db"
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    except sqlite3.Error:
        return []
    try:
        rows = con.execute("SELECT data FROM tasks").fetchall()
    except sqlite3.Error:
        return []
    finally:
        con.close()
    out = []
    for (text,) in rows:
        try:
            out.append(json.loads(text))
        except ValueError:
            continue
    return out
