"""Gemini CLI: hooks in a system settings file named by ``GEMINI_CLI_SYSTEM_SETTINGS_PATH``, its
trust record in ``~/.gemini/trustedFolders.json``, and the tokens its chats
(``~/.gemini/tmp/<project>/chats/session-*.jsonl``) record.

Gemini CLI 0.61 reads a system settings file only when the file and every folder above it are
owned by root and writable by nobody else (``Security Warning: Skipping system settings file …:
Parent directory '/tmp' is insecure``); otherwise it starts without the file, hooks and all.
`settings_refusal` says ahead of time whether it will.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from app.agents.base import AgentAdapter, Env, Launch, Setup, environ, home, under
from app.agents.files import load_json_object, write_json
from app.agents.hooks import HookInstaller
from app.agents.usage import JsonTally, dig, folders, iso_time, number, tokens_in
from app.core.doctor import Finding, first_set, note
from app.core.signals import reading_from_request
from app.core.status import Evidence, Reading, Status

GEMINI_EVENTS = (
    "SessionStart",
    "BeforeAgent",
    "BeforeTool",
    "AfterTool",
    "AfterAgent",
    "Notification",
    "SessionEnd",
)
GEMINI_SYSTEM_SETTINGS = Path("/etc/gemini-cli/settings.json")
#: The system settings file made for the agents (in Quarterdeck's hooks folder).
SETTINGS_NAME = "gemini-system-settings.json"

# `Notification` with ToolPermission fires at once when a dialog opens (read apart).
# `SessionStart` fires before the input box is drawn: it says nothing of the status.
_EVENTS: dict[str, Status] = {
    "BeforeAgent": Status.WORKING,
    "BeforeTool": Status.WORKING,
    "AfterTool": Status.WORKING,
    "AfterAgent": Status.IDLE,
}


def gemini_dir(env: Env = None) -> Path:
    """Gemini CLI's folder: ``.gemini`` in ``GEMINI_CLI_HOME``, else in the home folder."""
    configured = environ(env).get("GEMINI_CLI_HOME")
    return (Path(configured) if configured else home(env)) / ".gemini"


def chats(worktree: Path, env: Env = None) -> list[Path]:
    """The chats of sessions in ``worktree``, and of their subagents (``chats/<session>/``):
    in ``tmp/<project>/chats``, the project being the short name ``projects.json`` gives the
    folder (else the one whose ``tmp/<project>/.project_root`` names it)."""
    root = gemini_dir(env)
    wanted = folders(worktree)
    registry = load_json_object(root / "projects.json") or {}
    names = registry.get("projects")
    projects = {v for k, v in names.items() if k in wanted} if isinstance(names, dict) else set()
    if not projects:
        for marker in (root / "tmp").glob("*/.project_root"):
            with contextlib.suppress(OSError, UnicodeError):
                if marker.read_text().strip() in wanted:
                    projects.add(marker.parent.name)
    found: list[Path] = []
    for project in projects:
        if isinstance(project, str) and project and Path(project).name == project:
            place = root / "tmp" / project / "chats"
            found += [*place.glob("session-*.jsonl"), *place.glob("*/*.jsonl")]
    return found


class Chat(JsonTally):
    """A Gemini CLI chat: its metadata first (``startTime``), then each message, whole again
    whenever it changes (a reply's ``tokens`` are added once it is in); a ``$set`` line may
    carry the messages anew, a ``$rewindTo`` line drops some from the chat (their tokens were
    spent all the same). Each reply counts once: its ``total`` less its ``cached`` input."""

    def __init__(self) -> None:
        super().__init__()
        self.started: float | None = None
        self.replies: dict[str, int] = {}

    def record(self, record: dict[str, Any]) -> None:
        """One line: the metadata, a message, or messages carried by ``$set``."""
        if "sessionId" in record and "projectHash" in record and self.started is None:
            self.started = iso_time(record.get("startTime"))
        carried = dig(record, "$set", "messages")
        for message in carried if isinstance(carried, list) else [record]:
            self.reply(message)

    def reply(self, message: object) -> None:
        """A message: a reply's tokens."""
        tokens, key = dig(message, "tokens"), dig(message, "id")
        if dig(message, "type") != "gemini" or not isinstance(tokens, Mapping) or not key:
            return
        parts = ("input", "output", "thoughts", "tool")
        spent = number(tokens.get("total")) or sum(number(tokens.get(p)) for p in parts)
        self.replies[str(key)] = max(spent - number(tokens.get("cached")), 0)

    def sessions(self) -> list[tuple[float, int]]:
        """The chat's one session."""
        return [] if self.started is None else [(self.started, sum(self.replies.values()))]


