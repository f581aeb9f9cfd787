"""Task commands: ``task add``, ``ls``, ``show``, ``edit``, ``start``, ``retry``, ``cancel``,
``land``, ``diff``, ``wait`` and ``import`` (a plan file). What they print is in
`app.cli.task_views`."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli.shared import (
    WAIT_ENDED_EXIT,
    WAIT_ERROR_EXIT,
    WAIT_TIMEOUT_EXIT,
    deliver_first_prompts,
    open_fleet,
    run_until,
)
from app.cli.task_views import (
    describe_spec,
    print_show,
    print_table,
    show_json,
    task_json,
    task_line,
)
from app.core.agent import PromptState
from app.core.errors import AgentNotFoundError, UsageError
from app.core.plans import TaskOptions, apply_options, parse_plan
from app.core.tasks import ATTEMPT_ACTIVE, TASK_FINAL, Task, TaskSpec, TaskState

if TYPE_CHECKING:
    from app.fleet.fleet import Fleet


def task_options(args: argparse.Namespace) -> TaskOptions:
    """The options ``task add`` and ``task edit`` were given (None: not given)."""
    prompt = args.prompt
    if prompt == "-":
        prompt = sys.stdin.read()
    flags = None
    if args.flags is not None:
        try:
            flags = tuple(shlex.split(args.flags))
        except ValueError as exc:
            raise UsageError(f"--flags {args.flags!r}: {exc}") from None
    after = None
    if args.after is not None:
        after = tuple(part.strip() for part in args.after.split(",") if part.strip())
    return TaskOptions(
        title=getattr(args, "title", None),
        prompt=prompt,
        name=args.name,
        after=after,
        until=args.until,
        check=args.check,
        rounds=args.max_rounds,
        minutes=args.max_minutes,
        tokens=args.max_tokens,
        attempts=args.attempts,
        agent=args.kind,
        model=args.model,
        flags=flags,
        base=args.base,
        land=args.land,
        needs_landed=args.needs_landed,
    )


def spec_from_args(args: argparse.Namespace) -> TaskSpec:
    """The spec ``task add`` asks for."""
    return apply_options(TaskSpec(title=args.title), task_options(args))


def _named_after(fleet: Fleet, spec: TaskSpec) -> TaskSpec:
    """``spec`` with the tasks it runs after by name (``--after 3`` names task number 3)."""
    return replace(spec, after=tuple(fleet.task(ref).name for ref in spec.after))


def start_what_may(fleet: Fleet, names: Sequence[str], wait: bool) -> list[Task]:
    """Run the engine once so that what may start starts now, then (unless ``wait`` is False)
    wait like ``new`` does for the started agents' first prompts; the named tasks as they are
    then."""
    run_until(fleet, lambda: True, 0)
    tasks = [fleet.task(name) for name in names]
    if wait:
        pending = []
        for task in tasks:
            for attempt in task.attempts:
                if attempt.state not in ATTEMPT_ACTIVE or not attempt.agent_name:
                    continue
                try:
                    agent = fleet.get(attempt.agent_name)
                except AgentNotFoundError:
                    continue
                if agent.prompt_state is PromptState.PENDING:
                    pending.append(agent.name)
        if pending:
            deliver_first_prompts(fleet, pending)
            tasks = [fleet.task(name) for name in names]
    return tasks


def cmd_task_add(args: argparse.Namespace) -> int:
    """``quarterdeck task add TITLE [options]``."""
    fleet = open_fleet(args.path)
    (task,) = fleet.add_tasks([_named_after(fleet, spec_from_args(args))])
    if args.start_now:
        fleet.start_task(task.name)
    (task,) = start_what_may(fleet, [task.name], not args.no_wait)
    if args.json:
        print(json.dumps(task_json(task, fleet.settings.default_agent), indent=2))
    else:
        print(f"added {task_line(task)}")
    return 0


def cmd_task_import(args: argparse.Namespace) -> int:
    """``quarterdeck task import FILE [--dry-run]``."""
    fleet = open_fleet(args.path)
    if args.file == "-":
        text = sys.stdin.read()
    else:
        try:
            text = Path(args.file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read the plan {args.file}: {exc}") from None
    specs = parse_plan(text, args.file, [t.name for t in fleet.tasks()])
    if args.dry_run:
        for spec in specs:
            print(f"would add {spec.name}: {spec.title}")
            details = describe_spec(spec, fleet.settings.default_agent)
            if details:
                print(f"    {details}")
        print(f"{len(specs)} task{'s' if len(specs) != 1 else ''}; nothing was added (--dry-run)")
        return 0
    added = fleet.add_tasks(specs)
    for task in start_what_may(fleet, [t.name for t in added], not args.no_wait):
        print(f"added {task_line(task)}")
    return 0


def cmd_task_ls(args: argparse.Namespace) -> int:
    """``quarterdeck task ls [--json]``: states refreshed by one tick unless a dashboard
    tracks them."""
    fleet = open_fleet(args.path)
    run_until(fleet, lambda: True, 0)
    tasks = fleet.tasks()
    if args.json:
        kind = fleet.settings.default_agent
        print(json.dumps([task_json(t, kind) for t in tasks], indent=2, ensure_ascii=False))
        return 0
    if not tasks:
        print('no tasks; add one with: quarterdeck task add "TITLE" --until "CHECK"')
        return 0
    print_table(tasks, fleet.max_running)
    return 0


def cmd_task_show(args: argparse.Namespace) -> int:
    """``quarterdeck task show T [--json]``."""
    fleet = open_fleet(args.path)
    task = fleet.task(args.task)
    history = fleet.task_history(args.task)
    kind = fleet.settings.default_agent
    if args.json:
        print(json.dumps(show_json(task, history, kind), indent=2, ensure_ascii=False))
    else:
        print_show(task, history, kind)
    return 0


def cmd_task_edit(args: argparse.Namespace) -> int:
    """``quarterdeck task edit T [options]``: only a task that has not started."""
    fleet = open_fleet(args.path)
    task = fleet.task(args.task)
    if args.name is not None and args.name != task.name:
        raise UsageError(f"task edit cannot rename {task.name!r}; add a task of that name instead")
    spec = _named_after(fleet, apply_options(task.spec, task_options(args)))
    edited = fleet.edit_task(args.task, spec)
    (edited,) = start_what_may(fleet, [edited.name], not args.no_wait)
    print(f"edited {task_line(edited)}")
    return 0


def _act(
    name: str, verb: str, do: Callable[[Fleet, str], Task], *, starts: bool
) -> Callable[[argparse.Namespace], int]:
    """``quarterdeck task NAME T``: ``do`` it, start what may start when it ``starts``, and
    print the task's line."""

    def command(args: argparse.Namespace) -> int:
        fleet = open_fleet(args.path)
        task = do(fleet, args.task)
        if starts:
            (task,) = start_what_may(fleet, [task.name], not args.no_wait)
        print(f"{verb} {task_line(task)}")
        return 0

    command.__doc__ = f"``quarterdeck task {name} T``."
    return command


