"""tmux: Quarterdeck's private server, one session per repository, one window per agent.

Why one long module: it is the one thin wrapper of the one tmux server — sessions, windows and
the environment they start with, panes, keys, options and the control connection share its
handle, its error handling and its fallback from control mode to a subprocess.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from importlib import resources

import libtmux

from app.core.errors import QuarterdeckError, ToolMissingError
from app.infra.tmux_control import ControlClient, ControlError

_SEP = "\x1f"
_FACTS_FORMAT = _SEP.join(
    [
        "#{pane_id}",
        "#{window_id}",
        "#{session_name}",
        "#{pane_pid}",
        "#{pane_dead}",
        "#{pane_dead_status}",
        "#{pane_current_command}",
        "#{window_activity}",
        "#{@qd_agent}",
        "#{pane_title}",
    ]
)


class TmuxError(QuarterdeckError):
    """A tmux command failed."""


@dataclass(frozen=True)
class PaneFacts:
    """What tmux reports about one pane in a single cheap call for all panes."""

    pane_id: str
    window_id: str
    session: str
    pid: int
    dead: bool
    dead_status: int | None
    command: str
    activity: int
    agent_id: str
    title: str


@dataclass(frozen=True)
class NewPane:
    """The stable ids of a freshly created agent window."""

    window_id: str
    pane_id: str
    pid: int


def require_tmux() -> str:
    """The tmux binary, or a `ToolMissingError` that says how to get it."""
    path = shutil.which("tmux")
    if path is None:
        raise ToolMissingError(
            "tmux is not installed; install it (e.g. `sudo apt-get install tmux`) and try again"
        )
    return path


class TmuxServer:
    """Quarterdeck's own tmux server (``tmux -L <socket>``), never the user's."""

    def __init__(self, socket_name: str) -> None:
        self.tmux_bin = require_tmux()
        self.socket_name = socket_name
        self.server = libtmux.Server(socket_name=socket_name)
        self.control: ControlClient | None = None
        self._unseen_output = False

    # -- the control-mode connection (used when open; every query falls back to a subprocess)

    def connect(self, session: str, on_output: Callable[[], None] | None = None) -> bool:
        """Open (or keep) the one control-mode connection the engine reads the fleet through;
        ``on_output`` is called (on the reader thread) when a quiet pane starts writing."""
        if self.control is not None and self.control.alive:
            return True
        if not self.has_session(session):
            # `attach` would start a server of its own that exits at once for want of a
            # session, failing a `new-session` that runs at the same moment.
            return False
        try:
            self.control = ControlClient(self.tmux_bin, self.socket_name, session, on_output)
        except ControlError:
            self.control = None
        # Output written before the connection opened was not seen: the first look after it
        # goes by tmux's activity times instead.
        self._unseen_output = self.control is not None
        return self.control is not None

    def disconnect(self) -> None:
        """Close the control-mode connection."""
        if self.control is not None:
            self.control.close()
            self.control = None

    def take_dirty(self) -> set[str] | None:
        """Panes that had output since the last call, or None when no connection tells us."""
        control = self.control
        if control is None or not control.alive:
            return None
        dirty = control.take_dirty()
        if self._unseen_output:
            self._unseen_output = False
            return None
        return dirty

    def _query(self, *args: str) -> list[str] | None:
        """Output of a read-only command: over the control connection when it is open (about
        0.1 ms), else as a subprocess (a few ms). None when tmux refuses."""
        control = self.control
        if control is not None and control.alive:
            with contextlib.suppress(ControlError):
                return control.command(*args)
        result = self.server.cmd(*args)
        return None if result.returncode != 0 else list(result.stdout)

    def cmd(self, *args: str) -> list[str]:
        """Run one tmux command on this server; raise `TmuxError` with tmux's words on failure."""
        result = self.server.cmd(*args)
        if result.returncode != 0:
            raise TmuxError(f"tmux {args[0]} failed: {' '.join(result.stderr) or 'unknown error'}")
        return list(result.stdout)

    def environment_names(self, session: str) -> set[str]:
        """The variables the server would give a new window of ``session`` on its own: its
        global environment (the one it started with) and the session's."""
        names: set[str] = set()
        for scope in (("-g",), ("-t", f"={session}")):
            result = self.server.cmd("show-environment", *scope)
            if result.returncode == 0:
                names.update(line.split("=", 1)[0] for line in result.stdout if "=" in line)
        return names

    def _cmd_as_client(
        self, what: str, args: list[str], client_env: Mapping[str, str]
    ) -> list[str]:
        """`cmd`, run by a tmux client whose environment has ``client_env`` over this
        process's: a window a command client makes takes the client's ``PATH``, not ``-e``'s.
        A failure says ``what`` failed."""
        result = subprocess.run(
            [self.tmux_bin, f"-L{self.socket_name}", *args],
            capture_output=True,
            text=True,
            env={**os.environ, **client_env},
            check=False,
        )
        if result.returncode != 0:
            words = result.stderr.strip() or "unknown error"
            raise TmuxError(f"tmux {what} failed: {words}")
        return result.stdout.splitlines()

    def is_running(self) -> bool:
        """True when the server is up."""
        return bool(self.server.is_alive())

    def has_session(self, session: str) -> bool:
        """True when ``session`` exists (exact name)."""
        return self.server.cmd("has-session", "-t", f"={session}").returncode == 0

    def ensure_session(
        self,
        session: str,
        cwd: str,
        window0: list[str],
        return_key: str,
        next_key: str = "",
    ) -> bool:
        """Create the repository's session with window 0 running ``window0`` if it is missing.

        Returns True when the session was created.
        """
        if self.has_session(session):
            return False
        result = self.server.cmd(
            "new-session",
            "-d",
            "-s",
            session,
            "-n",
            "dashboard",
            "-c",
            cwd,
            "-x",
            "200",
            "-y",
            "50",
            "--",
            shlex.join(window0),
        )
        if result.returncode != 0:
            words = " ".join(result.stderr) or "unknown error"
            if "duplicate session" in words:  # another process made it meanwhile
                return False
            raise TmuxError(f"tmux new-session failed: {words}")
        self._configure(session, return_key, next_key)
        return True

    def _configure(self, session: str, return_key: str, next_key: str) -> None:
        keys = f"{return_key}: dashboard" + (f" · {next_key}: next waiting" if next_key else "")
        status_right = f"#{{@qd_summary}} │ {keys} "
        # Global options are fine: this server is Quarterdeck's alone.
        for args in (
            ("set", "-g", "history-limit", "10000"),
            ("set", "-g", "status-right", status_right),
            ("set", "-g", "status-right-length", "110"),
            ("set", "-g", "status-left", " qd:#{@qd_repo} "),
            ("set", "-g", "status-left-length", "30"),
            ("setw", "-g", "window-status-format", " #I #{?@qd_glyph,#{@qd_glyph} ,}#W "),
            ("setw", "-g", "window-status-current-format", "[#I #{?@qd_glyph,#{@qd_glyph} ,}#W]"),
            ("set", "-t", session, "@qd_repo", session),
            ("set", "-g", "escape-time", "10"),
            ("set", "-g", "focus-events", "on"),
        ):
            self.cmd(*args)
        # A terminal size frozen into the environment would override the real size of every
        # pane (programs read COLUMNS/LINES before asking the terminal).
        for var in ("COLUMNS", "LINES"):
            self.server.cmd("set-environment", "-g", "-u", var)
        self.bind_return_key(return_key)
        if next_key:
            self.bind_next_waiting_key(next_key)

    def bind_next_waiting_key(self, key: str) -> None:
        """One key, in every pane of this server, jumps to the agent that has waited longest for
        the human (then to the next one): the window option ``@qd_waiting`` says since when."""
        script = resources.files("app.hooks").joinpath("qd-next-waiting")
        command = (
            f"sh {shlex.quote(str(script))} "
            "'#{socket_path}' '#{session_name}' '#{window_id}' '#{client_name}'"
        )
        self.cmd("bind-key", "-n", key, "run-shell", "-b", command)

    def bind_return_key(self, key: str) -> None:
        """One key, in every pane of this server, returns to the dashboard: in the hosted session
        it selects window 0; in a viewer session (``@qd_viewer`` set) it detaches back to the
        terminal the dashboard runs in."""
        self.cmd(
            "bind-key",
            "-n",
            key,
            "if-shell",
            "-F",
            "#{@qd_viewer}",
            "detach-client",
            "select-window -t :0",
        )

    def respawn_window0(
        self,
        session: str,
        cwd: str,
        argv: list[str],
        env: dict[str, str],
        unset: Collection[str] = (),
    ) -> None:
        """Start ``argv`` in window 0, replacing whatever runs there, with the server's
        environment, ``env`` over it and ``unset`` removed."""
        target = f"={session}:0"
        env_args = [a for k, v in env.items() for a in ("-e", f"{k}={v}")]
        removed = [a for name in sorted(unset) for a in ("-u", name)]
        command = "exec " + shlex.join(["env", *removed, *argv] if removed else argv)
        if self.server.cmd("list-panes", "-t", target).returncode != 0:
            self.cmd(
                "new-window",
                "-d",
                "-t",
                target,
                "-n",
                "dashboard",
                "-c",
                cwd,
                *env_args,
                "--",
                command,
            )
        else:
            self.cmd("respawn-window", "-k", "-t", target, "-c", cwd, *env_args, "--", command)
        # A dashboard that dies leaves window 0 in place, so the return key still lands there
        # and the launcher can restart it.
        self.cmd("set-option", "-w", "-t", target, "remain-on-exit", "on")

    def _window0(self, session: str, field: str) -> str | None:
        """A format ``field`` of window 0's pane, or None when there is no live window 0."""
        out = self.server.cmd(
            "display-message", "-p", "-t", f"={session}:0", f"#{{pane_dead}} {field}"
        )
        if out.returncode != 0 or not out.stdout:
            return None
        dead, _, value = out.stdout[0].partition(" ")
        return None if dead == "1" else value

    def window0_command(self, session: str) -> str | None:
        """What runs in window 0, or None when there is no live window 0."""
        return self._window0(session, "#{@qd_role}")

    def window0_pid(self, session: str) -> int | None:
        """The pid of what runs in window 0 (None when there is no live window 0)."""
        pid = self._window0(session, "#{pane_pid}")
        return int(pid) if pid is not None and pid.isdigit() else None

    def mark_window0(self, session: str, role: str) -> None:
        """Record what runs in window 0 (``dashboard`` or ``placeholder``)."""
        self.cmd("set-option", "-w", "-t", f"={session}:0", "@qd_role", role)

    def new_agent_window(
        self,
        session: str,
        agent_id: str,
        name: str,
        cwd: str,
        argv: list[str],
        env: dict[str, str],
        glyph: str = "",
        unset: Collection[str] = (),
    ) -> NewPane:
        """A new window running ``argv`` (exec'd, so the pane's pid is the agent's), marked with
        the agent's id so that it is never mistaken for another pane with a recycled ``%id``.

        Its environment is the server's with ``env`` over it and ``unset`` removed (`env -u`),
        ``PATH`` included: the client that makes the window runs with ``env``'s ``PATH``."""
        # Kept on exit from the first instant (an agent that fails at once leaves its window
        # and last screen, not a window gone before its options are set): set for the whole
        # server in the same call, which also covers a server an older version started.
        args = [
            "set-option",
            "-g",
            "-w",
            "remain-on-exit",
            "on",
            ";",
            "new-window",
            "-d",
            "-P",
            "-F",
            "#{window_id} #{pane_id} #{pane_pid}",
            "-t",
            f"={session}:",
            "-n",
            name,
            "-c",
            cwd,
        ]
        for key, value in env.items():
            args += ["-e", f"{key}={value}"]
        removed = [a for name in sorted(unset) for a in ("-u", name)]
        args += ["--", "exec " + shlex.join(["env", *removed, *argv] if removed else argv)]
        client = {"PATH": env["PATH"]} if "PATH" in env else {}
        out = self._cmd_as_client("new-window", args, client)
        window_id, pane_id, pid = out[0].split()
        # One tmux call for all the window's options (a command sequence).
        sequence: list[str] = []
        for name, value in (
            ("@qd_agent", agent_id),
            ("@qd_glyph", glyph),
            ("remain-on-exit", "on"),
            ("automatic-rename", "off"),
            ("allow-rename", "off"),
        ):
            sequence += [";", "set-option", "-w", "-t", window_id, name, value]
        self.cmd(*sequence[1:])
        return NewPane(window_id, pane_id, int(pid))

    def agent_panes(self) -> dict[str, PaneFacts]:
        """Facts for every agent pane of the server, keyed by agent id, in one tmux call."""
        lines = self._query("list-panes", "-a", "-F", _FACTS_FORMAT)
        if lines is None:
            return {}
        facts: dict[str, PaneFacts] = {}
        for line in lines:
            parts = line.split(_SEP, 9)
            if len(parts) != 10 or not parts[8]:
                continue
            pane, window, session, pid, dead, dstatus, command, activity, agent, title = parts
            facts[agent] = PaneFacts(
                pane_id=pane,
                window_id=window,
                session=session,
                pid=int(pid or 0),
                dead=dead == "1",
                dead_status=int(dstatus) if dstatus.lstrip("-").isdigit() else None,
                command=command,
                activity=int(activity or 0),
                agent_id=agent,
                title=title.strip(),
            )
        return facts

    def window_names(self, session: str) -> dict[str, str]:
        """The windows of ``session`` by id, with their names."""
        lines = self._query(
            "list-windows", "-t", f"={session}", "-F", "#{window_id} #{window_name}"
        )
        return dict(line.split(" ", 1) for line in lines or () if " " in line)

    def reap(self) -> None:
        """Nudge the server to collect exited agents: tmux 3.3 can miss a child's exit when two
        end together, leaving the pane dead with no exit status until its next SIGCHLD."""
        out = self.server.cmd("display-message", "-p", "#{pid}")
        if out.returncode == 0 and out.stdout and out.stdout[0].isdigit():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(int(out.stdout[0]), signal.SIGCHLD)

    def capture(self, pane_id: str, ansi: bool = False, history: int = 0) -> str:
        """The visible screen of a pane (with colour escapes when ``ansi``), and the last
        ``history`` lines above it."""
        args = ["capture-pane", "-p", "-t", pane_id]
        if ansi:
            args.insert(2, "-e")
        if history:
            args += ["-S", str(-history)]
        lines = self._query(*args)
        if lines is None:
            raise TmuxError(f"cannot read pane {pane_id}: it is gone")
        return "\n".join(lines)

    def send_text(self, pane_id: str, text: str) -> None:
        """Type ``text`` literally into a pane (no key names interpreted)."""
        self.cmd("send-keys", "-t", pane_id, "-l", "--", text)

    def paste(self, pane_id: str, text: str) -> None:
        """Paste multi-line ``text`` as one bracketed paste (newlines do not submit it)."""
        buffer = f"qd-{pane_id.lstrip('%')}"
        self.cmd("set-buffer", "-b", buffer, "--", text)
        self.cmd("paste-buffer", "-p", "-d", "-b", buffer, "-t", pane_id)

    def send_keys(self, pane_id: str, *keys: str) -> None:
        """Press named keys (``Enter``, ``Escape``, ``C-c``) in a pane."""
        self.cmd("send-keys", "-t", pane_id, *keys)

    def select_window(self, window_id: str) -> None:
        """Make ``window_id`` the current window of its session."""
        self.cmd("select-window", "-t", window_id)

    def kill_window(self, window_id: str) -> None:
        """Close a window (ignoring one that is already gone)."""
        self.server.cmd("kill-window", "-t", window_id)

    def _post(self, *args: str) -> None:
        """Run a command whose answer nobody needs: written to the control connection without
        waiting when it is open, else as a subprocess."""
        control = self.control
        if control is not None and control.alive:
            with contextlib.suppress(ControlError):
                control.post(*args)
                return
        self.server.cmd(*args)

    def display(self, session: str, text: str, ms: int) -> None:
        """Show ``text`` for ``ms`` milliseconds on every terminal attached to ``session`` (and
        to the sessions grouped with it)."""
        fields = "#{client_name}\t#{client_control_mode}\t#{session_group}\t#{session_name}"
        for line in self._query("list-clients", "-F", fields) or []:
            name, control, group, current = [*line.split("\t"), "", "", ""][:4]
            if control == "1" or session not in (group, current):
                continue
            # display-message expands formats: a "#" in a name or title is written "##".
            self._post("display-message", "-c", name, "-d", str(ms), text.replace("#", "##"))

    def set_session_option(self, session: str, name: str, value: str) -> None:
        """Set a session (user) option, e.g. ``@qd_summary``."""
        self._post("set-option", "-t", f"={session}:", name, value)

    def set_window_option(self, window_id: str, name: str, value: str) -> None:
        """Set a window (user) option, e.g. ``@qd_glyph``."""
        self._post("set-option", "-w", "-t", window_id, name, value)

    def viewer_session(self, session: str, window_id: str) -> str:
        """A throw-away session grouped with ``session``, showing ``window_id``. The return key
        detaches from it; attach it with `attach_argv` (``viewer=True``) so that it disappears
        once its client detaches."""
        viewer = f"{session}-view-{os.getpid()}"
        if not self.has_session(viewer):
            self.cmd("new-session", "-d", "-t", f"={session}", "-s", viewer)
            self.cmd("set-option", "-t", f"={viewer}:", "@qd_viewer", "1")
        self.cmd("select-window", "-t", f"={viewer}:{window_id}")
        return viewer

    def attach_argv(self, session: str, *, viewer: bool = False) -> list[str]:
        """The command that attaches the current terminal to ``session`` on this server."""
        argv = [
            "env",
            "-u",
            "TMUX",
            require_tmux(),
            "-L",
            self.socket_name,
            "attach-session",
            "-t",
            f"={session}",
        ]
        if viewer:
            # Set only once attached: tmux would destroy a session that has never had a client.
            argv += [";", "set-option", "-t", f"={session}:", "destroy-unattached", "on"]
        return argv

    def detach_terminals(self, session: str) -> None:
        """Detach every terminal attached to ``session`` (not control-mode clients: another
        engine may be reading the fleet through one)."""
        out = self.server.cmd(
            "list-clients", "-t", f"={session}", "-F", "#{client_name} #{client_control_mode}"
        )
        for line in out.stdout if out.returncode == 0 else []:
            name, _, control = line.rpartition(" ")
            if control != "1":
                self.server.cmd("detach-client", "-t", name)

    def kill_server(self) -> None:
        """Stop the whole server (tests and emergency stop)."""
        self.server.cmd("kill-server")
