"""A looping task's cap on tokens, with demo agents (which report their model calls as a CLI
does), a real tmux server and git: each round holds the tokens its agent reported, and the loop
stops at the cap, between rounds or in the middle of a turn, saying so."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from app.agents.demo import USAGE_FILE
from app.core.tasks import AgentChoice, Caps, TaskSpec, TaskState
from app.fleet.fleet import Fleet
from tests.helpers import git
from tests.integration.test_tasks import WORKER, run, settled

NEVER = "echo nope; exit 1"


def reported(worktree: Path) -> list[int]:
    """The tokens each run of the demo agent in ``worktree`` reported, in the order they
    started."""
    usage = Path(git(worktree, "rev-parse", "--absolute-git-dir")) / USAGE_FILE
    runs: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])
    for line in usage.read_text().splitlines():
        call = json.loads(line)
        run_ = runs[call["session"]]
        run_[0] = call["started"]
        run_[1] += call["input_tokens"] + call["output_tokens"]
    return [int(tokens) for _, tokens in sorted(runs.values())]


def test_a_loop_stops_at_its_token_cap_with_each_round_s_tokens(repo: Path) -> None:
    cap = 6000
    fleet = Fleet.open(repo)
    spec = TaskSpec("Spend", attempts=(WORKER,), check=NEVER, caps=Caps(rounds=10, tokens=cap))
    fleet.add_tasks([spec])
    run(fleet, settled(fleet, "spend"), 240)
    task = fleet.task("spend")
    attempt = task.attempts[0]
    assert task.state is TaskState.FAILED
    used = [r.tokens for r in attempt.rounds]
    assert f"stopped at the cap of {cap} tokens ({sum(used)} used)" in task.reason
    assert all(used) and 1 < len(used) < 10, used
    assert sum(used[:-1]) < cap <= sum(used)
    # Each round holds what its agent reported (the last one's as far as it was read).
    said = reported(Path(attempt.worktree))
    assert len(said) == len(used)
    assert said[:-1] == used[:-1] and used[-1] <= said[-1]


def test_a_turn_over_the_token_cap_is_stopped_before_it_ends(repo: Path) -> None:
    slow = AgentChoice(kind="demo", flags=("--behaviour", "busy", "--speed", "0.5"))
    fleet = Fleet.open(repo)
    spec = TaskSpec("Busy", attempts=(slow,), check=NEVER, caps=Caps(rounds=10, tokens=1000))
    fleet.add_tasks([spec])
    run(fleet, settled(fleet, "busy"), 180)
    task = fleet.task("busy")
    attempt = task.attempts[0]
    assert task.state is TaskState.FAILED
    assert "stopped at the cap of 1000 tokens" in task.reason
    (only,) = attempt.rounds
    assert only.tokens >= 1000 and only.check == ""  # stopped mid-turn: no check ran
