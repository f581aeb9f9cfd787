"""Review comments: a remark on a hunk or a line of an agent's diff, queued for the agent as a
steering message."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from app.core.diff import Comment
from app.core.messages import Message, MessageMode

#: Queues a message for agents (``send(names, text, mode)``).
Send = Callable[[Sequence[str], str, MessageMode], list[Message]]


class Comments:
    """Sends review remarks to agents."""

    def __init__(self, send: Send) -> None:
        """``send`` queues a message (the fleet's steering)."""
        self._send = send

    def comment(self, name: str, comment: Comment) -> Message:
        """Queue the review remark for the agent."""
        return self._send([name], comment.message(), MessageMode.QUEUE)[0]
