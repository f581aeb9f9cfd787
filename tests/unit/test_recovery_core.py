"""The pure parts of recovery: the restore setting, conversation ids from hook payloads, and
what a restore report says."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.agent import Restored, RestoreOutcome
from app.core.errors import UsageError
from app.core.signals import conversation_of
from app.infra.settings import load_settings


def test_the_restore_setting_is_ask_auto_or_off(tmp_path: Path) -> None:
    assert load_settings(tmp_path).restore == "ask"
    (tmp_path / ".quarterdeck.toml").write_text('restore = "auto"\n')
    assert load_settings(tmp_path).restore == "auto"
    (tmp_path / ".quarterdeck.toml").write_text('restore = "sometimes"\n')
    with pytest.raises(UsageError, match="restore 'sometimes' is not one of ask, auto, off"):
        load_settings(tmp_path)


@pytest.mark.parametrize(
    ("payload", "said"),
    [
        (
            {"session_id": "6fb82017-0076-5a01-9b17-0ebb4ae42a6f"},
            "6fb82017-0076-5a01-9b17-0ebb4ae42a6f",
        ),
        ({"session_id": "ses_01JX.a-b"}, "ses_01JX.a-b"),
        ({"type": "agent-turn-complete", "thread-id": "01a23f0d-8758"}, "01a23f0d-8758"),
        ({"session_id": "--dangerous"}, ""),  # never an option on a command line
        ({"session_id": "../../etc"}, ""),  # nor a path
        ({"session_id": 42}, ""),
        ({}, ""),
        ("text", ""),
    ],
)
def test_a_conversation_id_is_taken_only_when_it_is_safe_on_a_command_line(
    payload: object, said: str
) -> None:
    assert conversation_of(payload) == said


def test_each_restore_line_says_the_outcome_and_why() -> None:
    assert (
        Restored("api", RestoreOutcome.FRESH, "no conversation id was recorded").line()
        == "api: restored fresh (no conversation id was recorded)"
    )
    assert Restored("web", RestoreOutcome.NOT_RESTORED, "its worktree is gone").line() == (
        "web: not restored (its worktree is gone)"
    )


def test_claude_resumes_only_a_session_whose_transcript_is_the_worktrees(tmp_path: Path) -> None:
    from app.agents.claude import ADAPTER as claude
    from app.agents.claude import project_name

    env = {"CLAUDE_CONFIG_DIR": str(tmp_path / "claude"), "HOME": str(tmp_path)}
    worktree = tmp_path / "wt"
    worktree.mkdir()
    project = tmp_path / "claude" / "projects" / project_name(str(worktree))
    project.mkdir(parents=True)
    (project / "f13fc336-1f8f-4ae0-9bdf-698cd3646cfc.jsonl").write_text("{}\n")
    sid = "f13fc336-1f8f-4ae0-9bdf-698cd3646cfc"
    assert claude.resume(["claude"], sid, worktree, env) == ["claude", "--resume", sid]
    assert claude.resume(["claude"], "9d1e0000-0000-0000-0000-000000000000", worktree, env) is None
