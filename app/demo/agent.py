"""The demo agent: ``python -m app.demo.agent [--seed N] [--speed X] [--behaviour B] [--name N]
[--model M] [--checklist PATH] [--resume SESSION]``.

A stdlib-only stand-in for an interactive coding-agent TUI. It shows a prompt, turns a spinner
while it "works", really edits files in its working directory and really commits them, and
sometimes stops for a permission dialog or a free-text question. A ``checklist`` agent ticks one
unchecked item of its checklist (``TODO.md``) a turn, so a task that loops on "is every item
ticked?" converges round by round. Quarterdeck classifies its
screen with the rules in ``app/agents/demo.toml``, so the strings drawn here are
a contract: change them only together with those rules.

Hooks (``--settings PATH``, a Claude Code settings file; see `app.demo.hooks`) fire the way
Claude Code's do, with the same event names and payload fields:

- ``SessionStart`` (``source: "startup"``) when the prompt first appears;
- ``UserPromptSubmit`` (``prompt``) when a task is submitted, or a queued one starts;
- ``PreToolUse`` (``tool_name``, ``tool_input``, ``tool_use_id``) as each read, edit, test,
  commit or run step starts; for a permission dialog or a question, right as it opens, just
  before ``PermissionRequest`` (same tool fields; the question is ``AskUserQuestion``). An
  approved command's run step belongs to that same tool use: no second ``PreToolUse``;
- ``PostToolUse`` (plus a minimal ``tool_response``) when a step completes, an approved
  command has run, or a question is answered;
- ``Stop`` when a turn ends by itself; ``StopFailure`` (``error``, ``last_assistant_message``)
  instead when it ends in an API error (a task that starts with ``error:``);
- ``SessionEnd`` when the agent leaves: ``reason: "prompt_input_exit"`` for /exit, Ctrl-D or
  the end of piped input (Claude Code's value), ``"other"`` for SIGTERM, SIGHUP or a
  quitter leaving by itself. The agent waits up to `EXIT_WAIT` for queued hooks first.

Each model call (the start of every step, and the turn's closing message) is reported like a
real CLI's usage: a JSON line (``session``, ``started``, ``at``, ``input_tokens``,
``output_tokens``; see `app.demo.script.call_tokens`) appended to `USAGE_FILE` in the git folder
of its working directory (not the worktree, where it would be committed).

Each conversation is kept, a line per task, in `CONVERSATIONS` in the same git folder, under its
session id (the ``session_id`` of its hooks); ``--resume SESSION`` goes on with it, like Claude
Code's ``--resume``: the banner says so, ``SessionStart`` has ``source: "resume"``, and the next
task's reply recalls the earlier ones.

Like Claude Code, nothing fires for an interrupt (Esc, Ctrl-C), a dismissed or denied dialog
or a skipped question: no ``PostToolUse``, and no ``Stop`` for that turn. A simulated crash
(``crasher``), ``--die-at-once`` and a hung agent send nothing more either.

Misbehaviour switches, for tests of the fleet that runs agents: ``--flood`` (thousands of log
lines a second while working), ``--hang-after N`` (freeze for good as step N+1 starts),
``--die-at-once`` (one error line, exit 1), ``--ignore-sighup`` (outlives its terminal, like
Gemini CLI), ``--ignore-sigterm`` and ``--lose-enter N`` (the first N Enters after typed text
do nothing, as Codex loses an Enter that follows a paste too closely). By default SIGHUP
exits with 129 and SIGTERM with 0.

Why one long module: the demo agent is a program of its own, run as ``python -m`` in each
agent's pane; its screen, its turn loop and its input handling draw the strings its rules file
reads, and one file keeps that contract in one place (its plans and hooks are split out).
"""

from __future__ import annotations

import argparse
import codecs
import json
import os
import random
import select
import shutil
import signal
import subprocess
import sys
import termios
import time
import unicodedata
import uuid
from collections import deque
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any, Literal

from app.demo.hooks import (
    HookRunner,
    JsonObject,
    load_hooks,
    session_id,
    tool_call,
    tool_response,
)
from app.demo.script import (
    BEHAVIOURS,
    DEFAULT_CHECKLIST,
    Behaviour,
    Planner,
    Step,
    Turn,
    apply_edit,
    call_tokens,
    tick_checklist,
)

