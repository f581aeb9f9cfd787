"""Claude Code: hooks in a settings file passed with ``--settings``, the status file it keeps
per process (``sessions/<pid>.json``), its trust record in ``.claude.json``, and the tokens its
session transcripts (``projects/<folder>/<session>.jsonl``) record.

Where Claude Code keeps its state is resolved here, once (`config_dir`): ``CLAUDE_CONFIG_DIR``
when set, else ``~/.claude`` for its state and ``~/.claude.json`` for its settings.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from app.agents.base import AgentAdapter, Env, Launch, Setup, environ, home
from app.agents.files import load_json_object, write_json
from app.agents.hooks import HookInstaller
from app.agents.usage import JsonTally, dig, folders, iso_time, number, tokens_in
from app.core.doctor import Finding, first_set, note
from app.core.profiles import AgentProfile, move_keys
from app.core.signals import error_line, reading_from_request
from app.core.status import Evidence, InputKind, Reading, Status

#: Claude Code events we listen to (tool events need a matcher).
CLAUDE_EVENTS = (
    "SessionStart",
    "UserPromptSubmit",
    "PreToolUse",
    "PermissionRequest",
    "PostToolUse",
    "Stop",
    "StopFailure",
    "SessionEnd",
    "Notification",
)
CLAUDE_TOOL_EVENTS = frozenset({"PreToolUse", "PermissionRequest", "PostToolUse"})

# No hook fires when the human rejects a request or presses Esc, and `Notification` comes
# seconds late: neither may set the status. `SessionStart` fires before the input box is drawn
# (and before a first prompt given on the command line is taken): it says nothing of the
# status. `StopFailure`: the turn ended in an API error, after the CLI's retries.
_EVENTS: dict[str, Status] = {
    "UserPromptSubmit": Status.WORKING,
    "PreToolUse": Status.WORKING,
    "PostToolUse": Status.WORKING,
    "PermissionRequest": Status.NEEDS_INPUT,
    "Stop": Status.IDLE,
    "StopFailure": Status.ERROR,
}
#: The event that says the CLI took a prompt typed into it (or given on its command line).
PROMPT_SUBMITTED = "UserPromptSubmit"

_STATUS_FILE: dict[str, Status] = {
    "idle": Status.IDLE,
    "busy": Status.WORKING,
    "waiting": Status.NEEDS_INPUT,
}


def config_dir(env: Env = None) -> Path | None:
    """``CLAUDE_CONFIG_DIR`` of the environment ``env``, when set."""
    configured = environ(env).get("CLAUDE_CONFIG_DIR")
    return Path(configured) if configured else None


def state_dir(env: Env = None) -> Path:
    """Where Claude Code keeps its state (``sessions/`` among it)."""
    return config_dir(env) or home(env) / ".claude"


def config_file(env: Env = None) -> Path:
    """Claude Code's ``.claude.json`` (projects and their trust among it)."""
    return (config_dir(env) or home(env)) / ".claude.json"


def project_name(folder: str) -> str:
    """The name Claude Code gives a folder's entry in ``projects/``: every character but an
    ASCII letter or digit becomes ``-`` (one for each UTF-16 unit it takes)."""
    return "".join(
        c if c.isascii() and c.isalnum() else "--" if ord(c) > 0xFFFF else "-" for c in folder
    )


def transcripts(worktree: Path, env: Env = None) -> list[Path]:
    """The transcripts of sessions in ``worktree`` and of their subagents
    (``<session>/subagents/agent-<id>.jsonl``). A folder name over 200 characters is cut there
    and given a hash of the path, matched here by its beginning (the lines' ``cwd`` decide)."""
    root = state_dir(env) / "projects"
    found: list[Path] = []
    for folder in folders(worktree):
        name = project_name(folder)
        places = [root / name] if len(name) <= 200 else list(root.glob(name[:200] + "-*"))
        for place in places:
            found += [*place.glob("*.jsonl"), *place.glob("*/subagents/*.jsonl")]
    return found


class Transcript(JsonTally):
    """A Claude Code transcript: a line per part of each message, every assistant line
    repeating its message's ``usage`` (the output count growing while it streamed), so each
    message counts once, at its largest. Fresh input is ``input_tokens`` plus
    ``cache_creation_input_tokens``; ``cache_read_input_tokens`` does not count."""

    def __init__(self) -> None:
        super().__init__()
        self.started: float | None = None
        self.messages: dict[str, tuple[int, int]] = {}

    def record(self, record: dict[str, Any]) -> None:
        """One line: its folder and time, and an assistant message's usage."""
        if self.cwd is None and isinstance(record.get("cwd"), str):
            self.cwd = record["cwd"]
        if self.started is None:
            self.started = iso_time(record.get("timestamp"))
        usage = dig(record, "message", "usage")
        if record.get("type") != "assistant" or not isinstance(usage, Mapping):
            return
        key = dig(record, "message", "id") or record.get("requestId") or record.get("uuid")
        key = str(key) if key else f"line {len(self.messages)}"
        fresh = number(usage.get("input_tokens")) + number(usage.get("cache_creation_input_tokens"))
        was_in, was_out = self.messages.get(key, (0, 0))
        self.messages[key] = (max(was_in, fresh), max(was_out, number(usage.get("output_tokens"))))

    def sessions(self) -> list[tuple[float, int]]:
        """The transcript's one session: from its first line's time."""
        if self.started is None:
            return []
        return [(self.started, sum(i + o for i, o in self.messages.values()))]


