"""The demo agent's screens, and the classifier's pane-fact rules."""

import pytest

from app.core.classify import PaneView, classify, screen_lines, strip_ansi
from app.core.errors import UsageError
from app.core.profiles import parse_profile
from app.core.status import InputKind, Status
from app.infra.settings import builtin_profiles

PROFILES = builtin_profiles()
DEMO = PROFILES["demo"]

PERMISSION = """\
Quarterdeck demo agent · payments · seed 2 · warming up…
Ready. Type a task and press Enter (/exit to quit).
demo> Refactor payments
• Read src/shop/payments.py
• Edited src/shop/payments.py (+4 -1)
╭──────────────────────────────────────────────────────╮
│ Permission required                                  │
│ Allow demo to run `pytest -q tests/test_pay.py`?     │
│ ❯ 1. Yes                                             │
│   2. Yes, and don't ask again for this command       │
│   3. No, tell the agent what to do instead           │
│ Press 1-3 or ↑/↓ and Enter · Esc to cancel           │
╰──────────────────────────────────────────────────────╯



"""

QUESTION = """\
demo> Pick a cache
• Read src/shop/api.py
╭──────────────────────────────────────────────────────╮
│ Question from demo                                   │
│ Which cache backend should the API use?              │
│ Type your answer and press Enter · Esc to skip       │
╰──────────────────────────────────────────────────────╯
answer> red"""

WORKING = """\
demo> Fix the flaky login test
• Read tests/test_login.py
• Edited notes/login.md (+3 -1)
⠹ Editing… (esc to interrupt)"""

IDLE = """\
• Committed 1a2b3c4 Fix flaky login test
✓ Turn done: edited 2 files, 1 commits

demo> """

STARTING = "Quarterdeck demo agent · x · seed 1 · warming up…"


def test_permission_dialog_with_question_and_options() -> None:
    r = classify(DEMO, PaneView(PERMISSION, command="python3"))
    assert (r.status, r.kind) == (Status.NEEDS_INPUT, InputKind.PERMISSION)
    assert r.question == "Allow demo to run `pytest -q tests/test_pay.py`?"
    assert r.options == (
        "Yes",
        "Yes, and don't ask again for this command",
        "No, tell the agent what to do instead",
    )
    assert r.summary == r.question


def test_free_text_question() -> None:
    r = classify(DEMO, PaneView(QUESTION, command="python3"))
    assert (r.status, r.kind) == (Status.NEEDS_INPUT, InputKind.QUESTION)
    assert r.question == "Which cache backend should the API use?"


@pytest.mark.parametrize(
    ("screen", "status"),
    [
        (WORKING, Status.WORKING),
        (IDLE, Status.IDLE),
        (STARTING, Status.STARTING),
        ("", Status.UNKNOWN),
    ],
)
def test_demo_states(screen: str, status: Status) -> None:
    assert classify(DEMO, PaneView(screen, command="python3")).status is status


def test_old_dialog_above_a_new_prompt_is_not_waiting() -> None:
    screen = (
        PERMISSION.rstrip()
        + "\n✓ Allowed: pytest -q\n✓ Turn done: edited 1 files, 1 commits\n\ndemo> "
    )
    assert classify(DEMO, PaneView(screen, command="python3")).status is Status.IDLE


def test_summary_skips_spinner_and_prompt() -> None:
    assert classify(DEMO, PaneView(WORKING)).summary == "• Edited notes/login.md (+3 -1)"
    assert classify(DEMO, PaneView(IDLE)).summary == "✓ Turn done: edited 2 files, 1 commits"


def test_pane_facts_win_over_the_screen() -> None:
    dead = classify(DEMO, PaneView(PERMISSION, dead=True, dead_status=0))
    assert dead.status is Status.EXITED and dead.evidence.source == "pane"
    crashed = classify(DEMO, PaneView(WORKING, dead=True, dead_status=1))
    assert crashed.status is Status.FAILED and "status 1" in crashed.evidence.detail
    shell_back = classify(DEMO, PaneView(WORKING, command="bash"))
    assert shell_back.status is Status.EXITED
    # For the shell kind a shell in the pane is the agent itself.
    assert (
        classify(PROFILES["shell"], PaneView("user@host:~$ ", command="bash")).status is Status.IDLE
    )


