"""Messages to agents, end to end: real demo agents in a real tmux server, the real engine
typing and verifying, and each agent's own transcript of what it took."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.agent import SpawnRequest
from app.core.errors import QuarterdeckError, UsageError
from app.core.messages import MessageMode, MessageState
from app.core.status import Status
from app.fleet.engine import Engine
from app.fleet.fleet import Fleet
from app.infra.spool import HookEvent
from tests.helpers import make_agent, wait_for


@pytest.fixture
def fleet(repo: Path) -> Iterator[Fleet]:
    fleet = Fleet.open(repo)
    engine = Engine(fleet)
    engine.start()
    try:
        yield fleet
    finally:
        engine.stop()


def demo(fleet: Fleet, tmp_path: Path, name: str, *, prompt: str = "", flags: str = "") -> Path:
    """Start a demo agent that writes what it takes to a transcript; returns the transcript."""
    transcript = tmp_path / f"{name}.jsonl"
    command = f"{{python}} -m app.demo.agent --seed 3 --transcript {transcript} {flags}"
    fleet.spawn(SpawnRequest(prompt=prompt, kind="demo", name=name, command=command))
    return transcript


def taken(transcript: Path) -> list[tuple[str, str]]:
    try:
        lines = transcript.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    return [(d["how"], d["text"]) for d in map(json.loads, lines)]


def status(fleet: Fleet, name: str) -> Status:
    return fleet.get(name).shown.status


def test_a_message_arrives_intact_and_is_marked_delivered(fleet: Fleet, tmp_path: Path) -> None:
    transcript = demo(fleet, tmp_path, "idle-one")
    wait_for(lambda: status(fleet, "idle-one") is Status.IDLE, timeout=15, what="idle")
    text = 'it\'s $HOME; `rm -rf /` && echo "ünïcødé ✓ 日本" | tee $(pwd) \\n ; #end'
    (message,) = fleet.send(["idle-one"], text, MessageMode.QUEUE)
    assert message.state is MessageState.PENDING  # stored before anything is typed
    (done,) = fleet.outbox.wait([message], timeout=15)
    assert done.state is MessageState.DELIVERED, done.error
    assert taken(transcript) == [("submitted", text)]
    # Several lines go as one message, not one per line (queued: the agent works on the first).
    lines = "first line\nsecond line with $VAR\n\tthird, indented"
    (done,) = fleet.outbox.wait(fleet.send(["idle-one"], lines, MessageMode.QUEUE), 15)
    assert done.state is MessageState.DELIVERED, done.error
    assert taken(transcript)[-1][1] == lines
    trail = [e for _, _, e in fleet.evidence("idle-one")]
    assert f"user: message {done.id} delivered" in trail


def test_a_busy_agent_queues_and_interrupt_sends_at_once(fleet: Fleet, tmp_path: Path) -> None:
    transcript = demo(
        fleet,
        tmp_path,
        "busy-one",
        prompt="refactor payments",
        flags="--behaviour busy --speed 0.3",
    )
    wait_for(lambda: status(fleet, "busy-one") is Status.WORKING, timeout=15, what="working")
    (queued,) = fleet.outbox.wait(fleet.send(["busy-one"], "also add tests", MessageMode.QUEUE), 15)
    assert queued.state is MessageState.DELIVERED, queued.error
    assert taken(transcript)[-1] == ("queued", "also add tests")
    assert status(fleet, "busy-one") is Status.WORKING  # queued: the work goes on
    (now,) = fleet.outbox.wait(
        fleet.send(["busy-one"], "stop: fix the login bug instead", MessageMode.INTERRUPT), 20
    )
    assert now.state is MessageState.DELIVERED, now.error
    # The demo agent, like real ones, hands queued text back on an interrupt: it is sent along.
    how, text = taken(transcript)[-1]
    assert how == "submitted" and text.endswith("stop: fix the login bug instead")
    assert [e for _, _, e in fleet.evidence("busy-one") if "interrupt" in e]


def test_a_message_waits_while_a_dialog_is_open(fleet: Fleet, tmp_path: Path) -> None:
    transcript = demo(
        fleet, tmp_path, "asking", prompt="deploy it", flags="--behaviour asker --speed 4"
    )
    wait_for(lambda: status(fleet, "asking") is Status.NEEDS_INPUT, timeout=20, what="dialog")
    (message,) = fleet.send(["asking"], "then write docs 123", MessageMode.QUEUE)
    # Never typed into the dialog (its digits would answer it).
    still = fleet.outbox.wait([message], timeout=1.5)[0]
    assert still.state is MessageState.PENDING
    assert status(fleet, "asking") is Status.NEEDS_INPUT
    fleet.answer("asking", 1)
    (done,) = fleet.outbox.wait([message], timeout=30)
    assert done.state is MessageState.DELIVERED, done.error
    assert ("submitted", "then write docs 123") in taken(transcript) or (
        "queued",
        "then write docs 123",
    ) in taken(transcript)


def test_refused_messages_queue_nothing(fleet: Fleet, tmp_path: Path) -> None:
    demo(fleet, tmp_path, "alive")
    wait_for(lambda: status(fleet, "alive") is Status.IDLE, timeout=15, what="idle")
    with pytest.raises(UsageError, match="empty"):
        fleet.send(["alive"], "  \n ", MessageMode.QUEUE)
    with pytest.raises(QuarterdeckError, match="no agent named 'ghost'"):
        fleet.send(["alive", "ghost"], "hello", MessageMode.QUEUE)
    fleet.stop("alive")
    with pytest.raises(UsageError, match="alive has exited"):
        fleet.send(["alive"], "hello", MessageMode.QUEUE)
    assert fleet.messages() == []


def test_an_agent_dying_during_delivery_fails_visibly_and_nothing_goes_elsewhere(
    fleet: Fleet, tmp_path: Path
) -> None:
    # It freezes while it works: it takes no keys, so a message to it is still being typed
    # and verified when it dies.
    doomed = demo(
        fleet, tmp_path, "doomed", prompt="slow work", flags="--behaviour busy --hang-after 1"
    )
    other = demo(fleet, tmp_path, "bystander")
    wait_for(lambda: status(fleet, "doomed") is Status.WORKING, timeout=15, what="working")
    wait_for(lambda: status(fleet, "bystander") is Status.IDLE, timeout=15, what="idle")
    messages = fleet.send(["doomed"], "message one", MessageMode.QUEUE)
    messages += fleet.send(["doomed"], "message two", MessageMode.INTERRUPT)
    first = messages[0]
    wait_for(
        lambda: (
            (m := fleet.store.message(first.id)) is not None and m.state is MessageState.SENDING
        ),
        what="the first message being typed",
    )
    os.kill(fleet.get("doomed").placement.pane_pid, signal.SIGKILL)
    final = fleet.outbox.wait(messages, timeout=30)
    assert [m.state for m in final] == [MessageState.FAILED, MessageState.FAILED], final
    # Before, while or after typing, depending on the instant: each says the agent exited.
    assert all(m.error.startswith(("doomed exited", "doomed failed")) for m in final), final
    assert taken(other) == []  # nothing typed into another agent
    assert [t for _, t in taken(doomed)] == ["slow work"]
    row = next(r for r in fleet.view().rows if r.name == "doomed")
    assert row.summary.startswith("✗ message not delivered")


@pytest.mark.slow
def test_two_hundred_messages_to_twenty_agents_in_mixed_states(
    fleet: Fleet, tmp_path: Path
) -> None:
    """None lost, none twice, none to the wrong agent: to agents working (queued for after
    their step), idle (typed at the prompt), starting and waiting on a dialog (held until the
    dialog is answered)."""
    transcripts = {}
    askers = []
    for n in range(20):
        name = f"agent-{n:02d}"
        if n % 4 == 0:
            flags, prompt = "--behaviour busy --speed 0.5", "long task"
        elif n % 4 == 1:
            flags, prompt = "--behaviour asker --speed 0.5", "ask me"
            askers.append(name)
        elif n % 4 == 2:
            flags, prompt = "--behaviour worker --speed 4", "short task"
        else:
            flags, prompt = "--behaviour worker", ""
        transcripts[name] = demo(fleet, tmp_path, name, prompt=prompt, flags=flags)
    wait_for(
        lambda: all(status(fleet, name) is Status.NEEDS_INPUT for name in askers),
        timeout=60,
        what="every asker waiting on its dialog",
    )
    sent: dict[str, list[str]] = {name: [] for name in transcripts}
    messages = []
    for i in range(10):
        for name in transcripts:
            text = f"msg {i} for {name} — ✓ $x `y` 'z'"
            sent[name].append(text)
            messages += fleet.send([name], text, MessageMode.QUEUE)

    # Dialogs hold messages back until answered: answer whatever asks, as a human would.
    def settled() -> bool:
        for row in fleet.view().rows:
            if row.status is Status.NEEDS_INPUT:
                with contextlib.suppress(QuarterdeckError):  # it may have moved on already
                    fleet.answer(row.name, 1)
        current = [fleet.store.message(m.id) for m in messages]
        return all(m is not None and m.final for m in current)

    wait_for(settled, timeout=150, interval=0.3, what="every message delivered or failed")
    final = [fleet.store.message(m.id) for m in messages]
    failed = [
        (m.agent_name, m.text, m.error)
        for m in final
        if m and m.state is not MessageState.DELIVERED
    ]
    assert failed == []
    for name, transcript in transcripts.items():
        got = [t for how, t in taken(transcript) if how in ("submitted", "queued")]
        mine = [t for t in got if t.startswith("msg ")]
        assert sorted(mine) == sorted(sent[name]), (name, got)  # none lost, none twice
        assert all(t.endswith(f"for {name} — ✓ $x `y` 'z'") for t in mine)  # none misdirected


def test_an_enter_the_agent_lost_is_pressed_again(fleet: Fleet, tmp_path: Path) -> None:
    """The demo agent loses the first Enter after typed text (as Codex loses one that follows
    a paste too closely): the text stays at its prompt, Quarterdeck sees it there and presses
    Enter again — the text is typed once."""
    transcript = demo(fleet, tmp_path, "deaf-once", flags="--lose-enter 1")
    wait_for(lambda: status(fleet, "deaf-once") is Status.IDLE, timeout=15, what="idle")
    (message,) = fleet.send(["deaf-once"], "fix the parser", MessageMode.QUEUE)
    wait_for(lambda: fleet.message(message.id).final, timeout=30, what="delivered")  # type: ignore[union-attr]
    assert fleet.message(message.id).state is MessageState.DELIVERED  # type: ignore[union-attr]
    assert taken(transcript) == [("submitted", "fix the parser")]


def test_a_message_the_agent_never_takes_is_not_delivered_and_stays_queued(
    fleet: Fleet, tmp_path: Path
) -> None:
    """Every Enter is lost: the message is reported not taken (never "delivered"), stays
    queued with what was seen, and its text is in the agent's input line once."""
    transcript = demo(fleet, tmp_path, "deaf", flags="--lose-enter 99")
    wait_for(lambda: status(fleet, "deaf") is Status.IDLE, timeout=15, what="idle")
    (message,) = fleet.send(["deaf"], "fix the parser", MessageMode.QUEUE)
    wait_for(lambda: fleet.message(message.id).not_taken, timeout=40, what="not taken")  # type: ignore[union-attr]
    after = fleet.message(message.id)
    assert after is not None and after.state is MessageState.PENDING
    assert "still in its input box" in after.error and "stays queued" in after.error
    assert taken(transcript) == []
    assert fleet.capture("deaf").count("fix the parser") == 1


