"""The demo agent as a real process in a real tmux pane, steered by keys, in a real git repo."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import tomllib
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pytest

from app.core.classify import PaneView, classify
from app.core.profiles import AgentProfile, parse_profile
from app.core.status import Status

ROOT = Path(__file__).resolve().parents[2]
SPINNER_LINE = re.compile(r"^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] \w+… \(esc to interrupt\)$")
T = TypeVar("T")

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None or shutil.which("git") is None, reason="needs tmux and git"
)


def wait_for(predicate: Callable[[], T], timeout: float = 5.0, what: str = "") -> T:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.02)


def run(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(args, cwd=cwd, check=True, capture_output=True, text=True).stdout


class Pane:
    """One demo agent in a pane of a private tmux server."""

    def __init__(self, socket: str, repo: Path) -> None:
        self.socket, self.repo, self.id = socket, repo, ""

    def tmux(self, *args: str) -> str:
        return run("tmux", "-u", "-L", self.socket, *args)

    def start(
        self, behaviour: str, seed: int = 1, speed: float = 20, args: Sequence[str] = ()
    ) -> Pane:
        agent = f"{shlex.quote(sys.executable)} -m app.demo.agent"
        command = f"{agent} --speed {speed} --behaviour {behaviour} --seed {seed}"
        command += "".join(f" {shlex.quote(arg)}" for arg in args)
        self.id = self.tmux(
            "-f", "/dev/null", "new-session", "-d", "-P", "-F", "#{pane_id}",
            "-x", "120", "-y", "40", "-c", str(self.repo), "-e", f"PYTHONPATH={ROOT}", command,
            ";", "set-option", "-g", "remain-on-exit", "on",
        ).strip()  # fmt: skip
        return self

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.id)

    def history(self) -> str:
        """The whole scrollback and the screen."""
        return self.tmux("capture-pane", "-p", "-S", "-", "-t", self.id)

    def pid(self) -> int:
        """The agent's pid: the pane's process, or its child when the shell did not exec."""
        pid = int(self.show("#{pane_pid}"))
        if b"\0-m\0app.demo.agent\0" in Path(f"/proc/{pid}/cmdline").read_bytes():
            return pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        assert len(children) == 1, children
        return int(children[0])

    def lines(self) -> list[str]:
        return [line.rstrip() for line in self.screen().splitlines() if line.strip()]

    def last(self) -> str:
        lines = self.lines()
        return lines[-1] if lines else ""

    def show(self, fmt: str) -> str:
        return self.tmux("display", "-p", "-t", self.id, fmt).strip()

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", self.id, *keys)

    def type(self, text: str, enter: bool = True) -> None:
        self.tmux("send-keys", "-t", self.id, "-l", text)
        if enter:
            self.keys("Enter")

    def wait(self, predicate: Callable[[list[str]], object], what: str, timeout: float = 5) -> None:
        try:
            wait_for(lambda: predicate(self.lines()), timeout, what)
        except AssertionError as err:
            raise AssertionError(f"{err}; the screen:\n{self.screen()}") from None

    def wait_line(self, line: str, timeout: float = 5) -> None:
        self.wait(lambda lines: any(x.startswith(line) for x in lines), repr(line), timeout)

    def wait_prompt(self, timeout: float = 5) -> None:
        self.wait(lambda lines: lines and lines[-1].startswith("demo>"), "the prompt", timeout)

    def wait_title(self, state: str) -> None:
        wait_for(lambda: self.show("#{pane_title}") == f"demo: {state}", 5, f"title {state}")

    def wait_exit(self) -> int:
        wait_for(lambda: self.show("#{pane_dead}") == "1", 5, "the agent to exit")

        def status() -> str:
            # tmux marks the pane dead when its terminal closes and records the status when it
            # reaps the process; tmux 3.3a sometimes misses that SIGCHLD and leaves a zombie,
            # so nudge our private server until it has reaped it.
            if not (code := self.show("#{pane_dead_status}")):
                os.kill(int(self.show("#{pid}")), signal.SIGCHLD)
            return code

        return int(wait_for(status, 5, "the exit status"))

    def wait_killed(self) -> int:
        """Wait for the pane's process to end by a signal: the signal's number.

        The pane's process is the agent or, when tmux's shell did not exec it, a shell that
        reports a killed child as status 128 + the signal's number.
        """

        def number() -> int:
            if self.show("#{pane_dead}") != "1":
                return 0
            if killed := self.show("#{pane_dead_signal}"):
                return int(killed)
            if status := self.show("#{pane_dead_status}"):
                return int(status) - 128
            os.kill(int(self.show("#{pid}")), signal.SIGCHLD)  # see wait_exit
            return 0

        return wait_for(number, 5, "the agent to be killed")

    def assert_frozen(self, seconds: float = 1.0) -> None:
        """Watch the pane for ``seconds``: it must not change at all.

        A live agent redraws its spinner 8 times a second and, at the speeds used here,
        finishes a step within 0.3 s, so a second without any change means it is stuck.
        """
        before, deadline = self.screen(), time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.screen() == before, "the pane changed"
            time.sleep(0.05)


def make_repo(path: Path) -> Path:
    """A git repository at ``path`` with one commit."""
    run("git", "init", "-q", str(path))
    run("git", "config", "user.name", "Test", cwd=path)
    run("git", "config", "user.email", "test@example.invalid", cwd=path)
    (path / "README.md").write_text("# test repo\n")
    run("git", "add", "README.md", cwd=path)
    run("git", "commit", "-q", "-m", "init", cwd=path)
    return path


def descendants(pid: int) -> list[int]:
    """``pid`` and all its descendants, as far as they can be read now."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return [pid]
    return [pid, *(p for child in children for p in descendants(int(child)))]


