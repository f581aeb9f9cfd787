"""Attaching a terminal to an agent's pane and coming back with the return key."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import pytest

from app.core.agent import SpawnRequest
from app.core.status import Status
from app.fleet.fleet import Fleet
from tests.helpers import tmux, wait_for


def screen(socket: str) -> str:
    return tmux(socket, "capture-pane", "-p", "-t", "term")


def test_attach_to_an_agent_type_to_it_and_return(
    repo: Path, tmux_socket: str, terminal: str
) -> None:
    fleet = Fleet.open(repo)
    fleet.spawn(SpawnRequest(prompt="", kind="shell", name="target"))
    wait_for(lambda: (fleet.sweep(), fleet.get("target").shown.status is Status.IDLE)[1])
    argv = fleet.attach("target")
    assert argv is not None
    # The user's terminal runs the attach command, then shows that it came back.
    command = shlex.join(argv) + "; echo BACK-IN-TERMINAL; sleep 60"
    subprocess.run(
        [
            "tmux",
            "-L",
            terminal,
            "new-session",
            "-d",
            "-s",
            "term",
            "-x",
            "120",
            "-y",
            "30",
            command,
        ],
        check=True,
    )
    wait_for(
        lambda: "target" in screen(terminal) and "qd:" in screen(terminal),
        what="the agent's window with the quarterdeck status line",
    )
    # Fully interactive: what the user types reaches the agent.
    subprocess.run(
        ["tmux", "-L", terminal, "send-keys", "-t", "term", "-l", "echo typed-$((6*7))"], check=True
    )
    subprocess.run(["tmux", "-L", terminal, "send-keys", "-t", "term", "Enter"], check=True)
    wait_for(
        lambda: "typed-42" in fleet.tmux.capture(fleet.get("target").placement.pane_id),
        what="typed text to run in the agent's pane",
    )
    # The return key hands the terminal back; the viewer session goes away, the agent stays.
    subprocess.run(["tmux", "-L", terminal, "send-keys", "-t", "term", "C-q"], check=True)
    wait_for(lambda: "BACK-IN-TERMINAL" in screen(terminal), what="return to the terminal")
    sessions = tmux(tmux_socket, "list-sessions", "-F", "#{session_name}").split()
    assert sessions == [fleet.session]
    assert fleet.get("target").placement.window_id in tmux(
        tmux_socket, "list-windows", "-a", "-F", "#{window_id}"
    )


def test_hosted_dashboard_attach_selects_the_window(
    repo: Path, tmux_socket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fleet = Fleet.open(repo)
    fleet.spawn(SpawnRequest(prompt="", kind="shell", name="w1"))
    monkeypatch.setenv("QUARTERDECK_HOSTED", fleet.session)
    hosted = Fleet.open(repo)
    assert hosted.attach("w1") is None
    active = tmux(tmux_socket, "display-message", "-p", "-t", fleet.session, "#{window_id}").strip()
    assert active == fleet.get("w1").placement.window_id


def test_quitting_the_hosted_dashboard_detaches_terminals_not_engines(
    repo: Path, tmux_socket: str, terminal: str
) -> None:
    fleet = Fleet.open(repo)
    fleet.spawn(SpawnRequest(prompt="", kind="shell", name="w"))
    assert fleet.tmux.connect(fleet.session)
    argv = fleet.hosting.attach_argv()
    subprocess.run(
        [
            "tmux",
            "-L",
            terminal,
            "new-session",
            "-d",
            "-s",
            "term",
            "-x",
            "100",
            "-y",
            "30",
            shlex.join(argv) + "; echo DETACHED; sleep 60",
        ],
        check=True,
    )
    wait_for(lambda: len(tmux(tmux_socket, "list-clients").splitlines()) == 2, what="2 clients")
    fleet.hosting.detach_terminals()
    wait_for(lambda: "DETACHED" in screen(terminal), what="the terminal to be detached")
    assert fleet.tmux.control is not None and fleet.tmux.control.alive
    fleet.tmux.disconnect()


def test_the_launcher_starts_the_dashboard_in_window_0_once(repo: Path, tmux_socket: str) -> None:
    fleet = Fleet.open(repo)
    hosting = fleet.hosting
    hosting.ensure_session()
    window0 = f"={fleet.session}:0"
    # Until a dashboard runs, window 0 shows how to start one.
    assert not hosting.dashboard_running()
    wait_for(
        lambda: (
            "dashboard is not running here"
            in tmux(tmux_socket, "capture-pane", "-p", "-t", window0)
        ),
        what="the placeholder",
    )
    assert hosting.launch(os.environ) == hosting.attach_argv()
    assert hosting.dashboard_running()
    shown = tmux(tmux_socket, "display-message", "-p", "-t", window0, "#{pane_start_command}")
    assert "dashboard --hosted" in shown
    pid = tmux(tmux_socket, "display-message", "-p", "-t", window0, "#{pane_pid}")
    # Launching again re-attaches: the running dashboard is not restarted.
    hosting.launch(os.environ)
    assert tmux(tmux_socket, "display-message", "-p", "-t", window0, "#{pane_pid}") == pid