def test_title_rules() -> None:
    codex = PROFILES["codex"]
    assert classify(codex, PaneView("", title="⠋ repo", command="codex")).status is Status.WORKING


def test_screen_lines_strip_box_borders() -> None:
    assert screen_lines("│ hi │\n\n  \n╰──╯") == ["hi", "╰──╯"]


def test_profile_errors_name_the_place() -> None:
    with pytest.raises(UsageError, match="missing 'command'"):
        parse_profile("x", {})
    with pytest.raises(UsageError, match=r"agent 'x', rule 1.*invalid regular expression"):
        parse_profile("x", {"command": "x", "rules": [{"status": "idle", "screen": "("}]})
    with pytest.raises(UsageError, match="unknown status"):
        parse_profile("x", {"command": "x", "rules": [{"status": "sleepy", "screen": "a"}]})
    with pytest.raises(UsageError, match="needs a 'screen' or a 'title'"):
        parse_profile("x", {"command": "x", "rules": [{"status": "idle"}]})


def test_every_builtin_kind_has_a_command() -> None:
    assert {"claude", "codex", "gemini", "aider", "opencode", "demo", "shell"} <= set(PROFILES)
    argv = PROFILES["gemini"].argv("do it; rm -rf /", "py", "sh")
    assert argv == ["gemini", "-i", "do it; rm -rf /"]
    assert PROFILES["demo"].argv("x", "/py", "sh") == ["/py", "-m", "app.demo.agent"]


def test_tmux_dead_pane_note_is_not_output() -> None:
    screen = IDLE + "\nBye.\n\nPane is dead (status 0, Sat Nov 21 08:54:41 2026)"
    assert classify(DEMO, PaneView(screen, dead=True, dead_status=0)).summary == "Bye."


# --- Real CLIs: dialogs and moments beyond the recorded ones -------------------------------------
# Written after each CLI's own layout (its source, or its recorded screens): other tools, other
# dialogs and the same dialogs at other widths must read the same way.

RULE = "─" * 100


def _read(kind: str, text: str, title: str = "", command: str = "") -> tuple[object, ...]:
    r = classify(PROFILES[kind], PaneView(text, title, command or kind))
    return (r.status.value, r.kind.value if r.kind else None, r.question, list(r.options))


