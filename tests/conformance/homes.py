"""A throwaway home for one run: each CLI's offline configuration (pointed at the scripted model
server on 127.0.0.1 and nowhere else) and Quarterdeck's own configuration of the kinds that start
them, plus the environment every ``quarterdeck`` command of the run gets.

Everything lives in the one home, where each CLI looks by default (``~/.claude.json``,
``~/.codex``, ``~/.gemini``, ``~/.config/opencode``), so Quarterdeck and the CLIs it starts agree
on where each keeps its state without any variable of the user's. What only a kind's agents need
(the model server's address, keys, the CLI's switches) is given the way a user gives it: in
``[agents.<kind>]`` of Quarterdeck's ``config.toml`` (``command`` and ``env``).
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

ANTHROPIC_KEY = "sk-ant-api03-conformance-dummy-key-0000000000000000000001"
AIDER_FLAGS = [
    "--model",
    "openai/fake-model",
    "--edit-format",
    "diff",
    "--no-show-model-warnings",
    "--no-show-release-notes",
    "--no-check-update",
    "--analytics-disable",
]


@dataclass(frozen=True)
class Home:
    """One run's home: its folder, the model server's URL, the tmux socket."""

    root: Path
    server_url: str
    socket: str

    @property
    def config(self) -> Path:
        return self.root / ".config"

    def env(self) -> dict[str, str]:
        """The environment of every ``quarterdeck`` command of the run (and so of its tmux
        server and every agent): this home, its XDG folders, the private socket, a git
        identity; nothing of the user's state."""
        env = {
            k: v
            for k, v in os.environ.items()
            if k in ("PATH", "LANG", "LC_ALL", "TERM", "USER", "LOGNAME", "TMPDIR")
        }
        env.update(
            HOME=str(self.root),
            XDG_CONFIG_HOME=str(self.root / ".config"),
            XDG_DATA_HOME=str(self.root / ".local" / "share"),
            XDG_STATE_HOME=str(self.root / ".local" / "state"),
            XDG_CACHE_HOME=str(self.root / ".cache"),
            QUARTERDECK_TMUX_SOCKET=self.socket,
            GIT_AUTHOR_NAME="Conformance",
            GIT_AUTHOR_EMAIL="conformance@example.invalid",
            GIT_COMMITTER_NAME="Conformance",
            GIT_COMMITTER_EMAIL="conformance@example.invalid",
            GIT_CONFIG_GLOBAL=str(self.root / ".gitconfig"),
            SHELL="/bin/bash",
            TERM=env.get("TERM") or "xterm-256color",
            LANG=env.get("LANG") or "C.UTF-8",
            # Keep every client off the network except 127.0.0.1.
            NO_PROXY="127.0.0.1,localhost",
            no_proxy="127.0.0.1,localhost",
        )
        for var in ("TMUX", "TMUX_PANE", "QUARTERDECK_HOSTED", "CLAUDE_CONFIG_DIR", "CODEX_HOME"):
            env.pop(var, None)
        return env


