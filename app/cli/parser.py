"""The command line's arguments: every subcommand and its options, in the order ``--help``
lists them."""

from __future__ import annotations

import argparse
from collections.abc import Callable


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
    p.add_argument(
        "--no-tasks",
        action="store_true",
        help="only the demo agents, without the demo's task graph",
    )

    p = command(
        "pretrust",
        "opt this repository in (on) or out (off) of writing each agent CLI's folder-trust "
        "record for the worktrees Quarterdeck creates",
    )
    p.add_argument("state", choices=["on", "off", "status"])

    p = command(
        "doctor",
        "check each agent kind: installed and its version, its key or login, config home, "
        "first-run, trust and key dialogs, permission mode, hooks; one line per finding",
    )
    p.add_argument("kinds", nargs="*", metavar="KIND", help="the kinds to check (default: all)")

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
        "3 timed out, 4 the agent ended first, 5 its turn ended in an error first",
    )
    p.add_argument("name")
    p.add_argument("--until", required=True, choices=["idle", "needs_input", "error", "exited"])
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
