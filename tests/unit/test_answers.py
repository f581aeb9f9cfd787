"""Answering: which option means yes, no or "let me type", which answers can be given and when
one was taken, alike requests, auto-approve rules, the inbox order, alerts and the settings
behind them."""

from __future__ import annotations

import re
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from app.core.agent import Agent, StatusShown
from app.core.alerts import AlertKind, alerts_between
from app.core.answers import (
    AutoApproveRule,
    answer_taken,
    auto_approval,
    check_answer,
    check_on_screen,
    check_reply,
    choose,
    free_text_option,
    no_option,
    reply_taken,
    similar_requests,
    yes_option,
)
from app.core.errors import UsageError
from app.core.status import Evidence, InputKind, Reading, Status, StatusTracker
from app.core.views import AgentRow, FleetView
from app.infra.settings import load_settings
from tests.helpers import make_agent

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "screens"
LABELS = tomllib.loads((FIXTURES / "labels.toml").read_text(encoding="utf-8"))


def row(
    name: str,
    status: Status = Status.NEEDS_INPUT,
    *,
    since: float = 100.0,
    kind: str = "claude",
    input_kind: InputKind | None = InputKind.PERMISSION,
    question: str = "Do you want to proceed?",
    options: tuple[str, ...] = ("Yes", "Yes, and don't ask again", "No"),
    detail: str = "Bash: npm test",
) -> AgentRow:
    return AgentRow(
        name=name,
        kind=kind,
        status=status,
        status_label=status.value,
        since=since,
        branch=f"qd/{name}",
        summary="",
        pane_id="%1",
        evidence="",
        question=question,
        options=options,
        input_kind=input_kind if status is Status.NEEDS_INPUT else None,
        detail=detail,
    )


@pytest.mark.parametrize(
    ("agent", "stem"),
    [
        (agent, stem)
        for agent, entries in LABELS.items()
        for stem, label in entries.items()
        if label.get("kind") == "permission" and label.get("options")
    ],
)
def test_every_recorded_permission_dialog_has_a_yes_and_a_no(agent: str, stem: str) -> None:
    options = LABELS[agent][stem]["options"]
    yes, no = yes_option(options), no_option(options)
    assert yes is not None and no is not None, options
    assert yes != no
    assert not options[no - 1].lower().startswith(("yes", "allow"))


def test_free_text_options_of_recorded_questions() -> None:
    claude = LABELS["claude"]["30-question-askuserquestion"]["options"]
    assert free_text_option(claude) == 3  # "Type something."
    assert free_text_option(["Red", "Blue"]) is None
    codex = LABELS["codex"]["20-permission-bash"]["options"]
    assert codex[free_text_option(codex) - 1].startswith("No, and tell Codex")  # type: ignore[operator]


def test_choose_by_number_yes_no_or_label() -> None:
    options = ("Allow once", "Allow always", "Reject")
    assert choose(options, "2") == 2
    assert choose(options, "y") == 1 and choose(options, "YES") == 1
    assert choose(options, "n") == 3
    assert choose(options, "allow a") == 2
    with pytest.raises(UsageError, match="options 1 to 3"):
        choose(options, "4")
    with pytest.raises(UsageError, match="could be several"):
        choose(options, "allow")
    with pytest.raises(UsageError, match="no option starts with 'maybe'"):
        choose(options, "maybe")
    with pytest.raises(UsageError, match="no no option"):
        choose(("Red", "Blue"), "n")


def test_alike_requests_share_kind_tool_and_command_prefix() -> None:
    rows = [
        row("a", since=3, detail="Bash: npm test --watch"),
        row("b", since=1, detail="Bash: npm test"),
        row("c", since=2, detail="Bash: npm install left-pad"),
        row("d", since=0, detail="Bash: npm test", kind="codex"),
        row("e", since=0, detail="Write: npm test"),
        row("f", Status.WORKING),
        row("g", since=0, input_kind=InputKind.QUESTION),
    ]
    assert [r.name for r in similar_requests(rows, rows[0])] == ["b", "a"]  # oldest first
    assert similar_requests(rows, rows[5]) == []  # not waiting
    assert similar_requests(rows, rows[6]) == []  # a question, not a permission


