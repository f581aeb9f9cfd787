"""Landing an agent's branch in its base by writing objects and moving the base ref
(compare-and-swap): merge, squash or rebase, never touching a working tree or an index —
except, when the human asks, the one worktree that has the base checked out, brought forward
as `git merge --ff-only` would. What may land, and in what order that is weighed, is
`app/core/landing.py`; this is the git work."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from app.core.agent import Agent
from app.core.errors import GitError, QuarterdeckError, UsageError
from app.core.landing import (
    CheckoutFacts,
    LandingFacts,
    MergeOutcome,
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
from app.core.messages import Message, MessageMode
from app.fleet.checks import CheckRunner
from app.fleet.diff_reader import PATHSPEC_BATCH
from app.infra.git import READ_ONLY, Repository
from app.infra.review_tables import Conflict, LandingTable
from app.infra.settings import Settings

#: Queues a message for agents (``send(names, text, mode)``): how a conflict reaches the agent.
Send = Callable[[Sequence[str], str, MessageMode], list[Message]]

_IDENT = {
    "GIT_AUTHOR_NAME": "Quarterdeck",
    "GIT_AUTHOR_EMAIL": "quarterdeck@localhost",
    "GIT_COMMITTER_NAME": "Quarterdeck",
    "GIT_COMMITTER_EMAIL": "quarterdeck@localhost",
}
_BLOCKED = re.compile(
    r"^error: (?:Entry|Untracked working tree file) '(.+)' (?:not uptodate|would be)"
)


def _overwritten(err: str) -> list[str]:
    """The files git's read-tree says it would overwrite (changed or untracked)."""
    return [m.group(1) for line in err.splitlines() if (m := _BLOCKED.match(line))]


