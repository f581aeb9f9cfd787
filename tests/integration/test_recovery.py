"""Nothing lost to races or a lost or damaged state database, as a user meets them: real
``quarterdeck`` processes, a real repository, a private tmux server, real SQLite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.core.agent import SpawnRequest
from app.core.status import Status
from app.core.views import WORKTREE_GONE
from app.fleet.fleet import Fleet
from tests.helpers import git, wait_for

QD = str(Path(sys.executable).with_name("quarterdeck"))


def qd(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([QD, "-C", str(repo), *args], capture_output=True, text=True, timeout=90)


def listed(repo: Path) -> dict[str, dict[str, object]]:
    out = qd(repo, "ls", "--json")
    assert out.returncode == 0, out.stderr
    return {a["name"]: a for a in json.loads(out.stdout)}


def state_db(repo: Path) -> Path:
    return repo / ".git" / "quarterdeck" / "state.db"


def windows(repo: Path) -> set[str]:
    socket = os.environ["QUARTERDECK_TMUX_SOCKET"]
    out = subprocess.run(
        ["tmux", "-L", socket, "list-windows", "-a", "-F", "#{window_name}"],
        capture_output=True,
        text=True,
        check=False,
    )
    return set(out.stdout.split())


def start(repo: Path, name: str) -> None:
    out = qd(repo, "new", "", "--agent", "demo", "--name", name, "--no-wait")
    assert out.returncode == 0, out.stderr


@pytest.mark.slow
def test_twenty_new_at_once_with_one_prompt_all_start_under_distinct_names(repo: Path) -> None:
    procs = [
        subprocess.Popen(
            [QD, "-C", str(repo), "new", "fix the login bug", "--agent", "demo", "--no-wait"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(20)
    ]
    results = [(p.wait(timeout=180), *p.communicate()) for p in procs]
    assert [(rc, err) for rc, _out, err in results if rc != 0] == []
    names = set(listed(repo))
    assert len(names) == 20 and "fix-login-bug" in names
    assert names <= windows(repo)
    branches = git(repo, "branch", "--list", "qd/*", "--format=%(refname:short)").split()
    assert sorted(branches) == sorted(f"qd/{n}" for n in names)


def test_a_damaged_database_is_named_in_one_line_and_the_repair_takes_the_agents_back(
    repo: Path,
) -> None:
    start(repo, "alpha")
    start(repo, "beta")
    before = listed(repo)
    db = state_db(repo)
    db.write_bytes(os.urandom(4096))
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    for args in (
        ("ls",),
        ("new", "more work", "--agent", "demo"),
        ("send", "alpha", "hello"),
        ("wait", "alpha", "--until", "idle", "--timeout", "1"),
        ("rm", "beta"),
        ("diff", "alpha"),
        ("task", "ls"),
        ("task", "add", "a task", "--agent", "demo"),
        ("dashboard",),
    ):
        out = qd(repo, *args)
        assert out.returncode == 1, (args, out.stdout, out.stderr)
        assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr, (args, out.stderr)
        assert f"the state database {db} is damaged" in out.stderr, (args, out.stderr)
        assert "quarterdeck doctor --repair" in out.stderr
    repaired = qd(repo, "doctor", "--repair")
    assert repaired.returncode == 0, repaired.stderr
    assert "set the damaged state database aside as" in repaired.stdout
    assert "took back alpha (demo) on qd/alpha: its window runs" in repaired.stdout
    assert list(db.parent.glob("state.db.damaged-*")), "the damaged file is kept"
    after = listed(repo)
    assert set(after) == {"alpha", "beta"}
    for name in ("alpha", "beta"):  # the same agents: ids, worktrees and panes
        assert {k: after[name][k] for k in ("id", "worktree", "pane", "branch")} == {
            k: before[name][k] for k in ("id", "worktree", "pane", "branch")
        }
    sent = qd(repo, "send", "beta", "are you there")
    assert sent.returncode == 0 and "delivered to beta" in sent.stdout, sent.stderr


def test_a_deleted_database_offers_the_agents_back_and_new_takes_a_free_name(
    repo: Path,
) -> None:
    start(repo, "gamma")
    for part in state_db(repo).parent.glob("state.db*"):
        part.unlink()
    out = qd(repo, "ls")
    assert out.returncode == 0
    assert "1 agent without a record" in out.stderr and "quarterdeck doctor --repair" in out.stderr
    assert "gamma (demo) on qd/gamma: its window runs" in out.stderr
    # A name from the prompt steers clear of the branch the unrecorded agent holds.
    made = qd(repo, "new", "gamma", "--agent", "demo", "--no-wait")
    assert made.returncode == 0 and "started gamma-2" in made.stdout, made.stderr
    # A worktree made by hand under the root, and a branch with nothing else of an agent.
    root = Path(str(listed(repo)["gamma-2"]["worktree"])).parent
    git(repo, "worktree", "add", "-q", str(root / "handmade"), "-b", "qd/handmade")
    git(repo, "branch", "qd/orphan")
    repaired = qd(repo, "doctor", "--repair")
    assert repaired.returncode == 0, repaired.stderr
    assert "the state database" in repaired.stdout and "is sound" in repaired.stdout
    assert "took back gamma (demo)" in repaired.stdout
    assert "took back handmade (shell) on qd/handmade: no window" in repaired.stdout
    assert "branch qd/orphan has no agent and no worktree: left as it is" in repaired.stdout
    after = listed(repo)
    assert set(after) == {"gamma", "gamma-2", "handmade"}
    assert after["handmade"]["status"] == "exited"
    assert git(repo, "rev-parse", "--verify", "qd/orphan")  # untouched
    again = qd(repo, "doctor", "--repair")
    assert "took back" not in again.stdout and "3 agents recorded" in again.stdout


def test_a_reader_that_leaves_early_gets_no_traceback(repo: Path) -> None:
    read, write = os.pipe()
    os.close(read)
    try:
        out = subprocess.run(
            [QD, "-C", str(repo), "ls"], stdout=write, stderr=subprocess.PIPE, text=True, timeout=60
        )
    finally:
        os.close(write)
    assert out.returncode == 1 and out.stderr == ""


def pane_text(pane: str) -> str:
    socket = os.environ["QUARTERDECK_TMUX_SOCKET"]
    out = subprocess.run(
        ["tmux", "-L", socket, "capture-pane", "-p", "-t", pane],
        capture_output=True,
        text=True,
        check=False,
    )
    return out.stdout


@pytest.mark.slow
def test_a_lost_tmux_server_is_offered_back_and_restore_resumes_each_conversation(
    repo: Path,
) -> None:
    # Demo agents that never stop for a dialog, so each turn ends by itself.
    config = (
        '[agents.demo]\ncommand = ["{python}", "-m", "app.demo.agent", "--behaviour", "worker",'
        ' "--speed", "5"]\n'
    )
    (repo / ".quarterdeck.toml").write_text(config)
    fleet = Fleet.open(repo)
    for name, task in (("ann", "write the parser"), ("bob", "draw the logo"), ("cy", "")):
        fleet.spawn(SpawnRequest(prompt=task, kind="demo", name=name))

    def idle(*names: str) -> bool:
        fleet.sweep(deliver=True)
        return all(fleet.get(n).shown.status is Status.IDLE and fleet.get(n).started for n in names)

    # One that ends by itself before the server goes: not offered back.
    quitter = "{python} -m app.demo.agent --behaviour quitter --speed 5"
    fleet.spawn(SpawnRequest(prompt="say bye", kind="demo", name="dee", command=quitter))
    wait_for(lambda: idle("ann", "bob", "cy"), timeout=60, what="the first turns")
    wait_for(
        lambda: fleet.sweep() is not None and fleet.get("dee").shown.status is Status.EXITED,
        timeout=60,
        what="the quitter's exit",
    )
    sent = qd(repo, "send", "ann", "now add tests")
    assert sent.returncode == 0 and "delivered to ann" in sent.stdout, sent.stderr
    wait_for(lambda: idle("ann"), timeout=60, what="ann's second turn")
    before = listed(repo)
    gitdir = repo / ".git" / "worktrees" / "cy" / "quarterdeck-demo-conversations"
    for kept in gitdir.glob("*.jsonl"):
        kept.unlink()
    subprocess.run(["tmux", "-L", os.environ["QUARTERDECK_TMUX_SOCKET"], "kill-server"])

    offered = qd(repo, "ls")
    assert offered.returncode == 0
    assert "3 agents were live when their windows went away (ann, bob, cy)" in offered.stderr
    assert "quarterdeck restore --all" in offered.stderr
    missing = qd(repo, "restore", "nobody", "dee")
    assert missing.returncode == 1
    assert missing.stdout.splitlines() == [
        "nobody: not restored (no agent of that name is recorded)",
        "dee: not restored (it had exited by itself before its window went)",
    ]
    # Opening the dashboard offers them (asked at a terminal; here none) ...
    opened = qd(repo, "open", "--detach")
    assert opened.returncode == 0, opened.stderr
    assert "3 agent(s) were live when their windows went away: ann, bob, cy" in opened.stdout
    assert "bring them back with: quarterdeck restore --all" in opened.stderr
    assert listed(repo)["ann"]["status"] == "exited"
    # ... and restores them itself with restore = "auto".
    (repo / ".quarterdeck.toml").write_text('restore = "auto"\n' + config)
    restored = qd(repo, "open", "--detach")
    assert restored.returncode == 0, restored.stdout + restored.stderr
    lines = [line for line in restored.stdout.splitlines() if "restored" in line]
    assert lines[0].startswith("ann: restored with its conversation (conversation ")
    assert lines[1].startswith("bob: restored with its conversation")
    assert lines[2].startswith("cy: restored fresh (its conversation")
    after = listed(repo)
    for key in ("id", "worktree", "branch"):  # the same agents, in their own worktrees
        assert {n: a[key] for n, a in after.items()} == {n: a[key] for n, a in before.items()}
    again = qd(repo, "send", "ann", "then a changelog")  # the dashboard delivers it
    assert again.returncode == 0 and "delivered to ann" in again.stdout, again.stderr
    assert qd(repo, "wait", "ann", "--until", "idle", "--timeout", "60").returncode == 0
    screen = pane_text(str(listed(repo)["ann"]["pane"]))
    assert "Resumed conversation" in screen and "2 earlier tasks" in screen
    assert "↺ Continuing our conversation: 2 earlier tasks, the last «now add tests»" in screen
    nothing = qd(repo, "restore", "--all")
    assert nothing.returncode == 0 and "nothing to restore" in nothing.stdout


def test_a_worktree_deleted_by_hand_is_said_on_its_row_and_rm_cleans_up(repo: Path) -> None:
    assert qd(repo, "new", "", "--agent", "shell", "--name", "gone").returncode == 0
    worktree = Path(str(listed(repo)["gone"]["worktree"]))
    subprocess.run(["rm", "-rf", str(worktree)], check=True)
    assert "(worktree deleted)" in qd(repo, "ls").stdout
    fleet = Fleet.open(repo)
    row = next(r for r in fleet.view().rows if r.name == "gone")
    assert row.summary == f"⚠ {WORKTREE_GONE}"
    diff = qd(repo, "diff", "gone")
    assert diff.returncode == 1 and f"the worktree {worktree} is gone" in diff.stderr
    removed = qd(repo, "rm", "gone")
    assert removed.returncode == 0, removed.stderr
    assert listed(repo) == {}
    assert "qd/gone" not in git(repo, "branch", "--list", "qd/*")
    assert str(worktree) not in git(repo, "worktree", "list")
    assert git(repo, "rev-parse", "--verify", "refs/quarterdeck/archive/gone")
