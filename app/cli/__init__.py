"""The ``quarterdeck`` (``qd``) command: the launcher and every subcommand.

One module per command group: `agents` (new, ls, attach, stop, rm, pretrust), `steering` (send,
answer, interrupt, wait), `review` (diff, check, merge, push), `hosting` (open, dashboard, demo
and the launcher), `tasks` (task add, ls, wait, import, …), `classify` and `doctor`; `parser`
holds the arguments of them all.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from app.cli.agents import (
    cmd_attach,
    cmd_ls,
    cmd_new,
    cmd_pretrust,
    cmd_restore,
    cmd_rm,
    cmd_stop,
)
from app.cli.classify import cmd_classify
from app.cli.doctor import cmd_doctor
from app.cli.hosting import cmd_dashboard, cmd_demo, cmd_open
from app.cli.parser import build_parser
from app.cli.review import cmd_check, cmd_diff, cmd_merge, cmd_push
from app.cli.shared import ERROR_EXIT, USAGE_EXIT
from app.cli.steering import cmd_answer, cmd_interrupt, cmd_send, cmd_wait
from app.cli.tasks import cmd_task
from app.core.errors import QuarterdeckError, UnsafeRemovalError, UsageError
from app.infra.store import state_db, state_error

__all__ = ["COMMANDS", "build_parser", "main"]

COMMANDS: dict[str | None, Callable[[argparse.Namespace], int]] = {
    "new": cmd_new,
    "ls": cmd_ls,
    "attach": cmd_attach,
    "stop": cmd_stop,
    "rm": cmd_rm,
    "restore": cmd_restore,
    "dashboard": cmd_dashboard,
    "demo": cmd_demo,
    "open": cmd_open,
    "classify": cmd_classify,
    "pretrust": cmd_pretrust,
    "doctor": cmd_doctor,
    "answer": cmd_answer,
    "send": cmd_send,
    "interrupt": cmd_interrupt,
    "wait": cmd_wait,
    "diff": cmd_diff,
    "check": cmd_check,
    "merge": cmd_merge,
    "push": cmd_push,
    "task": cmd_task,
    None: cmd_open,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``quarterdeck`` and ``qd``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (UsageError, UnsafeRemovalError) as exc:  # a refused removal is a wrong request
        print(f"quarterdeck: {exc}", file=sys.stderr)
        return USAGE_EXIT
    except QuarterdeckError as exc:
        print(f"quarterdeck: {exc}", file=sys.stderr)
        return ERROR_EXIT
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader left (`quarterdeck ls | head`): nothing more to say
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return ERROR_EXIT
    except sqlite3.DatabaseError as exc:  # one that arose after the database was opened
        print(f"quarterdeck: {state_error(state_path(args), exc)}", file=sys.stderr)
        return ERROR_EXIT
    except Exception as exc:  # a fault of Quarterdeck's own: said in one line, kept in full
        kept = keep_crash(traceback.format_exc())
        print(
            f"quarterdeck: internal error: {type(exc).__name__}: {exc}"
            + (f" (the details are in {kept})" if kept else ""),
            file=sys.stderr,
        )
        return ERROR_EXIT


def state_path(args: argparse.Namespace) -> Path:
    """The state database of the repository the command acts on (as far as it can be told)."""
    from app.infra.git import Repository

    try:
        return state_db(Repository.discover(Path(getattr(args, "path", ".")).resolve()))
    except QuarterdeckError:
        return Path("state.db")


def keep_crash(details: str) -> Path | None:
    """Append an internal error's traceback to ``crash.log`` in Quarterdeck's data folder."""
    from app.infra.settings import data_home

    path = data_home() / "crash.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as log:
            log.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(sys.argv)}\n")
            log.write(details)
    except OSError:
        return None
    return path
