"""The task commands' arguments: each option of ``task add`` and ``task edit`` reaches the spec,
and every task subcommand has its handler."""

from __future__ import annotations

import argparse
import io

import pytest

from app.cli import build_parser
from app.cli.tasks import TASK_COMMANDS, spec_from_args, task_options
from app.core.errors import UsageError
from app.core.plans import TaskOptions, apply_options
from app.core.tasks import DEFAULT_LOOP_ROUNDS, AgentChoice, Caps, TaskSpec


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["task", *argv])


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["add", "Fix the bug"], TaskSpec("Fix the bug")),
        (
            ["add", "T", "--prompt", "do it: carefully", "--name", "t1", "--base", "develop"],
            TaskSpec("T", prompt="do it: carefully", name="t1", base="develop"),
        ),
        (["add", "T", "--after", "a, b,,3"], TaskSpec("T", after=("a", "b", "3"))),
        (
            ["add", "T", "--until", "pytest -q"],
            TaskSpec("T", check="pytest -q", caps=Caps(rounds=DEFAULT_LOOP_ROUNDS)),
        ),
        (
            ["add", "T", "--until", "make", "--max-rounds", "3", "--max-minutes", "1.5"],
            TaskSpec("T", check="make", caps=Caps(rounds=3, minutes=1.5)),
        ),
        (["add", "T", "--check", "make"], TaskSpec("T", check="make")),
        (["add", "T", "--max-tokens", "900"], TaskSpec("T", caps=Caps(tokens=900))),
        (
            ["add", "T", "--agent", "demo", "--model", "m", "--flags", "--behaviour worker -x"],
            TaskSpec("T", attempts=(AgentChoice("demo", "m", ("--behaviour", "worker", "-x")),)),
        ),
        (["add", "T", "--flags=--fast"], TaskSpec("T", attempts=(AgentChoice(flags=("--fast",)),))),
        (
            ["add", "T", "-a", "claude", "--attempts", "claude,codex:o3"],
            TaskSpec("T", attempts=(AgentChoice("claude"), AgentChoice("codex", "o3"))),
        ),
        (["add", "T", "--attempts", "2"], TaskSpec("T", attempts=(AgentChoice(),) * 2)),
        (["add", "T", "--land", "--needs-landed"], TaskSpec("T", land=True, needs_landed=True)),
        (["add", "T", "--no-land"], TaskSpec("T")),
    ],
)
def test_add_arguments_make_the_spec(argv: list[str], expected: TaskSpec) -> None:
    assert spec_from_args(parse(*argv)) == expected


def test_a_prompt_from_standard_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("line one\nline two\n"))
    assert spec_from_args(parse("add", "T", "--prompt", "-")).prompt == "line one\nline two\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["add", "T", "--flags", "--x 'open"], '--flags "--x \'open": No closing quotation'),
        (["add", "T", "--max-rounds", "0"], "rounds must be at least 1"),
        (["add", "T", "--attempts", "99"], "--attempts 99: between 1 and 20 attempts"),
    ],
)
def test_wrong_add_arguments_are_usage_errors(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError) as exc:
        spec_from_args(parse(*argv))
    assert message in str(exc.value)


def test_until_and_check_together_are_refused_by_the_parser() -> None:
    with pytest.raises(SystemExit):
        parse("add", "T", "--until", "a", "--check", "b")


def test_edit_changes_only_what_is_given() -> None:
    spec = TaskSpec(
        "T",
        prompt="p",
        after=("a",),
        check="make",
        caps=Caps(rounds=4),
        attempts=(AgentChoice("claude"),),
        land=True,
    )
    assert task_options(parse("edit", "t")) == TaskOptions()
    edited = apply_options(
        spec, task_options(parse("edit", "t", "--title", "U", "--after", "", "--no-land"))
    )
    assert edited == TaskSpec(
        "U", prompt="p", check="make", caps=Caps(rounds=4), attempts=(AgentChoice("claude"),)
    )
    edited = apply_options(spec, task_options(parse("edit", "t", "--model", "opus")))
    assert edited.attempts == (AgentChoice("claude", "opus"),) and edited.after == ("a",)


def test_every_task_subcommand_has_its_handler() -> None:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    task = sub.choices["task"]
    (tasks,) = [a for a in task._actions if isinstance(a, argparse._SubParsersAction)]
    assert set(tasks.choices) == set(TASK_COMMANDS)


@pytest.mark.parametrize(
    ("argv", "attrs"),
    [
        (["wait", "--until", "passed"], {"tasks": [], "until": "passed", "timeout": None}),
        (["wait", "a", "3", "--until", "done", "--timeout", "5"], {"tasks": ["a", "3"]}),
        (["land", "api", "--attempt", "2"], {"task": "api", "attempt": 2}),
        (["diff", "api", "1", "2"], {"task": "api", "first": 1, "second": 2}),
        (["import", "plan.md", "--dry-run"], {"file": "plan.md", "dry_run": True}),
        (["ls", "-C", "/r"], {"path": "/r", "json": False}),
        (["show", "3", "--json"], {"task": "3", "json": True}),
    ],
)
def test_the_other_subcommands_arguments(argv: list[str], attrs: dict[str, object]) -> None:
    args = parse(*argv)
    assert {key: getattr(args, key) for key in attrs} == attrs


def test_a_task_subcommand_is_required() -> None:
    with pytest.raises(SystemExit):
        parse()
