"""Publishing an agent's branch: pushing it (setting its upstream), then opening a pull request
with `gh` when it is installed and logged in, or saying the command to run."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from app.core.agent import Agent
from app.core.errors import GitError, QuarterdeckError
from app.core.landing import first_line
from app.infra.git import Repository

#: `git push` and `gh` give up after this long (a credential prompt nobody can answer).
NETWORK_TIMEOUT = 120.0


class Publisher:
    """Pushes agents' branches and opens their pull requests."""

    def __init__(self, repo: Repository, *, get: Callable[[str], Agent]) -> None:
        """``get`` finds an agent by name."""
        self._repo = repo
        self._get = get

    def push_branch(self, name: str) -> str:
        """Push the branch (setting its upstream), then open a pull request with `gh` when it
        is installed and logged in: returns the pull request's address, or what to run."""
        agent = self._get(name)
        remote = self._remote(agent)
        ref = f"refs/heads/{agent.checkout.branch}"
        try:
            self._repo.run(
                "push",
                "-u",
                remote,
                f"{ref}:{ref}",
                env={"GIT_TERMINAL_PROMPT": "0"},
                timeout=NETWORK_TIMEOUT,
            )
        except GitError as exc:
            detail = exc.stderr.strip() or str(exc)
            raise QuarterdeckError(
                f"git push {remote} {agent.checkout.branch} failed: {detail}"
            ) from None
        pr = [
            "gh",
            "pr",
            "create",
            "--base",
            agent.checkout.base,
            "--head",
            agent.checkout.branch,
            "--title",
            first_line(agent.prompt) or agent.checkout.branch,
            "--body",
            self._pr_body(agent),
        ]
        pushed = f"pushed {agent.checkout.branch} to {remote}"
        left = self._repo.changed_files(Path(agent.checkout.worktree))
        if left:
            n = len(left)
            pushed += (
                f" (its {n} uncommitted or untracked file{'s' if n != 1 else ''} in the worktree"
                f" {'stay' if n != 1 else 'stays'} behind: only commits are pushed)"
            )
        gh = shutil.which("gh")
        if gh is None:
            return f"{pushed}; gh is not installed: open a pull request with\n{shlex.join(pr)}"
        if not _runs_ok([gh, "auth", "status"], self._repo.root):
            return f"{pushed}; gh is not logged in (gh auth login): then run\n{shlex.join(pr)}"
        try:
            done = subprocess.run(
                [gh, *pr[1:]],
                cwd=self._repo.root,
                capture_output=True,
                text=True,
                stdin=subprocess.DEVNULL,
                timeout=NETWORK_TIMEOUT,
                check=False,
                start_new_session=True,  # no terminal to prompt on
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{pushed}; gh pr create failed ({exc}): run\n{shlex.join(pr)}"
        urls = [w for w in done.stdout.split() if w.startswith(("https://", "http://"))]
        if done.returncode == 0 and urls:
            return urls[-1]
        why = (done.stderr or done.stdout).strip().splitlines()
        return f"{pushed}; gh pr create failed ({why[-1] if why else 'no output'}): run\n" + (
            shlex.join(pr)
        )

    def _remote(self, agent: Agent) -> str:
        remotes = self._repo.run("remote").split()
        if not remotes:
            raise QuarterdeckError(
                f"{self._repo.root} has no remote to push {agent.checkout.branch} to: add one "
                "(git remote add origin URL) and push again"
            )
        upstream = self._repo.call(
            "config", "--get", f"branch.{agent.checkout.base}.remote"
        ).out.decode()
        if upstream.strip() in remotes:
            return upstream.strip()
        if "origin" in remotes:
            return "origin"
        if len(remotes) == 1:
            return remotes[0]
        raise QuarterdeckError(
            f"several remotes ({', '.join(remotes)}) and none is origin or {agent.checkout.base}'s "
            f"upstream: push by hand with git push -u REMOTE {agent.checkout.branch}"
        )

    def _pr_body(self, agent: Agent) -> str:
        log = self._repo.call(
            "log",
            "--reverse",
            "--format=- %h %s",
            f"{agent.checkout.base}..refs/heads/{agent.checkout.branch}",
        )
        commits = log.out.decode("utf-8", "replace").strip()
        parts = [f"Work of the Quarterdeck agent `{agent.name}` ({agent.kind})."]
        if agent.prompt.strip():
            parts.append("Task:\n\n" + "\n".join("> " + line for line in agent.prompt.splitlines()))
        if commits:
            parts.append("Commits:\n\n" + commits)
        # What the pushed branch changes (uncommitted work in the worktree is not pushed).
        stat = self._repo.call(
            "diff", "--shortstat", f"{agent.checkout.base}...refs/heads/{agent.checkout.branch}"
        )
        shortstat = stat.out.decode("utf-8", "replace").strip()
        if shortstat:
            parts.append(shortstat)
        return "\n\n".join(parts) + "\n"


def _runs_ok(argv: list[str], cwd: Path) -> bool:
    try:
        done = subprocess.run(
            argv,
            cwd=cwd,
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=30,
            check=False,
            start_new_session=True,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0
