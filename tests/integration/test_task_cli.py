"""The task commands as a user runs them: real processes, a real repository, a private tmux,
demo agents that edit and commit. No dashboard runs: each command tracks the fleet itself while
it waits."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

QD = str(Path(sys.executable).with_name("quarterdeck"))
#: A demo agent that edits and commits every turn, quickly.
WORKER = ("--agent", "demo", "--flags", "--behaviour worker --speed 8")
DEADLINE = "180"
#: A first task slow enough that what waits on it is still waiting a few commands later.
SLOW_WORKER = ("--agent", "demo", "--flags", "--behaviour worker --speed 0.3")


def qd(repo: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [QD, "-C", str(repo), "task", *args], capture_output=True, text=True, timeout=timeout
    )


def listed(repo: Path) -> dict[str, dict[str, Any]]:
    out = qd(repo, "ls", "--json")
    assert out.returncode == 0, out.stderr
    return {t["name"]: t for t in json.loads(out.stdout)}


def test_add_after_ls_show_and_wait_until_done(repo: Path) -> None:
    first = qd(repo, "add", "First step", *SLOW_WORKER, "--check", "true")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("added first-step #1: ● running"), first.stdout
    second = qd(repo, "add", "Second step", "--after", "1", *WORKER, "--check", "true", "--json")
    assert second.returncode == 0, second.stderr
    added = json.loads(second.stdout)
    assert (added["name"], added["id"], added["after"]) == ("second-step", 2, ["first-step"])
    assert added["state"] == "blocked" and added["reason"] == "waits on first-step running"
    table = qd(repo, "ls")
    assert table.returncode == 0 and "⧗ blocked" in table.stdout, table.stdout
    row = re.split(r"\s{2,}", table.stdout.splitlines()[2])
    assert row[:5] == ["2", "second-step", "⧗ blocked", "-", "first-step"]  # waits on
    # It cannot be done before first-step passed and it had a turn of its own.
    late = qd(repo, "wait", "second-step", "--until", "done", "--timeout", "0.5")
    assert late.returncode == 3, (late.stdout, late.stderr)
    assert late.stderr.startswith("second-step #2 is still "), late.stderr
    # Unknown tasks are refused with the list of tasks, on one line.
    for args in (("add", "Third", "--after", "nowhere"), ("show", "nobody"), ("wait", "9")):
        refused = qd(repo, *args, "--until", "done") if args[0] == "wait" else qd(repo, *args)
        assert refused.returncode == 2, refused
        assert refused.stderr.strip().endswith("(tasks: #1 first-step, #2 second-step)")
        assert len(refused.stderr.strip().splitlines()) == 1
    waited = qd(repo, "wait", "--until", "done", "--timeout", DEADLINE)
    assert waited.returncode == 0, (waited.stdout, waited.stderr)
    assert waited.stdout.splitlines() == [
        "first-step #1 is passed: the check passed",
        "second-step #2 is passed: the check passed",
    ]
    tasks = listed(repo)
    one, two = tasks["first-step"], tasks["second-step"]
    assert [t["state"] for t in (one, two)] == ["passed", "passed"]
    (attempt,) = two["attempts"]
    assert (attempt["agent"], attempt["agent_name"], attempt["branch"]) == (
        "demo",
        "second-step",
        "qd/second-step",
    )
    assert attempt["flags"] == ["--behaviour", "worker", "--speed", "8"]
    assert attempt["state"] == "passed" and attempt["started_at"] >= one["attempts"][0]["ended_at"]
    (round_one,) = attempt["rounds"]
    assert round_one["check"] == "passed" and round_one["check_exit"] == 0
    assert round_one["files"] >= 1 and round_one["commit"]
    shown = qd(repo, "show", "second-step", "--json")
    assert shown.returncode == 0, shown.stderr
    detail = json.loads(shown.stdout)
    assert detail["ranked"] == [1]
    assert detail["history"][0]["state"] == "blocked"
    assert detail["history"][-1]["state"] == "passed"
    text = qd(repo, "show", "2")
    assert text.returncode == 0, text.stderr
    assert "after first-step · check `true`" in text.stdout
    assert "round 1:" in text.stdout and "check passed" in text.stdout


def test_import_a_plan_with_a_chain_and_a_fan_in(repo: Path) -> None:
    plan = repo.parent / "plan.md"
    plan.write_text(
        textwrap.dedent(
            """\
            # Plan
            - [ ] Lay the base
              Write the base module.
              - check: true
              - agent: demo
              - flags: --behaviour worker --speed 8 --seed 1
              - [ ] Build on it
                - check: true
                - agent: demo
                - flags: --behaviour worker --speed 8 --seed 2
            - [x] Done long ago
            - [ ] Side work
              - check: true
              - agent: demo
              - flags: --behaviour worker --speed 8 --seed 3
            - [ ] Join them
              - after: Build on it, side-work, done-long-ago
              - check: true
              - agent: demo
              - flags: --behaviour worker --speed 8 --seed 4
            """
        )
    )
    dry = qd(repo, "import", str(plan), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would add join-them: Join them" in dry.stdout
    assert "after build-it, side-work · check `true`" in dry.stdout
    assert dry.stdout.splitlines()[-1] == "4 tasks; nothing was added (--dry-run)"
    assert listed(repo) == {}
    imported = qd(repo, "import", str(plan))
    assert imported.returncode == 0, imported.stderr
    lines = imported.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "added lay-base #1",
        "added build-it #2",
        "added side-work #3",
        "added join-them #4",
    ]
    assert "● running" in lines[0] and "⧗ blocked" in lines[1] and "⧗ blocked" in lines[3]
    waited = qd(repo, "wait", "--until", "passed", "--timeout", DEADLINE)
    assert waited.returncode == 0, (waited.stdout, waited.stderr)
    tasks = listed(repo)
    assert tasks["lay-base"]["prompt"] == "Write the base module."
    assert tasks["join-them"]["after"] == ["build-it", "side-work"]

    def attempt(name: str) -> dict[str, Any]:
        result: dict[str, Any] = tasks[name]["attempts"][0]
        return result

    assert attempt("build-it")["started_at"] >= attempt("lay-base")["ended_at"]
    join = attempt("join-them")
    for before in ("build-it", "side-work"):
        assert join["started_at"] >= attempt(before)["ended_at"]
    # Importing the plan again adds it again, under new names, with its own dependencies.
    again = qd(repo, "import", str(plan), "--dry-run")
    assert "would add join-them-2: Join them" in again.stdout
    assert "after build-it-2, side-work-2" in again.stdout


def test_what_waits_names_a_dependency_started_in_the_same_look_as_running(repo: Path) -> None:
    plan = repo.parent / "chain.toml"
    plan.write_text(
        textwrap.dedent(
            """\
            [[task]]
            title = "First"
            check = "true"
            agent = "demo"
            [[task]]
            title = "Second"
            after = ["first"]
            check = "true"
            agent = "demo"
            """
        )
    )
    imported = qd(repo, "import", str(plan), "--no-wait")  # one look: it starts First
    assert imported.returncode == 0, imported.stderr
    first, second = imported.stdout.splitlines()
    assert "● running" in first
    assert second.endswith("⧗ blocked — waits on first running"), second


def test_a_failed_task_stops_wait_and_a_retry_passes(repo: Path) -> None:
    flag = repo.parent / "fixed"
    added = qd(repo, "add", "Fix it", *WORKER, "--check", f"test -f {flag}", "--no-wait")
    assert added.returncode == 0, added.stderr
    waited = qd(repo, "wait", "fix-it", "--until", "passed", "--timeout", DEADLINE)
    assert waited.returncode == 5, (waited.stdout, waited.stderr)
    assert waited.stderr.strip() == "fix-it #1 is failed: the check failed"
    assert qd(repo, "wait", "--until", "done", "--timeout", "5").returncode == 0
    flag.write_text("now it passes\n")
    retried = qd(repo, "retry", "fix-it")
    assert retried.returncode == 0, retried.stderr
    assert retried.stdout.startswith("retried fix-it #1: ● running"), retried.stdout
    waited = qd(repo, "wait", "fix-it", "--until", "passed", "--timeout", DEADLINE)
    assert waited.returncode == 0, (waited.stdout, waited.stderr)
    (attempt,) = listed(repo)["fix-it"]["attempts"]
    assert [r["check"] for r in attempt["rounds"]] == ["failed", "passed"]
    refused = qd(repo, "retry", "fix-it")
    assert refused.returncode == 2 and "only a failed or cancelled task" in refused.stderr


def test_cancel_holds_what_waits_on_it_until_retried(repo: Path) -> None:
    C = ("--check", "true")
    assert qd(repo, "add", "Alpha", *WORKER, *C).returncode == 0
    assert qd(repo, "add", "Beta", "--after", "alpha", *WORKER, *C).returncode == 0
    assert qd(repo, "add", "Gamma", "--after", "beta", *WORKER, *C).returncode == 0
    cancelled = qd(repo, "cancel", "beta")
    assert cancelled.returncode == 0, cancelled.stderr
    assert cancelled.stdout.strip() == "cancelled beta #2: ⊘ cancelled — cancelled by you"
    held = qd(repo, "wait", "gamma", "--until", "passed", "--timeout", "60")
    assert held.returncode == 4, (held.stdout, held.stderr)
    assert held.stderr.strip() == "gamma #3 is blocked: held: beta cancelled"
    done = qd(repo, "wait", "beta", "--until", "done", "--timeout", "5")
    assert done.returncode == 0 and done.stdout.strip() == "beta #2 is cancelled: cancelled by you"
    # Waiting for all to be done: alpha ends, gamma cannot without you.
    ended = qd(repo, "wait", "alpha", "gamma", "--until", "done", "--timeout", DEADLINE)
    assert ended.returncode == 4, (ended.stdout, ended.stderr)
    assert ended.stdout.strip() == "alpha #1 is passed: the check passed"
    assert ended.stderr.strip() == "gamma #3 is blocked: held: beta cancelled"
    assert qd(repo, "retry", "beta").returncode == 0
    waited = qd(repo, "wait", "--until", "passed", "--timeout", DEADLINE)
    assert waited.returncode == 0, (waited.stdout, waited.stderr)
    assert [t["state"] for t in listed(repo).values()] == ["passed"] * 3


def test_cycles_and_unknown_dependencies_are_refused_named_and_nothing_is_added(
    repo: Path,
) -> None:
    plan = repo.parent / "plan.toml"
    plan.write_text(
        '[[task]]\ntitle = "A"\nafter = ["c"]\n\n[[task]]\ntitle = "B"\nafter = ["a"]\n\n'
        '[[task]]\ntitle = "C"\nafter = ["b"]\n'
    )
    refused = qd(repo, "import", str(plan))
    assert refused.returncode == 2, refused
    assert refused.stderr.strip() == (
        f"quarterdeck: {plan}: dependency cycle: a (line 1) → c (line 9) → b (line 5) → a (line 1)"
    )
    plan.write_text('[[task]]\ntitle = "A"\n\n[[task]]\ntitle = "B"\nafter = ["a", "zed"]\n')
    refused = qd(repo, "import", str(plan))
    assert refused.returncode == 2, refused
    assert f"{plan} line 6: after 'zed': no such task in the plan" in refused.stderr
    assert listed(repo) == {}
    # A cycle made by an edit is refused by the board, named.
    assert qd(repo, "add", "Head", *WORKER, "--no-wait").returncode == 0
    assert qd(repo, "add", "B", "--after", "head").returncode == 0
    assert qd(repo, "add", "C", "--after", "b").returncode == 0
    edited = qd(repo, "edit", "b", "--after", "c")
    assert edited.returncode == 2, edited
    assert "dependency cycle: b → c → b" in edited.stderr
    assert listed(repo)["b"]["after"] == ["head"]
    renamed = qd(repo, "edit", "c", "--name", "other")
    assert renamed.returncode == 2 and "cannot rename" in renamed.stderr
    edited = qd(repo, "edit", "c", "--title", "See", "--until", "make test", "--max-rounds", "3")
    assert edited.returncode == 0, edited.stderr
    task = listed(repo)["c"]
    assert (task["title"], task["check"], task["caps"]["rounds"]) == ("See", "make test", 3)
    started = qd(repo, "edit", "head", "--title", "Late")
    assert started.returncode == 2 and "has started" in started.stderr


def test_two_attempts_compared_and_one_kept(repo: Path) -> None:
    added = qd(repo, "add", "Try twice", *WORKER, "--attempts", "2", "--check", "true")
    assert added.returncode == 0, added.stderr
    waited = qd(repo, "wait", "try-twice", "--until", "passed", "--timeout", DEADLINE)
    assert waited.returncode == 0, (waited.stdout, waited.stderr)
    assert waited.stdout.strip() == "try-twice #1 is passed: 2 of 2 attempts passed: keep one"
    table = qd(repo, "ls")
    assert "2× 1" in table.stdout, table.stdout
    compared = qd(repo, "diff", "try-twice", "1", "2")
    assert compared.returncode == 0, compared.stderr
    missing = qd(repo, "diff", "try-twice", "1", "3")
    assert missing.returncode == 2 and "has attempts 1 to 2, not 3" in missing.stderr
    unchosen = qd(repo, "land", "try-twice")
    assert unchosen.returncode == 2 and "choose one with --attempt N" in unchosen.stderr
    landed = qd(repo, "land", "try-twice", "--attempt", "2")
    assert landed.returncode == 0, landed.stderr
    assert "try-twice-2" in landed.stdout
    task = listed(repo)["try-twice"]
    assert task["state"] == "landed"
    assert [a["state"] for a in task["attempts"]] == ["discarded", "kept"]
    assert task["attempts"][0]["archive"]
    shown = json.loads(qd(repo, "show", "try-twice", "--json").stdout)
    assert sorted(shown["ranked"]) == [1, 2]