OTHER_SCREENS = [
    pytest.param(
        "claude",
        f"""● Update(src/app.py)

{RULE}
 Edit file
 ╭────────────────────────────────────────╮
 │ src/app.py                             │
 │  1 - x = 1 if y else None?             │
 │  1 + x = 2                             │
 ╰────────────────────────────────────────╯
 Do you want to make this edit to app.py?
 ❯ 1. Yes
   2. Yes, allow all edits during this session (shift+tab)
   3. No, and tell Claude what to do differently (esc)
""",
        "✳ Claude Code",
        (
            "needs_input",
            "permission",
            "Do you want to make this edit to app.py?",
            [
                "Yes",
                "Yes, allow all edits during this session (shift+tab)",
                "No, and tell Claude what to do differently (esc)",
            ],
        ),
        id="claude-edit",
    ),
    pytest.param(
        "claude",
        f"""{RULE}
 Create file
 notes.md
╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌
  1 # Notes
╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌
 Do you want to create notes.md?
 ❯ 1. Yes
   2. Yes, allow all edits during this session (shift+tab)
   3. No

 Esc to cancel · Tab to amend
""",
        "✳ Claude Code",
        (
            "needs_input",
            "permission",
            "Do you want to create notes.md?",
            ["Yes", "Yes, allow all edits during this session (shift+tab)", "No"],
        ),
        id="claude-write",
    ),
    pytest.param(
        "claude",
        f"""{RULE}
 Fetch

   https://example.com/docs
   Claude wants to fetch content from example.com

 Do you want to allow Claude to fetch this content?
 ❯ 1. Yes
   2. Yes, and don't ask again for example.com
   3. No, and tell Claude what to do differently (esc)
""",
        "✳ Claude Code",
        (
            "needs_input",
            "permission",
            "Do you want to allow Claude to fetch this content?",
            [
                "Yes",
                "Yes, and don't ask again for example.com",
                "No, and tell Claude what to do differently (esc)",
            ],
        ),
        id="claude-webfetch",
    ),
    pytest.param(
        "claude",
        f"""{RULE}
 Ready to code?

 Would you like to proceed?

 ❯ 1. Yes, and auto-accept edits
   2. Yes, and manually approve edits
   3. No, keep planning
""",
        "✳ Claude Code",
        (
            "needs_input",
            "permission",
            "Would you like to proceed?",
            ["Yes, and auto-accept edits", "Yes, and manually approve edits", "No, keep planning"],
        ),
        id="claude-plan-approval",
    ),
    pytest.param(
        "claude",
        f"""{RULE}
 ←  ☐ Lang  ☐ DB  ✔ Submit  →

Which database should we use for the new service given that the current deployment already runs a
managed Postgres cluster?

❯ 1. Postgres
     Reuse the cluster
  2. SQLite
     Simple file
  3. Type something.
{RULE}
  4. Chat about this

Enter to select · Tab/Arrow keys to navigate · Esc to cancel
""",
        "✳ Claude Code",
        (
            "needs_input",
            "question",
            "Which database should we use for the new service given that the current deployment "
            "already runs a managed Postgres cluster?",
            ["Postgres", "SQLite", "Type something.", "Chat about this"],
        ),
        id="claude-question-wrapped",
    ),
    pytest.param(
        "claude",
        """╭──────────────────────────────────────────────╮
│ Do you trust the files in this folder?       │
│                                              │
│ /home/user/x                                 │
│                                              │
│ ❯ 1. Yes, proceed                            │
│   2. No, exit                                │
╰──────────────────────────────────────────────╯
   Enter to confirm · Esc to exit
""",
        "",
        (
            "needs_input",
            "trust",
            "Do you trust the files in this folder?",
            ["Yes, proceed", "No, exit"],
        ),
        id="claude-trust-older-wording",
    ),
    pytest.param(
        "claude",
        """ Claude Code can be used with your Claude subscription or billed based on API usage.

 Select login method:

 ❯ 1. Claude account with subscription · Pro, Max, Team, or Enterprise

   2. Anthropic Console account · API usage billing
""",
        "",
        (
            "needs_input",
            "setup",
            "Select login method:",
            [
                "Claude account with subscription · Pro, Max, Team, or Enterprise",
                "Anthropic Console account · API usage billing",
            ],
        ),
        id="claude-login-spaced-list",
    ),
    pytest.param(
        "claude",
        """ Choose the text style that looks best with your terminal

 ❯ 1. Dark mode ✔
   2. Light mode
""",
        "",
        (
            "needs_input",
            "setup",
            "Choose the text style that looks best with your terminal",
            ["Dark mode", "Light mode"],
        ),
        id="claude-theme",
    ),
    pytest.param(
        "codex",
        """• Proposed Change fake_notes.md (+3 -0)

  Would you like to make the following edits?

  Reason: Should I write the notes?

  fake_notes.md (+3 -0)
      1 +# Notes?

› 1. Yes, proceed (y)
  2. No, and tell Codex what to do differently (esc)

  Press enter to confirm or esc to cancel
""",
        "[ ! ] Action Required | codex1",
        (
            "needs_input",
            "permission",
            "Would you like to make the following edits?",
            ["Yes, proceed (y)", "No, and tell Codex what to do differently (esc)"],
        ),
        id="codex-patch-approval",
    ),
    pytest.param(
        "codex",
        """  Do you want to approve network access to "api.example.com"?

› 1. Yes, just this once (y)
  2. No, and tell Codex what to do differently (esc)

  Press enter to confirm or esc to cancel
""",
        "",
        (
            "needs_input",
            "permission",
            'Do you want to approve network access to "api.example.com"?',
            ["Yes, just this once (y)", "No, and tell Codex what to do differently (esc)"],
        ),
        id="codex-network-approval",
    ),
    pytest.param(
        "codex",
        """  Sign in with ChatGPT to use Codex as part of your paid plan

› 1. Sign in with ChatGPT
     Usage included with Plus, Pro, Team, and Enterprise plans

  2. Provide your own API key
     Pay for what you use

  Press Enter to continue
""",
        "",
        (
            "needs_input",
            "setup",
            "Sign in with ChatGPT to use Codex as part of your paid plan",
            ["Sign in with ChatGPT", "Provide your own API key"],
        ),
        id="codex-sign-in",
    ),
    pytest.param(
        "gemini",
        """ > edit: create notes
╭──────────────────────────────────────────────────────╮
│ ? WriteFile Writing to notes.md                      │
│ ╭──────────────────────────────────────────────────╮ │
│ │ 1 # Notes?                                       │ │
│ ╰──────────────────────────────────────────────────╯ │
│ Apply this change?                                   │
│                                                      │
│ ● 1. Allow once                                      │
│   2. Allow for this session                          │
│   3. Modify with external editor                     │
│   4. No, suggest changes (esc)                       │
╰──────────────────────────────────────────────────────╯
""",
        "✋  Action Required (gemini1)",
        (
            "needs_input",
            "permission",
            "Apply this change?",
            [
                "Allow once",
                "Allow for this session",
                "Modify with external editor",
                "No, suggest changes (esc)",
            ],
        ),
        id="gemini-edit-confirmation",
    ),
    pytest.param(
        "gemini",
        """╭──────────────────────────────────────────────────────╮
│ ? Get started                                        │
│                                                      │
│ How would you like to authenticate for this project? │
│                                                      │
│ ● 1. Login with Google                               │
│   2. Use Gemini API Key                              │
│                                                      │
│ (Use Enter to select)                                │
╰──────────────────────────────────────────────────────╯
""",
        "◇  Ready (gemini1)",
        (
            "needs_input",
            "setup",
            "How would you like to authenticate for this project?",
            ["Login with Google", "Use Gemini API Key"],
        ),
        id="gemini-auth",
    ),
    pytest.param(
        "aider",
        "diff> add the thing\nsrc/app.py\n"
        "Add file to the chat? (Y)es/(N)o/(A)ll/(S)kip all/(D)on't ask again [Yes]: ",
        "",
        (
            "needs_input",
            "permission",
            "Add file to the chat?",
            ["Yes", "No", "All", "Skip all", "Don't ask again"],
        ),
        id="aider-add-file",
    ),
    pytest.param(
        "aider",
        "fake_notes.md\nCreate new file? (Y)es/(N)o [Yes]:",
        "",
        ("needs_input", "permission", "Create new file?", ["Yes", "No"]),
        id="aider-create-file",
    ),
    pytest.param(
        "aider",
        "lab$ aider\n"
        "No git repo found, create one to track aider's changes (recommended)? (Y)es/(N)o [Yes]:",
        "",
        (
            "needs_input",
            "setup",
            "No git repo found, create one to track aider's changes (recommended)?",
            ["Yes", "No"],
        ),
        id="aider-git-repo",
    ),
    pytest.param(
        "aider",
        "─────────\narchitect> make it faster",
        "",
        ("idle", None, "", []),
        id="aider-draft-at-prompt",
    ),
    pytest.param(
        "opencode",
        """  ┃  △ Permission required
  ┃    → Edit src/app.py
  ┃
  ┃   1 - a
  ┃   1 + b
  ┃
  ┃   Allow once   Allow always   Reject                 ctrl+f fullscreen  ⇆ select  enter confirm
  ┃
""",
        "OC | x",
        (
            "needs_input",
            "permission",
            "Permission required",
            ["Allow once", "Allow always", "Reject"],
        ),
        id="opencode-edit",
    ),
    pytest.param(
        "opencode",
        """  ┃  △ Permission required
  ┃    # Shell command
  ┃
  ┃   Allow once   Allow always   Reject
  ┃   ctrl+f fullscreen  ⇆ select  enter confirm
""",
        "OC | x",
        (
            "needs_input",
            "permission",
            "Permission required",
            ["Allow once", "Allow always", "Reject"],
        ),
        id="opencode-narrow",
    ),
    pytest.param(
        "opencode",
        """  ┃  △ Always allow
  ┃
  ┃  This will allow edit until OpenCode is restarted.
  ┃
  ┃   Confirm   Cancel                                              ⇆ select  enter confirm
""",
        "OC | x",
        ("needs_input", "permission", "Always allow", ["Confirm", "Cancel"]),
        id="opencode-always-allow",
    ),
    pytest.param(
        "opencode",
        """  ┃  Which color should the fake model use?
  ┃
  ┃  1. Red
  ┃     A warm color
  ┃  2. Type your own answer
  ┃
  ┃  ↑↓ select  enter submit  esc dismiss
""",
        "OC | x",
        (
            "needs_input",
            "question",
            "Which color should the fake model use?",
            ["Red", "Type your own answer"],
        ),
        id="opencode-question",
    ),
    pytest.param(
        "opencode",
        "  ┃  Build · Fake Model\n   ■■■■  esc again to interrupt    tab agents  ctrl+p commands",
        "OC | x",
        ("working", None, "", []),
        id="opencode-esc-armed",
    ),
]