def reading_from_hook(event: str, payload: Any) -> Reading | None:
    """What one Claude Code hook event says about the agent (None: nothing reliable)."""
    status = _EVENTS.get(event)
    if status is None:
        return None
    if status is Status.NEEDS_INPUT:
        return reading_from_request(event, payload)
    if status is Status.ERROR:
        said = payload.get("last_assistant_message") if isinstance(payload, Mapping) else None
        if not isinstance(said, str) or not said.strip():
            said = str(payload.get("error", "")) if isinstance(payload, Mapping) else ""
        return Reading(status, Evidence("hook", event), detail=error_line(said) or "API error")
    return Reading(status, Evidence("hook", event))


def reading_from_status_file(data: Any) -> Reading | None:
    """Claude Code's ``sessions/<pid>.json``: ``status`` idle|busy|waiting and, while waiting,
    ``waitingFor``. Undocumented: anything unexpected reads as no information."""
    if not isinstance(data, Mapping):
        return None
    status = _STATUS_FILE.get(str(data.get("status", "")))
    if status is None:
        return None
    waiting_for = str(data.get("waitingFor", ""))
    evidence = Evidence("status file", f"{data.get('status')} {waiting_for}".strip())
    if status is not Status.NEEDS_INPUT:
        return Reading(status, evidence)
    if "permission" in waiting_for:
        kind = InputKind.PERMISSION
    elif "input" in waiting_for:
        kind = InputKind.QUESTION
    else:
        kind = InputKind.SETUP
    return Reading(status, evidence, kind=kind)


def settings(hooks: HookInstaller) -> dict[str, Any]:
    """A Claude Code settings object that runs the hook script for every event we listen to."""
    groups: dict[str, Any] = {}
    for event in CLAUDE_EVENTS:
        group: dict[str, Any] = {"hooks": [{"type": "command", "command": hooks.command(event)}]}
        if event in CLAUDE_TOOL_EVENTS:
            group["matcher"] = "*"
        groups[event] = [group]
    return {"hooks": groups}


#: Variables that give Claude Code a key or a login of its own.
KEY_VARIABLES = (
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "CLAUDE_CODE_OAUTH_TOKEN",
    "CLAUDE_CODE_USE_BEDROCK",
    "CLAUDE_CODE_USE_VERTEX",
)
#: Permission modes in which Claude Code never asks (``auto`` is 2.1's default).
NEVER_ASKS = {"auto": "decides itself", "bypassPermissions": "skips every permission check"}


def _json(path: Path) -> dict[str, Any] | None:
    """A JSON object file; {} when missing, None when unreadable."""
    if not path.exists():
        return {}
    return load_json_object(path)


def findings(setup: Setup) -> list[Finding]:
    """What would keep Claude Code from starting straight to its prompt in a new worktree, and
    asking before it acts (see `AgentAdapter.doctor`)."""
    env = setup.env
    file, folder = config_file(env), state_dir(env)
    where = "CLAUDE_CONFIG_DIR" if config_dir(env) else "its default config home"
    found = [note(f"config home {folder} and {file} ({where})")]
    data = _json(file)
    if data is None:
        return [*found, Finding(f"{file} is not valid JSON", "fix or remove it")]
    user = _json(folder / "settings.json") or {}
    login = (folder / ".credentials.json").exists() or "oauthAccount" in data
    key = first_set(dict(env), KEY_VARIABLES)
    if not key and not login and not user.get("apiKeyHelper"):
        found.append(
            Finding(
                "no API key and no login",
                "set ANTHROPIC_API_KEY (in your environment or [agents.claude] env), or run "
                "`claude` once and log in",
            )
        )
    if env.get("ANTHROPIC_BASE_URL"):
        found.append(note(f"talks to ANTHROPIC_BASE_URL={env['ANTHROPIC_BASE_URL']}"))
    if data.get("hasCompletedOnboarding") is not True:
        found.append(
            Finding(
                f"every new agent starts with the first-run onboarding (no "
                f"hasCompletedOnboarding in {file}); offline it exits",
                'run `claude` once and finish it, or set "hasCompletedOnboarding": true there',
            )
        )
    api_key = env.get("ANTHROPIC_API_KEY", "")
    responses = data.get("customApiKeyResponses")
    approved = responses.get("approved", []) if isinstance(responses, dict) else []
    if api_key and api_key[-20:] not in approved:
        found.append(
            Finding(
                f"every new agent asks whether to use ANTHROPIC_API_KEY (not approved in {file})",
                "answer Yes once in claude, or add the key's last 20 characters to "
                "customApiKeyResponses.approved there",
            )
        )
    found += _trust(setup, data, file)
    found += _permissions(setup, folder / "settings.json", user)
    return found


