"""Fixtures of the integration tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import git


@pytest.fixture
def user_repo(repo: Path) -> Iterator[Path]:
    """The repository with a ``develop`` branch for agents to land in, and the user's main
    worktree (on ``main``) dirty: a modified file, a staged file, an untracked file."""
    git(repo, "branch", "develop")
    (repo / "README.md").write_text("# test repo\nthe user's unsaved edit\n")
    (repo / "staged.txt").write_text("staged by the user\n")
    git(repo, "add", "staged.txt")
    (repo / "scratch.txt").write_text("untracked notes\n")
    yield repo
