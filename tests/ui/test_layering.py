"""The UI's imports: Textual and the core only, never the fleet, the agents or the outside world's
wrappers (`TYPE_CHECKING` imports included); each screen's stylesheet beside it."""

from __future__ import annotations

import ast
from pathlib import Path

import app.ui

UI = Path(app.ui.__file__).parent
FORBIDDEN = ("app.infra", "app.fleet", "app.agents", "app.cli")


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, wherever the import statement is."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def test_the_ui_never_imports_the_fleet_agents_or_infra() -> None:
    found = {
        f"{path.relative_to(UI)}: {module}"
        for path in UI.rglob("*.py")
        for module in imported_modules(path)
        if module.startswith(FORBIDDEN)
    }
    assert found == set()


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
