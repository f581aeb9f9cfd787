"""app/core must stay standard library only (architecture: layers import downwards)."""

import pkgutil
import subprocess
import sys

import app.core

FORBIDDEN = ("textual", "rich", "libtmux", "git", "watchfiles")
UPPER = ("app.infra", "app.fleet", "app.agents", "app.cli", "app.ui")


def test_core_modules_import_nothing_but_the_standard_library() -> None:
    modules = [f"app.core.{m.name}" for m in pkgutil.iter_modules(app.core.__path__)]
    assert len(modules) >= 8
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"bad = sorted(n for n in sys.modules if n.split('.')[0] in {FORBIDDEN!r} "
        f"or n.startswith({UPPER!r}))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
