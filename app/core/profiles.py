"""Agent profiles: how to launch each agent CLI and how to read its screen, parsed from data."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from app.core.errors import UsageError
from app.core.status import InputKind, Status


class PromptDelivery(StrEnum):
    """How the first prompt reaches the agent."""

    ARGV = "argv"  # appended to the command line (the CLI holds it until it is ready)
    TYPE = "type"  # typed into the agent once its screen says it is ready for input


class RulePhase(StrEnum):
    """When a rule is consulted: while the agent's program runs, or once it is gone."""

    RUNNING = "running"  # the agent's program holds the pane
    EXITED = "exited"  # the pane is dead or a shell is back: rules tell a failure from an exit


#: Default clean-up of one option of a vertical list: drop the numbering, a checkbox, a trailing
#: check mark and a description set in a column of its own (two or more spaces after the label).
DEFAULT_OPTION_LABEL = re.compile(
    r"^(?:\d+[.)]\s+)?(?:\[[ xX✓✔]\]\s+|[☐☑☒]\s+)?(?P<label>.+?)(?:\s+[✓✔])?(?:\s{2,}\S.*)?$"
)
#: Default separator of options offered on one line (``Allow once   Allow always   Reject``).
DEFAULT_OPTIONS_SPLIT = re.compile(r"\s{2,}")


#: How long an answered dialog may take to change before the answer is reported as not taken.
ANSWER_SECONDS = 4.0
#: The ways a dialog takes an answer (see `AgentProfile.answer`).
ANSWER_WAYS = ("digit", "arrows", "letter")


def move_keys(selected: int, number: int) -> list[list[str]]:
    """The arrow presses that move a list's selection from option ``selected`` (0: unknown,
    taken as the first) to option ``number``."""
    step = number - max(selected, 1)
    return [["Down" if step > 0 else "Up"] for _ in range(abs(step))]


