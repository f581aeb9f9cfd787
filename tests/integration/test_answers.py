"""Answers without attaching: in words, by the repository's auto-approve rules, and the alerts
that tell the human someone waits — with real demo agents, tmux and the real engine."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.agent import SpawnRequest
from app.core.alerts import Alert, AlertKind
from app.core.status import InputKind, Status
from app.fleet.engine import Engine
from app.fleet.fleet import Fleet
from tests.helpers import wait_for


def start(repo: Path) -> tuple[Fleet, Engine]:
    fleet = Fleet.open(repo)
    engine = Engine(fleet)
    engine.start()
    return fleet, engine


@pytest.fixture
def engines() -> Iterator[list[Engine]]:
    running: list[Engine] = []
    yield running
    for engine in running:
        engine.stop()


def demo(fleet: Fleet, name: str, behaviour: str, seed: int = 5) -> None:
    command = f"{{python}} -m app.demo.agent --behaviour {behaviour} --speed 3 --seed {seed}"
    fleet.spawn(SpawnRequest(prompt="go on", kind="demo", name=name, command=command))


def trail(fleet: Fleet, name: str) -> list[str]:
    return [evidence for _, _, evidence in fleet.evidence(name)]


def test_a_question_answered_in_words(repo: Path, engines: list[Engine]) -> None:
    fleet, engine = start(repo)
    engines.append(engine)
    demo(fleet, "curious", "questioner")
    wait_for(
        lambda: fleet.get("curious").shown.input_kind is InputKind.QUESTION,
        timeout=30,
        what="question",
    )
    question = fleet.get("curious").shown.question
    assert question.endswith("?")
    said = fleet.reply("curious", "Postgres, and keep $PATH as it is")
    assert said == "replied to curious"
    wait_for(
        lambda: (
            fleet.get("curious").shown.question != question
            or fleet.get("curious").shown.status is not Status.NEEDS_INPUT
        ),
        what="the question answered",
    )
    assert "user: replied in words" in trail(fleet, "curious")
    screen = fleet.capture("curious")
    assert "Postgres, and keep $PATH as it is" in screen


def test_auto_approve_rules_answer_matching_requests_and_log_it(
    repo: Path, engines: list[Engine]
) -> None:
    # The demo asker asks to run one of a few commands; the rule covers every one of them but
    # `git push` and `rm -rf`, by tool and command pattern, from its start.
    (repo / ".quarterdeck.toml").write_text(
        "[[auto_approve]]\n"
        'kind = "demo"\n'
        'tool = "Bash"\n'
        "command = '^(pytest|npm test|make lint|docker compose)'\n"
    )
    fleet, engine = start(repo)
    engines.append(engine)
    for seed in range(1, 9):
        demo(fleet, f"asker-{seed}", "asker", seed)

    def outcome() -> dict[str, str]:
        result = {}
        for agent in fleet.agents():
            said = [e for e in trail(fleet, agent.name) if e.startswith("auto ")]
            if said:
                result[agent.name] = said[-1]
            elif agent.shown.status is Status.NEEDS_INPUT and agent.shown.detail:
                result[agent.name] = f"waiting: {agent.shown.detail}"
        return result

    refused = ("waiting: Bash: git push", "waiting: Bash: rm -rf")

    def settled() -> bool:
        # Every asker either answered by the rule, or waiting on a request the rule leaves to
        # the human (an approval takes a moment after the dialog opens).
        seen = outcome()
        return len(seen) == 8 and all(
            w.startswith(refused) for w in seen.values() if w.startswith("waiting")
        )

    try:
        wait_for(settled, timeout=60, what="every asker approved or waiting on its own")
    except AssertionError:
        trails = {a.name: (a.shown.status.value, trail(fleet, a.name)[-5:]) for a in fleet.agents()}
        raise AssertionError(f"{outcome()}\n{trails}") from None
    for name, what in outcome().items():
        if not what.startswith("waiting: "):
            assert what.startswith("auto (kind=demo tool=Bash command=") and what.endswith(
                "answered 1 (Yes)"
            ), (name, what)
            assert not any(c in what for c in ("git push", "rm -rf")), (name, what)
    assert any(not w.startswith("waiting") for w in outcome().values())


def test_a_new_wait_rings_once_and_notifies_the_desktop(
    repo: Path, engines: list[Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No desktop here: a notify-send on PATH that records its arguments stands in for it.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "notify.log"
    fake = bin_dir / "notify-send"
    fake.write_text(f'#!/bin/sh\nprintf "%s|" "$@" >> {log}\necho >> {log}\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    fleet, engine = start(repo)
    engines.append(engine)
    rung: list[Alert] = []
    fleet.subscribe_alerts(rung.append)
    demo(fleet, "asker", "asker")
    wait_for(
        lambda: fleet.get("asker").shown.status is Status.NEEDS_INPUT, timeout=30, what="dialog"
    )
    wait_for(lambda: any(a.kind is AlertKind.WAITING for a in rung), what="the bell")
    wait_for(lambda: log.exists() and "asker waits for you" in log.read_text(), what="desktop")
    waits = [a for a in rung if a.kind is AlertKind.WAITING]
    assert len(waits) == 1 and waits[0].name == "asker"
    # What the request is about: from its hook, or the dialog's question if the screen was first.
    said = log.read_text()
    assert "-u|critical|asker waits for you (permission)|" in said
    assert "|Bash: " in said or "|Allow demo to run" in said
    # The same wait is not announced again, however often the view changes.
    since = fleet.get("asker").shown.since
    fleet.refresh_view()
    fleet.reload()
    assert len([a for a in rung if a.kind is AlertKind.WAITING]) == 1
    # Answered, it works and then finishes its turn: one "finished" alert.
    fleet.answer("asker", 1)
    wait_for(lambda: any(a.kind is AlertKind.FINISHED for a in rung), timeout=30, what="finished")
    assert fleet.get("asker").shown.since != since
