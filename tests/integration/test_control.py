"""The control-mode connection: commands without subprocesses, and output noticed per pane."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator

import pytest

from app.infra.tmux import TmuxServer
from app.infra.tmux_control import ControlClient, ControlError
from tests.helpers import tmux, wait_for


@pytest.fixture
def server(tmux_socket: str) -> Iterator[TmuxServer]:
    subprocess.run(
        ["tmux", "-L", tmux_socket, "new-session", "-d", "-s", "s", "-x", "80", "-y", "20", "sh"],
        check=True,
    )
    subprocess.run(["tmux", "-L", tmux_socket, "new-window", "-d", "-t", "s:", "sh"], check=True)
    srv = TmuxServer(tmux_socket)
    assert srv.connect("s")
    yield srv
    srv.disconnect()


def pane_ids(socket: str) -> list[str]:
    return tmux(socket, "list-panes", "-a", "-F", "#{pane_id}").split()


def test_commands_answer_like_the_command_line(server: TmuxServer, tmux_socket: str) -> None:
    assert server.control is not None
    out = server.control.command("list-panes", "-a", "-F", "#{pane_id} it's #{session_name}")
    assert out == [f"{p} it's s" for p in pane_ids(tmux_socket)]
    with pytest.raises(ControlError, match="failed"):
        server.control.command("select-window", "-t", "@999")


def test_output_marks_a_pane_once_per_look_even_when_it_floods(
    server: TmuxServer, tmux_socket: str
) -> None:
    quiet, busy = pane_ids(tmux_socket)
    server.take_dirty()
    subprocess.run(
        [
            "tmux",
            "-L",
            tmux_socket,
            "send-keys",
            "-t",
            busy,
            "i=0; while [ $i -lt 30000 ]; do echo line $i; i=$((i+1)); done; echo DONE",
            "Enter",
        ],
        check=True,
    )
    seen = wait_for(lambda: server.take_dirty(), what="output noticed")
    assert seen == {busy}
    # While it floods, every look finds it dirty again; once it stops, nothing more comes.
    wait_for(lambda: "DONE" in server.capture(busy), timeout=20, what="flood to end")
    server.take_dirty()
    wait_for(lambda: server.take_dirty() == set(), what="quiet after the flood")
    assert quiet not in (server.take_dirty() or set())


def test_queries_fall_back_to_subprocesses_when_the_connection_is_gone(
    server: TmuxServer, tmux_socket: str
) -> None:
    subprocess.run(["tmux", "-L", tmux_socket, "detach-client", "-s", "s"], check=True)
    assert server.control is not None
    wait_for(lambda: server.control is not None and not server.control.alive, what="closed")
    assert server.take_dirty() is None
    assert "%0" in server.capture("%0") or server.capture("%0") is not None
    assert server.connect("s")  # and it can be opened again


def test_a_connection_to_a_missing_session_fails_cleanly(tmux_socket: str) -> None:
    subprocess.run(["tmux", "-L", tmux_socket, "new-session", "-d", "-s", "other"], check=True)
    with pytest.raises(ControlError, match="cannot open"):
        ControlClient(shutil.which("tmux") or "tmux", tmux_socket, "missing")