@dataclass(frozen=True)
class ScreenRule:
    """One rule of a screen classifier: when it matches, the agent is in ``status``.

    Conditions (all given ones must hold):

    - ``screen`` is searched in the last ``lines`` non-blank lines of the screen (box borders and
      indentation removed; ``lines = 0`` means the whole screen); ``absent`` must not match below
      the last ``screen`` match (an answered dialog has output or a fresh prompt under it);
    - ``title`` is searched in the pane title;
    - ``footer`` is searched in the last ``footer_lines`` lines that are not rules or box edges;
    - ``asks`` must match the extracted question and ``offers`` one of the extracted options, so a
      rule can tell a trust dialog from a permission dialog by what it asks.

    ``phase`` says whether the rule reads a running agent (the default) or a pane whose program
    is gone (dead, or a shell back): such rules tell a failed start from a normal exit.

    What a person reads (for ``needs_input``):

    - ``question``: a pattern, or a list of patterns tried in order (a precise one, then a
      fallback); each is searched paragraph by paragraph upward from the options (nearest first,
      not above a line matching ``question_stop``); its first matching group is the question,
      with line breaks folded into spaces;
    - a vertical list: the last line matching ``option_anchor`` anchors it; its siblings are the
      lines of the same block starting in the same column (``option_marker``, the selection
      glyph, is blanked first); deeper lines are descriptions, or the rest of a label that wrapped
      at the edge of the pane; ``option_label`` cleans each label (group ``label``);
    - options on one line: the last match of ``options_line`` (group 1), split by
      ``options_split``, each with ``option_strip`` removed (Aider's ``(Y)es/(N)o``, opencode's
      ``Allow once   Allow always   Reject``);
    - ``answer``: how this dialog takes an answer, when not as the profile says (``arrows``:
      move the selection, then Enter); a list without numbers always takes ``arrows``;
    - legacy: ``option`` alone takes every matching line of the region, and ``question`` the first
      match in the region.

    What the row says besides the status (an error, a retry): ``detail``, searched in the region
    (its last match), gives the reading's detail and the last-output column: ``detail_format``
    filled with its named groups (``retrying {attempt}: {error}``), else its first group.
    """

    name: str
    status: Status
    kind: InputKind | None = None
    phase: RulePhase = RulePhase.RUNNING
    screen: re.Pattern[str] | None = None
    title: re.Pattern[str] | None = None
    absent: re.Pattern[str] | None = None
    lines: int = 12
    footer: re.Pattern[str] | None = None
    footer_lines: int = 3
    question: tuple[re.Pattern[str], ...] = ()
    question_stop: re.Pattern[str] | None = None
    option: re.Pattern[str] | None = None
    option_anchor: re.Pattern[str] | None = None
    option_marker: re.Pattern[str] | None = None
    option_label: re.Pattern[str] = DEFAULT_OPTION_LABEL
    options_line: re.Pattern[str] | None = None
    options_split: re.Pattern[str] = DEFAULT_OPTIONS_SPLIT
    option_strip: re.Pattern[str] | None = None
    asks: re.Pattern[str] | None = None
    offers: re.Pattern[str] | None = None
    detail: re.Pattern[str] | None = None
    detail_format: str = ""
    #: How this dialog takes an answer when it differs from the profile's ``answer`` (a list
    #: whose digits only move the selection takes ``arrows``).
    answer: str = ""
    #: A dialog this screen may hide when the rule matches (what to call it): the dialog shown
    #: is then not known to take the keys, and answering it by number is refused.
    hides: str = ""

    def read_detail(self, region: str) -> str:
        """What ``detail`` says of the region: its last match, as ``detail_format`` filled with
        the named groups, else its first group (line breaks and runs of spaces folded)."""
        matches = list(self.detail.finditer(region)) if self.detail is not None else []
        if not matches:
            return ""
        m = matches[-1]
        groups = {k: " ".join((v or "").split()) for k, v in m.groupdict().items()}
        if self.detail_format:
            try:
                return self.detail_format.format(**groups)[:300]
            except (KeyError, IndexError, ValueError):
                pass
        first = next((g for g in m.groups() if g is not None), m.group(0))
        return " ".join(first.split())[:300]

    @property
    def reads_dialog(self) -> bool:
        """True when the rule reads options structurally (a list or one line of options)."""
        return self.option_anchor is not None or self.options_line is not None


