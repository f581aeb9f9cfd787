"""The fleet against a real tmux server and real git repositories."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from app.core.agent import PromptState, SpawnRequest
from app.core.errors import (
    NotARepositoryError,
    ToolMissingError,
    UnsafeRemovalError,
    UsageError,
)
from app.core.status import Status
from app.fleet.fleet import Fleet
from app.infra.procs import agent_processes
from tests.helpers import git, make_repo, tmux, wait_for


def shell(fleet: Fleet, prompt: str, name: str) -> None:
    fleet.spawn(SpawnRequest(prompt=prompt, kind="shell", name=name))


def status_of(fleet: Fleet, name: str) -> Status:
    fleet.sweep(deliver=True)
    return fleet.get(name).shown.status


def test_spawn_gives_each_agent_a_branch_worktree_window_and_id(
    repo: Path, tmux_socket: str
) -> None:
    fleet = Fleet.open(repo)
    shell(fleet, 'echo "id=$QUARTERDECK_AGENT_ID" > marker.txt', "one")
    agent = fleet.get("one")
    worktree = Path(agent.checkout.worktree)
    assert worktree.is_dir() and not worktree.is_relative_to(repo)
    assert git(worktree, "branch", "--show-current") == "qd/one"
    assert agent.checkout.base == "main" and agent.checkout.base_commit == git(
        repo, "rev-parse", "main"
    )
    windows = tmux(
        tmux_socket, "list-windows", "-t", fleet.session, "-F", "#{window_id} #{window_name}"
    )
    assert f"{agent.placement.window_id} one" in windows
    # The prompt is typed once the shell is ready, and the agent id is in its environment.
    marker = worktree / "marker.txt"
    wait_for(lambda: (fleet.sweep(deliver=True), marker.exists())[1], what="prompt delivered")
    wait_for(lambda: marker.read_text().strip() == f"id={agent.id}", what="marker written")
    assert wait_for(lambda: fleet.get("one").prompt_state is PromptState.DELIVERED)


def test_count_names_and_status_line(repo: Path, tmux_socket: str) -> None:
    fleet = Fleet.open(repo)
    agents = fleet.spawn(SpawnRequest(prompt="Fix the login bug", kind="shell", count=3))
    assert [a.name for a in agents] == ["fix-login-bug-1", "fix-login-bug-2", "fix-login-bug-3"]
    wait_for(lambda: all(status_of(fleet, a.name) is Status.IDLE for a in agents))
    line = tmux(tmux_socket, "show-options", "-v", "-t", fleet.session, "@qd_summary")
    assert line.strip().startswith("3 agents")


def refused(
    fleet: Fleet, repo: Path, tmux_socket: str, request: SpawnRequest, error: type, match: str
) -> None:
    branches = git(repo, "branch", "--list")
    worktrees = git(repo, "worktree", "list")
    with pytest.raises(error, match=match):
        fleet.spawn(request)
    assert git(repo, "branch", "--list") == branches
    assert git(repo, "worktree", "list") == worktrees
    assert fleet.store.names() == []
    windows = tmux(tmux_socket, "list-windows", "-a", "-F", "#{window_name}").split()
    assert windows in ([], ["dashboard"])


@pytest.mark.parametrize(
    ("request_", "error", "match"),
    [
        (
            SpawnRequest("x", kind="nope"),
            UsageError,
            "unknown agent kind 'nope'; known kinds: aider",
        ),
        (
            SpawnRequest("x", kind="shell", base="no-such-branch"),
            UsageError,
            "base 'no-such-branch' does not exist",
        ),
        (
            SpawnRequest("x", kind="shell", name="my agent"),
            UsageError,
            "invalid agent name 'my agent'",
        ),
        (SpawnRequest("x", kind="shell", name="café"), UsageError, "invalid agent name"),
        (SpawnRequest("x", kind="shell", name="feat/x"), UsageError, "invalid agent name"),
        (SpawnRequest("x", kind="shell", count=0), UsageError, "--count"),
        (
            SpawnRequest("x", kind="claude"),
            ToolMissingError,
            "needs 'claude', which is not installed",
        ),
        (
            SpawnRequest("x", kind="shell", command="no-such-agent-cli --go"),
            ToolMissingError,
            "no-such-agent-cli",
        ),
    ],
)
def test_bad_requests_are_refused_and_leave_nothing(
    repo: Path, tmux_socket: str, request_: SpawnRequest, error: type, match: str
) -> None:
    refused(Fleet.open(repo), repo, tmux_socket, request_, error, match)


def test_existing_worktree_directory_or_branch_is_refused(repo: Path, tmux_socket: str) -> None:
    fleet = Fleet.open(repo)
    (fleet.worktree_root / "taken").mkdir(parents=True)
    refused(
        fleet,
        repo,
        tmux_socket,
        SpawnRequest("x", kind="shell", name="taken"),
        UsageError,
        "worktree directory .* already exists",
    )
    git(repo, "branch", "qd/mine")
    with pytest.raises(UsageError, match="branch 'qd/mine' already exists"):
        fleet.spawn(SpawnRequest("x", kind="shell", name="mine"))


def test_not_a_repository_and_no_commits(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(NotARepositoryError, match="not inside a git repository"):
        Fleet.open(plain)
    empty = make_repo(tmp_path / "empty", commit=False)
    with pytest.raises(NotARepositoryError, match="has no commits yet"):
        Fleet.open(empty)


def test_tmux_missing(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    git_dir = Path(
        subprocess.run(["which", "git"], capture_output=True, text=True).stdout.strip()
    ).parent
    bin_dir = repo.parent / "bin"
    bin_dir.mkdir()
    os.symlink(git_dir / "git", bin_dir / "git")
    monkeypatch.setenv("PATH", str(bin_dir))
    with pytest.raises(ToolMissingError, match="tmux is not installed"):
        Fleet.open(repo)


def test_stop_ends_the_whole_process_tree(repo: Path) -> None:
    fleet = Fleet.open(repo)
    # A child that ignores SIGHUP and SIGTERM, and a grandchild: the tree must still end.
    shell(fleet, "(trap '' HUP TERM; sleep 300) & sleep 301 & wait", "busy")
    agent = fleet.get("busy")

    def tree() -> set[int]:
        fleet.sweep(deliver=True)
        pids = agent_processes(agent.placement.pane_pid, agent.id)
        return pids if len(pids) >= 3 else set()  # the shell, sleep 300 (signals ignored), 301

    pids = wait_for(tree, what="the agent's process tree")
    fleet.stop("busy")
    assert not [
        p
        for p in pids
        if Path(f"/proc/{p}").exists() and Path(f"/proc/{p}/stat").read_text().split()[2] != "Z"
    ]
    assert fleet.get("busy").shown.status is Status.EXITED
    assert status_of(fleet, "busy") is Status.EXITED


def test_remove_refuses_to_lose_work_and_keeps_an_archive(repo: Path, tmux_socket: str) -> None:
    fleet = Fleet.open(repo)
    shell(fleet, "", "worker")
    worktree = Path(fleet.get("worker").checkout.worktree)
    (worktree / "feature.py").write_text("print('work')\n")
    git(worktree, "add", "feature.py")
    git(worktree, "commit", "-q", "-m", "feature")
    tip = git(worktree, "rev-parse", "HEAD")
    (worktree / "scratch.txt").write_text("not committed\n")

    with pytest.raises(
        UnsafeRemovalError,
        match=r"1 commit on qd/worker not in main and 1 uncommitted"
        r".*--discard-unmerged --discard-changes",
    ):
        fleet.remove("worker", discard_unmerged=False, discard_changes=False)
    with pytest.raises(UnsafeRemovalError, match="--discard-changes"):
        fleet.remove("worker", discard_unmerged=True, discard_changes=False)
    assert worktree.is_dir() and git(repo, "rev-parse", "qd/worker") == tip

    message = fleet.remove("worker", discard_unmerged=True, discard_changes=True)
    assert "refs/quarterdeck/archive/worker" in message
    assert git(repo, "rev-parse", "refs/quarterdeck/archive/worker") == tip
    snapshot = git(repo, "rev-parse", "refs/quarterdeck/archive/worker-uncommitted")
    assert git(repo, "show", f"{snapshot}:scratch.txt") == "not committed"
    assert not worktree.exists()
    assert git(repo, "branch", "--list", "qd/worker") == ""
    assert "worker" not in tmux(tmux_socket, "list-windows", "-a", "-F", "#{window_name}")
    assert fleet.store.names() == []


def test_remove_of_a_clean_agent_needs_no_confirmation(repo: Path) -> None:
    fleet = Fleet.open(repo)
    shell(fleet, "", "clean")
    assert fleet.removal_risk("clean").safe
    assert "removed clean" in fleet.remove("clean", discard_unmerged=False, discard_changes=False)


def test_state_survives_a_new_process_and_reattaches(repo: Path) -> None:
    first = Fleet.open(repo)
    shell(first, "", "keeper")
    wait_for(lambda: status_of(first, "keeper") is Status.IDLE)
    pane = first.get("keeper").placement.pane_id
    second = Fleet.open(repo)  # a restarted dashboard: a new store connection, no memory
    assert [a.name for a in second.agents()] == ["keeper"]
    second.sweep()
    assert (
        second.get("keeper").placement.pane_id == pane
        and second.get("keeper").shown.status is Status.IDLE
    )


def test_a_corrupt_record_does_not_stop_the_fleet(repo: Path) -> None:
    fleet = Fleet.open(repo)
    shell(fleet, "", "good")
    db = sqlite3.connect(fleet.store.path)
    db.execute("INSERT INTO agents VALUES ('x', 'broken', '{not json', 0, 0)")
    db.commit()
    again = Fleet.open(repo)
    assert [a.name for a in again.agents()] == ["good"]
    assert again.store.unreadable == ["broken"]


def test_one_engine_per_repository(repo: Path) -> None:
    a, b = Fleet.open(repo), Fleet.open(repo)
    assert a.lock.acquire()
    assert not b.lock.acquire() and b.lock.holder() == os.getpid()
    a.lock.release()
    assert b.lock.acquire()


def test_default_base_follows_the_checked_out_branch(repo: Path) -> None:
    fleet = Fleet.open(repo)
    assert fleet.default_base() == "main"
    git(repo, "checkout", "-q", "-b", "feature/x")
    assert fleet.default_base() == "feature/x"
    git(repo, "checkout", "-q", "--detach")
    assert fleet.default_base() == git(repo, "rev-parse", "HEAD")