def trust_file(env: Env = None) -> Path:
    """Gemini CLI's trusted folders (``GEMINI_CLI_TRUSTED_FOLDERS_PATH`` when set)."""
    configured = environ(env).get("GEMINI_CLI_TRUSTED_FOLDERS_PATH")
    return Path(configured) if configured else gemini_dir(env) / "trustedFolders.json"


def _insecure(path: Path, what: str) -> str | None:
    """Why Gemini CLI finds one path insecure (not root's, or writable by group or others)."""
    try:
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode) and info.st_uid != 0:
            return f"{what} {path} is a symlink not owned by root"
        info = path.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"{what} {path} cannot be read: {exc.strerror}"
    if info.st_uid != 0:
        return f"{what} {path} is not owned by root"
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"{what} {path} is writable by group or others (mode {info.st_mode & 0o7777:o})"
    return None


def settings_refusal(file: Path) -> str | None:
    """Why Gemini CLI would skip ``file`` as its system settings, or None when it reads it: the
    file and every folder above it (symlinks resolved too) must be root's and writable by no
    one else — so for a user other than root it is always skipped."""
    paths = [file, *file.parents]
    real = Path(os.path.realpath(file))
    if real != file:
        paths += [real, *real.parents]
    for path in paths:
        reason = _insecure(path, "file" if path in (file, real) else "folder")
        if reason is not None:
            return reason
    return None


#: Variables that give Gemini CLI a key or another way to authenticate.
AUTH_VARIABLES = (
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "GOOGLE_GENAI_USE_VERTEXAI",
    "GOOGLE_GENAI_USE_GCA",
    "GOOGLE_CLOUD_PROJECT",
)


def _trusted(worktrees: Path, folders: Mapping[str, Any]) -> bool:
    """Whether Gemini CLI trusts folders under ``worktrees``: a ``TRUST_FOLDER`` entry for it or
    a folder above it, or ``TRUST_PARENT`` for a folder whose parent is that."""
    for path, level in folders.items():
        if level == "TRUST_FOLDER" and under(worktrees, path):
            return True
        if level == "TRUST_PARENT" and under(worktrees, Path(path).parent):
            return True
    return False


def findings(setup: Setup) -> list[Finding]:
    """What would keep Gemini CLI from starting straight to its prompt in a new worktree (see
    `AgentAdapter.doctor`)."""
    env = setup.env
    folder = gemini_dir(env)
    where = "GEMINI_CLI_HOME" if environ(env).get("GEMINI_CLI_HOME") else "its default home"
    found = [note(f"config home {folder} ({where})")]
    settings_file = folder / "settings.json"
    settings = load_json_object(settings_file) if settings_file.exists() else {}
    if settings is None:
        return [*found, Finding(f"{settings_file} is not valid JSON", "fix or remove it")]
    if not first_set(dict(env), AUTH_VARIABLES) and not (folder / "oauth_creds.json").exists():
        found.append(
            Finding(
                "no Gemini API key and no login",
                "set GEMINI_API_KEY (in your environment or [agents.gemini] env), or run "
                "`gemini` once and log in",
            )
        )
    if env.get("GOOGLE_GEMINI_BASE_URL"):
        found.append(note(f"talks to GOOGLE_GEMINI_BASE_URL={env['GOOGLE_GEMINI_BASE_URL']}"))
    security = settings.get("security") if isinstance(settings.get("security"), dict) else {}
    folder_trust = security.get("folderTrust") if isinstance(security, dict) else None
    trust_off = isinstance(folder_trust, dict) and folder_trust.get("enabled") is False
    if setup.worktrees is not None and not trust_off and not setup.pretrust:
        file = trust_file(env)
        folders = load_json_object(file) if file.exists() else {}
        if not _trusted(setup.worktrees, folders or {}):
            found.append(
                Finding(
                    f"every new agent asks whether to trust its worktree (under {setup.worktrees})",
                    "run `quarterdeck pretrust on`",
                )
            )
    hooks_config = settings.get("hooksConfig")
    if isinstance(hooks_config, dict) and hooks_config.get("enabled") is False:
        found.append(
            Finding(
                f"hooksConfig.enabled is false in {settings_file}: no hook runs",
                "remove it (statuses then come from hooks, not the screen alone)",
            )
        )
    return found