def test_an_agent_started_with_a_prompt_is_starting_until_it_takes_it(
    fleet: Fleet, tmp_path: Path
) -> None:
    """Its prompt prompt is typed once the demo agent's prompt is drawn, but until the agent
    takes it the status stays starting: never idle before the first turn began."""
    transcript = demo(fleet, tmp_path, "eager", prompt="fix the parser", flags="--speed 4")
    wait_for(lambda: ("submitted", "fix the parser") in taken(transcript), timeout=20)
    wait_for(lambda: status(fleet, "eager") is Status.IDLE, timeout=30, what="turn done")
    shown = [s for _at, s, evidence in fleet.evidence("eager") if evidence.startswith("screen")]
    first_work = shown.index("working")
    assert "idle" not in shown[:first_work], shown


def test_a_queued_message_starting_is_no_proof_that_another_was_taken(fleet: Fleet) -> None:
    """A CLI's prompt-submitted hook carries its prompt: when a message queued earlier starts,
    its hook proves that message taken, not one whose Enter went astray meanwhile."""
    agent = make_agent("queuer", agent_id="q1")
    typed_at = time.time()
    event = HookEvent(agent.id, "UserPromptSubmit", {"prompt": "msg 3 for queuer"}, typed_at + 1)
    fleet.tracking.hook(agent, event)
    assert fleet.tracking.submitted_since(agent.id, typed_at, "msg 3 for queuer")
    assert not fleet.tracking.submitted_since(agent.id, typed_at, "msg 4 for queuer")
    assert not fleet.tracking.submitted_since(agent.id, typed_at + 2, "msg 3 for queuer")
    # A hook that carries no prompt proves whatever was typed before it.
    fleet.tracking.hook(agent, HookEvent(agent.id, "UserPromptSubmit", {}, typed_at + 3))
    assert fleet.tracking.submitted_since(agent.id, typed_at + 2, "msg 4 for queuer")