def _trust(setup: Setup, data: dict[str, Any], file: Path) -> list[Finding]:
    """Claude Code 2.1 trusts a git worktree when its main repository is trusted (a folder
    above it does not count)."""
    if setup.worktrees is None or setup.repo_root is None or setup.pretrust:
        return []
    projects = data.get("projects")
    entry = projects.get(str(setup.repo_root)) if isinstance(projects, dict) else None
    if isinstance(entry, dict) and entry.get("hasTrustDialogAccepted") is True:
        return []
    return [
        Finding(
            f"every new agent asks whether to trust its worktree ({setup.repo_root} is not "
            f"trusted in {file})",
            "run `quarterdeck pretrust on`, or trust the repository in claude once (its "
            "worktrees follow)",
        )
    ]


def _permissions(setup: Setup, user_file: Path, user: dict[str, Any]) -> list[Finding]:
    files = [(user_file, user)]
    if setup.repo_root is not None:
        for name in ("settings.json", "settings.local.json"):
            path = setup.repo_root / ".claude" / name
            files.append((path, _json(path) or {}))
    mode, source = "auto", "the default of Claude Code 2.1"
    found = []
    for path, settings_ in files:
        permissions = settings_.get("permissions")
        if isinstance(permissions, dict) and permissions.get("defaultMode"):
            mode, source = str(permissions["defaultMode"]), str(path)
        if settings_.get("disableAllHooks") is True:
            found.append(
                Finding(
                    f"disableAllHooks is set in {path}: Quarterdeck's hooks will not run",
                    "remove it (statuses then come from hooks, not the screen alone)",
                )
            )
    if mode in NEVER_ASKS:
        found.append(
            note(
                f"permission mode {mode} ({source}): it {NEVER_ASKS[mode]} and never asks, so "
                "no permission request reaches the inbox",
                f'set "permissions": {{"defaultMode": "default"}} in {user_file} to be asked',
            )
        )
    return found


class ClaudeCode(AgentAdapter):
    """Claude Code (and any kind that speaks its hook dialect: the demo agent)."""

    def install_hooks(self, hooks: HookInstaller, env: Env = None) -> Launch:
        """A settings file of ours passed with ``--settings``: Claude Code merges it with the
        user's and the project's settings."""
        path = hooks.write_settings("claude-settings.json", settings(hooks))
        return Launch(argv=("--settings", str(path)))

    def doctor(self, setup: Setup) -> list[Finding]:
        """See `findings`."""
        return findings(setup)

    def reading_from_hook(self, event: str, payload: Any) -> Reading | None:
        """See `reading_from_hook`."""
        return reading_from_hook(event, payload)

    def announces_tool(self, event: str) -> bool:
        """``PreToolUse``."""
        return event == "PreToolUse"

    def submits_prompt(self, event: str) -> bool:
        """``UserPromptSubmit``."""
        return event == PROMPT_SUBMITTED

    def status_file(self, pid: int, env: Env = None) -> Path | None:
        """``sessions/<pid>.json`` in Claude Code's state folder (deleted when it exits)."""
        return state_dir(env) / "sessions" / f"{pid}.json"

    def reading_from_status_file(self, text: str) -> Reading | None:
        """See `reading_from_status_file`."""
        try:
            return reading_from_status_file(json.loads(text))
        except ValueError:
            return None

    def resume(
        self, argv: Sequence[str], conversation: str, worktree: Path, env: Env = None
    ) -> list[str] | None:
        """``--resume ID``, when that session's transcript is one of the worktree's."""
        if not any(t.stem == conversation for t in transcripts(worktree, env)):
            return None
        return [*argv, "--resume", conversation]

    def tokens_used(self, worktree: Path, env: Env, since: float) -> int | None:
        """The `transcripts` of the worktree's folder (`Transcript`)."""
        wanted = folders(worktree)
        return tokens_in(lambda: transcripts(worktree, env), Transcript, since, wanted)

    def set_trust(self, worktree: Path, trust: bool, env: Env = None) -> bool:
        """``projects.<path>.hasTrustDialogAccepted`` in ``.claude.json``."""
        file = config_file(env)
        data = load_json_object(file)
        if data is None:
            return False
        projects = data.setdefault("projects", {})
        if not isinstance(projects, dict):
            return False
        path = str(worktree)
        if trust:
            entry = projects.setdefault(path, {})
            if not isinstance(entry, dict):
                return False
            entry["hasTrustDialogAccepted"] = True
        elif path in projects:
            del projects[path]
        else:
            return True
        write_json(file, data)
        return True

    def reply_keys(
        self, profile: AgentProfile, dialog: Reading, option: int | None, text: str
    ) -> list[list[str]] | None:
        """AskUserQuestion's "Type something." is a text field in the list: the selection is
        moved onto it with arrows (its number only moves the selection too, and typed while
        it is already there, goes into the answer), the text typed there, Enter submits."""
        if option is None:
            return None
        return [*move_keys(dialog.selected, option), ["-l", text], ["Enter"]]


ADAPTER = ClaudeCode()
