"""A fake of the steering port: answers, messages, interrupts and replies recorded."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from app.core.messages import Message, MessageMode, MessageState
from tests.ui.fakes.rows import NOW
from tests.ui.fakes.views import FakeViews


@dataclass
class FakeSteering(FakeViews):
    """A SteeringPort in memory; `steer_error` makes the next call fail."""

    answered: list[tuple[str, int]] = field(default_factory=list)
    sent: list[tuple[tuple[str, ...], str, MessageMode]] = field(default_factory=list)
    interrupted: list[str] = field(default_factory=list)
    replied: list[tuple[str, str]] = field(default_factory=list)

    def answer(self, name: str, number: int) -> str:
        self._steer_error()
        self.answered.append((name, number))
        return f"answered {name}: {number}"

    def send(self, names: Sequence[str], text: str, mode: MessageMode) -> list[Message]:
        self._steer_error()
        self.sent.append((tuple(names), text, mode))
        return [
            Message(i, f"id-{n}", n, text, mode, MessageState.PENDING, NOW, NOW)
            for i, n in enumerate(names, 1)
        ]

    def interrupt(self, name: str) -> str:
        self._steer_error()
        self.interrupted.append(name)
        return f"interrupted {name}"

    def reply(self, name: str, text: str) -> str:
        self._steer_error()
        self.replied.append((name, text))
        return f"replied to {name}"
