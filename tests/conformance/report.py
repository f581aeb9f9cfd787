"""The per-step result table: one row per step, one column per CLI."""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

PASS = "pass"
FAIL = "FAIL"
SKIP = "skip"


@dataclass(frozen=True)
class Result:
    cli: str
    step: str
    outcome: str
    reason: str
    seconds: float


class Results:
    """What every step of every CLI came to, in the order the steps ran (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: list[Result] = []

    def add(self, result: Result) -> None:
        with self._lock:
            self._rows.append(result)

    @property
    def rows(self) -> list[Result]:
        with self._lock:
            return list(self._rows)

    def failed(self) -> list[Result]:
        return [r for r in self.rows if r.outcome == FAIL]

    def save(self, path: Path) -> None:
        path.write_text(
            json.dumps([asdict(r) for r in self.rows], indent=2, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )


def _cell(result: Result | None, width: int) -> str:
    if result is None:
        return "-"
    text = f"{result.outcome} {result.seconds:.0f}s"
    if result.outcome != PASS and result.reason:
        text += f" {result.reason}"
    return text if len(text) <= width else text[: width - 1] + "…"


def table(rows: list[Result], clis: list[str], width: int = 34) -> str:
    """Steps down, CLIs across; each cell ``pass 3s`` or ``FAIL 12s <reason>``; the full
    reasons of every failure and skip follow the table."""
    steps: list[str] = []
    for r in rows:
        if r.step not in steps:
            steps.append(r.step)
    by_key = {(r.cli, r.step): r for r in rows}
    step_w = max([len("step"), *(len(s) for s in steps)])
    cols = (
        [
            min(width, max(len(c), *(len(_cell(by_key.get((c, s)), width)) for s in steps)))
            for c in clis
        ]
        if steps
        else [len(c) for c in clis]
    )
    lines = [
        "  ".join(["step".ljust(step_w), *(c.ljust(w) for c, w in zip(clis, cols, strict=True))])
    ]
    lines.append("  ".join(["-" * step_w, *("-" * w for w in cols)]))
    for s in steps:
        cells = [_cell(by_key.get((c, s)), w).ljust(w) for c, w in zip(clis, cols, strict=True)]
        lines.append("  ".join([s.ljust(step_w), *cells]).rstrip())
    order = {c: i for i, c in enumerate(clis)}
    notes = sorted(
        (r for r in rows if r.outcome != PASS and r.reason),
        key=lambda r: (order.get(r.cli, len(order)), steps.index(r.step)),
    )
    if notes:
        lines.append("")
        lines.extend(f"{r.outcome} {r.cli} / {r.step}: {r.reason}" for r in notes)
    total = {o: sum(1 for r in rows if r.outcome == o) for o in (PASS, FAIL, SKIP)}
    lines.append("")
    lines.append(f"{total[PASS]} passed, {total[FAIL]} failed, {total[SKIP]} skipped")
    return "\n".join(lines)
