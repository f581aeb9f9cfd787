"""Landing against real git repositories and worktrees: every strategy, nothing touched but
the base (and its checkout when asked), the preconditions, conflicts."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from app.cli import main
from app.core.checks import CheckState
from app.core.errors import BaseCheckedOutError, QuarterdeckError
from app.core.landing import MergeStrategy
from app.core.messages import MessageState
from app.fleet.fleet import Fleet
from tests.helpers import git
from tests.integration.review_helpers import (
    advance,
    commit,
    look,
    run_check,
    set_check,
    spawn,
)


@pytest.mark.parametrize("strategy", list(MergeStrategy))
def test_merge_lands_the_branch_and_no_working_tree_is_touched(
    user_repo: Path, tmp_path: Path, strategy: MergeStrategy
) -> None:
    repo = user_repo
    fleet = Fleet.open(repo)
    wt = spawn(fleet, "feat", base="develop", prompt="Add the feature\nwith details")
    first = commit(wt, "feature.py", "def feature():\n    return 1\n", "add feature")
    second = commit(wt, "feature.py", "def feature():\n    return 2\n", "improve feature")
    # The base moved on meanwhile (in a throw-away worktree).
    old = advance(repo, "develop", "other.txt", "other work\n", "other", tmp_path / "side")
    set_check(repo, "true")
    assert run_check(fleet, "feat") is CheckState.PASSED
    user, agent = look(repo), look(wt)

    outcome = fleet.merge("feat", strategy, force=False)

    assert outcome.merged and outcome.strategy is strategy and outcome.base == "develop"
    new = git(repo, "rev-parse", "develop")
    assert outcome.commit == new != old
    assert git(repo, "show", "develop:feature.py") == "def feature():\n    return 2"
    assert git(repo, "show", "develop:other.txt") == "other work"
    if strategy is MergeStrategy.MERGE:
        assert git(repo, "rev-parse", "develop^1", "develop^2").split() == [old, second]
    elif strategy is MergeStrategy.SQUASH:
        assert git(repo, "rev-parse", "develop^") == old
        assert git(repo, "rev-list", "--count", "--parents", "develop^!") == "1"
        body = git(repo, "log", "-1", "--format=%B", "develop")
        assert body.startswith("Add the feature\n")
        assert f"- {first[:7]} add feature" in body and f"- {second[:7]} improve feature" in body
    else:
        assert git(repo, "rev-parse", "develop~2") == old
        assert git(repo, "log", "--format=%s", "-2", "develop").split("\n") == [
            "improve feature",
            "add feature",
        ]
        assert git(repo, "log", "-1", "--format=%an", "develop") == "Test"
    # The user's dirty main worktree and the agent's worktree are exactly as they were.
    assert look(repo) == user
    assert look(wt) == agent
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    # Its commits are in the base now: removing it needs no --discard-unmerged ...
    assert fleet.removal_risk("feat").safe
    again = fleet.merge("feat", strategy, force=False)
    assert again.merged and "nothing to merge" in again.message
    assert git(repo, "rev-parse", "develop") == new
    # ... until it commits more.
    commit(wt, "late.txt", "late\n", "late")
    assert fleet.removal_risk("feat").unmerged_commits == 1


@pytest.mark.parametrize("strategy", [MergeStrategy.SQUASH, MergeStrategy.REBASE])
def test_changes_already_in_the_base_land_as_nothing_not_as_an_empty_commit(
    user_repo: Path, tmp_path: Path, strategy: MergeStrategy
) -> None:
    repo = user_repo
    fleet = Fleet.open(repo)
    wt = spawn(fleet, "same", base="develop")
    commit(wt, "x.txt", "x\n", "x, by the agent")
    before = advance(repo, "develop", "x.txt", "x\n", "x, by someone else", tmp_path / "side")
    outcome = fleet.merge("same", strategy, force=True)
    assert outcome.merged and "nothing to merge" in outcome.message
    assert git(repo, "rev-parse", "develop") == before
    assert fleet.removal_risk("same").safe


def test_a_base_checked_out_is_refused_unless_its_worktree_may_move_too(
    user_repo: Path,
) -> None:
    repo = user_repo
    fleet = Fleet.open(repo)
    wt = spawn(fleet, "onmain", base="main")
    commit(wt, "f.txt", "f\n", "f")
    user, main_ref = look(repo), git(repo, "rev-parse", "main")
    with pytest.raises(BaseCheckedOutError, match="main is checked out in") as refused:
        fleet.merge("onmain", MergeStrategy.SQUASH, force=True)
    assert refused.value.worktree == str(repo)
    assert "--update-worktree" in str(refused.value)
    assert f"cd {repo} && git merge --squash qd/onmain && git commit" in str(refused.value)
    assert main(["-C", str(repo), "merge", "onmain", "--force"]) == 1
    assert look(repo) == user and git(repo, "rev-parse", "main") == main_ref


@pytest.mark.parametrize("strategy", list(MergeStrategy))
def test_landing_with_update_worktree_brings_it_forward_and_keeps_the_users_changes(
    user_repo: Path, tmp_path: Path, strategy: MergeStrategy
) -> None:
    repo = user_repo
    fleet = Fleet.open(repo)
    wt = spawn(fleet, "onmain", base="main")
    commit(wt, "src/new.py", "print('new')\n", "add new")
    commit(wt, "hello.txt", "added by the agent\n", "add hello")
    if strategy is not MergeStrategy.MERGE:  # a base that moved on: no fast-forward
        first = git(repo, "rev-parse", "main")
        git(repo, "worktree", "add", "-q", "-f", str(tmp_path / "side"), "main")
        commit(tmp_path / "side", "other.txt", "other\n", "other")
        git(repo, "worktree", "remove", str(tmp_path / "side"))
        git(repo, "read-tree", "-m", "-u", first, "main")  # as if the user had pulled it
    user_status = git(repo, "status", "--porcelain", "-uall")
    before = git(repo, "rev-parse", "main")

    outcome = fleet.merge("onmain", strategy, force=True, update_worktree=True)

    assert outcome.merged and outcome.worktree == str(repo)
    assert f"{repo}, where main is checked out, moved with it" in outcome.message
    new = git(repo, "rev-parse", "main")
    assert new == outcome.commit != before
    assert git(repo, "rev-parse", "HEAD") == new
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    # The agent's work is in the user's files; the user's own changes are exactly as they were.
    assert (repo / "src/new.py").read_text() == "print('new')\n"
    assert (repo / "hello.txt").read_text() == "added by the agent\n"
    assert git(repo, "status", "--porcelain", "-uall") == user_status
    assert (repo / "README.md").read_text() == "# test repo\nthe user's unsaved edit\n"
    assert git(repo, "diff", "--cached", "--name-only") == "staged.txt"
    assert (repo / "scratch.txt").read_text() == "untracked notes\n"
    assert fleet.removal_risk("onmain").safe


@pytest.mark.parametrize("in_the_way", ["modified", "untracked"])
def test_update_worktree_changes_nothing_when_it_would_overwrite_the_users_work(
    user_repo: Path, in_the_way: str
) -> None:
    repo = user_repo
    fleet = Fleet.open(repo)
    wt = spawn(fleet, "onmain", base="main")
    commit(wt, "notes/todo.md", "agent's todo\n", "add todo")
    if in_the_way == "modified":
        commit(wt, "README.md", "# retitled by the agent\n", "retitle")
        culprit = "README.md"  # the user's unsaved edit (see user_repo)
    else:
        (repo / "notes").mkdir()
        (repo / "notes/todo.md").write_text("the user's own todo\n")
        culprit = "notes/todo.md"
    user, main_ref = look(repo), git(repo, "rev-parse", "main")

    with pytest.raises(QuarterdeckError, match=f"would overwrite uncommitted changes .*{culprit}"):
        fleet.merge("onmain", MergeStrategy.MERGE, force=True, update_worktree=True)

    assert git(repo, "rev-parse", "main") == main_ref
    assert look(repo) == user
    command = ["-C", str(repo), "merge", "onmain", "--force", "--update-worktree"]
    assert main(command) == 1
    if in_the_way == "untracked":
        (repo / culprit).unlink()
    else:
        git(repo, "checkout", culprit)
        # Touched, not changed: stale stat information in the index is not taken for a change.
        later = (repo / culprit).stat().st_mtime_ns + 5 * 10**9
        os.utime(repo / culprit, ns=(later, later))
    assert main(command) == 0
    assert git(repo, "rev-parse", "HEAD") == git(repo, "rev-parse", "qd/onmain")
    assert (repo / "notes/todo.md").read_text() == "agent's todo\n"


def test_a_base_being_rebased_counts_as_checked_out(repo: Path) -> None:
    fleet = Fleet.open(repo)
    wt = spawn(fleet, "agent", base="main")
    commit(wt, "g.txt", "agent's\n", "g")
    # The user rebases main on a branch of theirs and stops at a conflict: main's worktree is
    # detached meanwhile, and git moves main when the rebase ends.
    git(repo, "checkout", "-q", "-b", "side")
    commit(repo, "f.txt", "side\n", "side")
    git(repo, "checkout", "-q", "main")
    commit(repo, "f.txt", "main\n", "main")
    main_ref = git(repo, "rev-parse", "main")
    subprocess.run(["git", "-C", str(repo), "rebase", "side"], capture_output=True, check=False)
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "HEAD"  # detached, mid-rebase
    with pytest.raises(BaseCheckedOutError):
        fleet.merge("agent", MergeStrategy.MERGE, force=True)
    with pytest.raises(QuarterdeckError, match="in the middle of a rebase"):
        fleet.merge("agent", MergeStrategy.MERGE, force=True, update_worktree=True)
    assert git(repo, "rev-parse", "main") == main_ref


def test_update_worktree_never_overwrites_ignored_files_or_a_vanished_checkout(
    user_repo: Path, tmp_path: Path
) -> None:
    repo = user_repo
    commit(repo, ".gitignore", "*.log\n", "ignore logs")
    (repo / "build.log").write_text("the user's own log\n")
    fleet = Fleet.open(repo)
    wt = spawn(fleet, "logger", base="main")
    (wt / "build.log").write_text("the agent's log\n")
    git(wt, "add", "-f", "build.log")
    git(wt, "commit", "-q", "-m", "log")
    main_ref = git(repo, "rev-parse", "main")
    with pytest.raises(QuarterdeckError, match=r"overwrite files git ignores .*\(build.log\)"):
        fleet.merge("logger", MergeStrategy.MERGE, force=True, update_worktree=True)
    assert (repo / "build.log").read_text() == "the user's own log\n"
    assert git(repo, "rev-parse", "main") == main_ref

    # A checkout of the base whose folder was deleted by hand: git still counts it.
    spawn(fleet, "dev", base="develop")
    commit(Path(fleet.get("dev").checkout.worktree), "d.txt", "d\n", "d")
    git(repo, "worktree", "add", "-q", str(tmp_path / "gone"), "develop")
    shutil.rmtree(tmp_path / "gone")
    with pytest.raises(QuarterdeckError, match=r"no longer exists.*worktree prune"):
        fleet.merge("dev", MergeStrategy.MERGE, force=True, update_worktree=True)
    git(repo, "worktree", "prune")
    assert fleet.merge("dev", MergeStrategy.MERGE, force=True).merged


def test_merge_is_refused_without_a_passing_check_on_the_tip_or_with_uncommitted_work(
    user_repo: Path,
) -> None:
    repo = user_repo
    fleet = Fleet.open(repo)
    wt = spawn(fleet, "careful", base="develop")
    commit(wt, "a.txt", "a\n", "a")
    develop = git(repo, "rev-parse", "develop")

    def refused(match: str) -> None:
        with pytest.raises(QuarterdeckError, match=match):
            fleet.merge("careful", None, force=False)
        assert git(repo, "rev-parse", "develop") == develop

    set_check(repo, "exit 1")
    refused("not merging careful: no check has run on it.*--force")
    assert run_check(fleet, "careful") is CheckState.FAILED
    refused("its latest check failed with exit code 1")
    set_check(repo, "true")
    assert run_check(fleet, "careful") is CheckState.PASSED
    tip = commit(wt, "b.txt", "b\n", "b")
    refused(f"passed on .*, but the branch is now at {tip[:7]}")
    (wt / "wip.txt").write_text("not committed\n")
    refused("1 uncommitted or untracked file .*wip.txt.*would not be merged")
    (wt / "wip.txt").unlink()
    assert main(["-C", str(repo), "merge", "careful"]) == 1
    assert main(["-C", str(repo), "merge", "careful", "--force"]) == 0
    assert git(repo, "rev-parse", "develop") == tip  # a fast-forward


def test_with_no_check_set_none_is_required(user_repo: Path) -> None:
    fleet = Fleet.open(user_repo)
    wt = spawn(fleet, "free", base="develop")
    tip = commit(wt, "a.txt", "a\n", "a")
    outcome = fleet.merge("free", None, force=False)
    assert outcome.merged and git(user_repo, "rev-parse", "develop") == tip
    assert "no check is set for this repository, so none was required" in outcome.message


@pytest.mark.parametrize("strategy", [MergeStrategy.MERGE, MergeStrategy.REBASE])
def test_a_conflict_changes_nothing_and_goes_to_the_agent(
    user_repo: Path, tmp_path: Path, strategy: MergeStrategy
) -> None:
    repo = user_repo
    fleet = Fleet.open(repo)
    wt = spawn(fleet, "clash", base="develop")
    commit(wt, "notes.txt", "fine\n", "unrelated")
    commit(wt, "README.md", "# the agent's title\n", "retitle")
    old = advance(repo, "develop", "README.md", "# the base's title\n", "base", tmp_path / "x")
    user, agent = look(repo), look(wt)
    objects_before = git(repo, "for-each-ref")

    outcome = fleet.merge("clash", strategy, force=True)

    assert not outcome.merged and outcome.conflicts == ("README.md",)
    assert "Nothing was changed" in outcome.message
    assert git(repo, "rev-parse", "develop") == old
    assert git(repo, "for-each-ref") == objects_before
    assert look(repo) == user and look(wt) == agent
    message = fleet.send_conflict("clash")
    assert message.state is MessageState.PENDING and message.agent_name == "clash"
    assert "README.md" in message.text and old[:7] in message.text
    todo = "git merge develop" if strategy is MergeStrategy.MERGE else "git rebase develop"
    assert todo in message.text
    assert fleet.messages("clash")[-1].id == message.id