@pytest.mark.parametrize(("kind", "text", "title", "want"), OTHER_SCREENS)
def test_other_screens_of_the_real_clis(
    kind: str, text: str, title: str, want: tuple[object, ...]
) -> None:
    assert _read(kind, text, title) == want


def test_claude_idle_with_numbered_prompts_in_the_scrollback() -> None:
    screen = f"❯ 1. plan the work\n● Sure.\n\n{RULE}\n❯\u00a0\n{RULE}\n  ? for shortcuts\n"
    assert _read("claude", screen, "✳ Claude Code")[0] == "idle"


def test_claude_spinner_without_footer_is_working() -> None:
    screen = f"❯ go\n\n✶ Combobulating… (12s · ↑ 1.2k tokens)\n\n{RULE}\n❯\u00a0\n{RULE}\n"
    assert _read("claude", screen, "✳ Claude Code")[0] == "working"


def test_a_start_up_error_before_the_shell_came_back_is_a_failure() -> None:
    failed = classify(
        PROFILES["claude"], PaneView("lab$ claude\nError: spawn ENOENT\nlab$ ", "", "bash")
    )
    assert failed.status is Status.FAILED and failed.evidence.detail == "claude: start-up failure"
    gone = classify(
        PROFILES["claude"],
        PaneView("Resume this session with:\nclaude --resume 1234\nlab$ ", "", "bash"),
    )
    assert gone.status is Status.EXITED and gone.evidence.source == "pane"


