"""A stand-in for one moment of a real agent CLI, run in a real tmux pane: it draws what the
real CLI was recorded drawing (``tests/fixtures/screens``) and reacts to keys the way the real
CLI was seen to react. Every key it reads is appended to ``$STANDIN_KEYS`` (when set), so a
test can tell what reached it.

- ``double-esc [lose-first]``: opencode working; the first Esc only arms the interrupt ("esc
  again to interrupt", for 5 s), the second stops the turn (``lose-first``: the very first Esc
  is lost, as opencode sometimes loses one);
- ``restart-trust SECONDS``: Gemini's trust box; "1" restarts it for SECONDS (the box stays up,
  under the restart note), then its prompt;
- ``show STEM``: a recorded screen (``<agent>/<stem>``), left as it is whatever is pressed;
- ``then STEM NEXT``: a recorded screen, and on the first key another one (a dialog whose
  option answers at once);
- ``flicker STEM NEXT``: the same, with a blank screen for a moment in between (a redraw).
"""

from __future__ import annotations

import os
import select
import sys
import termios
import time
import tty
from pathlib import Path

SCREENS = Path(__file__).resolve().parents[1] / "fixtures" / "screens"


def draw(text: str) -> None:
    sys.stdout.write("\x1b[2J\x1b[H" + text.replace("\n", "\r\n"))
    sys.stdout.flush()


def key(timeout: float) -> str:
    """One key press (an escape sequence read whole), or '' when none came in time."""
    ready, _, _ = select.select([sys.stdin], [], [], timeout)
    if not ready:
        return ""
    data = os.read(sys.stdin.fileno(), 64).decode(errors="replace")
    log = os.environ.get("STANDIN_KEYS")
    if log:
        with open(log, "a", encoding="utf-8") as out:
            out.write(repr(data) + "\n")
    return data


def recorded(stem: str) -> str:
    return (SCREENS / f"{stem}.txt").read_text(encoding="utf-8")


def double_esc(lose_first: bool) -> None:
    working = "  ┃  slow: write a poem\n\n     lorem ipsum\n\n   ⬝⬝⬝⬝■■■■  esc interrupt"
    draw(working)
    armed_at = 0.0
    while True:
        pressed = key(0.1)
        now = time.monotonic()
        if pressed == "\x1b" and lose_first:
            lose_first = False
        elif pressed == "\x1b":
            if armed_at and now - armed_at < 5:
                break
            armed_at = now
            draw(working.replace("esc interrupt", "esc again to interrupt"))
        elif armed_at and now - armed_at >= 5:
            armed_at = 0.0
            draw(working)
    draw("     ▣  Build · Fake Model · interrupted\n\n   /repo   tab agents  ctrl+p commands")
    while True:
        key(1.0)


def restart_trust(seconds: float) -> None:
    box = recorded("gemini/01-trust-folder-prompt")
    draw(box)
    while key(1.0) != "1":
        pass
    draw("Gemini CLI is restarting to apply the trust changes...\n" + box)
    back = time.monotonic() + seconds
    while time.monotonic() < back:  # restarting: keys pressed meanwhile do nothing
        key(back - time.monotonic())
    draw(recorded("gemini/10-idle-at-prompt"))
    while True:
        key(1.0)


def show(stem: str) -> None:
    draw(recorded(stem))
    while True:
        key(1.0)


def then(stem: str, following: str) -> None:
    draw(recorded(stem))
    while not key(1.0):
        pass
    show(following)


def flicker(stem: str, following: str) -> None:
    draw(recorded(stem))
    while not key(1.0):
        pass
    draw("")
    time.sleep(0.3)
    show(following)


def main() -> None:
    mode, *args = sys.argv[1:]
    old = termios.tcgetattr(sys.stdin)
    tty.setcbreak(sys.stdin)
    try:
        if mode == "double-esc":
            double_esc(args[:1] == ["lose-first"])
        elif mode == "restart-trust":
            restart_trust(float(args[0]))
        elif mode == "show":
            show(args[0])
        elif mode == "then":
            then(args[0], args[1])
        elif mode == "flicker":
            flicker(args[0], args[1])
        else:
            raise SystemExit(f"unknown mode {mode!r}")
    finally:
        termios.tcsetattr(sys.stdin, termios.TCSADRAIN, old)


if __name__ == "__main__":
    main()
