"""When text may be typed into an agent, and whether its screen shows the agent took it: the
rules behind messages and first prompts (`app/fleet/delivery.py` carries them out)."""

from __future__ import annotations

from app.core.agent import Agent, PromptState
from app.core.classify import screen_lines
from app.core.messages import Message, MessageMode
from app.core.profiles import AgentProfile
from app.core.status import Status

#: How much of a message's end must show on screen to say a busy agent queued it.
QUEUED_TAIL = 40
#: An agent that does not queue typed input is typed to again only after a look at it that
#: followed the last message, or after this long (its turn may have been too quick to see).
RESEND_GAP = 1.5


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


def can_type(status: Status, profile: AgentProfile) -> bool:
    """Whether an agent showing ``status`` may be typed to: at its prompt, or working when its
    CLI queues typed input. Never into a dialog (its keys would answer it), never while it
    starts."""
    if status is profile.ready_status:
        return True
    return status is Status.WORKING and profile.busy_input == "queue"


def can_take(
    agent: Agent, message: Message, profile: AgentProfile | None, sent_at: float, now: float
) -> bool:
    """Whether the agent, as last seen, can take ``message`` now.

    An interrupting message only waits for the agent to have started (its interrupt key brings
    it back to its prompt). Otherwise the agent must be typeable (`can_type`); at its prompt, an
    agent whose CLI does not queue typed input gets its next message only after a look that
    followed the last one (``sent_at``), or `RESEND_GAP` after it.
    """
    if message.mode is MessageMode.INTERRUPT:
        return agent.shown.status is not Status.STARTING
    if profile is None:
        return False
    if agent.shown.status is profile.ready_status:
        return (
            agent.shown.since > sent_at
            or profile.busy_input == "queue"
            or now - sent_at > RESEND_GAP
        )
    return can_type(agent.shown.status, profile)


def message_taken(
    screen: str, status: Status, text: str, *, was_ready: bool, ready_status: Status, seen: int
) -> bool:
    """Whether the screen shows the agent took the text typed into it.

    A ready agent left its prompt or its input line is empty again; a busy one shows the text
    queued: its end (`QUEUED_TAIL`) is on the screen more often than the ``seen`` times it was
    before typing. Keys that reach a CLI just as it opens a dialog go to the dialog: such a
    message never shows as queued, and fails.
    """
    if was_ready:
        return status is not ready_status or not input_pending(screen, text)
    if input_pending(screen, text):
        return False
    return screen.count(typed_tail(text, QUEUED_TAIL)) > seen


def prompt_due(agent: Agent, profile: AgentProfile | None) -> bool:
    """Whether the agent's first prompt should be typed now: it waits to be typed and the agent
    reached its ready state."""
    return (
        agent.prompt_state is PromptState.PENDING
        and profile is not None
        and agent.shown.status is profile.ready_status
    )