def reading_from_hook(event: str, payload: Any) -> Reading | None:
    """What one Gemini CLI hook event says about the agent (None: nothing reliable)."""
    if event == "Notification":
        if isinstance(payload, Mapping) and payload.get("notification_type") == "ToolPermission":
            return reading_from_request(event, payload)
        return None
    status = _EVENTS.get(event)
    return Reading(status, Evidence("hook", event)) if status is not None else None


class GeminiCli(AgentAdapter):
    """Gemini CLI."""

    def install_hooks(self, hooks: HookInstaller, env: Env = None) -> Launch:
        """A system settings file made from the system settings in force (if any) plus our
        hooks, named by ``GEMINI_CLI_SYSTEM_SETTINGS_PATH``."""
        base: dict[str, Any] = {}
        source = environ(env).get("GEMINI_CLI_SYSTEM_SETTINGS_PATH")
        existing = Path(source) if source else GEMINI_SYSTEM_SETTINGS
        name = SETTINGS_NAME
        if existing.is_file() and existing != hooks.hooks_dir / name:
            try:
                loaded = json.loads(existing.read_text())
                base = loaded if isinstance(loaded, dict) else {}
            except (OSError, ValueError):
                base = {}
        groups = dict(base.get("hooks") or {})
        for event in GEMINI_EVENTS:
            ours_name = f"quarterdeck-{event}"
            ours = {
                "matcher": "*",
                "hooks": [{"type": "command", "name": ours_name, "command": hooks.command(event)}],
            }
            # Keep every group of the base settings except an older copy of ours.
            kept = [
                g
                for g in groups.get(event, [])
                if isinstance(g, dict) and ours_name not in json.dumps(g.get("hooks", []))
            ]
            groups[event] = [*kept, ours]
        path = hooks.write_settings(name, {**base, "hooks": groups})
        return Launch(env={"GEMINI_CLI_SYSTEM_SETTINGS_PATH": str(path)})

    def doctor(self, setup: Setup) -> list[Finding]:
        """See `findings`."""
        return findings(setup)

    def hook_problems(self, hooks: HookInstaller, env: Env = None) -> list[str]:
        """Gemini CLI skips a system settings file it finds insecure, and our hooks with it."""
        reason = settings_refusal(hooks.hooks_dir / SETTINGS_NAME)
        if reason is None:
            return []
        return [
            f"Gemini CLI will skip its hook settings ({reason}): its status is read from the "
            "screen alone. Gemini reads a system settings file only if it and every folder "
            "above it are root's and writable by nobody else; run Quarterdeck as root on a "
            "repository outside /tmp for its hooks"
        ]

    def reading_from_hook(self, event: str, payload: Any) -> Reading | None:
        """See `reading_from_hook`."""
        return reading_from_hook(event, payload)

    def announces_tool(self, event: str) -> bool:
        """``BeforeTool``."""
        return event == "BeforeTool"

    def submits_prompt(self, event: str) -> bool:
        """``BeforeAgent``: the CLI took a prompt and starts its turn."""
        return event == "BeforeAgent"

    def prompt_behind_trust(self, worktree: Path, env: Env = None) -> bool:
        """A ``-i`` prompt in a folder not trusted yet runs behind the trust box: a tool
        confirmation it opens takes the keys meant for the box, unseen (observed, 0.61.0)."""
        trusted = load_json_object(trust_file(env))
        return not (trusted and _trusted(worktree, trusted))

    def tokens_used(self, worktree: Path, env: Env, since: float) -> int | None:
        """The worktree's `chats` (`Chat`)."""
        return tokens_in(lambda: chats(worktree, env), Chat, since)

    def set_trust(self, worktree: Path, trust: bool, env: Env = None) -> bool:
        """``<path>: "TRUST_FOLDER"`` in ``~/.gemini/trustedFolders.json``."""
        file = trust_file(env)
        data = load_json_object(file)
        if data is None:
            return False
        path = str(worktree)
        if trust:
            data[path] = "TRUST_FOLDER"
        elif path in data:
            del data[path]
        else:
            return True
        write_json(file, data)
        return True


ADAPTER = GeminiCli()
