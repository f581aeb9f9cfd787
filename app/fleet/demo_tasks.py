"""The demo's task graph: tasks that start, wait on each other, loop and compare attempts, all
carried out by demo agents in the demo repository (`app.fleet.demo`), offline."""

from __future__ import annotations

import shlex

from app.core.tasks import AgentChoice, Caps, TaskSpec
from app.fleet.demo import TODO_CHECK

#: Rounds the looping task may take; its checklist needs three.
TODO_ROUNDS = 5
#: The seeds of the compared task's three attempts: changes of 8, 16 and 3 lines.
#: (Every task's title names files no other task, nor a demo agent, edits: only a dependent,
#: which starts from its dependencies' work, shares theirs.)
ATTEMPT_SEEDS = (2, 3, 6)


def demo_agent(behaviour: str, seed: int, speed: float) -> AgentChoice:
    """A demo agent of ``behaviour`` for a task: its flags follow the demo kind's command."""
    flags = ("--behaviour", behaviour, "--speed", f"{speed:g}", "--seed", str(seed))
    return AgentChoice(kind="demo", flags=flags)


def demo_task_graph(python: str, speed: float) -> list[TaskSpec]:
    """The demo's tasks, oldest first: a chain of three, two tasks and one that waits on both,
    a task that loops on the repository's TODO check until round 3 ticks its last item, and
    one task tried three times with changes of different sizes.

    Tasks without a check of their own are checked with the repository's (its unit tests,
    which the worker's edits leave passing). ``python`` runs the TODO check.
    """

    def worker(seed: int) -> tuple[AgentChoice, ...]:
        return (demo_agent("worker", seed, speed),)

    return [
        TaskSpec("Add the users table", name="users-table", attempts=worker(3)),
        TaskSpec(
            "Add the signup endpoint",
            name="signup-endpoint",
            attempts=worker(5),
            after=("users-table",),
        ),
        TaskSpec(
            "Describe the signup API in the docs",
            name="signup-docs",
            attempts=worker(1),
            after=("signup-endpoint",),
        ),
        TaskSpec(
            "Tick off the TODO list",
            name="todo-list",
            prompt="Tick off the next unchecked item of TODO.md, then commit.",
            attempts=(demo_agent("checklist", 4, speed),),
            check=TODO_CHECK.format(python=shlex.quote(python)),
            caps=Caps(rounds=TODO_ROUNDS),
        ),
        TaskSpec("Format prices in euros", name="price-format", attempts=worker(2)),
        TaskSpec("Compute the sales tax", name="sales-tax", attempts=worker(6)),
        TaskSpec(
            "Show the total with tax at checkout",
            name="checkout-total",
            attempts=worker(5),
            after=("price-format", "sales-tax"),
        ),
        TaskSpec(
            "Cache the product search",
            name="product-cache",
            attempts=tuple(demo_agent("worker", seed, speed) for seed in ATTEMPT_SEEDS),
        ),
    ]
