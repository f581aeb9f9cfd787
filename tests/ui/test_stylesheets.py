"""Each screen's stylesheet beside it, and none left over. (What the UI may import is checked
for every layer in `tests/test_layering.py`.)"""

from __future__ import annotations

import ast
from pathlib import Path

import app.ui

UI = Path(app.ui.__file__).parent


def test_every_stylesheet_named_by_a_screen_is_beside_it() -> None:
    named = {
        path.parent / node.value.value
        for path in UI.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "CSS_PATH" for t in node.targets)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    }
    assert named, "no screen names a stylesheet"
    assert [p for p in named if not p.is_file()] == []
    assert set(UI.rglob("*.tcss")) == named