@dataclass(frozen=True)
class AgentProfile:
    """Everything Quarterdeck knows about one agent kind."""

    kind: str
    description: str
    command: tuple[str, ...]
    program: str
    prompt: PromptDelivery = PromptDelivery.TYPE
    prompt_args: tuple[str, ...] = ("{prompt}",)
    #: The arguments that choose a model (``{model}`` is replaced), put after the command.
    model_args: tuple[str, ...] = ("--model", "{model}")
    ready_status: Status = Status.IDLE
    shell_means_exited: bool = True
    default_status: Status = Status.UNKNOWN
    rules: tuple[ScreenRule, ...] = ()
    chrome: tuple[re.Pattern[str], ...] = ()
    #: The CLI's input line: where typed text stands until the CLI takes it (the last match on
    #: screen, with the rows under it up to a blank row or a rule). None: the bottom line.
    input_line: re.Pattern[str] | None = None
    interrupt_keys: tuple[str, ...] = ("Escape",)
    #: What typing to the CLI while it works does: ``queue`` (it keeps the message for after
    #: the current step) or ``wait`` (Quarterdeck holds the message until the agent is ready).
    busy_input: str = "wait"
    env: Mapping[str, str] = field(default_factory=dict)
    #: The dialect of the CLI's hooks, named after the agent module that speaks it (``claude``,
    #: ``codex``, ``gemini``, ``aider``), empty for none.
    hooks: str = ""
    #: An agent-side status file to read, named after the agent module that reads it
    #: (``claude``: Claude Code's ``sessions/<pid>.json``), empty for none.
    status_file: str = ""
    #: How its dialogs take an answer: ``digit`` (press the option's number), ``arrows`` (move
    #: down to it, then Enter) or ``letter`` (type the option's first letter, then Enter).
    answer: str = "digit"
    #: Which dialog takes the keys when a screen shows several: ``top`` or ``bottom``; empty
    #: when not known (an answer by number is then refused).
    dialog_focus: str = ""
    #: How long an answered dialog may take to change, by input kind (``trust``: a CLI that
    #: restarts to apply it), in seconds; kinds not named get `ANSWER_SECONDS`.
    answer_wait: Mapping[str, float] = field(default_factory=dict)
    #: What the CLI shows while it restarts itself to apply an answer (the answer was taken).
    restarting: re.Pattern[str] | None = None
    #: What the CLI shows when the interrupt key must be pressed again to stop the turn.
    interrupt_again: re.Pattern[str] | None = None

    def answer_seconds(self, kind: InputKind | None) -> float:
        """How long a dialog of ``kind`` may take to show it took an answer."""
        return self.answer_wait.get(kind.value if kind is not None else "", ANSWER_SECONDS)

    def answer_keys(
        self, number: int, options: Sequence[str], how: str = "", selected: int = 0
    ) -> list[list[str]]:
        """The key presses that pick option ``number`` (1-based) of a dialog, as tmux
        ``send-keys`` argument lists (each list is one call; literal text is marked ``-l``).
        ``how`` overrides the profile's way for this dialog; ``selected`` is the option the
        selection is on (0: unknown, taken as the first)."""
        way = how or self.answer
        if way == "arrows":
            return [*move_keys(selected, number), ["Enter"]]
        if way == "letter":
            label = options[number - 1] if 0 < number <= len(options) else ""
            letter = next((c for c in label if c.isalnum()), "")
            return [["-l", letter.lower()], ["Enter"]] if letter else []
        return [["-l", str(number)]]

    def with_options(self, model: str, args: Sequence[str]) -> AgentProfile:
        """This profile with a model chosen and extra flags after its command."""
        extra = [a.replace("{model}", model) for a in self.model_args] if model else []
        extra += list(args)
        return replace(self, command=(*self.command, *extra)) if extra else self

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


def _name(raw: Any, where: str) -> str:
    """The name of something an adapter provides (a hook dialect, a status file); which names
    exist is known where the adapters are (`app.infra.settings` checks them)."""
    if not isinstance(raw, str):
        raise UsageError(f"{where}: expected a name in quotes, got {raw!r}")
    return raw


def _strings(raw: Any, where: str) -> tuple[str, ...]:
    if isinstance(raw, str):
        return (raw,)
    if isinstance(raw, list) and all(isinstance(x, str) for x in raw):
        return tuple(raw)
    raise UsageError(f"{where}: expected a string or a list of strings")


_RULE_KEYS = frozenset(
    {
        "name",
        "status",
        "kind",
        "phase",
        "screen",
        "title",
        "absent",
        "lines",
        "footer",
        "footer_lines",
        "question",
        "question_stop",
        "option",
        "option_anchor",
        "option_marker",
        "option_label",
        "options_line",
        "options_split",
        "option_strip",
        "asks",
        "offers",
        "detail",
        "detail_format",
        "answer",
        "hides",
    }
)


def _int(raw: Any, default: int, where: str) -> int:
    value = default if raw is None else raw
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UsageError(f"{where}: expected a whole number >= 0, got {raw!r}")
    return value


