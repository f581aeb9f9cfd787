"""The demo's task graph: valid, and showing a chain, a fan-in, a loop and compared attempts."""

from __future__ import annotations

import itertools
import shlex
from typing import cast

import pytest

from app.core.scheduler import schedule
from app.core.tasks import AgentChoice, Attempt, Task, TaskState, name_tasks, validate_graph
from app.demo.agent import main as demo_agent_main
from app.demo.script import Behaviour, Planner, apply_edit
from app.fleet.demo import DEMO_FLEET, demo_requests
from app.fleet.demo_tasks import ATTEMPT_SEEDS, demo_task_graph

PYTHON = "/opt/py 3/bin/python"


def test_the_graph_is_valid_and_named_as_written() -> None:
    specs = demo_task_graph(PYTHON, 2)
    names = name_tasks(specs, [])
    assert names == [spec.name for spec in specs]
    validate_graph(dict(zip(names, specs, strict=True)), [])


def test_a_chain_of_three_and_a_fan_in() -> None:
    specs = {spec.name: spec for spec in demo_task_graph(PYTHON, 2)}
    assert specs["signup-endpoint"].after == ("users-table",)
    assert specs["signup-docs"].after == ("signup-endpoint",)
    assert specs["checkout-total"].after == ("price-format", "sales-tax")
    assert not specs["price-format"].after and not specs["sales-tax"].after


def test_what_starts_first_and_what_waits() -> None:
    specs = demo_task_graph(PYTHON, 2)
    tasks = [
        Task(
            i,
            spec.name,
            spec,
            attempts=tuple(Attempt(n + 1, c) for n, c in enumerate(spec.attempts)),
        )
        for i, spec in enumerate(specs, start=1)
    ]
    plan = schedule(tasks, max_running=100)
    started = {name for name, _ in plan.starts}
    assert started == {"users-table", "todo-list", "price-format", "sales-tax", "product-cache"}
    assert [n for name, n in plan.starts if name == "product-cache"] == [1, 2, 3]
    for waiting in ("signup-endpoint", "signup-docs", "checkout-total"):
        assert plan.waiting[waiting][0] is TaskState.BLOCKED


def test_the_looping_task_checks_the_todo_list_with_this_python() -> None:
    todo = {spec.name: spec for spec in demo_task_graph(PYTHON, 2)}["todo-list"]
    assert todo.check == f"{shlex.quote(PYTHON)} -B scripts/todo_done.py"
    assert todo.caps.looping and todo.caps.rounds >= 3
    (agent,) = todo.attempts
    assert agent.flags[:2] == ("--behaviour", "checklist")


def test_every_other_task_uses_the_repository_check_and_one_loop_only() -> None:
    specs = demo_task_graph(PYTHON, 2)
    assert [s.name for s in specs if s.check or s.caps.looping] == ["todo-list"]


def lines_changed(choice: AgentChoice, task: str) -> int:
    """What a worker with this choice's seed adds and removes in its first turn on ``task``."""
    seed = int(choice.flags[choice.flags.index("--seed") + 1])
    files: dict[str, str] = {}
    total = 0
    for step in Planner(seed, "worker").next_turn(task).steps:
        if step.kind == "edit":
            files[step.path], added, removed = apply_edit(files.get(step.path, ""), step.path, step)
            total += added + removed
    return total


def test_three_attempts_whose_changes_differ_in_size() -> None:
    cached = {spec.name: spec for spec in demo_task_graph(PYTHON, 2)}["product-cache"]
    assert len(cached.attempts) == len(ATTEMPT_SEEDS) == 3
    assert len({lines_changed(choice, cached.text) for choice in cached.attempts}) == 3


@pytest.mark.parametrize("speed", [0.5, 2, 3.25])
def test_demo_agents_take_their_flags_after_the_demo_kind_command(speed: float) -> None:
    """Every attempt is a demo agent whose flags the agent's own parser accepts."""
    for spec in demo_task_graph(PYTHON, speed):
        for choice in spec.attempts:
            assert choice.kind == "demo" and not choice.model
            assert choice.flags[choice.flags.index("--speed") + 1] == f"{speed:g}"
            with pytest.raises(SystemExit) as stopped:
                demo_agent_main([*choice.flags, "--help"])
            assert stopped.value.code == 0


def edited_paths(behaviour: str, seed: int, task: str) -> set[str]:
    """The files a demo agent's first turn on ``task`` edits (a checklist agent: its list)."""
    if behaviour == "checklist":
        return {"TODO.md"}
    turn = Planner(seed, cast(Behaviour, behaviour)).next_turn(task)
    return {step.path for step in turn.steps if step.kind == "edit"}


def test_no_two_unrelated_tasks_or_demo_agents_edit_the_same_file() -> None:
    """A task that waits on two others starts from both their work merged (a conflict would
    hold it), and a shared file would show as an overlap on unrelated rows."""
    specs = {spec.name: spec for spec in demo_task_graph(PYTHON, 2)}

    def upstream(name: str) -> set[str]:
        return {name}.union(*(upstream(dep) for dep in specs[name].after))

    edits: dict[str, set[str]] = {}
    for spec in specs.values():
        edits[spec.name] = set()
        for choice in spec.attempts:
            flags = dict(zip(choice.flags[::2], choice.flags[1::2], strict=True))
            edits[spec.name] |= edited_paths(flags["--behaviour"], int(flags["--seed"]), spec.text)
    for request in demo_requests(len(DEMO_FLEET), 1):
        parts = shlex.split(request.command or "")
        behaviour, seed = (
            parts[parts.index("--behaviour") + 1],
            int(parts[parts.index("--seed") + 1]),
        )
        edits[f"agent {request.name}"] = edited_paths(behaviour, seed, request.prompt)
    for a, b in itertools.combinations(edits, 2):
        related = a in specs and b in specs and (a in upstream(b) or b in upstream(a))
        if not related:
            assert not edits[a] & edits[b], (a, b, edits[a] & edits[b])
