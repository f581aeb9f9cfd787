"""Delivery: text and keys that reach agents, typed the way each CLI takes them and verified —
queued messages (one at a time per agent, in the order sent), first prompts, answers to
dialogs (an option or words) and the interrupt key. The rules (when an agent can take text,
when it took it) are in `app.core.delivery` and `app.core.answers`.

Why one long module: every way text reaches an agent shares the `Keyboard`
(typing, looking, the wait for a dialog that would take the Enter) and its verification."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from app.core.agent import Agent, PromptState
from app.core.answers import (
    answer_taken,
    check_answer,
    check_on_screen,
    check_reply,
    reply_taken,
)
from app.core.classify import PaneView, classify
from app.core.delivery import (
    at_prompt,
    can_take,
    can_type,
    input_holds,
    message_taken,
    prompt_due,
    shown_above_box,
)
from app.core.errors import QuarterdeckError, UsageError
from app.core.messages import Message, MessageMode, MessageState
from app.core.profiles import AgentProfile
from app.core.status import Reading, Status, is_ended
from app.fleet.profiles import Profiles
from app.infra.store import Store
from app.infra.tmux import PaneFacts, TmuxServer

#: The agent's pane, found by the agent id tmux carries for it (None when it is gone).
PaneLookup = Callable[[Agent], PaneFacts | None]
#: The stored agent of a name (an `AgentNotFoundError` for a name not there).
AgentLookup = Callable[[str], Agent]

#: How long the agent has to show it took a message (after Enter) before Enter is pressed again.
VERIFY_SECONDS = 4.0
#: How long typed text may still stand in the input box after Enter before that Enter counts
#: as lost (and is pressed again).
LOST_ENTER_SECONDS = 1.5
#: How many times Enter is pressed for one message before it is reported not taken.
ENTER_ATTEMPTS = 3
#: How long typed text has to show in the input box before Enter is pressed anyway.
TYPED_SECONDS = 1.0
#: Pause between the text showing in the input box and Enter, longer on each new try (Codex
#: swallows an Enter that follows pasted text within ~120 ms).
ENTER_DELAY = 0.25
#: How long a changed screen must hold before it counts (a redraw in progress is not a change).
SETTLE_SECONDS = 0.3
#: How long a picked "type my own answer" option must keep its question open to count as
#: having opened a field (rather than answering at once).
FIELD_SETTLE = 0.6
#: How long an interrupted agent has to come back to its prompt.
INTERRUPT_SECONDS = 10.0
#: How long an interrupted agent that was working has to show it stopped.
INTERRUPT_VERIFY_SECONDS = 5.0
#: The most presses of the interrupt key one interrupt makes (when the CLI asks again), and the
#: least time between two of them.
MAX_INTERRUPT_PRESSES = 3
INTERRUPT_GAP = 0.5
#: How long a press of a CLI that asks for a second one may show nothing before it is taken
#: as lost and pressed again.
UNSEEN_PRESS_SECONDS = 1.5
#: Messages are typed into at most this many agents at once.
WORKERS = 8
#: How long Enter waits for a dialog that opened as the message was typed to be answered.
DIALOG_WAIT = 300.0
#: The longest message Quarterdeck types (a message is typed, not attached).
MAX_MESSAGE = 100_000


class _NotNow(Exception):
    """The agent cannot take the message after all (a closer look found it busy)."""


class NotTaken(QuarterdeckError):
    """Typed, but the agent did not take it (its Enter lost, or keys went elsewhere): a
    message stays queued, a first prompt is reported not delivered."""


@dataclass(frozen=True)
class _Look:
    screen: str
    status: Status
    dead: bool
    question: str = ""


class Keyboard:
    """Typing into an agent's pane and looking at what it shows: the part every delivery
    shares. ``closing`` set (Quarterdeck quits) ends any wait for a dialog at once;
    ``submitted(agent_id, since, text)`` says whether the agent's CLI reported taking ``text``
    (its prompt-submitted hook) since then."""

    def __init__(
        self,
        tmux: TmuxServer,
        pane_of: PaneLookup,
        closing: threading.Event,
        submitted: Callable[[str, float, str], bool] | None = None,
    ) -> None:
        self._tmux = tmux
        self._pane_of = pane_of
        self._closing = closing
        self._submitted = submitted or (lambda _agent_id, _since, _text: False)

    def pane(self, agent: Agent) -> PaneFacts | None:
        """The agent's pane, or None when it is gone."""
        return self._pane_of(agent)

    def screen(self, pane: PaneFacts) -> str:
        """What the pane shows now."""
        return self._tmux.capture(pane.pane_id)

    def press(self, pane: PaneFacts, *keys: str) -> None:
        """Press keys (tmux key names, or literal text after ``-l``) in the pane."""
        self._tmux.send_keys(pane.pane_id, *keys)

    def look(self, agent: Agent, profile: AgentProfile) -> _Look:
        """The agent's screen now and what it says."""
        facts = self._pane_of(agent)
        if facts is None or facts.dead:
            return _Look("", Status.EXITED, True)
        screen = self._tmux.capture(facts.pane_id)
        reading = classify(profile, PaneView(screen, facts.title, facts.command))
        return _Look(screen, reading.status, False, reading.question)

    def type_text(self, pane: PaneFacts, text: str) -> None:
        """Type ``text`` literally: one bracketed paste when it has several lines."""
        if "\n" in text:
            self._tmux.paste(pane.pane_id, text)
        else:
            self._tmux.send_text(pane.pane_id, text)

    def type_and_verify(
        self, agent: Agent, profile: AgentProfile, text: str, *, ready: bool, before: str
    ) -> None:
        """Type ``text`` into the agent, wait until its input box shows it, pause, press Enter
        once no dialog would take it, and verify the agent took it (`message_taken`): its
        prompt-submitted hook, or the text left the box and the CLI moved on. An Enter that
        was lost (the text still in the box) is pressed again, up to `ENTER_ATTEMPTS` times;
        the text is never typed twice — text a try left in the box gets only its Enter.
        ``ready``: the agent was at its prompt (``before`` is its screen then). Raises
        `NotTaken` when the agent showed no sign of taking it, `QuarterdeckError` when it
        exited."""
        seen = shown_above_box(before, text, profile)
        pane = self._pane_of(agent)
        if pane is None or pane.dead:
            raise QuarterdeckError(f"{agent.name} exited before the message was typed")
        typed_at = time.time()
        if not input_holds(before, text, profile):
            self.type_text(pane, text)
            self._wait_typed(agent, profile, text)
        for attempt in range(ENTER_ATTEMPTS):
            time.sleep(ENTER_DELAY * (attempt + 1))
            self._wait_out_dialog(agent, profile)
            self._tmux.send_keys(pane.pane_id, "Enter")
            pressed = time.monotonic()
            while time.monotonic() < pressed + VERIFY_SECONDS:
                now = self.look(agent, profile)
                if now.dead:
                    raise QuarterdeckError(f"{agent.name} exited while the message was being typed")
                submitted = self._submitted(agent.id, typed_at, text)
                if message_taken(
                    now.screen,
                    now.status,
                    text,
                    profile,
                    was_ready=ready,
                    seen=seen,
                    submitted=submitted,
                ):
                    return
                if time.monotonic() > pressed + LOST_ENTER_SECONDS and input_holds(
                    now.screen, text, profile
                ):
                    break  # the Enter was lost: the text stands in the box as typed
                time.sleep(0.05)
        raise NotTaken(
            f"{agent.name} did not take it: Enter pressed {ENTER_ATTEMPTS} times, and the text "
            "is still in its input box or the agent showed no sign of it"
        )

    def _wait_typed(self, agent: Agent, profile: AgentProfile, text: str) -> None:
        """Until the agent's input box shows the typed text (a CLI that collapses a paste into
        a placeholder never does: bounded by `TYPED_SECONDS`)."""
        deadline = time.monotonic() + TYPED_SECONDS
        while time.monotonic() < deadline:
            now = self.look(agent, profile)
            if now.dead or input_holds(now.screen, text, profile):
                return
            time.sleep(0.03)

    def _wait_out_dialog(self, agent: Agent, profile: AgentProfile) -> None:
        """A dialog that opened as the message was typed would take its Enter as an answer:
        the Enter waits until the human has answered it (the typed text stays in the input)."""
        deadline = time.monotonic() + DIALOG_WAIT
        while True:
            look = self.look(agent, profile)
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


