"""Plan files: many tasks at once (`quarterdeck task import`), as a Markdown checklist or a TOML
file, and the one mapping of a task's options onto its `TaskSpec` that plans and the command
line's ``task add`` / ``task edit`` share.

A Markdown plan is a checklist: each ``- [ ] Title`` item is a task (``- [x]`` items are done
and skipped); an item indented under another runs after it. Under an item, its indented lines
are the prompt, and sub-bullets ``- key: value`` with one of `MARKDOWN_KEYS` (lowercase, at the
item's own level) are its options; everything else is prompt text, and headings and text outside
the items are ignored. A TOML plan is a list of ``[[task]]`` tables with the keys of `TOML_KEYS`.
Every mistake is a `UsageError` naming the file and line.
"""

from __future__ import annotations

import difflib
import re
import shlex
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from app.core.errors import UsageError
from app.core.naming import slugify
from app.core.tasks import (
    DEFAULT_LOOP_ROUNDS,
    Caps,
    TaskSpec,
    find_cycle,
    name_tasks,
    parse_attempts,
)


@dataclass(frozen=True)
class TaskOptions:
    """A task's options as the human gave them; None leaves the spec's value as it is.

    ``until`` is a check to loop on (`DEFAULT_LOOP_ROUNDS` rounds unless ``rounds`` says);
    ``check`` sets the check and leaves the rounds alone; ``attempts`` is ``3`` or
    ``claude,codex:o3``, each attempt of ``agent`` / ``model`` / ``flags`` unless it names a kind.
    """

    title: str | None = None
    prompt: str | None = None
    name: str | None = None
    after: tuple[str, ...] | None = None
    until: str | None = None
    check: str | None = None
    rounds: int | None = None
    minutes: float | None = None
    tokens: int | None = None
    attempts: str | None = None
    agent: str | None = None
    model: str | None = None
    flags: tuple[str, ...] | None = None
    base: str | None = None
    land: bool | None = None
    needs_landed: bool | None = None


def apply_options(spec: TaskSpec, options: TaskOptions) -> TaskSpec:
    """``spec`` with the options given; a `UsageError` for options that cannot work together."""
    o = options
    if o.until is not None and o.check is not None:
        raise UsageError("give a check to loop on (until) or a check (check), not both")
    if o.until is not None and not o.until.strip():
        raise UsageError("until needs the command of a check")
    if o.rounds is not None and o.rounds < 1:
        raise UsageError(f"rounds must be at least 1, not {o.rounds}")
    if (o.minutes is not None and o.minutes < 0) or (o.tokens is not None and o.tokens < 0):
        raise UsageError("minutes and tokens cannot be negative")
    rounds = spec.caps.rounds
    if o.rounds is not None:
        rounds = o.rounds
    elif o.until is not None and not spec.caps.looping:
        rounds = DEFAULT_LOOP_ROUNDS
    caps = Caps(
        rounds=rounds,
        minutes=spec.caps.minutes if o.minutes is None else float(o.minutes),
        tokens=spec.caps.tokens if o.tokens is None else o.tokens,
    )
    chosen: dict[str, Any] = {
        key: value
        for key, value in (("kind", o.agent), ("model", o.model), ("flags", o.flags))
        if value is not None
    }
    attempts = spec.attempts
    if o.attempts is not None:
        attempts = parse_attempts(o.attempts, replace(spec.attempts[0], **chosen))
    elif chosen:
        attempts = tuple(replace(choice, **chosen) for choice in spec.attempts)
    given: dict[str, Any] = {
        key: value
        for key, value in (
            ("title", o.title),
            ("prompt", o.prompt),
            ("name", o.name),
            ("after", o.after),
            ("check", o.until if o.until is not None else o.check),
            ("base", o.base),
            ("land", o.land),
            ("needs_landed", o.needs_landed),
        )
        if value is not None
    }
    return replace(spec, **given, caps=caps, attempts=attempts)


# ---------------------------------------------------------------------------- option values

