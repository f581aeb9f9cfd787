"""Landing an agent's branch in its base: the strategies and their outcomes, the preconditions
and the order they are weighed in, and everything a landing says in words. Pure: git runs in
`app/fleet/landing.py`.

The preconditions, in order (the first that fails is the one reported):

1. the base is a local branch (otherwise there is nothing to land in: push instead);
2. the agent's branch still exists;
3. the agent's worktree has nothing uncommitted or untracked (a landing takes commits only);
4. — every commit is already in the base: nothing to land, and nothing more is asked;
5. the check passed on exactly the branch's tip, as the check is set now (unless forced,
   or no check is set).

Once the new base commit is known (and only when it moves the base), where the base is
checked out is weighed, in order: in more than one worktree; in a worktree whose folder is
gone; in one worktree while the human did not allow it to move (``update_worktree``); that
worktree is in the middle of a git operation; the move would overwrite files git ignores there.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from app.core.checks import CheckResult, check_refusal
from app.core.errors import (
    BaseCheckedOutError,
    CheckRefusalError,
    QuarterdeckError,
    UsageError,
)


class MergeStrategy(StrEnum):
    """How an agent's branch lands in its base."""

    MERGE = "merge"
    SQUASH = "squash"
    REBASE = "rebase"


@dataclass(frozen=True)
class MergeOutcome:
    """What a merge did: the new base commit, or the conflicting files (and nothing changed)."""

    strategy: MergeStrategy
    base: str
    merged: bool
    commit: str = ""
    conflicts: tuple[str, ...] = ()
    message: str = ""
    #: The worktree brought forward with the base (it had the base checked out), if any.
    worktree: str = ""
    #: How it landed: ``fast-forward``, ``merge commit``, ``one squashed commit``, ``rebased``.
    how: str = ""


@dataclass(frozen=True)
class LandingFacts:
    """What was found about an agent's branch before landing it."""

    name: str
    base: str
    branch: str
    worktree: str
    #: The base is a local branch.
    base_is_branch: bool = True
    #: The agent's branch exists.
    branch_exists: bool = True
    #: Uncommitted or untracked files in the agent's worktree.
    uncommitted: tuple[str, ...] = ()
    #: Every commit of the branch is in the base already (merged, or squashed or rebased
    #: there and still there).
    already_landed: bool = False
    #: The check command as it is set now ('' when none is set: none is required).
    check_command: str = ""
    #: The agent's latest check.
    check: CheckResult | None = None
    #: The branch's tip.
    tip: str = ""
    #: The human lands it whatever the check says.
    force: bool = False


def landing_refusal(facts: LandingFacts) -> QuarterdeckError | None:
    """Why the branch may not land (the first precondition that fails, as the error to raise),
    or None. None with ``facts.already_landed`` means there is nothing to land."""
    name = facts.name
    if not facts.base_is_branch:
        return UsageError(
            f"{name}'s base {facts.base!r} is not a local branch, so there is nothing to merge "
            f"into; push it instead (quarterdeck push {name})"
        )
    if not facts.branch_exists:
        return QuarterdeckError(f"{name}'s branch {facts.branch} is gone")
    if facts.uncommitted:
        n = len(facts.uncommitted)
        listed = ", ".join(facts.uncommitted[:5]) + (", …" if n > 5 else "")
        return QuarterdeckError(
            f"{name} has {n} uncommitted or untracked file{'s' if n != 1 else ''} "
            f"({listed}): a merge takes only commits, so they would not be merged. Commit "
            f"them in {facts.worktree} first (or ask {name} to), or remove them, then merge again"
        )
    if facts.already_landed:
        return None
    if facts.check_command and not facts.force:
        reason = check_refusal(facts.check, facts.tip, facts.check_command)
        if reason:
            return CheckRefusalError(
                f"not merging {name}: {reason}. Run the check first (quarterdeck check "
                f"{name} --run), or merge anyway with --force"
            )
    return None