def test_auto_approve_rules_need_what_a_hook_reported() -> None:
    rule = AutoApproveRule("claude", "Bash", re.compile(r"(pytest|npm test)\b"))
    assert auto_approval([rule], row("a", detail="Bash: npm test --watch")) is rule
    assert auto_approval([rule], row("a", detail="Bash: rm -rf / && npm test")) is None
    assert auto_approval([rule], row("a", detail="Edit: npm test")) is None
    assert auto_approval([rule], row("a", kind="codex")) is None
    assert auto_approval([rule], row("a", detail="")) is None  # a guess from the screen: never
    assert auto_approval([rule], row("a", options=("Red", "Blue"))) is None  # no yes to pick
    anything = AutoApproveRule("*", "*", re.compile(""))
    assert auto_approval([anything], row("a", kind="gemini", detail="Shell: ls")) is anything


def test_auto_approve_and_notify_settings(tmp_path: Path) -> None:
    (tmp_path / ".quarterdeck.toml").write_text(
        '[[auto_approve]]\ntool = "Bash"\ncommand = "^pytest"\n\n[notify]\ndesktop = false\n'
    )
    settings = load_settings(tmp_path)
    (rule,) = settings.auto_approve
    assert (rule.kind, rule.tool, rule.command.pattern) == ("*", "Bash", "^pytest")
    assert settings.notify.desktop is False and settings.notify.bell is True
    assert load_settings(None).auto_approve == ()  # off by default
    for bad, message in (
        ('[[auto_approve]]\ntool = "Bash"\n', "needs command"),
        ('[[auto_approve]]\ncommand = "("\n', "bad command regex"),
        ('[[auto_approve]]\ncommand = "x"\nwhat = 1\n', "unknown what"),
        ("[notify]\nbell = 1\n", "notify.bell must be true or false"),
        ("[notify]\nsound = true\n", "unknown sound"),
    ):
        (tmp_path / ".quarterdeck.toml").write_text(bad)
        with pytest.raises(UsageError, match=message):
            load_settings(tmp_path)


def test_the_inbox_is_oldest_first_and_next_waiting_cycles() -> None:
    view = FleetView(
        "repo",
        (
            row("new", since=30),
            row("busy", Status.WORKING),
            row("old", since=10),
            row("mid", since=20),
        ),
    )
    assert [r.name for r in view.inbox()] == ["old", "mid", "new"]
    nxt = view.next_waiting
    assert nxt(None).name == "old" and nxt("busy").name == "old"  # type: ignore[union-attr]
    assert nxt("old").name == "mid" and nxt("new").name == "old"  # type: ignore[union-attr]
    assert FleetView("repo", (row("x", Status.IDLE),)).next_waiting(None) is None


def test_alerts_once_per_wait_and_for_a_finished_turn() -> None:
    working = FleetView("r", (row("a", Status.WORKING), row("b", Status.STARTING)))
    waiting = FleetView("r", (row("a", since=5), row("b", Status.IDLE)))
    alerts = alerts_between(working, waiting)
    assert [(a.name, a.kind) for a in alerts] == [("a", AlertKind.WAITING)]  # b only started
    assert alerts[0].title == "a waits for you (permission)" and alerts[0].body == "Bash: npm test"
    assert alerts_between(waiting, waiting) == []  # the same wait is not news
    done = FleetView("r", (row("a", Status.IDLE, since=9), row("b", Status.IDLE)))
    back = FleetView("r", (row("a", Status.WORKING, since=7), row("b", Status.IDLE)))
    assert [(a.name, a.kind) for a in alerts_between(back, done)] == [("a", AlertKind.FINISHED)]
    assert alerts_between(back, done, finished=False) == []
    assert alerts_between(FleetView("r", ()), waiting)[0].kind is AlertKind.WAITING


def test_a_wait_told_better_keeps_its_time() -> None:
    tracker = StatusTracker()
    hook = Reading(Status.NEEDS_INPUT, Evidence("hook", "PermissionRequest"), InputKind.PERMISSION)
    tracked = tracker.start(hook, 10.0)
    screen = Reading(
        Status.NEEDS_INPUT,
        Evidence("screen", "dialog"),
        InputKind.PERMISSION,
        question="Do you want to proceed?",
        options=("Yes", "No"),
    )
    told = tracker.observe(tracked, screen, 10.2)
    assert told.reading.question == "Do you want to proceed?" and told.since == 10.0
    question = Reading(Status.NEEDS_INPUT, Evidence("screen", "q"), InputKind.QUESTION, "Which?")
    assert tracker.observe(told, question, 11.0).since == 11.0  # another kind of wait


