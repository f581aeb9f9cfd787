"""An agent's environment: what the command (or dashboard) that starts it runs with, without what
belongs to that command's own terminal or tmux, plus what the agent's kind sets and what
Quarterdeck itself needs the agent to carry."""

from __future__ import annotations

import re
from collections.abc import Mapping

#: Variables that describe the terminal or tmux pane the starting command runs in, or the
#: Quarterdeck process itself: an agent's window has its own (tmux sets ``TERM``, ``TMUX``,
#: ``TMUX_PANE``; a pane's size is the pane's).
NOT_INHERITED = frozenset(
    {
        "TMUX",
        "TMUX_PANE",
        "TERM",
        "TERM_PROGRAM",
        "TERM_PROGRAM_VERSION",
        "COLUMNS",
        "LINES",
        "SHLVL",
        "PWD",
        "OLDPWD",
        "_",
        "STY",
        "WINDOW",
        "QUARTERDECK_HOSTED",
        "QUARTERDECK_AGENT_ID",
        "QUARTERDECK_AGENT_NAME",
        "QUARTERDECK_CHECK",
    }
)
#: What tmux itself sets in every pane: never removed from an agent's window.
SET_BY_TMUX = frozenset({"TMUX", "TMUX_PANE", "TERM", "TERM_PROGRAM", "TERM_PROGRAM_VERSION"})
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def inherited(environ: Mapping[str, str]) -> dict[str, str]:
    """The part of a command's environment that its agents inherit: every variable with a
    plain name (exported shell functions are left out) but those of `NOT_INHERITED`."""
    return {k: v for k, v in environ.items() if k not in NOT_INHERITED and _NAME.match(k)}


def effective(environ: Mapping[str, str], kind_env: Mapping[str, str]) -> dict[str, str]:
    """The environment an agent of a kind runs with, as its CLI sees it: the starting command's
    inherited environment with the kind's ``env`` over it. Config homes (Claude's,
    ``CODEX_HOME``, …) are read from this."""
    return {**inherited(environ), **kind_env}


def agent_environment(
    environ: Mapping[str, str], kind_env: Mapping[str, str], needed: Mapping[str, str]
) -> dict[str, str]:
    """Everything an agent's window is started with: `effective`, then what Quarterdeck needs
    it to carry (its id, the hook spool), which nothing may override."""
    return {**effective(environ, kind_env), **needed}


def differences(started_with: Mapping[str, str], now: Mapping[str, str]) -> list[str]:
    """The names of the variables agents would inherit differently from ``now`` than from
    ``started_with`` (set, unset or changed), sorted; values are never shown."""
    old, new = inherited(started_with), inherited(now)
    return sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
