"""The rules of delivery, as tables: when an agent can take a message, when text typed into it
counts as taken, and when its first prompt is due."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.core.agent import Agent, PromptState, StatusShown
from app.core.delivery import (
    QUEUED_TAIL,
    RESEND_GAP,
    STARTUP_GRACE,
    can_take,
    can_type,
    input_holds,
    input_pending,
    message_taken,
    prompt_due,
    prompt_holds,
    shown_above_box,
    startup_over,
    typed_tail,
)
from app.core.messages import Message, MessageMode, MessageState
from app.core.profiles import AgentProfile
from app.core.status import Status
from app.infra.settings import builtin_profiles
from tests.helpers import make_agent
from tests.unit.test_real_screens import load_pane

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
        # Ready: the agent left its prompt (the text is above its spinner)...
        (f"{PROMPT}fix it\n⠋ working", Status.WORKING, "fix it", True, 0, True),
        # ... (a screen that still shows the text in its input line has not: working or not)
        (f"{PROMPT}fix it", Status.WORKING, "fix it", True, 0, False),
        # ... or its input line emptied and the text shows above it (a quick turn)...
        (f"{PROMPT}fix it\nok\n{PROMPT}", Status.IDLE, "fix it", True, 0, True),
        # ... or its turn opened a dialog at once (which hides the input line).
        ("Run it?\n❯ 1. Yes\n  2. No", Status.NEEDS_INPUT, "fix it", True, 0, True),
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
    got = message_taken(screen, status, text, QUEUEING, was_ready=was_ready, seen=seen)
    assert got is taken


def test_the_queued_tail_is_the_end_of_the_last_line() -> None:
    assert typed_tail("first\nsecond line  \n\n", QUEUED_TAIL) == "second line"
    assert typed_tail(LONG, QUEUED_TAIL) == LONG[-QUEUED_TAIL:]
    assert typed_tail(" \n ") == ""
    assert not input_pending(PROMPT, " \n ")


@pytest.mark.parametrize(
    ("prompt", "text", "holds"),
    [
        ("fix the parser", "fix the parser", True),
        ("fix the\nparser  ", "fix the parser", True),  # whitespace aside
        ("msg 3 for a", "msg 4 for a", False),  # a queued earlier message starting
        ("msg 3 for a msg 4 for a", "msg 4 for a", True),  # taken together with another
        ("anything", "  \n ", False),
    ],
)
def test_a_prompt_submitted_hook_proves_only_its_own_text(
    prompt: str, text: str, holds: bool
) -> None:
    assert prompt_holds(prompt, text) is holds


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
    # Ready is what the CLI reads: the status shown stays starting until the prompt is taken.
    ready = profile is not None and status is profile.ready_status
    for shown in (status, Status.STARTING):
        got = prompt_due(replace(agent(shown), prompt_state=prompt), profile, ready=ready)
        assert got is due


PROFILES = builtin_profiles()
SEA = "slow: tell me about the sea"


@pytest.mark.parametrize(
    ("cli", "stem", "holds"),
    [
        # The typed text stands in the input box: under the rule (Claude), in the composer
        # (Codex), in the box above the footer while it works (Gemini).
        ("claude", "18-text-in-input-not-sent", True),
        ("codex", "18-text-in-composer-not-sent", True),
        ("gemini", "18-text-in-input-while-working", True),
        # After Enter it left the box: above it, or in Gemini's "Queued" list.
        ("claude", "19-working-after-enter", False),
        ("codex", "19-working-after-enter", False),
        ("gemini", "19-queued-after-enter-while-working", False),
    ],
)
def test_the_input_box_of_each_cli_holds_typed_text_until_enter_is_taken(
    cli: str, stem: str, holds: bool
) -> None:
    screen = load_pane(cli, stem).text
    assert input_holds(screen, SEA, PROFILES[cli]) is holds


@pytest.mark.parametrize(
    ("cli", "before", "after", "was_ready", "status"),
    [
        ("claude", "18-text-in-input-not-sent", "19-working-after-enter", True, Status.WORKING),
        ("codex", "18-text-in-composer-not-sent", "19-working-after-enter", True, Status.WORKING),
        (
            "gemini",
            "18-text-in-input-while-working",
            "19-queued-after-enter-while-working",
            False,
            Status.WORKING,
        ),
    ],
)
def test_real_screens_tell_a_lost_enter_from_a_taken_message(
    cli: str, before: str, after: str, was_ready: bool, status: Status
) -> None:
    """The text standing in the box is never taken, though the bottom line is a footer (a
    screen Gemini showed while Quarterdeck reported the message delivered); the text gone from
    the box and shown above it (the transcript, "Queued") is."""
    profile = PROFILES[cli]
    typed, entered = load_pane(cli, before).text, load_pane(cli, after).text
    assert not message_taken(typed, status, SEA, profile, was_ready=was_ready, seen=0)
    assert message_taken(entered, status, SEA, profile, was_ready=was_ready, seen=0)
    # Its prompt-submitted hook is proof on its own.
    hooked = message_taken(typed, status, SEA, profile, was_ready=was_ready, seen=0, submitted=True)
    assert hooked


def test_a_prompt_standing_in_the_input_box_was_not_taken() -> None:
    """opencode shows its --prompt in the input box before it takes it; once taken it shows
    above the box."""
    profile = PROFILES["opencode"]
    waiting = load_pane("opencode", "05-prompt-in-input-before-taken").text
    taken = load_pane("opencode", "17-error-final").text
    assert input_holds(waiting, "error: please fail", profile)
    assert shown_above_box(waiting, "error: please fail", profile) == 0
    assert shown_above_box(taken, "error: please fail", profile) == 1


def _started(prompt: str, state: PromptState = PromptState.NONE) -> Agent:
    return replace(agent(Status.STARTING), prompt=prompt, prompt_state=state)


@pytest.mark.parametrize(
    ("prompt", "state", "reading", "seen", "over"),
    [
        # A first prompt on the command line: a ready screen is not the end of start-up...
        ("fix it", PromptState.NONE, Status.IDLE, False, False),
        ("fix it", PromptState.NONE, Status.UNKNOWN, False, False),
        ("fix it", PromptState.NONE, Status.STARTING, False, False),
        # ... nor a start-up dialog (it shows as what it is meanwhile)...
        ("fix it", PromptState.NONE, Status.NEEDS_INPUT, False, False),
        # ... its turn is: it works, ends in an error, or the prompt shows above the box.
        ("fix it", PromptState.NONE, Status.WORKING, False, True),
        ("fix it", PromptState.NONE, Status.ERROR, False, True),
        ("fix it", PromptState.NONE, Status.IDLE, True, True),
        # A typed prompt: once it was delivered (or failed, then the agent is what it reads).
        ("fix it", PromptState.PENDING, Status.IDLE, False, False),
        ("fix it", PromptState.SENDING, Status.IDLE, False, False),
        # ... not when its CLI works before it was typed (Aider's screen while it loads).
        ("fix it", PromptState.PENDING, Status.WORKING, False, False),
        ("fix it", PromptState.SENDING, Status.WORKING, False, False),
        ("fix it", PromptState.DELIVERED, Status.IDLE, False, True),
        ("fix it", PromptState.FAILED, Status.IDLE, False, True),
        # No prompt: once the CLI is ready.
        ("", PromptState.NONE, Status.UNKNOWN, False, False),
        ("", PromptState.NONE, Status.NEEDS_INPUT, False, False),
        ("", PromptState.NONE, Status.IDLE, False, True),
        # An agent that ended is not starting.
        ("fix it", PromptState.NONE, Status.EXITED, False, True),
        ("fix it", PromptState.NONE, Status.FAILED, False, True),
    ],
)
def test_when_start_up_is_over(
    prompt: str, state: PromptState, reading: Status, seen: bool, over: bool
) -> None:
    assert startup_over(_started(prompt, state), reading, WAITING, prompt_seen=seen) is over


@pytest.mark.parametrize(
    ("reading", "waiting", "age", "over"),
    [
        # Ready long after its start with its prompt shown nowhere: it took it unseen.
        (Status.IDLE, False, STARTUP_GRACE + 1, True),
        (Status.IDLE, False, STARTUP_GRACE - 1, False),
        # Its prompt still stands in its input box: however long, not taken.
        (Status.IDLE, True, STARTUP_GRACE * 10, False),
        # Still loading: not ready.
        (Status.UNKNOWN, False, STARTUP_GRACE * 10, False),
    ],
)
def test_start_up_ends_after_a_grace_for_a_prompt_taken_unseen(
    reading: Status, waiting: bool, age: float, over: bool
) -> None:
    agent = _started("fix it")
    got = startup_over(agent, reading, WAITING, prompt_seen=False, prompt_waiting=waiting, age=age)
    assert got is over


def test_gemini_takes_a_message_while_it_works_into_its_queue() -> None:
    """Typed while it works, Gemini CLI keeps a message in its "Queued" list and runs it after
    the turn (recorded: 19-queued-after-enter-while-working): it is typed to at once."""
    gemini = PROFILES["gemini"]
    assert can_type(Status.WORKING, gemini)
    queued = load_pane("gemini", "19-queued-after-enter-while-working").text
    assert message_taken(queued, Status.WORKING, SEA, gemini, was_ready=False, seen=0)
