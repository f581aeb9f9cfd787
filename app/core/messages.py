"""Messages the human sends to agents: what was asked, how, and where it is on its way."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class MessageMode(StrEnum):
    """How a message reaches an agent that is busy.

    ``queue``: typed for the agent to take after its current step (CLIs that queue typed input
    get it at once; the others get it when they are back at their prompt). ``interrupt``: the
    agent's own interrupt key first, then the message once it is back at its prompt.
    """

    QUEUE = "queue"
    INTERRUPT = "interrupt"


class MessageState(StrEnum):
    """Where a message is: waiting its turn, being typed, taken by the agent, or not."""

    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    FAILED = "failed"


#: States a message does not leave.
FINAL_STATES = frozenset({MessageState.DELIVERED, MessageState.FAILED})


@dataclass(frozen=True)
class Message:
    """One message to one agent. A message to several agents is one message each."""

    id: int
    agent_id: str
    agent_name: str
    text: str
    mode: MessageMode
    state: MessageState
    created_at: float
    updated_at: float
    error: str = ""
    origin: str = "human"

    @property
    def final(self) -> bool:
        """True once delivered or failed."""
        return self.state in FINAL_STATES

    @property
    def not_taken(self) -> bool:
        """True for a message typed into its agent that the agent did not take: it stays
        queued (``error`` says what was seen) and is tried again once the agent moves."""
        return self.state is MessageState.PENDING and bool(self.error)

    def describe(self) -> str:
        """One line for the agent's row: ``✉ queued``, ``✉ delivered``, ``✗ message failed: …``."""
        if self.state is MessageState.FAILED:
            return f"✗ message not delivered: {self.error or 'unknown error'}"
        if self.state is MessageState.DELIVERED:
            return "✉ message delivered"
        if self.state is MessageState.SENDING:
            return "✉ sending message…"
        if self.not_taken:
            return f"✉ message not taken yet, still queued: {self.error}"
        if self.mode is MessageMode.INTERRUPT:
            return "✉ message waits: interrupting first"
        return "✉ message queued"
