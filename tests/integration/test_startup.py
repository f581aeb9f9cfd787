"""Start-up, tracked by the fleet through a real tmux server: a pane that shows what a real CLI
showed while it started (recorded screens), switched to its next screen on cue."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from app.core.agent import Agent, SpawnRequest
from app.core.status import Status
from app.fleet.fleet import Fleet
from tests.helpers import wait_for

SCREENS = Path(__file__).resolve().parents[1] / "fixtures" / "screens"

#: Shows the first screen, waits for the cue file, then shows the second one, and stays.
PLAYER = (
    "import pathlib, sys, time\n"
    "first, second, cue = sys.argv[1:4]\n"
    "sys.stdout.write(pathlib.Path(first).read_text()); sys.stdout.flush()\n"
    "while not pathlib.Path(cue).exists(): time.sleep(0.05)\n"
    "sys.stdout.write('\\x1b[2J\\x1b[H' + pathlib.Path(second).read_text()); sys.stdout.flush()\n"
    "time.sleep(600)\n"
)


def play(fleet: Fleet, tmp_path: Path, kind: str, first: str, second: str, prompt: str) -> Path:
    """An agent of ``kind`` whose pane shows its CLI's ``first`` screen, then ``second`` once
    the returned cue file exists."""
    script = tmp_path / "player.py"
    script.write_text(PLAYER)
    cue = tmp_path / "cue"
    files = [str(SCREENS / kind / f"{stem}.txt") for stem in (first, second)]
    command = shlex.join([sys.executable, str(script), *files, str(cue)])
    fleet.spawn(SpawnRequest(prompt=prompt, kind=kind, name="cli", command=command))
    return cue


def looked_at(fleet: Fleet, text: str, what: str) -> Agent:
    """The agent once its pane shows ``text`` and many looks followed (longer than any
    status's hysteresis)."""

    def drawn() -> bool:
        fleet.sweep()
        return text in fleet.capture("cli")

    wait_for(drawn, timeout=15, what=what)
    for _ in range(20):
        fleet.sweep()
    return fleet.get("cli")


def test_a_ready_screen_with_the_prompt_still_in_its_input_box_is_starting(
    repo: Path, tmp_path: Path
) -> None:
    """opencode draws its idle footer while its --prompt still stands in the input box: the
    agent has not taken it, so it is starting, not idle; once the prompt shows above the box
    (its turn ended, here in an error) start-up is over."""
    fleet = Fleet.open(repo)
    cue = play(
        fleet,
        tmp_path,
        "opencode",
        "05-prompt-in-input-before-taken",
        "17-error-final",
        "error: please fail",
    )
    agent = looked_at(fleet, "ctrl+p commands", "the recorded screen")
    assert agent.shown.status is Status.STARTING, agent.shown.evidence
    assert "first prompt is not taken yet" in agent.shown.evidence
    cue.touch()

    def failed() -> bool:
        fleet.sweep()
        return fleet.get("cli").shown.status is Status.ERROR

    wait_for(failed, timeout=15, what="the error")
    agent = fleet.get("cli")
    assert agent.started and agent.shown.detail == "Fake server error"
    events = [status for _, status, _ in fleet.store.events(agent.id)]
    assert "idle" not in events and "unknown" not in events


def test_a_cli_that_is_still_loading_is_starting_not_unknown(repo: Path, tmp_path: Path) -> None:
    """Codex draws its composer before its configuration loaded (no model line yet): starting;
    the ready composer after it, with no prompt to take, is idle."""
    fleet = Fleet.open(repo)
    cue = play(fleet, tmp_path, "codex", "05-splash-before-ready", "10-idle-at-prompt", "")
    assert looked_at(fleet, "Ask Codex to do anything", "the splash").shown.status is (
        Status.STARTING
    )
    cue.touch()

    def ready() -> bool:
        fleet.sweep()
        return fleet.get("cli").shown.status is Status.IDLE

    wait_for(ready, timeout=15, what="idle")
    assert fleet.get("cli").started


def test_a_cli_at_work_loading_before_its_typed_prompt_is_starting(
    repo: Path, tmp_path: Path
) -> None:
    """Aider's screen while it loads reads working (no rule matches it), before its input
    prompt is drawn and its first prompt typed: it has not taken the prompt, so it is starting,
    and so is its ready prompt until the prompt is typed. A task's turn is never judged over
    on that (the conformance suite's task graph: the check ran before the prompt went in)."""
    fleet = Fleet.open(repo)
    cue = play(fleet, tmp_path, "aider", "05-loading-before-prompt", "10-idle-at-prompt", "fix: it")
    agent = looked_at(fleet, "─────", "the loading screen")
    assert agent.shown.status is Status.STARTING, agent.shown.evidence
    assert "first prompt is not taken yet" in agent.shown.evidence
    cue.touch()
    agent = looked_at(fleet, "Repo-map:", "the input prompt")
    assert agent.shown.status is Status.STARTING and not agent.started, agent.shown.evidence
    events = [status for _, status, _ in fleet.store.events(agent.id)]
    assert "working" not in events and "idle" not in events, events
