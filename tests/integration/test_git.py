"""Git failures reach the product as `GitError` (a `QuarterdeckError`), with the command, its
exit status and what git said — never as the git library's own exception."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.errors import GitError, QuarterdeckError
from app.infra.git import Repository


def test_a_failing_git_command_raises_git_error_with_what_git_said(repo: Path) -> None:
    repository = Repository.discover(repo)
    with pytest.raises(GitError) as caught:
        repository.run("rev-parse", "--verify", "no-such-branch^{commit}")
    error = caught.value
    assert isinstance(error, QuarterdeckError)
    assert error.command == ("git", "rev-parse", "--verify", "no-such-branch^{commit}")
    assert error.status == 128
    assert "no-such-branch" in error.stderr or "Needed a single revision" in error.stderr
    assert str(error).startswith("git rev-parse --verify no-such-branch^{commit} failed")


def test_statuses_the_caller_expects_are_not_errors(repo: Path) -> None:
    repository = Repository.discover(repo)
    assert repository.run("diff", "--quiet", "HEAD", ok=(0, 1)) == ""


def test_a_git_command_that_times_out_is_a_git_error(repo: Path) -> None:
    repository = Repository.discover(repo)
    with pytest.raises(GitError, match="timed out") as caught:
        repository.run("hash-object", "--stdin", timeout=0.000001, input=b"x" * 10_000_000)
    assert caught.value.status == -1
