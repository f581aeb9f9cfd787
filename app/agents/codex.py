"""OpenAI Codex CLI: its ``notify`` program set for the session with ``-c``, its trust
record, a ``[projects."<path>"]`` table in ``$CODEX_HOME/config.toml``, and the tokens its
session rollouts (``sessions/YYYY/MM/DD/rollout-*.jsonl``) record."""

from __future__ import annotations

import json
import time
import tomllib
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from app.agents.base import AgentAdapter, Env, Launch, Setup, environ, home
from app.agents.files import write_atomically
from app.agents.hooks import HookInstaller
from app.agents.usage import JsonTally, dig, folders, iso_time, number, tokens_in
from app.core.doctor import Finding, note
from app.core.profiles import AgentProfile, move_keys
from app.core.status import Evidence, Reading, Status

#: The event name the hook script is given for a ``notify`` call.
NOTIFY_EVENT = "codex-notify"
#: What Codex asks its hidden title-generation thread (whose end is not the turn's end).
_TITLE_THREAD = "single-line task title"
_MARK = "# added by quarterdeck for an agent worktree"
#: The most days of rollouts looked through for one round.
ROLLOUT_DAYS = 40


def codex_home(env: Env = None) -> Path:
    """``CODEX_HOME`` of the environment ``env``, default ``~/.codex``."""
    configured = environ(env).get("CODEX_HOME")
    return Path(configured) if configured else home(env) / ".codex"


def config_file(env: Env = None) -> Path:
    """Codex's ``config.toml`` (in ``CODEX_HOME``)."""
    return codex_home(env) / "config.toml"


def rollouts(since: float, env: Env = None) -> list[Path]:
    """The rollouts of sessions that may have started at or after ``since``: those in the
    folders of the days (``sessions/YYYY/MM/DD``, in local time) from the day before it to the
    day after today."""
    root = codex_home(env) / "sessions"
    now = max(time.time(), since)
    day = date.fromtimestamp(max(since, now - ROLLOUT_DAYS * 86400) - 86400)
    last = date.fromtimestamp(now + 86400)
    found: list[Path] = []
    while day <= last:
        found += (root / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}").glob("rollout-*.jsonl")
        day += timedelta(days=1)
    return found


class Rollout(JsonTally):
    """A Codex session's rollout: ``session_meta`` first (its ``cwd`` and start), then
    ``token_count`` events carrying the session's running ``total_token_usage``. Fresh input
    is ``input_tokens`` less ``cached_input_tokens``; ``output_tokens`` has the reasoning."""

    def __init__(self) -> None:
        super().__init__()
        self.started: float | None = None
        self.used = 0

    def record(self, record: dict[str, Any]) -> None:
        """One line: the session's meta, or its running total."""
        payload = record.get("payload")
        if record.get("type") == "session_meta" and self.started is None:
            cwd = dig(payload, "cwd")
            self.cwd = cwd if isinstance(cwd, str) and cwd else None
            self.started = iso_time(dig(payload, "timestamp")) or iso_time(record.get("timestamp"))
        elif record.get("type") == "event_msg" and dig(payload, "type") == "token_count":
            usage = dig(payload, "info", "total_token_usage")
            if isinstance(usage, Mapping):
                fresh = number(usage.get("input_tokens")) - number(usage.get("cached_input_tokens"))
                self.used = max(fresh, 0) + number(usage.get("output_tokens"))

    def sessions(self) -> list[tuple[float, int]]:
        """The rollout's one session."""
        return [] if self.started is None else [(self.started, self.used)]


def reading_from_hook(event: str, payload: Any) -> Reading | None:
    """Codex's ``notify`` program: ``agent-turn-complete`` when a turn ends. It also fires for
    a hidden thread that writes the session's title, right after the first prompt, while the
    real turn goes on: that one says nothing."""
    if event != NOTIFY_EVENT:
        return None
    if not isinstance(payload, Mapping) or payload.get("type") != "agent-turn-complete":
        return None
    if _TITLE_THREAD in str(payload.get("input-messages", "")):
        return None
    return Reading(Status.IDLE, Evidence("hook", "notify agent-turn-complete"))


def _block(path: str) -> str:
    return f'\n{_MARK}\n[projects.{json.dumps(path)}]\ntrust_level = "trusted"\n'


