"""Status tracking: the engine's memory of every agent — what its screen last said and since
when, what its hooks and status files said, and the hysteresis over all of it."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace

from app.core.agent import Agent
from app.core.classify import PaneView, classify
from app.core.delivery import TYPING, input_holds, prompt_holds, shown_above_box, startup_over
from app.core.profiles import AgentProfile
from app.core.signals import Signal, fuse
from app.core.status import PANE_GONE, Evidence, Reading, Status, StatusTracker, TrackedStatus
from app.fleet.profiles import Profiles
from app.infra.spool import HookEvent
from app.infra.tmux import PaneFacts, TmuxError, TmuxServer

#: A pane is captured at most this often, however much it writes (its output is coalesced).
MIN_CAPTURE_INTERVAL = 0.1
#: Lines of history read with the screen of a pane whose process has exited.
DEAD_PANE_HISTORY = 20
#: How many prompt-submitted hooks an agent's memory keeps.
SUBMITTED_KEPT = 16


#: How long a ready screen must hold before a typed first prompt goes in.
READY_SETTLE_SECONDS = 1.0


@dataclass
class _Memory:
    looked_at: float = 0.0
    look: tuple[int, bool, int | None] | None = None
    screen: Reading | None = None
    screen_since: float = 0.0
    signals: dict[str, Signal] = field(default_factory=dict)
    tracked: TrackedStatus | None = None
    status_file_mtime: float = 0.0
    view: PaneView | None = None
    #: What the last dialog-opening hook said the request is about, until the agent moves on
    #: (a late hook of the step before must not lose it).
    request: str = ""
    #: The CLI reads its ready status (before start-up is taken into account): a typed first
    #: prompt may go in.
    ready: bool = False
    #: Its start-up is over (see `app.core.delivery.startup_over`).
    started: bool = False
    #: The prompts its CLI last said it took (its prompt-submitted hook): when, and the text
    #: the hook carried (None when it carries none), newest last.
    submitted: deque[tuple[float, str | None]] = field(
        default_factory=lambda: deque(maxlen=SUBMITTED_KEPT)
    )


def _stored_reading(agent: Agent) -> Reading:
    """The status the store holds, as a reading (its evidence said once: a status carried over
    from look to look is not wrapped again each time)."""
    evidence = agent.shown.evidence
    detail = evidence[len("store: ") :] if evidence.startswith("store: ") else evidence
    return Reading(
        agent.shown.status,
        Evidence("store", detail),
        agent.shown.input_kind,
        agent.shown.question,
        agent.shown.options,
        agent.shown.summary,
        others=agent.shown.others,
        focused=agent.shown.focused,
    )


class StatusTracking:
    """Folds every look at the fleet into one status per agent."""

    def __init__(self, tmux: TmuxServer, profiles: Profiles) -> None:
        self._tmux = tmux
        self._profiles = profiles
        self._tracker = StatusTracker()
        self._memory: dict[str, _Memory] = {}
        self._deferred: set[str] = set()

    def _mem(self, agent_id: str) -> _Memory:
        return self._memory.setdefault(agent_id, _Memory())

    @property
    def deferred(self) -> bool:
        """True while panes with unread output wait to be captured (coalescing)."""
        return bool(self._deferred)

    def dirty_panes(self) -> set[str] | None:
        """Panes with output since the last sweep (and ones deferred from it), or None when no
        control connection tells us."""
        dirty = self._tmux.take_dirty()
        if dirty is None:
            return None
        dirty |= self._deferred
        self._deferred = set()
        return dirty

    def hook(self, agent: Agent, event: HookEvent) -> Reading | None:
        """Take one hook event of the agent into account; returns what it said, if anything."""
        profile = self._profiles.find(agent.kind)
        if profile is None:
            return None
        adapter = self._profiles.adapter(agent.kind)
        reading = adapter.reading_from_hook(event.event, event.payload)
        if adapter.submits_prompt(event.event):
            prompt = event.payload.get("prompt")
            self._mem(agent.id).submitted.append(
                (event.at, prompt if isinstance(prompt, str) else None)
            )
        if reading is not None:
            mem = self._mem(agent.id)
            mem.signals["hook"] = Signal(reading, event.at)
            if reading.status is Status.NEEDS_INPUT:
                mem.request = reading.detail
            elif not adapter.announces_tool(event.event):
                # The tool ran, the turn ended or a new one began: that request is over. (A
                # tool's start can arrive after its own permission request.)
                mem.request = ""
        return reading

    def _status_file(self, agent: Agent, pane: PaneFacts, profile: AgentProfile) -> None:
        adapter = self._profiles.adapter(agent.kind)
        path = adapter.status_file(pane.pid)
        if path is None:
            return
        mem = self._mem(agent.id)
        try:
            mtime = path.stat().st_mtime
        except OSError:
            mem.signals.pop("status file", None)  # absent means no information, not idle
            return
        if mtime == mem.status_file_mtime:
            return
        mem.status_file_mtime = mtime
        try:
            reading = adapter.reading_from_status_file(path.read_text())
        except OSError:
            reading = None
        if reading is None:
            mem.signals.pop("status file", None)
        else:
            mem.signals["status file"] = Signal(reading, mtime)

    def _screen(
        self, agent: Agent, pane: PaneFacts | None, now: float, dirty: set[str] | None
    ) -> Reading | None:
        mem = self._mem(agent.id)
        profile = self._profiles.find(agent.kind)
        if agent.stopped and (pane is None or pane.dead):
            # However the process took its ending, the human stopped it.
            return Reading(Status.EXITED, Evidence("user", "stopped"), summary=agent.shown.summary)
        if pane is None:
            if not agent.placement.window_id:
                return None  # being spawned: its window is not recorded yet
            if agent.shown.status in (Status.EXITED, Status.FAILED):
                return None  # it had ended before its window went: that stays said
            return Reading(Status.EXITED, Evidence("pane", PANE_GONE), summary=agent.shown.summary)
        if profile is None:
            return Reading(Status.UNKNOWN, Evidence("config", self._profiles.unknown(agent.kind)))
        look = (pane.activity, pane.dead, pane.dead_status)
        if mem.screen is not None and mem.look is not None and mem.look[1:] == look[1:]:
            if dirty is not None:
                if pane.pane_id not in dirty:
                    return mem.screen
                if now - mem.looked_at < MIN_CAPTURE_INTERVAL:
                    self._deferred.add(pane.pane_id)  # coalesce: look again next sweep
                    return mem.screen
            elif mem.look == look and pane.activity < int(mem.looked_at):
                # Without a connection, tmux's activity time (to the second) stands in: the
                # screen can only have changed if it moved or falls in the second of that look.
                return mem.screen
        try:
            # tmux's note under a dead pane can scroll its last words into the history.
            text = self._tmux.capture(pane.pane_id, history=DEAD_PANE_HISTORY if pane.dead else 0)
        except TmuxError:
            return mem.screen
        mem.looked_at, mem.look = now, look
        view = PaneView(
            text=text,
            title=pane.title,
            command=pane.command,
            dead=pane.dead,
            dead_status=pane.dead_status,
        )
        if view == mem.view and mem.screen is not None:
            return mem.screen  # the same screen and pane facts: nothing new to read
        mem.view = view
        return classify(profile, view)

    def observe(
        self, agent: Agent, pane: PaneFacts | None, now: float, dirty: set[str] | None
    ) -> TrackedStatus | None:
        """The agent's status after this look: screen, hooks and status file fused, then held
        with hysteresis. None when there is nothing to go on yet."""
        mem = self._mem(agent.id)
        screen = self._screen(agent, pane, now, dirty)
        if screen is not None and (mem.screen is None or not screen.same_state(mem.screen)):
            mem.screen_since = now
        mem.screen = screen
        profile = self._profiles.find(agent.kind)
        if pane is not None and not pane.dead and profile is not None:
            self._status_file(agent, pane, profile)
        screen_signal = Signal(screen, mem.screen_since) if screen is not None else None
        reading = fuse(screen_signal, list(mem.signals.values()))
        if reading is None:
            return None
        if reading.status is Status.NEEDS_INPUT and not reading.detail and mem.request:
            reading = replace(reading, detail=mem.request)
        if profile is not None:
            # Ready for a typed prompt once the ready screen held a moment: a CLI that restarts
            # (Gemini after a trust answer) draws its ready title before it takes keys.
            mem.ready = (
                reading.status is profile.ready_status
                and now - mem.screen_since >= READY_SETTLE_SECONDS
            )
            reading = self._startup(agent, mem, profile, reading, now)
        stored = TrackedStatus(reading=_stored_reading(agent), since=agent.shown.since)
        if mem.tracked is None and reading.status is not Status.UNKNOWN:
            # The first look of this process at the agent is taken as it is: hysteresis guards
            # against flicker between looks, and there is no earlier look to flicker from.
            mem.tracked = (
                TrackedStatus(reading=reading, since=agent.shown.since)
                if reading.same_state(stored.reading)
                else self._tracker.start(reading, now)
            )
        else:
            mem.tracked = self._tracker.observe(mem.tracked or stored, reading, now)
        return mem.tracked

    def _startup(
        self, agent: Agent, mem: _Memory, profile: AgentProfile, reading: Reading, now: float
    ) -> Reading:
        """While the agent starts, a ready screen (or one not understood yet: the CLI loads)
        reads ``starting``: until it took its first prompt, or, with none, until it is ready;
        so does a working one while its typed prompt waits to be typed. A start-up dialog
        still reads as what it is."""
        if agent.started or mem.started:
            return reading
        screen = mem.view.text if mem.view is not None else ""
        prompt = agent.prompt.strip()
        seen = bool(prompt) and shown_above_box(screen, agent.prompt, profile) > 0
        waiting = bool(prompt) and input_holds(screen, agent.prompt, profile)
        over = startup_over(
            agent,
            reading.status,
            profile,
            prompt_seen=seen,
            prompt_waiting=waiting,
            age=now - agent.created_at,
        )
        if over:
            mem.started = True
            return reading
        loading: tuple[Status, ...] = (profile.ready_status, Status.IDLE, Status.UNKNOWN)
        if agent.prompt_state in TYPING:
            loading += (Status.WORKING,)  # not at work on a prompt it was not given yet
        if reading.status not in loading:
            return reading
        why = "its first prompt is not taken yet" if agent.prompt.strip() else "not ready yet"
        evidence = Evidence(reading.evidence.source, f"{reading.evidence.detail}; {why}")
        return Reading(Status.STARTING, evidence, summary=reading.summary)

    def ready(self, agent_id: str) -> bool:
        """Whether the agent's CLI read its ready status at the last look (a typed first prompt
        may go in: the status shown stays ``starting`` until it is taken)."""
        mem = self._memory.get(agent_id)
        return mem is not None and mem.ready

    def started(self, agent_id: str) -> bool:
        """Whether this process saw the agent's start-up end."""
        mem = self._memory.get(agent_id)
        return mem is not None and mem.started

    def submitted_since(self, agent_id: str, since: float, text: str) -> bool:
        """Whether the agent's CLI said it took ``text`` (its prompt-submitted hook) at or
        after ``since`` (the hook's own clock: the wall clock). A hook that carries its prompt
        counts only when that prompt is ``text``: a queued earlier message starting is no
        proof for this one."""
        mem = self._memory.get(agent_id)
        return mem is not None and any(
            at >= since and (prompt is None or prompt_holds(prompt, text))
            for at, prompt in mem.submitted
        )

    def next_settle(self) -> float | None:
        """When the earliest pending status change may be accepted (a sweep is due then)."""
        times = [
            mem.tracked.pending_since + self._tracker.settle.get(mem.tracked.pending.status, 0.0)
            for mem in self._memory.values()
            if mem.tracked is not None and mem.tracked.pending is not None
        ]
        return min(times, default=None)

    def set(self, agent_id: str, reading: Reading, now: float) -> None:
        """A status Quarterdeck itself established (the human stopped the agent)."""
        mem = self._mem(agent_id)
        mem.signals.clear()
        mem.tracked = self._tracker.start(reading, now)

    def forget(self, agent_id: str) -> None:
        """Drop everything known about a removed agent."""
        self._memory.pop(agent_id, None)
