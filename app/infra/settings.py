"""Configuration: built-in agent profiles (``app/agents/*.toml``), the user's and the
repository's settings, and paths."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from app.core.answers import AutoApproveRule
from app.core.errors import UsageError
from app.core.landing import MergeStrategy
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
class NotifySettings:
    """How the human hears that an agent waits or finished: the terminal bell, a message on
    the fleet's tmux clients, a desktop notification (``notify-send``, when installed)."""

    bell: bool = True
    tmux: bool = True
    desktop: bool = True
    #: Also when an agent finishes its turn or exits, not only when it starts waiting.
    finished: bool = True


#: The values of the ``restore`` setting.
RESTORE_MODES = ("ask", "auto", "off")


@dataclass(frozen=True)
class Settings:
    """Effective settings for one repository."""

    branch_prefix: str = "qd/"
    return_key: str = "C-q"
    next_waiting_key: str = "M-n"
    default_agent: str = "demo"
    worktree_root: Path | None = None
    profiles: dict[str, AgentProfile] = field(default_factory=dict)
    auto_approve: tuple[AutoApproveRule, ...] = ()
    notify: NotifySettings = field(default_factory=NotifySettings)
    #: The check command (run with ``sh -c`` in an agent's worktree), e.g. ``pytest -q``.
    check: str = ""
    #: Per-agent check commands (``[checks]`` table: agent name = command), over `check`.
    checks: dict[str, str] = field(default_factory=dict)
    #: How `merge` lands a branch unless told otherwise.
    merge_strategy: MergeStrategy = MergeStrategy.MERGE
    #: How many task attempts may run at once in the repository (``[tasks] max_running``).
    max_running: int = field(default_factory=lambda: default_max_running())
    #: What opening the dashboard does with agents whose windows went away (their tmux server
    #: gone): ``ask`` (offer to restore them), ``auto`` (restore them) or ``off``.
    restore: str = "ask"

    def check_command(self, agent_name: str) -> str:
        """The check command for an agent ('' when none is set)."""
        return self.checks.get(agent_name, self.check).strip()


_KNOWN_KEYS = {
    "restore",
    "check",
    "checks",
    "merge_strategy",
    "branch_prefix",
    "return_key",
    "next_waiting_key",
    "default_agent",
    "worktree_root",
    "agents",
    "auto_approve",
    "notify",
    "tasks",
}


def default_max_running(cpus: int | None = None) -> int:
    """Task attempts at once when the settings do not say: two per core, 2 to 8 (an agent
    mostly waits on its model; its tools and checks use the machine)."""
    return max(2, min(8, 2 * (cpus or os.cpu_count() or 1)))