@dataclass(frozen=True)
class CheckoutFacts:
    """Where the base is checked out, found once the landing is known to move it."""

    name: str
    base: str
    branch: str
    #: The agent's own worktree (for the commands to run by hand).
    worktree: str
    strategy: MergeStrategy
    #: The repository's main working tree.
    repo_root: str
    #: Every worktree that has the base checked out.
    holders: tuple[str, ...] = ()
    #: The (one) holder's folder exists.
    holder_exists: bool = True
    #: The human allows that worktree to move with its base.
    update_worktree: bool = False
    #: The git operation the holder is in the middle of ('' when none; looked at only when
    #: it may move).
    in_progress: str = ""
    #: Files the move would write that are there now as files git ignores (idem).
    ignored_in_the_way: tuple[str, ...] = ()


def checkout_refusal(facts: CheckoutFacts) -> QuarterdeckError | None:
    """Why moving the base is refused where it is checked out (the error to raise), or None:
    the base may move (and its one holder, if any, with it)."""
    holders, name, base = facts.holders, facts.name, facts.base
    if len(holders) > 1:
        listed = ", ".join(holders)
        return QuarterdeckError(
            f"{base} is checked out in {len(holders)} worktrees ({listed}); nothing was "
            f"changed: switch all but one of them to another branch, then land {name} again"
        )
    if not holders:
        return None
    holder = holders[0]
    if not facts.holder_exists:
        return QuarterdeckError(
            f"{base} is checked out in {holder}, which no longer exists; nothing was "
            f"changed: run `git -C {shlex.quote(facts.repo_root)} worktree prune`, "
            f"then land {name} again"
        )
    if not facts.update_worktree:
        return BaseCheckedOutError(checked_out_message(facts, holder), base, holder)
    if facts.in_progress:
        return QuarterdeckError(
            f"{holder} is in the middle of {facts.in_progress}; nothing was changed: finish or "
            "abort it there, then land again"
        )
    if facts.ignored_in_the_way:
        ignored = facts.ignored_in_the_way
        listed = ", ".join(ignored[:8]) + (", …" if len(ignored) > 8 else "")
        return QuarterdeckError(
            f"landing would overwrite files git ignores in {holder} ({listed}); "
            "nothing was changed: move them away there, then land again"
        )
    return None


def checked_out_message(facts: CheckoutFacts, holder: str) -> str:
    """Why a base checked out in ``holder`` is not moved, and the two ways on."""
    where = shlex.quote(holder)
    branch = shlex.quote(facts.branch)
    by_hand = {
        MergeStrategy.MERGE: f"git merge {branch}",
        MergeStrategy.SQUASH: f"git merge --squash {branch} && git commit",
        MergeStrategy.REBASE: (
            f"git -C {shlex.quote(facts.worktree)} rebase {shlex.quote(facts.base)} && "
            f"git merge --ff-only {branch}"
        ),
    }[facts.strategy]
    return (
        f"{facts.base} is checked out in {holder}: landing moves {facts.base}, so that "
        "worktree's files would have to move with it, and Quarterdeck changes a working "
        "tree only when asked. Land again with --update-worktree to bring it forward too "
        "(changes of yours there are kept; nothing is done if one would be overwritten), "
        f"or merge there yourself: cd {where} && {by_hand}"
    )


def overwrite_refusal(holder: str, blocked: list[str]) -> QuarterdeckError:
    """Bringing ``holder`` forward would overwrite the human's uncommitted ``blocked`` files."""
    listed = ", ".join(blocked[:8]) + (", …" if len(blocked) > 8 else "")
    return QuarterdeckError(
        f"landing would overwrite uncommitted changes in {holder} ({listed}); nothing "
        "was changed: commit or stash them there, then land again"
    )


# --------------------------------------------------------------------- outcomes, in words


def nothing_to_land(strategy: MergeStrategy, base: str, branch: str, at: str) -> MergeOutcome:
    """Every commit of ``branch`` is in ``base`` (at ``at``) already."""
    return MergeOutcome(
        strategy,
        base,
        True,
        at,
        message=f"nothing to merge: every commit of {branch} is already in {base}",
    )


