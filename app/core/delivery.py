"""When text may be typed into an agent, and whether the agent took it: the rules behind messages
and first prompts (`app/fleet/delivery.py` carries them out).

Typed text counts as taken only when the CLI shows it took it — never because it was typed. A
CLI's input box (its profile's ``input`` pattern) holds the text until Enter is taken; after
that the text has left the box and the CLI moved on: it works, or the text shows above the box
(the transcript, or a "Queued" list), or its prompt-submitted hook fired.
"""

from __future__ import annotations

import re

from app.core.agent import Agent, PromptState
from app.core.classify import screen_lines
from app.core.messages import Message, MessageMode
from app.core.profiles import AgentProfile
from app.core.status import Status

#: How much of a message's end is looked for above the input box (the transcript, a queue).
QUEUED_TAIL = 40
#: An agent that does not queue typed input is typed to again only after a look at it that
#: followed the last message, or after this long (its turn may have been too quick to see).
RESEND_GAP = 1.5

#: Box sides and blank edges of a row (as in `app.core.classify`).
_SIDES = re.compile(r"^[\s│┃║|]+|[\s│┃║|]+$")
#: Rules and box edges: the end of an input box.
_EDGE = re.compile(r"^[\s─━═╌╍┄┅┈┉╭╮╰╯┌┐└┘├┤┬┴┼╴╵╶╷╹╻▔▁▀▄\-_=]*$")


def typed_tail(text: str, width: int = 16) -> str:
    """The end of the text's last non-blank line: what stays visible in an input box."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][-width:] if lines else ""


def _squeeze(text: str) -> str:
    """``text`` without any whitespace: a wrap at the pane's edge cannot split a match."""
    return "".join(text.split())


def _rows(screen: str) -> list[str]:
    return [_SIDES.sub("", row.replace("\u00a0", " ")) for row in screen.splitlines()]


def input_pending(screen: str, text: str) -> bool:
    """True while the typed text still ends the bottom line of the screen (a dialog's reply
    line, where there is no input box of the CLI's own)."""
    tail = typed_tail(text)
    if not tail:
        return False
    bottom = screen_lines(screen)[-2:]
    return bool(bottom) and bottom[-1].rstrip().endswith(tail)


def input_box(screen: str, profile: AgentProfile) -> str | None:
    """What the CLI's input box holds as shown (rows joined by spaces), or None when no input
    box is on screen.

    The box is the last match of the profile's ``input`` pattern (a group named ``text`` is
    the box's text), else the rest of that row and the rows under it up to a blank row or a
    rule. A profile with no ``input`` pattern has its input on the bottom row.
    """
    rows = _rows(screen)
    if profile.input_line is None:
        filled = [row for row in rows if row.strip()]
        return filled[-1] if filled else None
    joined = "\n".join(rows)
    matches = list(profile.input_line.finditer(joined))
    if not matches:
        return None
    m = matches[-1]
    if m.groupdict().get("text") is not None:
        return " ".join(m.group("text").split())
    index = joined.count("\n", 0, m.end())
    line_end = joined.find("\n", m.end())
    parts = [joined[m.end() : line_end if line_end >= 0 else len(joined)]]
    for row in rows[index + 1 :]:
        if not row.strip() or _EDGE.match(row):
            break
        parts.append(row)
    return " ".join(" ".join(parts).split())


def input_holds(screen: str, text: str, profile: AgentProfile) -> bool:
    """True while the typed text stands in the CLI's input box (its Enter not taken)."""
    tail = _squeeze(typed_tail(text))
    box = input_box(screen, profile)
    return bool(tail) and box is not None and tail in _squeeze(box)


def shown_above_box(screen: str, text: str, profile: AgentProfile) -> int:
    """How often the end of the text shows on screen outside the input box: in the transcript,
    or in the CLI's list of queued messages."""
    tail = _squeeze(typed_tail(text, QUEUED_TAIL))
    if not tail:
        return 0
    everywhere = _squeeze("".join(_rows(screen))).count(tail)
    box = input_box(screen, profile)
    return everywhere - (_squeeze(box).count(tail) if box else 0)


def prompt_holds(prompt: str, text: str) -> bool:
    """Whether a prompt a CLI reported taking (its prompt-submitted hook's) is the typed
    ``text``: it holds the text's end, whitespace aside (a message queued with others may be
    taken together with them)."""
    tail = _squeeze(typed_tail(text, QUEUED_TAIL))
    return bool(tail) and tail in _squeeze(prompt)


def at_prompt(status: Status, profile: AgentProfile) -> bool:
    """Whether an agent showing ``status`` waits at its prompt for the next message: its ready
    status, or a turn that ended in an error (the CLI takes the next message)."""
    return status is profile.ready_status or status is Status.ERROR


