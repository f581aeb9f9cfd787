"""opencode: read from its screen alone (it has no hooks Quarterdeck installs, no status file
and no trust prompt); its dialogs take arrow keys (``answer = "arrows"`` in its rules file); the
tokens of its sessions are in its database (``opencode.db``, SQLite, since opencode 1.2)."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from pathlib import Path
from urllib.parse import quote

from app.agents.base import AgentAdapter, Env, Setup, environ, home
from app.agents.usage import SLACK, dig, folders, number, quietly
from app.core.doctor import Finding, first_set, note
from app.core.profiles import AgentProfile, move_keys
from app.core.status import Reading

#: Provider keys opencode picks up from the environment.
KEY_VARIABLES = (
    "ANTHROPIC_API_KEY",
    "OPENAI_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_GENERATIVE_AI_API_KEY",
    "OPENROUTER_API_KEY",
    "GROQ_API_KEY",
)


def config_dir(env: Env = None) -> Path:
    """opencode's config folder: ``$XDG_CONFIG_HOME/opencode`` (``~/.config/opencode``)."""
    base = environ(env).get("XDG_CONFIG_HOME")
    return (Path(base) if base else home(env) / ".config") / "opencode"


def data_dir(env: Env = None) -> Path:
    """opencode's data folder (its logins, ``auth.json``): ``$XDG_DATA_HOME/opencode``."""
    base = environ(env).get("XDG_DATA_HOME")
    return (Path(base) if base else home(env) / ".local" / "share") / "opencode"


def database(env: Env = None) -> Path:
    """opencode's database: ``opencode.db`` in its data folder (``OPENCODE_DB`` names another,
    relative to that folder)."""
    named = environ(env).get("OPENCODE_DB")
    return data_dir(env) / named if named else data_dir(env) / "opencode.db"


#: Every message of the sessions that ran in a folder and started (milliseconds) at or after.
_MESSAGES = """
SELECT session.id, message.data FROM session JOIN message ON message.session_id = session.id
WHERE session.directory IN ({}) AND session.time_created >= ?
"""


def tokens_in_database(path: Path, worktree: Path, since: float) -> int | None:
    """The tokens of the sessions in ``worktree`` that started at or after ``since``, from
    their assistant messages' ``tokens`` (``input``, which leaves out what the cache gave,
    ``output``, ``reasoning`` and ``cache.write``; ``cache.read`` does not count). The
    database is opened read-only; None when it is missing or has no such session."""
    if not path.is_file():
        return None
    wanted = sorted(folders(worktree))
    query = _MESSAGES.format(", ".join("?" * len(wanted)))
    uri = f"file:{quote(str(path))}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=2.0)) as db:
        rows = db.execute(query, (*wanted, int((since - SLACK) * 1000))).fetchall()
    used: dict[str, int] = {}
    for session, data in rows:
        used.setdefault(str(session), 0)
        try:
            message = json.loads(data)
        except (TypeError, ValueError):
            continue
        tokens = dig(message, "tokens")
        if dig(message, "role") != "assistant" or not isinstance(tokens, dict):
            continue
        parts = (tokens.get(p) for p in ("input", "output", "reasoning"))
        used[str(session)] += sum(map(number, parts)) + number(dig(tokens, "cache", "write"))
    return sum(used.values()) if used else None


def _providers(path: Path) -> bool:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and bool(data.get("provider") or data.get("model"))


def findings(setup: Setup) -> list[Finding]:
    """What would keep opencode from reaching a model (see `AgentAdapter.doctor`)."""
    env = dict(setup.env)
    folder = config_dir(env)
    configs = [folder / "opencode.json", folder / "opencode.jsonc"]
    if env.get("OPENCODE_CONFIG"):
        configs.append(Path(env["OPENCODE_CONFIG"]))
    if setup.repo_root is not None:
        configs.append(setup.repo_root / "opencode.json")
    found = [note(f"config home {folder} (XDG_CONFIG_HOME)")]
    login = (data_dir(env) / "auth.json").exists()
    if not first_set(env, KEY_VARIABLES) and not login and not any(map(_providers, configs)):
        found.append(
            Finding(
                "no provider: no key in the environment, no login, no provider in opencode.json",
                "set a provider's key (e.g. ANTHROPIC_API_KEY, in your environment or "
                f"[agents.opencode] env), run `opencode auth login`, or add one to {configs[0]}",
            )
        )
    return found


class Opencode(AgentAdapter):
    """opencode."""

    def doctor(self, setup: Setup) -> list[Finding]:
        """See `findings`."""
        return findings(setup)

    def tokens_used(self, worktree: Path, env: Env, since: float) -> int | None:
        """See `tokens_in_database` (its `database`)."""
        return quietly(lambda: tokens_in_database(database(env), worktree, since))

    def reply_keys(
        self, profile: AgentProfile, dialog: Reading, option: int | None, text: str
    ) -> list[list[str]] | None:
        """The question tool's "Type your own answer": the selection (a colour only, so
        taken as the first option) moves onto it with arrows, Enter opens its text field
        under it, the text is typed there and Enter submits it."""
        if option is None:
            return None
        return [*move_keys(dialog.selected, option), ["Enter"], ["-l", text], ["Enter"]]


ADAPTER = Opencode()
