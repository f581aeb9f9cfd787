"""The layers of `app` import downwards only, and the use cases import each other without cycles.

Read from the source (every import statement, those under ``if TYPE_CHECKING:`` and inside
functions included), so a cycle hidden from the interpreter still fails here.

- ``app.core``: the standard library and ``app.core`` only.
- ``app.infra``: thin wrappers; never ``app.agents``, ``app.fleet``, ``app.ui`` or ``app.cli``.
- ``app.agents``: per-CLI knowledge over ``core`` and ``infra``; never ``fleet``, ``ui``, ``cli``.
- ``app.fleet``: use cases over ``core``, ``infra`` and ``agents``; never ``ui`` or ``cli``.
- ``app.ui``: Textual over ``core`` (its ports and view models); never ``infra``, ``agents``,
  ``fleet`` or ``cli``.
- ``app.demo`` (the demo agent, a program of its own): ``core`` and itself only.
- ``app.cli``: the entry point; it may import every layer.

Within ``app.fleet`` only the engine holds the façade (`app.fleet.fleet`): the use cases get
their collaborators, never the whole fleet. And no module of ``app`` is over 500 lines without
saying why at its top (a docstring paragraph starting ``Why one long module:``).
"""

from __future__ import annotations

import ast
import functools
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "app"

#: For each layer, the app layers it must never import.
FORBIDDEN: dict[str, frozenset[str]] = {
    "core": frozenset({"infra", "agents", "fleet", "ui", "cli", "demo"}),
    "infra": frozenset({"agents", "fleet", "ui", "cli", "demo"}),
    "agents": frozenset({"fleet", "ui", "cli", "demo"}),
    "fleet": frozenset({"ui", "cli"}),
    "ui": frozenset({"infra", "agents", "fleet", "cli", "demo"}),
    "demo": frozenset({"infra", "agents", "fleet", "ui", "cli"}),
}
#: Packages whose modules must not import each other in a cycle.
ACYCLIC = ("core", "infra", "agents", "fleet", "ui", "cli")
#: Outside libraries each of which only one layer may use: the wrappers over git, tmux and file
#: watching are `infra`; Textual and Rich are the `ui`'s.
LIBRARY_LAYER = {"git": "infra", "libtmux": "infra", "watchfiles": "infra", "textual": "ui"}
LIBRARY_LAYER["rich"] = "ui"
MAX_LINES = 500
LONG_REASON = "Why one long module:"


