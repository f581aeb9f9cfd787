"""The demo's task graph: valid, and showing a chain, a fan-in, a loop and compared attempts."""

from __future__ import annotations

import shlex

import pytest

from app.core.tasks import (
    AgentChoice,
    Attempt,
    Task,
    TaskState,
    name_tasks,
    schedule,
    validate_graph,
)
from app.demo.agent import main as demo_agent_main
from app.demo.script import Planner, apply_edit
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
    assert started == {"users-table", "todo-list", "price-format", "sales-tax", "csv-export"}
    assert [n for name, n in plan.starts if name == "csv-export"] == [1, 2, 3]
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
    csv = {spec.name: spec for spec in demo_task_graph(PYTHON, 2)}["csv-export"]
    assert len(csv.attempts) == len(ATTEMPT_SEEDS) == 3
    assert len({lines_changed(choice, csv.text) for choice in csv.attempts}) == 3


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