def waiting(
    status: Status = Status.NEEDS_INPUT,
    kind: InputKind | None = InputKind.PERMISSION,
    options: tuple[str, ...] = ("Yes", "No"),
) -> Agent:
    return make_agent("a", StatusShown(status, kind, options=options))


@pytest.mark.parametrize(
    ("agent", "number", "refusal"),
    [
        (waiting(), 1, None),
        (waiting(), 2, None),
        (waiting(), 3, "a's dialog has options 1 to 2"),
        (waiting(), 0, "a's dialog has options 1 to 2"),
        (waiting(options=()), 7, None),  # options not read: the number is the CLI's to judge
        (waiting(Status.WORKING, None), 1, "a is working, not waiting on a dialog"),
        (waiting(Status.IDLE, None), 1, "a is idle, not waiting on a dialog"),
        (
            waiting(kind=InputKind.QUESTION, options=()),
            1,
            "a asks a free-text question: attach to answer it",
        ),
        (waiting(kind=InputKind.QUESTION, options=("Postgres", "SQLite")), 2, None),
    ],
)
def test_which_answers_can_be_given(agent: Agent, number: int, refusal: str | None) -> None:
    if refusal is None:
        check_answer(agent, number)
    else:
        with pytest.raises(UsageError, match=re.escape(refusal)):
            check_answer(agent, number)


def _reading(status: Status, question: str = "", options: tuple[str, ...] = ()) -> Reading:
    kind = InputKind.PERMISSION if status is Status.NEEDS_INPUT else None
    return Reading(status, Evidence("screen", "test"), kind, question, options)


DIALOG = _reading(Status.NEEDS_INPUT, "Run npm test?", ("Yes", "No"))


@pytest.mark.parametrize(
    ("after", "taken"),
    [
        (DIALOG, False),  # the same dialog is still open
        (_reading(Status.WORKING), True),  # it went
        (_reading(Status.IDLE), True),
        (_reading(Status.NEEDS_INPUT, "Run npm build?", ("Yes", "No")), True),  # the next one
        (_reading(Status.NEEDS_INPUT, "Run npm test?", ("Yes", "Always", "No")), True),
    ],
)
def test_when_an_answer_counts_as_taken(after: Reading, taken: bool) -> None:
    assert answer_taken(DIALOG, after) is taken


@pytest.mark.parametrize(
    ("agent", "text", "first", "refusal"),
    [
        (waiting(kind=InputKind.QUESTION, options=()), "Postgres", None, None),
        (
            waiting(kind=InputKind.QUESTION, options=("Postgres", "Type something.")),
            "MySQL",
            2,
            None,
        ),
        (waiting(options=("Yes", "No, and tell Codex what to do")), "use make", 2, None),
        (waiting(kind=InputKind.QUESTION, options=()), "  \n ", None, "the reply is empty"),
        (waiting(Status.WORKING, None), "hi", None, "a is working, not waiting on a dialog"),
        (
            waiting(options=("Yes", "No")),
            "hi",
            None,
            "a's dialog takes no typed answer; pick an option (1. Yes; 2. No)",
        ),
        (waiting(options=()), "hi", None, "a's dialog takes no typed answer"),
    ],
)
def test_which_replies_in_words_can_be_given(
    agent: Agent, text: str, first: int | None, refusal: str | None
) -> None:
    if refusal is None:
        assert check_reply(agent, text) == first
    else:
        with pytest.raises(UsageError, match=re.escape(refusal)):
            check_reply(agent, text)


ASKING = (Status.NEEDS_INPUT, "Which database?")


