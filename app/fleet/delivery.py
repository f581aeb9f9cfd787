"""Steering: messages to agents, typed the way each CLI takes them and verified, one at a time
per agent, in the order they were sent; and automatic answers by the repository's rules."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.core.agent import Agent
from app.core.answers import auto_approval, free_text_option, yes_option
from app.core.classify import PaneView, classify
from app.core.delivery import input_pending, typed_tail
from app.core.errors import QuarterdeckError, UsageError
from app.core.messages import Message, MessageMode, MessageState
from app.core.profiles import AgentProfile
from app.core.status import InputKind, Status, is_ended
from app.core.views import AgentRow

if TYPE_CHECKING:
    from app.fleet.fleet import Fleet

#: How long the agent has to show it took a message (after Enter) before Enter is pressed again.
VERIFY_SECONDS = 4.0
#: Pause between typing and Enter (some CLIs swallow an Enter that follows a paste at once).
ENTER_DELAY = 0.15
#: How long an interrupted agent has to come back to its prompt.
INTERRUPT_SECONDS = 10.0
#: Messages are typed into at most this many agents at once.
WORKERS = 8
#: How long Enter waits for a dialog that opened as the message was typed to be answered.
DIALOG_WAIT = 300.0
#: How much of a message's end must show on screen to say a busy agent queued it.
QUEUED_TAIL = 40
#: The longest message Quarterdeck types (a message is typed, not attached).
MAX_MESSAGE = 100_000

#: An agent that does not queue typed input is typed to again only after a look at it that
#: followed the last message, or after this long (its turn may have been too quick to see).
RESEND_GAP = 1.5


class _NotNow(Exception):
    """The agent cannot take the message after all (a closer look found it busy)."""


@dataclass(frozen=True)
class _Look:
    screen: str
    status: Status
    dead: bool
    question: str = ""


class Steering:
    """Delivers queued messages for the fleet's engine (the one process that tracks the fleet),
    and applies the repository's auto-approve rules."""

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet
        self._pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="qd-send")
        self._active: set[str] = set()
        self._lock = threading.Lock()
        #: When each agent was last typed to, so that an agent that does not queue typed input
        #: gets its next message only after a look that followed the last one.
        self._sent_at: dict[str, float] = {}
        self._auto_answered: set[tuple[str, float]] = set()
        self._closing = threading.Event()
        self.on_change: Callable[[], None] = lambda: None

    # ------------------------------------------------------------ sending (any process)

    def send(
        self, names: Sequence[str], text: str, mode: MessageMode, origin: str = "human"
    ) -> list[Message]:
        """Queue ``text`` for each named agent (stored before anything is typed). Refused as a
        whole, with nothing queued, when a name is unknown, an agent has ended, or the text is
        empty or too long."""
        if not text.strip():
            raise UsageError("the message is empty")
        if len(text) > MAX_MESSAGE:
            raise UsageError(f"the message is {len(text)} characters; at most {MAX_MESSAGE}")
        if not names:
            raise UsageError("no agent to send the message to")
        agents = []
        for name in dict.fromkeys(names):
            agent = self.fleet.get(name)
            if is_ended(agent.status, stopped=agent.stopped):
                raise UsageError(f"{name} has {agent.status.value}: a message cannot reach it")
            agents.append(agent)
        messages = self.fleet.store.add_messages([(a, text, mode, origin) for a in agents])
        self.on_change()
        self.fleet.spool.ring()  # the engine may run in another process
        return messages

    def wait(self, messages: Sequence[Message], timeout: float) -> list[Message]:
        """The messages once each is delivered or failed, or as they are at the deadline."""
        deadline = time.monotonic() + timeout
        while True:
            current = [self.fleet.store.message(m.id) or m for m in messages]
            if all(m.final for m in current) or time.monotonic() > deadline:
                return current
            time.sleep(0.05)

    # ------------------------------------------------------------ delivering (engine)

    def pump(self, agents: Sequence[Agent]) -> None:
        """Start delivering to every agent that has a message waiting and can take it now.
        Called by the engine after each sweep; returns at once."""
        if self._closing.is_set():
            return
        waiting = self.fleet.store.waiting_message_agents()
        if not waiting:
            return
        for agent in agents:
            if agent.id not in waiting:
                continue
            if is_ended(agent.status, stopped=agent.stopped):
                n = self.fleet.store.fail_messages(
                    MessageState.PENDING,
                    f"{agent.name} {agent.status.value} before it could take the message",
                    agent.id,
                )
                if n:
                    self.on_change()
                continue
            with self._lock:
                if agent.id in self._active or not self._can_take(agent):
                    continue
                self._active.add(agent.id)
            self._pool.submit(self._deliver_all, agent.id)

    def _can_take(self, agent: Agent) -> bool:
        """Whether the agent can take its next message now, as last seen by the engine."""
        message = self.fleet.store.next_message(agent.id)
        if message is None:
            return False
        if message.mode is MessageMode.INTERRUPT:
            return agent.status is not Status.STARTING
        profile = self.fleet.settings.profiles.get(agent.kind)
        if profile is None:
            return False
        sent_at = self._sent_at.get(agent.id, 0.0)
        seen_since_sent = agent.status_since > sent_at
        if agent.status is profile.ready_status:
            return (
                seen_since_sent
                or profile.busy_input == "queue"
                or self.fleet.clock() - sent_at > RESEND_GAP
            )
        # A dialog is never typed into (keys could answer it); a starting agent is not ready.
        return agent.status is Status.WORKING and profile.busy_input == "queue"

    def _deliver_all(self, agent_id: str) -> None:
        try:
            while True:
                agent = next((a for a in self.fleet.agents() if a.id == agent_id), None)
                if agent is None or not self._can_take(agent):
                    return
                message = self.fleet.store.next_message(agent_id)
                if message is None or not self.fleet.store.set_message_state(
                    message.id, MessageState.SENDING, expect=MessageState.PENDING
                ):
                    return
                self.on_change()
                try:
                    self._deliver(agent, message)
                    state, error = MessageState.DELIVERED, ""
                except _NotNow:
                    self.fleet.store.set_message_state(
                        message.id, MessageState.PENDING, expect=MessageState.SENDING
                    )
                    self.on_change()
                    return
                except QuarterdeckError as exc:
                    state, error = MessageState.FAILED, str(exc)
                except Exception as exc:  # a failure is shown on the message, never lost
                    state, error = MessageState.FAILED, f"{type(exc).__name__}: {exc}"
                self._sent_at[agent_id] = self.fleet.clock()
                self.fleet.store.set_message_state(message.id, state, error)
                what = "delivered" if state is MessageState.DELIVERED else f"failed: {error}"
                self.fleet.store.log(
                    agent_id, self.fleet.clock(), "-", f"user: message {message.id} {what}"
                )
                self.on_change()
        finally:
            with self._lock:
                self._active.discard(agent_id)

    def _look(self, agent: Agent, profile: AgentProfile) -> _Look:
        facts = self.fleet.pane_of(agent)
        if facts is None or facts.dead:
            return _Look("", Status.EXITED, True)
        screen = self.fleet.tmux.capture(facts.pane_id)
        reading = classify(profile, PaneView(screen, facts.title, facts.command))
        return _Look(screen, reading.status, False, reading.question)

    def _deliver(self, agent: Agent, message: Message) -> None:
        """Type one message into the agent and verify it took it (raises on failure)."""
        profile = self.fleet.profile(agent.kind)
        look = self._look(agent, profile)
        if look.dead:
            raise QuarterdeckError(f"{agent.name} exited before the message was typed")
        if message.mode is MessageMode.INTERRUPT and look.status is not profile.ready_status:
            look = self._interrupt(agent, profile)
        ready = look.status is profile.ready_status
        if not ready and (look.status is not Status.WORKING or profile.busy_input != "queue"):
            raise _NotNow  # a dialog (never typed into), starting, or busy and not queueing
        self.type_and_verify(agent, profile, message.text, ready=ready, before=look.screen)

    def type_and_verify(
        self, agent: Agent, profile: AgentProfile, text: str, *, ready: bool, before: str
    ) -> None:
        """Type ``text`` into the agent (one paste when it has several lines), pause, press
        Enter once no dialog would take it, and verify the agent took it; one more Enter if
        not, never the text again. ``ready``: the agent was at its prompt (``before`` is its
        screen then). Raises `QuarterdeckError` when the agent exited or showed no sign."""
        seen = before.count(typed_tail(text, QUEUED_TAIL))
        pane = self.fleet.pane_of(agent)
        if pane is None or pane.dead:
            raise QuarterdeckError(f"{agent.name} exited before the message was typed")
        if "\n" in text:
            self.fleet.tmux.paste(pane.pane_id, text)
        else:
            self.fleet.tmux.send_text(pane.pane_id, text)
        for _attempt in range(2):
            time.sleep(ENTER_DELAY)
            self._wait_out_dialog(agent, profile)
            self.fleet.tmux.send_keys(pane.pane_id, "Enter")
            deadline = time.monotonic() + VERIFY_SECONDS
            while time.monotonic() < deadline:
                now = self._look(agent, profile)
                if now.dead:
                    raise QuarterdeckError(f"{agent.name} exited while the message was being typed")
                if self._taken(now, text, ready, profile, seen):
                    return
                time.sleep(0.05)
        raise QuarterdeckError(
            f"typed into {agent.name}, but it showed no sign of taking the message: attach to check"
        )

    def _wait_out_dialog(self, agent: Agent, profile: AgentProfile) -> None:
        """A dialog that opened as the message was typed would take its Enter as an answer:
        the Enter waits until the human has answered it (the typed text stays in the input)."""
        deadline = time.monotonic() + DIALOG_WAIT
        while True:
            look = self._look(agent, profile)
            if look.dead:
                raise QuarterdeckError(f"{agent.name} exited while the message was being typed")
            if look.status is not Status.NEEDS_INPUT:
                return
            if time.monotonic() > deadline or self._closing.is_set():
                why = "Quarterdeck quit" if self._closing.is_set() else "it was not answered"
                raise QuarterdeckError(
                    f"{agent.name} opened a dialog as the message was typed and {why} before "
                    "Enter; the text is in its input line: attach to finish it"
                )
            self._closing.wait(0.1)

    @staticmethod
    def _taken(look: _Look, text: str, was_ready: bool, profile: AgentProfile, seen: int) -> bool:
        """Whether the screen shows the agent took the message: a ready agent left its prompt
        or its input line is empty again; a busy one shows the message queued (its end is on
        the screen once more than before it was typed). Keys that reach a CLI just as it opens
        a dialog go to the dialog: such a message never shows as queued, and fails."""
        if was_ready:
            return look.status is not profile.ready_status or not input_pending(look.screen, text)
        if input_pending(look.screen, text):
            return False
        tail = typed_tail(text, QUEUED_TAIL)
        return look.screen.count(tail) > seen

    def _interrupt(self, agent: Agent, profile: AgentProfile) -> _Look:
        """Press the kind's interrupt key until the agent is back at its prompt."""
        deadline = time.monotonic() + INTERRUPT_SECONDS
        pressed = 0.0
        while time.monotonic() < deadline:
            look = self._look(agent, profile)
            if look.dead:
                raise QuarterdeckError(f"{agent.name} exited when interrupted")
            if look.status is profile.ready_status:
                return look
            if time.monotonic() - pressed > 2.0:
                self.interrupt(agent)
                pressed = time.monotonic()
            time.sleep(0.05)
        raise QuarterdeckError(
            f"{agent.name} did not come back to its prompt within {INTERRUPT_SECONDS:.0f}s of "
            "being interrupted; the message was not typed"
        )

    def interrupt(self, agent: Agent) -> None:
        """Press the agent kind's interrupt key(s) once."""
        pane = self.fleet.pane_of(agent)
        if pane is None or pane.dead:
            raise QuarterdeckError(f"the pane of {agent.name!r} is gone")
        profile = self.fleet.profile(agent.kind)
        keys = self.fleet.adapter(agent.kind).interrupt_keys(profile)
        self.fleet.tmux.send_keys(pane.pane_id, *keys)
        self.fleet.store.log(
            agent.id, self.fleet.clock(), "-", f"user: interrupt ({' '.join(keys)})"
        )

    def reply(self, name: str, text: str) -> str:
        """Answer the agent's dialog in words: pick its "type my own answer" option if it has
        one, then type ``text`` and Enter; verified. Returns what was done."""
        agent = self.fleet.get(name)
        if agent.status is not Status.NEEDS_INPUT:
            raise UsageError(f"{name} is {agent.status.value}, not waiting on a dialog")
        if not text.strip():
            raise UsageError("the reply is empty")
        option = free_text_option(agent.options)
        if option is None and (agent.options or agent.input_kind is not InputKind.QUESTION):
            listed = "; ".join(f"{i}. {o}" for i, o in enumerate(agent.options, 1))
            raise UsageError(f"{name}'s dialog takes no typed answer; pick an option ({listed})")
        profile = self.fleet.profile(agent.kind)
        if option is not None:
            self.fleet.answer(name, option)
        pane = self.fleet.pane_of(agent)
        if pane is None or pane.dead:
            raise QuarterdeckError(f"the pane of {name!r} is gone")
        before = self._look(agent, profile)
        asking = before.status is Status.NEEDS_INPUT
        if "\n" in text:
            self.fleet.tmux.paste(pane.pane_id, text)
        else:
            self.fleet.tmux.send_text(pane.pane_id, text)
        time.sleep(ENTER_DELAY)
        self.fleet.tmux.send_keys(pane.pane_id, "Enter")
        self.fleet.store.log(agent.id, self.fleet.clock(), "-", "user: replied in words")
        deadline = time.monotonic() + VERIFY_SECONDS
        while time.monotonic() < deadline:
            now = self._look(agent, profile)
            moved_on = not asking or (now.status, now.question) != (before.status, before.question)
            if now.dead or (moved_on and not input_pending(now.screen, text)):
                return f"replied to {name}"
            time.sleep(0.05)
        raise QuarterdeckError(
            f"typed a reply into {name}, but it did not take it: attach to check"
        )

    def recover(self) -> None:
        """Messages left half-typed by a process that died are failed, visibly, never retyped."""
        self.fleet.store.fail_messages(
            MessageState.SENDING,
            "Quarterdeck stopped while typing it; not typed again: attach to check",
        )

    # ------------------------------------------------------------ automatic answers

    def auto_approve(self, rows: Sequence[AgentRow]) -> None:
        """Answer yes, on the repository's rules, to each permission request they cover, once
        per request; every automatic answer goes to the agent's trail."""
        rules = self.fleet.settings.auto_approve
        if not rules:
            return
        for row in rows:
            if row.status is not Status.NEEDS_INPUT or row.input_kind is not InputKind.PERMISSION:
                continue
            key = (row.name, row.since)
            if key in self._auto_answered:
                continue
            rule = auto_approval(rules, row)
            option = yes_option(row.options)
            if rule is None or option is None:
                continue
            self._auto_answered.add(key)
            if self._closing.is_set():
                return
            self._pool.submit(self._approve, row, option, rule.describe())

    def _approve(self, row: AgentRow, option: int, rule: str) -> None:
        try:
            # The answer goes to the agent's trail with the rule and the request.
            self.fleet.answer(row.name, option, origin=f"auto ({rule}; {row.detail})")
        except QuarterdeckError as exc:
            agent = self.fleet.store.get(row.name)
            if agent is not None:
                self.fleet.store.log(agent.id, self.fleet.clock(), "-", f"auto: failed: {exc}")
        self.on_change()

    def close(self) -> None:
        """Stop taking work; messages being typed finish (a wait for a dialog ends at once)."""
        self._closing.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