Key = tuple[str, str]
"""A key event: ``(kind, text)``; kind is text, paste, enter, backspace, esc, up, down,
ctrl_c or ctrl_d, and text is only set for text and paste."""
Mode = Literal["idle", "working", "dialog", "question"]

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
FRAMES_PER_SECOND = 8
ESC_WAIT = 0.05  # a lone ESC is one not followed by more bytes within this long
PASTE_START, PASTE_END = "\x1b[200~", "\x1b[201~"
EXIT_WAIT = 5.0  # how long leaving waits for queued hooks (SessionEnd above all) to run
FLOOD_RATE = 5000  # --flood: log lines a second while working
FLOOD_TICK = 0.02  # --flood: how often a batch is written (keys are read in between)
FLOOD_BATCH = 400  # --flood: at most this many lines a batch, however late the loop woke
FATAL_START = "✗ Fatal: could not start (simulated)"
OPTIONS = (
    "Yes",
    "Yes, and don't ask again for this command",
    "No, tell the agent what to do instead",
)
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Quarterdeck Demo",
    "GIT_AUTHOR_EMAIL": "demo@quarterdeck.invalid",
    "GIT_COMMITTER_NAME": "Quarterdeck Demo",
    "GIT_COMMITTER_EMAIL": "demo@quarterdeck.invalid",
}
_SINGLE = {"\r": "enter", "\n": "enter", "\x7f": "backspace", "\x08": "backspace"}
_SINGLE |= {"\x03": "ctrl_c", "\x04": "ctrl_d"}
#: The usage file, in the git folder (a contract with `app.agents.demo.USAGE_FILE`).
USAGE_FILE = "quarterdeck-demo-usage.jsonl"
#: Its conversations (``<session>.jsonl``: a line per task taken), in the same git folder (a
#: contract with `app.agents.demo.CONVERSATIONS`), so ``--resume SESSION`` finds them again.
CONVERSATIONS = "quarterdeck-demo-conversations"


def parse_keys(buf: str, final: bool = False) -> tuple[list[Key], str]:
    """Split decoded terminal input into key events.

    Args:
        buf: Input not parsed yet.
        final: No more bytes are coming soon, so a cut-short escape sequence is a lone Esc.

    Returns:
        The events, and the unparsed rest (an incomplete escape sequence or paste).
    """
    keys: list[Key] = []
    i = 0
    while i < len(buf):
        c = buf[i]
        if c == "\x1b":
            if buf.startswith(PASTE_START, i):
                end = buf.find(PASTE_END, i)
                if end < 0 and not final:
                    break
                end = len(buf) if end < 0 else end
                keys.append(("paste", buf[i + len(PASTE_START) : end]))
                i = end + len(PASTE_END)
                continue
            nxt, j = buf[i + 1 : i + 2], i + 2  # j: the final byte of ESC [ ... or ESC O x
            while nxt == "[" and j < len(buf) and "\x20" <= buf[j] <= "\x3f":
                j += 1
            if nxt in ("[", "O") and j < len(buf):
                key = {"A": "up", "B": "down"}.get(buf[j])  # other sequences are ignored
                keys += [(key, "")] if key else []
                i = j + 1
            elif nxt not in ("", "[", "O") or final:
                keys.append(("esc", ""))  # a lone Esc, maybe followed by a typed key
                i += 1
            else:
                break  # a sequence cut short: wait for its rest
        elif c == "\r" and buf[i + 1 : i + 2] == "\n":
            i += 1  # CRLF from a pipe is one Enter; the \n is taken next round
        elif c in _SINGLE:
            keys.append((_SINGLE[c], ""))
            i += 1
        elif c < " " and c != "\t":
            i += 1
        else:
            j = i
            while j < len(buf) and (buf[j] >= " " or buf[j] == "\t") and buf[j] != "\x7f":
                j += 1
            keys.append(("text", buf[i:j].replace("\t", " ")))
            i = j
    return keys, buf[i:]


def cells(text: str) -> int:
    """The terminal columns ``text`` takes (wide East Asian characters take two)."""
    wide = {"W", "F"}
    return sum(
        0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in wide else 1
        for ch in text
    )


def box(lines: list[str]) -> list[str]:
    """A rounded box around ``lines``, at least 56 columns wide and as wide as they need."""
    inner = max(52, *(cells(line) for line in lines))
    rows = [f"│ {line}{' ' * (inner - cells(line))} │" for line in lines]
    return ["╭" + "─" * (inner + 2) + "╮", *rows, "╰" + "─" * (inner + 2) + "╯"]


class KeyReader:
    """Reads stdin without blocking the spinner for long, decoding UTF-8 and escape sequences."""

    def __init__(self, fd: int) -> None:
        """Read from file descriptor ``fd``."""
        self.fd = fd
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.pending = ""
        self.eof = False

    def _fill(self, timeout: float) -> bool:
        if self.eof or not select.select([self.fd], [], [], max(timeout, 0.0))[0]:
            return False
        try:
            data = os.read(self.fd, 4096)
        except OSError:  # the terminal went away
            data = b""
        self.eof = not data
        self.pending += self.decoder.decode(data, final=self.eof)
        return bool(data)

    def read(self, timeout: float) -> list[Key]:
        """The keys that arrive within ``timeout`` seconds (sleeps it out at end of input)."""
        if self.eof:
            time.sleep(max(timeout, 0.0))
            return []
        self._fill(timeout)
        keys: list[Key] = []
        while True:
            more, self.pending = parse_keys(self.pending, final=self.eof)
            keys += more
            if not self.pending or self.pending.startswith(PASTE_START):
                return keys
            # An escape sequence is cut short: wait a moment for its rest, else it was an Esc.
            if not self._fill(ESC_WAIT):
                more, self.pending = parse_keys(self.pending, final=True)
                return keys + more


def git(*args: str) -> str:
    """Run git in the working directory with the demo identity; its stdout, or raise."""
    env = {**os.environ, **GIT_ENV}
    done = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return done.stdout


def in_git_repo() -> bool:
    """Whether the working directory is inside a git work tree."""
    try:
        return git("rev-parse", "--is-inside-work-tree").strip() == "true"
    except (OSError, subprocess.SubprocessError):
        return False