def _tasks(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise UsageError(f"{where}: tasks must be a table ([tasks])")
    unknown = set(raw) - {"max_running"}
    if unknown:
        raise UsageError(f"{where}: tasks: unknown {', '.join(sorted(unknown))}")
    value = raw.get("max_running", 1)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise UsageError(f"{where}: tasks.max_running must be a whole number of at least 1")
    return dict(raw)


def _auto_approve(raw: Any, where: str) -> tuple[AutoApproveRule, ...]:
    """``[[auto_approve]]`` tables: ``kind`` and ``tool`` (default ``*``), ``command`` (a
    regular expression matched from the start of the command or path; required)."""
    if not isinstance(raw, list):
        raise UsageError(f"{where}: auto_approve must be a list of tables ([[auto_approve]])")
    rules = []
    for n, table in enumerate(raw, 1):
        if not isinstance(table, dict) or not isinstance(table.get("command"), str):
            raise UsageError(f'{where}: auto_approve rule {n} needs command = "<regex>"')
        unknown = set(table) - {"kind", "tool", "command"}
        if unknown:
            raise UsageError(
                f"{where}: auto_approve rule {n}: unknown {', '.join(sorted(unknown))}"
            )
        try:
            pattern = re.compile(table["command"])
        except re.error as exc:
            raise UsageError(f"{where}: auto_approve rule {n}: bad command regex: {exc}") from exc
        rules.append(
            AutoApproveRule(
                kind=str(table.get("kind", "*")), tool=str(table.get("tool", "*")), command=pattern
            )
        )
    return tuple(rules)


def _notify(raw: Any, where: str) -> NotifySettings:
    if not isinstance(raw, dict):
        raise UsageError(f"{where}: notify must be a table ([notify])")
    known = {"bell", "tmux", "desktop", "finished"}
    unknown = set(raw) - known
    if unknown:
        raise UsageError(f"{where}: notify: unknown {', '.join(sorted(unknown))}")
    for key, value in raw.items():
        if not isinstance(value, bool):
            raise UsageError(f"{where}: notify.{key} must be true or false")
    return NotifySettings(**raw)


def _checks(raw: Any, where: str) -> dict[str, str]:
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise UsageError(f'{where}: checks must be a table of agent name = "command" ([checks])')
    return {str(k): v for k, v in raw.items()}


def builtin_agents(folder: Traversable | None = None) -> dict[str, dict[str, Any]]:
    """The built-in agent kinds: one rules file per kind, ``app/agents/<kind>.toml``, by kind.

    Read as data (the folder of the `app.agents` package, found without importing it: the
    adapters there stand above this layer)."""
    folder = folder or resources.files("app").joinpath("agents")
    kinds = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml") and entry.is_file():
            kind = entry.name.removesuffix(".toml")
            try:
                kinds[kind] = tomllib.loads(entry.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise UsageError(f"{entry.name}: not valid TOML: {exc}") from exc
    return kinds


def builtin_profiles() -> dict[str, AgentProfile]:
    """The built-in agent kinds, parsed (no user or repository settings)."""
    return parse_profiles(builtin_agents())


def _check_names(
    profiles: dict[str, AgentProfile], builtin: dict[str, dict[str, Any]]
) -> dict[str, AgentProfile]:
    """Every hook dialect and status file a profile names is one a built-in kind provides (the
    module named after it speaks that dialect, reads that file)."""
    offered = {
        key: {"", *(str(table.get(key, "")) for table in builtin.values())}
        for key in ("hooks", "status_file")
    }
    for kind, profile in profiles.items():
        for key, value in (("hooks", profile.hooks), ("status_file", profile.status_file)):
            if value not in offered[key]:
                known = ", ".join(repr(a) for a in sorted(offered[key]) if a)
                raise UsageError(f"agent {kind!r} {key}: {value!r} is not one of {known}")
    return profiles


def config_files(repo_root: Path | None = None) -> list[Path]:
    """The configuration files, the nearest last: the user's, then the repository's."""
    files = [config_home() / "config.toml"]
    if repo_root is not None:
        files.append(repo_root / ".quarterdeck.toml")
    return files


def load_settings(repo_root: Path | None = None) -> Settings:
    """Built-in defaults, then ``~/.config/quarterdeck/config.toml``, then ``.quarterdeck.toml``."""
    builtin = builtin_agents()
    agents: dict[str, Any] = dict(builtin)
    merged: dict[str, Any] = {}
    rules: tuple[AutoApproveRule, ...] = ()
    notify: dict[str, Any] = {}
    checks: dict[str, str] = {}
    tasks: dict[str, Any] = {}
    for path in config_files(repo_root):
        data = _read_toml(path)
        unknown = set(data) - _KNOWN_KEYS
        if unknown:
            raise UsageError(f"{path}: unknown setting(s) {', '.join(sorted(unknown))}")
        for kind, table in dict(data.get("agents", {})).items():
            agents[kind] = {**agents.get(kind, {}), **table}
        if "auto_approve" in data:
            rules = _auto_approve(data["auto_approve"], str(path))  # the nearest file's list
        if "notify" in data:
            _notify(data["notify"], str(path))
            notify.update(data["notify"])
        if "tasks" in data:
            tasks.update(_tasks(data["tasks"], str(path)))
        if "checks" in data:
            checks.update(_checks(data["checks"], str(path)))
        if "check" in data and not isinstance(data["check"], str):
            raise UsageError(f'{path}: check must be a command in quotes: check = "pytest -q"')
        merged.update({k: v for k, v in data.items() if k not in ("agents", "auto_approve")})
    prefix = str(merged.get("branch_prefix", "qd/"))
    if not prefix or " " in prefix or ".." in prefix:
        raise UsageError(f"branch_prefix {prefix!r} is not usable in a git branch name")
    root = merged.get("worktree_root")
    strategy = str(merged.get("merge_strategy", MergeStrategy.MERGE.value))
    if strategy not in {s.value for s in MergeStrategy}:
        known = ", ".join(s.value for s in MergeStrategy)
        raise UsageError(f"merge_strategy {strategy!r} is not one of {known}")
    restore = str(merged.get("restore", "ask"))
    if restore not in RESTORE_MODES:
        raise UsageError(f"restore {restore!r} is not one of {', '.join(RESTORE_MODES)}")
    return Settings(
        restore=restore,
        branch_prefix=prefix,
        return_key=str(merged.get("return_key", "C-q")),
        next_waiting_key=str(merged.get("next_waiting_key", "M-n")),
        default_agent=str(merged.get("default_agent", "demo")),
        worktree_root=Path(os.path.expanduser(str(root))) if root else None,
        profiles=_check_names(parse_profiles(agents), builtin),
        auto_approve=rules,
        notify=_notify(notify, "notify"),
        check=str(merged.get("check", "")),
        checks=checks,
        merge_strategy=MergeStrategy(strategy),
        max_running=int(tasks.get("max_running", default_max_running())),
    )