def module_name(path: Path, root: Path) -> str:
    """``app.fleet.spawn`` for ``<root>/fleet/spawn.py`` (``app.fleet`` for its __init__)."""
    parts = [root.name, *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@functools.cache
def _nodes(path: Path, text: str) -> tuple[ast.AST, ...]:
    return tuple(ast.walk(ast.parse(text, str(path))))


def parsed(path: Path) -> tuple[ast.AST, ...]:
    """Every node of ``path``'s syntax tree (parsed once per text: each test reads the tree)."""
    return _nodes(path, path.read_text())


def imports_of(path: Path, root: Path, *, names: bool = False) -> Iterator[tuple[int, str]]:
    """Every module ``path`` imports (absolute names), with the line it does so on; with
    ``names``, also ``pkg.name`` for each ``from pkg import name`` (it may be a module)."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in parsed(path):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            yield node.lineno, target
            for alias in node.names if names else ():
                yield node.lineno, f"{target}.{alias.name}"


def graph(root: Path) -> dict[str, dict[str, int]]:
    """Module → the modules of the same tree it imports → the first line it does so."""
    modules = {module_name(p, root): p for p in sorted(root.rglob("*.py"))}
    edges: dict[str, dict[str, int]] = {}
    for name, path in modules.items():
        out: dict[str, int] = {}
        for line, target in imports_of(path, root, names=True):
            if target in modules and target != name:
                out.setdefault(target, line)
        edges[name] = out
    return edges


def layer_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def layering_violations(root: Path) -> list[str]:
    """Imports that point up or sideways across the layers, and stray third-party imports in
    the pure core."""
    found = []
    stdlib = sys.stdlib_module_names
    for path in sorted(root.rglob("*.py")):
        name = module_name(path, root)
        layer = layer_of(name)
        for line, target in imports_of(path, root):
            top = target.split(".")[0]
            if top == root.name:
                if layer_of(target) in FORBIDDEN.get(layer, frozenset()):
                    found.append(f"{path.relative_to(root.parent)}:{line} imports {target}")
            elif layer in ("core", "demo") and top not in stdlib and top != "__future__":
                found.append(f"{path.relative_to(root.parent)}:{line} imports {target}")
    return sorted(set(found))


def cycles(root: Path, package: str) -> list[list[str]]:
    """Import cycles among the modules of ``app.<package>`` (each cycle once)."""
    prefix = f"{root.name}.{package}"
    edges = {
        m: [t for t in out if t.startswith(prefix)]
        for m, out in graph(root).items()
        if m.startswith(prefix)
    }
    found: list[list[str]] = []
    seen: set[frozenset[str]] = set()

    def visit(node: str, path: list[str]) -> None:
        for nxt in edges.get(node, []):
            if nxt in path:
                cycle = path[path.index(nxt) :]
                if frozenset(cycle) not in seen:
                    seen.add(frozenset(cycle))
                    found.append([*cycle, nxt])
            elif len(path) < 12:
                visit(nxt, [*path, nxt])

    for start in sorted(edges):
        visit(start, [start])
    return found


def test_the_layers_import_downwards_only() -> None:
    assert layering_violations(ROOT) == []


@pytest.mark.parametrize("package", ACYCLIC)
def test_no_import_cycles_within(package: str) -> None:
    assert [" → ".join(c) for c in cycles(ROOT, package)] == []


def library_violations(root: Path) -> list[str]:
    """Imports of git, libtmux, watchfiles, Textual or Rich outside the layer that wraps them."""
    found = []
    for path in sorted(root.rglob("*.py")):
        layer = layer_of(module_name(path, root))
        for line, target in imports_of(path, root):
            owner = LIBRARY_LAYER.get(target.split(".")[0])
            if owner is not None and owner != layer:
                found.append(f"{path.relative_to(root.parent)}:{line} imports {target}")
    return found


def test_outside_libraries_stay_in_the_layer_that_wraps_them() -> None:
    assert library_violations(ROOT) == []


def test_only_the_engine_holds_the_facade() -> None:
    holders = {
        module
        for module, targets in graph(ROOT).items()
        if module.startswith("app.fleet.") and "app.fleet.fleet" in targets
    }
    assert holders == {"app.fleet.engine"}


def test_no_module_is_long_without_saying_why() -> None:
    long = []
    for path in sorted(ROOT.rglob("*.py")):
        text = path.read_text()
        module = parsed(path)[0]
        assert isinstance(module, ast.Module)
        doc = ast.get_docstring(module) or ""
        if text.count("\n") > MAX_LINES and LONG_REASON not in doc:
            long.append(f"{path.relative_to(ROOT.parent)}: {text.count(chr(10))} lines")
    assert long == []


def test_every_layer_is_there() -> None:
    layers = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert set(FORBIDDEN) | {"cli"} <= layers


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_checks_catch_an_upward_import_a_hidden_cycle_and_a_third_party_core(
    tmp_path: Path,
) -> None:
    root = write(
        tmp_path / "app",
        {
            "__init__.py": "",
            "core/__init__.py": "",
            "core/model.py": "import textual\nimport json\n",
            "ui/__init__.py": "",
            "ui/view.py": "from app.fleet.spawn import Spawn\n",
            "fleet/__init__.py": "",
            "fleet/spawn.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from app.fleet.teardown import Teardown\n"
            ),
            "fleet/teardown.py": "from . import spawn\n",
            "infra/__init__.py": "",
            "infra/db.py": "def f():\n    from app.fleet import spawn\n",
        },
    )
    assert layering_violations(root) == [
        "app/core/model.py:1 imports textual",
        "app/infra/db.py:2 imports app.fleet",
        "app/ui/view.py:1 imports app.fleet.spawn",
    ]
    assert cycles(root, "fleet") == [["app.fleet.spawn", "app.fleet.teardown", "app.fleet.spawn"]]
    assert library_violations(root) == ["app/core/model.py:1 imports textual"]
    assert cycles(root, "core") == []
