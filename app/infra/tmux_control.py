"""One tmux control-mode connection for the whole fleet: commands without a subprocess each, and
a note of which panes had output since the last look."""

from __future__ import annotations

import contextlib
import subprocess
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from app.core.errors import QuarterdeckError

#: How long a command over the connection may take before the caller gives up on it.
COMMAND_TIMEOUT = 5.0


class ControlError(QuarterdeckError):
    """The control-mode connection failed or a command over it failed."""


def quote(arg: str) -> str:
    """Quote one argument for tmux's command parser (single quotes; a quote is closed, escaped
    and reopened, as in sh)."""
    return "'" + arg.replace("'", "'\\''") + "'"


@dataclass
class _Pending:
    done: threading.Event = field(default_factory=threading.Event)
    lines: list[str] = field(default_factory=list)
    error: bool = False


class ControlClient:
    """``tmux -C attach`` to one session of Quarterdeck's server.

    tmux sends ``%output`` for every write to a pane of the session. The first one for a pane
    marks it dirty and pauses that pane's output to this client (so a pane that floods costs one
    line per look, not one per write); `take_dirty` hands the dirty panes to the next sweep and
    resumes them before they are captured, so no output goes unnoticed.
    """

    def __init__(
        self,
        tmux_bin: str,
        socket_name: str,
        session: str,
        on_output: Callable[[], None] | None = None,
    ) -> None:
        self.session = session
        self._on_output = on_output
        self._proc = subprocess.Popen(
            [tmux_bin, "-L", socket_name, "-C", "attach-session", "-t", f"={session}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
        )
        self._write_lock = threading.Lock()
        self._state = threading.Lock()
        self._flow = threading.Lock()
        self._pending: deque[_Pending] = deque()
        self._dirty: set[str] = set()
        self._paused: set[str] = set()
        self._structure_changed = True
        self._alive = True
        # The attach itself answers with one %begin/%end block; wait for it before use.
        first = _Pending()
        self._pending.append(first)
        self._reader = threading.Thread(target=self._read, name="tmux-control", daemon=True)
        self._reader.start()
        if not first.done.wait(COMMAND_TIMEOUT) or first.error or not self._alive:
            self.close()
            raise ControlError(f"cannot open a control connection to tmux session {session}")

    @property
    def alive(self) -> bool:
        """True while the connection is open."""
        return self._alive  # the reader clears it when tmux closes the connection

    def _read(self) -> None:
        assert self._proc.stdout is not None
        current: _Pending | None = None
        attached = False
        for raw in self._proc.stdout:
            line = raw.rstrip("\n")
            if current is not None:
                if line.startswith(("%end ", "%error ")):
                    current.error = line.startswith("%error ")
                    current.done.set()
                    current = None
                else:
                    current.lines.append(line)
                continue
            if line.startswith("%output "):
                pane = line[8 : line.find(" ", 8)]
                self._note_output(pane)
            elif line.startswith("%begin "):
                # Flag 1 marks the answer to a command of ours; the answer to the attach itself
                # (flag 0) comes first; other blocks are not ours to match.
                ours = line.rsplit(" ", 1)[-1] == "1" or not attached
                attached = True
                with self._state:
                    current = self._pending.popleft() if ours and self._pending else _Pending()
            elif line.startswith("%exit"):
                break
            elif line.startswith(("%window-", "%unlinked-window-", "%session", "%layout-change")):
                self._structure_changed = True
        self._alive = False
        with self._state:
            for pending in self._pending:
                pending.error = True
                pending.done.set()
            self._pending.clear()
        if current is not None:
            current.error = True
            current.done.set()

    def _note_output(self, pane: str) -> None:
        # Pausing and resuming go out in the order they were decided (see `take_dirty`): a
        # resume overtaken by its own pause would leave the pane paused for good.
        with self._flow:
            if pane in self._paused:
                return
            self._dirty.add(pane)
            self._paused.add(pane)
            with contextlib.suppress(ControlError):
                self._send(f"refresh-client -A {quote(pane + ':pause')}", wait=False)
        if self._on_output is not None:
            self._on_output()

    def _send(self, line: str, wait: bool) -> _Pending:
        pending = _Pending()
        with self._write_lock:
            if not self.alive or self._proc.stdin is None:
                raise ControlError("the tmux control connection is closed")
            with self._state:
                self._pending.append(pending)
            try:
                self._proc.stdin.write(line + "\n")
                self._proc.stdin.flush()
            except (BrokenPipeError, ValueError, OSError) as exc:
                self._alive = False
                raise ControlError("the tmux control connection is closed") from exc
        if wait and not pending.done.wait(COMMAND_TIMEOUT):
            raise ControlError(f"tmux did not answer {line.split(' ', 1)[0]} in time")
        return pending

    def _send_many(self, lines: list[str]) -> None:
        """Send several commands in one write, not waiting for their answers."""
        with self._write_lock:
            if not self.alive or self._proc.stdin is None:
                raise ControlError("the tmux control connection is closed")
            with self._state:
                self._pending.extend(_Pending() for _ in lines)
            try:
                self._proc.stdin.write("".join(line + "\n" for line in lines))
                self._proc.stdin.flush()
            except (BrokenPipeError, ValueError, OSError) as exc:
                self._alive = False
                raise ControlError("the tmux control connection is closed") from exc

    def command(self, *args: str) -> list[str]:
        """Run one tmux command over the connection and return its output lines."""
        pending = self._send(" ".join(quote(a) for a in args), wait=True)
        if pending.error:
            raise ControlError(f"tmux {args[0]} failed: {' '.join(pending.lines)}")
        return pending.lines

    def post(self, *args: str) -> None:
        """Send one command without waiting for its answer (tmux runs commands in order, so a
        later `command` still sees its effect)."""
        self._send_many([" ".join(quote(a) for a in args)])

    def take_dirty(self) -> set[str]:
        """The panes that had output since the last call; their output is resumed first, so
        anything they write after this call marks them dirty again."""
        with self._flow:
            dirty, self._dirty = self._dirty, set()
            resume = self._paused & dirty
            self._paused -= resume
            if resume:
                with contextlib.suppress(ControlError):
                    self._send_many(
                        [f"refresh-client -A {quote(pane + ':continue')}" for pane in resume]
                    )
        return dirty

    def take_structure_changed(self) -> bool:
        """True once after windows or sessions changed (a pane may have been added or closed)."""
        changed, self._structure_changed = self._structure_changed, False
        return changed

    def close(self) -> None:
        """Detach and end the connection."""
        self._alive = False
        with contextlib.suppress(Exception):
            if self._proc.stdin is not None:
                self._proc.stdin.close()
        try:
            self._proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=2)