def findings(setup: Setup) -> list[Finding]:
    """What would keep Codex from starting straight to its prompt in a new worktree (see
    `AgentAdapter.doctor`)."""
    env = setup.env
    folder, file = codex_home(env), config_file(env)
    where = "CODEX_HOME" if environ(env).get("CODEX_HOME") else "its default config home"
    found = [note(f"config home {folder} ({where})")]
    try:
        config = tomllib.loads(file.read_text()) if file.exists() else {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        return [*found, Finding(f"{file} cannot be read: {exc}", "fix it")]
    provider = str(config.get("model_provider", "openai"))
    providers = config.get("model_providers", {})
    table = providers.get(provider) if isinstance(providers, dict) else None
    if isinstance(table, dict):
        env_key = str(table.get("env_key", ""))
        if env_key and not env.get(env_key):
            found.append(
                Finding(
                    f"model provider {provider!r} reads its key from {env_key}, which is not set",
                    f"set {env_key} (in your environment or [agents.codex] env)",
                )
            )
        if table.get("base_url"):
            found.append(note(f"model provider {provider!r} at {table['base_url']}"))
    elif not env.get("OPENAI_API_KEY") and not (folder / "auth.json").exists():
        found.append(
            Finding(
                "no OpenAI key and no login",
                "set OPENAI_API_KEY (in your environment or [agents.codex] env), run "
                "`codex login`, or configure a model_provider in " + str(file),
            )
        )
    found += _trust(setup, config, file)
    hooks_file = folder / "hooks.json"
    state = (
        config.get("hooks", {}).get("state", {}) if isinstance(config.get("hooks"), dict) else {}
    )
    if hooks_file.exists() and not any(str(k).startswith(str(hooks_file)) for k in state):
        found.append(
            Finding(
                f'every new agent stops at "Hooks need review" ({hooks_file} is not trusted)',
                'start `codex` once and choose "Trust all and continue" (Quarterdeck\'s own '
                "hook needs no hooks.json)",
            )
        )
    return found


def _trust(setup: Setup, config: dict[str, Any], file: Path) -> list[Finding]:
    """Codex trusts a git worktree when its main repository is trusted."""
    if setup.worktrees is None or setup.repo_root is None or setup.pretrust:
        return []
    projects = config.get("projects", {})
    entry = projects.get(str(setup.repo_root)) if isinstance(projects, dict) else None
    if isinstance(entry, dict) and entry.get("trust_level") == "trusted":
        return []
    return [
        Finding(
            f"every new agent asks whether to trust its worktree ({setup.repo_root} is not "
            f"trusted in {file})",
            "run `quarterdeck pretrust on`, or trust the repository in codex once (its "
            "worktrees follow)",
        )
    ]


class Codex(AgentAdapter):
    """OpenAI Codex CLI."""

    def install_hooks(self, hooks: HookInstaller, env: Env = None) -> Launch:
        """Codex runs its `notify` program with the event as a JSON argument; `-c` sets it
        for this session only (its hooks.json would live in the user's CODEX_HOME or in the
        worktree, and new hooks stop the TUI for a review)."""
        notify = ["sh", str(hooks.script), NOTIFY_EVENT]
        return Launch(argv=("-c", "notify=[" + ", ".join(json.dumps(a) for a in notify) + "]"))

    def doctor(self, setup: Setup) -> list[Finding]:
        """See `findings`."""
        return findings(setup)

    def reading_from_hook(self, event: str, payload: Any) -> Reading | None:
        """See `reading_from_hook`."""
        return reading_from_hook(event, payload)

    def tokens_used(self, worktree: Path, env: Env, since: float) -> int | None:
        """The `rollouts` whose session ran in the worktree (`Rollout`)."""
        wanted = folders(worktree)
        return tokens_in(lambda: rollouts(since, env), Rollout, since, wanted)

    def set_trust(self, worktree: Path, trust: bool, env: Env = None) -> bool:
        """A marked ``[projects."<path>"]`` table with ``trust_level = "trusted"``, appended;
        the user's own entry for the path stays as it is."""
        file = config_file(env)
        try:
            text = file.read_text() if file.exists() else ""
            parsed = tomllib.loads(text)
        except (OSError, tomllib.TOMLDecodeError):
            return False
        path = str(worktree)
        block = _block(path)
        if trust:
            if path in parsed.get("projects", {}):
                return True
            write_atomically(file, text + block)
        elif block in text:
            write_atomically(file, text.replace(block, "", 1))
        return True

    def reply_keys(
        self, profile: AgentProfile, dialog: Reading, option: int | None, text: str
    ) -> list[list[str]] | None:
        """request_user_input takes words as notes on an option ("tab to add notes"): the
        selection moves onto "None of the above" with arrows (its number submits it at
        once), Tab opens the notes, the text is typed there and Enter submits both."""
        if option is None:
            return None
        return [*move_keys(dialog.selected, option), ["Tab"], ["-l", text], ["Enter"]]


ADAPTER = Codex()
