"""The demo's tasks in a real demo repository: its checks, and the task runner carrying the
looping task out with real demo agents in a private tmux server."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

from app.core.tasks import TaskState
from app.demo.script import Planner, apply_edit, tick_checklist
from app.fleet.demo import DEMO_CHECK, TODO_CHECK, create_demo_repository
from app.fleet.demo_tasks import demo_task_graph
from app.fleet.engine import Engine
from app.fleet.fleet import Fleet
from tests.helpers import git

PYTHON = shlex.quote(sys.executable)


def run_check(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """A check as Quarterdeck runs it: ``sh -c`` in the worktree."""
    return subprocess.run(
        ["sh", "-c", command.format(python=PYTHON)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_todo_check_lists_what_is_left_until_every_item_is_ticked(tmp_path: Path) -> None:
    root = create_demo_repository(tmp_path)
    said = []
    for _ in range(3):
        done = run_check(TODO_CHECK, root)
        assert done.returncode == 1
        said.append(done.stdout.strip())
        ticked = tick_checklist((root / "TODO.md").read_text())
        assert ticked is not None
        (root / "TODO.md").write_text(ticked[0])
    assert said == [
        "3 of 3 items left: Add a health-check endpoint; Log slow database queries; "
        "Remove the old cart code",
        "2 of 3 items left: Log slow database queries; Remove the old cart code",
        "1 of 3 items left: Remove the old cart code",
    ]
    done = run_check(TODO_CHECK, root)
    assert (done.returncode, done.stdout.strip()) == (0, "all 3 items done")
    assert tick_checklist((root / "TODO.md").read_text()) is None
    # The check wrote nothing: only the ticks changed the worktree.
    assert git(root, "status", "--porcelain") == "M TODO.md"


def test_the_worker_tasks_edits_keep_the_repository_check_passing(tmp_path: Path) -> None:
    root = create_demo_repository(tmp_path)
    for spec in demo_task_graph(sys.executable, 2):
        for choice in spec.attempts:
            flags = dict(zip(choice.flags[::2], choice.flags[1::2], strict=True))
            if flags["--behaviour"] != "worker":
                continue
            for step in Planner(int(flags["--seed"]), "worker").next_turn(spec.text).steps:
                if step.kind == "edit":
                    path = root / step.path
                    old = path.read_text() if path.exists() else ""
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(apply_edit(old, step.path, step)[0])
    changed = git(root, "status", "--porcelain", "--untracked-files=all").splitlines()
    assert len(changed) >= 8 and all(line.startswith("?? ") for line in changed)
    done = run_check(DEMO_CHECK, root)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().endswith("OK")
    assert git(root, "status", "--porcelain", "--untracked-files=all").splitlines() == changed


def test_the_looping_demo_task_passes_on_round_three(tmp_path: Path) -> None:
    """The runner, a real demo repository and checklist agents in a private tmux server: each
    round's fresh agent ticks one item, the TODO check fails twice, then passes."""
    root = create_demo_repository(tmp_path)
    (todo,) = [s for s in demo_task_graph(sys.executable, 8) if s.name == "todo-list"]
    fleet = Fleet.open(root)
    fleet.add_tasks([todo])
    final = {TaskState.PASSED, TaskState.FAILED, TaskState.LANDED, TaskState.CANCELLED}
    done = Engine(fleet).run_until(lambda: fleet.task("todo-list").state in final, 180)
    task = fleet.task("todo-list")
    assert done and task.state is TaskState.PASSED, (task.state, task.reason)
    (attempt,) = task.attempts
    assert [r.check for r in attempt.rounds] == ["failed", "failed", "passed"]
    assert [r.check_tail.strip().splitlines()[-1] for r in attempt.rounds] == [
        "2 of 3 items left: Log slow database queries; Remove the old cart code",
        "1 of 3 items left: Remove the old cart code",
        "all 3 items done",
    ]
    assert [(r.added, r.removed, r.files) for r in attempt.rounds] == [
        (1, 1, 1),
        (2, 2, 1),
        (3, 3, 1),
    ]
    # The last round's agent was told what the check said after round 2.
    assert "1 of 3 items left" in fleet.get(attempt.agent_name).prompt
    ticked = git(root, "show", f"{attempt.branch}:TODO.md")
    assert "[ ]" not in ticked and ticked.count("- [x] ") == 3
    messages = git(root, "log", "--format=%s", f"main..{attempt.branch}").splitlines()
    assert sum(m.startswith("docs: tick off ") for m in messages) == 3
    # The worktree holds no file the check wrote.
    assert git(Path(attempt.worktree), "status", "--porcelain", "--ignored") == ""
