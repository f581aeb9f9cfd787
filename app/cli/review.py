"""Review commands: ``diff``, ``check``, ``merge`` and ``push``."""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import TYPE_CHECKING

from app.cli.shared import ERROR_EXIT, open_fleet, run_until, self_command
from app.core.checks import CheckResult, CheckState
from app.core.landing import MergeStrategy
from app.core.views import check_label

if TYPE_CHECKING:
    from app.fleet.fleet import Fleet


def cmd_diff(args: argparse.Namespace) -> int:
    """``quarterdeck diff NAME [--stat]``."""
    from app.core.diff_text import format_diff

    fleet = open_fleet(args.path)
    print(format_diff(fleet.diff(args.name), stat=args.stat))
    return 0


def _wait_check(fleet: Fleet, name: str, timeout: float | None) -> CheckResult | None:
    """The agent's check once it has ended (or as it is at the timeout)."""

    def ended() -> bool:
        result = fleet.check(name)
        return result is None or result.final

    run_until(fleet, ended, timeout)
    return fleet.check(name)


def cmd_check(args: argparse.Namespace) -> int:
    """``quarterdeck check NAME [--run | --wait | --cancel]``."""
    fleet = open_fleet(args.path)
    if args.cancel:
        fleet.cancel_check(args.name)
        print(f"cancelled {args.name}'s check")
        return 0
    if args.run:
        fleet.run_check(args.name)
        try:
            result = _wait_check(fleet, args.name, None)
        except KeyboardInterrupt:
            fleet.cancel_check(args.name)
            raise
    elif args.wait:
        result = _wait_check(fleet, args.name, args.timeout)
    else:
        result = fleet.check(args.name)
    if result is None:
        print(f"no check has run for {args.name}", file=sys.stderr)
        return ERROR_EXIT
    code = f", exit code {result.exit_code}" if result.exit_code is not None else ""
    print(f"{args.name}: {check_label(result.summary)}{code} — {result.command} on {result.ran_on}")
    if result.tail:
        print(result.tail)
    return 0 if result.state in (CheckState.PASSED, CheckState.RUNNING) else ERROR_EXIT


def cmd_merge(args: argparse.Namespace) -> int:
    """``quarterdeck merge NAME [--strategy S] [--force] [--update-worktree] [--send-conflict]``."""
    fleet = open_fleet(args.path)
    if args.send_conflict:
        message = fleet.send_conflict(args.name)
        print(f"queued message {message.id} for {args.name}: the conflict to resolve")
        return 0
    strategy = MergeStrategy(args.strategy) if args.strategy else None
    outcome = fleet.merge(
        args.name, strategy, force=args.force, update_worktree=args.update_worktree
    )
    if outcome.merged:
        print(outcome.message)
        return 0
    print(outcome.message, file=sys.stderr)
    print(
        f"send it to the agent: {self_command()} -C {shlex.quote(str(fleet.root))} "
        f"merge {args.name} --send-conflict",
        file=sys.stderr,
    )
    return ERROR_EXIT


def cmd_push(args: argparse.Namespace) -> int:
    """``quarterdeck push NAME``."""
    fleet = open_fleet(args.path)
    print(fleet.push_branch(args.name))
    return 0
