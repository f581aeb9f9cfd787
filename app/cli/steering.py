"""Steering commands: ``send``, ``answer``, ``interrupt`` and ``wait``."""

from __future__ import annotations

import argparse
import sys

from app.cli.shared import (
    ERROR_EXIT,
    WAIT_ENDED_EXIT,
    WAIT_ERROR_EXIT,
    WAIT_TIMEOUT_EXIT,
    deliver_first_prompts,
    open_fleet,
    run_until,
)
from app.core.agent import PromptState
from app.core.answers import choose
from app.core.errors import UsageError
from app.core.messages import MessageMode, MessageState
from app.core.status import ENDED, Status, is_ended


def cmd_answer(args: argparse.Namespace) -> int:
    """``quarterdeck answer NAME OPTION`` or ``--text TEXT``."""
    fleet = open_fleet(args.path)
    if (args.option is None) == (args.text is None):
        raise UsageError("give an option (a number, y, n or a label) or --text, not both")
    if args.text is not None:
        print(fleet.reply(args.name, args.text))
        return 0
    agent = fleet.get(args.name)
    print(fleet.answer(args.name, choose(agent.shown.options, args.option)))
    if fleet.get(args.name).prompt_state is PromptState.PENDING:
        # A start-up dialog held its first prompt: typed now, so the turn starts.
        deliver_first_prompts(fleet, [args.name], answered=agent.shown.question)
    return 0


def cmd_send(args: argparse.Namespace) -> int:
    """``quarterdeck send NAMES TEXT``."""
    fleet = open_fleet(args.path)
    text = sys.stdin.read() if args.text == "-" else args.text
    if args.names == "all":
        names = [a.name for a in fleet.reload() if not is_ended(a.shown.status, stopped=a.stopped)]
    else:
        names = [n.strip() for n in args.names.split(",") if n.strip()]
    mode = MessageMode.INTERRUPT if args.interrupt else MessageMode.QUEUE
    messages = fleet.send(names, text, mode)
    if args.no_wait:
        for m in messages:
            print(f"queued message {m.id} for {m.agent_name}")
        return 0
    ids = [m.id for m in messages]

    def final() -> bool:
        return all((m := fleet.message(i)) is not None and (m.final or m.not_taken) for i in ids)

    run_until(fleet, final, args.timeout)
    status = 0
    for i in ids:
        sent = fleet.message(i)
        if sent is None:
            continue
        if sent.state is MessageState.DELIVERED:
            print(f"delivered to {sent.agent_name}")
        elif sent.state is MessageState.FAILED or sent.not_taken:
            print(f"not delivered to {sent.agent_name}: {sent.error}", file=sys.stderr)
            status = ERROR_EXIT
        else:
            print(
                f"still {sent.state.value} for {sent.agent_name} (a dashboard delivers it)",
                file=sys.stderr,
            )
            status = ERROR_EXIT
    return status


def cmd_interrupt(args: argparse.Namespace) -> int:
    """``quarterdeck interrupt NAME``."""
    fleet = open_fleet(args.path)
    print(fleet.interrupt(args.name))
    return 0


def cmd_wait(args: argparse.Namespace) -> int:
    """``quarterdeck wait NAME --until STATUS``."""
    fleet = open_fleet(args.path)
    fleet.get(args.name)  # a clear error for an unknown name
    wanted = {Status(args.until)} if args.until != "exited" else set(ENDED)
    seen: list[str] = []

    def reached() -> bool:
        status = fleet.get(args.name).shown.status
        seen[:] = [status.value]
        return status in wanted or status is Status.ERROR or is_ended(status)

    if not run_until(fleet, reached, args.timeout):
        print(f"{args.name} is still {seen[0] if seen else 'unknown'}", file=sys.stderr)
        return WAIT_TIMEOUT_EXIT
    agent = fleet.get(args.name)
    shown = agent.shown
    line = f"{args.name} is {shown.status.value}"
    if shown.question or shown.detail:
        line += f": {shown.question or shown.detail}"
    print(line)
    if shown.status in wanted:
        return 0
    # The turn ended in an error, or the agent ended, before the status waited for.
    return WAIT_ERROR_EXIT if shown.status is Status.ERROR else WAIT_ENDED_EXIT