# --- Rule features ------------------------------------------------------------------------------


def test_a_label_that_wrapped_is_joined_and_a_description_is_dropped() -> None:
    profile = parse_profile(
        "x",
        {
            "command": "x",
            "rules": [
                {
                    "status": "needs_input",
                    "kind": "permission",
                    "screen": "^› 1",
                    "question": "(.+\\?)",
                    "option_anchor": "^\\s*› ",
                    "option_marker": "›",
                }
            ],
        },
    )
    width = 40
    text = "\n".join(
        [
            "x" * width,
            "Go ahead?",
            "",
            "› 1. Yes, and do not ask again for the",
            "     command (p)",  # the label's row was full: it wrapped
            "  2. No",
            "     say what to do instead",  # a short row above it: a description
        ]
    )
    r = classify(profile, PaneView(text))
    assert r.question == "Go ahead?"
    assert r.options == ("Yes, and do not ask again for the command (p)", "No")


def test_asks_and_offers_pick_the_rule_by_what_the_dialog_says() -> None:
    base = {"status": "needs_input", "screen": "^❯", "question": "(.+\\?)"}
    anchor = {"option_anchor": "^\\s*❯ ", "option_marker": "❯"}
    profile = parse_profile(
        "x",
        {
            "command": "x",
            "rules": [
                {**base, **anchor, "name": "trust", "kind": "trust", "asks": "trust"},
                {**base, **anchor, "name": "perm", "kind": "permission", "offers": "^No, and"},
                {**base, **anchor, "name": "other", "kind": "setup"},
            ],
        },
    )
    trust = classify(profile, PaneView("Do you trust it?\n❯ Yes\n  No"))
    perm = classify(profile, PaneView("Run it?\n❯ 1. Yes\n  2. No, and say why"))
    other = classify(profile, PaneView("Pick one?\n❯ Red\n  Blue"))
    assert [trust.evidence.detail, perm.evidence.detail, other.evidence.detail] == [
        "x: trust",
        "x: perm",
        "x: other",
    ]
    assert other.options == ("Red", "Blue")


