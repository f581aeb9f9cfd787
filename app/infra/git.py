"""Git: the repository, agent worktrees and branches, and the refs that keep removed work."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Container, Sequence
from dataclasses import dataclass
from pathlib import Path

import git

from app.core.errors import GitError, NotARepositoryError, UsageError
from app.core.naming import archive_ref

#: For commands that only look: git skips the opportunistic index refresh that `status` and
#: `diff` otherwise write back, so looking never changes a worktree's index.
READ_ONLY = {"GIT_OPTIONAL_LOCKS": "0"}

#: What a worktree can be in the middle of (a file or folder in its git dir), in words.
_IN_PROGRESS = (
    ("MERGE_HEAD", "a merge"),
    ("CHERRY_PICK_HEAD", "a cherry-pick"),
    ("REVERT_HEAD", "a revert"),
    ("rebase-merge", "a rebase"),
    ("rebase-apply", "a rebase or am"),
)

#: Who Quarterdeck's own commits (archive snapshots, a task's work in progress when the user
#: has no identity configured) are by.
QUARTERDECK_IDENTITY = {
    "GIT_AUTHOR_NAME": "Quarterdeck",
    "GIT_AUTHOR_EMAIL": "quarterdeck@localhost",
    "GIT_COMMITTER_NAME": "Quarterdeck",
    "GIT_COMMITTER_EMAIL": "quarterdeck@localhost",
}

#: Inherited variables that would point git somewhere other than the directory it runs in.
_LOCATION_VARS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_PREFIX")


@dataclass(frozen=True)
class GitResult:
    """One finished git command: its exit status, output (bytes) and error text."""

    status: int
    out: bytes
    err: str

    @property
    def text(self) -> str:
        """The output as text, without its final newline (undecodable bytes kept as escapes)."""
        text = self.out.decode("utf-8", "surrogateescape")
        return text[:-1] if text.endswith("\n") else text


class Repository:
    """One git repository, seen from its main working tree."""

    def __init__(self, root: Path, common_dir: Path) -> None:
        self.root = root
        self.common_dir = common_dir

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
        try:
            common = Path(probe.git.rev_parse("--path-format=absolute", "--git-common-dir"))
            porcelain = probe.git.worktree("list", "--porcelain")
        except git.GitCommandError as exc:
            raise GitError(
                [str(a) for a in exc.command],
                exc.status if isinstance(exc.status, int) else -1,
                str(exc.stderr),
                str(exc.stdout),
            ) from None
        main = Path(porcelain.splitlines()[0].split(" ", 1)[1])
        repo = cls(main, common)
        if not repo.has_commits():
            raise NotARepositoryError(
                f"the repository at {main} has no commits yet; agents start from a commit, "
                "so make a first commit (e.g. `git commit --allow-empty -m init`)"
            )
        return repo

    def call(
        self,
        *args: str,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        input: bytes | None = None,
        timeout: float | None = None,
    ) -> GitResult:
        """Run one git command in the main tree (or ``cwd``), whatever its exit status. Every
        git command Quarterdeck runs goes through here.

        It runs in a session of its own: without a controlling terminal nothing it starts
        (ssh asking for a passphrase or about a host key) can read the dashboard's keys, and
        on a timeout its whole process group is killed, ssh included."""
        full = {k: v for k, v in os.environ.items() if k not in _LOCATION_VARS}
        full.update({"LANGUAGE": "C", "LC_ALL": "C"})
        full.update(env or {})
        with subprocess.Popen(
            ["git", *args],
            cwd=str(cwd or self.root),
            env=full,
            stdin=subprocess.DEVNULL if input is None else subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        ) as proc:
            try:
                out, err = proc.communicate(input, timeout=timeout)
            except subprocess.TimeoutExpired as exc:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
                raise GitError(["git", *args], -1, f"timed out after {timeout}s") from exc
        return GitResult(proc.returncode, out, err.decode("utf-8", "replace"))

    def run(
        self,
        *args: str,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        ok: Container[int] = (0,),
        input: bytes | None = None,
        timeout: float | None = None,
    ) -> str:
        """Run a git command in the main tree (or ``cwd``) and return its output; a
        `GitError` unless it exits with a status in ``ok``."""
        result = self.call(*args, cwd=cwd, env=env, input=input, timeout=timeout)
        if result.status not in ok:
            raise GitError(["git", *args], result.status, result.err, result.text)
        return result.text

    def has_commits(self) -> bool:
        """True when HEAD points at a commit."""
        try:
            self.run("rev-parse", "--verify", "-q", "HEAD^{commit}")
            return True
        except GitError:
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
        except GitError:
            return self.run("rev-parse", "HEAD")

    def resolve(self, rev: str) -> str:
        """The commit ``rev`` names, or a `UsageError` naming the missing base."""
        try:
            return self.run("rev-parse", "--verify", "-q", f"{rev}^{{commit}}")
        except GitError:
            raise UsageError(
                f"base {rev!r} does not exist in {self.root}; "
                "pass an existing branch or commit with --base"
            ) from None

    def branch_exists(self, branch: str) -> bool:
        """True when ``refs/heads/<branch>`` exists."""
        try:
            self.run("show-ref", "--verify", "-q", f"refs/heads/{branch}")
            return True
        except GitError:
            return False

    def check_branch_name(self, branch: str) -> None:
        """Raise `UsageError` unless ``branch`` is a valid branch name."""
        try:
            self.run("check-ref-format", "--branch", branch)
        except GitError:
            raise UsageError(f"{branch!r} is not a valid git branch name") from None

    def add_worktree(self, path: Path, branch: str, base_commit: str) -> None:
        """Create ``branch`` at ``base_commit`` checked out in a new worktree at ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.run("worktree", "add", "-q", "-b", branch, str(path), base_commit)
        except GitError as exc:
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

    def unmerged_commits(self, branch: str, base: str, landed: Sequence[str] = ()) -> int:
        """How many commits ``branch`` has that ``base`` does not (nor any of the ``landed``
        commits: branch tips whose work is already in the base, squashed or rebased)."""
        if not self.branch_exists(branch):
            return 0
        also = [f"^{commit}" for commit in landed]
        try:
            return int(self.run("rev-list", "--count", f"{base}..refs/heads/{branch}", *also))
        except GitError:
            # The base is gone: every commit of the branch counts as unmerged.
            return int(self.run("rev-list", "--count", f"refs/heads/{branch}", *also))

    def changed_files(self, worktree: Path) -> tuple[str, ...]:
        """Uncommitted and untracked files in a worktree (ignored files excluded). Only looks:
        the worktree's index is not refreshed."""
        if not worktree.is_dir():
            return ()
        out = self.run(
            "status", "--porcelain", "-z", "--untracked-files=all", cwd=worktree, env=READ_ONLY
        )
        entries = out.split("\0")
        files = []
        skip = False
        for entry in entries:
            if skip:  # the old name of a rename
                skip = False
                continue
            if len(entry) > 3:
                files.append(entry[3:])
                skip = entry[0] in "RC"
        return tuple(files)

    def is_ancestor(self, commit: str, of: str) -> bool:
        """True when ``commit`` is ``of`` or one of its ancestors."""
        return self.call("merge-base", "--is-ancestor", commit, of).status == 0

    def merge_tree(self, ours: str, theirs: str) -> tuple[str, tuple[str, ...]]:
        """The tree of merging two commits (objects only: no index, no worktree), and the
        conflicting files (empty when it merges cleanly)."""
        result = self.call(
            "merge-tree", "--write-tree", "--name-only", "--no-messages", "-z", ours, theirs
        )
        if result.status not in (0, 1):
            raise GitError(["git", "merge-tree", ours, theirs], result.status, result.err)
        parts = result.out.decode("utf-8", "surrogateescape").split("\0")
        conflicts = tuple(sorted({p for p in parts[1:] if p})) if result.status == 1 else ()
        return parts[0].strip(), conflicts

    def commit_tree(
        self, tree: str, parents: Sequence[str], message: str, env: dict[str, str] | None = None
    ) -> str:
        """A commit of ``tree`` on ``parents`` (no ref moved)."""
        args = ["commit-tree", tree]
        for parent in parents:
            args += ["-p", parent]
        return self.run(*args, "-F", "-", input=message.encode(), env=env)

    def identity(self, worktree: Path) -> dict[str, str]:
        """The environment that gives a commit in ``worktree`` an author: none when the user
        configured one, Quarterdeck's otherwise."""
        configured = self.call("config", "--get", "user.email", cwd=worktree, env=READ_ONLY)
        return {} if configured.status == 0 and configured.text.strip() else QUARTERDECK_IDENTITY

    def commit_all(self, worktree: Path, message: str) -> str:
        """Commit everything in ``worktree`` (tracked and untracked, ignored files left out)
        on its branch; returns the new commit, '' when there was nothing to commit."""
        if not self.changed_files(worktree):
            return ""
        env = self.identity(worktree)
        self.run("add", "-A", ".", cwd=worktree)
        self.run("commit", "-q", "--no-verify", "-m", message, cwd=worktree, env=env)
        return self.run("rev-parse", "HEAD", cwd=worktree)

    def change_size(self, old: str, new: str) -> tuple[int, int, int]:
        """Lines added, lines removed and files changed from ``old`` to ``new``."""
        out = self.run("diff", "--numstat", "--no-renames", old, new)
        added = removed = files = 0
        for line in out.splitlines():
            plus, minus, _ = [*line.split("\t", 2), "", ""][:3]
            files += 1
            added += int(plus) if plus.isdigit() else 0
            removed += int(minus) if minus.isdigit() else 0
        return added, removed, files

    def worktrees_on(self, branch: str) -> list[Path]:
        """The worktrees (the main one included) that have ``branch`` checked out, or are in
        the middle of rebasing or bisecting it (detached meanwhile; git moves the branch when
        that ends)."""
        out = self.run("worktree", "list", "--porcelain", "-z")
        found, path = [], ""
        ref = f"refs/heads/{branch}"
        for field in out.split("\0"):
            if field.startswith("worktree "):
                path = field.removeprefix("worktree ")
            elif field == f"branch {ref}" or (
                field == "detached" and self._busy_with(Path(path), ref)
            ):
                found.append(Path(path))
        return found

    def worktree_branches(self) -> list[tuple[Path, str]]:
        """Every linked and main worktree with the branch it has checked out ('' if none)."""
        out = self.run("worktree", "list", "--porcelain", "-z")
        found: list[tuple[Path, str]] = []
        for field in out.split("\0"):
            if field.startswith("worktree "):
                found.append((Path(field.removeprefix("worktree ")), ""))
            elif field.startswith("branch refs/heads/") and found:
                found[-1] = (found[-1][0], field.removeprefix("branch refs/heads/"))
        return found

    def branches(self, prefix: str) -> list[str]:
        """The local branches whose names start with ``prefix``."""
        out = self.run("for-each-ref", "--format=%(refname:short)", f"refs/heads/{prefix}")
        return [line for line in out.splitlines() if line.startswith(prefix)]

    def merge_base(self, one: str, other: str) -> str | None:
        """The best common ancestor of two commits, None when they share none."""
        result = self.call("merge-base", one, other, env=READ_ONLY)
        return result.text.strip() if result.status == 0 else None

    def git_dir(self, worktree: Path) -> Path | None:
        """The worktree's own git dir (``.git``, or ``.git/worktrees/<name>`` for a linked
        one), where git keeps what the worktree is in the middle of; None if it is gone."""
        if not worktree.is_dir():
            return None
        result = self.call("rev-parse", "--absolute-git-dir", cwd=worktree, env=READ_ONLY)
        return Path(result.text.strip()) if result.status == 0 else None

    def operation_in_progress(self, worktree: Path) -> str:
        """What the worktree is in the middle of (``a merge``, ``a rebase``…), '' if nothing."""
        gitdir = self.git_dir(worktree)
        if gitdir is None:
            return ""
        return next((what for name, what in _IN_PROGRESS if (gitdir / name).exists()), "")

    def _busy_with(self, worktree: Path, ref: str) -> bool:
        """The detached worktree is rebasing or bisecting ``ref``."""
        gitdir = self.git_dir(worktree)
        if gitdir is None:
            return False
        for name in ("rebase-merge/head-name", "rebase-apply/head-name", "BISECT_START"):
            try:
                named = (gitdir / name).read_text().strip()
            except OSError:
                continue
            if named in (ref, ref.removeprefix("refs/heads/")):
                return True
        return False

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
            except GitError:
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
        return self.run(
            "commit-tree",
            tree,
            "-p",
            "HEAD",
            "-m",
            f"quarterdeck: uncommitted work of {name}",
            cwd=worktree,
            env=QUARTERDECK_IDENTITY,
        )
