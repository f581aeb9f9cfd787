"""Pre-trusting agent worktrees: each new worktree is a new folder to every CLI, which would ask
"do you trust this folder?" first. With the repository's opt-in, Quarterdeck writes that CLI's own
trust record for the new path, and removes it with the worktree.

Each CLI keeps trust in its own file, which Quarterdeck edits surgically (one entry, written
atomically) and never rewrites when it cannot parse it:

- Claude Code: ``projects.<path>.hasTrustDialogAccepted`` in ``.claude.json`` (in
  ``CLAUDE_CONFIG_DIR``, else the home folder);
- Gemini CLI: ``<path>: "TRUST_FOLDER"`` in ``~/.gemini/trustedFolders.json``;
- Codex: a ``[projects."<path>"]`` table with ``trust_level = "trusted"`` in
  ``$CODEX_HOME/config.toml`` (default ``~/.codex``).
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any

TRUSTING_KINDS = ("claude", "gemini", "codex")
_CODEX_MARK = "# added by quarterdeck for an agent worktree"


def _home() -> Path:
    return Path(os.environ.get("HOME") or Path.home())


def claude_config_file() -> Path:
    """Claude Code's ``.claude.json``."""
    configured = os.environ.get("CLAUDE_CONFIG_DIR")
    return (Path(configured) if configured else _home()) / ".claude.json"


def gemini_trust_file() -> Path:
    """Gemini CLI's trusted folders."""
    return _home() / ".gemini" / "trustedFolders.json"


def codex_config_file() -> Path:
    """Codex's ``config.toml``."""
    configured = os.environ.get("CODEX_HOME")
    return (Path(configured) if configured else _home() / ".codex") / "config.toml"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.quarterdeck.{os.getpid()}")
    tmp.write_text(text)
    if path.exists():
        os.chmod(tmp, path.stat().st_mode & 0o777)
    tmp.replace(path)


def _load_json(path: Path) -> dict[str, Any] | None:
    """The file's object; {} when it does not exist; None when it cannot be understood."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _claude(path: str, trust: bool) -> bool:
    file = claude_config_file()
    data = _load_json(file)
    if data is None:
        return False
    projects = data.setdefault("projects", {})
    if not isinstance(projects, dict):
        return False
    if trust:
        entry = projects.setdefault(path, {})
        if not isinstance(entry, dict):
            return False
        entry["hasTrustDialogAccepted"] = True
    elif path in projects:
        del projects[path]
    else:
        return True
    _write(file, json.dumps(data, indent=2) + "\n")
    return True


def _gemini(path: str, trust: bool) -> bool:
    file = gemini_trust_file()
    data = _load_json(file)
    if data is None:
        return False
    if trust:
        data[path] = "TRUST_FOLDER"
    elif path in data:
        del data[path]
    else:
        return True
    _write(file, json.dumps(data, indent=2) + "\n")
    return True


def _codex_block(path: str) -> str:
    return f'\n{_CODEX_MARK}\n[projects.{json.dumps(path)}]\ntrust_level = "trusted"\n'


def _codex(path: str, trust: bool) -> bool:
    file = codex_config_file()
    try:
        text = file.read_text() if file.exists() else ""
        parsed = tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError):
        return False
    block = _codex_block(path)
    if trust:
        if path in parsed.get("projects", {}):
            return True  # the user's own entry stays as it is
        _write(file, text + block)
    elif block in text:
        _write(file, text.replace(block, "", 1))
    return True


_WRITERS = {"claude": _claude, "gemini": _gemini, "codex": _codex}


def set_trust(kind: str, worktree: Path, trust: bool) -> bool:
    """Record (or withdraw) the CLI's trust in ``worktree``. False when the CLI's file could not
    be understood (it is then left untouched); True when done or nothing was needed."""
    writer = _WRITERS.get(kind)
    return True if writer is None else writer(str(worktree), trust)