#: The keys of a TOML plan's ``[[task]]`` table.
TOML_KEYS = tuple(f.name for f in fields(TaskOptions))
#: The options a Markdown item takes as ``- key: value`` sub-bullets (its title and prompt are
#: the item's text).
MARKDOWN_KEYS = tuple(key.replace("_", "-") for key in TOML_KEYS if key not in ("title", "prompt"))
_TRUE = {"yes", "true", "on", "1"}
_FALSE = {"no", "false", "off", "0"}


def _text_value(key: str, text: str) -> object:
    """A Markdown option's value from its text (the `TaskOptions` field's type)."""
    value = text.strip().strip("`").strip() if key != "flags" else text.strip()
    if not value:
        raise UsageError(f"{key}: needs a value")
    if key == "after":
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if key in ("rounds", "tokens"):
        if not value.isdigit():
            raise UsageError(f"{key}: a whole number, not {value!r}")
        return int(value)
    if key == "minutes":
        try:
            return float(value)
        except ValueError:
            raise UsageError(f"minutes: a number, not {value!r}") from None
    if key == "flags":
        try:
            return tuple(shlex.split(value.strip("`")))
        except ValueError as exc:
            raise UsageError(f"flags: {exc}") from None
    if key in ("land", "needs-landed"):
        if value.lower() not in _TRUE | _FALSE:
            raise UsageError(f"{key}: yes or no, not {value!r}")
        return value.lower() in _TRUE
    return value


