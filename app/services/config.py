"""Configuration: built-in agent profiles, the user's and the repository's settings, and paths."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from app.core.errors import UsageError
from app.core.profiles import AgentProfile, parse_profiles

DEFAULT_SOCKET = "quarterdeck"


def _xdg(var: str, default: str) -> Path:
    value = os.environ.get(var)
    return Path(value) if value else Path.home() / default


def config_home() -> Path:
    """``$XDG_CONFIG_HOME/quarterdeck``."""
    return _xdg("XDG_CONFIG_HOME", ".config") / "quarterdeck"


def data_home() -> Path:
    """``$XDG_DATA_HOME/quarterdeck``: worktrees and demo repositories live here by default."""
    return _xdg("XDG_DATA_HOME", ".local/share") / "quarterdeck"


def tmux_socket_name() -> str:
    """The private tmux server's socket name (``QUARTERDECK_TMUX_SOCKET`` overrides it)."""
    return os.environ.get("QUARTERDECK_TMUX_SOCKET") or DEFAULT_SOCKET


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not valid TOML: {exc}") from exc


@dataclass(frozen=True)
class Settings:
    """Effective settings for one repository."""

    branch_prefix: str = "qd/"
    return_key: str = "C-q"
    default_agent: str = "demo"
    worktree_root: Path | None = None
    profiles: dict[str, AgentProfile] = field(default_factory=dict)


_KNOWN_KEYS = {"branch_prefix", "return_key", "default_agent", "worktree_root", "agents"}


def load_settings(repo_root: Path | None = None) -> Settings:
    """Built-in defaults, then ``~/.config/quarterdeck/config.toml``, then ``.quarterdeck.toml``."""
    builtin = tomllib.loads(
        resources.files("app.profiles").joinpath("agents.toml").read_text(encoding="utf-8")
    )
    agents: dict[str, Any] = dict(builtin)
    merged: dict[str, Any] = {}
    sources = [config_home() / "config.toml"]
    if repo_root is not None:
        sources.append(repo_root / ".quarterdeck.toml")
    for path in sources:
        data = _read_toml(path)
        unknown = set(data) - _KNOWN_KEYS
        if unknown:
            raise UsageError(f"{path}: unknown setting(s) {', '.join(sorted(unknown))}")
        for kind, table in dict(data.get("agents", {})).items():
            agents[kind] = {**agents.get(kind, {}), **table}
        merged.update({k: v for k, v in data.items() if k != "agents"})
    prefix = str(merged.get("branch_prefix", "qd/"))
    if not prefix or " " in prefix or ".." in prefix:
        raise UsageError(f"branch_prefix {prefix!r} is not usable in a git branch name")
    root = merged.get("worktree_root")
    return Settings(
        branch_prefix=prefix,
        return_key=str(merged.get("return_key", "C-q")),
        default_agent=str(merged.get("default_agent", "demo")),
        worktree_root=Path(os.path.expanduser(str(root))) if root else None,
        profiles=parse_profiles(agents),
    )