class Answers:
    """The human's direct keys to an agent: an option of its dialog, a reply in words, its
    interrupt key — each checked before anything is pressed, the first two verified after."""

    def __init__(
        self,
        keyboard: Keyboard,
        store: Store,
        *,
        named: AgentLookup,
        profiles: Profiles,
        clock: Callable[[], float],
    ) -> None:
        self._keyboard = keyboard
        self._store = store
        self._named = named
        self._profiles = profiles
        self._clock = clock

    def _reading(self, profile: AgentProfile, pane: PaneFacts) -> Reading:
        screen = self._keyboard.screen(pane)
        return classify(profile, PaneView(screen, pane.title, pane.command))

    def answer(self, name: str, number: int, origin: str = "user") -> str:
        """Pick option ``number`` of the dialog the agent waits on, with the keys its CLI
        expects, and verify the dialog changed or went. Returns what was answered. ``origin``
        says who answered, in the agent's trail. Nothing is pressed unless the dialog on the
        screen now is the one shown and takes the keys."""
        agent = self._named(name)
        check_answer(agent, number)
        profile = self._profiles.get(agent.kind)
        pane = self._keyboard.pane(agent)
        if pane is None or pane.dead:
            raise QuarterdeckError(f"the pane of {name!r} is gone")
        screen = self._keyboard.screen(pane)
        before = classify(profile, PaneView(screen, pane.title, pane.command))
        check_on_screen(agent, before)
        keys = self._profiles.adapter(agent.kind).answer_keys(profile, number, before)
        if not keys:
            raise UsageError(f"cannot tell which key picks option {number} of {name}'s dialog")
        for press in keys:
            self._keyboard.press(pane, *press)
        label = before.options[number - 1] if 0 < number <= len(before.options) else str(number)
        self._store.log(agent.id, self._clock(), "-", f"{origin}: answered {number} ({label})")
        outcome = self._await_change(agent, profile, before, screen)
        if outcome is None:
            raise QuarterdeckError(
                f"answered {name} with {label!r}, but its dialog is still open after "
                f"{profile.answer_seconds(before.kind):.0f}s: attach to check"
            )
        return f"answered {name}: {label}{outcome}"

    def _await_change(
        self, agent: Agent, profile: AgentProfile, before: Reading, screen: str
    ) -> str | None:
        """Wait (as long as the dialog's kind may take, `AgentProfile.answer_seconds`) for the
        answered dialog to change or go: '' when it did, a note when the agent exited or
        restarted to apply the answer (a restart note more than ``screen``, the screen
        answered, showed), None when the dialog is still open."""
        deadline = time.monotonic() + profile.answer_seconds(before.kind)
        notes = len(profile.restarting.findall(screen)) if profile.restarting else 0
        restarted = False
        changed_at: float | None = None
        while time.monotonic() < deadline:
            facts = self._keyboard.pane(agent)
            if facts is None or facts.dead:
                return " (the agent then exited)"
            screen = self._keyboard.screen(facts)
            now = classify(profile, PaneView(screen, facts.title, facts.command))
            # A change counts once it holds (a redraw in progress is no answer taken).
            if not answer_taken(before, now):
                changed_at = None
            elif changed_at is None:
                changed_at = time.monotonic()
            elif time.monotonic() - changed_at >= SETTLE_SECONDS:
                return " (it restarted to apply it)" if restarted else ""
            if profile.restarting is not None and len(profile.restarting.findall(screen)) > notes:
                restarted = True  # follow the restart: the dialog goes once it is back
            time.sleep(0.05)
        return None

    def reply(self, name: str, text: str) -> str:
        """Answer the agent's question in words, the way its CLI takes them (its adapter's
        `reply_keys`, else: pick its "type my own answer" option, then type ``text`` and
        Enter), and verify the question went and the screen shows the text as the answer.
        Returns what was done."""
        agent = self._named(name)
        option = check_reply(agent, text)
        profile = self._profiles.get(agent.kind)
        adapter = self._profiles.adapter(agent.kind)
        pane = self._keyboard.pane(agent)
        if pane is None or pane.dead:
            raise QuarterdeckError(f"the pane of {name!r} is gone")
        before = self._reading(profile, pane)
        check_on_screen(agent, before)
        keys = adapter.reply_keys(profile, before, option, text)
        if keys is None:
            if option is not None:
                self._pick_field(agent, profile, pane, option, before)
            keys = [["-l", text], ["Enter"]]
        for press in keys:
            if press == ["Enter"]:
                time.sleep(ENTER_DELAY)  # some CLIs swallow an Enter right after typing
            if press[:1] == ["-l"] and "\n" in press[-1]:
                self._keyboard.type_text(pane, press[-1])
            else:
                self._keyboard.press(pane, *press)
        self._store.log(agent.id, self._clock(), "-", "user: replied in words")
        deadline = time.monotonic() + max(VERIFY_SECONDS, profile.answer_seconds(before.kind))
        while time.monotonic() < deadline:
            now = self._keyboard.look(agent, profile)
            asked, shown = (before.status, before.question), (now.status, now.question)
            if now.dead:
                return f"replied to {name} (the agent then exited)"
            if reply_taken(asked, shown, now.screen, text):
                return f"replied to {name}"
            time.sleep(0.05)
        raise QuarterdeckError(
            f"typed a reply into {name}, but its question did not take it as the answer: "
            "attach to check"
        )

    def _pick_field(
        self, agent: Agent, profile: AgentProfile, pane: PaneFacts, option: int, before: Reading
    ) -> None:
        """Pick the dialog's "type my own answer" option and check it opened a place to type:
        an option that answers at once (the question went) gets no text after it."""
        keys = self._profiles.adapter(agent.kind).answer_keys(profile, option, before)
        if not keys:
            raise UsageError(
                f"cannot tell which key picks option {option} of {agent.name}'s dialog"
            )
        screen = self._keyboard.screen(pane)
        for press in keys:
            self._keyboard.press(pane, *press)
        label = before.options[option - 1] if 0 < option <= len(before.options) else str(option)
        self._store.log(agent.id, self._clock(), "-", f"user: answered {option} ({label})")
        deadline = time.monotonic() + VERIFY_SECONDS
        changed_at: float | None = None
        gone_at: float | None = None
        while time.monotonic() < deadline:
            now = self._keyboard.look(agent, profile)
            if now.dead or now.status is not Status.NEEDS_INPUT or now.question != before.question:
                # A redraw may show no dialog for a moment (Gemini's, as its field opens): the
                # question was answered when it is still gone a moment later.
                gone_at = gone_at or time.monotonic()
                if now.dead or time.monotonic() - gone_at >= FIELD_SETTLE:
                    raise QuarterdeckError(
                        f"picking {label!r} answered {agent.name}'s question at once; the text "
                        "was not typed"
                    )
                time.sleep(0.05)
                continue
            gone_at = None
            if now.screen != screen and changed_at is None:
                changed_at = time.monotonic()
            # The same question drawn anew, and still there a moment later (a CLI may first
            # move its selection, then submit): its field is open.
            if changed_at is not None and time.monotonic() - changed_at >= FIELD_SETTLE:
                return
            time.sleep(0.05)
        raise QuarterdeckError(
            f"picked {label!r} in {agent.name}'s question, but no place to type opened; "
            "the text was not typed: attach to check"
        )

    def press_interrupt(self, agent: Agent) -> None:
        """Press the agent kind's interrupt key(s) once (a message sent to interrupt presses
        it until the agent is back at its prompt)."""
        pane = self._keyboard.pane(agent)
        if pane is None or pane.dead:
            raise QuarterdeckError(f"the pane of {agent.name!r} is gone")
        keys = self._profiles.adapter(agent.kind).interrupt_keys(self._profiles.get(agent.kind))
        self._keyboard.press(pane, *keys)
        self._store.log(agent.id, self._clock(), "-", f"user: interrupt ({' '.join(keys)})")

    def interrupt(self, agent: Agent) -> str:
        """Press the agent kind's interrupt key(s) and, when it was working, verify its turn
        stopped (the screen leaves the working state), pressing again when the CLI asks for
        it (``interrupt_again``: opencode's first Esc only arms the interrupt). Returns what
        was done; raises `QuarterdeckError` when the agent still works."""
        pane = self._keyboard.pane(agent)
        if pane is None or pane.dead:
            raise QuarterdeckError(f"the pane of {agent.name!r} is gone")
        profile = self._profiles.get(agent.kind)
        keys = self._profiles.adapter(agent.kind).interrupt_keys(profile)
        working = self._keyboard.look(agent, profile).status is Status.WORKING
        self._keyboard.press(pane, *keys)
        self._store.log(agent.id, self._clock(), "-", f"user: interrupt ({' '.join(keys)})")
        if not working:
            return f"pressed {' '.join(keys)} in {agent.name} (it was not working)"
        presses = 1
        deadline = time.monotonic() + INTERRUPT_VERIFY_SECONDS
        stopped_at: float | None = None
        pressed_at = time.monotonic()
        answered = seen = False  # the last press answered the CLI's ask; it asked since
        while time.monotonic() < deadline:
            now = self._keyboard.look(agent, profile)
            if now.dead:
                return f"interrupted {agent.name} (it then exited)"
            # Stopped once it holds (a redraw in progress shows no working footer either).
            if now.status is Status.WORKING:
                stopped_at = None
            elif stopped_at is None:
                stopped_at = time.monotonic()
            elif time.monotonic() - stopped_at >= SETTLE_SECONDS:
                return f"interrupted {agent.name}"
            again = profile.interrupt_again
            if again is not None and presses < MAX_INTERRUPT_PRESSES:
                asked = bool(again.search(now.screen))
                seen = seen or asked
                since = time.monotonic() - pressed_at
                # Pressed again once when the CLI asks (its note stays up a moment after),
                # or when a press showed no sign of arriving; never at once after the last
                # (two Esc bytes in quick succession read as one Alt+Esc).
                why = ""
                if asked and not answered and since >= INTERRUPT_GAP:
                    why = "asked"
                elif not seen and not answered and since >= UNSEEN_PRESS_SECONDS:
                    why = "no sign of the last press"
                if why:
                    self._keyboard.press(pane, *keys)
                    presses += 1
                    pressed_at, answered, seen = time.monotonic(), why == "asked", False
                    self._store.log(agent.id, self._clock(), "-", f"user: interrupt again ({why})")
            time.sleep(0.05)
        raise QuarterdeckError(
            f"pressed {' '.join(keys)} in {agent.name} {presses} time(s), but it is still "
            f"working after {INTERRUPT_VERIFY_SECONDS:.0f}s: attach to stop it"
        )


