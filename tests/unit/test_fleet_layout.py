"""The use cases in `app/fleet` import each other without cycles — `TYPE_CHECKING` imports
included — so none reaches back into the façade that wires them; and each stays small."""

from __future__ import annotations

import ast
from pathlib import Path

FLEET = Path(__file__).resolve().parents[2] / "app" / "fleet"
#: Imports that may point back at the façade (none).
PENDING: set[tuple[str, str]] = set()
#: Modules allowed over the size limit without saying why (none).
LARGE: set[str] = set()
MAX_LINES = 500


def _imports(path: Path) -> set[str]:
    """The `app.fleet` modules a module imports, wherever the import stands."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[:2] == ["app", "fleet"] and len(parts) > 2:
                found.add(parts[2])
    return found


def _graph() -> dict[str, set[str]]:
    modules = {p.stem: p for p in FLEET.glob("*.py") if p.stem != "__init__"}
    return {
        name: {m for m in _imports(path) if m in modules and (name, m) not in PENDING} - {name}
        for name, path in modules.items()
    }


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle, as the modules along it, or [] when there is none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return []


def test_the_cycle_finder_finds_cycles() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set(), "c": {"b"}}) == []


def test_no_import_cycle_among_the_fleet_modules() -> None:
    graph = _graph()
    assert graph.get("fleet"), "the façade imports the use cases it wires"
    assert _cycle(graph) == []


def test_no_use_case_imports_the_facade() -> None:
    graph = _graph()
    # Only the engine, which drives the whole fleet, may hold the façade.
    assert {name for name, deps in graph.items() if "fleet" in deps} <= {"engine"}


def test_fleet_modules_stay_small_or_say_why() -> None:
    too_big = []
    for path in FLEET.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        doc = ast.get_docstring(ast.parse(text)) or ""
        if text.count("\n") > MAX_LINES and path.stem not in LARGE and "lines" not in doc:
            too_big.append(path.stem)
    assert too_big == []
