"""What every command group shares: exit statuses, opening the fleet, tracking it while a
command waits, and how the user runs this command again."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

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


def self_command() -> str:
    """How the user can run this command again: its name if it is on PATH, else its path."""
    me = os.path.abspath(sys.argv[0])
    found = shutil.which("quarterdeck")
    return "quarterdeck" if found and os.path.abspath(found) == me else shlex.quote(me)
