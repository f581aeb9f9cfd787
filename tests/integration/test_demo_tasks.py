"""The demo's tasks in a real demo repository: its checks, and the task runner carrying the
looping task out with real demo agents in a private tmux server."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

from app.demo.script import Planner, apply_edit, tick_checklist
from app.fleet.demo import DEMO_CHECK, TODO_CHECK, create_demo_repository
from app.fleet.demo_tasks import demo_task_graph
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