def nothing_changed(strategy: MergeStrategy, base: str, branch: str, at: str) -> MergeOutcome:
    """Squashed or replayed, the branch changes nothing: every change is in ``base``."""
    return MergeOutcome(
        strategy,
        base,
        True,
        at,
        message=f"nothing to merge: every change of {branch} is already in {base}",
    )


def conflict_outcome(
    strategy: MergeStrategy,
    name: str,
    base: str,
    branch: str,
    base_commit: str,
    conflicts: tuple[str, ...],
    replaying: str = "",
) -> MergeOutcome:
    """The branch conflicts with its base (at ``base_commit``; ``replaying`` the commit of a
    rebase that conflicted): nothing changed."""
    s = "s" if len(conflicts) != 1 else ""
    where = f" replaying {replaying[:7]}" if replaying else ""
    return MergeOutcome(
        strategy,
        base,
        False,
        conflicts=conflicts,
        message=(
            f"{branch} conflicts with {base} (at {base_commit[:7]}){where} in {len(conflicts)} "
            f"file{s}: {', '.join(conflicts)}. Nothing was changed; send the conflict "
            f"to {name} to resolve, or resolve it by hand"
        ),
    )


def landed_outcome(
    strategy: MergeStrategy,
    name: str,
    base: str,
    branch: str,
    tip: str,
    new: str,
    *,
    holder: str = "",
    check_set: bool = True,
) -> MergeOutcome:
    """The branch (at ``tip``) landed: ``base`` is at ``new``, ``holder`` (where it is checked
    out, if anywhere) moved with it."""
    how = {
        MergeStrategy.MERGE: "fast-forward" if new == tip else "merge commit",
        MergeStrategy.SQUASH: "one squashed commit",
        MergeStrategy.REBASE: "rebased",
    }[strategy]
    moved = f"; {holder}, where {base} is checked out, moved with it" if holder else ""
    if not check_set:
        moved += " (no check is set for this repository, so none was required)"
    return MergeOutcome(
        strategy,
        base,
        True,
        new,
        message=(
            f"merged {branch} into {base} ({how}): {base} is now at {new[:7]}{moved}. "
            f"{name} stays; remove it when done (quarterdeck rm {name})"
        ),
        worktree=holder,
        how=how,
    )


def first_line(text: str, limit: int = 72) -> str:
    """The first non-empty line of ``text``, cut to ``limit`` characters."""
    for line in text.splitlines():
        line = line.strip()
        if line:
            return line if len(line) <= limit else line[: limit - 1] + "…"
    return ""


def squash_message(title: str, branch: str, commits: Iterable[tuple[str, str]]) -> str:
    """The message of a squash merge: its title, then every commit squashed (sha, subject),
    oldest first."""
    listed = [f"- {sha[:7]} {subject}" for sha, subject in commits]
    s = "s" if len(listed) != 1 else ""
    body = f"Squashed {len(listed)} commit{s} of {branch}:\n" + "\n".join(listed)
    return f"{title}\n\n{body}\n"


def conflict_message(
    branch: str, base: str, base_commit: str, files: Iterable[str], strategy: MergeStrategy
) -> str:
    """What an agent is told when its branch conflicts with its base: the files, the base
    commit, and what to do."""
    names = list(files)
    listed = ", ".join(names)
    where = f"{base} (at {base_commit[:7]})"
    if strategy is MergeStrategy.REBASE:
        todo = (
            f"Please rebase your branch onto {base} (`git rebase {base}`), resolve the conflicts "
            f"in {listed} as they come (`git rebase --continue` after each), run the tests, and "
            "tell me when the branch replays cleanly."
        )
    else:
        todo = (
            f"Please merge {base} into your branch (`git merge {base}`), resolve the conflicts "
            f"in {listed}, run the tests, and commit the merge."
        )
    s = "s" if len(names) != 1 else ""
    return (
        f"Your branch {branch} cannot be merged into {where}: it conflicts in {len(names)} "
        f"file{s}: {listed}.\n{todo}"
    )
