"""An in-memory FleetPort for UI tests: scripted views, recorded calls, fixed pane captures.

The real fleet is tested against real tmux and git elsewhere; here the point is what the UI does
with what the port gives it, and which calls the UI makes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

from textual.pilot import Pilot

from app.core.agent import Agent, SpawnRequest
from app.core.alerts import Alert
from app.core.errors import AgentNotFoundError, QuarterdeckError
from app.core.messages import Message, MessageMode, MessageState
from app.core.ports import RemovalRisk
from app.core.review import (
    AgentDiff,
    CheckResult,
    Comment,
    FileChange,
    FileDiff,
    Hunk,
    MergeOutcome,
    MergeStrategy,
    parse_hunks,
)
from app.core.status import InputKind, Status
from app.core.views import AgentRow, FleetView

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
    check: str = "",
    overlap: tuple[str, ...] = (),
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
        added=added,
        removed=removed,
        summary=summary,
        pane_id=f"%{len(name)}",
        evidence=evidence,
        question=question,
        options=options,
        input_kind=input_kind,
        context=context,
        detail=detail,
        message=message,
        files=files,
        check=check,
        overlap=overlap,
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
            check="running",
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
            check="failed 41s",
            overlap=("type-hints",),
        ),
        make_row(
            "docs-api",
            s.DONE,
            age=4000,
            added=88,
            summary="check passed: make docs",
            check="passed 12s",
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


def _agent(request: SpawnRequest, name: str) -> Agent:
    return Agent(
        id=f"id-{name}",
        name=name,
        kind=request.kind,
        command="",
        branch=f"qd/{name}",
        base=request.base or "main",
        base_commit="0" * 40,
        worktree=f"/tmp/wt/{name}",
        session="qd",
        window_id="@1",
        pane_id="%1",
        pane_pid=1,
        created_at=NOW,
        prompt=request.prompt,
    )


@dataclass
class FakePort:
    """A FleetPort in memory. Tests script it through its attributes and `push`."""

    rows: list[AgentRow] = field(default_factory=list)
    repo_name: str = "acme-shop"
    kind_list: list[str] = field(default_factory=lambda: ["claude", "codex", "demo"])
    base: str = "main"
    key: str = "C-q"
    capture_text: str = CAPTURE
    #: Per-agent removal risk; agents not listed are safe to remove.
    risks: dict[str, RemovalRisk] = field(default_factory=dict)
    #: What `attach` returns (a command to run in the foreground, or None).
    attach_argv: list[str] | None = None
    #: Raised by `spawn` when set (the next call only).
    spawn_error: QuarterdeckError | None = None
    #: Set to make `spawn` wait until the test releases it.
    spawn_gate: threading.Event | None = None
    #: What the engine says about itself in the view.
    notice: str = ""
    #: Set to make `diff` wait until the test releases it.
    diff_gate: threading.Event | None = None

    spawned: list[SpawnRequest] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    removed: list[tuple[str, bool, bool]] = field(default_factory=list)
    attached: list[str] = field(default_factory=list)
    captured: list[str] = field(default_factory=list)
    callbacks: list[Callable[[FleetView], None]] = field(default_factory=list)
    alert_callbacks: list[Callable[[Alert], None]] = field(default_factory=list)
    evidence_asked: list[str] = field(default_factory=list)
    answered: list[tuple[str, int]] = field(default_factory=list)
    sent: list[tuple[tuple[str, ...], str, MessageMode]] = field(default_factory=list)
    interrupted: list[str] = field(default_factory=list)
    replied: list[tuple[str, str]] = field(default_factory=list)
    #: What `diff`, `check` and `merge` return, per agent.
    diffs: dict[str, AgentDiff] = field(default_factory=dict)
    check_results: dict[str, CheckResult] = field(default_factory=dict)
    merge_outcomes: dict[str, MergeOutcome] = field(default_factory=dict)
    comments: list[tuple[str, Comment]] = field(default_factory=list)
    checks_run: list[str] = field(default_factory=list)
    checks_cancelled: list[str] = field(default_factory=list)
    #: Each merge asked for: (name, strategy, force, update_worktree).
    merged: list[tuple[str, MergeStrategy | None, bool, bool]] = field(default_factory=list)
    #: Raised by the next merges, one each, before anything is recorded (a refusal).
    merge_refusals: list[QuarterdeckError] = field(default_factory=list)
    conflicts_sent: list[str] = field(default_factory=list)
    pushed: list[str] = field(default_factory=list)
    #: Raised by `send`, `answer`, `reply` and `interrupt` when set (the next call only).
    steer_error: QuarterdeckError | None = None
    #: What `evidence` returns: (time, status, evidence), oldest first.
    trail: list[tuple[float, str, str]] = field(default_factory=list)

    # -- scripting ---------------------------------------------------------------------------

    def push(self, rows: Iterable[AgentRow]) -> None:
        """Replace the fleet and tell subscribers, on the calling thread."""
        self.rows = list(rows)
        view = self.view()
        for callback in list(self.callbacks):
            callback(view)

    def push_from_thread(self, rows: Iterable[AgentRow]) -> None:
        """Replace the fleet from a background thread, as the real engine does."""
        thread = threading.Thread(target=self.push, args=(list(rows),))
        thread.start()
        thread.join()

    # -- FleetPort ---------------------------------------------------------------------------

    def view(self) -> FleetView:
        return FleetView(repo=self.repo_name, rows=tuple(self.rows), notice=self.notice)

    def subscribe(self, callback: Callable[[FleetView], None]) -> None:
        self.callbacks.append(callback)

    def subscribe_alerts(self, callback: Callable[[Alert], None]) -> None:
        self.alert_callbacks.append(callback)

    def alert(self, alert: Alert) -> None:
        """Announce ``alert`` to subscribers, as the engine does."""
        for callback in list(self.alert_callbacks):
            callback(alert)

    def _steer_error(self) -> None:
        error, self.steer_error = self.steer_error, None
        if error is not None:
            raise error

    def answer(self, name: str, number: int) -> str:
        self._steer_error()
        self.answered.append((name, number))
        return f"answered {name}: {number}"

    def send(self, names: Sequence[str], text: str, mode: MessageMode) -> list[Message]:
        self._steer_error()
        self.sent.append((tuple(names), text, mode))
        return [
            Message(i, f"id-{n}", n, text, mode, MessageState.PENDING, NOW, NOW)
            for i, n in enumerate(names, 1)
        ]

    def interrupt(self, name: str) -> None:
        self._steer_error()
        self.interrupted.append(name)

    def reply(self, name: str, text: str) -> str:
        self._steer_error()
        self.replied.append((name, text))
        return f"replied to {name}"

    def evidence(self, name: str) -> list[tuple[float, str, str]]:
        self.evidence_asked.append(name)
        return list(self.trail)

    def kinds(self) -> list[str]:
        return list(self.kind_list)

    def default_base(self) -> str:
        return self.base

    def spawn(self, request: SpawnRequest) -> list[Agent]:
        if self.spawn_gate is not None:
            self.spawn_gate.wait(timeout=10)
        self.spawned.append(request)
        if self.spawn_error is not None:
            error, self.spawn_error = self.spawn_error, None
            raise error
        name = request.name or "new-agent"
        self.push([*self.rows, make_row(name, Status.STARTING, kind=request.kind, age=0)])
        return [_agent(request, name)]

    def stop(self, name: str) -> None:
        self._row(name)
        self.stopped.append(name)
        self.push(
            replace(r, status=Status.EXITED, status_label="exited") if r.name == name else r
            for r in self.rows
        )

    def removal_risk(self, name: str) -> RemovalRisk:
        row = self._row(name)
        return self.risks.get(name) or RemovalRisk(name, row.branch, "main", 0, ())

    def remove(self, name: str, *, discard_unmerged: bool, discard_changes: bool) -> str:
        self._row(name)
        self.removed.append((name, discard_unmerged, discard_changes))
        self.push(r for r in self.rows if r.name != name)
        return f"Removed {name}; its branch tip is kept at refs/quarterdeck/archive/{name}"

    def capture(self, name: str) -> str:
        self._row(name)
        self.captured.append(name)
        return self.capture_text.format(name=name)

    def attach(self, name: str) -> list[str] | None:
        self._row(name)
        self.attached.append(name)
        return self.attach_argv

    @property
    def return_key(self) -> str:
        return self.key

    # -- review ------------------------------------------------------------------------------

    def diff(self, name: str) -> AgentDiff:
        if self.diff_gate is not None:
            self.diff_gate.wait(timeout=10)
        self._row(name)
        return self.diffs.get(name, AgentDiff(base_commit="0" * 40))

    def comment(self, name: str, comment: Comment) -> Message:
        self._steer_error()
        self.comments.append((name, comment))
        return Message(
            1,
            f"id-{name}",
            name,
            comment.message(),
            MessageMode.QUEUE,
            MessageState.PENDING,
            NOW,
            NOW,
        )

    def run_check(self, name: str) -> None:
        self.checks_run.append(name)

    def cancel_check(self, name: str) -> None:
        self.checks_cancelled.append(name)

    def check(self, name: str) -> CheckResult | None:
        return self.check_results.get(name)

    def merge(
        self,
        name: str,
        strategy: MergeStrategy | None,
        *,
        force: bool,
        update_worktree: bool = False,
    ) -> MergeOutcome:
        self._steer_error()
        if self.merge_refusals:
            raise self.merge_refusals.pop(0)
        self.merged.append((name, strategy, force, update_worktree))
        outcome = self.merge_outcomes.get(name)
        chosen = strategy or MergeStrategy.MERGE
        how = {MergeStrategy.SQUASH: "one squashed commit"}.get(chosen, "merge commit")
        moved = "/src/acme" if update_worktree else ""
        return outcome or MergeOutcome(chosen, "main", True, "f" * 40, worktree=moved, how=how)

    def send_conflict(self, name: str) -> Message:
        self.conflicts_sent.append(name)
        return Message(
            1, f"id-{name}", name, "conflict", MessageMode.QUEUE, MessageState.PENDING, NOW, NOW
        )

    def push_branch(self, name: str) -> str:
        self._steer_error()
        self.pushed.append(name)
        return f"pushed qd/{name}"

    def _row(self, name: str) -> AgentRow:
        for row in self.rows:
            if row.name == name:
                return row
        raise AgentNotFoundError(f"no agent named {name!r}")


async def wait_until(
    pilot: Pilot[None], condition: Callable[[], object], timeout: float = 5.0
) -> None:
    """Let the app run until ``condition()`` holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.01)


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