@contextmanager
def private_tmux() -> Iterator[str]:
    """The name of a private tmux socket; its server is killed and its socket file removed.

    Agents started with ``--ignore-sighup`` outlive the server, so whatever still runs in its
    panes afterwards is killed too, by pid, even when a test failed half-way.
    """
    socket = f"qdtest-{uuid.uuid4().hex[:12]}"
    try:
        yield socket
    finally:
        tmux = ["tmux", "-L", socket]
        path = subprocess.run(
            [*tmux, "display", "-p", "#{socket_path}"], capture_output=True, text=True
        )
        panes = subprocess.run(
            [*tmux, "list-panes", "-a", "-F", "#{pane_pid}"], capture_output=True, text=True
        )
        pids = {p: started(p) for pane in panes.stdout.split() for p in descendants(int(pane))}
        subprocess.run([*tmux, "kill-server"], capture_output=True, check=False)
        for pid, start in pids.items():
            if alive(pid) and started(pid) == start:  # the same process, not a reused pid
                os.kill(pid, signal.SIGKILL)
        if path.returncode == 0 and path.stdout.strip():
            Path(path.stdout.strip()).unlink(missing_ok=True)  # tmux leaves its socket behind


def started(pid: int) -> str:
    """When process ``pid`` started (clock ticks since boot), or "" if it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[19]
    except (OSError, IndexError):
        return ""


def alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (orphans may not be reaped here)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path)


@pytest.fixture
def pane(repo: Path) -> Iterator[Pane]:
    with private_tmux() as socket:
        yield Pane(socket, repo)


@pytest.fixture(scope="module")
def profile() -> AgentProfile:
    raw = tomllib.loads((ROOT / "app/agents/demo.toml").read_text(encoding="utf-8"))
    return parse_profile("demo", raw)


def status(pane: Pane, profile: AgentProfile) -> Status:
    return classify(profile, PaneView(pane.screen())).status


def commits(repo: Path) -> list[str]:
    return run("git", "log", "--format=%h %an %s", cwd=repo).splitlines()


def test_warms_up_then_shows_the_prompt(pane: Pane, profile: AgentProfile) -> None:
    pane.start("worker", seed=5, speed=1)  # seed 5 warms up for 0.86 s
    pane.wait_title("starting")
    assert status(pane, profile) is Status.STARTING
    pane.wait_prompt()
    assert pane.lines() == [
        "Quarterdeck demo agent · demo · seed 5 · warming up…",
        "Ready. Type a task and press Enter (/exit to quit).",
        "demo>",
    ]
    pane.wait_title("idle")
    assert status(pane, profile) is Status.IDLE


def test_a_turn_edits_and_commits_for_real(pane: Pane, repo: Path) -> None:
    pane.start("worker").wait_prompt()
    pane.type("add a cache layer")
    pane.wait_line("✓ Turn done: edited ")
    pane.wait_prompt()
    lines = pane.lines()
    assert lines[2] == "demo> add a cache layer"
    done = re.fullmatch(r"✓ Turn done: edited (\d+) files, (\d+) commits", lines[-2])
    assert done and int(done[1]) >= 1 and int(done[2]) >= 1
    log = commits(repo)
    assert len(log) == 1 + int(done[2])
    assert all(" Quarterdeck Demo " in entry for entry in log[:-1])
    for line in lines:
        if m := re.fullmatch(r"• Committed ([0-9a-f]{7}) (.+)", line):
            assert f"{m[1]} Quarterdeck Demo {m[2]}" in log
    changed = run("git", "show", "--name-only", "--format=", "HEAD", cwd=repo).split()
    assert changed and all(name in {"notes/cache-layer.md", "src/cache.py"} for name in changed)
    dirty = run("git", "status", "--porcelain", cwd=repo).split("\n")
    assert all(line[3:].startswith(("notes/", "src/")) for line in dirty if line)


def test_spinner_queue_and_interrupt(pane: Pane, profile: AgentProfile) -> None:
    pane.start("busy", speed=4).wait_prompt()
    pane.type("refactor the parser")
    pane.wait(lambda lines: SPINNER_LINE.match(lines[-1]), "the spinner")
    pane.wait_title("working")
    assert status(pane, profile) is Status.WORKING
    pane.type("then write docs")
    pane.wait_line("↳ queued: then write docs")
    assert SPINNER_LINE.match(pane.last())
    pane.type("half typed", enter=False)
    pane.keys("Escape")
    pane.wait_line("⎋ Interrupted.")
    pane.wait_prompt()
    # The queued message comes back to the prompt, ahead of what was being typed.
    assert pane.last() == "demo> then write docs half typed"
    pane.wait_title("idle")
    pane.keys("C-c")
    pane.wait(lambda lines: lines[-1] == "demo>", "Ctrl-C to clear the line")


def test_permission_dialog_allow_and_continue(pane: Pane, profile: AgentProfile) -> None:
    pane.start("asker").wait_prompt()
    pane.type("run the tests")
    pane.wait(lambda lines: lines[-1].startswith("╰"), "the dialog")
    block = pane.lines()[-8:]
    assert block[0].startswith("╭─") and block[0].endswith("╮")
    inner = [line.removeprefix("│ ").removesuffix("│").rstrip() for line in block[1:-1]]
    command = re.fullmatch(r"Allow demo to run `(.+)`\?", inner[1])
    assert inner[0] == "Permission required" and command
    assert inner[2:] == [
        "❯ 1. Yes",
        "  2. Yes, and don't ask again for this command",
        "  3. No, tell the agent what to do instead",
        "Press 1-3 or ↑/↓ and Enter · Esc to cancel",
    ]
    assert all(line.startswith("│ ") and line.endswith("│") for line in block[1:-1])
    pane.wait_title("needs_input")
    reading = classify(profile, PaneView(pane.screen()))
    assert reading.status is Status.NEEDS_INPUT and reading.question == inner[1]
    assert len(reading.options) == 3

    pane.keys("Down")
    pane.wait(lambda lines: "│ ❯ 2. Yes, and" in lines[-4], "the marker on option 2")
    assert pane.screen().count("Permission required") == 1
    pane.keys("Enter")
    pane.wait_line(f"✓ Allowed: {command[1]}")
    pane.wait_line("✓ Turn done")
    pane.wait_prompt()
    assert "Permission required" not in pane.screen()  # answered dialogs are cleared

    pane.type("and again")
    pane.wait(lambda lines: lines[-1].startswith("╰"), "the second dialog")
    pane.keys("2")
    pane.wait(lambda lines: lines[-1].startswith("demo>") and "Turn done" in lines[-2], "done")
    assert status(pane, profile) is Status.IDLE


def test_refusing_permission_ends_the_turn(pane: Pane) -> None:
    pane.start("asker").wait_prompt()
    pane.type("push it")
    pane.wait(lambda lines: lines[-1].startswith("╰"), "the dialog")
    pane.keys("3")
    pane.wait_line("✗ Denied: ")
    pane.wait_prompt()
    lines = pane.lines()
    assert lines[-3].startswith("✗ Denied: ") and lines[-2].startswith("✓ Turn done: ")
    command = lines[-3].removeprefix("✗ Denied: ")
    assert f"• Ran {command} (exit 0)" not in lines


def test_escape_dismisses_the_dialog(pane: Pane) -> None:
    pane.start("asker", seed=2).wait_prompt()
    pane.type("deploy it")
    pane.wait(lambda lines: lines[-1].startswith("╰"), "the dialog")
    pane.keys("Escape")
    pane.wait_line("⎋ Dialog dismissed.")
    pane.wait_prompt()
    pane.wait_title("idle")
    assert "Permission required" not in pane.screen()


def test_question_takes_a_free_text_answer(pane: Pane, repo: Path, profile: AgentProfile) -> None:
    pane.start("questioner").wait_prompt()
    pane.type("set up caching")
    pane.wait(lambda lines: lines[-1] == "answer>", "the question")
    assert pane.lines()[-5].startswith("│ Question from demo")
    reading = classify(profile, PaneView(pane.screen()))
    assert reading.status is Status.NEEDS_INPUT and reading.question.endswith("?")
    pane.wait_title("needs_input")
    pane.type("Redis, naïvement")
    pane.wait_line("↳ answer: Redis, naïvement")
    pane.wait_prompt()
    assert "Question from demo" not in pane.screen()
    written = [p.read_text() for p in repo.glob("*/*") if p.suffix in (".md", ".py")]
    assert any("answer: Redis, naïvement" in text for text in written)


@pytest.mark.parametrize(
    ("behaviour", "keys", "code", "last"),
    [
        ("worker", ["/exit", "Enter"], 0, "Bye."),
        ("worker", ["C-d"], 0, "Bye."),
        ("quitter", ["do one thing", "Enter"], 0, "Bye."),
        ("crasher", ["do one thing", "Enter"], 1, "✗ Fatal: simulated crash"),
    ],
)
def test_exit_status(pane: Pane, behaviour: str, keys: list[str], code: int, last: str) -> None:
    pane.start(behaviour).wait_prompt()
    pane.keys(*keys)
    assert pane.wait_exit() == code
    assert last in pane.screen()


def test_line_based_when_stdin_is_a_pipe(
    repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    agent = [sys.executable, "-m", "app.demo.agent", "--speed", "50", "--behaviour", "worker"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QUARTERDECK_AGENT_ID": "agent-7"}
    done = subprocess.run(
        agent, input="first task\nsecond task\n", cwd=repo, env=env, capture_output=True,
        text=True, timeout=20, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Quarterdeck demo agent · agent-7 · seed 0" in done.stdout
    assert done.stdout.count("✓ Turn done") == 2 and done.stdout.endswith("Bye.\n")
    assert len(commits(repo)) >= 3

    plain = tmp_path_factory.mktemp("plain")
    done = subprocess.run(
        agent, input="a task\n", cwd=plain, env=env, capture_output=True, text=True, timeout=20,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "• Skipped commit (not a git repository)" in done.stdout
    assert list(plain.glob("*/*"))


# ----- misbehaviour switches -------------------------------------------------------------


def test_die_at_once(pane: Pane) -> None:
    started = time.monotonic()
    pane.start("worker", args=["--die-at-once"])
    assert pane.wait_exit() == 1
    assert time.monotonic() - started < 3
    # tmux's "Pane is dead" line may scroll the first line off the screen: read the history.
    lines = [line.rstrip() for line in pane.history().splitlines() if line.strip()]
    assert lines[0] == "✗ Fatal: could not start (simulated)"
    assert not any(line.startswith(("Quarterdeck demo agent", "demo>")) for line in lines)


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGHUP, 129), (signal.SIGTERM, 0)])
def test_default_signals_end_it(pane: Pane, sig: signal.Signals, code: int) -> None:
    pane.start("worker").wait_prompt()
    os.kill(pane.pid(), sig)
    assert pane.wait_exit() == code


def assert_alive_and_working(pane: Pane, task: str) -> None:
    """The agent still takes a task: any signal sent before this has been handled."""
    pane.type(task)
    pane.wait(lambda lines: lines[-1] == "demo>" and "Turn done" in lines[-2], f"{task!r} done")


def test_ignore_sighup_ends_only_on_sigterm(pane: Pane) -> None:
    pane.start("worker", args=["--ignore-sighup"]).wait_prompt()
    os.kill(pane.pid(), signal.SIGHUP)
    assert_alive_and_working(pane, "after the hangup")
    os.kill(pane.pid(), signal.SIGTERM)
    assert pane.wait_exit() == 0


def test_ignore_sigterm_ends_on_sighup(pane: Pane) -> None:
    pane.start("worker", args=["--ignore-sigterm"]).wait_prompt()
    os.kill(pane.pid(), signal.SIGTERM)
    assert_alive_and_working(pane, "after the term")
    os.kill(pane.pid(), signal.SIGHUP)
    assert pane.wait_exit() == 129


def test_ignoring_both_needs_sigkill(pane: Pane) -> None:
    pane.start("worker", args=["--ignore-sighup", "--ignore-sigterm"]).wait_prompt()
    os.kill(pane.pid(), signal.SIGHUP)
    os.kill(pane.pid(), signal.SIGTERM)
    assert_alive_and_working(pane, "after both")
    pid = pane.pid()
    os.kill(pid, signal.SIGKILL)
    assert pane.wait_killed() == signal.SIGKILL
    assert not alive(pid)


def test_hang_after_freezes_screen_and_keys(pane: Pane) -> None:
    pane.start("busy", speed=4, args=["--hang-after", "2"]).wait_prompt()
    pane.type("do a long job")
    steps = re.compile(r"^• (Edited|Read|Ran|Committed|Nothing|Skipped) ")
    pane.wait(lambda lines: sum(bool(steps.match(x)) for x in lines) == 2, "two steps done")
    pane.wait(lambda lines: SPINNER_LINE.match(lines[-1]), "the spinner of the third step")
    pane.assert_frozen()
    pane.keys("Escape")
    pane.type("hello")
    pane.keys("C-c")
    pane.assert_frozen()  # a live agent says "Interrupted." within a spinner frame
    assert sum(bool(steps.match(x)) for x in pane.lines()) == 2
    assert pane.show("#{pane_title}") == "demo: working"
    assert pane.show("#{pane_dead}") == "0"
    os.kill(pane.pid(), signal.SIGTERM)
    assert pane.wait_exit() == 0


FLOOD_LINE = re.compile(r"^\d\d:\d\d:\d\d DEBUG \w+: worker \d processed chunk (\d+) of ")


def test_flood_fills_the_history_and_keys_still_work(pane: Pane) -> None:
    pane.start("busy", speed=1, args=["--flood"]).wait_prompt()
    pane.type("make some noise")
    started = time.monotonic()

    def chunks() -> int:
        numbers = [int(m[1]) for line in pane.lines() if (m := FLOOD_LINE.match(line))]
        return max(numbers, default=0)

    wait_for(lambda: chunks() >= 3000, 5, "3000 flood lines")
    assert time.monotonic() - started < 3  # thousands of lines a second
    flooded = [line for line in pane.history().splitlines() if FLOOD_LINE.match(line)]
    assert len(flooded) >= 1500  # tmux keeps 2000 lines of history by default
    # Whenever the flood pauses, the spinner is the last line.
    pane.wait(lambda lines: SPINNER_LINE.match(lines[-1]), "the spinner last")
    pane.type("queued meanwhile")
    pane.keys("Escape")
    pane.wait(lambda lines: lines[-1] == "demo> queued meanwhile", "the interrupt")
    assert "⎋ Interrupted." in pane.lines()[-3:]
    pane.assert_frozen(0.3)  # the flood stopped with the work
    pane.keys("C-c")
    pane.type("/exit")
    assert pane.wait_exit() == 0


def test_a_checklist_agent_ticks_one_item_a_turn_in_a_worktree(tmp_path: Path) -> None:
    """In a worktree of a fresh repository with no git identity configured: one item ticked and
    committed per turn, then nothing left to do."""
    main = tmp_path / "fresh"
    run("git", "init", "-q", "-b", "main", str(main))
    (main / "TODO.md").write_text("# TODO\n\n- [ ] first\n  - [ ] nested\n- [x] done\n- [ ] last\n")
    identity = ["-c", "user.name=T", "-c", "user.email=t@example.invalid"]
    run("git", *identity, "add", "TODO.md", cwd=main)
    run("git", *identity, "commit", "-q", "-m", "init", cwd=main)
    worktree = tmp_path / "wt"
    run("git", "worktree", "add", "-q", "-b", "qd/todo", str(worktree), cwd=main)
    with private_tmux() as socket:
        pane = Pane(socket, worktree)
        pane.start("checklist", args=["--model", "demo-large"]).wait_prompt()
        assert pane.lines()[0].startswith("Quarterdeck demo agent · demo · model demo-large · ")
        for n, item in enumerate(["first", "nested", "last"], start=1):
            pane.type(f"tick {n}")

            def turns_done(lines: list[str], n: int = n) -> bool:
                return sum(line.startswith("✓ Turn done") for line in lines) == n

            pane.wait(turns_done, f"turn {n} done")
            pane.wait_prompt()
            assert f"• Ticked TODO.md: [x] {item} (+1 -1)" in pane.lines()
            assert run("git", "log", "-1", "--format=%an %s", cwd=worktree).strip() == (
                f"Quarterdeck Demo docs: tick off {item}"
            )
            assert run("git", "status", "--porcelain", cwd=worktree) == ""
        assert "[ ]" not in (worktree / "TODO.md").read_text()
        assert (worktree / "TODO.md").read_text().count("[x]") == 4
        pane.type("tick again")
        pane.wait_line("✓ Turn done: edited 0 files, 0 commits")
        assert "• Read TODO.md: no unchecked item left, nothing to do" in pane.lines()
        assert len(commits(worktree)) == 4
