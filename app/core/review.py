"""The review's pure parts under their former name: the diff model (`app.core.diff`), checks
(`app.core.checks`) and landing (`app.core.landing`). New code imports from those modules."""

from __future__ import annotations

from app.core.checks import (
    CheckResult,
    CheckState,
    check_refusal,
)
from app.core.diff import (
    MAX_FILE_DIFF_BYTES,
    MAX_RENDERED_LINES,
    AgentDiff,
    ChangeEntry,
    Comment,
    FileChange,
    FileDiff,
    Hunk,
    binary_summary,
    count_lines,
    format_size,
    looks_binary,
    new_file_hunk,
    overlaps,
    parse_hunks,
    parse_raw_numstat,
    split_patch,
    too_large_summary,
    unquote_path,
)
from app.core.landing import (
    MergeOutcome,
    MergeStrategy,
    conflict_message,
    first_line,
    squash_message,
)

__all__ = [
    "MAX_FILE_DIFF_BYTES",
    "MAX_RENDERED_LINES",
    "AgentDiff",
    "ChangeEntry",
    "CheckResult",
    "CheckState",
    "Comment",
    "FileChange",
    "FileDiff",
    "Hunk",
    "MergeOutcome",
    "MergeStrategy",
    "binary_summary",
    "check_refusal",
    "conflict_message",
    "count_lines",
    "first_line",
    "format_size",
    "looks_binary",
    "new_file_hunk",
    "overlaps",
    "parse_hunks",
    "parse_raw_numstat",
    "split_patch",
    "squash_message",
    "too_large_summary",
    "unquote_path",
]