def sample_diff() -> AgentDiff:
    """A small diff: a modified Python file with two hunks, an added Markdown file, a binary
    image, a file too large to render and a rename."""
    app_py = parse_hunks(
        "@@ -1,6 +1,8 @@\n"
        ' """The login view."""\n'
        " \n"
        "-import os\n"
        "+import hashlib\n"
        "+import hmac\n"
        " \n"
        " \n"
        " def login(user, password):\n"
        "@@ -20,7 +22,9 @@ def login(user, password):\n"
        "     record = USERS.get(user)\n"
        "     if record is None:\n"
        "         return False\n"
        "-    return record.password == password\n"
        '+    # Compare in constant time: "==" leaks the length of the common prefix.\n'
        "+    digest = hashlib.sha256(password.encode()).hexdigest()\n"
        "+    return hmac.compare_digest(record.digest, digest)\n"
        " \n"
        " \n"
        " def logout(user):\n"
    )
    notes = parse_hunks(
        "@@ -0,0 +1,4 @@\n+# Login\n+\n+Passwords are compared in constant time.\n+\n"
    )
    return AgentDiff(
        base_commit="1a2b3c4d5e6f" + "0" * 28,
        commits=2,
        files=(
            FileDiff("src/login.py", FileChange.MODIFIED, 5, 2, hunks=app_py),
            FileDiff("docs/login.md", FileChange.ADDED, 4, 0, hunks=notes),
            FileDiff(
                "assets/logo.png",
                FileChange.MODIFIED,
                0,
                0,
                binary=True,
                summary="Binary file changed: 12.0 KiB → 14.5 KiB",
            ),
            FileDiff(
                "data/fixtures.json",
                FileChange.ADDED,
                9000,
                0,
                summary="9000 changed lines: too large to show (git diff shows it)",
            ),
            FileDiff(
                "src/auth/session.py",
                FileChange.RENAMED,
                1,
                1,
                old_path="src/session.py",
                hunks=parse_hunks("@@ -3,3 +3,3 @@\n import time\n-TTL = 60\n+TTL = 3600\n \n"),
            ),
        ),
    )