def conversation_file(session: str) -> Path | None:
    """Where the conversation ``session`` is kept (None outside a git work tree)."""
    try:
        folder = Path(git("rev-parse", "--absolute-git-dir").strip()) / CONVERSATIONS
    except (OSError, subprocess.SubprocessError):
        return None
    return folder / f"{session}.jsonl"


def earlier_tasks(session: str) -> list[str] | None:
    """The tasks of the conversation ``session`` so far, None when there is no such one."""
    path = conversation_file(session)
    try:
        lines = path.read_text(encoding="utf-8").splitlines() if path else None
    except OSError:
        return None
    if lines is None:
        return None
    tasks = []
    for line in lines:
        try:
            tasks.append(str(json.loads(line)["task"]))
        except (ValueError, KeyError, TypeError):
            continue
    return tasks


def usage_file() -> Path | None:
    """Where the agent reports its model calls: `USAGE_FILE` in the git folder of its working
    directory (None outside a git work tree)."""
    try:
        return Path(git("rev-parse", "--absolute-git-dir").strip()) / USAGE_FILE
    except (OSError, subprocess.SubprocessError):
        return None


class Agent:
    """The demo agent's state machine: idle prompt, working spinner, dialog and question."""

    def __init__(
        self,
        seed: int,
        speed: float,
        behaviour: Behaviour,
        name: str,
        *,
        hooks: HookRunner | None = None,
        flood: bool = False,
        hang_after: int | None = None,
        outlive_terminal: bool = False,
        transcript: Path | None = None,
        lose_enter: int = 0,
        model: str = "",
        checklist: str = DEFAULT_CHECKLIST,
        earlier: list[str] | None = None,
    ) -> None:
        """Set the agent up; nothing is drawn until `run`.

        Args:
            seed: The seed for the plan and the timing.
            speed: The time multiplier (2 is twice as fast).
            behaviour: The agent's behaviour, see `app.demo.script`.
            name: The name shown in the banner.
            hooks: Where hook events go (default: nowhere).
            flood: Print a flood of log lines while working.
            hang_after: Freeze for good once this many steps are done (default: never).
            outlive_terminal: Keep running when the terminal goes away (SIGHUP is ignored).
            transcript: A file to which every line the agent takes (submitted at its prompt
                or queued while it works) is appended as one JSON line.
            lose_enter: Ignore this many Enters pressed after text was typed at the prompt
                (as a CLI loses an Enter that follows a paste too closely).
            model: The model shown in the banner ('' for none).
            checklist: A ``checklist`` agent's checklist, relative to its working directory.
            earlier: The tasks of the conversation it resumes (``--resume``), None for a new
                one.
        """
        self.seed, self.speed, self.behaviour, self.name = seed, speed, behaviour, name
        if hooks is None:
            hooks = HookRunner({}, os.getcwd(), session_id(seed, os.getpid()))
        self.hooks = hooks
        self.flood, self.hang_after, self.outlive_terminal = flood, hang_after, outlive_terminal
        self.transcript = transcript
        self.lose_enter = lose_enter
        self.model = model
        self.planner = Planner(seed, behaviour, checklist)
        self.timing = random.Random(f"timing-{seed}")  # apart from the plan's generator
        self.keys = KeyReader(sys.stdin.fileno())
        self.git = in_git_repo()
        self.usage = usage_file() if self.git else None
        self.started = time.time()
        self.calls = 0  # model calls in the current turn
        self.mode: Mode = "idle"
        self.title = ""
        self.line = ""  # the demo> input; kept (hidden) while working
        self.answer = ""
        self.queue: deque[str] = deque()
        self.turn = Turn("worker", "", ())
        self.step = 0
        self.deadline = 0.0
        self.frame = -1
        self.choice = 0
        self.block_rows = 0  # terminal rows the open dialog or question occupies
        self.note = ""  # the user's last answer, written down by the next edit
        self.edited: set[str] = set()
        self.uncommitted: set[str] = set()  # across turns, like a real agent's dirty tree
        self.commits = 0
        self.out_fd = sys.stdout.fileno()
        self.term_gone = False  # writing to the terminal failed: it hung up
        self.ready = False  # SessionStart was sent, so SessionEnd may be
        self.end_reason = ""  # SessionEnd's reason when leaving; "" sends none
        self.hung = False
        self.steps_started = 0  # across turns, for --hang-after
        self.prompt_id = ""  # the current turn's, as Claude Code sends it
        self.tool: JsonObject = {}  # the open tool use's tool_name, tool_input, tool_use_id
        self.denied = False  # the turn ends on a refusal, which (like Claude) sends no Stop
        self.flood_at = 0.0
        self.flood_count = 0
        self.resumed = earlier is not None
        self.earlier = list(earlier or ())  # the conversation's tasks, kept in its file
        self.conversation = conversation_file(self.hooks.session) if self.git else None

    # ----- output -------------------------------------------------------------------------

    def out(self, text: str) -> None:
        """Write ``text`` to the terminal at once (UTF-8 whatever the locale says).

        Unbuffered, so a terminal that hung up (only survivable with ``--ignore-sighup``)
        leaves no unwritable bytes behind: its output is dropped from then on.
        """
        data = text.encode("utf-8", "replace")
        try:
            while data and not self.term_gone:
                data = data[os.write(self.out_fd, data) :]
        except OSError:
            self.term_gone = True

    def set_title(self, state: str) -> None:
        """Show ``state`` in the pane title (OSC 2), once per change."""
        if state != self.title:
            self.title = state
            self.out(f"\x1b]2;demo: {state}\x07")

    def say(self, line: str) -> None:
        """Print a finished line over the bottom line, keeping the spinner below it."""
        self.out(f"\r\x1b[K{line}\n")
        if self.mode == "working":
            self.draw_spinner(force=True)

    def draw_spinner(self, force: bool = False, above: str = "") -> None:
        """Redraw the spinner line in place when its frame changed, after lines ``above``."""
        frame = int(time.monotonic() * FRAMES_PER_SECOND) % len(SPINNER)
        if force or frame != self.frame:
            self.frame = frame
            verb = self.turn.steps[self.step].verb
            self.out(f"\r\x1b[K{above}{SPINNER[frame]} {verb}… (esc to interrupt)")

    def flood_out(self) -> None:
        """``--flood``: the log lines due since the last batch, then the spinner again."""
        now = time.monotonic()
        count = min(int((now - self.flood_at) * FLOOD_RATE), FLOOD_BATCH)
        if count <= 0 or self.term_gone:
            return
        self.flood_at = now
        step = self.turn.steps[self.step]
        head = f"{time.strftime('%H:%M:%S')} DEBUG {step.verb.lower()}: worker"
        what = step.path or step.kind
        lines = [
            f"{head} {n % 4} processed chunk {n} of {what} in {n % 97 / 10:.1f} ms\n"
            for n in range(self.flood_count, self.flood_count + count)
        ]
        self.flood_count += count
        # One write, the spinner last: a reader catching any pause sees the spinner at the end.
        self.draw_spinner(force=True, above="".join(lines))

    def rows(self, text: str) -> int:
        """How many terminal rows ``text`` wraps onto."""
        cols = max(shutil.get_terminal_size().columns, 1)
        return max(1, -(-cells(text) // cols))

    def redraw_input(self, prefix: str, old: str, new: str) -> None:
        """Replace the input line ``prefix + old`` (maybe wrapped) by ``prefix + new``."""
        up = self.rows(prefix + old) - 1
        self.out("\r" + (f"\x1b[{up}A" if up else "") + f"\x1b[J{prefix}{new}")

    def draw_block(self, lines: list[str]) -> None:
        """Draw a dialog box over the previous one, if any, and remember its height."""
        self.erase_block()
        self.out("".join(f"{line}\n" for line in lines))
        self.block_rows = sum(self.rows(line) for line in lines)

    def erase_block(self, below: int = 0) -> None:
        """Remove the box (and ``below`` rows typed under it) from the screen.

        An answered dialog left on screen would still match the classifier's dialog rules
        for a while, so the box goes, and a one-line record of the answer replaces it.
        """
        if self.block_rows + below:
            self.out(f"\r\x1b[{self.block_rows + below}A\x1b[J")
        self.block_rows = 0

    # ----- hooks --------------------------------------------------------------------------

    def emit(self, event: str, **fields: object) -> None:
        """Send a hook event of the current turn (queued: hooks never hold the screen up)."""
        turn = {"prompt_id": self.prompt_id, "permission_mode": "default"}
        self.hooks.emit(event, **turn, **fields)

    def open_tool(self, step: Step) -> None:
        """Start the tool use ``step`` stands for, with its PreToolUse."""
        name, tool_input = tool_call(step, os.getcwd(), Path(step.path).exists())
        self.tool = {"tool_name": name, "tool_input": tool_input}
        self.tool["tool_use_id"] = f"toolu_demo_{uuid.uuid4().hex[:24]}"
        self.emit("PreToolUse", **self.tool)

    def close_tool(self, output: str, **extra: object) -> None:
        """End the open tool use with its PostToolUse."""
        if self.tool:
            name, tool_input = self.tool["tool_name"], self.tool["tool_input"]
            response = {**tool_response(name, tool_input, output), **extra}
            self.emit("PostToolUse", **self.tool, tool_response=response)
        self.tool = {}

    def ask_permission(self, step: Step) -> None:
        """A dialog or question opens: PreToolUse, then PermissionRequest, as Claude sends."""
        self.open_tool(step)
        tool = {key: self.tool[key] for key in ("tool_name", "tool_input")}  # no tool_use_id
        self.emit("PermissionRequest", **tool)

    def leave(self, reason: str, status: int = 0) -> None:
        """Say goodbye and exit, ending the session with ``reason`` (raises `SystemExit`)."""
        self.out("Bye.\n")
        self.end_reason = reason
        raise SystemExit(status)

    def end_session(self) -> None:
        """On the way out: SessionEnd if due, then a bounded wait for the queued hooks."""
        if self.ready and self.end_reason and not self.hung:
            self.hooks.emit("SessionEnd", reason=self.end_reason)
        self.hooks.close(EXIT_WAIT)

    def hang(self) -> None:
        """``--hang-after``: freeze for good, leaving the screen as it is; only signals act."""
        self.hung = True
        while True:
            signal.pause()  # a no-op handler (--ignore-*) returns here; the others raise

    # ----- turns --------------------------------------------------------------------------

    def record(self, how: str, text: str) -> None:
        """``--transcript``: note a line the agent took, and how (``submitted``, ``queued``)."""
        if self.transcript is not None:
            line = json.dumps({"how": how, "text": text, "at": time.time()}, ensure_ascii=False)
            with self.transcript.open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")

    def spend(self) -> None:
        """Report one model call of the turn in the usage file (best effort)."""
        if self.usage is None:
            return
        tokens_in, tokens_out = call_tokens(self.turn.task, self.calls)
        self.calls += 1
        line = {"session": self.hooks.session, "started": self.started, "at": time.time()}
        line |= {"input_tokens": tokens_in, "output_tokens": tokens_out}
        try:
            with self.usage.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(line) + "\n")
        except OSError:
            self.usage = None

    def remember(self, task: str) -> None:
        """Keep a task in the conversation's file (best effort), so a resume knows it."""
        if self.conversation is None:
            return
        try:
            self.conversation.parent.mkdir(parents=True, exist_ok=True)
            with self.conversation.open("a", encoding="utf-8") as fh:
                if task:
                    fh.write(json.dumps({"task": task, "at": time.time()}) + "\n")
        except OSError:
            self.conversation = None

    def submit(self, text: str, *, queued: bool = False) -> None:
        """Act on a line entered at the prompt (or queued earlier, now its turn)."""
        self.record("started" if queued else "submitted", text)
        if text.strip() == "/exit":
            self.leave("prompt_input_exit")
        if self.earlier:
            self.say(
                f"↺ Continuing our conversation: {len(self.earlier)} earlier "
                f"task{'s' if len(self.earlier) > 1 else ''}, the last «{self.earlier[-1]}»"
            )
        self.earlier.append(text)
        self.remember(text)
        self.prompt_id = str(uuid.uuid4())
        self.emit("UserPromptSubmit", prompt=text)
        self.turn = self.planner.next_turn(text, self.read_checklist())
        self.step, self.commits, self.note, self.calls = -1, 0, "", 0
        self.denied, self.tool = False, {}
        self.edited.clear()
        self.next_step()

    def next_step(self) -> None:
        """Start the turn's next step, or end the turn after the last (each a model call)."""
        self.step += 1
        self.spend()
        if self.step >= len(self.turn.steps):
            self.mode = "idle"
            done = f"✓ Turn done: edited {len(self.edited)} files, {self.commits} commits"
            self.say(done)
            if not self.denied:
                self.emit("Stop", stop_hook_active=False, last_assistant_message=done)
            if self.behaviour == "quitter":
                self.leave("other")
            self.go_idle()
            return
        step = self.turn.steps[self.step]
        self.mode = "working"
        self.set_title("working")
        self.deadline = time.monotonic() + 0.6 / self.speed * self.timing.uniform(0.5, 1.5)
        self.flood_at = time.monotonic()
        # A dialog's or question's tool use starts when it opens; an approved command's run
        # is the tool use its dialog opened; a crash is no tool use at all.
        approved = step.kind == "run" and self.tool.get("tool_input") == {"command": step.text}
        if step.kind not in ("ask", "question", "crash", "fail") and not approved:
            self.open_tool(step)
        self.draw_spinner(force=True)
        self.steps_started += 1
        if self.hang_after is not None and self.steps_started > self.hang_after:
            self.hang()

    def finish_step(self) -> None:
        """Carry out the current step once its time is up."""
        step = self.turn.steps[self.step]
        if step.kind == "ask":
            self.mode, self.choice = "dialog", 0
            self.out("\r\x1b[K")
            self.set_title("needs_input")
            self.draw_block(self.dialog_lines())
            self.ask_permission(step)
            return
        if step.kind == "question":
            self.mode, self.answer = "question", ""
            self.out("\r\x1b[K")
            self.set_title("needs_input")
            prompt = [
                "Question from demo",
                step.text,
                "Type your answer and press Enter · Esc to skip",
            ]
            self.draw_block(box(prompt))
            self.out("answer> ")
            self.ask_permission(step)
            return
        if step.kind == "crash":
            self.out("\r\x1b[K✗ Fatal: simulated crash\n")
            raise SystemExit(1)
        if step.kind == "fail":
            # The turn ends in an API error, as Claude Code's does once its retries ran out:
            # the error line, StopFailure (no Stop), and the prompt again.
            self.mode = "idle"
            self.say(f"✗ {step.text}. Try again in a moment.")
            self.emit("StopFailure", error="server_error", last_assistant_message=step.text)
            self.go_idle()
            return
        report = self.do(step)
        self.say(report)
        self.close_tool(report.removeprefix("• "))
        self.next_step()

    def do(self, step: Step) -> str:
        """Do a read, edit, tick, test, run or commit step for real (or pretend); its report
        line."""
        if step.kind == "edit":
            return self.edit(step)
        if step.kind == "tick":
            return self.tick(step)
        if step.kind == "commit":
            return self.commit(step.text)
        if step.kind == "test":
            return f"• Ran tests: {step.text}"
        if step.kind == "run":
            return f"• Ran {step.text} (exit 0)"
        return f"• Read {step.path}" + (f": {step.text}" if step.text else "")

    def read_checklist(self) -> str | None:
        """A ``checklist`` agent's checklist as it is now (None: no such file, or another
        behaviour)."""
        if self.behaviour != "checklist":
            return None
        try:
            return Path(self.planner.checklist).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None

    def tick(self, step: Step) -> str:
        """Really tick the checklist's first unchecked item (the one planned, unless the file
        changed meanwhile)."""
        text = self.read_checklist()
        ticked = tick_checklist(text) if text is not None else None
        if ticked is None:
            return f"• Nothing to tick in {step.path}"
        new, item = ticked
        try:
            Path(step.path).write_text(new, encoding="utf-8")
        except OSError as err:
            return f"• Edit failed: {step.path}: {err.strerror or err}"
        self.edited.add(step.path)
        self.uncommitted.add(step.path)
        return f"• Ticked {step.path}: [x] {item} (+1 -1)"

    def edit(self, step: Step) -> str:
        """Really edit the step's file, creating it and its folder if needed."""
        path = Path(step.path)
        try:
            old = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
            new, added, removed = apply_edit(old, step.path, step, self.note)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(new, encoding="utf-8")
        except OSError as err:
            return f"• Edit failed: {step.path}: {err.strerror or err}"
        self.note = ""
        self.edited.add(step.path)
        self.uncommitted.add(step.path)
        return f"• Edited {step.path} (+{added} -{removed})"

    def commit(self, message: str) -> str:
        """Commit the files this agent edited (and only those) with ``message``."""
        if not self.git:
            return "• Skipped commit (not a git repository)"
        files = sorted(self.uncommitted)
        if not files:
            return "• Nothing to commit"
        try:
            git("add", "--", *files)
            # --no-verify: the worktree's hooks are the user's business, not the demo's.
            git("commit", "-q", "--no-verify", "-m", message, "--", *files)
            sha = git("rev-parse", "--short=7", "HEAD").strip()
        except subprocess.CalledProcessError as err:
            reason = (err.stderr or err.stdout or "").strip().splitlines()
            return f"• Commit failed: {reason[0] if reason else err.returncode}"
        except (OSError, subprocess.SubprocessError) as err:
            return f"• Commit failed: {err}"
        self.uncommitted.clear()
        self.commits += 1
        return f"• Committed {sha} {message}"

    def go_idle(self) -> None:
        """After a turn's last line: a blank line, then a fresh prompt or the next queued task."""
        self.mode = "idle"
        self.out("\n")
        if self.queue:
            task = self.queue.popleft()
            self.out(f"demo> {task}\n")
            self.submit(task, queued=True)
            return
        self.set_title("idle")
        self.out(f"demo> {self.line}")

    def dialog_lines(self) -> list[str]:
        """The permission dialog's box, with the marker on the highlighted option."""
        command = self.turn.steps[self.step].text
        options = [
            f"{'❯' if i == self.choice else ' '} {i + 1}. {o}" for i, o in enumerate(OPTIONS)
        ]
        hint = "Press 1-3 or ↑/↓ and Enter · Esc to cancel"
        return box(["Permission required", f"Allow demo to run `{command}`?", *options, hint])

    # ----- keys ---------------------------------------------------------------------------

    def handle(self, kind: str, text: str) -> None:
        """Act on one key event in the current mode."""
        if kind == "paste" and self.mode in ("idle", "working"):
            # A pasted message keeps its lines (shown on one line at the prompt); terminals
            # paste line ends as carriage returns.
            text = text.replace("\r\n", "\n").replace("\r", "\n")
            self.line += text
            if self.mode == "idle":
                self.out(" ".join(text.splitlines()))
            return
        if kind == "paste":
            kind, text = "text", " ".join(text.splitlines())
        if self.mode == "idle":
            self.on_idle(kind, text)
        elif self.mode == "working":
            self.on_working(kind, text)
        elif self.mode == "dialog":
            self.on_dialog(kind, text)
        else:
            self.on_question(kind, text)

    def on_idle(self, kind: str, text: str) -> None:
        """Line editing at the ``demo>`` prompt."""
        if kind == "text":
            self.line += text
            self.out(text)
        elif kind == "backspace" and self.line:
            self.redraw_input("demo> ", self.line, self.line[:-1])
            self.line = self.line[:-1]
        elif kind == "ctrl_c":
            self.redraw_input("demo> ", self.line, "")
            self.line = ""
        elif kind == "ctrl_d" and not self.line:
            self.out("\n")
            self.leave("prompt_input_exit")
        elif kind == "enter" and self.line.strip() and self.lose_enter > 0:
            self.lose_enter -= 1  # lost: the text stays at the prompt
        elif kind == "enter":
            task, self.line = self.line, ""
            self.out("\n")
            if task.strip():
                self.submit(task)
            else:
                self.out("demo> ")

    def on_working(self, kind: str, text: str) -> None:
        """Typing while working is not echoed; Enter queues it, Esc or Ctrl-C interrupts."""
        if kind == "text":
            self.line += text
        elif kind == "backspace":
            self.line = self.line[:-1]
        elif kind == "enter" and self.line.strip():
            self.record("queued", self.line)
            self.queue.append(self.line)
            self.say(f"↳ queued: {self.line}")
            self.line = ""
        elif kind in ("esc", "ctrl_c"):
            self.mode, self.tool = "idle", {}  # no hook: Claude sends none on an interrupt
            self.say("⎋ Interrupted.")
            # Like real agents, an interrupt hands queued messages back for editing.
            self.line = " ".join([*self.queue, self.line]).strip()
            self.queue.clear()
            self.go_idle()

    def on_dialog(self, kind: str, text: str) -> None:
        """Arrows move the marker, Enter or a digit picks, Esc or Ctrl-C dismisses."""
        if kind in ("up", "down"):
            self.choice = (self.choice + (1 if kind == "down" else -1)) % len(OPTIONS)
            self.draw_block(self.dialog_lines())
        elif kind == "enter":
            self.pick(self.choice)
        elif kind == "text":
            at = next((i for i, ch in enumerate(text) if ch in "123"), -1)
            if at >= 0:
                self.pick(int(text[at]) - 1)
                if text[at + 1 :]:
                    self.handle("text", text[at + 1 :])
        elif kind in ("esc", "ctrl_c"):
            self.erase_block()
            self.tool = {}  # no hook: Claude sends none when a dialog is dismissed
            self.say("⎋ Dialog dismissed.")
            self.go_idle()

    def pick(self, choice: int) -> None:
        """Answer the permission dialog with option ``choice`` (0-based)."""
        command = self.turn.steps[self.step].text
        self.erase_block()
        if choice < 2:  # "don't ask again" is not remembered: the demo keeps asking
            self.say(f"✓ Allowed: {command}")
            self.next_step()
        else:
            self.say(f"✗ Denied: {command}")
            # A refusal ends the turn, and (like Claude's) sends no hook at all, not even Stop.
            self.step, self.tool, self.denied = len(self.turn.steps) - 1, {}, True
            self.next_step()

    def on_question(self, kind: str, text: str) -> None:
        """Line editing at ``answer>``; Enter answers, Esc or Ctrl-C skips."""
        if kind == "text":
            self.answer += text
            self.out(text)
        elif kind == "backspace" and self.answer:
            self.redraw_input("answer> ", self.answer, self.answer[:-1])
            self.answer = self.answer[:-1]
        elif (kind == "enter" and self.answer.strip()) or kind in ("esc", "ctrl_c"):
            self.erase_block(below=self.rows("answer> " + self.answer) - 1)
            question = self.turn.steps[self.step].text
            if kind == "enter":
                self.say(f"• Asked: {question}")
                self.say(f"↳ answer: {self.answer}")
                self.note = self.answer
                self.close_tool(self.answer, answers={question: self.answer})
            else:
                self.tool = {}  # no hook: Claude sends none when a question is dismissed
                self.say("⎋ Question skipped.")
            self.next_step()

    def on_eof(self) -> None:
        """Input ended (a pipe): finish the work, then leave as if the user typed /exit."""
        if self.mode == "idle":
            self.out("\n")
            self.leave("prompt_input_exit")
        if self.mode == "dialog":
            self.on_dialog("esc", "")
        elif self.mode == "question":
            self.on_question("esc", "")

    # ----- main loop ----------------------------------------------------------------------

    def run(self) -> None:
        """Warm up, then serve keys and steps until the user leaves (raises `SystemExit`)."""
        self.set_title("starting")
        model = f" · model {self.model}" if self.model else ""
        self.out(f"Quarterdeck demo agent · {self.name}{model} · seed {self.seed} · warming up…\n")
        # Keys typed meanwhile wait in the terminal's buffer (echo is already off).
        time.sleep(random.Random(self.seed).uniform(0.3, 1.2) / self.speed)
        if self.resumed:
            count = len(self.earlier)
            self.out(
                f"Resumed conversation {self.hooks.session}: {count} earlier "
                f"task{'' if count == 1 else 's'}.\n"
            )
        self.remember("")  # the conversation exists from its start
        self.out("Ready. Type a task and press Enter (/exit to quit).\n")
        self.set_title("idle")
        self.out("demo> ")
        self.ready = True
        source = "resume" if self.resumed else "startup"
        self.hooks.emit("SessionStart", source=source, model=self.model or "demo")
        # A terminal that hangs up reads as end of input; only --ignore-sighup lives on then.
        outlive = self.outlive_terminal and os.isatty(self.keys.fd)
        tick = 1 / FRAMES_PER_SECOND
        while True:
            now = time.monotonic()
            timeout = tick - now % tick
            if self.mode == "working":
                timeout = min(timeout, self.deadline - now, FLOOD_TICK if self.flood else tick)
            for kind, text in self.keys.read(timeout):
                self.handle(kind, text)
            if self.keys.eof and not outlive:
                self.on_eof()
            if self.mode == "working":
                if time.monotonic() >= self.deadline:
                    self.finish_step()
                else:
                    if self.flood:
                        self.flood_out()
                    self.draw_spinner()


def _raw_mode(fd: int) -> list[Any] | None:
    """Turn off echo, line buffering and signal keys on a terminal; the old settings."""
    if not os.isatty(fd):
        return None
    saved = termios.tcgetattr(fd)
    mode = termios.tcgetattr(fd)
    mode[0] &= ~(termios.IXON | termios.ICRNL)
    mode[3] &= ~(termios.ECHO | termios.ICANON | termios.ISIG | termios.IEXTEN)
    mode[6][termios.VMIN], mode[6][termios.VTIME] = 1, 0
    termios.tcsetattr(fd, termios.TCSANOW, mode)
    return saved


Handler = Callable[[int, FrameType | None], None]


def _exit_with(agent: Agent, status: int) -> Handler:
    """A signal handler that makes the agent leave with ``status`` (SessionEnd ``other``)."""

    def handler(signum: int, frame: FrameType | None) -> None:
        agent.end_reason = "other"
        raise SystemExit(status)

    return handler


def _ignore(signum: int, frame: FrameType | None) -> None:
    """A handler that does nothing.

    Not ``SIG_IGN``: an ignored signal stays ignored across exec, so the hooks would inherit
    it, while a handler is reset to the default in them (as with Node's ``process.on``).
    """


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the agent until it exits.

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit status (0 after ``/exit``; 1 for a crasher's crash).
    """
    parser = argparse.ArgumentParser(prog="python -m app.demo.agent", description=__doc__)
    parser.add_argument("--seed", type=int, default=0, help="seed for every choice (0)")
    parser.add_argument("--speed", type=float, default=1.0, help="time multiplier (1.0)")
    parser.add_argument("--behaviour", choices=BEHAVIOURS, default="mixed")
    parser.add_argument("--name", default="", help="name shown in the banner")
    parser.add_argument("--model", default="", help="model shown in the banner")
    parser.add_argument(
        "--checklist",
        default=DEFAULT_CHECKLIST,
        metavar="PATH",
        help=f"the checklist a checklist agent ticks off ({DEFAULT_CHECKLIST})",
    )
    parser.add_argument(
        "--settings", type=Path, metavar="PATH", help="Claude Code settings JSON: its hooks run"
    )
    parser.add_argument(
        "--transcript",
        type=Path,
        metavar="FILE",
        help="append every line taken (submitted or queued) to FILE as JSON lines",
    )
    parser.add_argument(
        "--resume",
        metavar="SESSION",
        help="go on with an earlier conversation of this worktree (its session id)",
    )
    misbehave = parser.add_argument_group("misbehaviour (for tests)")
    misbehave.add_argument(
        "--flood", action="store_true", help="print thousands of log lines a second while working"
    )
    misbehave.add_argument(
        "--hang-after",
        type=int,
        metavar="N",
        help="after N steps, freeze: no output, no keys; only signals act",
    )
    misbehave.add_argument(
        "--die-at-once", action="store_true", help="print one error line and exit 1 at start"
    )
    misbehave.add_argument(
        "--ignore-sighup", action="store_true", help="ignore SIGHUP and outlive the terminal"
    )
    misbehave.add_argument("--ignore-sigterm", action="store_true", help="ignore SIGTERM")
    misbehave.add_argument(
        "--lose-enter",
        type=int,
        default=0,
        metavar="N",
        help="ignore the first N Enters pressed after text at the prompt (the text stays)",
    )
    args = parser.parse_args(argv)
    if args.speed <= 0:
        parser.error("--speed must be positive")
    if args.hang_after is not None and args.hang_after < 0:
        parser.error("--hang-after must not be negative")
    if args.die_at_once:
        os.write(sys.stdout.fileno(), f"{FATAL_START}\n".encode())
        return 1
    try:
        hooks = load_hooks(args.settings) if args.settings else {}
    except ValueError as err:
        parser.error(str(err))
    env = os.environ
    name = (
        args.name or env.get("QUARTERDECK_AGENT_NAME") or env.get("QUARTERDECK_AGENT_ID") or "demo"
    )
    earlier = earlier_tasks(args.resume) if args.resume else None
    if args.resume and earlier is None:
        parser.error(f"no conversation {args.resume!r} in this worktree")
    session = args.resume or session_id(args.seed, os.getpid())
    runner = HookRunner(hooks, os.getcwd(), session)
    agent = Agent(
        args.seed,
        args.speed,
        args.behaviour,
        name,
        hooks=runner,
        flood=args.flood,
        hang_after=args.hang_after,
        outlive_terminal=args.ignore_sighup,
        transcript=args.transcript,
        lose_enter=args.lose_enter,
        model=args.model,
        checklist=args.checklist,
        earlier=earlier,
    )
    fd = sys.stdin.fileno()
    saved = _raw_mode(fd)
    signal.signal(signal.SIGTERM, _ignore if args.ignore_sigterm else _exit_with(agent, 0))
    signal.signal(signal.SIGHUP, _ignore if args.ignore_sighup else _exit_with(agent, 129))
    try:
        if saved is not None:
            agent.out("\x1b[?2004h")  # bracketed paste, so pasted newlines do not submit
        agent.run()
        return 0
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else 0
    except KeyboardInterrupt:  # only reachable when stdin is not a terminal
        return 130
    finally:
        try:
            if saved is not None:
                agent.out("\x1b[?2004l")
                termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        except (OSError, termios.error):
            pass  # the terminal is already gone (SIGHUP)
        agent.end_session()


if __name__ == "__main__":
    sys.exit(main())
