"""End to end: the real `quarterdeck demo` in a terminal (a tmux pane), driven by keys."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.tasks import Task, TaskState
from app.fleet.fleet import Fleet
from tests.helpers import tmux, wait_for

pytestmark = pytest.mark.e2e

QD = str(Path(sys.executable).with_name("quarterdeck"))


def run_in_terminal(term: str, command: str, session: str = "t") -> None:
    env = " ".join(
        f"{k}={shlex.quote(v)}"
        for k, v in os.environ.items()
        if k.startswith(("QUARTERDECK_", "XDG_", "GIT_")) or k in ("PATH", "HOME", "PYTHONPATH")
    )
    subprocess.run(
        [
            "tmux",
            "-L",
            term,
            "new-session",
            "-d",
            "-s",
            session,
            "-x",
            "150",
            "-y",
            "45",
            f"env {env} TERM=xterm-256color {command}; echo TERMINAL-BACK; sleep 600",
        ],
        check=True,
    )


def screen(term: str, session: str = "t") -> str:
    return tmux(term, "capture-pane", "-p", "-t", session)


def keys(term: str, *names: str, literal: bool = False) -> None:
    args = ["tmux", "-L", term, "send-keys", "-t", "t"] + (["-l"] if literal else []) + list(names)
    subprocess.run(args, check=True)


def agents(repo: Path) -> list[dict[str, object]]:
    out = subprocess.run(
        [QD, "-C", str(repo), "ls", "--json"], capture_output=True, text=True, check=True
    )
    return list(json.loads(out.stdout))


@pytest.fixture(autouse=True)
def show_screens_on_failure(terminal: str) -> Iterator[None]:
    """A failing end-to-end test prints what the terminal showed."""
    yield
    for session in ("t", "again"):
        print(f"--- terminal session {session} ---\n{screen(terminal, session)}")


def test_demo_spawn_attach_return_stop_and_survive_kill(
    tmp_path: Path, terminal: str, tmux_socket: str
) -> None:
    run_in_terminal(
        terminal, f"{QD} demo --agents 8 --speed 2 --no-tasks --dir {tmp_path / 'demos'}"
    )
    wait_for(
        lambda: "Quarterdeck" in screen(terminal) and "parser-tests" in screen(terminal),
        timeout=30,
        what="the dashboard with the demo fleet",
    )
    repo = next((tmp_path / "demos").iterdir())
    names = [a["name"] for a in agents(repo)]
    assert len(names) == 8

    # Within ten seconds the fleet shows agents working, waiting on the human, and idle.
    wait_for(
        lambda: (
            {"needs_input", "idle"} <= {a["status"] for a in agents(repo)}
            and "needs_input" in screen(terminal)
        ),
        timeout=10,
        interval=0.2,
        what="varied statuses",
    )

    # n: the new-agent form starts one more agent.
    keys(terminal, "n")
    wait_for(lambda: "New agent" in screen(terminal), what="the new-agent form")
    keys(terminal, "Tidy the README", literal=True)
    keys(terminal, "C-s")
    wait_for(lambda: any(a["name"] == "tidy-readme" for a in agents(repo)), what="spawned agent")
    wait_for(lambda: "tidy-readme" in screen(terminal), what="the new row")

    # Enter attaches to the selected (first) agent; typing reaches it; the return key comes back.
    first = agents(repo)[0]
    keys(terminal, "Escape")
    wait_for(lambda: "New agent" not in screen(terminal))
    keys(terminal, "Home")
    keys(terminal, "Enter")
    wait_for(
        lambda: "demo>" in screen(terminal) and "Name" not in screen(terminal),
        what="the agent's own screen",
    )
    keys(terminal, "hello from the human", literal=True)
    pane = str(first["pane"])
    wait_for(
        lambda: "hello from the human" in tmux(tmux_socket, "capture-pane", "-p", "-t", pane),
        what="typed text in the agent's pane",
    )
    keys(terminal, "C-q")
    wait_for(
        lambda: "Quarterdeck" in screen(terminal) and "Last output" in screen(terminal),
        what="back on the dashboard",
    )

    # Alt-n, from anywhere, jumps to an agent that waits on the human; the return key comes back.
    keys(terminal, "M-n")
    wait_for(
        lambda: (
            "Last output" not in screen(terminal)
            and ("Permission required" in screen(terminal) or "answer>" in screen(terminal))
        ),
        what="a waiting agent's dialog",
    )
    keys(terminal, "C-q")
    wait_for(lambda: "Last output" in screen(terminal), what="back on the dashboard again")

    # x stops the selected agent (still the first one): its processes end, it shows exited.
    keys(terminal, "x")
    wait_for(lambda: "Stop" in screen(terminal), what="the stop confirmation")
    keys(terminal, "y")
    wait_for(lambda: agents(repo)[0]["status"] == "exited", what="stopped agent exited")

    # kill -9 the dashboard: the agents keep running, and `quarterdeck` brings it all back.
    dashboard = tmux(
        tmux_socket, "display-message", "-p", "-t", f"{first['session']}:0", "#{pane_pid}"
    ).strip()
    os.kill(int(dashboard), signal.SIGKILL)
    wait_for(
        lambda: (
            tmux(
                tmux_socket, "display-message", "-p", "-t", f"{first['session']}:0", "#{pane_dead}"
            ).strip()
            == "1"
        ),
        what="dead dashboard",
    )
    live = [a for a in agents(repo) if a["status"] not in ("exited", "failed")]
    assert len(live) >= 5
    run_in_terminal(terminal, f"{QD} -C {repo}", session="again")
    wait_for(
        lambda: (
            "Quarterdeck" in screen(terminal, "again")
            and all(str(a["name"])[:15] in screen(terminal, "again") for a in live)
        ),
        timeout=20,
        what="the restarted dashboard listing every agent",
    )
    for agent in live:
        pid = int(
            tmux(
                tmux_socket, "display-message", "-p", "-t", str(agent["pane"]), "#{pane_pid}"
            ).strip()
        )
        os.kill(pid, 0)  # still running


def test_demo_check_then_land_moves_main_and_the_checkout_only_when_allowed(
    tmp_path: Path, terminal: str, tmux_socket: str
) -> None:
    run_in_terminal(
        terminal, f"{QD} demo --agents 1 --speed 2 --no-tasks --dir {tmp_path / 'demos'}"
    )
    wait_for(lambda: "signup-validation" in screen(terminal), timeout=30, what="the dashboard")
    repo = next((tmp_path / "demos").iterdir())

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
        return done.stdout.strip()

    def committed() -> bool:
        # Idle with its file counted, and that file committed: the demo agent commits just
        # after its turn's last edit, and the row may show idle in between.
        agent = agents(repo)[0]
        worktree = ["git", "-C", str(agent["worktree"]), "status", "--porcelain"]
        clean = subprocess.run(worktree, capture_output=True, text=True).stdout.strip() == ""
        return agent["status"] == "idle" and agent["files"] == 1 and clean

    wait_for(committed, timeout=20, what="the agent's committed work")
    main_before, tip = git("rev-parse", "main"), git("rev-parse", "qd/signup-validation")
    assert main_before != tip

    # C runs the demo repository's check; the row shows it passed and how long it took.
    keys(terminal, "C")
    wait_for(lambda: str(agents(repo)[0]["check"]).startswith("passed"), what="the check to pass")
    assert agents(repo)[0]["check_line"] == "OK"
    wait_for(lambda: "✓ " in screen(terminal), what="the check on the row")

    # g, Enter (merge): main is checked out in the demo repository, so the dashboard asks
    # whether that checkout may move too. No changes nothing ...
    for answer in ("n", "y"):
        keys(terminal, "g")
        wait_for(lambda: "Land qd/signup-validation" in screen(terminal), what="the land dialog")
        keys(terminal, "Enter")
        wait_for(lambda: "is checked out in" in screen(terminal), what="the question")
        keys(terminal, answer)
        if answer == "n":
            wait_for(lambda: "is checked out in" not in screen(terminal))
            assert git("rev-parse", "main") == main_before
            assert git("status", "--porcelain") == ""
    # ... yes lands it, the checkout follows, and removing the agent is offered.
    wait_for(lambda: "Remove signup-validation?" in screen(terminal), what="the removal offer")
    assert git("rev-parse", "main") == tip == git("rev-parse", "HEAD")
    assert git("status", "--porcelain") == ""
    assert (repo / "notes").is_dir()
    keys(terminal, "n")
    wait_for(lambda: "Remove signup-validation?" not in screen(terminal))
    assert [a["name"] for a in agents(repo)] == ["signup-validation"]


def tasks(repo: Path) -> dict[str, Task]:
    """The demo's tasks as stored (what the task board and `quarterdeck task ls` show)."""
    return {task.name: task for task in Fleet.open(repo).tasks()}


