"""What every command group shares: exit statuses, opening the fleet, tracking it while a
command waits, and how the user runs this command again."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.agent import Agent, PromptState
from app.core.errors import AgentNotFoundError
from app.core.status import Status

if TYPE_CHECKING:
    # Imported when first used: `classify` and `--help` need no fleet.
    from app.fleet.engine import Engine
    from app.fleet.fleet import Fleet

USAGE_EXIT = 2
ERROR_EXIT = 1
#: `quarterdeck wait`: the agent did not reach the status in time / ended before reaching it /
WAIT_TIMEOUT_EXIT = 3
WAIT_ENDED_EXIT = 4
#: `quarterdeck wait`: the agent's turn ended in an error (status ``error``) before it reached
#: the status waited for.
WAIT_ERROR_EXIT = 5


def open_fleet(path: str) -> Fleet:
    """The fleet of the repository containing ``path``."""
    from app.fleet.fleet import Fleet

    return Fleet.open(Path(path))


def command_engine(fleet: Fleet) -> Engine:
    """An engine for a command that waits on the fleet (`Engine.run_until`)."""
    from app.fleet.engine import COMMAND_INTERVAL, Engine

    return Engine(fleet, interval=COMMAND_INTERVAL)


def run_until(fleet: Fleet, predicate: Callable[[], bool], timeout: float | None) -> bool:
    """Wait until ``predicate()`` holds, tracking the fleet meanwhile when no dashboard does;
    True if it held before the timeout."""
    return command_engine(fleet).run_until(predicate, timeout)


#: How long a command waits for the first prompts it has to type to be taken.
PROMPT_WAIT_SECONDS = 60.0


def deliver_first_prompts(fleet: Fleet, names: Sequence[str], answered: str = "") -> None:
    """Track the fleet (when no dashboard does) until each named agent's first prompt was typed
    and taken, or a dialog other than ``answered`` holds it (a start-up dialog: the prompt is
    typed once that is answered); say what became of each."""
    unfinished = (PromptState.PENDING, PromptState.SENDING)

    def held(agent: Agent) -> bool:
        shown = agent.shown
        return shown.status is Status.NEEDS_INPUT and shown.question != answered

    def agent(name: str) -> Agent | None:
        try:
            return fleet.get(name)
        except AgentNotFoundError:
            return None

    def settled() -> bool:
        if not engine.driving:
            return True  # a dashboard tracking the fleet delivers them
        return all(
            (a := agent(n)) is None or a.prompt_state not in unfinished or held(a) for n in names
        )

    engine = command_engine(fleet)
    engine.run_until(settled, PROMPT_WAIT_SECONDS)
    if not engine.drove:
        print("the running dashboard delivers the prompt once the agent is ready")
        return
    for name in names:
        a = agent(name)
        if a is None or a.prompt_state is PromptState.DELIVERED:
            continue
        if a.prompt_state in unfinished and held(a):
            what = a.shown.input_kind.value if a.shown.input_kind else "a"
            print(
                f"{name} waits on its {what} dialog ({a.shown.question}): its prompt is typed "
                f"once that is answered (quarterdeck answer {name} …)",
                file=sys.stderr,
            )
        else:
            print(
                f"prompt not yet delivered to: {name} "
                "(the dashboard delivers it once the agent is ready)",
                file=sys.stderr,
            )


def print_rows(rows: Sequence[Sequence[str]]) -> None:
    """A table: the first row is the header; every column but the last padded to its widest."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + "  " + r[-1])


def self_command() -> str:
    """How the user can run this command again: its name if it is on PATH, else its path."""
    me = os.path.abspath(sys.argv[0])
    found = shutil.which("quarterdeck")
    return "quarterdeck" if found and os.path.abspath(found) == me else shlex.quote(me)
