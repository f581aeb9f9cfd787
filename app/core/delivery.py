"""Verifying that text typed into an agent was taken, from what its screen shows."""

from __future__ import annotations

from app.core.classify import screen_lines


def typed_tail(text: str, width: int = 16) -> str:
    """The end of the text's last non-blank line: what stays visible on an input line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][-width:] if lines else ""


def input_pending(screen: str, text: str) -> bool:
    """True while the typed text still stands on the input line (Enter not yet taken).

    After the agent takes the input, its input line is empty again (or the agent has moved on to
    other output), so the tail of the text is no longer on the bottom lines of the screen.
    """
    tail = typed_tail(text)
    if not tail:
        return False
    bottom = screen_lines(screen)[-2:]
    return bool(bottom) and bottom[-1].rstrip().endswith(tail)
