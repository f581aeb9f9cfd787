"""Waiting in Pilot tests: for a condition, with a deadline, never a fixed sleep."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from textual.pilot import Pilot
from textual.screen import Screen

S = TypeVar("S", bound=Screen[Any])


async def wait_until(
    pilot: Pilot[None], condition: Callable[[], object], timeout: float = 5.0
) -> None:
    """Let the app run until ``condition()`` holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.01)


async def wait_for_screen(
    pilot: Pilot[None], kind: type[S], ready: Callable[[S], object] = lambda _screen: True
) -> S:
    """Let the app run until a ``kind`` screen is on top and ``ready``; return it."""
    app = pilot.app
    await wait_until(pilot, lambda: isinstance(app.screen, kind) and ready(app.screen))
    screen = app.screen
    assert isinstance(screen, kind)
    await pilot.pause()
    return screen
