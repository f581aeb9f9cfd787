"""Shared test helpers: polling with a deadline, real git repositories, tmux reads."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from app.core.agent import Agent, Checkout, DiffStats, Placement, PromptState, StatusShown
from app.core.checks import CheckSummary
from app.core.status import InputKind, Status

T = TypeVar("T")

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
}


def wait_for(
    predicate: Callable[[], T],
    timeout: float = 10.0,
    interval: float = 0.05,
    what: str | Callable[[], str] = "",
) -> T:
    """Poll ``predicate`` until it returns something truthy; fail with ``what`` at the deadline
    (a callable is asked then, so it can say what the state was)."""
    deadline = time.monotonic() + timeout
    last: T = predicate()
    while not last:
        if time.monotonic() > deadline:
            said = what() if callable(what) else what
            raise AssertionError(f"timed out after {timeout}s waiting for {said or predicate}")
        time.sleep(interval)
        last = predicate()
    return last


def git(cwd: Path, *args: str) -> str:
    """Run git in ``cwd`` and return its stripped output."""
    out = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return out.stdout.strip()


def make_repo(path: Path, *, commit: bool = True) -> Path:
    """A real repository on branch ``main`` with one commit (unless ``commit`` is False)."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    if commit:
        (path / "README.md").write_text("# test repo\n")
        git(path, "add", "README.md")
        git(path, "commit", "-q", "-m", "initial")
    return path


def tmux(socket: str, *args: str) -> str:
    """Run a tmux command on a test server and return its output."""
    out = subprocess.run(["tmux", "-L", socket, *args], check=False, capture_output=True, text=True)
    return out.stdout


def make_agent(
    name: str = "a",
    shown: StatusShown | None = None,
    *,
    agent_id: str = "a1",
    prompt_state: PromptState = PromptState.NONE,
) -> Agent:
    """An agent record for tests of pure rules: a demo agent on ``qd/<name>`` in one pane."""
    return Agent(
        id=agent_id,
        name=name,
        kind="demo",
        command="",
        checkout=Checkout(f"qd/{name}", "main", "abc", "/w"),
        placement=Placement("s", "@1", "%1", 1),
        created_at=0.0,
        shown=shown or StatusShown(Status.STARTING),
        prompt_state=prompt_state,
    )


def sample_agent(check: CheckSummary | None) -> Agent:
    """A Claude agent with every part of its record filled in (waiting on a permission, with
    diff stats, an overlap and the given check)."""
    return Agent(
        id="id1",
        name="api",
        kind="claude",
        command="claude",
        checkout=Checkout("qd/api", "main", "abc123", "/wt/api"),
        placement=Placement("qd-r", "@3", "%7", 4242),
        created_at=100.0,
        prompt="fix it",
        prompt_state=PromptState.DELIVERED,
        started=True,
        shown=StatusShown(
            Status.NEEDS_INPUT,
            InputKind.PERMISSION,
            since=150.5,
            evidence="hook: PermissionRequest Bash",
            question="Run it?",
            options=("Yes", "No"),
            context=("above",),
            detail="Bash: npm test",
            summary="Wants to run npm test",
        ),
        stats=DiffStats(12, 3, 2),
        overlap=("web",),
        check=check,
    )
