"""Answering dialogs: which option means yes, no or "let me type", which answers can be given
and when one was taken, which waiting requests are alike, and the rules that approve requests
on the human's behalf."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.core.agent import Agent
from app.core.classify import screen_lines
from app.core.delivery import input_pending
from app.core.errors import UsageError
from app.core.status import InputKind, Reading, Status, describe_dialog
from app.core.views import AgentRow

_YES = re.compile(
    r"^\s*(?:\d+[.)]\s*)?(?:yes|y\b|allow|approve|proceed|accept|ok\b|trust|continue)", re.I
)
_NO = re.compile(
    r"^\s*(?:\d+[.)]\s*)?(?:no\b|n\b|reject|deny|decline|cancel|don'?t\b|do not|skip)", re.I
)
_FREE_TEXT = re.compile(
    r"type something|type your own|something else|other\b|custom|tell \w+ (?:what|how)"
    r"|suggest changes|none of the above|chat about",
    re.I,
)


def _first(options: Sequence[str], pattern: re.Pattern[str]) -> int | None:
    return next((i + 1 for i, o in enumerate(options) if pattern.search(o)), None)


def yes_option(options: Sequence[str]) -> int | None:
    """The 1-based option that says yes once (``Yes``, ``Allow once``, ``Yes, proceed (y)``)."""
    return _first(options, _YES)


def no_option(options: Sequence[str]) -> int | None:
    """The 1-based option that says no (``No``, ``Reject``, ``No, and tell Codex …``)."""
    return _first(options, _NO)


def free_text_option(options: Sequence[str]) -> int | None:
    """The 1-based option that lets the human type an answer of their own, if any."""
    return _first(options, _FREE_TEXT)


def request_subject(row: AgentRow) -> tuple[str, str]:
    """What a permission request is about: the tool and the command, path or URL, as hooks
    report them (``Bash``, ``npm test --watch``) or, without hooks, from the dialog's context
    on screen: the command it shows (the last ``$ <cmd>`` line, as opencode's and Codex's
    dialogs show it), else its first line."""
    if row.detail:
        tool, sep, rest = row.detail.partition(": ")
        return (tool, rest) if sep else ("", row.detail)
    commands = [c.strip()[2:] for c in row.context if c.strip().startswith("$ ")]
    if commands:
        return "", commands[-1].strip()
    line = next((c for c in row.context if c.strip()), "")
    return "", line.strip()


def request_signature(row: AgentRow, words: int = 2) -> tuple[str, ...]:
    """Requests with the same signature are alike: same agent kind, same kind of request and
    question, same tool, same first ``words`` words of the command."""
    tool, subject = request_subject(row)
    prefix = " ".join(subject.split()[:words])
    kind = row.input_kind.value if row.input_kind else ""
    return (row.kind, kind, row.question.strip().lower(), tool, prefix)


def similar_requests(rows: Iterable[AgentRow], like: AgentRow) -> list[AgentRow]:
    """The waiting permission requests alike to ``like`` (itself included), oldest first;
    never one whose screen shows another dialog too."""
    if like.status is not Status.NEEDS_INPUT or like.input_kind is not InputKind.PERMISSION:
        return []
    signature = request_signature(like)
    alike = [
        r
        for r in rows
        if r.status is Status.NEEDS_INPUT
        and r.input_kind is InputKind.PERMISSION
        and request_signature(r) == signature
        and yes_option(r.options) is not None
        and not r.others
    ]
    return sorted(alike, key=lambda r: r.since)


@dataclass(frozen=True)
class AutoApproveRule:
    """A request Quarterdeck approves on the human's behalf: agent kind (``*`` for any), tool
    (``*`` for any) and a regular expression the command (or path) must match from its start.
    Only requests whose tool and command a hook reported can match."""

    kind: str
    tool: str
    command: re.Pattern[str]

    def describe(self) -> str:
        """The rule as the human wrote it."""
        return f"kind={self.kind} tool={self.tool} command={self.command.pattern!r}"

    def matches(self, row: AgentRow) -> bool:
        """True for a permission request of this kind and tool whose command matches."""
        if row.status is not Status.NEEDS_INPUT or row.input_kind is not InputKind.PERMISSION:
            return False
        if self.kind not in ("*", row.kind) or not row.detail:
            return False  # only what a hook reported, never a guess from the screen
        tool, subject = request_subject(row)
        if self.tool != "*" and self.tool.lower() != tool.lower():
            return False
        return bool(subject) and self.command.match(subject) is not None


def auto_approval(rules: Sequence[AutoApproveRule], row: AgentRow) -> AutoApproveRule | None:
    """The first rule that approves the row's request, if any (and only when a yes option
    exists to pick)."""
    if yes_option(row.options) is None or row.others:
        return None  # never on the human's behalf while another dialog is open
    return next((rule for rule in rules if rule.matches(row)), None)


def choose(options: Sequence[str], choice: str) -> int:
    """The 1-based option a human means by ``choice``: its number, ``y``/``yes`` or ``n``/``no``
    (the dialog's yes or no option), or the start of its label (case ignored)."""
    wanted = choice.strip()
    if wanted.isdigit():
        number = int(wanted)
        if options and not 0 < number <= len(options):
            raise UsageError(f"the dialog has options 1 to {len(options)}")
        return number
    lowered = wanted.lower()
    if lowered in ("y", "yes", "n", "no"):
        found = yes_option(options) if lowered.startswith("y") else no_option(options)
        if found is None:
            raise UsageError(
                f"the dialog has no {'yes' if lowered.startswith('y') else 'no'} option"
            )
        return found
    matches = [i + 1 for i, o in enumerate(options) if o.lower().startswith(lowered)]
    if len(matches) == 1:
        return matches[0]
    listed = "; ".join(f"{i}. {o}" for i, o in enumerate(options, 1)) or "none"
    if not matches:
        raise UsageError(f"no option starts with {choice!r} (options: {listed})")
    raise UsageError(f"{choice!r} could be several options (options: {listed})")


def several_dialogs(name: str, shown: str, others: Sequence[str]) -> UsageError:
    """The refusal for a screen with several dialogs open and no telling which takes keys."""
    listed = "; ".join([shown, *others])
    return UsageError(
        f"{name}'s screen shows {1 + len(others)} dialogs ({listed}) and Quarterdeck cannot "
        f"tell which one the keys would reach; nothing was pressed: attach to answer "
        f"(quarterdeck attach {name})"
    )


def check_answer(agent: Agent, number: int) -> None:
    """Refuse (`UsageError`) to pick option ``number`` unless the agent, as last seen, waits on
    a dialog that has that option and takes the keys; a free-text question is answered in
    words instead."""
    shown = agent.shown
    if shown.status is not Status.NEEDS_INPUT:
        raise UsageError(f"{agent.name} is {shown.status.value}, not waiting on a dialog")
    if shown.others and not shown.focused:
        raise several_dialogs(
            agent.name, describe_dialog(shown.input_kind, shown.question, ()), shown.others
        )
    if shown.options and not 0 < number <= len(shown.options):
        raise UsageError(f"{agent.name}'s dialog has options 1 to {len(shown.options)}")
    if not shown.options and shown.input_kind is InputKind.QUESTION:
        raise UsageError(f"{agent.name} asks a free-text question: attach to answer it")


def check_on_screen(agent: Agent, now: Reading) -> None:
    """Refuse (`UsageError`) to press keys unless the dialog on the screen now (``now``) is
    the one the human was shown and it takes the keys: the screen may have changed since."""
    shown = agent.shown
    if now.status is not Status.NEEDS_INPUT:
        raise UsageError(f"{agent.name} no longer shows a dialog; nothing was pressed")
    if now.others and not now.focused:
        raise several_dialogs(
            agent.name, describe_dialog(now.kind, now.question, now.options), now.others
        )
    # What a hook told of a question (its labels) may be less than the screen shows
    # ("Type something." added): then every option shown must be on the screen, in order.
    if shown.evidence.startswith("hook"):
        options_same = [o for o in now.options if o in shown.options] == list(shown.options)
    else:
        options_same = now.options == shown.options
    same = (
        (not shown.question or now.question == shown.question)
        and (not shown.options or options_same)
        and now.others == shown.others
    )
    if not same:
        raise UsageError(
            f"{agent.name}'s screen now shows another dialog than the one shown "
            f"({describe_dialog(now.kind, now.question, now.options)}); nothing was pressed: "
            "look again and answer that one"
        )


def answer_taken(before: Reading, after: Reading) -> bool:
    """Whether an answered dialog took its keys: the screen now says something else (the dialog
    changed or went). An agent that exited took them too, but has no screen to say so."""
    return not after.same_state(before)


def check_reply(agent: Agent, text: str) -> int | None:
    """Refuse (`UsageError`) a reply in words unless the agent waits on a dialog that takes one;
    returns the option to pick first ("type my own answer"), if the dialog has one."""
    shown = agent.shown
    if shown.status is not Status.NEEDS_INPUT:
        raise UsageError(f"{agent.name} is {shown.status.value}, not waiting on a dialog")
    if not text.strip():
        raise UsageError("the reply is empty")
    if shown.others and not shown.focused:
        raise several_dialogs(
            agent.name, describe_dialog(shown.input_kind, shown.question, ()), shown.others
        )
    option = free_text_option(shown.options)
    if option is None and (shown.options or shown.input_kind is not InputKind.QUESTION):
        listed = "; ".join(f"{i}. {o}" for i, o in enumerate(shown.options, 1))
        raise UsageError(f"{agent.name}'s dialog takes no typed answer; pick an option ({listed})")
    return option


def reply_taken(
    before: tuple[Status, str], after: tuple[Status, str], screen: str, text: str
) -> bool:
    """Whether a reply typed in words was taken as the answer. ``before`` and ``after`` are
    the status and question shown before typing and now: an agent that was asking must have
    moved on (another status or question), the reply must have left its input line, and the
    screen must show it (the CLI echoes the answer it took: ``→ green please``,
    ``note: green please``)."""
    moved_on = before[0] is not Status.NEEDS_INPUT or after != before
    return moved_on and not input_pending(screen, text) and shows_text(screen, text)


#: How much of a reply must be seen on the screen (a long one wraps and scrolls).
_SHOWN_CHARS = 40


def shows_text(screen: str, text: str) -> bool:
    """Whether the screen shows ``text`` (its start, words folded as a wrap folds them)."""
    words = " ".join(text.split())[:_SHOWN_CHARS]
    folded = " ".join(" ".join(screen_lines(screen)).split())
    return bool(words) and words in folded
