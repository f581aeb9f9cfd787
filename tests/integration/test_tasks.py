"""Tasks carried out with demo agents, real git and a real tmux server: a chain starting in order
from each other's work, a loop that needs three rounds, a cap stopping a loop that never
passes, a failed dependency holding its dependents until it is retried, the concurrency cap,
and attempts compared with one kept."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from app.core.agent import SpawnRequest
from app.core.errors import UsageError
from app.core.tasks import AgentChoice, AttemptState, Caps, Task, TaskSpec, TaskState
from app.fleet.engine import Engine
from app.fleet.fleet import Fleet
from tests.helpers import git

#: A demo agent that edits and commits every turn, quickly.
WORKER = AgentChoice(kind="demo", flags=("--behaviour", "worker", "--speed", "8"))
DEADLINE = 120.0


def worker(seed: int) -> AgentChoice:
    return AgentChoice(kind="demo", flags=(*WORKER.flags, "--seed", str(seed)))


def run(fleet: Fleet, done: Callable[[], bool], timeout: float = DEADLINE) -> None:
    """Tick the engine (as a command would) until ``done``."""
    engine = Engine(fleet)
    assert engine.run_until(done, timeout), [(t.name, t.state, t.reason) for t in fleet.tasks()]


def state(fleet: Fleet, name: str) -> TaskState:
    return fleet.task(name).state


def settled(fleet: Fleet, *names: str) -> Callable[[], bool]:
    final = {TaskState.PASSED, TaskState.FAILED, TaskState.LANDED, TaskState.CANCELLED}
    return lambda: all(state(fleet, n) in final for n in names)


def counter_check(tmp_path: Path, passes_on: int) -> str:
    """A check that fails until its ``passes_on``-th run (its count kept outside the worktree)."""
    count = tmp_path / f"count-{passes_on}-{time.monotonic_ns()}"
    script = (
        "import pathlib,sys;"
        f"p=pathlib.Path({str(count)!r});"
        "n=int(p.read_text() or 0)+1 if p.exists() else 1;"
        "p.write_text(str(n));"
        f"print(f'run {{n}}');sys.exit(0 if n>={passes_on} else 1)"
    )
    return f'{sys.executable} -c "{script}"'


def test_a_chain_starts_in_order_each_from_the_work_before_it(repo: Path) -> None:
    fleet = Fleet.open(repo)
    added = fleet.add_tasks(
        [
            TaskSpec("First step", attempts=(worker(1),), check="true"),
            TaskSpec("Second step", attempts=(worker(2),), check="true", after=("first-step",)),
            TaskSpec("Third step", attempts=(worker(3),), check="true", after=("second-step",)),
        ]
    )
    assert [t.name for t in added] == ["first-step", "second-step", "third-step"]
    run(fleet, settled(fleet, "third-step"), 180)
    first, second, third = (fleet.task(n) for n in ("first-step", "second-step", "third-step"))
    assert [t.state for t in (first, second, third)] == [TaskState.PASSED] * 3
    # Each started after the one before it passed, from a commit holding its work.
    for before, after in ((first, second), (second, third)):
        b, a = before.attempts[0], after.attempts[0]
        assert a.started_at >= b.ended_at
        tip = git(repo, "rev-parse", b.branch)
        assert git(repo, "merge-base", "--is-ancestor", tip, a.start_commit) == ""
    assert third.attempts[0].rounds[-1].check == "passed"
    history = [e.state for e in fleet.task_history("third-step")]
    assert history[0] == "blocked" and "running" in history and history[-1] == "passed"
    # The agents carry their task.
    assert fleet.get(third.attempts[0].agent_name).task == "third-step"


def test_a_loop_runs_fresh_agents_until_its_check_passes_on_round_three(
    repo: Path, tmp_path: Path
) -> None:
    fleet = Fleet.open(repo)
    check = counter_check(tmp_path, 3)
    fleet.add_tasks([TaskSpec("Loop it", attempts=(WORKER,), check=check, caps=Caps(rounds=5))])
    run(fleet, settled(fleet, "loop-it"), 180)
    task = fleet.task("loop-it")
    attempt = task.attempts[0]
    assert task.state is TaskState.PASSED, task.reason
    assert [r.check for r in attempt.rounds] == ["failed", "failed", "passed"]
    assert "round 3" in attempt.reason
    # Each failed round's work was committed; the agent that carried the last round was told
    # what failed.
    agent = fleet.get(attempt.agent_name)
    assert "round 3" in agent.prompt and "run 2" in agent.prompt
    heads = [r.commit for r in attempt.rounds]
    assert all(heads) and len(set(heads)) == 3
    assert git(repo, "rev-parse", attempt.branch) == heads[-1]


def test_a_loop_that_never_passes_stops_at_its_cap_with_the_reason(repo: Path) -> None:
    fleet = Fleet.open(repo)
    fleet.add_tasks(
        [TaskSpec("Never", attempts=(WORKER,), check="echo nope; exit 1", caps=Caps(rounds=2))]
    )
    run(fleet, settled(fleet, "never"), 180)
    task = fleet.task("never")
    assert task.state is TaskState.FAILED
    assert "cap of 2 rounds" in task.reason
    assert len(task.attempts[0].rounds) == 2


def test_a_failed_dependency_holds_its_dependents_until_retried(repo: Path, tmp_path: Path) -> None:
    fleet = Fleet.open(repo)
    fleet.add_tasks(
        [
            TaskSpec("Base work", attempts=(WORKER,), check=counter_check(tmp_path, 2)),
            TaskSpec(
                "On top", name="on-top", attempts=(worker(2),), check="true", after=("base-work",)
            ),
        ]
    )
    run(
        fleet,
        lambda: (
            state(fleet, "on-top") is TaskState.BLOCKED
            and state(fleet, "base-work") is TaskState.FAILED
        ),
    )
    held = fleet.task("on-top")
    assert held.reason.startswith("held: base-work failed") and not held.started
    fleet.retry_task("base-work")
    run(fleet, settled(fleet, "on-top"), 180)
    assert state(fleet, "base-work") is TaskState.PASSED
    assert state(fleet, "on-top") is TaskState.PASSED
    base = fleet.task("base-work").attempts[0]
    assert [r.check for r in base.rounds] == ["failed", "passed"]


def test_cycles_and_unknown_dependencies_are_refused_and_nothing_is_added(repo: Path) -> None:
    fleet = Fleet.open(repo)
    fleet.add_tasks([TaskSpec("A", after=())])
    with pytest.raises(UsageError, match="dependency cycle: b → c → b"):
        fleet.add_tasks(
            [TaskSpec("B", name="b", after=("c",)), TaskSpec("C", name="c", after=("b",))]
        )
    with pytest.raises(UsageError, match="waits on 'zzz', which is not a task"):
        fleet.add_tasks([TaskSpec("D", after=("zzz",))])
    assert [t.name for t in fleet.tasks()] == ["a"]


def test_never_more_than_max_running_at_once(repo: Path) -> None:
    (repo / ".quarterdeck.toml").write_text("[tasks]\nmax_running = 2\n")
    fleet = Fleet.open(repo)
    fleet.add_tasks(
        [TaskSpec(f"Task {n}", attempts=(worker(n),), check="true") for n in range(1, 5)]
    )
    most = 0
    reasons: set[str] = set()

    def done() -> bool:
        nonlocal most
        tasks = fleet.tasks()
        reasons.update(t.reason for t in tasks if t.state is TaskState.QUEUED)
        live = sum(
            a.state in (AttemptState.RUNNING, AttemptState.CHECKING, AttemptState.NEEDS_INPUT)
            for t in tasks
            for a in t.attempts
        )
        most = max(most, live)
        return all(t.state is TaskState.PASSED for t in tasks)

    run(fleet, done, 240)
    assert most == 2
    assert "waits for a free slot (2 of 2 running)" in reasons


def test_three_attempts_are_ranked_and_keeping_one_discards_the_others(repo: Path) -> None:
    fleet = Fleet.open(repo)
    fleet.add_tasks(
        [TaskSpec("Try thrice", attempts=(worker(1), worker(2), worker(3)), check="true")]
    )
    run(fleet, settled(fleet, "try-thrice"), 180)
    task: Task = fleet.task("try-thrice")
    assert task.state is TaskState.PASSED and "keep one" in task.reason
    names = [a.agent_name for a in task.attempts]
    assert names == ["try-thrice-1", "try-thrice-2", "try-thrice-3"]
    with pytest.raises(UsageError, match="choose one with --attempt"):
        fleet.land_task("try-thrice")
    diff = fleet.compare_attempts("try-thrice", 1, 2)
    assert diff.startswith("diff --git")
    said = fleet.land_task("try-thrice", 2)
    assert "try-thrice-2" in said
    task = fleet.task("try-thrice")
    assert task.state is TaskState.LANDED
    states = [a.state for a in task.attempts]
    assert states == [AttemptState.DISCARDED, AttemptState.KEPT, AttemptState.DISCARDED]
    for a in (task.attempts[0], task.attempts[2]):
        assert a.archive and git(repo, "rev-parse", a.archive[0])
        assert a.agent_name not in [x.name for x in fleet.reload()]
    kept_tip = git(repo, "rev-parse", task.attempts[1].branch)
    assert git(repo, "merge-base", "--is-ancestor", kept_tip, "main") == ""


ENGINE = """
import sys
from pathlib import Path
from app.fleet.engine import Engine
from app.fleet.fleet import Fleet
Engine(Fleet.open(Path(sys.argv[1]))).run_until(lambda: False, 600)
"""


def test_an_engine_killed_again_and_again_mid_graph_starts_nothing_twice(
    repo: Path, tmp_path: Path
) -> None:
    """The engine's process is killed (SIGKILL) at varied moments while a graph runs, and
    started again each time: every task still passes, each attempt had exactly one agent and
    each round one fresh start."""
    fleet = Fleet.open(repo)
    fleet.add_tasks(
        [
            TaskSpec("Alpha", attempts=(worker(1),), check="true"),
            TaskSpec("Beta", attempts=(worker(2),), check="true", after=("alpha",)),
            TaskSpec("Gamma", attempts=(worker(3),), check="true"),
            TaskSpec(
                "Delta",
                attempts=(worker(4),),
                check=counter_check(tmp_path, 2),
                caps=Caps(rounds=4),
                after=("beta", "gamma"),
            ),
        ]
    )
    names = ("alpha", "beta", "gamma", "delta")
    rng = random.Random(7)
    deadline = time.monotonic() + 240
    kills = 0
    # At most three kills: each may cost the round being typed a fresh agent, and a round
    # gets three (`REDELIVERIES`) before it fails.
    while not settled(fleet, *names)() and time.monotonic() < deadline and kills < 3:
        proc = subprocess.Popen([sys.executable, "-c", ENGINE, str(repo)])
        try:
            proc.wait(timeout=rng.uniform(3.0, 8.0))
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
    assert kills >= 2
    run(fleet, settled(fleet, *names), 120)
    tasks = [fleet.task(n) for n in names]
    assert [t.state for t in tasks] == [TaskState.PASSED] * 4, [t.reason for t in tasks]
    # One agent each, none twice. (A kill in the middle of making an agent's worktree can
    # leave that worktree behind: the attempt's agent then gets the next free name.)
    agents = fleet.reload()
    assert len(agents) == 4, [a.name for a in agents]
    assert sorted(a.task for a in agents) == sorted(names)
    assert {a.name for a in agents} == {t.attempts[0].agent_name for t in tasks}
    delta = fleet.task("delta").attempts[0]
    assert [r.check for r in delta.rounds] == ["failed", "passed"]
    for t in tasks:
        starts = [e for e in fleet.task_history(t.name) if e.reason.startswith("started ")]
        assert len(starts) == 1, (t.name, starts)
    # One fresh start per later round, and one per prompt that a kill left undelivered.
    # (By the attempt's agent: a kill mid-worktree may have given it the next free name.)
    restarted = [e for e in fleet.evidence(delta.agent_name) if "restarted" in e[2]]
    redelivered = [e for e in fleet.task_history("delta") if "a fresh agent gets it" in e.reason]
    assert len(restarted) == len(delta.rounds) - 1 + len(redelivered)


def test_a_question_pauses_the_task_and_the_answer_resumes_it(repo: Path) -> None:
    fleet = Fleet.open(repo)
    asker = AgentChoice(kind="demo", flags=("--behaviour", "questioner", "--speed", "8"))
    fleet.add_tasks([TaskSpec("Ask first", attempts=(asker,), check="true")])
    run(fleet, lambda: state(fleet, "ask-first") is TaskState.NEEDS_INPUT)
    task = fleet.task("ask-first")
    assert "waits for you" in task.reason
    asked = [e for e in fleet.task_history("ask-first") if e.state == "needs_input"]
    assert asked and "ask-first waits for you" in asked[0].reason
    fleet.reply("ask-first", "Use SQLite")
    run(fleet, settled(fleet, "ask-first"))
    assert state(fleet, "ask-first") is TaskState.PASSED


def test_an_agent_the_human_stops_is_not_restarted_by_its_loop(repo: Path) -> None:
    fleet = Fleet.open(repo)
    slow = AgentChoice(kind="demo", flags=("--behaviour", "busy", "--speed", "1"))
    fleet.add_tasks([TaskSpec("Stop me", attempts=(slow,), check="false", caps=Caps(rounds=5))])
    run(fleet, lambda: state(fleet, "stop-me") is TaskState.RUNNING)
    fleet.stop("stop-me")
    run(fleet, settled(fleet, "stop-me"))
    task = fleet.task("stop-me")
    assert task.state is TaskState.FAILED and "you stopped stop-me" in task.reason
    assert len(task.attempts[0].rounds) == 1
    assert fleet.get("stop-me").stopped


SHELL = AgentChoice(kind="shell")


def test_a_fan_in_starts_from_a_merge_of_both_and_conflicting_work_holds_it(
    repo: Path,
) -> None:
    """Shell agents run their prompt as a command: exactly what each task writes."""
    fleet = Fleet.open(repo)
    fleet.add_tasks(
        [
            TaskSpec("Left", prompt="echo left > left.txt", attempts=(SHELL,), check="true"),
            TaskSpec("Right", prompt="echo right > right.txt", attempts=(SHELL,), check="true"),
            TaskSpec(
                "Both",
                prompt="cat left.txt right.txt > both.txt",
                attempts=(SHELL,),
                check="test -s both.txt",
                after=("left", "right"),
            ),
            TaskSpec("Red", prompt="echo red > colour.txt", attempts=(SHELL,), check="true"),
            TaskSpec("Blue", prompt="echo blue > colour.txt", attempts=(SHELL,), check="true"),
            TaskSpec("Mix", prompt="cat colour.txt", attempts=(SHELL,), after=("red", "blue")),
        ]
    )
    run(
        fleet,
        lambda: (
            settled(fleet, "both")()
            and state(fleet, "mix") is TaskState.BLOCKED
            and fleet.task("mix").reason.startswith("held:")
        ),
    )
    both = fleet.task("both").attempts[0]
    parents = git(repo, "rev-list", "--parents", "-n", "1", both.start_commit).split()[1:]
    tips = {git(repo, "rev-parse", fleet.task(n).attempts[0].branch) for n in ("left", "right")}
    assert set(parents) == tips  # a merge of both dependencies' work
    assert Path(both.worktree, "both.txt").read_text() == "left\nright\n"
    mix = fleet.task("mix")
    assert "conflicts" in mix.reason and "colour.txt" in mix.reason and not mix.started


def test_an_agent_made_by_a_process_that_died_before_saying_so_is_adopted_and_said(
    repo: Path,
) -> None:
    """The attempt was recorded as starting and its agent made, then the process died before
    it recorded more: the next engine adopts that agent (no second one) and says it started."""
    fleet = Fleet.open(repo)
    (task,) = fleet.add_tasks([TaskSpec("Orphan", attempts=(WORKER,), check="true")])
    # What the dead process did: its intent written, then the agent made.
    attempt = replace(task.attempts[0], state=AttemptState.STARTING, agent_name="orphan")
    assert fleet.runner._table.replace(task.with_attempt(attempt), task)
    fleet.spawn(
        SpawnRequest(
            prompt=task.spec.text,
            kind="demo",
            name="orphan",
            args=WORKER.flags,
            task="orphan",
        )
    )
    run(fleet, settled(fleet, "orphan"))
    done = fleet.task("orphan")
    assert done.state is TaskState.PASSED, done.reason
    assert [a.name for a in fleet.reload()] == ["orphan"]
    started = [e for e in fleet.task_history("orphan") if e.reason.startswith("started ")]
    assert [(e.reason.split()[1], e.attempt, e.round) for e in started] == [("orphan", 1, 1)]
