"""Git: the repository, agent worktrees and branches, and the refs that keep removed work."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import git

from app.core.errors import NotARepositoryError, UsageError
from app.core.naming import archive_ref


@dataclass(frozen=True)
class DiffStat:
    """Lines added and removed in a worktree against a commit (committed and uncommitted)."""

    added: int = 0
    removed: int = 0


class Repository:
    """One git repository, seen from its main working tree."""

    def __init__(self, root: Path, common_dir: Path) -> None:
        self.root = root
        self.common_dir = common_dir
        self._git = git.Git(str(root))

    @classmethod
    def discover(cls, path: Path) -> Repository:
        """The repository containing ``path``, or a `NotARepositoryError` that says what to do."""
        if not path.exists():
            raise NotARepositoryError(f"{path} does not exist")
        try:
            probe = git.Repo(str(path), search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise NotARepositoryError(
                f"{path} is not inside a git repository; run quarterdeck in a repository "
                "(or create one with `git init` and make a first commit)"
            ) from None
        if probe.bare:
            raise NotARepositoryError(f"{path} is a bare repository; quarterdeck needs a work tree")
        common = Path(probe.git.rev_parse("--path-format=absolute", "--git-common-dir"))
        porcelain = probe.git.worktree("list", "--porcelain")
        main = Path(porcelain.splitlines()[0].split(" ", 1)[1])
        repo = cls(main, common)
        if not repo.has_commits():
            raise NotARepositoryError(
                f"the repository at {main} has no commits yet; agents start from a commit, "
                "so make a first commit (e.g. `git commit --allow-empty -m init`)"
            )
        return repo

    def run(self, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
        """Run a git command in the main tree (or ``cwd``) and return its output."""
        g = self._git if cwd is None else git.Git(str(cwd))
        return str(g.execute(["git", *args], env=env))

    def has_commits(self) -> bool:
        """True when HEAD points at a commit."""
        try:
            self.run("rev-parse", "--verify", "-q", "HEAD^{commit}")
            return True
        except git.GitCommandError:
            return False

    def current_branch(self) -> str:
        """The branch checked out in the main tree, or the commit when HEAD is detached.

        Read from the main tree's HEAD file (the UI asks for it on a keypress; no subprocess).
        """
        try:
            head = (self.common_dir / "HEAD").read_text().strip()
        except OSError:
            head = ""
        if head.startswith("ref: refs/heads/"):
            return head.removeprefix("ref: refs/heads/")
        try:
            return self.run("symbolic-ref", "--short", "-q", "HEAD")
        except git.GitCommandError:
            return self.run("rev-parse", "HEAD")

    def resolve(self, rev: str) -> str:
        """The commit ``rev`` names, or a `UsageError` naming the missing base."""
        try:
            return self.run("rev-parse", "--verify", "-q", f"{rev}^{{commit}}")
        except git.GitCommandError:
            raise UsageError(
                f"base {rev!r} does not exist in {self.root}; "
                "pass an existing branch or commit with --base"
            ) from None

    def branch_exists(self, branch: str) -> bool:
        """True when ``refs/heads/<branch>`` exists."""
        try:
            self.run("show-ref", "--verify", "-q", f"refs/heads/{branch}")
            return True
        except git.GitCommandError:
            return False

    def check_branch_name(self, branch: str) -> None:
        """Raise `UsageError` unless ``branch`` is a valid branch name."""
        try:
            self.run("check-ref-format", "--branch", branch)
        except git.GitCommandError:
            raise UsageError(f"{branch!r} is not a valid git branch name") from None

    def add_worktree(self, path: Path, branch: str, base_commit: str) -> None:
        """Create ``branch`` at ``base_commit`` checked out in a new worktree at ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.run("worktree", "add", "-q", "-b", branch, str(path), base_commit)
        except git.GitCommandError as exc:
            raise UsageError(f"git worktree add failed: {exc.stderr.strip()}") from None

    def remove_worktree(self, path: Path) -> None:
        """Remove a worktree (forcefully: callers have already secured its work)."""
        if path.exists():
            self.run("worktree", "remove", "--force", "--force", str(path))
        self.run("worktree", "prune")

    def delete_branch(self, branch: str) -> None:
        """Delete a branch (callers have archived its tip first)."""
        if self.branch_exists(branch):
            self.run("branch", "-D", "-q", branch)

    def unmerged_commits(self, branch: str, base: str) -> int:
        """How many commits ``branch`` has that ``base`` does not."""
        if not self.branch_exists(branch):
            return 0
        try:
            return int(self.run("rev-list", "--count", f"{base}..refs/heads/{branch}"))
        except git.GitCommandError:
            # The base is gone: every commit of the branch counts as unmerged.
            return int(self.run("rev-list", "--count", f"refs/heads/{branch}"))

    def changed_files(self, worktree: Path) -> tuple[str, ...]:
        """Uncommitted and untracked files in a worktree (ignored files excluded)."""
        if not worktree.is_dir():
            return ()
        out = self.run("status", "--porcelain", "-z", "--untracked-files=all", cwd=worktree)
        return tuple(entry[3:] for entry in out.split("\0") if len(entry) > 3)

    def archive(self, name: str, branch: str, worktree: Path) -> list[str]:
        """Keep a branch's tip, and a snapshot of uncommitted work, under ``refs/quarterdeck``.

        Returns the refs written. An older archive of the same name is moved aside, not lost.
        """
        written: list[str] = []
        ref = archive_ref(name)
        stamp = time.strftime("%Y%m%dT%H%M%S")
        for target in (ref, f"{ref}-uncommitted"):
            try:
                old = self.run("rev-parse", "--verify", "-q", target)
                self.run("update-ref", f"{target}@{stamp}", old)
            except git.GitCommandError:
                pass
        if self.branch_exists(branch):
            self.run("update-ref", ref, f"refs/heads/{branch}")
            written.append(ref)
        if self.changed_files(worktree):
            snapshot = self._snapshot(worktree, name)
            self.run("update-ref", f"{ref}-uncommitted", snapshot)
            written.append(f"{ref}-uncommitted")
        return written

    def _snapshot(self, worktree: Path, name: str) -> str:
        """A commit of the worktree as it is (tracked and untracked), made without touching the
        worktree's own index."""
        with tempfile.TemporaryDirectory() as tmp:
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            self.run("read-tree", "HEAD", cwd=worktree, env=env)
            self.run("add", "-A", ".", cwd=worktree, env=env)
            tree = self.run("write-tree", cwd=worktree, env=env)
        ident = {
            "GIT_AUTHOR_NAME": "Quarterdeck",
            "GIT_AUTHOR_EMAIL": "quarterdeck@localhost",
            "GIT_COMMITTER_NAME": "Quarterdeck",
            "GIT_COMMITTER_EMAIL": "quarterdeck@localhost",
        }
        return self.run(
            "commit-tree",
            tree,
            "-p",
            "HEAD",
            "-m",
            f"quarterdeck: uncommitted work of {name}",
            cwd=worktree,
            env=ident,
        )

    def diff_stat(self, worktree: Path, base_commit: str) -> DiffStat:
        """Lines added/removed in the worktree (committed + uncommitted) against ``base_commit``."""
        if not worktree.is_dir():
            return DiffStat()
        try:
            out = self.run("diff", "--numstat", base_commit, cwd=worktree)
        except git.GitCommandError:
            return DiffStat()
        added = removed = 0
        for line in out.splitlines():
            a, r, _ = line.split("\t", 2)
            if a != "-":
                added += int(a)
                removed += int(r)
        return DiffStat(added, removed)
