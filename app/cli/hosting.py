"""Hosting commands: ``open`` (the launcher, also the default command), ``dashboard`` and
``demo``."""

from __future__ import annotations

import argparse
import gc
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli.shared import open_fleet, self_command

if TYPE_CHECKING:
    from app.fleet.fleet import Fleet


def cmd_dashboard(args: argparse.Namespace) -> int:
    """``quarterdeck dashboard``: the Textual app, with the engine on a thread."""
    from app.fleet.engine import Engine
    from app.ui.app import QuarterdeckApp

    # A stale COLUMNS/LINES would pin the dashboard to a size the terminal no longer has.
    os.environ.pop("COLUMNS", None)
    os.environ.pop("LINES", None)
    fleet = open_fleet(args.path)
    fleet.hosting.ensure_session()
    engine = Engine(fleet)
    engine.start()
    # Everything loaded so far (modules, classes, the fleet) lives as long as the dashboard:
    # kept out of the garbage collector's full passes, which otherwise stall the screen while
    # a long diff scrolls (they scan every live object).
    gc.freeze()
    try:
        QuarterdeckApp(fleet, theme_name=args.theme, hosted=args.hosted).run()
    finally:
        engine.stop()
        if args.hosted:
            # Quitting the hosted dashboard leaves the fleet running and hands the terminal back.
            fleet.hosting.detach_terminals()
    return 0


def _offer_restart(fleet: Fleet, interactive: bool) -> None:
    """Say when the running dashboard has another environment than this command (agents it
    starts get its own), and offer to restart it with this one."""
    names = fleet.hosting.stale_environment(os.environ)
    if not names:
        return
    shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
    print(
        f"note: the running dashboard was started with another environment ({shown} differ); "
        "agents started from it get that one. `quarterdeck new` from this shell uses this one.",
        file=sys.stderr,
    )
    if not interactive:
        print(
            "To switch, quit the dashboard (q; agents keep running) and run quarterdeck again.",
            file=sys.stderr,
        )
        return
    try:
        answer = input("Restart the dashboard with this environment? Agents keep running. [y/N] ")
    except EOFError:
        answer = ""
    if answer.strip().lower() in ("y", "yes"):
        fleet.hosting.start_dashboard(os.environ)


def _offer_restore(fleet: Fleet, interactive: bool) -> None:
    """Agents whose windows went away (their tmux server gone: a reboot, a crash): restored
    at once with ``restore = "auto"``, offered with ``"ask"`` (asked at a terminal), left as
    they are with ``"off"``."""
    mode = fleet.settings.restore
    gone = fleet.restorable() if mode != "off" else []
    if not gone:
        return
    names = ", ".join(a.name for a in gone)
    print(f"{len(gone)} agent(s) were live when their windows went away: {names}")
    if mode == "ask":
        if not interactive:
            print("bring them back with: quarterdeck restore --all", file=sys.stderr)
            return
        try:
            answer = input("Restore them, resuming their conversations? [Y/n] ")
        except EOFError:
            answer = "n"
        if answer.strip().lower() not in ("", "y", "yes"):
            print("left as they are; later: quarterdeck restore --all")
            return
    for result in fleet.restore([a.name for a in gone]):
        print(result.line())


def launch(fleet: Fleet, detach: bool) -> int:
    """Create or re-attach to the repository's session, with the dashboard in window 0."""
    hosting = fleet.hosting
    interactive = not detach and sys.stdin.isatty() and sys.stdout.isatty()
    _offer_restore(fleet, interactive)
    _offer_restart(fleet, interactive)
    attach = hosting.launch(os.environ)
    if not interactive:
        print(
            f"dashboard running in tmux session {hosting.session}; attach with: "
            f"{' '.join(attach[3:])}  (or run `quarterdeck -C {hosting.root}`)"
        )
        return 0
    subprocess.run(attach, check=False)
    print(
        "Left the dashboard; the fleet keeps running. Back with: "
        f"{self_command()} -C {shlex.quote(str(hosting.root))}"
    )
    return 0


def cmd_open(args: argparse.Namespace) -> int:
    """``quarterdeck`` / ``quarterdeck open``."""
    return launch(open_fleet(args.path), getattr(args, "detach", False))


def cmd_demo(args: argparse.Namespace) -> int:
    """``quarterdeck demo``: a throwaway repository with a fleet of demo agents and the demo's
    task graph (its attempts count against ``max_running``; the demo agents do not)."""
    from app.fleet.demo import create_demo_repository, demo_requests
    from app.fleet.demo_tasks import demo_task_graph

    root = create_demo_repository(Path(args.dir) if args.dir else None)
    print(f"demo repository: {root}")
    fleet = open_fleet(str(root))
    for request in demo_requests(args.agents, args.speed):
        fleet.spawn(request)
    print(f"started {args.agents} demo agents")
    if not args.no_tasks:
        tasks = fleet.add_tasks(demo_task_graph(sys.executable, args.speed))
        print(f"added {len(tasks)} demo tasks (at most {fleet.max_running} attempts at once)")
    return launch(fleet, args.detach)