@pytest.mark.parametrize(
    ("before", "after", "screen", "taken"),
    [
        (ASKING, (Status.WORKING, ""), "> Postgres\n⠋ working", True),
        (
            ASKING,
            (Status.NEEDS_INPUT, "Which port?"),
            "· Which database? → Postgres\nWhich port?",
            True,
        ),
        # Moved on, but the screen does not show the text as the answer: not taken.
        (ASKING, (Status.NEEDS_INPUT, "Which port?"), "Which port?\n> ", False),
        (ASKING, ASKING, "Which database?\n> ", False),  # the same question still asked
        (ASKING, (Status.WORKING, ""), "Which database?\n> Postgres", False),  # not entered
        # Not asking before (a free-text option picked first): only the input line counts.
        ((Status.IDLE, ""), (Status.IDLE, ""), "  ⎿ Postgres\n> ", True),
        ((Status.IDLE, ""), (Status.IDLE, ""), "> Postgres", False),
    ],
)
def test_when_a_reply_counts_as_taken(
    before: tuple[Status, str], after: tuple[Status, str], screen: str, taken: bool
) -> None:
    assert reply_taken(before, after, screen, "Postgres") is taken


TWO_DIALOGS = ("trust: Do you trust this folder? (1. Trust; 2. Don't trust)",)


def test_an_answer_by_number_is_refused_when_the_keys_may_reach_another_dialog() -> None:
    unknown = make_agent(
        "g",
        StatusShown(
            Status.NEEDS_INPUT,
            InputKind.PERMISSION,
            question="Allow execution of [Shell]?",
            options=("Allow once", "No"),
            others=TWO_DIALOGS,
            focused=False,
        ),
    )
    with pytest.raises(UsageError, match=r"g's screen shows 2 dialogs .*attach to answer"):
        check_answer(unknown, 1)
    with pytest.raises(UsageError, match="cannot tell which one the keys would reach"):
        check_reply(unknown, "hi")
    with pytest.raises(UsageError, match="cannot tell which one the keys would reach"):
        check_on_screen(unknown, _on_screen(others=TWO_DIALOGS, focused=False))
    # Known to take the keys (the CLI's profile says which of several does): answered.
    known = make_agent("g", replace(unknown.shown, focused=True))
    check_answer(known, 1)
    check_on_screen(known, _on_screen(others=TWO_DIALOGS, focused=True))


def _on_screen(
    question: str = "Allow execution of [Shell]?",
    options: tuple[str, ...] = ("Allow once", "No"),
    others: tuple[str, ...] = (),
    focused: bool = True,
    status: Status = Status.NEEDS_INPUT,
) -> Reading:
    return Reading(
        status,
        Evidence("screen", "t"),
        InputKind.PERMISSION,
        question,
        options,
        others=others,
        focused=focused,
    )


@pytest.mark.parametrize(
    ("now", "refusal"),
    [
        (_on_screen(), None),
        (_on_screen(others=TWO_DIALOGS, focused=False), "screen shows 2 dialogs"),
        # A second dialog opened since: not the screen the human answered.
        (_on_screen(others=TWO_DIALOGS), "now shows another dialog than the one shown"),
        (_on_screen("Apply this change?"), "now shows another dialog than the one shown"),
        (_on_screen(options=("Allow once", "Allow always", "No")), "another dialog"),
        (_on_screen(status=Status.WORKING), "no longer shows a dialog; nothing was pressed"),
    ],
)
def test_keys_go_only_into_the_dialog_that_was_shown(now: Reading, refusal: str | None) -> None:
    agent = make_agent(
        "g",
        StatusShown(
            Status.NEEDS_INPUT,
            InputKind.PERMISSION,
            question="Allow execution of [Shell]?",
            options=("Allow once", "No"),
        ),
    )
    if refusal is None:
        check_on_screen(agent, now)
    else:
        with pytest.raises(UsageError, match=re.escape(refusal)):
            check_on_screen(agent, now)


def test_a_question_a_hook_told_is_the_same_one_the_screen_then_shows() -> None:
    # AskUserQuestion's hook gives its labels; the screen adds "Type something." and more.
    told = make_agent(
        "c",
        StatusShown(
            Status.NEEDS_INPUT,
            InputKind.QUESTION,
            evidence="hook: PermissionRequest AskUserQuestion",
            question="Which color?",
            options=("Red", "Blue"),
        ),
    )
    screen = Reading(
        Status.NEEDS_INPUT,
        Evidence("screen", "t"),
        InputKind.QUESTION,
        "Which color?",
        ("Red", "Blue", "Type something.", "Chat about this"),
    )
    check_on_screen(told, screen)
    with pytest.raises(UsageError, match="another dialog"):
        check_on_screen(told, replace(screen, options=("Green", "Blue")))