def test_question_patterns_are_tried_in_order_across_paragraphs() -> None:
    profile = parse_profile(
        "x",
        {
            "command": "x",
            "rules": [
                {
                    "status": "needs_input",
                    "footer": "enter",
                    "question": ["(\\S.*\\?)", "\\A(.+)"],
                    "option_anchor": "^\\s*› ",
                    "option_marker": "›",
                }
            ],
        },
    )
    asked = "Make it the default?\n\nIt applies to every session.\n\n› 1. Yes\n  2. No\n\nenter"
    titled = "Hooks need review\n3 hooks changed.\n\n› 1. Review\n  2. Skip\n\nenter"
    assert classify(profile, PaneView(asked)).question == "Make it the default?"
    assert classify(profile, PaneView(titled)).question == "Hooks need review"


def test_options_on_one_line_are_split_and_stripped() -> None:
    profile = parse_profile(
        "x",
        {
            "command": "x",
            "rules": [
                {
                    "status": "needs_input",
                    "screen": "\\[Yes\\]:",
                    "lines": 1,
                    "question": "^(.*?\\?)",
                    "options_line": "((?:\\([A-Z]\\)[^/\\[\\n]*/)*\\([A-Z]\\)[^/\\[\\n]*?)\\s*\\[",
                    "options_split": "/",
                    "option_strip": "[()]",
                }
            ],
        },
    )
    r = classify(profile, PaneView("Apply edits? (Y)es/(N)o/(S)kip all [Yes]: "))
    assert (r.question, r.options) == ("Apply edits?", ("Yes", "No", "Skip all"))


def test_exited_phase_rules_only_read_a_pane_whose_program_is_gone() -> None:
    profile = parse_profile(
        "x",
        {
            "command": "x",
            "rules": [
                {"status": "failed", "phase": "exited", "screen": "^Error"},
                {"status": "idle", "screen": "^Error"},
            ],
        },
    )
    assert classify(profile, PaneView("Error: boom", command="x")).status is Status.IDLE
    assert classify(profile, PaneView("Error: boom", command="zsh")).status is Status.FAILED
    assert classify(profile, PaneView("Error: boom", dead=True)).status is Status.FAILED
    assert classify(profile, PaneView("bye", dead=True)).status is Status.EXITED


def test_rule_key_mistakes_name_the_place() -> None:
    with pytest.raises(UsageError, match=r"rule 1: unknown key\(s\) sceen"):
        parse_profile("x", {"command": "x", "rules": [{"status": "idle", "sceen": "a"}]})
    with pytest.raises(UsageError, match="phase must be"):
        parse_profile(
            "x", {"command": "x", "rules": [{"status": "idle", "screen": "a", "phase": "later"}]}
        )
    with pytest.raises(UsageError, match="lines: expected a whole number"):
        parse_profile(
            "x", {"command": "x", "rules": [{"status": "idle", "screen": "a", "lines": -1}]}
        )
    with pytest.raises(UsageError, match="question 2: invalid regular expression"):
        parse_profile(
            "x",
            {"command": "x", "rules": [{"status": "idle", "screen": "a", "question": ["a", "("]}]},
        )


def test_strip_ansi_leaves_the_text() -> None:
    coloured = "\x1b[1;31mred\x1b[0m \x1b(Bplain \x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\"
    assert strip_ansi(coloured) == "red plain link"
