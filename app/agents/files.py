"""Editing an agent CLI's own files: one entry at a time, written atomically, never a file that
cannot be parsed."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one step, keeping its permissions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.quarterdeck.{os.getpid()}")
    tmp.write_text(text)
    if path.exists():
        os.chmod(tmp, path.stat().st_mode & 0o777)
    tmp.replace(path)


def load_json_object(path: Path) -> dict[str, Any] | None:
    """The file's object; {} when it does not exist; None when it cannot be understood."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` back as a CLI's own JSON file is kept (indented)."""
    write_atomically(path, json.dumps(data, indent=2) + "\n")
