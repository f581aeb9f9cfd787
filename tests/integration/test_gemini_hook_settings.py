"""Gemini CLI skips a system settings file (and the hooks in it) unless the file and every folder
above it are root's and writable by no one else: Quarterdeck says so before it matters."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.agents.gemini import settings_refusal
from app.fleet.demo import create_demo_repository
from app.infra.settings import data_home

QD = str(Path(sys.executable).with_name("quarterdeck"))


def test_a_world_writable_folder_above_the_settings_refuses_them(tmp_path: Path) -> None:
    file = tmp_path / "hooks" / "gemini-system-settings.json"
    file.parent.mkdir()
    file.write_text("{}")
    reason = settings_refusal(file)
    assert reason is not None
    if os.getuid() == 0:
        # Everything below /tmp is root's here: the first refusal is /tmp's mode, as Gemini says.
        assert reason == "folder /tmp is writable by group or others (mode 1777)"
    else:
        assert "is not owned by root" in reason


@pytest.mark.skipif(os.getuid() != 0, reason="only root's folders pass Gemini's check")
def test_root_owned_folders_pass() -> None:
    assert settings_refusal(Path("/etc/gemini-cli/settings.json")) is None


def test_new_warns_that_gemini_will_skip_its_hooks(repo: Path) -> None:
    stand_in = "sh -c 'exec tail -f /dev/null'"
    out = subprocess.run(
        [QD, "-C", str(repo), "new", "", "--agent", "gemini", "--name", "g", "--command", stand_in],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "warning: Gemini CLI will skip its hook settings" in out.stderr
    assert "status is read from the screen alone" in out.stderr


def test_the_demo_repository_is_not_made_under_tmp() -> None:
    root = create_demo_repository()
    assert root.parent == data_home() / "demo"
