"""The scheduler's table: given the graph, the cap and what attempts did, what starts, what is
blocked or held and why; the state attempts give a task; the graph's validation."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.core.errors import UsageError
from app.core.scheduler import dependency_branches, schedule, task_state
from app.core.tasks import (
    AgentChoice,
    Attempt,
    AttemptState,
    Round,
    Task,
    TaskSpec,
    TaskState,
    find_cycle,
    name_tasks,
    parse_attempts,
    rank_attempts,
    validate_graph,
)

A = AttemptState


def task(
    n: int,
    name: str,
    *after: str,
    state: TaskState = TaskState.QUEUED,
    attempts: tuple[AttemptState, ...] = (A.WAITING,),
    reason: str = "",
    needs_landed: bool = False,
    land: bool = False,
    start_now: bool = False,
) -> Task:
    spec = TaskSpec(
        name.title(),
        name=name,
        after=after,
        needs_landed=needs_landed,
        land=land,
        attempts=tuple(AgentChoice() for _ in attempts),
    )
    made = tuple(
        Attempt(i, state=s, branch=f"qd/{name}-{i}" if s is not A.WAITING else "")
        for i, s in enumerate(attempts, 1)
    )
    return Task(n, name, spec, state=state, reason=reason, attempts=made, start_now=start_now)


PASSED = {"state": TaskState.PASSED, "attempts": (A.PASSED,)}
RUNNING = {"state": TaskState.RUNNING, "attempts": (A.RUNNING,)}
FAILED = {"state": TaskState.FAILED, "attempts": (A.FAILED,)}


@pytest.mark.parametrize(
    ("graph", "cap", "starts", "waiting"),
    [
        pytest.param(
            [task(1, "a"), task(2, "b")], 4, [("a", 1), ("b", 1)], {}, id="free tasks start"
        ),
        pytest.param(
            [task(1, "a"), task(2, "b"), task(3, "c")],
            2,
            [("a", 1), ("b", 1)],
            {"c": (TaskState.QUEUED, "waits for a free slot (2 of 2 running)")},
            id="the cap holds the newest",
        ),
        pytest.param(
            [task(1, "a", **RUNNING), task(2, "b"), task(3, "c", start_now=True)],
            1,
            [("c", 1)],
            {"b": (TaskState.QUEUED, "waits for a free slot (1 of 1 running)")},
            id="start now goes over the cap",
        ),
        pytest.param(
            [task(1, "a", **RUNNING), task(2, "b", "a")],
            4,
            [],
            {"b": (TaskState.BLOCKED, "waits on a running")},
            id="a chain waits",
        ),
        pytest.param(
            [task(1, "a", **PASSED), task(2, "b", "a")], 4, [("b", 1)], {}, id="passed unblocks"
        ),
        pytest.param(
            [task(1, "a", **PASSED), task(2, "b", "a", needs_landed=True)],
            4,
            [],
            {"b": (TaskState.BLOCKED, "waits on a passed, not landed yet")},
            id="needs landed",
        ),
        pytest.param(
            [task(1, "a", land=True, **PASSED), task(2, "b", "a")],
            4,
            [],
            {"b": (TaskState.BLOCKED, "waits on a passed, not landed yet")},
            id="a dependency that lands by itself is waited for",
        ),
        pytest.param(
            [
                task(1, "a", state=TaskState.LANDED, attempts=(A.KEPT,)),
                task(2, "b", "a", needs_landed=True),
            ],
            4,
            [("b", 1)],
            {},
            id="landed unblocks",
        ),
        pytest.param(
            [task(1, "a", **FAILED), task(2, "b", "a")],
            4,
            [],
            {"b": (TaskState.BLOCKED, "held: a failed")},
            id="a failed dependency holds",
        ),
        pytest.param(
            [
                task(1, "a", **FAILED),
                task(2, "b", "a", state=TaskState.BLOCKED, reason="held: a failed"),
                task(3, "c", "b"),
            ],
            4,
            [],
            {
                "b": (TaskState.BLOCKED, "held: a failed"),
                "c": (TaskState.BLOCKED, "held: b is held (a failed)"),
            },
            id="holding passes down the chain",
        ),
        pytest.param(
            [task(1, "a", **PASSED), task(2, "b", **RUNNING), task(3, "c", "a", "b")],
            4,
            [],
            {"c": (TaskState.BLOCKED, "waits on b running")},
            id="a fan-in waits for all",
        ),
        pytest.param(
            [
                task(1, "a", state=TaskState.PASSED, attempts=(A.PASSED, A.FAILED)),
                task(2, "b", "a"),
            ],
            4,
            [],
            {"b": (TaskState.BLOCKED, "waits on a passed: keep one of its attempts")},
            id="several attempts: one must be kept",
        ),
        pytest.param(
            [task(1, "a", attempts=(A.WAITING, A.WAITING, A.WAITING))],
            2,
            [("a", 1), ("a", 2)],
            {},
            id="attempts count against the cap one by one",
        ),
        pytest.param(
            [task(1, "a", state=TaskState.CANCELLED, attempts=(A.CANCELLED,)), task(2, "b", "a")],
            4,
            [],
            {"b": (TaskState.BLOCKED, "held: a cancelled")},
            id="a cancelled dependency holds",
        ),
    ],
)
def test_schedule(
    graph: list[Task],
    cap: int,
    starts: list[tuple[str, int]],
    waiting: dict[str, tuple[TaskState, str]],
) -> None:
    decided = schedule(graph, cap)
    assert list(decided.starts) == starts
    assert dict(decided.waiting) == waiting


def test_a_cancelled_task_never_starts() -> None:
    cancelled = replace(task(1, "a"), cancelled=True)
    assert schedule([cancelled], 4).starts == ()


@pytest.mark.parametrize(
    ("attempts", "expected"),
    [
        ((A.WAITING,), None),
        ((A.STARTING,), TaskState.RUNNING),
        ((A.RUNNING, A.NEEDS_INPUT), TaskState.NEEDS_INPUT),
        ((A.CHECKING, A.RUNNING), TaskState.CHECKING),
        ((A.PASSED, A.WAITING), TaskState.RUNNING),
        ((A.PASSED,), TaskState.PASSED),
        ((A.FAILED, A.PASSED), TaskState.PASSED),
        ((A.FAILED, A.FAILED), TaskState.FAILED),
        ((A.DISCARDED, A.KEPT), TaskState.LANDED),
    ],
)
def test_task_state_from_attempts(
    attempts: tuple[AttemptState, ...], expected: TaskState | None
) -> None:
    found = task_state(task(1, "a", attempts=attempts))
    assert (found[0] if found else None) == expected


def test_a_failed_task_says_why_and_several_passed_ask_for_a_choice() -> None:
    failed = task(1, "a", attempts=(A.FAILED,))
    failed = failed.with_attempt(replace(failed.attempts[0], reason="stopped at the cap"))
    assert task_state(failed) == (TaskState.FAILED, "stopped at the cap")
    both = task(1, "a", attempts=(A.PASSED, A.PASSED, A.FAILED))
    assert task_state(both) == (TaskState.PASSED, "2 of 3 attempts passed: keep one")


def test_dependency_branches_are_the_unlanded_passed_work() -> None:
    graph = [
        task(1, "a", **PASSED),
        task(2, "b", state=TaskState.LANDED, attempts=(A.KEPT,)),
        task(3, "c", state=TaskState.PASSED, attempts=(A.FAILED, A.PASSED)),
        task(4, "d", "a", "b", "c"),
    ]
    assert dependency_branches(graph[3], graph) == ["qd/a-1", "qd/c-2"]


@pytest.mark.parametrize(
    ("graph", "cycle"),
    [
        ({"a": (), "b": ("a",)}, None),
        ({"a": ("b",), "b": ("a",)}, ["a", "b", "a"]),
        ({"a": ("b",), "b": ("c",), "c": ("a",), "d": ()}, ["a", "b", "c", "a"]),
        ({"a": ("b", "c"), "b": ("d",), "c": ("d",), "d": ()}, None),
        ({"x": ("y",), "y": ("z",), "z": ("y",)}, ["y", "z", "y"]),
    ],
)
def test_find_cycle(graph: dict[str, tuple[str, ...]], cycle: list[str] | None) -> None:
    assert find_cycle(graph) == cycle


def test_validate_graph_names_the_problem() -> None:
    existing = [task(1, "a")]
    validate_graph({"b": TaskSpec("B", after=("a",))}, existing)
    with pytest.raises(UsageError, match=r"waits on 'c', which is not a task \(a\)"):
        validate_graph({"b": TaskSpec("B", after=("c",))}, existing)
    with pytest.raises(UsageError, match="cannot wait on itself"):
        validate_graph({"b": TaskSpec("B", after=("b",))}, existing)
    with pytest.raises(UsageError, match="dependency cycle: b → c → b"):
        validate_graph(
            {"b": TaskSpec("B", after=("c",)), "c": TaskSpec("C", after=("b",))}, existing
        )
    with pytest.raises(UsageError, match="cannot land by itself"):
        validate_graph({"b": TaskSpec("B", land=True, attempts=parse_attempts("2"))}, existing)
    with pytest.raises(UsageError, match="needs a title"):
        validate_graph({"b": TaskSpec("  ")}, existing)


def test_names_are_unique_slugs_or_the_ones_given() -> None:
    specs = [TaskSpec("Fix the login"), TaskSpec("Fix the login"), TaskSpec("x", name="mine")]
    assert name_tasks(specs, ["fix-login"]) == ["fix-login-2", "fix-login-3", "mine"]
    with pytest.raises(UsageError, match="already exists"):
        name_tasks([TaskSpec("x", name="mine")], ["mine"])
    with pytest.raises(UsageError, match="invalid agent name"):
        name_tasks([TaskSpec("x", name="no spaces")], [])


def test_parse_attempts() -> None:
    base = AgentChoice(kind="claude")
    assert parse_attempts("3", base) == (base, base, base)
    assert parse_attempts("claude,codex:o3, gemini") == (
        AgentChoice("claude"),
        AgentChoice("codex", "o3"),
        AgentChoice("gemini"),
    )
    assert parse_attempts("") == (AgentChoice(),)
    for bad in ("0", "21", "claude,,codex"):
        with pytest.raises(UsageError):
            parse_attempts(bad)


def _finished(number: int, passed: bool, lines: int, files: int, secs: float) -> Attempt:
    state = A.PASSED if passed else A.FAILED
    last = Round(
        1, 100.0, 100.0 + secs, "passed" if passed else "failed", 1.0, 0, "", lines, 0, files
    )
    return Attempt(number, state=state, started_at=100.0, ended_at=100.0 + secs, rounds=(last,))


def test_attempts_rank_passed_first_then_the_smallest_change() -> None:
    big = _finished(1, True, 1000, 12, 30)
    small = _finished(2, True, 100, 3, 60)
    failed = _finished(3, False, 10, 1, 10)
    small_more_files = _finished(4, True, 100, 5, 20)
    not_started = Attempt(5)
    ranked = rank_attempts([big, small, failed, small_more_files, not_started])
    assert [a.number for a in ranked] == [2, 4, 1, 3, 5]
