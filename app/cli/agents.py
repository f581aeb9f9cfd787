"""Agent commands: ``new``, ``ls``, ``attach``, ``stop``, ``rm`` and ``pretrust``."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import TYPE_CHECKING

from app.cli.shared import ERROR_EXIT, deliver_first_prompts, open_fleet, print_rows, run_until
from app.core.agent import Agent, PromptState, RestoreOutcome, SpawnRequest
from app.core.errors import UsageError
from app.core.messages import Message
from app.core.views import check_label, format_duration

if TYPE_CHECKING:
    pass


def cmd_new(args: argparse.Namespace) -> int:
    """``quarterdeck new``."""
    fleet = open_fleet(args.path)
    request = SpawnRequest(
        prompt=args.prompt,
        kind=args.kind or fleet.settings.default_agent,
        name=args.name,
        base=args.base,
        count=args.count,
        command=args.agent_command,
    )
    agents = fleet.spawn(request)
    for agent in agents:
        print(
            f"started {agent.name} ({agent.kind}) on {agent.checkout.branch} "
            f"in {agent.checkout.worktree}"
        )
    for problem in fleet.hook_problems(request.kind):
        print(f"warning: {problem}", file=sys.stderr)
    pending = [a.name for a in agents if a.prompt_state is PromptState.PENDING]
    if pending and not args.no_wait:
        deliver_first_prompts(fleet, pending)
    return 0


def _as_json(agent: Agent, messages: dict[str, Message]) -> dict[str, object]:
    a = agent
    return {
        "name": a.name,
        "kind": a.kind,
        "status": a.shown.status.value,
        "input_kind": a.shown.input_kind.value if a.shown.input_kind else None,
        "since": a.shown.since,
        "branch": a.checkout.branch,
        "base": a.checkout.base,
        "worktree": a.checkout.worktree,
        "pane": a.placement.pane_id,
        "window": a.placement.window_id,
        "session": a.placement.session,
        "evidence": a.shown.evidence,
        "question": a.shown.question,
        "options": list(a.shown.options),
        "detail": a.shown.detail,
        "message": messages[a.id].describe() if a.id in messages else "",
        "context": list(a.shown.context),
        "added": a.stats.lines_added,
        "removed": a.stats.lines_removed,
        "files": a.stats.files_changed,
        "check": check_label(a.check) if a.check is not None else "",
        "check_line": a.check.last_line if a.check is not None else "",
        "overlap": list(a.overlap),
        "others": list(a.shown.others),
        "focused": a.shown.focused,
        "first_prompt": a.prompt_state.value,
        "id": a.id,
    }


def cmd_ls(args: argparse.Namespace) -> int:
    """``quarterdeck ls``: statuses refreshed by one tick unless a dashboard is tracking them."""
    fleet = open_fleet(args.path)
    run_until(fleet, lambda: True, 0)
    agents = fleet.reload()
    if args.json:
        messages = fleet.latest_messages()
        print(json.dumps([_as_json(a, messages) for a in agents], indent=2, ensure_ascii=False))
        return 0
    unrecorded = fleet.unrecorded().found
    restorable = fleet.restorable()
    if restorable:
        names = ", ".join(a.name for a in restorable)
        print(
            f"{len(restorable)} agent{'s were' if len(restorable) > 1 else ' was'} live when "
            f"{'their windows' if len(restorable) > 1 else 'its window'} went away ({names}); "
            "bring them back with: quarterdeck restore --all",
            file=sys.stderr,
        )
    if not agents and not unrecorded:
        print('no agents; start one with: quarterdeck new "PROMPT"')
        return 0
    if unrecorded:
        print(
            f"{len(unrecorded)} agent{'s' if len(unrecorded) > 1 else ''} without a record "
            "(their worktrees are there); take them back with: quarterdeck doctor --repair",
            file=sys.stderr,
        )
        for found in unrecorded:
            print(f"  {found.line()}", file=sys.stderr)
    if not agents:
        return 0
    rows = [("NAME", "KIND", "STATUS", "FOR", "BRANCH", "PANE", "WORKTREE")]
    now = time.time()
    for a in agents:
        status = a.shown.status.value + (
            f":{a.shown.input_kind.value}" if a.shown.input_kind else ""
        )
        if a.shown.others:
            status += f" (+{len(a.shown.others)} dialog{'s' if len(a.shown.others) > 1 else ''})"
        if not os.path.isdir(a.checkout.worktree):
            status += " (worktree deleted)"
        rows.append(
            (
                a.name,
                a.kind,
                status,
                format_duration(now - a.shown.since),
                a.checkout.branch,
                a.placement.pane_id,
                a.checkout.worktree,
            )
        )
    print_rows(rows)
    return 0


def cmd_attach(args: argparse.Namespace) -> int:
    """``quarterdeck attach NAME``."""
    fleet = open_fleet(args.path)
    argv = fleet.attach(args.name)
    if argv is not None:
        if not sys.stdin.isatty():
            raise UsageError("attach needs a terminal")
        os.execvp(argv[0], argv)
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """``quarterdeck restore NAMES|--all``: a line per agent; exit 1 when one was not."""
    if not args.names and not args.all:
        raise UsageError("name the agents to restore, or restore them all with --all")
    fleet = open_fleet(args.path)
    results = fleet.restore(args.names)
    if not results:
        print("nothing to restore: every agent's window runs, or it was stopped")
    for result in results:
        print(result.line())
    return ERROR_EXIT if any(r.outcome is RestoreOutcome.NOT_RESTORED for r in results) else 0


def cmd_stop(args: argparse.Namespace) -> int:
    """``quarterdeck stop NAME``."""
    fleet = open_fleet(args.path)
    fleet.stop(args.name)
    print(f"stopped {args.name}: every process of it has ended")
    return 0


def cmd_rm(args: argparse.Namespace) -> int:
    """``quarterdeck rm NAME``."""
    fleet = open_fleet(args.path)
    print(
        fleet.remove(
            args.name, discard_unmerged=args.discard_unmerged, discard_changes=args.discard_changes
        )
    )
    return 0


def cmd_pretrust(args: argparse.Namespace) -> int:
    """``quarterdeck pretrust on|off|status``."""
    fleet = open_fleet(args.path)
    if args.state != "status":
        fleet.set_pretrust(args.state == "on")
    state = "on" if fleet.pretrust else "off"
    print(
        f"pretrust is {state} for {fleet.root}: new claude, codex and gemini worktrees "
        + ("are trusted in each CLI's own trust record" if state == "on" else "ask as usual")
    )
    return 0