cmd_task_start = _act("start", "started", lambda fleet, ref: fleet.start_task(ref), starts=True)
cmd_task_retry = _act("retry", "retried", lambda fleet, ref: fleet.retry_task(ref), starts=True)
cmd_task_cancel = _act(
    "cancel", "cancelled", lambda fleet, ref: fleet.cancel_task(ref), starts=False
)


def cmd_task_land(args: argparse.Namespace) -> int:
    """``quarterdeck task land T [--attempt N]``."""
    fleet = open_fleet(args.path)
    print(fleet.land_task(args.task, args.attempt))
    return 0


def cmd_task_diff(args: argparse.Namespace) -> int:
    """``quarterdeck task diff T A B``: attempt A's branch against attempt B's."""
    fleet = open_fleet(args.path)
    print(fleet.compare_attempts(args.task, args.first, args.second), end="")
    return 0


def cmd_task_wait(args: argparse.Namespace) -> int:
    """``quarterdeck task wait [T ...] --until passed|done [--timeout S]``: exit 0 when every
    task reached it, 3 on timeout; waiting for ``passed``, 5 at once when one failed and 4 when
    one was cancelled or is held; waiting for ``done``, 4 once every task is done or held (a
    held task is done only when the human acts)."""
    fleet = open_fleet(args.path)
    names = [fleet.task(ref).name for ref in args.tasks] or [t.name for t in fleet.tasks()]
    wanted = {TaskState.PASSED, TaskState.LANDED} if args.until == "passed" else TASK_FINAL
    now: dict[str, Task] = {}

    def look() -> bool:
        now.clear()
        now.update((t.name, t) for t in fleet.tasks() if t.name in names)
        if all(t.state in wanted or (args.until == "done" and _held(t)) for t in now.values()):
            return True
        return args.until == "passed" and any(_stuck(t) for t in now.values())

    if not names:
        print("no tasks to wait for")
        return 0
    if not run_until(fleet, look, args.timeout):
        for task in now.values():
            late = task.state not in wanted
            print(task_line(task, "is still" if late else "is"), file=sys.stderr if late else None)
        return WAIT_TIMEOUT_EXIT
    stuck = [t for t in now.values() if t.state not in wanted and _stuck(t)]
    for task in now.values():
        print(task_line(task, "is"), file=sys.stderr if task in stuck else None)
    if not stuck:
        return 0
    failed = any(t.state is TaskState.FAILED for t in stuck)
    return WAIT_ERROR_EXIT if failed else WAIT_ENDED_EXIT


def _held(task: Task) -> bool:
    """Blocked by a dependency that failed or was cancelled, until the human acts."""
    return task.state is TaskState.BLOCKED and task.reason.startswith("held:")


def _stuck(task: Task) -> bool:
    """A task that will not pass unless the human acts: failed, cancelled or held."""
    return task.state in (TaskState.FAILED, TaskState.CANCELLED) or _held(task)


TASK_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "add": cmd_task_add,
    "ls": cmd_task_ls,
    "show": cmd_task_show,
    "edit": cmd_task_edit,
    "start": cmd_task_start,
    "retry": cmd_task_retry,
    "cancel": cmd_task_cancel,
    "land": cmd_task_land,
    "diff": cmd_task_diff,
    "wait": cmd_task_wait,
    "import": cmd_task_import,
}


def cmd_task(args: argparse.Namespace) -> int:
    """``quarterdeck task SUBCOMMAND``."""
    return TASK_COMMANDS[args.task_command](args)
