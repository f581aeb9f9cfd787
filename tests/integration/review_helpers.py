"""What the review's integration tests share: agents with worktrees, commits, and a look at a
worktree that must not change."""

from __future__ import annotations

import json
import time
from pathlib import Path

from app.core.agent import SpawnRequest
from app.core.checks import CheckResult, CheckState
from app.fleet.fleet import Fleet
from tests.helpers import git, wait_for


def spawn(fleet: Fleet, name: str, base: str | None = None, prompt: str = "") -> Path:
    """A shell agent (it does nothing by itself) with its own worktree and branch."""
    fleet.spawn(SpawnRequest(prompt=prompt, kind="shell", name=name, base=base))
    return Path(fleet.get(name).checkout.worktree)


def commit(worktree: Path, path: str, text: str, message: str) -> str:
    """Write a file and commit it; the new commit."""
    target = worktree / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    git(worktree, "add", "--", path)
    git(worktree, "commit", "-q", "-m", message)
    return git(worktree, "rev-parse", "HEAD")


def look(worktree: Path) -> dict[str, object]:
    """Everything looking must not change in a worktree: its status, index (bytes and
    modification time), HEAD, and every file's bytes."""
    gitdir = Path(git(worktree, "rev-parse", "--absolute-git-dir"))
    index = gitdir / "index"
    files = {
        str(p.relative_to(worktree)): p.read_bytes()
        for p in sorted(worktree.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(worktree).parts
    }
    return {
        "status": git(worktree, "--no-optional-locks", "status", "--porcelain", "-uall"),
        "index": index.read_bytes() if index.exists() else b"",
        "index_mtime": index.stat().st_mtime_ns if index.exists() else 0,
        "head": git(worktree, "rev-parse", "HEAD"),
        "files": files,
    }


def advance(repo: Path, branch: str, path: str, text: str, message: str, where: Path) -> str:
    """Commit on ``branch`` in a throw-away worktree (the main one is never touched)."""
    git(repo, "worktree", "add", "-q", str(where), branch)
    try:
        return commit(where, path, text, message)
    finally:
        git(repo, "worktree", "remove", "--force", str(where))


def ended(pid: int) -> bool:
    """The process has exited (a zombie waiting for its new parent to reap it counts)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rfind(")") + 2 :].split()[0] in ("Z", "X")


def settled(calls: list[tuple[str, ...]], window: float = 0.5) -> None:
    """Wait until no git command has started for ``window`` seconds (the last edit's events
    have been looked at)."""
    seen = [len(calls), time.monotonic()]

    def still() -> bool:
        if len(calls) != seen[0]:
            seen[:] = [len(calls), time.monotonic()]
        return time.monotonic() - seen[1] >= window

    wait_for(still, timeout=10, what="git to go quiet")


def set_check(repo: Path, command: str) -> None:
    """Set the repository's check command."""
    (repo / ".quarterdeck.toml").write_text(f"check = {json.dumps(command)}\n")


def latest(fleet: Fleet, name: str) -> CheckResult:
    """The agent's latest check (there must be one)."""
    result = fleet.check(name)
    assert result is not None, f"no check for {name}"
    return result


def run_check(fleet: Fleet, name: str) -> CheckState:
    """Run the agent's check to its end; how it ended."""
    fleet.run_check(name)
    wait_for(lambda: latest(fleet, name).final, what="the check to end")
    return latest(fleet, name).state
