"""The demo agent's plan: what each turn does, decided from a seed and the task text alone.

Everything here is pure (no I/O, no clock), so a seed and a sequence of tasks always give the
same turns; the agent in `app.demo.agent` only carries the plan out and draws the screen.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

Behaviour = Literal[
    "worker", "asker", "questioner", "busy", "quitter", "crasher", "checklist", "mixed"
]
StepKind = Literal[
    "read", "edit", "tick", "test", "commit", "ask", "run", "question", "crash", "fail"
]

#: Every behaviour the agent accepts on its command line, ``mixed`` being the default.
BEHAVIOURS: tuple[Behaviour, ...] = (
    "worker",
    "asker",
    "questioner",
    "busy",
    "quitter",
    "crasher",
    "checklist",
    "mixed",
)

_VERBS: dict[StepKind, tuple[str, ...]] = {
    "read": ("Reading", "Searching", "Exploring"),
    "edit": ("Editing", "Writing", "Refactoring"),
    "tick": ("Editing", "Updating"),
    "test": ("Testing", "Verifying"),
    "commit": ("Committing",),
    "ask": ("Thinking", "Planning"),
    "run": ("Running",),
    "question": ("Pondering", "Thinking"),
    "crash": ("Thinking", "Compiling"),
}
_READ_PATHS = ("README.md", "src/app.py", "pyproject.toml", "src/__init__.py", "docs/design.md")
_MODULES = ("cache", "parser", "billing", "search", "auth", "metrics", "router", "storage")
_TOPICS = ("architecture", "roadmap", "caching", "testing", "performance", "onboarding")
_PHRASES = (
    "keep the public API small",
    "measure before optimising",
    "cover the edge case with a test",
    "log the decision and why",
    "prefer the boring solution",
    "fail loudly on bad input",
    "name things after what they mean",
    "delete the dead code path",
)
_COMMANDS = ("pytest -q", "npm test", "make lint", "git push", "rm -rf build/", "docker compose up")
_QUESTIONS = (
    "Which database should the cache use?",
    "Should the new endpoint require authentication?",
    "What should the default timeout be?",
    "Do you want the old behaviour kept behind a flag?",
    "Which Python version must this support?",
)
#: Commit messages for a commit whose latest edit was a note, or source code.
_NOTE_COMMITS = ("docs: notes on {topic}", "docs: {task}")
_CODE_COMMITS = ("feat: {task}", "refactor: tidy {module}", "fix: {task}", "chore: update {module}")
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "to",
        "of",
        "and",
        "or",
        "for",
        "in",
        "on",
        "with",
        "into",
        "please",
        "add",
        "make",
        "fix",
    ]
)


@dataclass(frozen=True)
class Step:
    """One planned step of a turn.

    Attributes:
        kind: What the step does.
        verb: The spinner's verb while the step runs, e.g. ``Editing``.
        path: The file a ``read`` or ``edit`` step touches, relative to the working directory.
        text: The command (``ask``, ``run``), question, commit message or test summary.
        lines: The lines an ``edit`` appends.
        removed: How many earlier body lines an ``edit`` deletes (at most as many as exist).
    """

    kind: StepKind
    verb: str
    path: str = ""
    text: str = ""
    lines: tuple[str, ...] = ()
    removed: int = 0


@dataclass(frozen=True)
class Turn:
    """A planned turn: the concrete behaviour it follows and its steps, in order."""

    behaviour: Behaviour
    task: str
    steps: tuple[Step, ...]


#: The file a ``checklist`` agent ticks items off, unless told another.
DEFAULT_CHECKLIST = "TODO.md"
#: An unchecked Markdown task-list item: group 1 runs up to the box's `[`, group 2 is its text.
_UNCHECKED = re.compile(r"^(\s*[-*+] \[) \](?:[ \t]+(.*))?$")

#: The step that ends a turn in an API error (tasks that start with ``error:``).
FAIL_STEP = Step("fail", "Calling the model", text="API Error: 529 simulated overload")


def task_words(task: str) -> list[str]:
    """The task's meaningful words, lower-cased and ASCII-only, for naming files.

    Args:
        task: The task text as typed.

    Returns:
        Up to three words, stop words dropped; empty if nothing usable is left.
    """
    # Accents are dropped rather than the letters carrying them ("écrire" gives "ecrire").
    ascii_task = unicodedata.normalize("NFKD", task).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_task.lower())
    return [w for w in words if w not in _STOPWORDS][:3]


def _work_kinds(rng: random.Random, count: int) -> list[StepKind]:
    """``count`` (at least 2) read/edit/test/commit kinds: an edit first, a commit somewhere.

    A commit is only planned when something was edited since the previous one, so every
    commit has content; edits after the last commit are left uncommitted on purpose.
    """
    kinds: list[StepKind] = ["edit"]
    dirty = True
    for _ in range(count - 1):
        kind: StepKind = rng.choice(("read", "edit", "edit", "test", "commit"))
        if kind == "commit" and not dirty:
            kind = "edit"
        dirty = kind != "commit" and (dirty or kind == "edit")
        kinds.append(kind)
    if "commit" not in kinds:
        # The first step is an edit and nothing was committed yet, so any later slot works.
        kinds[rng.randint(1, count - 1)] = "commit"
    return kinds


def _kinds_for(rng: random.Random, behaviour: Behaviour) -> list[StepKind]:
    if behaviour == "busy":
        return _work_kinds(rng, rng.randint(20, 40))
    if behaviour == "crasher":
        before: list[StepKind] = ["edit", "read", "test"]
        return [*before[: rng.randint(1, 3)], "crash"]
    kinds = _work_kinds(rng, rng.randint(2, 5))
    if behaviour == "asker":
        # Ask after the first commit (always at least the second step), so a refusal still
        # leaves the turn with real work and the turn's `demo> ` line is off the dialog region.
        at = kinds.index("commit") + 1
        kinds[at:at] = ["ask", "run"]
    elif behaviour == "questioner":
        # At least two step lines above the question box keep the turn's `demo> ` line out of
        # the screen region the classifier reads for it; the edit after it records the answer.
        at = rng.randint(2, len(kinds))
        kinds[at:at] = ["question", "edit"]
    return kinds


def _error_turn(behaviour: Behaviour, task: str) -> Turn | None:
    """A task that starts with ``error:`` ends its turn in an API error, as a real CLI's does
    when its model server fails and its retries run out; None for any other task."""
    if not task.strip().lower().startswith("error:"):
        return None
    return Turn(behaviour, task, (Step("read", "Reading", path=_READ_PATHS[0]), FAIL_STEP))


def plan_turn(rng: random.Random, behaviour: Behaviour, task: str) -> Turn:
    """Plan one turn (a ``checklist`` agent's: `plan_checklist_turn`).

    Args:
        rng: The agent's seeded generator; each call advances it, so turns differ.
        behaviour: The agent's behaviour; ``mixed`` picks worker, asker or questioner.
        task: The task text, which names the files the turn edits.

    Returns:
        The turn, with every choice (paths, lines, commands, messages) already made.
    """
    concrete: Behaviour = behaviour
    failing = _error_turn(behaviour, task)
    if failing is not None:
        return failing
    if behaviour == "mixed":
        concrete = rng.choice(("worker", "asker", "questioner"))
    words = task_words(task)
    topic = "-".join(words) or rng.choice(_TOPICS)
    module = words[0] if words and words[0].isidentifier() else rng.choice(_MODULES)
    targets = (f"notes/{topic}.md", f"src/{module}.py")
    command = rng.choice(_COMMANDS)
    steps: list[Step] = []
    last_edit = targets[0]
    for kind in _kinds_for(rng, concrete):
        verb = rng.choice(_VERBS[kind])
        if kind == "read":
            steps.append(Step(kind, verb, path=rng.choice((*_READ_PATHS, *targets))))
        elif kind == "edit":
            lines = tuple(rng.choice(_PHRASES) for _ in range(rng.randint(1, 6)))
            removed = rng.choice((0, 0, 1, 2))
            last_edit = rng.choice(targets)
            steps.append(Step(kind, verb, path=last_edit, lines=lines, removed=removed))
        elif kind == "test":
            steps.append(Step(kind, verb, text=f"{rng.randint(5, 60)} passed"))
        elif kind == "commit":
            template = rng.choice(_NOTE_COMMITS if last_edit == targets[0] else _CODE_COMMITS)
            short = " ".join(task.split())[:50] or topic
            message = template.format(topic=topic, task=short, module=module)
            steps.append(Step(kind, verb, text=message))
        elif kind in ("ask", "run"):
            steps.append(Step(kind, verb, text=command))
        elif kind == "question":
            steps.append(Step(kind, verb, text=rng.choice(_QUESTIONS)))
        else:
            steps.append(Step(kind, verb))
    return Turn(concrete, task, tuple(steps))


def unchecked_items(text: str) -> list[str]:
    """The checklist's unchecked items (``- [ ] text``, at any indentation), in file order."""
    return [(m.group(2) or "").strip() for m in map(_UNCHECKED.match, text.splitlines()) if m]


def tick_checklist(text: str) -> tuple[str, str] | None:
    """The checklist with its first unchecked item ticked (``- [ ]`` → ``- [x]``, the rest of
    the text as it was), and that item's text; None when no unchecked item is left."""
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        found = _UNCHECKED.match(line.rstrip("\r\n"))
        if found:
            lines[i] = f"{found.group(1)}x{line[found.end(1) + 1 :]}"
            return "".join(lines), (found.group(2) or "").strip()
    return None


def plan_checklist_turn(rng: random.Random, task: str, path: str, text: str | None) -> Turn:
    """Plan a ``checklist`` turn: read the checklist, tick exactly one unchecked item, test,
    commit — or, with none left (or no checklist at all), say so and edit nothing.

    Args:
        rng: The agent's seeded generator (it picks the verbs and the test count).
        task: The task text (the turn ticks an item whatever it says).
        path: The checklist's path, relative to the working directory.
        text: The checklist's text now; None when there is no such file.
    """
    failing = _error_turn("checklist", task)
    if failing is not None:
        return failing
    items = unchecked_items(text or "")
    if text is None:
        said = "no such file, nothing to tick"
    elif not items:
        said = "no unchecked item left, nothing to do"
    else:
        said = f"{len(items)} unchecked item{'s' if len(items) > 1 else ''}"
    steps = [Step("read", rng.choice(_VERBS["read"]), path=path, text=said)]
    if items:
        item = items[0]
        steps += [
            Step("tick", rng.choice(_VERBS["tick"]), path=path, text=item),
            Step("test", rng.choice(_VERBS["test"]), text=f"{rng.randint(5, 60)} passed"),
            Step("commit", "Committing", text=f"docs: tick off {item[:50]}"),
        ]
    return Turn("checklist", task, tuple(steps))


class Planner:
    """Plans an agent's turns one after another from a single seeded generator."""

    def __init__(self, seed: int, behaviour: Behaviour, checklist: str = DEFAULT_CHECKLIST) -> None:
        """Start a plan.

        Args:
            seed: The seed for every choice.
            behaviour: The agent's behaviour for all its turns.
            checklist: A ``checklist`` agent's checklist file, relative to its working
                directory.
        """
        self.rng = random.Random(seed)
        self.behaviour = behaviour
        self.checklist = checklist

    def next_turn(self, task: str, checklist_text: str | None = None) -> Turn:
        """Plan the next turn for ``task``; a ``checklist`` agent is given its checklist's
        text as it is now (None: there is no such file)."""
        if self.behaviour == "checklist":
            return plan_checklist_turn(self.rng, task, self.checklist, checklist_text)
        return plan_turn(self.rng, self.behaviour, task)


def call_tokens(task: str, call: int) -> tuple[int, int]:
    """The tokens one model call of a turn takes, as the agent reports them: its input is a
    fixed preamble, the task (four characters a token) and what the turn's earlier calls
    added; its output is fixed.

    Args:
        task: The turn's task text.
        call: The call's number in the turn (0 for its first).

    Returns:
        ``(input_tokens, output_tokens)``.
    """
    return 400 + len(task) // 4 + 100 * call, 60


def apply_edit(old: str, path: str, step: Step, note: str = "") -> tuple[str, int, int]:
    """A file's new text after an edit step, and the lines it added and removed.

    Markdown notes get bullet lines; Python files get one-line string constants, so deleting
    any body line still leaves valid Python.

    Args:
        old: The file's current text ("" if it does not exist).
        path: The file's path, whose suffix picks the format.
        step: The ``edit`` step.
        note: Extra context to record (e.g. the user's last answer), if any.

    Returns:
        ``(new_text, added, removed)``.
    """
    python = path.endswith(".py")
    stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    if old:
        head, _, rest = old.partition("\n\n")
        body = rest.splitlines()
    else:
        head = f'"""{stem}: written by the Quarterdeck demo agent."""' if python else f"# {stem}"
        body = []
    removed = min(step.removed, len(body))
    body = body[: len(body) - removed]
    texts = [*step.lines, *([f"answer: {note}"] if note else [])]
    start = len(body) + 1
    if python:
        new = [f"NOTE_{start + i} = {text!r}" for i, text in enumerate(texts)]
    else:
        new = [f"- {text}" for text in texts]
    return f"{head}\n\n" + "\n".join([*body, *new]) + "\n", len(new), removed