class Outbox:
    """Queued messages: stored before anything is typed (from any process), then delivered by
    the fleet's engine (the one process that tracks the fleet) on a pool of `WORKERS` threads,
    one at a time per agent, in the order sent."""

    def __init__(
        self,
        store: Store,
        keyboard: Keyboard,
        *,
        named: AgentLookup,
        agents: Callable[[], list[Agent]],
        profiles: Profiles,
        interrupt: Callable[[Agent], None],
        ring: Callable[[], None],
        clock: Callable[[], float],
        on_change: Callable[[], None],
        closing: threading.Event,
    ) -> None:
        self._store = store
        self._keyboard = keyboard
        self._named = named
        self._agents = agents
        self._profiles = profiles
        self._press_interrupt = interrupt
        self._ring = ring
        self._clock = clock
        self._on_change = on_change
        self._closing = closing
        self._pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="qd-send")
        #: Agents a pool thread delivers to now (guarded by ``_lock``).
        self._active: set[str] = set()
        self._lock = threading.Lock()
        #: When each agent was last typed to, so that an agent that does not queue typed input
        #: gets its next message only after a look that followed the last one.
        self._sent_at: dict[str, float] = {}

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
            agent = self._named(name)
            if is_ended(agent.shown.status, stopped=agent.stopped):
                raise UsageError(
                    f"{name} has {agent.shown.status.value}: a message cannot reach it"
                )
            agents.append(agent)
        messages = self._store.add_messages([(a, text, mode, origin) for a in agents])
        self._on_change()
        self._ring()  # the engine may run in another process
        return messages

    def wait(self, messages: Sequence[Message], timeout: float) -> list[Message]:
        """The messages once each is delivered, failed or not taken (still queued), or as they
        are at the deadline."""
        deadline = time.monotonic() + timeout
        while True:
            current = [self._store.message(m.id) or m for m in messages]
            if all(m.final or m.not_taken for m in current) or time.monotonic() > deadline:
                return current
            time.sleep(0.05)

    # ------------------------------------------------------------ delivering (engine)

    def pump(self, agents: Sequence[Agent]) -> None:
        """Start delivering to every agent that has a message waiting and can take it now.
        Called by the engine after each sweep; returns at once."""
        if self._closing.is_set():
            return
        waiting = self._store.waiting_message_agents()
        if not waiting:
            return
        for agent in agents:
            if agent.id not in waiting:
                continue
            if is_ended(agent.shown.status, stopped=agent.stopped):
                n = self._store.fail_messages(
                    MessageState.PENDING,
                    f"{agent.name} {agent.shown.status.value} before it could take the message",
                    agent.id,
                )
                if n:
                    self._on_change()
                continue
            with self._lock:
                if agent.id in self._active or not self._can_take(agent):
                    continue
                self._active.add(agent.id)
            self._pool.submit(self._deliver_all, agent.id)

    def _can_take(self, agent: Agent) -> bool:
        """Whether the agent can take its next message now, as last seen by the engine."""
        message = self._store.next_message(agent.id)
        if message is None:
            return False
        profile = self._profiles.find(agent.kind)
        sent_at = self._sent_at.get(agent.id, 0.0)
        return can_take(agent, message, profile, sent_at, self._clock())

    def _deliver_all(self, agent_id: str) -> None:
        try:
            while True:
                agent = next((a for a in self._agents() if a.id == agent_id), None)
                if agent is None or not self._can_take(agent):
                    return
                message = self._store.next_message(agent_id)
                if message is None or not self._store.set_message_state(
                    message.id, MessageState.SENDING, expect=MessageState.PENDING
                ):
                    return
                self._on_change()
                try:
                    self._deliver(agent, message)
                    state, error = MessageState.DELIVERED, ""
                except _NotNow:
                    self._store.set_message_state(
                        message.id, MessageState.PENDING, expect=MessageState.SENDING
                    )
                    self._on_change()
                    return
                except NotTaken as exc:
                    # Nothing is lost: it stays queued, and is tried again (Enter only, if its
                    # text is still in the box) once the agent's status moved.
                    self._sent_at[agent_id] = self._clock()
                    error = f"not taken yet: {exc}; it stays queued"
                    self._store.set_message_state(message.id, MessageState.PENDING, error)
                    self._store.log(
                        agent_id, self._clock(), "-", f"user: message {message.id} {error}"
                    )
                    self._on_change()
                    return
                except QuarterdeckError as exc:
                    state, error = MessageState.FAILED, str(exc)
                except Exception as exc:  # a failure is shown on the message, never lost
                    state, error = MessageState.FAILED, f"{type(exc).__name__}: {exc}"
                self._sent_at[agent_id] = self._clock()
                self._store.set_message_state(message.id, state, error)
                what = "delivered" if state is MessageState.DELIVERED else f"failed: {error}"
                self._store.log(agent_id, self._clock(), "-", f"user: message {message.id} {what}")
                self._on_change()
        finally:
            with self._lock:
                self._active.discard(agent_id)

    def _deliver(self, agent: Agent, message: Message) -> None:
        """Type one message into the agent and verify it took it (raises on failure)."""
        profile = self._profiles.get(agent.kind)
        look = self._keyboard.look(agent, profile)
        if look.dead:
            raise QuarterdeckError(f"{agent.name} exited before the message was typed")
        if message.mode is MessageMode.INTERRUPT and not at_prompt(look.status, profile):
            look = self._interrupt(agent, profile)
        if not can_type(look.status, profile):
            raise _NotNow  # a dialog (never typed into), starting, or busy and not queueing
        ready = at_prompt(look.status, profile)
        self._keyboard.type_and_verify(
            agent, profile, message.text, ready=ready, before=look.screen
        )

    def _interrupt(self, agent: Agent, profile: AgentProfile) -> _Look:
        """Press the kind's interrupt key until the agent is back at its prompt."""
        deadline = time.monotonic() + INTERRUPT_SECONDS
        pressed = 0.0
        while time.monotonic() < deadline:
            look = self._keyboard.look(agent, profile)
            if look.dead:
                raise QuarterdeckError(f"{agent.name} exited when interrupted")
            if at_prompt(look.status, profile):
                return look
            if time.monotonic() - pressed > 2.0:
                self._press_interrupt(agent)
                pressed = time.monotonic()
            time.sleep(0.05)
        raise QuarterdeckError(
            f"{agent.name} did not come back to its prompt within {INTERRUPT_SECONDS:.0f}s of "
            "being interrupted; the message was not typed"
        )

    def recover(self) -> None:
        """Messages left half-typed by a process that died are failed, visibly, never retyped."""
        self._store.fail_messages(
            MessageState.SENDING,
            "Quarterdeck stopped while typing it; not typed again: attach to check",
        )

    def close(self) -> None:
        """Stop taking work; messages being typed finish (a wait for a dialog ends at once)."""
        self._closing.set()
        self._pool.shutdown(wait=True, cancel_futures=True)


