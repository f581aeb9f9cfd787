"""An agent's diff as text, for the command line (``quarterdeck diff``)."""

from __future__ import annotations

from app.core.diff import AgentDiff, FileChange


def format_diff(diff: AgentDiff, *, stat: bool = False) -> str:
    """An agent's diff as text: a unified diff (summaries as comments), or one line per file
    with ``stat``; then a total."""
    out: list[str] = []
    for f in diff.files:
        name = f"{f.old_path} → {f.path}" if f.old_path else f.path
        if stat:
            note = f"  ({f.summary})" if f.binary else ""
            out.append(f"{f.change.value:<9} {name}  +{f.added} −{f.removed}{note}")
            continue
        old = (
            "/dev/null"
            if f.change in (FileChange.ADDED, FileChange.UNTRACKED)
            else "a/" + (f.old_path or f.path)
        )
        new = "/dev/null" if f.change is FileChange.DELETED else "b/" + f.path
        out.append(f"diff --quarterdeck {name} ({f.change.value})")
        out.append(f"--- {old}")
        out.append(f"+++ {new}")
        if f.summary:
            out.append(f"# {f.summary}")
        for hunk in f.hunks:
            out.append(hunk.header)
            out.extend(hunk.lines)
    n = len(diff.files)
    s = "s" if diff.commits != 1 else ""
    out.append(
        f"{n} file{'s' if n != 1 else ''} changed, +{diff.added} −{diff.removed} "
        f"({diff.commits} commit{s} since {diff.base_commit[:7]})"
    )
    return "\n".join(out)