def _toml_value(key: str, value: object) -> object:
    """A TOML key's value, its type checked (the `TaskOptions` field's type)."""
    if key in ("after", "flags"):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise UsageError(f'{key}: a list of strings, like {key} = ["a", "b"]')
        return tuple(value)
    if key in ("land", "needs_landed"):
        if not isinstance(value, bool):
            raise UsageError(f"{key}: true or false")
        return value
    if key in ("rounds", "tokens"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise UsageError(f"{key}: a whole number")
        return value
    if key == "minutes":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise UsageError("minutes: a number")
        return float(value)
    if key == "attempts" and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise UsageError(f"{key}: a string")
    return value


def _field(key: str) -> str:
    return key.replace("-", "_")


# ---------------------------------------------------------------------------- the plan's items


@dataclass
class _Item:
    """One task of a plan as read, before it is named and its dependencies resolved."""

    line: int
    title: str
    done: bool = False
    indent: int = 0
    parent: _Item | None = None
    #: Option field → (value, line).
    options: dict[str, tuple[object, int]] = field(default_factory=dict)
    body: list[str] = field(default_factory=list)
    #: The indents of the prompt's own bullets open at the last line.
    bullets: list[int] = field(default_factory=list)
    name: str = ""

    def set(self, key: str, value: object, line: int, where: str) -> None:
        first = self.options.get(_field(key))
        if first is not None:
            raise UsageError(f"{where} line {line}: {key} given twice (first on line {first[1]})")
        self.options[_field(key)] = (value, line)

    @property
    def prompt(self) -> str:
        lines = list(self.body)
        while lines and not lines[0].strip():
            lines.pop(0)
        while lines and not lines[-1].strip():
            lines.pop()
        margin = min((len(x) - len(x.lstrip(" ")) for x in lines if x.strip()), default=0)
        return "\n".join(x[margin:] for x in lines)


_BULLET = re.compile(r"^ *(?:[-*+]|\d{1,9}[.)])\s+(?P<rest>.*)$")
_BOX = re.compile(r"^\[(?P<mark>[ xX])\](?:\s+(?P<title>.*))?$")
_OPTION = re.compile(r"^(?P<key>[a-z][a-z_-]*):(?:\s+(?P<value>.*))?$")
_FENCE = re.compile(r"^ *(?P<fence>`{3,}|~{3,})")
_TOML_HEADER = re.compile(r"^\s*\[\[\s*task\s*\]\]")


def _markdown_items(text: str, where: str) -> list[_Item]:
    """The checklist's items, their options and prompts, each knowing its parent item."""
    items: list[_Item] = []
    stack: list[_Item] = []
    fence: tuple[_Item | None, str] | None = None
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.expandtabs(4).rstrip()
        if fence is not None:
            owner, marker = fence
            if owner is not None:
                owner.body.append(line)
            if line.lstrip().startswith(marker):
                fence = None
            continue
        if not line:
            if stack:
                stack[-1].body.append("")
            continue
        indent = len(line) - len(line.lstrip(" "))
        while stack and stack[-1].indent >= indent:
            stack.pop()
        owner = stack[-1] if stack else None
        bullet = _BULLET.match(line)
        box = _BOX.match(bullet["rest"]) if bullet else None
        if box is not None:
            title = (box["title"] or "").strip()
            if not title:
                raise UsageError(f"{where} line {n}: a task needs a title after '[ ]'")
            item = _Item(n, title, done=box["mark"] != " ", indent=indent, parent=owner)
            items.append(item)
            stack.append(item)
            continue
        if (opened := _FENCE.match(line)) is not None:
            fence = (owner, opened["fence"][:3])
        if owner is None:
            continue  # headings and text outside the checklist
        while owner.bullets and owner.bullets[-1] >= indent:
            owner.bullets.pop()
        if bullet is not None and fence is None:
            if not owner.bullets and _read_option(owner, bullet["rest"], n, where):
                continue
            owner.bullets.append(indent)
        owner.body.append(line)
    return items


def _read_option(item: _Item, text: str, n: int, where: str) -> bool:
    """Whether the sub-bullet ``text`` is an option of ``item`` (then set on it)."""
    option = _OPTION.match(text)
    if option is None:
        return False
    key = option["key"]
    if key == "needs_landed":
        key = "needs-landed"
    if key not in MARKDOWN_KEYS:
        close = difflib.get_close_matches(key, MARKDOWN_KEYS, n=1, cutoff=0.8)
        if close:
            raise UsageError(
                f"{where} line {n}: unknown option {key!r} (did you mean {close[0]!r}?); a "
                "prompt bullet that only looks like one: start it with a capital letter"
            )
        return False
    if item.done:
        if key == "name":  # an item done is still named by ``after``
            item.options["name"] = ((option["value"] or "").strip("` "), n)
        return True
    try:
        item.set(key, _text_value(key, option["value"] or ""), n, where)
    except UsageError as exc:
        if str(exc).startswith(where):
            raise
        raise UsageError(f"{where} line {n}: {exc}") from None
    return True


def _toml_items(text: str, where: str) -> list[_Item]:
    """The ``[[task]]`` tables, each key's value type-checked and its line known."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{where}: not valid TOML: {exc}") from None
    lines = text.splitlines()
    headers = [n for n, line in enumerate(lines, 1) if _TOML_HEADER.match(line)]
    for key in data:
        if key != "task":
            raise UsageError(
                f"{where} line {_key_line(lines, key, 1, len(lines))}: unknown table or key "
                f"{key!r}: a plan holds [[task]] tables"
            )
    tables = data.get("task", [])
    if not isinstance(tables, list):
        raise UsageError(f"{where}: write each task as a [[task]] table")
    items = []
    for i, table in enumerate(tables):
        start = headers[i] if i < len(headers) else 1
        end = headers[i + 1] if i + 1 < len(headers) else len(lines) + 1
        item = _Item(start, "")
        for key, value in table.items():
            at = _key_line(lines, key, start, end)
            if key not in TOML_KEYS:
                known = ", ".join(TOML_KEYS)
                raise UsageError(f"{where} line {at}: unknown key {key!r} (known: {known})")
            try:
                item.set(key, _toml_value(key, value), at, where)
            except UsageError as exc:
                raise UsageError(f"{where} line {at}: {exc}") from None
        title, _ = item.options.pop("title", ("", start))
        item.title = str(title).strip()
        if not item.title:
            raise UsageError(f'{where} line {start}: a task needs a title (title = "…")')
        items.append(item)
    return items


def _key_line(lines: list[str], key: str, start: int, end: int) -> int:
    """The line where ``key =`` is set between lines ``start`` and ``end`` (else ``start``)."""
    pattern = re.compile(rf"^\s*(?:{re.escape(key)}|\"{re.escape(key)}\")\s*[=.]")
    for n in range(start, min(end, len(lines) + 1)):
        if pattern.match(lines[n - 1]):
            return n
    return start


# ---------------------------------------------------------------------------- the plan


def plan_format(source: str, text: str) -> str:
    """``markdown`` or ``toml``: by the file's extension, else by what its text looks like."""
    lower = source.lower()
    if lower.endswith((".md", ".markdown")):
        return "markdown"
    if lower.endswith(".toml"):
        return "toml"
    lines = text.splitlines()
    if any(_TOML_HEADER.match(line) for line in lines):
        return "toml"
    if any((b := _BULLET.match(line)) and _BOX.match(b["rest"]) for line in lines):
        return "markdown"
    raise UsageError(
        f"{source}: neither a Markdown checklist ('- [ ] Title' items) nor a TOML plan "
        "([[task]] tables); name it .md or .toml"
    )


def parse_plan(text: str, source: str = "plan", taken: Iterable[str] = ()) -> list[TaskSpec]:
    """The tasks of a plan file, in its order, each named (`name_tasks` against the board's
    names ``taken``) and waiting on its parent item and its ``after`` tasks — by name or title
    within the plan, else by name on the board."""
    fmt = plan_format(source, text)
    items = _markdown_items(text, source) if fmt == "markdown" else _toml_items(text, source)
    todo = [item for item in items if not item.done]
    if not todo:
        raise UsageError(f"{source}: no task to add" + (" (every item is done)" if items else ""))
    board = set(taken)
    specs: dict[int, TaskSpec] = {}
    used = set(board)
    for item in todo:
        try:
            spec = apply_options(TaskSpec(title=item.title, prompt=item.prompt), _options(item))
            (item.name,) = name_tasks([spec], used)
        except UsageError as exc:
            raise UsageError(f"{source} line {item.line}: {exc}") from None
        used.add(item.name)
        specs[item.line] = spec
    for item in items:
        if item.done:
            given = item.options.get("name")
            item.name = str(given[0]) if given else slugify(item.title)
    resolved = {item.line: _dependencies(item, items, board, source) for item in todo}
    _refuse_cycle({item.name: resolved[item.line] for item in todo}, todo, source)
    return [replace(specs[i.line], name=i.name, after=resolved[i.line]) for i in todo]


def _options(item: _Item) -> TaskOptions:
    values: dict[str, Any] = {k: v for k, (v, _) in item.options.items() if k != "after"}
    return TaskOptions(**values)


def _dependencies(item: _Item, items: list[_Item], board: set[str], where: str) -> tuple[str, ...]:
    """The names ``item`` waits on: its nearest parent item not done, then its ``after``."""
    deps: list[str] = []
    parent = item.parent
    while parent is not None and parent.done:
        parent = parent.parent
    if parent is not None:
        deps.append(parent.name)
    refs, line = item.options.get("after", ((), item.line))
    assert isinstance(refs, tuple)
    for ref in refs:
        name = _resolve(str(ref), items, board, f"{where} line {line}")
        if name and name not in deps:
            deps.append(name)
    return tuple(deps)


def _resolve(ref: str, items: list[_Item], board: set[str], where: str) -> str:
    """The task ``ref`` names ('' for a done item): a plan task by name, then by its title's
    slug, then a task on the board by name."""
    for item in items:
        if item.name == ref:
            return "" if item.done else ref
    matches = [item for item in items if slugify(item.title) == slugify(ref)]
    open_matches = [item for item in matches if not item.done]
    if len(open_matches) > 1:
        named = ", ".join(f"{m.name} (line {m.line})" for m in open_matches)
        raise UsageError(f"{where}: after {ref!r} could be any of {named}: give its name")
    if open_matches:
        return open_matches[0].name
    if matches:
        return ""
    if ref in board:
        return ref
    names = ", ".join(item.name for item in items if not item.done)
    on_board = " or on the board" if board else ""
    raise UsageError(
        f"{where}: after {ref!r}: no such task in the plan{on_board} (the plan's: {names})"
    )


def _refuse_cycle(graph: Mapping[str, tuple[str, ...]], items: list[_Item], where: str) -> None:
    cycle = find_cycle(graph)
    if cycle is None:
        return
    lines = {item.name: item.line for item in items}
    path = " → ".join(f"{name} (line {lines[name]})" if name in lines else name for name in cycle)
    raise UsageError(f"{where}: dependency cycle: {path}")
