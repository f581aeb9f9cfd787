"""Pushing a branch to a bare remote and opening its pull request (with or without `gh`)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from app.cli import main
from app.core.errors import GitError, QuarterdeckError
from app.fleet.fleet import Fleet
from app.infra.git import Repository
from tests.helpers import git, wait_for
from tests.integration.review_helpers import (
    commit,
    ended,
    spawn,
)


def test_git_runs_without_a_terminal_and_a_timeout_ends_all_it_started(
    repo: Path, tmp_path: Path
) -> None:
    repository = Repository.discover(repo)
    # What a command git starts (ssh, a credential helper) sees: another session, so no
    # controlling terminal to prompt on.
    sid = repository.run("-c", "alias.sid=!ps -o sid= -p $$", "sid")
    assert int(sid) != os.getsid(0)
    pid = tmp_path / "pid"
    hang = f"alias.hang=!sh -c 'echo $$ > {pid}; exec sleep 60'"
    with pytest.raises(GitError, match="timed out"):
        repository.run("-c", hang, "hang", timeout=1.0)
    wait_for(lambda: ended(int(pid.read_text())), what="the hung child to be killed")


def _path_without_gh() -> str:
    keep = [d for d in os.environ["PATH"].split(os.pathsep) if not (Path(d) / "gh").exists()]
    return os.pathsep.join(keep)


def test_push_to_a_bare_remote_then_pr_command_or_gh(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fleet = Fleet.open(repo)
    wt = spawn(fleet, "pub", prompt="Fix the login bug")
    tip = commit(wt, "fix.py", "fixed = True\n", "fix")
    with pytest.raises(QuarterdeckError, match="has no remote to push qd/pub to"):
        fleet.push_branch("pub")
    assert main(["-C", str(repo), "push", "pub"]) == 1

    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    git(repo, "remote", "add", "origin", str(remote))
    monkeypatch.setenv("PATH", _path_without_gh())
    assert shutil.which("gh") is None
    said = fleet.push_branch("pub")
    assert git(remote, "rev-parse", "refs/heads/qd/pub") == tip
    assert git(repo, "config", "branch.qd/pub.remote") == "origin"
    assert "gh is not installed" in said
    assert "gh pr create --base main --head qd/pub --title 'Fix the login bug' --body" in said
    # The body speaks of what was pushed, not of work still uncommitted in the worktree.
    (wt / "scratch.txt").write_text("not committed\n" * 50)
    body = fleet.push_branch("pub")
    assert "1 file changed, 1 insertion(+)" in body and "51 insertions" not in body
    assert "its 1 uncommitted or untracked file in the worktree stays behind" in body

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "gh.log"
    (bin_dir / "gh").write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$*" >> {log}\n'
        'case "$1" in pr) echo "https://github.com/acme/repo/pull/7";; esac\n'
    )
    (bin_dir / "gh").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{_path_without_gh()}")
    commit(wt, "more.py", "more = 1\n", "more")
    assert fleet.push_branch("pub") == "https://github.com/acme/repo/pull/7"
    calls = log.read_text().splitlines()
    assert calls[0] == "auth status"
    assert calls[1].startswith("pr create --base main --head qd/pub --title Fix the login bug")
    assert git(remote, "rev-parse", "refs/heads/qd/pub") == git(wt, "rev-parse", "HEAD")
