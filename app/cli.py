"""The ``quarterdeck`` (``qd``) command: the launcher and every subcommand."""

from __future__ import annotations

import argparse
import gc
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from app.core.agent import PromptState, SpawnRequest
from app.core.answers import choose
from app.core.errors import QuarterdeckError, UsageError
from app.core.messages import MessageMode, MessageState
from app.core.status import ENDED, Status, is_ended
from app.core.views import format_duration

USAGE_EXIT = 2
ERROR_EXIT = 1
#: `quarterdeck wait`: the agent did not reach the status in time / ended before reaching it.
WAIT_TIMEOUT_EXIT = 3
WAIT_ENDED_EXIT = 4


def _add_repo_option(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument(
        "-C",
        dest="path",
        metavar="PATH",
        default=default,
        help="act on the repository at PATH instead of the current directory",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(
        prog="quarterdeck",
        description="A terminal cockpit for a fleet of coding agents. Without a command: open "
        "(or re-attach to) the dashboard of the repository.",
    )
    _add_repo_option(parser, ".")
    parser.add_argument("--version", action="version", version="quarterdeck 0.1.0")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        _add_repo_option(p, argparse.SUPPRESS)
        return p

    p = command("new", "start agents, each in its own worktree, branch and tmux window")
    p.add_argument("prompt", help="the task for the agent")
    p.add_argument(
        "--agent",
        "-a",
        dest="kind",
        default=None,
        help="agent kind: claude, codex, gemini, aider, opencode, demo, shell, ...",
    )
    p.add_argument("--count", "-n", type=int, default=1, help="how many agents to start")
    p.add_argument("--name", default=None, help="agent name (default: from the prompt)")
    p.add_argument("--base", default=None, help="branch or commit to start from (default: HEAD)")
    p.add_argument(
        "--command",
        dest="agent_command",
        default=None,
        help="command line to run instead of the kind's default",
    )
    p.add_argument(
        "--no-wait",
        action="store_true",
        help="return at once instead of waiting for the prompt to be delivered",
    )

    p = command("ls", "list agents")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = command("attach", "attach this terminal to an agent's pane")
    p.add_argument("name")

    p = command("stop", "end an agent's whole process tree (its worktree and branch stay)")
    p.add_argument("name")

    p = command("rm", "remove an agent: window, worktree and branch (an archive ref is kept)")
    p.add_argument("name")
    p.add_argument(
        "--discard-unmerged",
        action="store_true",
        help="confirm: remove even though the branch has commits not in its base",
    )
    p.add_argument(
        "--discard-changes",
        action="store_true",
        help="confirm: remove even though the worktree has uncommitted changes",
    )

    p = command("dashboard", "run the dashboard in this terminal")
    p.add_argument("--theme", default=None, help="theme name (see themes/)")
    p.add_argument("--hosted", action="store_true", help=argparse.SUPPRESS)

    p = command("demo", "create a throwaway repository and open a fleet of demo agents")
    p.add_argument("--agents", type=int, default=10, help="how many demo agents (default 10)")
    p.add_argument("--speed", type=float, default=1.0, help="demo agents' speed multiplier")
    p.add_argument(
        "--detach",
        action="store_true",
        help="start the fleet and the dashboard without attaching this terminal",
    )
    p.add_argument("--dir", default=None, help="where to create the demo repository")

    p = command(
        "pretrust",
        "opt this repository in (on) or out (off) of writing each agent CLI's folder-trust "
        "record for the worktrees Quarterdeck creates",
    )
    p.add_argument("state", choices=["on", "off", "status"])

    p = command("answer", "answer the dialog an agent waits on (verified)")
    p.add_argument("name")
    p.add_argument(
        "option",
        nargs="?",
        default=None,
        help="the option's number as the dialog shows it, y or n (its yes or no option), or the "
        "start of the option's label",
    )
    p.add_argument(
        "--text",
        default=None,
        help="answer in words instead: the dialog's own 'type an answer' option, then TEXT",
    )

    p = command(
        "send",
        "send a message to agents: stored at once, typed the way each agent CLI takes it, "
        "verified (exit 0 when every message was delivered, 1 when one failed)",
    )
    p.add_argument("names", help="agent name, several separated by commas, or 'all'")
    p.add_argument("text", help="the message (several lines are fine); - reads standard input")
    p.add_argument(
        "--interrupt",
        action="store_true",
        help="interrupt a busy agent first (its own interrupt key), then send; default: queue "
        "it for after the agent's current step",
    )
    p.add_argument("--no-wait", action="store_true", help="queue it and return at once")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds to wait (default 120)")

    p = command("interrupt", "press an agent's interrupt key (Esc or Ctrl-C, by its kind)")
    p.add_argument("name")

    p = command(
        "wait",
        "wait until an agent is idle, waits on the human, or has exited; exit status: 0 reached, "
        "3 timed out, 4 the agent ended first",
    )
    p.add_argument("name")
    p.add_argument("--until", required=True, choices=["idle", "needs_input", "exited"])
    p.add_argument("--timeout", type=float, default=None, help="seconds (default: no limit)")

    p = command("open", "open (or re-attach to) the dashboard; the default command")
    p.add_argument("--detach", action="store_true", help="start the dashboard, do not attach")

    p = command(
        "classify",
        "show how a saved screen reads: status, kind, question, options and the rule that matched "
        "(no repository or tmux needed; attach the output when reporting a misread screen)",
    )
    p.add_argument("--agent", "-a", dest="kind", required=True, help="agent kind: claude, ...")
    p.add_argument(
        "--screen",
        required=True,
        metavar="FILE",
        help="the screen as `tmux capture-pane -p` (or -e) gives it; - reads standard input",
    )
    p.add_argument(
        "--title", default=None, help="the pane title (Codex and Gemini put state there)"
    )
    p.add_argument(
        "--command",
        dest="pane_command",
        default=None,
        help="the pane's current command (a shell there means the agent has exited)",
    )
    p.add_argument("--dead", action="store_true", help="the pane's process has exited")
    p.add_argument("--dead-status", type=int, default=None, help="its exit status (implies --dead)")
    p.add_argument(
        "--meta",
        default=None,
        metavar="FILE",
        help="a .meta.json with pane_title, pane_current_command, pane_dead, pane_dead_status "
        "(the options above override it)",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    _add_review_commands(command)
    return parser


def _add_review_commands(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """``diff``, ``check``, ``merge`` and ``push``."""
    p = command(
        "diff", "show what an agent changed against its base (committed, uncommitted and untracked)"
    )
    p.add_argument("name")
    p.add_argument("--stat", action="store_true", help="one line per file, no hunks")

    p = command(
        "check",
        "show an agent's latest check (the `check` command of .quarterdeck.toml, run in its "
        "worktree); exit status 0 passed or running, 1 failed, cancelled or none",
    )
    p.add_argument("name")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--run", action="store_true", help="run the check now and wait for it")
    group.add_argument("--wait", action="store_true", help="wait for a running check to end")
    group.add_argument("--cancel", action="store_true", help="stop the running check")
    p.add_argument("--timeout", type=float, default=None, help="seconds --wait waits")

    p = command(
        "merge",
        "land an agent's branch in its base without touching any working tree (refused when "
        "the agent has uncommitted changes, when its latest check did not pass on its "
        "branch's tip, or when the base is checked out, unless --update-worktree); exit "
        "status 0 merged, 1 refused or conflict. To throw an agent's work away instead, use "
        "`quarterdeck rm`",
    )
    p.add_argument("name")
    p.add_argument(
        "--strategy",
        choices=["merge", "squash", "rebase"],
        default=None,
        help="default: merge_strategy of .quarterdeck.toml, else merge",
    )
    p.add_argument(
        "--force", action="store_true", help="merge even if the check failed or did not run"
    )
    p.add_argument(
        "--update-worktree",
        action="store_true",
        help="when the base is checked out in a worktree (often your main one), bring that "
        "worktree forward with it, as `git merge --ff-only` would: your uncommitted changes "
        "there are kept, and nothing is done if one would be overwritten",
    )
    p.add_argument(
        "--send-conflict",
        action="store_true",
        help="send the agent its last merge conflict to resolve, instead of merging",
    )

    p = command(
        "push",
        "push an agent's branch to the remote and open a pull request with gh (when installed "
        "and logged in; otherwise print the command)",
    )
    p.add_argument("name")


def _self_command() -> str:
    """How the user can run this command again: its name if it is on PATH, else its path."""
    me = os.path.abspath(sys.argv[0])
    found = shutil.which("quarterdeck")
    return "quarterdeck" if found and os.path.abspath(found) == me else shlex.quote(me)


def _open_fleet(path: str):  # type: ignore[no-untyped-def]
    from app.fleet.fleet import Fleet

    return Fleet.open(Path(path))


def cmd_new(args: argparse.Namespace) -> int:
    """``quarterdeck new``."""
    fleet = _open_fleet(args.path)
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
        print(f"started {agent.name} ({agent.kind}) on {agent.branch} in {agent.worktree}")
    pending = [a.name for a in agents if a.prompt_state is PromptState.PENDING]
    if pending and not args.no_wait:
        from app.fleet.engine import COMMAND_INTERVAL, Engine

        engine = Engine(fleet, interval=COMMAND_INTERVAL)

        def settled() -> bool:
            # A dashboard tracking the fleet delivers them: nothing to wait for here.
            if not engine.driving:
                return True
            return all(_prompt_state(fleet, n) not in _UNFINISHED for n in pending)

        engine.run_until(settled, PROMPT_WAIT_SECONDS)
        if not engine.drove:
            print("the running dashboard delivers the prompt once the agent is ready")
            return 0
        failed = [n for n in pending if _prompt_state(fleet, n) is not PromptState.DELIVERED]
        if failed:
            print(
                f"prompt not yet delivered to: {', '.join(failed)} "
                "(the dashboard delivers it once the agent is ready)",
                file=sys.stderr,
            )
    return 0


#: How long ``new`` waits for the prompts it typed to be taken.
PROMPT_WAIT_SECONDS = 60.0
_UNFINISHED = (PromptState.PENDING, PromptState.SENDING)


def _prompt_state(fleet, name: str) -> PromptState:  # type: ignore[no-untyped-def]
    from app.core.errors import AgentNotFoundError

    try:
        return fleet.get(name).prompt_state  # type: ignore[no-any-return]
    except AgentNotFoundError:
        return PromptState.FAILED


def cmd_ls(args: argparse.Namespace) -> int:
    """``quarterdeck ls``: statuses refreshed by one tick unless a dashboard is tracking them."""
    fleet = _open_fleet(args.path)
    _tracking(fleet, lambda: True, 0)
    agents = fleet.reload()
    if args.json:
        messages = fleet.latest_messages()
        print(
            json.dumps(
                [
                    {
                        "name": a.name,
                        "kind": a.kind,
                        "status": a.status.value,
                        "input_kind": a.input_kind.value if a.input_kind else None,
                        "since": a.status_since,
                        "branch": a.branch,
                        "base": a.base,
                        "worktree": a.worktree,
                        "pane": a.pane_id,
                        "window": a.window_id,
                        "session": a.session,
                        "evidence": a.evidence,
                        "question": a.question,
                        "options": list(a.options),
                        "detail": a.detail,
                        "message": messages[a.id].describe() if a.id in messages else "",
                        "context": list(a.context),
                        "added": a.lines_added,
                        "removed": a.lines_removed,
                        "files": a.files_changed,
                        "check": a.check,
                        "check_line": a.check_line,
                        "overlap": list(a.overlap),
                    }
                    for a in agents
                ],
                indent=2,
                ensure_ascii=False,
            )
        )
        return 0
    if not agents:
        print('no agents; start one with: quarterdeck new "PROMPT"')
        return 0
    rows = [("NAME", "KIND", "STATUS", "FOR", "BRANCH", "PANE", "WORKTREE")]
    now = time.time()
    for a in agents:
        status = a.status.value + (f":{a.input_kind.value}" if a.input_kind else "")
        rows.append(
            (
                a.name,
                a.kind,
                status,
                format_duration(now - a.status_since),
                a.branch,
                a.pane_id,
                a.worktree,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + "  " + r[-1])
    return 0


def cmd_attach(args: argparse.Namespace) -> int:
    """``quarterdeck attach NAME``."""
    fleet = _open_fleet(args.path)
    argv = fleet.attach(args.name)
    if argv is not None:
        if not sys.stdin.isatty():
            raise UsageError("attach needs a terminal")
        os.execvp(argv[0], argv)
    return 0


def cmd_stop(args: argparse.Namespace) -> int:
    """``quarterdeck stop NAME``."""
    fleet = _open_fleet(args.path)
    fleet.stop(args.name)
    print(f"stopped {args.name}: every process of it has ended")
    return 0


def cmd_rm(args: argparse.Namespace) -> int:
    """``quarterdeck rm NAME``."""
    fleet = _open_fleet(args.path)
    print(
        fleet.remove(
            args.name, discard_unmerged=args.discard_unmerged, discard_changes=args.discard_changes
        )
    )
    return 0


def cmd_pretrust(args: argparse.Namespace) -> int:
    """``quarterdeck pretrust on|off|status``."""
    fleet = _open_fleet(args.path)
    if args.state != "status":
        fleet.set_pretrust(args.state == "on")
    state = "on" if fleet.pretrust else "off"
    print(
        f"pretrust is {state} for {fleet.repo.root}: new claude, codex and gemini worktrees "
        + ("are trusted in each CLI's own trust record" if state == "on" else "ask as usual")
    )
    return 0


def cmd_answer(args: argparse.Namespace) -> int:
    """``quarterdeck answer NAME OPTION`` or ``--text TEXT``."""
    fleet = _open_fleet(args.path)
    if (args.option is None) == (args.text is None):
        raise UsageError("give an option (a number, y, n or a label) or --text, not both")
    if args.text is not None:
        print(fleet.reply(args.name, args.text))
        return 0
    agent = fleet.get(args.name)
    print(fleet.answer(args.name, choose(agent.options, args.option)))
    return 0


def _tracking(fleet, until, timeout: float | None) -> bool:  # type: ignore[no-untyped-def]
    """Wait until ``until()`` holds; True if it did before the timeout. With no dashboard
    tracking the fleet, this process tracks it meanwhile (and delivers messages)."""
    from app.fleet.engine import COMMAND_INTERVAL, Engine

    return Engine(fleet, interval=COMMAND_INTERVAL).run_until(until, timeout)


def cmd_send(args: argparse.Namespace) -> int:
    """``quarterdeck send NAMES TEXT``."""
    fleet = _open_fleet(args.path)
    text = sys.stdin.read() if args.text == "-" else args.text
    if args.names == "all":
        names = [a.name for a in fleet.reload() if not is_ended(a.status, stopped=a.stopped)]
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
        return all((m := fleet.message(i)) is not None and m.final for i in ids)

    _tracking(fleet, final, args.timeout)
    status = 0
    for i in ids:
        m = fleet.message(i)
        if m is None:
            continue
        if m.state is MessageState.DELIVERED:
            print(f"delivered to {m.agent_name}")
        elif m.state is MessageState.FAILED:
            print(f"not delivered to {m.agent_name}: {m.error}", file=sys.stderr)
            status = ERROR_EXIT
        else:
            print(
                f"still {m.state.value} for {m.agent_name} (a dashboard delivers it)",
                file=sys.stderr,
            )
            status = ERROR_EXIT
    return status


def cmd_interrupt(args: argparse.Namespace) -> int:
    """``quarterdeck interrupt NAME``."""
    fleet = _open_fleet(args.path)
    fleet.interrupt(args.name)
    print(f"interrupted {args.name}")
    return 0


def cmd_wait(args: argparse.Namespace) -> int:
    """``quarterdeck wait NAME --until STATUS``."""
    fleet = _open_fleet(args.path)
    fleet.get(args.name)  # a clear error for an unknown name
    wanted = {Status(args.until)} if args.until != "exited" else set(ENDED)
    seen: list[str] = []

    def reached() -> bool:
        status = fleet.get(args.name).status
        seen[:] = [status.value]
        return status in wanted or is_ended(status)

    if not _tracking(fleet, reached, args.timeout):
        print(f"{args.name} is still {seen[0] if seen else 'unknown'}", file=sys.stderr)
        return WAIT_TIMEOUT_EXIT
    agent = fleet.get(args.name)
    line = f"{args.name} is {agent.status.value}"
    if agent.question:
        line += f": {agent.question}"
    print(line)
    return 0 if agent.status in wanted else WAIT_ENDED_EXIT


def cmd_dashboard(args: argparse.Namespace) -> int:
    """``quarterdeck dashboard``: the Textual app, with the engine on a thread."""
    from app.fleet.engine import Engine
    from app.ui.app import QuarterdeckApp

    # A stale COLUMNS/LINES would pin the dashboard to a size the terminal no longer has.
    os.environ.pop("COLUMNS", None)
    os.environ.pop("LINES", None)
    fleet = _open_fleet(args.path)
    fleet.ensure_session()
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
            fleet.tmux.detach_terminals(fleet.session)
    return 0


def launch(fleet, detach: bool) -> int:  # type: ignore[no-untyped-def]
    """Create or re-attach to the repository's session, with the dashboard in window 0."""
    fleet.ensure_session()
    if fleet.tmux.window0_command(fleet.session) != "dashboard":
        env = {
            k: v
            for k, v in os.environ.items()
            if k.startswith(("XDG_", "QUARTERDECK_")) or k in ("PATH", "HOME", "LANG", "TERM")
        }
        env["QUARTERDECK_HOSTED"] = fleet.session
        argv = [
            sys.executable,
            "-m",
            "app.cli",
            "-C",
            str(fleet.repo.root),
            "dashboard",
            "--hosted",
        ]
        fleet.tmux.respawn_window0(fleet.session, str(fleet.repo.root), argv, env)
        fleet.tmux.mark_window0(fleet.session, "dashboard")
    fleet.tmux.cmd("select-window", "-t", f"={fleet.session}:0")
    attach = fleet.tmux.attach_argv(fleet.session)
    if detach or not (sys.stdin.isatty() and sys.stdout.isatty()):
        print(
            f"dashboard running in tmux session {fleet.session}; attach with: "
            f"{' '.join(attach[3:])}  (or run `quarterdeck -C {fleet.repo.root}`)"
        )
        return 0
    subprocess.run(attach, check=False)
    print(
        "Left the dashboard; the fleet keeps running. Back with: "
        f"{_self_command()} -C {shlex.quote(str(fleet.repo.root))}"
    )
    return 0


def cmd_open(args: argparse.Namespace) -> int:
    """``quarterdeck`` / ``quarterdeck open``."""
    return launch(_open_fleet(args.path), getattr(args, "detach", False))


def cmd_demo(args: argparse.Namespace) -> int:
    """``quarterdeck demo``: a throwaway repository with a fleet of demo agents."""
    from app.fleet.demo import create_demo_repository, demo_requests

    root = create_demo_repository(Path(args.dir) if args.dir else None)
    print(f"demo repository: {root}")
    fleet = _open_fleet(str(root))
    for request in demo_requests(args.agents, args.speed):
        fleet.spawn(request)
    print(f"started {args.agents} demo agents")
    return launch(fleet, args.detach)


def _read_text(path: str, what: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise UsageError(f"cannot read the {what} {path!r}: {exc.strerror or exc}") from exc


def cmd_classify(args: argparse.Namespace) -> int:
    """``quarterdeck classify``: what the classifier reads on a saved screen, and by which rule."""
    from app.core.classify import PaneView, classify, strip_ansi
    from app.infra.settings import load_settings

    profiles = load_settings(Path(args.path)).profiles
    profile = profiles.get(args.kind)
    if profile is None:
        raise UsageError(
            f"unknown agent kind {args.kind!r}; known kinds: {', '.join(sorted(profiles))}"
        )
    meta: dict[str, object] = {}
    if args.meta is not None:
        try:
            loaded = json.loads(_read_text(args.meta, "meta file"))
        except json.JSONDecodeError as exc:
            raise UsageError(f"{args.meta}: not valid JSON: {exc}") from exc
        if not isinstance(loaded, dict):
            raise UsageError(f"{args.meta}: expected a JSON object")
        meta = loaded
    text = strip_ansi(_read_text(args.screen, "screen file"))
    title = args.title if args.title is not None else str(meta.get("pane_title") or "")
    command = (
        args.pane_command
        if args.pane_command is not None
        else str(meta.get("pane_current_command") or "")
    )
    raw_status = str(meta.get("pane_dead_status") or "").strip()
    dead_status = args.dead_status
    if dead_status is None and raw_status.lstrip("-").isdigit():
        dead_status = int(raw_status)
    dead = args.dead or args.dead_status is not None or str(meta.get("pane_dead")) in ("1", "True")
    reading = classify(
        profile,
        PaneView(text, title, command, dead=dead, dead_status=dead_status if dead else None),
    )
    kind = reading.kind.value if reading.kind else None
    rule = reading.evidence.detail
    if reading.evidence.source != "screen":
        rule = f"{reading.evidence.source}: {rule}"
    if args.json:
        print(
            json.dumps(
                {
                    "agent": profile.kind,
                    "status": reading.status.value,
                    "kind": kind,
                    "question": reading.question,
                    "options": list(reading.options),
                    "context": list(reading.context),
                    "evidence": str(reading.evidence),
                    "rule": rule,
                    "summary": reading.summary,
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return 0
    print(f"status:   {reading.status.value}" + (f" ({kind})" if kind else ""))
    if reading.question:
        print(f"question: {reading.question}")
    if reading.options:
        print("options:")
        for number, option in enumerate(reading.options, 1):
            print(f"  {number}. {option}")
    if reading.context:
        print("context:")
        for line in reading.context:
            print(f"  {line}")
    print(f"rule:     {rule}")
    print(f"summary:  {reading.summary}")
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    """``quarterdeck diff NAME [--stat]``."""
    from app.fleet.review import format_diff

    fleet = _open_fleet(args.path)
    print(format_diff(fleet.diff(args.name), stat=args.stat))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """``quarterdeck check NAME [--run | --wait | --cancel]``."""
    from app.core.review import CheckState

    fleet = _open_fleet(args.path)
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
    print(f"{args.name}: {result.label}{code} — {result.command} on {result.ran_on}")
    if result.tail:
        print(result.tail)
    return 0 if result.state in (CheckState.PASSED, CheckState.RUNNING) else ERROR_EXIT


def _wait_check(fleet, name: str, timeout: float | None):  # type: ignore[no-untyped-def]
    """The agent's check once it has ended (or as it is at the timeout)."""

    def ended() -> bool:
        result = fleet.check(name)
        return result is None or result.final

    _tracking(fleet, ended, timeout)
    return fleet.check(name)


def cmd_merge(args: argparse.Namespace) -> int:
    """``quarterdeck merge NAME [--strategy S] [--force] [--update-worktree] [--send-conflict]``."""
    from app.core.review import MergeStrategy

    fleet = _open_fleet(args.path)
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
        f"send it to the agent: {_self_command()} -C {shlex.quote(str(fleet.repo.root))} "
        f"merge {args.name} --send-conflict",
        file=sys.stderr,
    )
    return ERROR_EXIT


def cmd_push(args: argparse.Namespace) -> int:
    """``quarterdeck push NAME``."""
    fleet = _open_fleet(args.path)
    print(fleet.push_branch(args.name))
    return 0


COMMANDS = {
    "new": cmd_new,
    "ls": cmd_ls,
    "attach": cmd_attach,
    "stop": cmd_stop,
    "rm": cmd_rm,
    "dashboard": cmd_dashboard,
    "demo": cmd_demo,
    "open": cmd_open,
    "classify": cmd_classify,
    "pretrust": cmd_pretrust,
    "answer": cmd_answer,
    "send": cmd_send,
    "interrupt": cmd_interrupt,
    "wait": cmd_wait,
    None: cmd_open,
}
COMMANDS.update({"diff": cmd_diff, "check": cmd_check, "merge": cmd_merge, "push": cmd_push})


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``quarterdeck`` and ``qd``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except UsageError as exc:
        print(f"quarterdeck: {exc}", file=sys.stderr)
        return USAGE_EXIT
    except QuarterdeckError as exc:
        print(f"quarterdeck: {exc}", file=sys.stderr)
        return ERROR_EXIT
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