def can_type(status: Status, profile: AgentProfile) -> bool:
    """Whether an agent showing ``status`` may be typed to: at its prompt, or working when its
    CLI queues typed input. Never into a dialog (its keys would answer it), never while it
    starts."""
    if at_prompt(status, profile):
        return True
    return status is Status.WORKING and profile.busy_input == "queue"


def can_take(
    agent: Agent, message: Message, profile: AgentProfile | None, sent_at: float, now: float
) -> bool:
    """Whether the agent, as last seen, can take ``message`` now.

    An interrupting message only waits for the agent to have started (its interrupt key brings
    it back to its prompt). Otherwise the agent must be typeable (`can_type`); at its prompt, an
    agent whose CLI does not queue typed input gets its next message only after a look that
    followed the last one (``sent_at``), or `RESEND_GAP` after it. A message the agent did not
    take before (its text may stand in the input box) is tried again only once the agent's
    status moved after that try.
    """
    if message.mode is MessageMode.INTERRUPT:
        return agent.shown.status is not Status.STARTING
    if profile is None:
        return False
    if message.error and agent.shown.since <= message.updated_at:
        return False
    if at_prompt(agent.shown.status, profile):
        return (
            agent.shown.since > sent_at
            or profile.busy_input == "queue"
            or now - sent_at > RESEND_GAP
        )
    return can_type(agent.shown.status, profile)


def message_taken(
    screen: str,
    status: Status,
    text: str,
    profile: AgentProfile,
    *,
    was_ready: bool,
    seen: int,
    submitted: bool = False,
) -> bool:
    """Whether the agent took the text typed into it (after its Enter).

    ``submitted``: the CLI's prompt-submitted hook fired since the Enter — proof. Otherwise the
    text must have left the input box, and the CLI moved on: an agent that was at its prompt
    now works (or asks something: its turn began), or the text's end shows above the box more
    often than the ``seen`` times it did before typing (the transcript, a "Queued" list). Keys
    that reach a CLI just as it opens a dialog go to the dialog: such a message never shows as
    taken, and is not delivered.
    """
    if submitted:
        return True
    if was_ready and status is Status.NEEDS_INPUT:
        return True  # its turn began and asks something (a dialog hides the input box)
    if input_holds(screen, text, profile):
        return False
    if was_ready and status is Status.WORKING:
        return True
    return shown_above_box(screen, text, profile) > seen


def prompt_due(agent: Agent, profile: AgentProfile | None, *, ready: bool) -> bool:
    """Whether the agent's first prompt should be typed now: it waits to be typed and the
    agent's CLI is ready for it (``ready``: its screen and hooks read its ready status — the
    status shown stays ``starting`` until the prompt is taken)."""
    return agent.prompt_state is PromptState.PENDING and profile is not None and ready


#: A typed first prompt still on its way: waiting to be typed, or being typed and verified.
TYPING = (PromptState.PENDING, PromptState.SENDING)

#: How long after its start an agent that reads ready, with its first prompt shown nowhere (not
#: above its input box, not in it), counts as started anyway: a CLI that took the prompt
#: without a sign the rules know must not stay "starting" for good.
STARTUP_GRACE = 30.0


def startup_over(
    agent: Agent,
    reading: Status,
    profile: AgentProfile,
    *,
    prompt_seen: bool,
    prompt_waiting: bool = False,
    age: float = 0.0,
) -> bool:
    """Whether the agent's start-up is over, given what its CLI reads now (``reading``, before
    start-up is taken into account).

    An agent started with a first prompt is starting until it took it: its CLI works or asks
    something (its turn began), its turn ended (in an error too), the prompt shows above its
    input box (``prompt_seen``: a turn too quick to see), or its typed prompt was delivered or
    failed — a typed prompt not delivered yet was not taken, whatever the CLI shows meanwhile
    (Aider's screen while it loads reads working). One started with no prompt is starting
    until its CLI is ready (or works). An agent that ended is no longer starting. After
    `STARTUP_GRACE` seconds (``age``) an agent that reads ready is started unless its prompt
    still stands in its input box (``prompt_waiting``).
    """
    if reading in (Status.EXITED, Status.FAILED, Status.DONE):
        return True
    if agent.prompt_state in (PromptState.DELIVERED, PromptState.FAILED):
        return True
    if agent.prompt_state in TYPING:
        return False
    if not agent.prompt.strip():
        return reading in (profile.ready_status, Status.WORKING, Status.ERROR)
    if reading in (Status.WORKING, Status.ERROR) or prompt_seen:
        return True
    ready = reading in (profile.ready_status, Status.IDLE)
    return ready and not prompt_waiting and age > STARTUP_GRACE
