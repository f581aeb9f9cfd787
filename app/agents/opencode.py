"""opencode: read from its screen alone (it has no hooks Quarterdeck installs, no status file
and no trust prompt); its dialogs take arrow keys (``answer = "arrows"`` in its rules file)."""

from __future__ import annotations

import json
from pathlib import Path

from app.agents.base import AgentAdapter, Setup, environ, home
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


def config_dir(env: dict[str, str] | None = None) -> Path:
    """opencode's config folder: ``$XDG_CONFIG_HOME/opencode`` (``~/.config/opencode``)."""
    base = environ(env).get("XDG_CONFIG_HOME")
    return (Path(base) if base else home(env) / ".config") / "opencode"


def data_dir(env: dict[str, str] | None = None) -> Path:
    """opencode's data folder (its logins, ``auth.json``): ``$XDG_DATA_HOME/opencode``."""
    base = environ(env).get("XDG_DATA_HOME")
    return (Path(base) if base else home(env) / ".local" / "share") / "opencode"


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
