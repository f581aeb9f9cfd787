"""The code base stays lint-clean, formatted and type-checked (strict), like CI expects."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "tool",
    [
        ["ruff", "check", "app", "tests"],
        ["ruff", "format", "--check", "app", "tests"],
        ["mypy"],
    ],
    ids=["ruff-check", "ruff-format", "mypy-strict"],
)
def test_tool_is_clean(tool: list[str]) -> None:
    exe = Path(sys.executable).with_name(tool[0])
    out = subprocess.run([str(exe), *tool[1:]], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