class Landing:
    """Lands agents' branches, one landing at a time per process."""

    def __init__(
        self,
        repo: Repository,
        table: LandingTable,
        *,
        get: Callable[[str], Agent],
        checks: CheckRunner,
        settings: Callable[[], Settings],
        send: Send,
    ) -> None:
        """``get`` finds an agent by name; ``checks`` says what the check is and how it went;
        ``settings`` reads the repository's settings as the files say now (the default
        strategy); ``send`` queues the conflict for the agent."""
        self._repo = repo
        self._table = table
        self._get = get
        self._checks = checks
        self._settings = settings
        self._send = send
        #: One landing at a time: each reads the base, then moves it.
        self._lock = threading.Lock()

    def merge(
        self,
        name: str,
        strategy: MergeStrategy | None,
        *,
        force: bool,
        update_worktree: bool = False,
    ) -> MergeOutcome:
        """Land the agent's branch in its base by writing objects and moving the base ref
        (compare-and-swap). No working tree or index is touched — except, when
        ``update_worktree`` is given, the one worktree that has the base checked out, which
        is brought forward with the base as `git merge --ff-only` would (its uncommitted
        changes kept; nothing done if one would be overwritten). Without it, a checked-out
        base is refused (`BaseCheckedOutError`) with the command to run there."""
        agent = self._get(name)
        chosen = strategy or self._settings().merge_strategy
        with self._lock:
            return self._land(agent, chosen, force, update_worktree)

    def _land(
        self, agent: Agent, strategy: MergeStrategy, force: bool, update_worktree: bool
    ) -> MergeOutcome:
        name, base, branch = agent.name, agent.checkout.base, agent.checkout.branch
        facts, old = self._preconditions(agent, force)
        refusal = landing_refusal(facts)
        if refusal is not None:
            raise refusal
        if facts.already_landed:
            return nothing_to_land(strategy, base, branch, old)
        tip = facts.tip
        new, conflicts, at = self._new_base(agent, strategy, old, tip)
        if conflicts:
            self._table.save_conflict(agent.id, Conflict(strategy, base, old, tip, conflicts))
            return conflict_outcome(strategy, name, base, branch, old, conflicts, at)
        if new == old:  # squashed or replayed to nothing: every change is in the base
            self._table.add_merge(agent.id, name, strategy, base, tip, old)
            return nothing_changed(strategy, base, branch, old)
        holder = self._holder(agent, strategy, old, new, update_worktree)
        self._move_base(agent, strategy, old, new, holder)
        self._table.add_merge(agent.id, name, strategy, base, tip, new)
        return landed_outcome(
            strategy,
            name,
            base,
            branch,
            tip,
            new,
            holder=str(holder or ""),
            check_set=bool(facts.check_command),
        )

    def _preconditions(self, agent: Agent, force: bool) -> tuple[LandingFacts, str]:
        """What landing the agent's branch depends on, and where the base is now."""
        base_is_branch = self._repo.branch_exists(agent.checkout.base)
        branch_exists = self._repo.branch_exists(agent.checkout.branch)
        worktree = Path(agent.checkout.worktree)
        uncommitted = self._repo.changed_files(worktree) if worktree.is_dir() else ()
        tip = self._rev(f"refs/heads/{agent.checkout.branch}") if branch_exists else ""
        old = self._rev(f"refs/heads/{agent.checkout.base}") if base_is_branch else ""
        landed = bool(tip and old) and (
            self._repo.is_ancestor(tip, old) or tip in self.landed(agent)
        )
        try:
            command = self._checks.check_command(agent)
        except UsageError:
            command = ""  # none set: nothing can have failed, nothing is required
        facts = LandingFacts(
            name=agent.name,
            base=agent.checkout.base,
            branch=agent.checkout.branch,
            worktree=str(worktree),
            base_is_branch=base_is_branch,
            branch_exists=branch_exists,
            uncommitted=tuple(uncommitted),
            already_landed=landed,
            check_command=command,
            check=self._checks.check(agent.name) if command and not force else None,
            tip=tip,
            force=force,
        )
        return facts, old

    def _new_base(
        self, agent: Agent, strategy: MergeStrategy, old: str, tip: str
    ) -> tuple[str, tuple[str, ...], str]:
        """The commit the base would move to (objects written, no ref moved): (new commit,
        the conflicting files, the commit a rebase conflicted on)."""
        title = first_line(agent.prompt) or f"Work of agent {agent.name}"
        if strategy is MergeStrategy.REBASE:
            return self._replay(old, tip)
        if strategy is MergeStrategy.SQUASH:
            new, conflicts = self._squash(agent.checkout.branch, title, old, tip)
            return new, conflicts, ""
        if self._repo.is_ancestor(old, tip):
            return tip, (), ""  # a fast-forward, as `git merge` does
        tree, conflicts = self._merge_tree(old, tip)
        if conflicts:
            return "", conflicts, ""
        message = f"Merge branch '{agent.checkout.branch}' into {agent.checkout.base}\n\n{title}\n"
        return self._commit_tree(tree, [old, tip], message), (), ""

    def _squash(self, branch: str, title: str, old: str, tip: str) -> tuple[str, tuple[str, ...]]:
        """One commit on ``old`` with the branch's changes (``old`` itself when they are all
        there already: no empty commit), or the conflicting files."""
        conflicts: tuple[str, ...] = ()
        if self._repo.is_ancestor(old, tip):
            tree = self._tree(tip)
        else:
            tree, conflicts = self._merge_tree(old, tip)
        if conflicts:
            return "", conflicts
        if tree == self._tree(old):
            return old, ()
        log = self._repo.run("log", "--reverse", "--no-merges", "--format=%H %s", f"{old}..{tip}")
        commits = [line.partition(" ")[::2] for line in log.splitlines()]
        return self._commit_tree(tree, [old], squash_message(title, branch, commits)), ()

    def _holder(
        self, agent: Agent, strategy: MergeStrategy, old: str, new: str, update_worktree: bool
    ) -> Path | None:
        """The worktree that has the base checked out and moves with it (None: none has), once
        everything says it may (`checkout_refusal`, then a dry run of the move)."""
        holders = self._repo.worktrees_on(agent.checkout.base)
        holder = holders[0] if len(holders) == 1 else None
        exists = holder is not None and holder.is_dir()
        may_move = holder is not None and exists and update_worktree
        busy = self._repo.operation_in_progress(holder) if may_move and holder else ""
        ignored: list[str] = []
        if may_move and holder is not None and not busy:
            ignored = self._ignored_in_the_way(holder, old, new)
        refusal = checkout_refusal(
            CheckoutFacts(
                name=agent.name,
                base=agent.checkout.base,
                branch=agent.checkout.branch,
                worktree=agent.checkout.worktree,
                strategy=strategy,
                repo_root=str(self._repo.root),
                holders=tuple(map(str, holders)),
                holder_exists=exists,
                update_worktree=update_worktree,
                in_progress=busy,
                ignored_in_the_way=tuple(ignored),
            )
        )
        if refusal is not None:
            raise refusal
        if holder is not None:
            self._bring_forward(holder, old, new, dry_run=True)
        return holder

    def _move_base(
        self, agent: Agent, strategy: MergeStrategy, old: str, new: str, holder: Path | None
    ) -> None:
        """Move the base from ``old`` to ``new`` (only if it is still at ``old``), and its
        holder with it; the base is put back if the holder cannot follow."""
        base = agent.checkout.base
        try:
            self._repo.run(
                "update-ref",
                "-m",
                f"quarterdeck: {strategy.value} {agent.checkout.branch}",
                f"refs/heads/{base}",
                new,
                old,
            )
        except GitError:
            raise QuarterdeckError(
                f"{base} moved while {agent.name} was being merged; nothing was changed: merge "
                "again"
            ) from None
        if holder is not None:
            try:
                self._bring_forward(holder, old, new, dry_run=False)
            except QuarterdeckError as error:
                self._undo_ref(base, new, old, error)

    def _bring_forward(self, holder: Path, old: str, new: str, *, dry_run: bool) -> None:
        """Move the index and files of ``holder`` (which has the base checked out) from the
        tree of ``old`` to that of ``new``, as `git merge --ff-only` does: changes of the
        user's own that the move does not touch are kept, and nothing is done if one would be
        overwritten. ``dry_run`` only says whether it can."""
        args = ["read-tree", "-m", "-u", *(["-n"] if dry_run else []), old, new]
        result = self._repo.call(*args, cwd=holder)
        blocked = _overwritten(result.err)
        if blocked and dry_run and not self._really_changed(holder, result.err, blocked):
            # Only stale stat information (files touched, not changed): refresh it, as
            # `git status` would, and ask again.
            self._repo.call("update-index", "-q", "--refresh", cwd=holder)
            result = self._repo.call(*args, cwd=holder)
            blocked = _overwritten(result.err)
        if result.status == 0:
            return
        if blocked:
            raise overwrite_refusal(str(holder), blocked)
        raise QuarterdeckError(f"could not bring {holder} forward: {result.err.strip()}")

    def landed(self, agent: Agent) -> list[str]:
        """Tips of the agent's branch whose work landed in its base (squashed or rebased) and
        is still there."""
        tips = []
        for base, tip, result in self._table.merges(agent.id):
            if base == agent.checkout.base and self._repo.is_ancestor(result, f"refs/heads/{base}"):
                tips.append(tip)
        return tips

    def _rev(self, rev: str) -> str:
        try:
            return self._repo.run("rev-parse", "--verify", "-q", f"{rev}^{{commit}}")
        except GitError:
            raise QuarterdeckError(f"{rev} does not exist") from None

    def _tree(self, commit: str) -> str:
        return self._repo.run("rev-parse", f"{commit}^{{tree}}")

    def _merge_tree(self, ours: str, theirs: str) -> tuple[str, tuple[str, ...]]:
        try:
            return self._repo.merge_tree(ours, theirs)
        except GitError as exc:
            raise QuarterdeckError(f"git merge-tree failed: {exc.stderr.strip()}") from None

    def _commit_tree(
        self, tree: str, parents: Sequence[str], message: str, env: dict[str, str] | None = None
    ) -> str:
        try:
            return self._repo.commit_tree(tree, parents, message, env)
        except GitError as exc:
            raise QuarterdeckError(f"git commit-tree failed: {exc.stderr.strip()}") from None

    def _ignored_in_the_way(self, holder: Path, old: str, new: str) -> list[str]:
        """Files the move from ``old`` to ``new`` would write in ``holder`` that are there now
        as ignored files (git would replace them without a word)."""
        out = self._repo.run("diff", "--name-only", "--no-renames", "-z", old, new)
        written = [p for p in out.split("\0") if p]
        found: list[str] = []
        for start in range(0, len(written), PATHSPEC_BATCH):
            listed = self._repo.run(
                "--literal-pathspecs",
                "ls-files",
                "-z",
                "--others",
                "--ignored",
                "--exclude-standard",
                "--",
                *written[start : start + PATHSPEC_BATCH],
                cwd=holder,
                env=READ_ONLY,
            )
            found += [p for p in listed.split("\0") if p]
        return found

    def _really_changed(self, holder: Path, err: str, paths: list[str]) -> bool:
        """Some of the ``paths`` read-tree refused are untracked, or differ from the index in
        ``holder`` by content (compared without writing the index)."""
        if "Untracked working tree file" in err:
            return True
        result = self._repo.call("diff", "--quiet", "--", *paths, cwd=holder, env=READ_ONLY)
        return result.status != 0

    def _undo_ref(self, base: str, new: str, old: str, error: QuarterdeckError) -> None:
        """Put ``base`` back where it was after its worktree could not follow it."""
        try:
            self._repo.run("update-ref", "-m", "quarterdeck: undo", f"refs/heads/{base}", old, new)
        except GitError:
            raise QuarterdeckError(
                f"{error}. {base} had already moved to {new[:7]} and moved again since, so it "
                f"was left there (it was at {old[:7]})"
            ) from None
        raise error

    def _replay(self, old: str, tip: str) -> tuple[str, tuple[str, ...], str]:
        """Replay the branch's commits (merges left out, as `git rebase` does) onto ``old``,
        one by one, with objects only. Returns (new tip, conflicts, the commit that
        conflicted)."""
        fmt = "--format=%H%x1f%P%x1f%an%x1f%ae%x1f%ad%x1f%B%x1e"
        log = self._repo.run(
            "log", "--reverse", "--topo-order", "--no-merges", "--date=raw", fmt, f"{old}..{tip}"
        )
        current, current_tree = old, self._tree(old)
        for record in log.split("\x1e"):
            record = record.strip("\n")
            if not record:
                continue
            sha, parents, name, email, date, body = record.split("\x1f", 5)
            parent = parents.split()[0] if parents else ""
            if not parent:
                raise QuarterdeckError(f"cannot rebase {sha[:7]}: it has no parent")
            if parent == current:
                current, current_tree = sha, self._tree(sha)  # already on top: kept as is
                continue
            # A throw-away commit with the current tree on the replayed commit's parent: the
            # merge of it with the commit is the commit's change applied to the current tree.
            helper = self._commit_tree(current_tree, [parent], "quarterdeck: replay", _IDENT)
            tree, conflicts = self._merge_tree(helper, sha)
            if conflicts:
                return "", conflicts, sha
            if tree == current_tree:
                continue  # its change is already there
            author = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_AUTHOR_DATE": date}
            current, current_tree = self._commit_tree(tree, [current], body, author), tree
        return current, (), ""

    def send_conflict(self, name: str) -> Message:
        """Send the agent its last merge conflict: the files, the base commit, what to do."""
        agent = self._get(name)
        conflict = self._table.conflict(agent.id)
        if conflict is None:
            raise UsageError(f"no merge conflict is recorded for {name}")
        text = conflict_message(
            agent.checkout.branch,
            conflict.base,
            conflict.base_commit,
            conflict.files,
            conflict.strategy,
        )
        return self._send([name], text, MessageMode.QUEUE)[0]

    def forget(self, agent: Agent) -> None:
        """An agent is being removed: its conflict goes (its merges stay: they are history)."""
        self._table.forget(agent.id)
