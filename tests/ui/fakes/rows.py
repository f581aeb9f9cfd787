"""Fleet rows for UI tests: a row with sensible defaults, a busy fleet, agents waiting."""

from __future__ import annotations

from app.core.agent import DiffStats
from app.core.checks import CheckState, CheckSummary
from app.core.status import InputKind, Status
from app.core.views import AgentRow

#: The constant "now" of deterministic tests.
NOW = 1_700_000_000.0

#: What `FakePort.capture` returns: a tiny agent screen with colours and a trailing blank line.
CAPTURE = (
    "\x1b[1;36m demo agent \x1b[0m working in \x1b[33m{name}\x1b[0m\n"
    "\x1b[32m✓\x1b[0m read src/app.py\n"
    "\x1b[32m✓\x1b[0m edited src/app.py \x1b[32m+12\x1b[0m \x1b[31m-3\x1b[0m\n"
    "\x1b[35m⠋\x1b[0m running tests… \x1b[2m(esc to interrupt)\x1b[0m\n"
    "\n"
)


def make_row(
    name: str,
    status: Status = Status.WORKING,
    *,
    kind: str = "demo",
    age: float = 65.0,
    added: int = 0,
    removed: int = 0,
    summary: str = "",
    evidence: str = "screen: spinner",
    question: str = "",
    options: tuple[str, ...] = (),
    label: str | None = None,
    input_kind: InputKind | None = None,
    context: tuple[str, ...] = (),
    detail: str = "",
    message: str = "",
    files: int | None = None,
    check: CheckSummary | None = None,
    overlap: tuple[str, ...] = (),
    task: str = "",
) -> AgentRow:
    """A view row with sensible defaults; ``age`` is seconds in its status before `NOW`;
    ``files`` defaults to one file per 50 changed lines (at least one when any changed)."""
    if files is None:
        files = (added + removed + 49) // 50
    if label is None and input_kind is not None:
        label = f"{status.value}:{input_kind.value}"
    return AgentRow(
        name=name,
        kind=kind,
        status=status,
        status_label=label or status.value,
        since=NOW - age,
        branch=f"qd/{name}",
        summary=summary,
        pane_id=f"%{len(name)}",
        evidence=evidence,
        question=question,
        options=options,
        input_kind=input_kind,
        context=context,
        detail=detail,
        message=message,
        stats=DiffStats(added, removed, files),
        check=check,
        overlap=overlap,
        task=task,
    )


def twelve_rows() -> list[AgentRow]:
    """A busy fleet in mixed statuses, including agents waiting with a question."""
    s = Status
    return [
        make_row(
            "fix-login-bug",
            s.WORKING,
            age=42,
            added=12,
            removed=3,
            summary="Running pytest tests/test_login.py",
            check=CheckSummary(CheckState.RUNNING),
        ),
        make_row(
            "add-dark-mode",
            s.NEEDS_INPUT,
            kind="claude",
            age=95,
            label="needs_input:permission",
            evidence="hook: Notification",
            question="Allow edit to src/theme.css?",
            options=("Yes", "Yes, and don't ask again", "No"),
            summary="Wants to edit src/theme.css",
            added=40,
            removed=2,
        ),
        make_row(
            "refactor-db-layer",
            s.IDLE,
            kind="codex",
            age=310,
            added=230,
            removed=118,
            summary="Done. Moved queries into repository classes.",
            evidence="pane: title idle",
            files=14,
            check=CheckSummary(CheckState.FAILED, 41.0),
            overlap=("type-hints",),
        ),
        make_row(
            "docs-api",
            s.DONE,
            age=4000,
            added=88,
            summary="check passed: make docs",
            check=CheckSummary(CheckState.PASSED, 12.0),
        ),
        make_row(
            "flaky-test-hunt",
            s.FAILED,
            kind="gemini",
            age=20,
            summary="Error: quota exceeded",
            evidence="screen: error banner",
        ),
        make_row("bump-deps", s.EXITED, kind="aider", age=90000, evidence="pane: dead"),
        make_row("cache-layer", s.STARTING, kind="claude", age=2, evidence="spawn"),
        make_row("perf-audit", s.UNKNOWN, kind="opencode", age=15, evidence="no signal yet"),
        make_row(
            "i18n-strings",
            s.NEEDS_INPUT,
            age=30,
            label="needs_input:question",
            evidence="screen: question",
            question="Which locale should be the default?",
            summary="Asked a question",
        ),
        make_row(
            "split-utils",
            s.WORKING,
            kind="codex",
            age=600,
            added=5,
            removed=61,
            summary="Editing app/utils/strings.py — removing dead helpers",
        ),
        make_row(
            "type-hints",
            s.WORKING,
            age=7300,
            added=400,
            removed=390,
            summary="mypy: 12 errors left",
            files=37,
            overlap=("refactor-db-layer",),
        ),
        make_row("readme-polish", s.PAUSED, age=120, summary="Paused by you"),
    ]


def waiting_rows() -> list[AgentRow]:
    """Three agents waiting on the human (a permission with a hook's detail, a question, a
    permission with no "no" option), the longest-waiting last in creation order, and two busy."""
    return [
        make_row("build-fix", Status.WORKING, age=12, summary="Running make"),
        make_row(
            "api-auth",
            Status.NEEDS_INPUT,
            kind="claude",
            age=40,
            input_kind=InputKind.PERMISSION,
            question="Do you want to proceed?",
            options=("Yes", "Yes, and don't ask again for npm test commands", "No"),
            context=(
                "I'll run the test suite to check the token refresh.",
                "",
                "● Bash(npm test -- auth)",
                "  Run the auth tests",
            ),
            detail="Bash: npm test -- auth",
        ),
        make_row(
            "docs-site",
            Status.NEEDS_INPUT,
            kind="codex",
            age=150,
            input_kind=InputKind.QUESTION,
            question="Which locale should be the default?",
            options=("English", "German", "Type something else"),
            context=("The site has pages in two languages.",),
        ),
        make_row(
            "web-ui",
            Status.NEEDS_INPUT,
            kind="claude",
            age=20,
            input_kind=InputKind.PERMISSION,
            question="Do you want to proceed?",
            options=("Yes", "Yes, allow all edits this session"),
            context=("● Bash(npm test -- ui)",),
            detail="Bash: npm test -- ui",
        ),
        make_row("lint-sweep", Status.IDLE, age=300, summary="Done: 14 files fixed"),
    ]
