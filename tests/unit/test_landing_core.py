"""Landing, pure: what it says in words (squash and conflict messages), the review settings,
and the preconditions and the order they are weighed in."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from app.core.checks import CheckResult, CheckState
from app.core.errors import (
    BaseCheckedOutError,
    CheckRefusalError,
    QuarterdeckError,
    UsageError,
)
from app.core.landing import (
    CheckoutFacts,
    LandingFacts,
    MergeStrategy,
    checkout_refusal,
    conflict_message,
    conflict_outcome,
    first_line,
    landed_outcome,
    landing_refusal,
    nothing_changed,
    nothing_to_land,
    overwrite_refusal,
    squash_message,
)
from app.infra.settings import load_settings


def test_merge_messages() -> None:
    assert first_line("\n  Fix the login bug  \nand more") == "Fix the login bug"
    assert len(first_line("x" * 100)) == 72
    message = squash_message("Fix it", "qd/fix", [("1" * 40, "one"), ("2" * 40, "two")])
    assert message == ("Fix it\n\nSquashed 2 commits of qd/fix:\n- 1111111 one\n- 2222222 two\n")
    text = conflict_message("qd/x", "main", "c" * 40, ["a.py", "b.py"], MergeStrategy.MERGE)
    assert text.startswith("Your branch qd/x cannot be merged into main (at ccccccc)")
    assert "conflicts in 2 files: a.py, b.py" in text
    assert "merge main into your branch (`git merge main`)" in text
    rebase = conflict_message("qd/x", "main", "c" * 40, ["a.py"], MergeStrategy.REBASE)
    assert "`git rebase main`" in rebase and "1 file: a.py" in rebase


def test_review_settings(tmp_path: Path) -> None:
    (tmp_path / ".quarterdeck.toml").write_text(
        'check = "pytest -q"\nmerge_strategy = "squash"\n[checks]\nslow = "make check"\n'
    )
    settings = load_settings(tmp_path)
    assert settings.merge_strategy is MergeStrategy.SQUASH
    assert settings.check_command("fast") == "pytest -q"
    assert settings.check_command("slow") == "make check"
    (tmp_path / ".quarterdeck.toml").write_text('merge_strategy = "octopus"\n')
    with pytest.raises(UsageError, match="merge_strategy 'octopus' is not one of"):
        load_settings(tmp_path)
    (tmp_path / ".quarterdeck.toml").write_text("check = 3\n")
    with pytest.raises(UsageError, match="check must be a command in quotes"):
        load_settings(tmp_path)
    (tmp_path / ".quarterdeck.toml").write_text("")
    assert load_settings(tmp_path).check_command("any") == ""


# --------------------------------------------------------------------- the preconditions

TIP = "a" * 40
PASSED = CheckResult("pytest -q", CheckState.PASSED, 0.0, 1.0, 0, "", TIP)
FAILED = CheckResult("pytest -q", CheckState.FAILED, 0.0, 1.0, 1, "", TIP)
READY = LandingFacts(
    name="feat",
    base="develop",
    branch="qd/feat",
    worktree="/wt/feat",
    check_command="pytest -q",
    check=PASSED,
    tip=TIP,
)


@pytest.mark.parametrize(
    ("changes", "error", "says"),
    [
        ({}, None, ""),
        ({"base_is_branch": False}, UsageError, "base 'develop' is not a local branch"),
        ({"branch_exists": False}, QuarterdeckError, "branch qd/feat is gone"),
        (
            {"uncommitted": ("a.txt",)},
            QuarterdeckError,
            "1 uncommitted or untracked file (a.txt): a merge takes only commits",
        ),
        (
            {"uncommitted": tuple(f"f{i}" for i in range(7))},
            QuarterdeckError,
            "7 uncommitted or untracked files (f0, f1, f2, f3, f4, …)",
        ),
        ({"check": None}, CheckRefusalError, "not merging feat: no check has run on it"),
        ({"check": FAILED}, CheckRefusalError, "its latest check failed with exit code 1"),
        ({"check": FAILED, "force": True}, None, ""),
        ({"check": None, "check_command": ""}, None, ""),  # no check set: none required
        ({"check_command": "make test"}, CheckRefusalError, "the check is now `make test`"),
        ({"tip": "b" * 40}, CheckRefusalError, "but the branch is now at bbbbbbb"),
        # Already landed: nothing is asked of the check.
        ({"already_landed": True, "check": FAILED}, None, ""),
        # The order: the first that fails is the one said.
        ({"base_is_branch": False, "branch_exists": False}, UsageError, "not a local branch"),
        (
            {"branch_exists": False, "uncommitted": ("a.txt",), "check": None},
            QuarterdeckError,
            "is gone",
        ),
        ({"uncommitted": ("a.txt",), "check": FAILED}, QuarterdeckError, "uncommitted"),
        ({"uncommitted": ("a.txt",), "already_landed": True}, QuarterdeckError, "uncommitted"),
    ],
)
def test_landing_preconditions_in_their_order(
    changes: dict[str, Any], error: type[QuarterdeckError] | None, says: str
) -> None:
    refusal = landing_refusal(replace(READY, **changes))
    if error is None:
        assert refusal is None
    else:
        assert type(refusal) is error and says in str(refusal)


def test_a_check_refusal_says_how_to_go_on() -> None:
    refusal = landing_refusal(replace(READY, check=None))
    assert str(refusal).endswith(
        "Run the check first (quarterdeck check feat --run), or merge anyway with --force"
    )


CHECKOUT = CheckoutFacts(
    name="feat",
    base="main",
    branch="qd/feat",
    worktree="/wt/feat",
    strategy=MergeStrategy.SQUASH,
    repo_root="/repo",
)


@pytest.mark.parametrize(
    ("changes", "error", "says"),
    [
        ({}, None, ""),  # checked out nowhere
        ({"holders": ("/repo",), "update_worktree": True}, None, ""),
        (
            {"holders": ("/repo", "/other"), "update_worktree": True},
            QuarterdeckError,
            "main is checked out in 2 worktrees (/repo, /other)",
        ),
        (
            {"holders": ("/gone",), "holder_exists": False, "update_worktree": True},
            QuarterdeckError,
            "which no longer exists; nothing was changed: run `git -C /repo worktree prune`",
        ),
        (
            {"holders": ("/repo",)},
            BaseCheckedOutError,
            "cd /repo && git merge --squash qd/feat && git commit",
        ),
        (
            {"holders": ("/repo",), "update_worktree": True, "in_progress": "a rebase"},
            QuarterdeckError,
            "/repo is in the middle of a rebase",
        ),
        (
            {"holders": ("/repo",), "update_worktree": True, "ignored_in_the_way": ("b.log",)},
            QuarterdeckError,
            "overwrite files git ignores in /repo (b.log)",
        ),
        # The order.
        (
            {"holders": ("/a", "/b"), "holder_exists": False},
            QuarterdeckError,
            "in 2 worktrees",
        ),
        (
            {"holders": ("/gone",), "holder_exists": False, "in_progress": "a merge"},
            QuarterdeckError,
            "no longer exists",
        ),
        ({"holders": ("/repo",), "in_progress": "a merge"}, BaseCheckedOutError, "--update"),
        (
            {
                "holders": ("/repo",),
                "update_worktree": True,
                "in_progress": "a merge",
                "ignored_in_the_way": ("b.log",),
            },
            QuarterdeckError,
            "in the middle of a merge",
        ),
    ],
)
def test_where_the_base_is_checked_out_in_order(
    changes: dict[str, Any], error: type[QuarterdeckError] | None, says: str
) -> None:
    refusal = checkout_refusal(replace(CHECKOUT, **changes))
    if error is None:
        assert refusal is None
    else:
        assert type(refusal) is error and says in str(refusal)


def test_a_base_checked_out_says_how_to_land_by_hand_for_each_strategy() -> None:
    facts = replace(CHECKOUT, holders=("/my repo",))
    by_hand = {
        MergeStrategy.MERGE: "cd '/my repo' && git merge qd/feat",
        MergeStrategy.SQUASH: "cd '/my repo' && git merge --squash qd/feat && git commit",
        MergeStrategy.REBASE: (
            "cd '/my repo' && git -C /wt/feat rebase main && git merge --ff-only qd/feat"
        ),
    }
    for strategy, command in by_hand.items():
        refusal = checkout_refusal(replace(facts, strategy=strategy))
        assert isinstance(refusal, BaseCheckedOutError)
        assert (refusal.base, refusal.worktree) == ("main", "/my repo")
        assert str(refusal).endswith(command) and "--update-worktree" in str(refusal)


def test_outcomes_in_words() -> None:
    landed = landed_outcome(
        MergeStrategy.MERGE, "feat", "main", "qd/feat", TIP, TIP, holder="/repo"
    )
    assert landed.merged and landed.how == "fast-forward" and landed.worktree == "/repo"
    assert landed.message == (
        "merged qd/feat into main (fast-forward): main is now at aaaaaaa; /repo, where main is "
        "checked out, moved with it. feat stays; remove it when done (quarterdeck rm feat)"
    )
    merged = landed_outcome(MergeStrategy.MERGE, "f", "main", "qd/f", TIP, "c" * 40)
    assert merged.how == "merge commit" and merged.worktree == ""
    free = landed_outcome(MergeStrategy.REBASE, "f", "main", "qd/f", TIP, TIP, check_set=False)
    assert free.how == "rebased"
    assert "(no check is set for this repository, so none was required)" in free.message
    clash = conflict_outcome(
        MergeStrategy.REBASE, "f", "main", "qd/f", "d" * 40, ("a.py", "b.py"), "e" * 40
    )
    assert not clash.merged and clash.conflicts == ("a.py", "b.py")
    assert clash.message.startswith(
        "qd/f conflicts with main (at ddddddd) replaying eeeeeee in 2 files: a.py, b.py."
    )
    assert "every commit of qd/f" in nothing_to_land(MergeStrategy.MERGE, "m", "qd/f", TIP).message
    assert "every change of qd/f" in nothing_changed(MergeStrategy.SQUASH, "m", "qd/f", TIP).message
    blocked = overwrite_refusal("/repo", [f"f{i}" for i in range(9)])
    assert "uncommitted changes in /repo (f0, f1, f2, f3, f4, f5, f6, f7, …)" in str(blocked)
