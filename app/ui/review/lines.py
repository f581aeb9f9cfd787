"""The review's title lines and file list entries: what changed, and how its check went."""

from __future__ import annotations

from textual.content import Content

from app.core.checks import CheckResult, CheckState, check_refusal
from app.core.diff import AgentDiff, FileChange, FileDiff
from app.core.views import format_duration

#: The letter and theme variable of each kind of change in the file list.
CHANGE_MARKS: dict[FileChange, tuple[str, str]] = {
    FileChange.ADDED: ("A", "success"),
    FileChange.MODIFIED: ("M", "warning"),
    FileChange.DELETED: ("D", "error"),
    FileChange.RENAMED: ("R", "accent"),
    FileChange.UNTRACKED: ("U", "success"),
}


def file_entry(file: FileDiff) -> Content:
    """One line of the file list: ``M src/app.py +12 −3`` (binary and large files say so)."""
    letter, variable = CHANGE_MARKS.get(file.change, ("?", "foreground"))
    entry = Content.from_markup(f"[b ${variable}]$letter[/] $path", letter=letter, path=file.path)
    if file.binary:
        entry += Content.from_markup(" [dim]binary[/dim]")
    else:
        entry += Content.from_markup(
            " [$success]+$added[/] [$error]−$removed[/]",
            added=str(file.added),
            removed=str(file.removed),
        )
        if file.summary:
            entry += Content.from_markup(" [dim]large[/dim]")
    return entry


def file_title(file: FileDiff) -> Content:
    """The diff view's title: the path (and where it was renamed from), the change, the
    counts."""
    path = file.path
    if file.old_path and file.old_path != file.path:
        path = f"{file.old_path} → {file.path}"
    title = Content.from_markup("[b]$path[/b] [dim]$change[/dim]", path=path, change=file.change)
    if not file.binary:
        title += Content.from_markup(
            " [$success]+$added[/] [$error]−$removed[/]",
            added=str(file.added),
            removed=str(file.removed),
        )
    return title


def check_duration(result: CheckResult, now: float) -> str:
    """How long the check ran (or has been running): ``12.3s``, ``4m``."""
    seconds = result.duration
    if result.state is CheckState.RUNNING or seconds <= 0:
        seconds = max(0.0, now - result.started_at)
    return f"{seconds:.1f}s" if seconds < 60 else format_duration(seconds)


def check_content(result: CheckResult | None, now: float, head: str = "") -> Content:
    """The check's line of the title: state, duration, the commit it ran on, command, and what
    the keys do; a passed check that would not allow landing ``head`` (another commit, or
    uncommitted changes) says why."""
    if result is None:
        return Content.from_markup("[dim]no check yet · C runs it[/dim]")
    took = check_duration(result, now)
    command = result.command or "the check"
    if result.commit:
        command = f"{command} on {result.ran_on}"
    if result.state is CheckState.RUNNING:
        return Content.from_markup(
            "[b $warning]⋯ check running[/] $took · $command [dim]· C cancels · o output[/dim]",
            took=took,
            command=command,
        )
    if result.state is CheckState.PASSED:
        stale = check_refusal(result, head) if head else ""
        if stale:
            return Content.from_markup(
                "[b $success]✓ check passed[/] in $took · $command · [b $warning]⚠ $stale[/] "
                "[dim]· C runs it again[/dim]",
                took=took,
                command=command,
                stale=stale,
            )
        return Content.from_markup(
            "[b $success]✓ check passed[/] in $took · $command [dim]· C runs it again[/dim]",
            took=took,
            command=command,
        )
    if result.state is CheckState.FAILED:
        code = f" (exit {result.exit_code})" if result.exit_code is not None else ""
        return Content.from_markup(
            "[b $error]✗ check failed[/]$code in $took · $command [dim]· o output[/dim]",
            code=code,
            took=took,
            command=command,
        )
    return Content.from_markup(
        "[b]⊘ check cancelled[/] after $took · $command [dim]· C runs it[/dim]",
        took=took,
        command=command,
    )


def diff_summary(name: str, branch: str, diff: AgentDiff | None) -> Content:
    """The first title line: the agent, its branch, its commits and the totals."""
    line = Content.from_markup("[b]Review $name[/b] [dim]· $branch[/dim]", name=name, branch=branch)
    if diff is None:
        return line
    s = "s" if diff.commits != 1 else ""
    files = len(diff.files)
    fs = "s" if files != 1 else ""
    return line + Content.from_markup(
        " [dim]· $commits commit$s on base $base ·[/dim] $files file$fs "
        "[$success]+$added[/] [$error]−$removed[/]",
        commits=str(diff.commits),
        s=s,
        base=diff.base_commit[:8],
        files=str(files),
        fs=fs,
        added=str(diff.added),
        removed=str(diff.removed),
    )