def _write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def write_claude(home: Home) -> dict[str, str]:
    """``~/.claude.json`` past onboarding with the key approved, and permission prompts on
    (2.1.329 defaults to auto mode, which never asks). No folder is trusted here."""
    _write_json(
        home.root / ".claude.json",
        {
            "hasCompletedOnboarding": True,
            "hasSeenAutoDefaultNudge": True,
            "hasSeenAutoDefaultNotice": True,
            "customApiKeyResponses": {"approved": [ANTHROPIC_KEY[-20:]], "rejected": []},
            "projects": {},
        },
    )
    _write_json(
        home.root / ".claude" / "settings.json", {"permissions": {"defaultMode": "default"}}
    )
    return {
        "ANTHROPIC_BASE_URL": home.server_url,
        "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    }


def write_codex(home: Home) -> dict[str, str]:
    """``~/.codex/config.toml``: a provider ``fake`` on the model server (Responses API),
    approval on request, no retries, questions allowed outside Plan mode."""
    codex = home.root / ".codex"
    codex.mkdir(parents=True, exist_ok=True)
    (codex / "config.toml").write_text(
        "\n".join(
            [
                'model = "fake-model"',
                'model_provider = "fake"',
                'approval_policy = "on-request"',
                'sandbox_mode = "workspace-write"',
                "check_for_update_on_startup = false",
                "",
                "[analytics]",
                "enabled = false",
                "",
                "[features]",
                "default_mode_request_user_input = true",
                "",
                "[model_providers.fake]",
                'name = "fake"',
                f'base_url = "{home.server_url}/v1"',
                'env_key = "FAKE_API_KEY"',
                'wire_api = "responses"',
                "request_max_retries = 0",
                "stream_max_retries = 0",
                "",
            ]
        ),
        encoding="utf-8",
    )
    return {"FAKE_API_KEY": "dummy"}


def write_gemini(home: Home) -> dict[str, str]:
    """``~/.gemini/settings.json``: API-key auth, no updates, no telemetry; no folder trusted."""
    _write_json(
        home.root / ".gemini" / "settings.json",
        {
            "security": {"auth": {"selectedType": "gemini-api-key"}},
            "general": {"enableAutoUpdate": False, "enableAutoUpdateNotification": False},
            "privacy": {"usageStatisticsEnabled": False},
            "telemetry": {"enabled": False},
        },
    )
    return {"GEMINI_API_KEY": "dummy", "GOOGLE_GEMINI_BASE_URL": home.server_url}


def write_opencode(home: Home) -> dict[str, str]:
    """``~/.config/opencode/opencode.json``: provider ``fake`` through the bundled
    OpenAI-compatible package, asking before shell commands and edits."""
    _write_json(
        home.config / "opencode" / "opencode.json",
        {
            "$schema": "https://opencode.ai/config.json",
            "provider": {
                "fake": {
                    "npm": "@ai-sdk/openai-compatible",
                    "name": "Fake",
                    "options": {"baseURL": f"{home.server_url}/v1", "apiKey": "dummy"},
                    "models": {"fake-model": {"name": "Fake Model"}},
                }
            },
            "model": "fake/fake-model",
            "permission": {"bash": "ask", "edit": "ask"},
            "autoupdate": False,
            "share": "disabled",
        },
    )
    return {
        "OPENCODE_DISABLE_MODELS_FETCH": "1",
        "OPENCODE_DISABLE_AUTOUPDATE": "1",
        "OPENCODE_DISABLE_SHARE": "1",
    }


def write_aider(home: Home) -> dict[str, str]:
    """Aider takes its model and switches on the command line (`AIDER_FLAGS`)."""
    return {
        "OPENAI_API_BASE": f"{home.server_url}/v1",
        "OPENAI_API_KEY": "dummy",
        # litellm's price list from GitHub: use the copy it ships instead.
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }


WRITERS = {
    "claude": write_claude,
    "codex": write_codex,
    "gemini": write_gemini,
    "opencode": write_opencode,
    "aider": write_aider,
}


def _toml_string(value: str) -> str:
    return json.dumps(value)


def quarterdeck_config(executables: dict[str, Path], envs: dict[str, dict[str, str]]) -> str:
    """``config.toml`` for Quarterdeck: each kind started from the cache's executable with its
    offline environment; no bell, tmux message or desktop notification."""
    lines = ["[notify]", "bell = false", "tmux = false", "desktop = false", ""]
    for cli, exe in executables.items():
        argv = [str(exe), *(AIDER_FLAGS if cli == "aider" else [])]
        lines.append(f"[agents.{cli}]")
        lines.append("command = [" + ", ".join(_toml_string(a) for a in argv) + "]")
        lines.append(f"program = {_toml_string(str(exe))}")
        env = ", ".join(f"{k} = {_toml_string(v)}" for k, v in envs[cli].items())
        lines.append(f"env = {{ {env} }}")
        lines.append("")
    return "\n".join(lines)


def write_home(home: Home, executables: dict[str, Path]) -> None:
    """Every CLI of ``executables`` configured offline, and Quarterdeck configured to start
    them, in ``home``."""
    if home.root.exists():
        shutil.rmtree(home.root)
    home.root.mkdir(parents=True)
    (home.root / ".gitconfig").write_text(
        "[user]\n\tname = Conformance\n\temail = conformance@example.invalid\n"
        "[init]\n\tdefaultBranch = main\n",
        encoding="utf-8",
    )
    envs = {cli: WRITERS[cli](home) for cli in executables}
    qd = home.config / "quarterdeck"
    qd.mkdir(parents=True, exist_ok=True)
    (qd / "config.toml").write_text(quarterdeck_config(executables, envs), encoding="utf-8")
