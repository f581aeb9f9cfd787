"""Agent profiles: how to launch each agent CLI and how to read its screen, parsed from data."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from app.core.errors import UsageError
from app.core.status import InputKind, Status


class PromptDelivery(StrEnum):
    """How the first prompt reaches the agent."""

    ARGV = "argv"  # appended to the command line (the CLI holds it until it is ready)
    TYPE = "type"  # typed into the agent once its screen says it is ready for input


@dataclass(frozen=True)
class ScreenRule:
    """One rule of a screen classifier: when it matches, the agent is in ``status``.

    ``screen`` is searched in the last ``lines`` non-blank lines of the screen, ``title`` in the
    pane title; both must match when both are given. ``absent`` must not match the same region.
    For ``needs_input``, ``question`` (first group) and ``option`` (group ``label`` or the first
    group, on each line of the region) extract what a person reads.
    """

    name: str
    status: Status
    kind: InputKind | None = None
    screen: re.Pattern[str] | None = None
    title: re.Pattern[str] | None = None
    absent: re.Pattern[str] | None = None
    lines: int = 12
    question: re.Pattern[str] | None = None
    option: re.Pattern[str] | None = None


@dataclass(frozen=True)
class AgentProfile:
    """Everything Quarterdeck knows about one agent kind."""

    kind: str
    description: str
    command: tuple[str, ...]
    program: str
    prompt: PromptDelivery = PromptDelivery.TYPE
    prompt_args: tuple[str, ...] = ("{prompt}",)
    ready_status: Status = Status.IDLE
    shell_means_exited: bool = True
    default_status: Status = Status.UNKNOWN
    rules: tuple[ScreenRule, ...] = ()
    chrome: tuple[re.Pattern[str], ...] = ()
    interrupt_keys: tuple[str, ...] = ("Escape",)
    env: Mapping[str, str] = field(default_factory=dict)
    #: The dialect of the CLI's hooks (``claude``, ``gemini``, ``aider``), empty for none.
    hooks: str = ""
    #: An agent-side status file to read (``claude``: Claude Code's ``sessions/<pid>.json``).
    status_file: str = ""

    def argv(self, prompt: str, python: str, shell: str, extra: Sequence[str] = ()) -> list[str]:
        """The command line that starts this agent: its command, ``extra`` arguments (hook
        settings), and the prompt when it goes on the argv."""
        argv = [part.replace("{python}", python).replace("{shell}", shell) for part in self.command]
        argv += extra
        if self.prompt is PromptDelivery.ARGV and prompt:
            argv += [part.replace("{prompt}", prompt) for part in self.prompt_args]
        return argv


def _regex(raw: Any, where: str) -> re.Pattern[str] | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise UsageError(f"{where}: expected a regular expression string")
    try:
        return re.compile(raw, re.MULTILINE)
    except re.error as exc:
        raise UsageError(f"{where}: invalid regular expression {raw!r}: {exc}") from exc


def _choice(raw: Any, allowed: tuple[str, ...], where: str) -> str:
    if raw not in allowed:
        known = ", ".join(repr(a) for a in allowed if a)
        raise UsageError(f"{where}: {raw!r} is not one of {known}")
    return str(raw)


def _strings(raw: Any, where: str) -> tuple[str, ...]:
    if isinstance(raw, str):
        return (raw,)
    if isinstance(raw, list) and all(isinstance(x, str) for x in raw):
        return tuple(raw)
    raise UsageError(f"{where}: expected a string or a list of strings")


def _rule(kind: str, index: int, raw: Mapping[str, Any]) -> ScreenRule:
    where = f"agent {kind!r}, rule {index + 1}"
    try:
        status = Status(raw["status"])
        input_kind = InputKind(raw["kind"]) if "kind" in raw else None
    except (KeyError, ValueError) as exc:
        raise UsageError(f"{where}: missing or unknown status/kind ({exc})") from exc
    rule = ScreenRule(
        name=str(raw.get("name", f"rule {index + 1}")),
        status=status,
        kind=input_kind,
        screen=_regex(raw.get("screen"), f"{where} screen"),
        title=_regex(raw.get("title"), f"{where} title"),
        absent=_regex(raw.get("absent"), f"{where} absent"),
        lines=int(raw.get("lines", 12)),
        question=_regex(raw.get("question"), f"{where} question"),
        option=_regex(raw.get("option"), f"{where} option"),
    )
    if rule.screen is None and rule.title is None:
        raise UsageError(f"{where}: needs a 'screen' or a 'title' pattern")
    return rule


def parse_profile(kind: str, raw: Mapping[str, Any]) -> AgentProfile:
    """Build one profile from its TOML table, raising `UsageError` with the place of any mistake."""
    where = f"agent {kind!r}"
    if "command" not in raw:
        raise UsageError(f"{where}: missing 'command'")
    command = _strings(raw["command"], f"{where} command")
    try:
        prompt = PromptDelivery(raw.get("prompt", "type"))
        ready = Status(raw.get("ready", "idle"))
        default = Status(raw.get("default_status", "unknown"))
    except ValueError as exc:
        raise UsageError(f"{where}: {exc}") from exc
    return AgentProfile(
        kind=kind,
        description=str(raw.get("description", "")),
        command=command,
        program=str(raw.get("program", command[0])),
        prompt=prompt,
        prompt_args=_strings(raw.get("prompt_args", ["{prompt}"]), f"{where} prompt_args"),
        ready_status=ready,
        shell_means_exited=bool(raw.get("shell_means_exited", True)),
        default_status=default,
        rules=tuple(_rule(kind, i, r) for i, r in enumerate(raw.get("rules", []))),
        chrome=tuple(
            p
            for i, c in enumerate(_strings(raw.get("chrome", []), f"{where} chrome"))
            if (p := _regex(c, f"{where} chrome {i + 1}")) is not None
        ),
        interrupt_keys=_strings(raw.get("interrupt", ["Escape"]), f"{where} interrupt"),
        env={str(k): str(v) for k, v in dict(raw.get("env", {})).items()},
        hooks=_choice(raw.get("hooks", ""), ("", "claude", "gemini", "aider"), f"{where} hooks"),
        status_file=_choice(raw.get("status_file", ""), ("", "claude"), f"{where} status_file"),
    )


def parse_profiles(raw: Mapping[str, Any]) -> dict[str, AgentProfile]:
    """All profiles of a ``[agents.*]``-style mapping, keyed by kind."""
    return {kind: parse_profile(kind, table) for kind, table in raw.items()}
