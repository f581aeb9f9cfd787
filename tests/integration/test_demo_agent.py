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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from app.core.classify import PaneView, classify
from app.core.profiles import AgentProfile, parse_profiles
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

    def start(self, behaviour: str, seed: int = 1, speed: float = 20) -> Pane:
        agent = f"{shlex.quote(sys.executable)} -m app.demo.agent"
        command = f"{agent} --speed {speed} --behaviour {behaviour} --seed {seed}"
        self.id = self.tmux(
            "-f", "/dev/null", "new-session", "-d", "-P", "-F", "#{pane_id}",
            "-x", "120", "-y", "40", "-c", str(self.repo), "-e", f"PYTHONPATH={ROOT}", command,
            ";", "set-option", "-g", "remain-on-exit", "on",
        ).strip()  # fmt: skip
        return self

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.id)

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


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    run("git", "init", "-q", str(tmp_path))
    run("git", "config", "user.name", "Test", cwd=tmp_path)
    run("git", "config", "user.email", "test@example.invalid", cwd=tmp_path)
    (tmp_path / "README.md").write_text("# test repo\n")
    run("git", "add", "README.md", cwd=tmp_path)
    run("git", "commit", "-q", "-m", "init", cwd=tmp_path)
    return tmp_path


@pytest.fixture
def pane(repo: Path) -> Iterator[Pane]:
    socket = f"qdtest-{uuid.uuid4().hex[:12]}"
    yield Pane(socket, repo)
    tmux = ["tmux", "-L", socket]
    path = subprocess.run(
        [*tmux, "display", "-p", "#{socket_path}"], capture_output=True, text=True
    )
    subprocess.run([*tmux, "kill-server"], capture_output=True, check=False)
    if path.returncode == 0 and path.stdout.strip():
        Path(path.stdout.strip()).unlink(missing_ok=True)  # tmux leaves its socket file behind


@pytest.fixture(scope="module")
def profile() -> AgentProfile:
    raw = tomllib.loads((ROOT / "app/profiles/agents.toml").read_text(encoding="utf-8"))
    return parse_profiles(raw)["demo"]


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
