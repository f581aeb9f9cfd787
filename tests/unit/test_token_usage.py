"""Each CLI's token count, read from files shaped like the ones it writes (tests/fixtures/usage):
only the sessions in the worktree that started since the round began, each message once, input
read from a cache left out, malformed lines skipped, a file read on from where it was left, and
nothing a strange file holds ever raised."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest

from app.agents import aider, claude, codex, demo, gemini, opencode
from app.agents.registry import builtin_adapters
from app.agents.usage import Tally, folders, iso_time, number, tally
from app.demo import agent as demo_agent
from app.infra.settings import builtin_profiles

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "usage"
#: The worktree the fixtures' sessions ran in.
WORKTREE = Path("/srv/qd/worktrees/shop-1a2b3c4d/fix-login")
#: The round's start: after the fixtures' earlier sessions, before the ones that count.
SINCE = datetime(2026, 11, 21, 8, 5, tzinfo=UTC).timestamp()
LATER = datetime(2026, 11, 21, 12, 0, tzinfo=UTC).timestamp()
#: When the fixtures' files were last written (after every session in them).
WRITTEN = datetime(2026, 11, 21, 9, 0, tzinfo=UTC).timestamp()


def fixture(name: str, tmp_path: Path) -> Path:
    """A copy of a fixture folder whose files were last written at `WRITTEN`."""
    copy = tmp_path / name
    shutil.copytree(FIXTURES / name, copy)
    for path in copy.rglob("*"):
        if path.is_file():
            os.utime(path, (WRITTEN, WRITTEN))
    return copy


def test_claude_counts_each_message_once_without_cache_reads_and_its_subagents(
    tmp_path: Path,
) -> None:
    env = {"CLAUDE_CONFIG_DIR": str(fixture("claude", tmp_path)), "HOME": str(tmp_path)}
    # msg_01A 3 + 2285 cache written + 310 out (its partial count 2 is not added); msg_01B
    # 5 + 120 + 88 once though written twice; the subagent 12 + 1500 + 400. Left out: cache
    # reads, the torn line, the earlier session and the folder whose name is spelt the same.
    assert claude.ADAPTER.tokens_used(WORKTREE, env, SINCE) == 2598 + 213 + 1912
    assert claude.ADAPTER.tokens_used(WORKTREE, env, LATER) is None
    assert claude.ADAPTER.tokens_used(Path("/srv/nowhere"), env, SINCE) is None


def test_claude_names_a_folder_as_it_does() -> None:
    assert claude.project_name("/home/u/my_repo.v2/x y") == "-home-u-my-repo-v2-x-y"
    assert claude.project_name("/h/é𝄞") == "-h----"  # é one UTF-16 unit, 𝄞 two


def test_claude_finds_a_long_folder_by_the_beginning_of_its_name(tmp_path: Path) -> None:
    worktree = Path("/srv/" + "deep/" * 45 + "fix-login")
    name = claude.project_name(str(worktree))[:200] + "-1x2y3z"
    source = next((FIXTURES / "claude" / "projects").iterdir()) / (
        "6f1c2b7e-3d4a-4e5f-9a8b-7c6d5e4f3a2b.jsonl"
    )
    place = tmp_path / "projects" / name
    place.mkdir(parents=True)
    (place / "s.jsonl").write_text(source.read_text().replace(str(WORKTREE), str(worktree)))
    env = {"CLAUDE_CONFIG_DIR": str(tmp_path)}
    assert claude.ADAPTER.tokens_used(worktree, env, SINCE) == 2598 + 213


def test_codex_takes_the_last_running_total_of_the_worktree_s_rollouts(tmp_path: Path) -> None:
    env = {"CODEX_HOME": str(fixture("codex", tmp_path))}
    # The last total: 10650 in, 5120 of them cached; 180 out (its 64 of reasoning included).
    assert codex.ADAPTER.tokens_used(WORKTREE, env, SINCE) == 10650 - 5120 + 180
    assert codex.ADAPTER.tokens_used(WORKTREE, env, LATER) is None
    assert codex.ADAPTER.tokens_used(Path("/srv/other/checkout"), env, SINCE) == 99000


def test_gemini_counts_each_reply_once_less_its_cached_input(tmp_path: Path) -> None:
    home = fixture("gemini", tmp_path)
    env = {"GEMINI_CLI_HOME": str(home)}
    # Reply 1: 1096 in all, none cached (written twice, and carried again by a $set); reply 2:
    # 1220 less 900 cached (rewound, yet spent); the subagent's 500 less 100.
    assert gemini.ADAPTER.tokens_used(WORKTREE, env, SINCE) == 1096 + 320 + 400
    assert gemini.ADAPTER.tokens_used(WORKTREE, env, LATER) is None
    # Without the registry, the project's .project_root names the folder.
    (home / ".gemini" / "projects.json").unlink()
    assert gemini.ADAPTER.tokens_used(WORKTREE, env, SINCE) == 1816
    (home / ".gemini" / "projects.json").write_text("[1, 2")
    assert gemini.ADAPTER.tokens_used(WORKTREE, env, SINCE) == 1816


def opencode_home(tmp_path: Path) -> dict[str, str]:
    data = tmp_path / "share" / "opencode"
    data.mkdir(parents=True)
    with sqlite3.connect(data / "opencode.db") as db:
        db.executescript((FIXTURES / "opencode" / "opencode.sql").read_text())
    return {"XDG_DATA_HOME": str(tmp_path / "share"), "HOME": str(tmp_path)}


def test_opencode_sums_the_assistant_messages_of_the_worktree_s_sessions(tmp_path: Path) -> None:
    env = opencode_home(tmp_path)
    # 1200 + 300 + 50 reasoning + 400 cache written, then 80 + 20 (cache reads left out), and
    # the subagent session's 500 + 100; not the earlier session, nor another folder's.
    assert opencode.ADAPTER.tokens_used(WORKTREE, env, SINCE) == 1950 + 100 + 600
    assert opencode.ADAPTER.tokens_used(WORKTREE, env, LATER) is None
    moved = tmp_path / "elsewhere.db"
    (tmp_path / "share" / "opencode" / "opencode.db").rename(moved)
    assert opencode.ADAPTER.tokens_used(WORKTREE, env, SINCE) is None
    assert opencode.ADAPTER.tokens_used(WORKTREE, {**env, "OPENCODE_DB": str(moved)}, SINCE) == 2650


def test_aider_adds_up_the_reports_of_the_sessions_since(tmp_path: Path) -> None:
    worktree = fixture("aider", tmp_path)
    since = time.mktime(time.strptime("2026-11-21 08:00:00", "%Y-%m-%d %H:%M:%S"))
    # 2.5k sent + 25 received, then 12k sent (its cache write in it; the 8.0k read from the
    # cache apart) + 310; the earlier session's 9.9k and the line it cannot read are not.
    assert aider.ADAPTER.tokens_used(worktree, {}, since) == 2525 + 12310
    assert aider.ADAPTER.tokens_used(worktree, {}, since + 3 * 3600) is None
    moved = worktree / "notes" / "chat.md"
    moved.parent.mkdir()
    (worktree / ".aider.chat.history.md").rename(moved)
    env = {"AIDER_CHAT_HISTORY_FILE": "notes/chat.md"}
    assert aider.ADAPTER.tokens_used(worktree, env, since) == 14835


def test_the_demo_agent_s_usage_file_is_in_its_worktree_s_git_folder(tmp_path: Path) -> None:
    assert demo_agent.USAGE_FILE == demo.USAGE_FILE
    git_dir = tmp_path / "repo" / ".git" / "worktrees" / "fix-login"
    git_dir.parent.mkdir(parents=True)
    shutil.copytree(FIXTURES / "demo", git_dir)
    worktree = tmp_path / "fix-login"
    worktree.mkdir()
    (worktree / ".git").write_text(f"gitdir: {git_dir}\n")
    os.utime(git_dir / demo.USAGE_FILE, (WRITTEN, WRITTEN))
    # The run that started since: three calls; not the earlier run's.
    assert demo.ADAPTER.tokens_used(worktree, None, SINCE) == 464 + 564 + 664
    assert demo.ADAPTER.tokens_used(tmp_path / "repo", None, SINCE) is None


def test_a_configured_kind_reads_in_the_config_home_of_its_env(tmp_path: Path) -> None:
    home = fixture("claude", tmp_path)
    profile = replace(builtin_profiles()["claude"], env={"CLAUDE_CONFIG_DIR": str(home)})
    adapter = builtin_adapters().for_kind("claude", profile)
    assert adapter.tokens_used(WORKTREE, None, SINCE) == 4723
    mine = replace(builtin_profiles()["shell"], kind="mine", hooks="claude")
    assert builtin_adapters().for_kind("mine", mine).tokens_used(WORKTREE, None, SINCE) is None


class Lines(Tally):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[bytes] = []

    def feed(self, line: bytes) -> None:
        self.lines.append(line)


def test_a_file_is_read_on_from_where_it_was_left_and_anew_when_replaced(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_bytes(b"one\ntw")
    first = tally(path, Lines)
    assert first is not None and first.lines == [b"one\n"]  # a line being written waits
    with path.open("ab") as fh:
        fh.write(b"o\nthree\n")
    again = tally(path, Lines)
    assert again is first and first.lines == [b"one\n", b"two\n", b"three\n"]
    replaced = tmp_path / "new"
    replaced.write_bytes(b"four\n")
    replaced.replace(path)
    fresh = tally(path, Lines)
    assert fresh is not first and fresh is not None and fresh.lines == [b"four\n"]
    assert tally(tmp_path / "missing", Lines) is None


def test_reading_stops_at_a_line_that_shows_the_file_is_another_folder_s(tmp_path: Path) -> None:
    path = tmp_path / "rollout.jsonl"
    meta = {"type": "session_meta", "payload": {"cwd": "/b", "timestamp": "2026-11-21T08:00Z"}}
    usage = {"input_tokens": 10, "cached_input_tokens": 4, "output_tokens": 1}
    info = {"total_token_usage": usage}
    count = {"type": "event_msg", "payload": {"type": "token_count", "info": info}}
    path.write_text(json.dumps(meta) + "\n" + json.dumps(count) + "\n")
    for_a = tally(path, codex.Rollout, frozenset({"/a"}))
    assert for_a is not None and for_a.cwd == "/b" and for_a.used == 0  # stopped at its meta
    for_b = tally(path, codex.Rollout, frozenset({"/b"}))
    assert for_b is for_a and for_b.used == 7  # read on from there


@pytest.mark.parametrize("module", [claude, codex, gemini, opencode, aider, demo])
def test_nothing_found_or_strange_files_give_none_and_never_raise(
    module: ModuleType, tmp_path: Path
) -> None:
    env = {
        "HOME": str(tmp_path),
        "CLAUDE_CONFIG_DIR": str(tmp_path / "claude"),
        "CODEX_HOME": str(tmp_path / "codex"),
        "GEMINI_CLI_HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path / "share"),
    }
    worktree = tmp_path / "wt"
    worktree.mkdir()
    read = module.ADAPTER.tokens_used
    assert read(worktree, env, 0.0) is None
    # What each CLI's file would be, made of junk: binary, a folder, a text file.
    day = datetime.now().strftime("%Y/%m/%d")
    junk = [
        tmp_path / "claude" / "projects" / claude.project_name(str(worktree)) / "s.jsonl",
        tmp_path / "codex" / "sessions" / day / "rollout-x.jsonl",
        tmp_path / ".gemini" / "tmp" / "wt" / "chats" / "session-x.jsonl",
        tmp_path / "share" / "opencode" / "opencode.db",
        worktree / ".aider.chat.history.md",
    ]
    for path in junk:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\xff\xfe\x00[{\n" * 3 + b'{"type":"assistant","message":{"usage":7}}\n')
    (tmp_path / ".gemini" / "tmp" / "wt" / ".project_root").write_text(str(worktree))
    (worktree / ".git").mkdir()
    (worktree / ".git" / demo.USAGE_FILE).mkdir()
    assert read(worktree, env, 0.0) in (None, 0)


def test_the_shared_readers_take_what_cli_files_hold() -> None:
    assert [number(v) for v in (7, 7.9, -3, "7", None, True, float("nan"))] == [7, 7, 0, 0, 0, 0, 0]
    assert iso_time("2026-11-21T08:05:00Z") == SINCE
    assert iso_time("2026-11-21T08:05:00.000+00:00") == SINCE
    assert iso_time("yesterday") is None and iso_time(12) is None
    assert str(WORKTREE) in folders(WORKTREE)