def test_demo_tasks_start_unblock_loop_and_compare(tmp_path: Path, terminal: str) -> None:
    run_in_terminal(terminal, f"{QD} demo --agents 2 --speed 2 --dir {tmp_path / 'demos'}")
    wait_for(lambda: "Quarterdeck" in screen(terminal), timeout=30, what="the dashboard")
    repo = next((tmp_path / "demos").iterdir())
    # Followed until every task passed, looking at each state the chain's second task shows:
    # it starts only once the first passed.
    seen: list[tuple[TaskState, TaskState]] = []

    def all_passed() -> bool:
        now = tasks(repo)
        seen.append((now["users-table"].state, now["signup-endpoint"].state))
        return len(now) == 8 and all(t.state is TaskState.PASSED for t in now.values())

    wait_for(
        all_passed,
        timeout=180,
        interval=0.2,
        what=lambda: str([(t.name, t.state.value, t.reason) for t in tasks(repo).values()]),
    )
    started = [first for first, second in seen if second is not TaskState.BLOCKED]
    assert started and all(first is TaskState.PASSED for first in started), seen
    # Its history says the same: blocked, then running once the first had passed.
    fleet = Fleet.open(repo)
    history = fleet.task_history("signup-endpoint")
    passed = next(e.at for e in fleet.task_history("users-table") if e.state == "passed")
    assert history[0].state == "blocked"
    assert min(e.at for e in history if e.state == "running") >= passed
    done = tasks(repo)
    for first, then in (
        ("users-table", "signup-endpoint"),
        ("signup-endpoint", "signup-docs"),
        ("price-format", "checkout-total"),
        ("sales-tax", "checkout-total"),
    ):
        assert done[then].attempts[0].started_at >= done[first].attempts[0].ended_at
    # The loop passed on round 3; the three attempts differ in size.
    loop = done["todo-list"].attempts[0]
    assert [r.check for r in loop.rounds] == ["failed", "failed", "passed"]
    sizes = [a.lines_changed for a in done["product-cache"].attempts]
    assert len(set(sizes)) == 3, sizes
    # The dashboard lists the tasks' agents beside the demo agents.
    wait_for(
        lambda: all(name in screen(terminal) for name in ("todo-list", "product-cache-3")),
        what="the tasks' agents on the dashboard",
    )
    # The task board shows them; the attempts are compared and the smallest kept.
    keys(terminal, "T")
    wait_for(lambda: "Task board" in screen(terminal), what="the task board")
    wait_for(
        lambda: (
            "3 of 3 attempts passed: keep one" in screen(terminal)
            and "the check passed in round 3" in screen(terminal)
        ),
        what="the board's rows",
    )
    keys(terminal, "End")
    keys(terminal, "c")
    wait_for(lambda: "Attempts of product-cache" in screen(terminal), what="the comparison")
    smallest = min(done["product-cache"].attempts, key=lambda a: a.lines_changed)
    keys(terminal, "k")
    wait_for(lambda: f"Keep attempt {smallest.number} of" in screen(terminal), what="asked")
    keys(terminal, "y")
    wait_for(
        lambda: tasks(repo)["product-cache"].state is TaskState.LANDED,
        what="the kept attempt landed",
    )
    kept = tasks(repo)["product-cache"]
    assert [a.state.value for a in kept.attempts].count("discarded") == 2
    assert all(a.archive for a in kept.attempts if a.state.value == "discarded")