def _rule(kind: str, index: int, raw: Mapping[str, Any]) -> ScreenRule:
    where = f"agent {kind!r}, rule {index + 1}"
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise UsageError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    try:
        status = Status(raw["status"])
        input_kind = InputKind(raw["kind"]) if "kind" in raw else None
    except (KeyError, ValueError) as exc:
        raise UsageError(f"{where}: missing or unknown status/kind ({exc})") from exc
    try:
        phase = RulePhase(raw.get("phase", "running"))
    except ValueError as exc:
        raise UsageError(f"{where}: phase must be 'running' or 'exited' ({exc})") from exc

    def rx(key: str) -> re.Pattern[str] | None:
        return _regex(raw.get(key), f"{where} {key}")

    rule = ScreenRule(
        name=str(raw.get("name", f"rule {index + 1}")),
        status=status,
        kind=input_kind,
        phase=phase,
        screen=rx("screen"),
        title=rx("title"),
        absent=rx("absent"),
        lines=_int(raw.get("lines"), 12, f"{where} lines"),
        footer=rx("footer"),
        footer_lines=_int(raw.get("footer_lines"), 3, f"{where} footer_lines"),
        question=tuple(
            p
            for i, raw_q in enumerate(_strings(raw.get("question", []), f"{where} question"))
            if (p := _regex(raw_q, f"{where} question {i + 1}")) is not None
        ),
        question_stop=rx("question_stop"),
        option=rx("option"),
        option_anchor=rx("option_anchor"),
        option_marker=rx("option_marker"),
        option_label=rx("option_label") or DEFAULT_OPTION_LABEL,
        options_line=rx("options_line"),
        options_split=rx("options_split") or DEFAULT_OPTIONS_SPLIT,
        option_strip=rx("option_strip"),
        asks=rx("asks"),
        offers=rx("offers"),
        detail=rx("detail"),
        detail_format=str(raw.get("detail_format", "")),
        answer=_choice(raw["answer"], ANSWER_WAYS, f"{where} answer") if "answer" in raw else "",
        hides=str(raw.get("hides", "")),
    )
    if rule.screen is None and rule.title is None and rule.footer is None:
        raise UsageError(f"{where}: needs a 'screen' or a 'title' pattern (or a 'footer')")
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
        model_args=_strings(raw.get("model_args", ["--model", "{model}"]), f"{where} model_args"),
        ready_status=ready,
        shell_means_exited=bool(raw.get("shell_means_exited", True)),
        default_status=default,
        rules=tuple(_rule(kind, i, r) for i, r in enumerate(raw.get("rules", []))),
        chrome=tuple(
            p
            for i, c in enumerate(_strings(raw.get("chrome", []), f"{where} chrome"))
            if (p := _regex(c, f"{where} chrome {i + 1}")) is not None
        ),
        input_line=_regex(raw.get("input"), f"{where} input"),
        interrupt_keys=_strings(raw.get("interrupt", ["Escape"]), f"{where} interrupt"),
        busy_input=_choice(raw.get("busy_input", "wait"), ("queue", "wait"), f"{where} busy_input"),
        env={str(k): str(v) for k, v in dict(raw.get("env", {})).items()},
        hooks=_name(raw.get("hooks", ""), f"{where} hooks"),
        status_file=_name(raw.get("status_file", ""), f"{where} status_file"),
        answer=_choice(raw.get("answer", "digit"), ANSWER_WAYS, f"{where} answer"),
        dialog_focus=_choice(
            raw.get("dialog_focus", ""), ("", "top", "bottom"), f"{where} dialog_focus"
        ),
        answer_wait=_seconds(raw.get("answer_wait", {}), f"{where} answer_wait"),
        restarting=_regex(raw.get("restarting"), f"{where} restarting"),
        interrupt_again=_regex(raw.get("interrupt_again"), f"{where} interrupt_again"),
    )


def _seconds(raw: Any, where: str) -> dict[str, float]:
    """``{input kind = seconds}``: every key an input kind, every value a positive number."""
    if not isinstance(raw, Mapping):
        raise UsageError(f"{where}: expected a table of input kind = seconds")
    kinds = {k.value for k in InputKind}
    out: dict[str, float] = {}
    for key, value in raw.items():
        if key not in kinds:
            raise UsageError(f"{where}: {key!r} is not an input kind ({', '.join(sorted(kinds))})")
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise UsageError(f"{where}: {key} must be a number of seconds > 0, got {value!r}")
        out[str(key)] = float(value)
    return out


def parse_profiles(raw: Mapping[str, Any]) -> dict[str, AgentProfile]:
    """All profiles of a ``[agents.*]``-style mapping, keyed by kind."""
    return {kind: parse_profile(kind, table) for kind, table in raw.items()}
