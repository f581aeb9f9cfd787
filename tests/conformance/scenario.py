"""One CLI through everything a user does with it, by Quarterdeck's own commands.

Each step checks what the user needs (the issue's checks), records pass / FAIL / skip with a
short reason and its time, and saves the agent's pane. A failed step does not stop the flow: the
next steps still run from wherever the agent is, so one run reports every break at once.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from tests.conformance.driver import Qd, StepFailed, StepSkipped, describe, poll, processes_of
from tests.conformance.modelserver import RequestLog
from tests.conformance.report import FAIL, PASS, SKIP, Result, Results

#: The scripted model server's prompts (the first word picks the scenario).
BASH_PROMPT = "bash: write the marker file"
ASK_PROMPT = "ask: which colour should it be?"
SLOW_PROMPT = "slow: tell me a long story"
EDIT_PROMPT = "edit: write the notes file"
#: An API error no client retries (a 5xx is retried for minutes by most of them).
ERROR_PROMPT = "error: 400 this turn fails"
HELLO_PROMPT = "hello there"
#: The kinds whose conversations `quarterdeck restore` resumes (the others restart fresh).
RESUMED_KINDS = frozenset({"claude"})
ANSWER_TEXT = "green please"
#: What the `bash:` scenario's command writes in the agent's worktree.
BASH_MARKER = "fake_bash_output.txt"


@dataclass(frozen=True)
class Cli:
    """What a person sees from one CLI, as the checks need it."""

    name: str
    #: The start of the option that trusts the folder in its first-run dialog (None: it has none).
    trust: str | None
    permission_question: str
    #: The option a person picks to allow the command, as shown.
    permission_yes: str
    #: Whether the CLI has a tool the model can ask the human a question with.
    asks: bool = True


CLIS: dict[str, Cli] = {
    "claude": Cli("claude", "Yes", r"^Do you want to proceed\?$", "Yes"),
    "codex": Cli(
        "codex", "Trust", r"^Would you like to run the following command\?$", "Yes, proceed"
    ),
    "gemini": Cli("gemini", "Trust folder", r"^Allow execution of \[Shell\]\?$", "Allow once"),
    "opencode": Cli("opencode", None, r"^Permission required$", "Allow once"),
    "aider": Cli("aider", None, r"^Run shell command\?$", "Yes", asks=False),
}


class Flow:
    """Runs named steps for one CLI and records each result."""

    def __init__(self, cli: str, results: Results, qd: Qd) -> None:
        self.cli = cli
        self.results = results
        self.qd = qd
        self.failed: set[str] = set()

    def step(
        self,
        name: str,
        fn: Callable[[], str | None],
        *,
        needs: tuple[str, ...] = (),
        snap: str | tuple[str, ...] | None = None,
    ) -> str:
        """Run one step; returns its outcome. ``needs``: steps without which this one
        means nothing (it is skipped, naming them). ``snap``: the agent (or agents) whose pane
        to save."""
        start = time.monotonic()
        missing = [n for n in needs if n in self.failed]
        if missing:
            self._record(name, SKIP, f"needs {', '.join(missing)}", start)
            self.failed.add(name)
            return SKIP
        try:
            note = fn()
            outcome, reason = PASS, note or ""
        except StepSkipped as exc:
            outcome, reason = SKIP, str(exc)
        except StepFailed as exc:
            outcome, reason = FAIL, str(exc)
        except Exception as exc:  # a harness error is a failure of the step, reported
            outcome, reason = FAIL, f"{type(exc).__name__}: {exc}"
        for agent in (snap,) if isinstance(snap, str) else snap or ():
            self.qd.snap(agent, name if isinstance(snap, str) else f"{name} {agent}")
        self._record(name, outcome, reason, start)
        if outcome != PASS:
            self.failed.add(name)
        return outcome

    def _record(self, name: str, outcome: str, reason: str, start: float) -> None:
        result = Result(self.cli, name, outcome, reason, time.monotonic() - start)
        self.results.add(result)
        tail = f" — {reason}" if reason and outcome != PASS else ""
        print(f"[{self.cli}] {name}: {outcome} ({result.seconds:.0f}s){tail}", flush=True)


def events(repo: Path, agent_id: str) -> list[tuple[str, str]]:
    """The agent's trail from Quarterdeck's state database: (status, evidence), oldest first."""
    db = repo / ".git" / "quarterdeck" / "state.db"
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        rows = con.execute(
            "SELECT status, evidence FROM events WHERE agent_id = ? ORDER BY seq", (agent_id,)
        ).fetchall()
    finally:
        con.close()
    return [(str(s), str(e)) for s, e in rows]


def started_names(out: str) -> list[str]:
    """The agents `quarterdeck new` says it started."""
    return re.findall(r"^started (\S+) \(", out, flags=re.M)


def _first_dialog(qd: Qd, name: str) -> dict[str, Any]:
    return qd.wait_for(name, lambda a: a.get("status") == "needs_input", 60, "waiting on the human")


class CliRun:
    """One CLI's whole flow in its own repository."""

    def __init__(self, cli: Cli, qd: Qd, log: RequestLog, results: Results) -> None:
        self.cli = cli
        self.qd = qd
        self.log = log
        self.flow = Flow(cli.name, results, qd)
        self.name = f"{cli.name}-main"
        self.first: dict[str, Any] = {}
        self.id = ""
        self.worktree = Path()
        self.base = "main"
        self.slow_sent = 0.0

    # -- the main agent -------------------------------------------------------------------
    def run(self) -> None:
        f, n = self.flow, self.name
        f.step("doctor", self.doctor)
        f.step("spawn", self.spawn, snap=n)
        first = f.step("first-run dialog (pretrust off)", self.first_run, needs=("spawn",), snap=n)
        if first == FAIL and self._in_first_run_dialog():
            # Stuck in a first-run dialog: start it again past them, so the rest still runs.
            f.step("respawn with pretrust on", self.respawn, needs=("spawn",), snap=n)
        f.step("working", self.working, needs=("spawn",))
        f.step("permission asked", self.permission, needs=("spawn",), snap=n)
        f.step("answer permission", self.answer_permission, needs=("permission asked",), snap=n)
        f.step("tool ran", self.tool_ran, needs=("answer permission",), snap=n)
        f.step("send question prompt", self.send_question, needs=("spawn",), snap=n)
        f.step("answer --text", self.answer_text, needs=("send question prompt",), snap=n)
        f.step("slow stream working", self.slow, needs=("spawn",), snap=n)
        f.step("interrupt", self.interrupt, needs=("slow stream working",), snap=n)
        f.step("edit shows in diff", self.edit, needs=("spawn",), snap=n)
        f.step("error visible", self.error, needs=("spawn",), snap=n)
        f.step("restore after the tmux server died", self.restore, needs=("spawn",), snap=n)
        f.step("stop", self.stop, needs=("spawn",), snap=n)
        f.step("rm refused", self.rm_refused, needs=("spawn",))
        f.step("rm archived", self.rm_archived, needs=("spawn",))
        f.step("two at once (pretrust on)", self.two_at_once)

    def doctor(self) -> str:
        """`quarterdeck doctor` passes the CLI's setup here, and names the CLI's executable
        when it is missing."""
        kind = self.cli.name
        if self.cli.trust is not None:
            # Pretrust is off here, so a new worktree would stop at the trust dialog: doctor
            # must say so, and pass once pretrust is on.
            untrusted = self.qd.run("doctor", kind, timeout=60)
            if "invalid choice: 'doctor'" in untrusted.err:
                raise StepFailed("there is no `quarterdeck doctor`")
            if untrusted.rc == 0 or "trust" not in untrusted.out:
                raise StepFailed(
                    f"with pretrust off, `doctor {kind}` exit {untrusted.rc} without naming the "
                    f"trust dialog: {untrusted.said()}"
                )
            self.qd.ok("pretrust", "on", timeout=30)
        try:
            done = self.qd.run("doctor", kind, timeout=60)
        finally:
            if self.cli.trust is not None:
                self.qd.ok("pretrust", "off", timeout=30)
        if "invalid choice: 'doctor'" in done.err:
            raise StepFailed("there is no `quarterdeck doctor`")
        if done.rc != 0 or kind not in done.out:
            raise StepFailed(f"`doctor {kind}` exit {done.rc} on a working setup: {done.said()}")
        config = Path(self.qd.env["XDG_CONFIG_HOME"]) / "quarterdeck" / "config.toml"
        good = config.read_text(encoding="utf-8")
        missing = f"/nonexistent/{self.cli.name}"
        prefix = f"[agents.{self.cli.name}]\n"
        broken = re.sub(r"(?m)^program = .*$", f'program = "{missing}"', good)
        broken = re.sub(r'(?m)^command = \["[^"]*"', f'command = ["{missing}"', broken)
        if prefix not in broken:
            raise StepFailed("no kind configured to break")
        config.write_text(broken, encoding="utf-8")
        try:
            bad = self.qd.run("doctor", kind, timeout=60)
        finally:
            config.write_text(good, encoding="utf-8")
        if bad.rc == 0 or missing not in bad.out + bad.err:
            raise StepFailed(
                f"with {missing} missing, `doctor {kind}` exit {bad.rc} without naming it: "
                f"{bad.said()}"
            )
        return "names the trust dialog and a missing executable; passes a working setup"

    def spawn(self) -> str:
        done = self.qd.ok(
            "new", BASH_PROMPT, "--agent", self.cli.name, "--name", self.name, timeout=120
        )
        agent = self.qd.agent(self.name)
        self.id = _agent_id(self.qd, self.name)
        self.worktree = Path(str(agent["worktree"]))
        self.base = str(agent.get("base") or "main")
        return done.out.strip()

    def _in_first_run_dialog(self) -> bool:
        try:
            agent = self.qd.agent(self.name)
        except StepFailed:
            return False
        return agent.get("status") == "needs_input" and agent.get("input_kind") in (
            "trust",
            "setup",
        )

    def respawn(self) -> str:
        self.qd.ok("rm", self.name, "--discard-unmerged", "--discard-changes", timeout=60)
        self.qd.ok("pretrust", "on", timeout=30)
        return self.spawn()

    def first_run(self) -> str | None:
        agent = _first_dialog(self.qd, self.name)
        self.first = agent
        if self.cli.trust is None:
            if agent.get("input_kind") in ("trust", "setup"):
                return self._answer_setup(agent)
            raise StepSkipped(f"{self.cli.name} shows no first-run dialog with this setup")
        if agent.get("input_kind") != "trust":
            raise StepFailed(f"expected its trust dialog, Quarterdeck shows {describe(agent)}")
        self.qd.save(str(agent["pane"]), "trust dialog", agent)
        return self._answer_setup(agent)

    def _answer_setup(self, agent: dict[str, Any]) -> str:
        """Answer first-run dialogs (trust, setup) until the agent is past them."""
        answered = []
        wrong = []
        for _ in range(3):
            options = [str(o) for o in agent.get("options", [])]
            pick = self.cli.trust if agent.get("input_kind") == "trust" else None
            choice = next((o for o in options if pick and o.startswith(pick)), None)
            if choice is None:
                choice = next(
                    (o for o in options if re.match(r"(?i)(yes|trust|continue|allow)", o)), None
                )
            if choice is None:
                raise StepFailed(f"no option to accept the dialog among {options}")
            done = self.qd.run("answer", self.name, choice[:20], timeout=60)
            answered.append(f"{agent.get('input_kind')}: {choice!r}")
            asked = agent.get("question")
            # Whatever `answer` said, look at where the agent is (a false failure is a failure
            # too, but the agent may still be fine to go on with).
            try:
                agent = self.qd.wait_for(
                    self.name, partial(_past, asked), 20 if done.rc else 60, "past the dialog"
                )
            except StepFailed:
                if done.rc:
                    raise StepFailed(
                        f"`answer` exit {done.rc}, and the dialog is still open: {done.said()}"
                    ) from None
                raise
            if done.rc:
                wrong.append(f"`answer` exit {done.rc} though the dialog moved on: {done.said()}")
            if agent.get("status") != "needs_input" or agent.get("input_kind") not in (
                "trust",
                "setup",
            ):
                if wrong:
                    raise StepFailed("; ".join(wrong))
                return "answered " + "; ".join(answered)
        raise StepFailed(f"still in first-run dialogs after {answered}")

    def working(self) -> str:
        if not self.id:
            raise StepFailed("no agent id")

        def trail() -> list[str] | None:
            self.qd.agents()  # a look runs one tick of tracking: nothing else runs it
            got = [s for s, _ in events(self.qd.repo, self.id)]
            return got if {"working", "needs_input"} & set(got) else None

        got = poll(trail, 60) or [s for s, _ in events(self.qd.repo, self.id)]
        if "working" not in got:
            if "needs_input" in got:
                # The prompt reached its dialog between two looks: nothing to see working.
                raise StepSkipped(f"at its dialog before a look saw it work: {got}")
            raise StepFailed(f"no `working` in its trail: {got}")
        return "working in its trail"

    def permission(self) -> str:
        agent = _first_dialog(self.qd, self.name)
        if agent.get("input_kind") != "permission":
            raise StepFailed(f"expected the Bash permission, Quarterdeck shows {describe(agent)}")
        question = str(agent.get("question", ""))
        options = [str(o) for o in agent.get("options", [])]
        problems = []
        if not re.search(self.cli.permission_question, question):
            problems.append(f"question {question!r}")
        if not options or not options[0].startswith(self.cli.permission_yes):
            problems.append(f"options {options}")
        where = " ".join([str(agent.get("detail", "")), *map(str, agent.get("context", []))])
        if BASH_MARKER not in where:
            problems.append(f"the command is not in its detail/context ({where[:80]!r})")
        if problems:
            raise StepFailed("; ".join(problems))
        return f"{question} {options}"

    def answer_permission(self) -> str:
        done = self.qd.ok("answer", self.name, "y", timeout=60)
        return done.out.strip()

    def tool_ran(self) -> str:
        marker = self.worktree / BASH_MARKER
        if poll(lambda: True if marker.exists() else None, 45) is None:
            raise StepFailed(f"{BASH_MARKER} was not written: {describe(self.qd.agent(self.name))}")
        followed = self._idle_after_follow_ups(self.name)
        return "marker written, idle" + (f" (answered {followed})" if followed else "")

    def _idle_after_follow_ups(self, name: str) -> list[str]:
        """Wait for idle, answering yes to questions the CLI asks after its tool ran (Aider:
        "Add command output to the chat?"); returns them."""
        asked: list[str] = []
        for _ in range(3):
            agent = self.qd.wait_status(name, ("idle", "needs_input"), 60)
            if agent.get("status") == "idle":
                return asked
            asked.append(str(agent.get("question")))
            self.qd.ok("answer", name, "y", timeout=60)
            self.qd.wait_for(name, partial(_past_dialog, agent.get("question")), 30, "past it")
        raise StepFailed(f"still asking after answering {asked}")

    def send_question(self) -> str:
        self._settle()
        if not self.cli.asks:
            raise StepSkipped(f"{self.cli.name} has no tool to ask the human a question")
        self.qd.ok("send", self.name, ASK_PROMPT, "--timeout", "45", timeout=60)
        agent = _first_dialog(self.qd, self.name)
        if agent.get("input_kind") != "question" or not agent.get("options"):
            raise StepFailed(f"expected its question dialog, Quarterdeck shows {describe(agent)}")
        return f"{agent.get('question')} {agent.get('options')}"

    def answer_text(self) -> str:
        since = self.log.mark()
        self.qd.ok("answer", self.name, "--text", ANSWER_TEXT, timeout=60)
        self.qd.wait_status(self.name, ("idle",), 90)
        found = poll(lambda: True if self.log.tool_result_has(ANSWER_TEXT, since) else None, 10)
        if found is None:
            seen = self.log.text_seen(ANSWER_TEXT, since)
            raise StepFailed(
                "the model never got "
                + repr(ANSWER_TEXT)
                + (" as the tool's result (only as a plain message)" if seen else "")
            )
        return "the answer reached the model as the tool result"

    def slow(self) -> str:
        self._settle()
        self.slow_sent = time.monotonic()
        self.qd.ok("send", self.name, SLOW_PROMPT, "--timeout", "45", timeout=60)
        self.qd.wait_status(self.name, ("working",), 30)
        return "working while it streams"

    def interrupt(self) -> str:
        self.qd.ok("interrupt", self.name, timeout=30)
        agent = self.qd.wait_for(
            self.name, lambda a: a.get("status") in ("idle", "error"), 20, "idle after interrupt"
        )
        left = self.log.slow_seconds - (time.monotonic() - self.slow_sent)
        if left <= 0:
            raise StepFailed("idle only once the stream would have ended anyway")
        return f"{agent.get('status')} {left:.0f}s before the stream would have ended"

    def edit(self) -> str:
        self._settle()
        self.qd.ok("send", self.name, EDIT_PROMPT, "--timeout", "45", timeout=60)

        def done_or_asks(a: dict[str, Any]) -> bool:
            return a.get("status") == "needs_input" or (
                a.get("status") == "idle" and _changed(self.worktree, self.base)
            )

        asked = []
        for _ in range(3):  # a model may write more than once; each write may ask
            agent = self.qd.wait_for(self.name, done_or_asks, 60, "done with the edit or asking")
            if agent.get("status") != "needs_input":
                break
            if agent.get("input_kind") != "permission":
                raise StepFailed(
                    f"expected a write permission, Quarterdeck shows {describe(agent)}"
                )
            self.qd.ok("answer", self.name, "y", timeout=60)
            asked.append(str(agent.get("question")))
            self.qd.wait_for(
                self.name, partial(_past_dialog, agent.get("question")), 30, "past the dialog"
            )
        answered = f"answered {asked}; " if asked else ""
        stats = self.qd.wait_for(
            self.name,
            lambda a: int(a.get("files") or 0) >= 1 and int(a.get("added") or 0) > 0,
            30,
            "showing the change in its diff stats",
        )
        diff = self.qd.ok("diff", self.name, "--stat", timeout=60)
        if not diff.out.strip():
            raise StepFailed("`quarterdeck diff --stat` shows nothing")
        return f"{answered}+{stats.get('added')} −{stats.get('removed')} {stats.get('files')}f"

    def error(self) -> str:
        self._settle()
        self.qd.ok("send", self.name, ERROR_PROMPT, "--timeout", "45", timeout=60)
        agent = self.qd.wait_for(
            self.name,
            lambda a: (
                a.get("status") in ("error", "failed")
                or (a.get("status") == "idle" and "error" in describe(a).lower())
            ),
            60,
            "showing the API error",
        )
        return describe(agent)

    def restore(self) -> str:
        """The private tmux server killed mid-conversation: `ls` offers the agent back, and
        `restore` makes its window again in its worktree, resuming its conversation where
        Quarterdeck drives the CLI's resume (the next request then carries the earlier turns),
        else fresh and said so."""
        self._settle()
        subprocess.run(["tmux", "-L", self.qd.socket, "kill-server"], check=False)
        gone = self.qd.run("ls", timeout=60)
        if "quarterdeck restore --all" not in gone.err:
            raise StepFailed(f"with its tmux server gone, ls offers no restore: {gone.said()}")
        done = self.qd.ok("restore", "--all", timeout=120)
        line = next((x for x in done.out.splitlines() if x.startswith(f"{self.name}:")), "")
        resumes = self.cli.name in RESUMED_KINDS
        wanted = "restored with its conversation" if resumes else "restored fresh ("
        if wanted not in line:
            raise StepFailed(f"restore said {done.out.strip()!r}, not {wanted!r}")
        since = self.log.mark()
        self.qd.ok("send", self.name, HELLO_PROMPT, "--timeout", "90", timeout=120)
        self._settle()
        if resumes and not self.log.text_seen(BASH_PROMPT, since):
            raise StepFailed("the first request after the restore lacks the earlier turns")
        return line

    def stop(self) -> str:
        self.qd.ok("stop", self.name, timeout=60)
        left = poll(lambda: None if processes_of(self.id, str(self.worktree)) else True, 10)
        if left is None:
            procs = processes_of(self.id, str(self.worktree))
            raise StepFailed(f"still running after stop: {procs[:3]}")
        agent = self.qd.agent(self.name)
        if agent.get("status") not in ("exited", "failed"):
            raise StepFailed(f"stopped, but Quarterdeck shows {describe(agent)}")
        return str(agent.get("status"))

    def rm_refused(self) -> str:
        done = self.qd.run("rm", self.name, timeout=60)
        if done.rc != 2:
            raise StepFailed(f"`rm` without confirming exit {done.rc}: {done.said()}")
        if not re.search(r"(?i)unmerged|uncommitted|untracked|commits? not in", done.said()):
            raise StepFailed(f"refused without naming what would be lost: {done.said()}")
        if not self.worktree.exists():
            raise StepFailed("refused, but the worktree is gone")
        return done.said()

    def rm_archived(self) -> str:
        self.qd.ok("rm", self.name, "--discard-unmerged", "--discard-changes", timeout=60)
        refs = subprocess.run(
            ["git", "-C", str(self.qd.repo), "for-each-ref", "refs/quarterdeck/archive/"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        if f"refs/quarterdeck/archive/{self.name}" not in refs:
            raise StepFailed(f"no archive ref for {self.name}: {refs.strip()!r}")
        if self.worktree.exists():
            raise StepFailed("the worktree is still there")
        if any(a.get("name") == self.name for a in self.qd.agents()):
            raise StepFailed("still in `quarterdeck ls`")
        return "archived"

    def _settle(self) -> None:
        """Before a new prompt: let the agent finish whatever the previous step left."""
        agent = self.qd.agent(self.name)
        if agent.get("status") == "needs_input":
            # A dialog an earlier step left open: refuse a permission, cancel anything else.
            if agent.get("input_kind") == "permission":
                self.qd.run("answer", self.name, "n", timeout=60)
            else:
                self.qd.run("interrupt", self.name, timeout=60)
        poll(
            lambda: (
                True
                if self.qd.agent(self.name).get("status") in ("idle", "error", "exited", "failed")
                else None
            ),
            30,
            every=1,
        )

    # -- two agents of the kind at once, pretrust on ----------------------------------------
    def two_at_once(self) -> str:
        self.qd.ok("pretrust", "on", timeout=30)
        done = self.qd.ok(
            "new",
            BASH_PROMPT,
            "--agent",
            self.cli.name,
            "--count",
            "2",
            "--name",
            f"{self.cli.name}-pair",
            timeout=120,
        )
        names = started_names(done.out)
        if len(names) != 2:
            raise StepFailed(f"`new --count 2` started {names}")
        try:
            return self._pair(names)
        finally:
            for name in names:
                self.qd.run("rm", name, "--discard-unmerged", "--discard-changes", timeout=60)

    def _pair(self, names: list[str]) -> str:
        first, second = names
        agents = {}
        for name in names:
            agent = _first_dialog(self.qd, name)
            self.qd.save(str(agent["pane"]), f"pair {name} first dialog", agent)
            if agent.get("input_kind") != "permission":
                raise StepFailed(
                    f"{name}: with pretrust on, the first dialog should be the permission; "
                    f"Quarterdeck shows {describe(agent)}"
                )
            agents[name] = agent
        worktrees = {n: Path(str(a["worktree"])) for n, a in agents.items()}
        self.qd.ok("answer", first, "y", timeout=60)
        marker = worktrees[first] / BASH_MARKER
        if poll(lambda: True if marker.exists() else None, 45) is None:
            raise StepFailed(f"{first}: answered, but its command did not run")
        self._idle_after_follow_ups(first)
        other = self.qd.agent(second)
        if (worktrees[second] / BASH_MARKER).exists() or other.get("status") != "needs_input":
            raise StepFailed(f"answering {first} moved {second} too: {describe(other)}")
        self.qd.ok("answer", second, "y", timeout=60)
        marker = worktrees[second] / BASH_MARKER
        if poll(lambda: True if marker.exists() else None, 45) is None:
            raise StepFailed(f"{second}: answered, but its command did not run")
        self._idle_after_follow_ups(second)
        return "no trust dialog; each answer reached only its own agent"


def _past(asked: object, agent: dict[str, Any]) -> bool:
    """Whether the agent is past the first-run dialog that asked ``asked``."""
    return (
        agent.get("status") != "needs_input"
        or agent.get("input_kind") not in ("trust", "setup")
        or agent.get("question") != asked
    )


def _past_dialog(asked: object, agent: dict[str, Any]) -> bool:
    """Whether the agent is past the dialog that asked ``asked``."""
    return agent.get("status") != "needs_input" or agent.get("question") != asked


def _agent_id(qd: Qd, name: str) -> str:
    """The agent's id, from the environment Quarterdeck gave its pane's process."""
    db = qd.repo / ".git" / "quarterdeck" / "state.db"
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        row = con.execute("SELECT id FROM agents WHERE name = ?", (name,)).fetchone()
    finally:
        con.close()
    if row is None:
        raise StepFailed(f"{name} has no record in the state database")
    return str(row[0])


def _changed(worktree: Path, base: str) -> bool:
    """Whether the worktree has changes besides the `bash:` marker, or commits past its base."""
    out = subprocess.run(
        ["git", "-C", str(worktree), "status", "--porcelain", "--untracked-files=all"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    commits = subprocess.run(
        ["git", "-C", str(worktree), "log", "--oneline", f"{base}..HEAD", "--"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    lines = [ln for ln in out.splitlines() if BASH_MARKER not in ln]
    return bool(lines or commits.strip())
