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

    p = command(
        "restore",
        "make the windows of agents that were live when their tmux server (or window) went "
        "away again, each in its worktree, resuming its conversation where its CLI can",
    )
    p.add_argument("names", nargs="*", metavar="NAME", help="the agents to restore")
    p.add_argument("--all", action="store_true", help="every agent that can be restored")

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
    p.add_argument(
        "--repair",
        action="store_true",
        help="set a damaged state database aside and rebuild it; take back agents whose "
        "worktrees exist without a record",
    )

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
    _add_task_commands(command)
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


def _add_task_options(p: argparse.ArgumentParser) -> None:
    """The options of ``task add`` and ``task edit`` (not given: the spec's own value)."""
    p.add_argument(
        "--prompt",
        default=None,
        help="what the agent is asked (default: the title); - reads standard input",
    )
    p.add_argument(
        "--after", default=None, metavar="T1,T2", help="the tasks (by name or number) it runs after"
    )
    check = p.add_mutually_exclusive_group()
    check.add_argument(
        "--until",
        default=None,
        metavar="CMD",
        help="loop until this check passes: a fresh agent each round, with the failure output",
    )
    check.add_argument(
        "--check",
        default=None,
        metavar="CMD",
        help="the check that says it is done, without looping (default: the repository's check)",
    )
    p.add_argument(
        "--max-rounds",
        type=int,
        default=None,
        metavar="N",
        help="at most N rounds (with --until: 10 unless given)",
    )
    p.add_argument(
        "--max-minutes",
        type=float,
        default=None,
        metavar="M",
        help="stop after M minutes of wall time",
    )
    p.add_argument(
        "--max-tokens",
        type=int,
        default=None,
        metavar="N",
        help="stop after N tokens where the agent CLI reports them",
    )
    p.add_argument(
        "--attempts",
        default=None,
        metavar="SPEC",
        help="3 (three attempts of its agent) or claude,codex:o3 (one per kind[:model])",
    )
    p.add_argument(
        "--agent", "-a", dest="kind", default=None, help="agent kind (default: the repository's)"
    )
    p.add_argument("--model", default=None, help="the model the agent CLI is given")
    p.add_argument(
        "--flags",
        default=None,
        help='extra command-line flags for the agent CLI, as one string: --flags "--x --y" '
        "(a single flag: --flags=--x)",
    )
    p.add_argument("--name", default=None, help="task name (default: from the title)")
    p.add_argument("--base", default=None, help="the branch its work lands in and starts from")
    p.add_argument(
        "--land",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="land it as soon as it passed (one attempt only)",
    )
    p.add_argument(
        "--needs-landed",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="start only once its dependencies landed, not only passed",
    )


def _add_no_wait(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--no-wait",
        action="store_true",
        help="return at once instead of waiting for started agents' prompts to be delivered",
    )


def _add_task_commands(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """``task`` and its subcommands."""
    task = command(
        "task",
        "tasks: work that a check says is done, run by agents in rounds and attempts, after the "
        "tasks it waits on",
    )
    sub = task.add_subparsers(dest="task_command", metavar="SUBCOMMAND", required=True)

    def subcommand(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        _add_repo_option(p, argparse.SUPPRESS)
        return p

    def named(name: str, help_text: str) -> argparse.ArgumentParser:
        p = subcommand(name, help_text)
        p.add_argument("task", metavar="T", help="the task's name or number")
        return p

    p = subcommand(
        "add", "add a task; it starts at once when what it waits on allows and a slot is free"
    )
    p.add_argument("title", help="what to do (also the prompt when --prompt is not given)")
    _add_task_options(p)
    p.add_argument(
        "--start-now",
        action="store_true",
        help="start it as soon as its dependencies allow, over the cap of running attempts",
    )
    p.add_argument("--json", action="store_true", help="print the task as JSON")
    _add_no_wait(p)

    p = subcommand(
        "ls", "list tasks: number, name, state, rounds, what each waits on, its last check and why"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = named(
        "show", "one task: what it asks, its attempts best first with their rounds, its history"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = named(
        "edit", "change a task that has not started (queued or blocked); options not given stay"
    )
    p.add_argument("--title", default=None, help="a new title")
    _add_task_options(p)
    _add_no_wait(p)

    _add_no_wait(
        named(
            "start",
            "start the task as soon as its dependencies allow, over the cap of running attempts",
        )
    )
    _add_no_wait(
        named(
            "retry", "run a failed or cancelled task again: its caps start over, its work is kept"
        )
    )
    named("cancel", "stop the task's agents (their work is kept); what waits on it is held")

    p = named("land", "keep one passed attempt: land its branch in the base, archive the others")
    p.add_argument(
        "--attempt",
        type=int,
        default=None,
        metavar="N",
        help="the attempt to keep (needed when several passed)",
    )

    p = named("diff", "the difference between two attempts' branches")
    p.add_argument("first", type=int, metavar="A", help="attempt number")
    p.add_argument("second", type=int, metavar="B", help="attempt number")

    p = subcommand(
        "wait",
        "wait until tasks passed (or landed) or are done; exit status: 0 reached, 3 timed out, "
        "4 one is held by a failed or cancelled dependency (or, waiting for passed, was "
        "cancelled), 5 waiting for passed: one failed",
    )
    p.add_argument("tasks", nargs="*", metavar="T", help="tasks by name or number (default: all)")
    p.add_argument(
        "--until",
        required=True,
        choices=["passed", "done"],
        help="passed: passed or landed; done: passed, failed, landed or cancelled",
    )
    p.add_argument("--timeout", type=float, default=None, help="seconds (default: no limit)")

    p = subcommand(
        "import", "add every task of a plan file (a Markdown checklist or TOML), all or none"
    )
    p.add_argument(
        "file", metavar="FILE", help="the plan: .md / .markdown or .toml (- reads standard input)"
    )
    p.add_argument("--dry-run", action="store_true", help="only print what would be added")
    _add_no_wait(p)
