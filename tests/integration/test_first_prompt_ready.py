"""A typed first prompt waits until the agent's ready screen held a moment: a CLI that restarts
(Gemini after a trust answer) draws its ready screen before it reads keys, and what is typed
then is lost."""

from __future__ import annotations

import textwrap
from pathlib import Path

from app.core.agent import PromptState, SpawnRequest
from app.fleet.engine import Engine
from app.fleet.fleet import Fleet
from app.infra.settings import config_home
from tests.helpers import wait_for

#: A CLI that shows its prompt at once but throws away the keys of its first 0.8 s, then reads
#: a line (echoing it) and works on it, under a fresh prompt.
DEAF_AT_FIRST = textwrap.dedent(
    """
    import os, select, sys, time, tty
    tty.setcbreak(0)
    sys.stdout.write("> "); sys.stdout.flush()
    deadline = time.monotonic() + 0.8
    while time.monotonic() < deadline:
        if select.select([0], [], [], 0.02)[0]:
            os.read(0, 1024)
    line = ""
    while True:
        ch = os.read(0, 1).decode()
        if ch in "\\r\\n":
            break
        line += ch
        sys.stdout.write(ch); sys.stdout.flush()
    sys.stdout.write("\\r\\ngot: " + line + "\\r\\nworking on it\\r\\n> "); sys.stdout.flush()
    time.sleep(600)
    """
)


def test_a_typed_first_prompt_waits_for_the_ready_screen_to_hold(
    repo: Path, tmp_path: Path
) -> None:
    program = tmp_path / "deaf.py"
    program.write_text(DEAF_AT_FIRST)
    config = config_home() / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        textwrap.dedent(
            f"""
            [agents.deaf]
            command = ["{{python}}", "{program}"]
            program = "{{python}}"
            prompt = "type"
            input = '^>'
            [[agents.deaf.rules]]
            name = "working"
            status = "working"
            screen = '^working on it$'
            lines = 3
            [[agents.deaf.rules]]
            name = "prompt"
            status = "idle"
            screen = '^>( |$)'
            lines = 1
            """
        )
    )
    fleet = Fleet.open(repo)
    fleet.spawn(SpawnRequest(prompt="hello there", kind="deaf", name="d"))
    engine = Engine(fleet, interval=0.05)
    engine.start()
    try:
        wait_for(
            lambda: fleet.get("d").prompt_state in (PromptState.DELIVERED, PromptState.FAILED),
            timeout=30,
            what=lambda: f"the prompt typed, not {fleet.get('d').prompt_state}",
        )
        assert fleet.get("d").prompt_state is PromptState.DELIVERED, fleet.capture("d")
        assert "got: hello there" in fleet.capture("d")
    finally:
        engine.stop()
