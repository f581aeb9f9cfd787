"""The rules of delivery, as tables: when an agent can take a message, when text typed into it
counts as taken, and when its first prompt is due."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.core.agent import Agent, PromptState, StatusShown
from app.core.delivery import (
    QUEUED_TAIL,
    RESEND_GAP,
    can_take,
    can_type,
    input_pending,
    message_taken,
    prompt_due,
    typed_tail,
)
from app.core.messages import Message, MessageMode, MessageState
from app.core.profiles import AgentProfile
from app.core.status import Status
from tests.helpers import make_agent

QUEUEING = AgentProfile("demo", "", ("demo",), "demo", busy_input="queue")
WAITING = AgentProfile("aider", "", ("aider",), "aider", busy_input="wait")
#: A CLI whose prompt shows as "working" (a shell reads its input as a running command).
READY_WORKING = AgentProfile("sh", "", ("sh",), "sh", ready_status=Status.WORKING)


def agent(status: Status, since: float = 10.0, prompt: PromptState = PromptState.NONE) -> Agent:
    return make_agent("a", StatusShown(status, since=since), prompt_state=prompt)


def message(mode: MessageMode = MessageMode.QUEUE) -> Message:
    return Message(1, "a1", "a", "fix it", mode, MessageState.PENDING, 0.0, 0.0)


@pytest.mark.parametrize(
    ("status", "profile", "typeable"),
    [
        (Status.IDLE, QUEUEING, True),
        (Status.IDLE, WAITING, True),
        (Status.WORKING, QUEUEING, True),
        (Status.WORKING, WAITING, False),
        (Status.NEEDS_INPUT, QUEUEING, False),
        (Status.NEEDS_INPUT, WAITING, False),
        (Status.STARTING, QUEUEING, False),
        (Status.UNKNOWN, QUEUEING, False),
        (Status.EXITED, QUEUEING, False),
        (Status.WORKING, READY_WORKING, True),
        (Status.IDLE, READY_WORKING, False),
    ],
)
def test_what_can_be_typed_into(status: Status, profile: AgentProfile, typeable: bool) -> None:
    assert can_type(status, profile) is typeable


NOW = 100.0


@pytest.mark.parametrize(
    ("status", "since", "mode", "profile", "sent_at", "takes"),
    [
        # At the prompt, nothing sent yet.
        (Status.IDLE, 10.0, MessageMode.QUEUE, WAITING, 0.0, True),
        (Status.IDLE, 10.0, MessageMode.QUEUE, QUEUEING, 0.0, True),
        # At the prompt right after a message: a CLI that does not queue waits for a look that
        # followed it, or for the resend gap...
        (Status.IDLE, 10.0, MessageMode.QUEUE, WAITING, NOW - 0.5, False),
        (Status.IDLE, NOW - 0.2, MessageMode.QUEUE, WAITING, NOW - 0.5, True),
        (Status.IDLE, 10.0, MessageMode.QUEUE, WAITING, NOW - RESEND_GAP - 0.1, True),
        # ... one that queues takes it at once.
        (Status.IDLE, 10.0, MessageMode.QUEUE, QUEUEING, NOW - 0.5, True),
        # Working: only a CLI that queues typed input.
        (Status.WORKING, 10.0, MessageMode.QUEUE, QUEUEING, 0.0, True),
        (Status.WORKING, 10.0, MessageMode.QUEUE, WAITING, 0.0, False),
        # Never into a dialog, never while starting.
        (Status.NEEDS_INPUT, 10.0, MessageMode.QUEUE, QUEUEING, 0.0, False),
        (Status.STARTING, 10.0, MessageMode.QUEUE, QUEUEING, 0.0, False),
        (Status.UNKNOWN, 10.0, MessageMode.QUEUE, QUEUEING, 0.0, False),
        # An interrupt only waits for the agent to have started: its key brings it back.
        (Status.WORKING, 10.0, MessageMode.INTERRUPT, WAITING, 0.0, True),
        (Status.NEEDS_INPUT, 10.0, MessageMode.INTERRUPT, WAITING, 0.0, True),
        (Status.STARTING, 10.0, MessageMode.INTERRUPT, WAITING, 0.0, False),
        # An unknown kind takes nothing, but an interrupt.
        (Status.IDLE, 10.0, MessageMode.QUEUE, None, 0.0, False),
        (Status.IDLE, 10.0, MessageMode.INTERRUPT, None, 0.0, True),
    ],
)
def test_when_an_agent_can_take_a_message(
    status: Status,
    since: float,
    mode: MessageMode,
    profile: AgentProfile | None,
    sent_at: float,
    takes: bool,
) -> None:
    assert can_take(agent(status, since), message(mode), profile, sent_at, NOW) is takes


PROMPT = "demo> "
LONG = "please also add tests for the payment module and run them all"


@pytest.mark.parametrize(
    ("screen", "status", "text", "was_ready", "seen", "taken"),
    [
        # Ready: the agent left its prompt...
        (f"{PROMPT}fix it", Status.WORKING, "fix it", True, 0, True),
        # ... or its input line emptied...
        (f"{PROMPT}fix it\nok\n{PROMPT}", Status.IDLE, "fix it", True, 0, True),
        # ... but the text still standing at the prompt is not taken.
        (f"{PROMPT}fix it", Status.IDLE, "fix it", True, 0, False),
        # Busy: the text shows queued once more than before it was typed.
        (f"⠋ working\n  queued: {LONG}\n{PROMPT}", Status.WORKING, LONG, False, 0, True),
        (f"queued: {LONG}\n⠋ working\n{PROMPT}", Status.WORKING, LONG, False, 1, False),
        (
            f"queued: {LONG}\nqueued: {LONG}\n⠋ working\n{PROMPT}",
            Status.WORKING,
            LONG,
            False,
            1,
            True,
        ),
        # Busy, still on the input line: not yet.
        (f"⠋ working\n{PROMPT}{LONG}", Status.WORKING, LONG, False, 0, False),
        # Busy, keys that went to a dialog opening at that moment: never shows as queued.
        ("Run it?\n❯ 1. Yes\n  2. No", Status.NEEDS_INPUT, LONG, False, 0, False),
    ],
)
def test_when_typed_text_counts_as_taken(
    screen: str, status: Status, text: str, was_ready: bool, seen: int, taken: bool
) -> None:
    got = message_taken(
        screen, status, text, was_ready=was_ready, ready_status=Status.IDLE, seen=seen
    )
    assert got is taken


def test_the_queued_tail_is_the_end_of_the_last_line() -> None:
    assert typed_tail("first\nsecond line  \n\n", QUEUED_TAIL) == "second line"
    assert typed_tail(LONG, QUEUED_TAIL) == LONG[-QUEUED_TAIL:]
    assert typed_tail(" \n ") == ""
    assert not input_pending(PROMPT, " \n ")


@pytest.mark.parametrize(
    ("status", "prompt", "profile", "due"),
    [
        (Status.IDLE, PromptState.PENDING, WAITING, True),
        (Status.STARTING, PromptState.PENDING, WAITING, False),
        (Status.WORKING, PromptState.PENDING, WAITING, False),
        (Status.NEEDS_INPUT, PromptState.PENDING, WAITING, False),
        (Status.WORKING, PromptState.PENDING, READY_WORKING, True),
        (Status.IDLE, PromptState.SENDING, WAITING, False),
        (Status.IDLE, PromptState.DELIVERED, WAITING, False),
        (Status.IDLE, PromptState.FAILED, WAITING, False),
        (Status.IDLE, PromptState.NONE, WAITING, False),
        (Status.IDLE, PromptState.PENDING, None, False),
    ],
)
def test_when_the_first_prompt_is_due(
    status: Status, prompt: PromptState, profile: AgentProfile | None, due: bool
) -> None:
    assert prompt_due(replace(agent(status), prompt_state=prompt), profile) is due
