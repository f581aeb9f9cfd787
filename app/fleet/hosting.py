"""Hosting: the repository's tmux session, with the dashboard in window 0.

The launcher (`quarterdeck` with no command) makes sure the session exists, starts the hosted
dashboard in window 0 unless one already runs there, and attaches the terminal. Until a
dashboard runs, window 0 shows a placeholder saying how to start one. Quitting the hosted
dashboard detaches the terminals and leaves the fleet running.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

from app.core.environment import SET_BY_TMUX, differences, inherited
from app.infra.procs import environment_of
from app.infra.settings import Settings
from app.infra.tmux import TmuxServer

#: What window 0 runs until a dashboard does.
PLACEHOLDER = [
    "sh",
    "-c",
    "printf '\\n  The Quarterdeck dashboard is not running here.\\n"
    "  Run `quarterdeck` in the repository to start it.\\n'; exec tail -f /dev/null",
]


def dashboard_environment(environ: Mapping[str, str], session: str) -> dict[str, str]:
    """The environment of the hosted dashboard: the launcher's (the agents it starts get it,
    keys and base URLs included), with its terminal type but not its tmux or its terminal's
    size, and `QUARTERDECK_HOSTED` naming the session it is hosted in."""
    env = inherited(environ)
    if "TERM" in environ:
        env["TERM"] = environ["TERM"]
    env["QUARTERDECK_HOSTED"] = session
    return env


def dashboard_argv(python: str, root: Path) -> list[str]:
    """The command window 0 runs: this Quarterdeck's dashboard, hosted, for ``root``."""
    return [python, "-m", "app.cli", "-C", str(root), "dashboard", "--hosted"]


class Hosting:
    """The fleet's tmux session and its window 0, for one repository."""

    def __init__(
        self,
        tmux: TmuxServer,
        session: str,
        root: Path,
        settings: Settings,
        *,
        python: str = sys.executable,
    ) -> None:
        self.tmux = tmux
        self.session = session
        self.root = root
        self.settings = settings
        self.python = python

    def ensure_session(self) -> None:
        """Create the session if it is missing (window 0 waits for the dashboard), with the
        return and next-waiting keys bound."""
        if self.tmux.ensure_session(
            self.session,
            str(self.root),
            PLACEHOLDER,
            self.settings.return_key,
            self.settings.next_waiting_key,
        ):
            self.tmux.mark_window0(self.session, "placeholder")
            self.tmux.set_session_option(self.session, "@qd_repo", self.root.name)

    def dashboard_running(self) -> bool:
        """True when a live dashboard runs in window 0."""
        return self.tmux.window0_command(self.session) == "dashboard"

    def start_dashboard(self, environ: Mapping[str, str]) -> None:
        """Start the hosted dashboard in window 0, replacing whatever runs there, with the
        launcher's environment (what the tmux server has besides is removed: agents started
        from the dashboard inherit its environment)."""
        env = dashboard_environment(environ, self.session)
        unset = self.tmux.environment_names(self.session) - set(env) - SET_BY_TMUX
        self.tmux.respawn_window0(
            self.session, str(self.root), dashboard_argv(self.python, self.root), env, unset
        )
        self.tmux.mark_window0(self.session, "dashboard")

    def stale_environment(self, environ: Mapping[str, str]) -> list[str]:
        """The variables the running dashboard (which gives agents it starts its own
        environment) has otherwise than ``environ``; [] when none runs or it cannot tell."""
        if not self.dashboard_running():
            return []
        pid = self.tmux.window0_pid(self.session)
        started_with = environment_of(pid) if pid is not None else None
        if started_with is None:
            return []
        return differences(started_with, dashboard_environment(environ, self.session))

    def launch(self, environ: Mapping[str, str]) -> list[str]:
        """Make sure the session and its dashboard run, show window 0, and return the command
        that attaches a terminal to it."""
        self.ensure_session()
        if not self.dashboard_running():
            self.start_dashboard(environ)
        self.tmux.cmd("select-window", "-t", f"={self.session}:0")
        return self.attach_argv()

    def attach_argv(self) -> list[str]:
        """The command that attaches the current terminal to the session."""
        return self.tmux.attach_argv(self.session)

    def detach_terminals(self) -> None:
        """Hand every attached terminal back (control-mode clients stay: an engine may read the
        fleet through one)."""
        self.tmux.detach_terminals(self.session)
