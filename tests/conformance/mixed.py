"""One agent of every CLI at once, answered from the inbox of a real dashboard.

The dashboard runs in window 0 of the fleet's tmux session (``quarterdeck open --detach``); keys
go in with ``send-keys`` and what it shows is read with ``capture-pane``. Each press of ``y`` in
the inbox must answer exactly one agent: the one whose dialog is shown (focused), never another.
"""

from __future__ import annotations

import re
import time
from functools import partial
from pathlib import Path
from typing import Any

from tests.conformance.driver import Qd, StepFailed, describe, poll
from tests.conformance.report import FAIL, PASS, SKIP, Result, Results
from tests.conformance.scenario import BASH_MARKER, BASH_PROMPT, started_names

STEPS = ("mixed: waiting in inbox", "mixed: answered from inbox")


class Mixed:
    def __init__(self, qd: Qd, clis: list[str], results: Results) -> None:
        self.qd = qd
        self.clis = clis
        self.results = results
        self.names = {cli: f"mix-{cli}" for cli in clis}
        self.dashboard = ""

    def _record(self, cli: str, step: str, outcome: str, reason: str, start: float) -> None:
        result = Result(cli, step, outcome, reason, time.monotonic() - start)
        self.results.add(result)
        tail = f" — {reason}" if reason and outcome != PASS else ""
        print(f"[{cli}] {step}: {outcome} ({result.seconds:.0f}s){tail}", flush=True)

    def run(self) -> None:
        start = time.monotonic()
        try:
            self._open()
        except StepFailed as exc:
            for cli in self.clis:
                for step in STEPS:
                    self._record(cli, step, FAIL if step == STEPS[0] else SKIP, str(exc), start)
            return
        waiting = self._spawn_all(start)
        self._answer_all(waiting)

    def _open(self) -> None:
        self.qd.ok("pretrust", "on", timeout=30)
        self.qd.ok("open", "--detach", timeout=60)
        sessions = [s for s in self.qd.tmux("list-sessions", "-F", "#{session_name}").split() if s]
        if not sessions:
            raise StepFailed("`quarterdeck open --detach` left no tmux session")
        self.dashboard = f"{sessions[0]}:0"
        self.qd.tmux("resize-window", "-t", self.dashboard, "-x", "180", "-y", "50")
        if poll(lambda: True if "quarterdeck" in self._screen().lower() else None, 30) is None:
            raise StepFailed(f"no dashboard in window 0: {self._screen()[-300:]!r}")

    def _screen(self) -> str:
        return self.qd.screen(self.dashboard)

    def _save(self, label: str) -> None:
        self.qd.save(self.dashboard, f"dashboard {label}")

    def _spawn_all(self, start: float) -> list[str]:
        for cli, name in self.names.items():
            done = self.qd.run("new", BASH_PROMPT, "--agent", cli, "--name", name, "--no-wait")
            if done.rc != 0 or started_names(done.out) != [name]:
                self._record(cli, STEPS[0], FAIL, f"`new` exit {done.rc}: {done.said()}", start)
        waiting: list[str] = []
        pending = {c: n for c, n in self.names.items() if n in self._known()}
        deadline = time.monotonic() + 120
        while pending and time.monotonic() < deadline:
            agents = {a["name"]: a for a in self.qd.agents()}
            for cli, name in list(pending.items()):
                agent = agents.get(name, {})
                if agent.get("status") == "needs_input":
                    pending.pop(cli)
                    if agent.get("input_kind") != "permission":
                        self._record(cli, STEPS[0], FAIL, f"shows {describe(agent)}", start)
                        continue
                    waiting.append(cli)
            time.sleep(1)
        for cli in pending:
            agent = next((a for a in self.qd.agents() if a["name"] == pending[cli]), {})
            self._record(cli, STEPS[0], FAIL, f"not waiting after 120s: {describe(agent)}", start)
        if not waiting:
            return []
        self.qd.tmux("send-keys", "-t", self.dashboard, "i")
        names = [self.names[c] for c in waiting]
        shown = poll(
            lambda: True if all(n in self._screen() for n in names) else None, 20, every=0.5
        )
        self._save("inbox")
        listed = []
        for cli in waiting:
            if shown or self.names[cli] in self._screen():
                self._record(cli, STEPS[0], PASS, "", start)
                listed.append(cli)
            else:
                self._record(cli, STEPS[0], FAIL, "not listed in the inbox", start)
        return listed

    def _known(self) -> set[str]:
        return {str(a.get("name")) for a in self.qd.agents()}

    def _waiting(self) -> dict[str, dict[str, Any]]:
        return {
            str(a["name"]): a
            for a in self.qd.agents()
            if a.get("status") == "needs_input" and a.get("name") in self.names.values()
        }

    def _gone(self, before: dict[str, object]) -> set[str] | None:
        """The agents of ``before`` (name: question) no longer waiting on that question (one
        may ask another at once, as Aider does after running a command)."""
        now = {n: a.get("question") for n, a in self._waiting().items()}
        return {n for n, q in before.items() if n not in now or now[n] != q} or None

    def _answer_all(self, listed: list[str]) -> None:
        by_name = {self.names[c]: c for c in listed}
        left = set(by_name)
        for _ in range(len(listed) + 2):
            if not left:
                break
            start = time.monotonic()
            before = {n: a.get("question") for n, a in self._waiting().items() if n in left}
            if not before:
                break
            # The item the inbox shows focused: the one `y` must answer, and only it.
            found = re.search(r"▶ (mix-[a-z]+)", self._screen())
            shown = found.group(1) if found else ""
            self.qd.tmux("send-keys", "-t", self.dashboard, "y")

            gone = poll(partial(self._gone, before), 30, every=0.7) or set()
            self._save("after y")
            if not gone:
                screen = self._screen()
                last = [ln for ln in screen.splitlines() if ln.strip()][-3:]
                for name in sorted(before):
                    self._record(
                        by_name[name],
                        STEPS[1],
                        FAIL,
                        f"`y` in the inbox answered nobody: {last}",
                        start,
                    )
                return
            if len(gone) > 1:
                for name in sorted(gone):
                    self._record(
                        by_name[name],
                        STEPS[1],
                        FAIL,
                        f"one `y` moved {len(gone)} agents: {sorted(gone)}",
                        start,
                    )
                left -= gone
                continue
            (name,) = gone
            left.discard(name)
            if shown and name != shown:
                self._record(
                    by_name[name], STEPS[1], FAIL, f"`y` answered it while {shown} was shown", start
                )
                continue
            self._record(by_name[name], STEPS[1], *self._ran(name), start)
        for name in sorted(left):
            self._record(
                by_name[name], STEPS[1], FAIL, "never answered from the inbox", time.monotonic()
            )

    def _ran(self, name: str) -> tuple[str, str]:
        agent = next((a for a in self.qd.agents() if a["name"] == name), {})
        marker = Path(str(agent.get("worktree", ""))) / BASH_MARKER
        if poll(lambda: True if marker.exists() else None, 45) is None:
            return FAIL, f"answered, but its command did not run: {describe(agent)}"
        return PASS, ""