def big_diff(lines: int = 10_000, *, hunk_lines: int = 0) -> AgentDiff:
    """One Python file with ``lines`` changed lines (added and removed in turns, with context),
    in hunks of ``hunk_lines`` lines (0: one hunk)."""
    body: list[str] = []
    for n in range(lines):
        if n % 3 == 0:
            body.append(f"-    value_{n} = compute({n}, 'old')  # the old way")
        elif n % 3 == 1:
            body.append(f'+    value_{n} = compute({n}, "new")  # the new way')
        else:
            body.append(f"     total += value_{n - 1}")
    size = hunk_lines or lines
    hunks: list[Hunk] = []
    old = new = 1
    for start in range(0, lines, size):
        chunk = tuple(body[start : start + size])
        removed = sum(1 for line in chunk if line.startswith("-"))
        added = sum(1 for line in chunk if line.startswith("+"))
        context = len(chunk) - removed - added
        header = f"@@ -{old},{removed + context} +{new},{added + context} @@ def big():"
        hunks.append(Hunk(header, old, removed + context, new, added + context, chunk))
        old += removed + context + 10
        new += added + context + 10
    added = sum(h.added for h in hunks)
    removed = sum(h.removed for h in hunks)
    return AgentDiff(
        base_commit="9" * 40,
        commits=1,
        files=(FileDiff("src/big.py", FileChange.MODIFIED, added, removed, hunks=tuple(hunks)),),
    )