class FirstPrompts:
    """An agent's first prompt, when its CLI takes it typed rather than on its command line:
    typed once the agent is ready, on a thread of its own, and verified like a message."""

    def __init__(
        self,
        store: Store,
        keyboard: Keyboard,
        *,
        profiles: Profiles,
        mutex: threading.RLock,
    ) -> None:
        self._store = store
        self._keyboard = keyboard
        self._profiles = profiles
        self._mutex = mutex
        #: Agents whose prompt a thread types now.
        self._delivering: set[str] = set()

    def recover(self) -> None:
        """Prompts left half-sent by a process that died are marked failed, visibly, rather than
        typed a second time."""
        with self._mutex:
            for agent in self._store.agents():
                if agent.prompt_state is PromptState.SENDING:
                    failed = replace(agent, prompt_state=PromptState.FAILED)
                    self._store.update(failed, before=agent)

    def maybe_deliver(self, agent: Agent, ready: bool) -> None:
        """Start typing the agent's prompt when it is due (``ready``: its CLI reads ready) and
        no other process or thread claimed it."""
        profile = self._profiles.find(agent.kind)
        if agent.id in self._delivering or profile is None:
            return
        if not prompt_due(agent, profile, ready=ready):
            return
        claimed = self._store.claim_prompt(agent.id)
        if claimed is None:
            return
        self._delivering.add(agent.id)
        threading.Thread(
            target=self._deliver,
            args=(claimed, profile),
            name=f"deliver-{agent.name}",
            daemon=True,
        ).start()

    def _deliver(self, agent: Agent, profile: AgentProfile) -> None:
        """Type the prompt, press Enter, and verify the agent left its ready state."""
        try:
            ok = self.send_and_verify(agent, profile, agent.prompt)
        except QuarterdeckError:
            ok = False
        finally:
            self._delivering.discard(agent.id)
        state = PromptState.DELIVERED if ok else PromptState.FAILED
        with self._mutex:
            current = self._store.get(agent.name)
            if current is not None and current.id == agent.id:
                self._store.update(replace(current, prompt_state=state), before=current)

    def send_and_verify(self, agent: Agent, profile: AgentProfile, text: str) -> bool:
        """Type ``text`` into an agent at its prompt and verify it took it (the way messages
        are typed: `Keyboard.type_and_verify`)."""
        pane = self._keyboard.pane(agent)
        if pane is None or pane.dead:
            return False
        try:
            before = self._keyboard.screen(pane)
            self._keyboard.type_and_verify(agent, profile, text, ready=True, before=before)
        except QuarterdeckError:
            return False
        return True
