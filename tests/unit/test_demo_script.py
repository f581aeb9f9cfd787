"""The demo agent's pure parts: the seeded plan, file edits, key parsing, the dialog box, and
the hook settings and payload fields."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from app.demo.agent import box, cells, parse_keys
from app.demo.hooks import (
    HOOK_TIMEOUT,
    HookCommand,
    load_hooks,
    matches,
    parse_hooks,
    session_id,
    tool_call,
    tool_response,
)
from app.demo.script import (
    BEHAVIOURS,
    FAIL_STEP,
    Behaviour,
    Planner,
    Step,
    Turn,
    apply_edit,
    plan_checklist_turn,
    plan_turn,
    task_words,
    tick_checklist,
    unchecked_items,
)

TASKS = ["Add a cache layer", "fix the login bug", "", "écrire les tests", "日本語"]


def plans(seed: int, behaviour: Behaviour, tasks: list[str] = TASKS) -> list[Turn]:
    planner = Planner(seed, behaviour)
    return [planner.next_turn(task) for task in tasks]


def kinds(turn: Turn) -> list[str]:
    return [step.kind for step in turn.steps]


def assert_commits_have_content(turn: Turn) -> None:
    dirty = False
    for kind in kinds(turn):
        if kind == "commit":
            assert dirty, kinds(turn)
        dirty = kind != "commit" and (dirty or kind == "edit")


@pytest.mark.parametrize("behaviour", BEHAVIOURS)
def test_same_seed_and_tasks_give_the_same_plan(behaviour: Behaviour) -> None:
    assert plans(7, behaviour) == plans(7, behaviour)


def test_different_seeds_give_different_plans() -> None:
    assert plans(1, "mixed") != plans(2, "mixed")


@pytest.mark.parametrize("behaviour", ["worker", "quitter"])
def test_worker_turns_edit_first_and_commit(behaviour: Behaviour) -> None:
    for seed in range(40):
        for turn in plans(seed, behaviour):
            assert turn.behaviour == behaviour
            assert 2 <= len(turn.steps) <= 5
            assert kinds(turn)[0] == "edit"
            assert "commit" in kinds(turn)
            assert not {"ask", "run", "question", "crash"} & set(kinds(turn))
            assert_commits_have_content(turn)


def test_some_worker_edits_are_left_uncommitted() -> None:
    last_kinds = {kinds(turn)[-1] for seed in range(40) for turn in plans(seed, "worker")}
    assert "edit" in last_kinds


def test_busy_turns_are_long() -> None:
    for seed in range(20):
        for turn in plans(seed, "busy"):
            assert 20 <= len(turn.steps) <= 40
            assert_commits_have_content(turn)


def test_asker_asks_after_its_first_commit_then_runs_the_command() -> None:
    for seed in range(40):
        for turn in plans(seed, "asker"):
            steps = kinds(turn)
            at = steps.index("ask")
            assert steps.count("ask") == 1
            assert at >= 2
            assert "commit" in steps[:at]
            ask, run = turn.steps[at], turn.steps[at + 1]
            assert run.kind == "run"
            assert ask.text == run.text != ""


def test_questioner_asks_mid_turn_and_keeps_working() -> None:
    for seed in range(40):
        for turn in plans(seed, "questioner"):
            steps = kinds(turn)
            at = steps.index("question")
            assert at >= 2
            assert steps[at + 1] == "edit"
            assert turn.steps[at].text.endswith("?")
            assert "commit" in steps


def test_crasher_crashes_after_one_to_three_steps() -> None:
    for seed in range(20):
        turn = plans(seed, "crasher", ["anything"])[0]
        assert kinds(turn)[-1] == "crash"
        assert 1 <= len(turn.steps) - 1 <= 3


def test_mixed_picks_worker_asker_and_questioner_turns() -> None:
    picked = {turn.behaviour for seed in range(10) for turn in plans(seed, "mixed")}
    assert picked == {"worker", "asker", "questioner"}


def test_files_are_named_after_the_task() -> None:
    turn = plans(3, "busy", ["Add a cache layer"])[0]
    paths = {step.path for step in turn.steps if step.kind == "edit"}
    assert paths <= {"notes/cache-layer.md", "src/cache.py"}
    assert task_words("Écrire les tests, vite!") == ["ecrire", "les", "tests"]
    assert task_words("日本語") == []


def test_edits_add_and_remove_lines_and_keep_python_valid() -> None:
    rng = random.Random(5)
    text = ""
    for _ in range(12):
        lines = tuple(f"line {rng.random()}" for _ in range(rng.randint(1, 4)))
        step = Step("edit", "Editing", path="src/cache.py", lines=lines, removed=rng.randint(0, 3))
        before = text.count("\nNOTE_")
        text, added, removed = apply_edit(text, step.path, step, note="it's 'quoted'")
        assert added == len(lines) + 1
        assert text.count("\nNOTE_") == before - removed + added
        compile(text, "cache.py", "exec")
    assert "it's 'quoted'" in text


def test_markdown_edits_start_with_a_heading() -> None:
    step = Step("edit", "Writing", path="notes/cache-layer.md", lines=("one", "two"), removed=2)
    text, added, removed = apply_edit("", step.path, step)
    assert (text, added, removed) == ("# cache-layer\n\n- one\n- two\n", 2, 0)
    text, added, removed = apply_edit(text, step.path, step)
    assert (text, added, removed) == ("# cache-layer\n\n- one\n- two\n", 2, 2)


@pytest.mark.parametrize(
    ("data", "final", "keys", "rest"),
    [
        ("héllo\r", False, [("text", "héllo"), ("enter", "")], ""),
        ("a\r\nb\n", False, [("text", "a"), ("enter", ""), ("text", "b"), ("enter", "")], ""),
        ("ab\x7f\x08\x03\x04", False, [("text", "ab"), *[("backspace", "")] * 2], None),
        ("\x1b[A\x1b[B\x1bOA\x1b[1;5C", False, [("up", ""), ("down", ""), ("up", "")], ""),
        ("\x1b", False, [], "\x1b"),
        ("\x1b[", False, [], "\x1b["),
        ("\x1b", True, [("esc", "")], ""),
        ("\x1b\x1b[B", False, [("esc", ""), ("down", "")], ""),
        (
            "x\x1b[200~one\ntwo\x1b[201~y",
            False,
            [("text", "x"), ("paste", "one\ntwo"), ("text", "y")],
            "",
        ),
        ("\x1b[200~cut", False, [], "\x1b[200~cut"),
    ],
)
def test_parse_keys(data: str, final: bool, keys: list[tuple[str, str]], rest: str | None) -> None:
    parsed, left = parse_keys(data, final)
    assert parsed[: len(keys)] == keys
    if rest is None:  # the control keys after the text
        assert parsed[len(keys) :] == [("ctrl_c", ""), ("ctrl_d", "")]
    else:
        assert (len(parsed), left) == (len(keys), rest)


def test_box_rows_line_up() -> None:
    rows = box(["Permission required", "Allow demo to run `" + "x" * 70 + "`?", "日本"])
    assert len({cells(row) for row in rows}) == 1
    assert rows[0].startswith("╭") and rows[0].endswith("╮")
    assert rows[-1].startswith("╰") and rows[-1].endswith("╯")
    assert all(row.startswith("│ ") and row.endswith(" │") for row in rows[1:-1])


def test_hook_settings_in_both_forms() -> None:
    settings = {
        "model": "ignored",
        "hooks": {
            "PreToolUse": [
                {"matcher": "Edit|Write", "hooks": [{"type": "command", "command": "a"}]},
                {"matcher": "*", "hooks": [{"type": "command", "command": "b", "timeout": 3}]},
            ],
            "Stop": [
                {"hooks": [{"type": "command", "command": "c"}, {"command": "d"}]},
                {"type": "command", "command": "e"},  # a bare entry, no group around it
            ],
            "UserPromptSubmit": [
                {"hooks": [{"type": "prompt", "prompt": "needs a model"}, {"type": "command"}]},
                {"hooks": [{"type": "command", "command": "  "}, "junk"]},
                "junk",
            ],
            "NotAnEvent": [{"hooks": [{"type": "command", "command": "f"}]}],
            "SessionEnd": "junk",
        },
    }
    assert parse_hooks(settings) == {
        "PreToolUse": (HookCommand("a", "Edit|Write"), HookCommand("b", "*", 3.0)),
        "Stop": (HookCommand("c"), HookCommand("d"), HookCommand("e")),
        "NotAnEvent": (HookCommand("f"),),  # kept, and simply never fires
    }
    assert HookCommand("x").timeout == HOOK_TIMEOUT
    assert parse_hooks({"hooks": []}) == parse_hooks([]) == parse_hooks({}) == {}


def test_load_hooks_fails_loudly_on_bad_files(tmp_path: Path) -> None:
    good = tmp_path / "settings.json"
    good.write_text(json.dumps({"hooks": {"Stop": [{"hooks": [{"command": "x"}]}]}}))
    assert load_hooks(good) == {"Stop": (HookCommand("x"),)}
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    for path in (bad, tmp_path / "missing.json"):
        with pytest.raises(ValueError, match="cannot read settings"):
            load_hooks(path)


@pytest.mark.parametrize(
    ("matcher", "event", "payload", "expected"),
    [
        ("", "PreToolUse", {"tool_name": "Bash"}, True),
        ("*", "PostToolUse", {"tool_name": "Bash"}, True),
        ("Bash", "PreToolUse", {"tool_name": "Bash"}, True),
        ("Bash", "PreToolUse", {"tool_name": "BashOutput"}, False),  # the whole name
        ("Edit|Write", "PermissionRequest", {"tool_name": "Write"}, True),
        ("Edit|Write", "PermissionRequest", {"tool_name": "Read"}, False),
        ("[", "PreToolUse", {"tool_name": "["}, True),  # not a regex: plain text
        ("startup", "SessionStart", {"source": "startup"}, True),
        ("resume", "SessionStart", {"source": "startup"}, False),
        ("other", "SessionEnd", {"reason": "prompt_input_exit"}, False),
        ("Bash", "Stop", {}, True),  # events without a matched field ignore matchers
    ],
)
def test_hook_matchers(matcher: str, event: str, payload: dict[str, str], expected: bool) -> None:
    assert matches(matcher, event, payload) is expected


def test_session_ids_are_uuids_fixed_per_seed_and_pid() -> None:
    assert session_id(1, 100) == session_id(1, 100)
    assert len({session_id(1, 100), session_id(2, 100), session_id(1, 101)}) == 3
    assert len(session_id(1, 100)) == 36 and session_id(1, 100).count("-") == 4


def test_steps_are_claude_tool_calls() -> None:
    edit = Step("edit", "Editing", path="src/a.py", lines=("x = 1", "y = 2"))
    assert tool_call(edit, "/w", exists=True) == (
        "Edit",
        {"file_path": "/w/src/a.py", "old_string": "", "new_string": "x = 1\ny = 2"},
    )
    assert tool_call(edit, "/w", exists=False) == (
        "Write",
        {"file_path": "/w/src/a.py", "content": "x = 1\ny = 2"},
    )
    read = Step("read", "Reading", path="README.md")
    assert tool_call(read, "/w", False) == ("Read", {"file_path": "/w/README.md"})
    for kind in ("ask", "run"):
        assert tool_call(Step(kind, "Running", text="npm test"), "/w", False) == (
            "Bash",
            {"command": "npm test"},
        )
    commit = tool_call(Step("commit", "Committing", text='fix: "x"'), "/w", False)
    assert commit == ("Bash", {"command": 'git commit -m "fix: \\"x\\""'})
    assert tool_call(Step("test", "Testing", text="5 passed"), "/w", False)[0] == "Bash"
    name, question = tool_call(Step("question", "Pondering", text="Why?"), "/w", False)
    assert name == "AskUserQuestion" and question["questions"][0]["question"] == "Why?"
    tick = tool_call(Step("tick", "Editing", path="TODO.md", text="Write docs"), "/w", True)
    assert tick == (
        "Edit",
        {"file_path": "/w/TODO.md", "old_string": "[ ] Write docs", "new_string": "[x] Write docs"},
    )


def test_tool_responses_are_minimal_but_shaped_like_claudes() -> None:
    written = tool_response("Write", {"file_path": "/w/a"}, "")
    assert written == {"filePath": "/w/a", "success": True}
    bash = tool_response("Bash", {"command": "ls"}, "Ran ls (exit 0)")
    assert bash["stdout"] == "Ran ls (exit 0)" and bash["interrupted"] is False


def test_a_task_that_starts_with_error_ends_its_turn_in_an_api_error() -> None:
    turn = plan_turn(random.Random(1), "worker", "error: call the model")
    assert turn.steps[-1] == FAIL_STEP
    assert all(step.kind != "fail" for step in plan_turn(random.Random(1), "worker", "x").steps)


@pytest.mark.parametrize(
    ("text", "ticked", "item"),
    [
        # the first unchecked item only; checked ones and other lines stay as they were
        (
            "# TODO\n\n- [x] done\n- [ ] first\n- [ ] second\n",
            "# TODO\n\n- [x] done\n- [x] first\n- [ ] second\n",
            "first",
        ),
        # nested (indented) items count where they stand, their indentation kept
        (
            "- [x] parent\n    - [ ] child\n- [ ] next\n",
            "- [x] parent\n    - [x] child\n- [ ] next\n",
            "child",
        ),
        ("\t* [ ] star bullet", "\t* [x] star bullet", "star bullet"),
        ("+ [ ]\r\n- [ ] b\r\n", "+ [x]\r\n- [ ] b\r\n", ""),
        ("- [ ] no newline at the end", "- [x] no newline at the end", "no newline at the end"),
        # no unchecked item: nothing to tick
        ("# TODO\n\n- [x] all\n  - [X] done\n", None, None),
        ("", None, None),
        ("not a list: [ ] here\n-[ ] no space\n- [ ]x glued\n- [] empty box\n", None, None),
    ],
)
def test_tick_checklist(text: str, ticked: str | None, item: str | None) -> None:
    result = tick_checklist(text)
    assert result == (None if ticked is None else (ticked, item))
    if result is not None:
        # exactly one item fewer left, and it was the first
        assert unchecked_items(result[0]) == unchecked_items(text)[1:]


def test_unchecked_items_in_file_order() -> None:
    text = "- [ ] a\n- [x] b\n  - [ ] c\n* [ ] d\n"
    assert unchecked_items(text) == ["a", "c", "d"]


def test_a_checklist_turn_ticks_one_item_then_tests_and_commits() -> None:
    turn = plan_checklist_turn(
        random.Random(3), "Tick off the list", "TODO.md", "- [ ] a\n- [ ] b\n"
    )
    assert turn.behaviour == "checklist"
    assert kinds(turn) == ["read", "tick", "test", "commit"]
    read, tick, _, commit = turn.steps
    assert (read.path, read.text) == ("TODO.md", "2 unchecked items")
    assert (tick.path, tick.text) == ("TODO.md", "a")
    assert commit.text == "docs: tick off a"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("- [x] a\n", "no unchecked item left, nothing to do"),
        (None, "no such file, nothing to tick"),
    ],
)
def test_a_checklist_turn_with_nothing_to_tick_edits_nothing(text: str | None, said: str) -> None:
    turn = plan_checklist_turn(random.Random(3), "Tick", "docs/list.md", text)
    assert turn.steps == (Step("read", turn.steps[0].verb, path="docs/list.md", text=said),)


def test_the_planner_gives_a_checklist_agent_its_checklist() -> None:
    planner = Planner(5, "checklist", "PLAN.md")
    turn = planner.next_turn("go", "- [ ] only\n")
    assert [(s.kind, s.path) for s in turn.steps[:2]] == [("read", "PLAN.md"), ("tick", "PLAN.md")]
    assert kinds(planner.next_turn("error: boom", "- [ ] only\n"))[-1] == "fail"
