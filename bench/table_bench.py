"""Agent-table benchmark: a busy fleet's table updates and keypresses, this widget vs a baseline.

Usage::

    .venv/bin/python bench/table_bench.py [--rows 100] [--changed 30] [--rate 5] [--seconds 10]
                                          [--baseline REV] [--size 160x45] [--seed 1]

Mounts `AgentTable` alone in a headless Textual app (``App.run_test``) laid out as in the
dashboard (``height: auto; max-height: 55%`` of a 160x45 terminal, so about 23 rows on screen),
shows ``--rows`` rows, and measures, for the working tree's widget and for the one in git at
``--baseline`` (default: the last DataTable-based version):

- **keys alone**: 60 ``j``/``k`` key events with nothing else going on, each timed from the
  moment the key event is handed to the app to the end of the frame that shows the moved cursor
  (wall time, and the process's CPU time over the same span);
- **updates alone**: 40 updates, each changing ``--changed`` random rows (status, last output,
  diff) and calling `show_rows` as the dashboard does with a new view, timed from the call to
  the end of the frame that shows it (wall and CPU), and `show_rows` by itself;
- **busy**: for ``--seconds``, the updates every 1/``--rate`` s while ``j``/``k`` keys arrive
  every 70-130 ms: key-to-frame latency, the process's CPU time per wall second (% of one core;
  the app is the only thing running), frames per second and bytes of terminal output per frame.

Headless Textual skips writing frames to a terminal; here every frame is serialised as the real
driver would (to a truecolor console writing to memory), so output cost counts. Frames are
paced by Textual's 60 fps update timer, so latencies include up to ~17 ms of waiting for it.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import io
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from textual import events  # noqa: E402
from textual.app import App, ComposeResult  # noqa: E402
from textual.screen import Screen  # noqa: E402
from textual.widget import Widget  # noqa: E402
from textual.widgets import Static  # noqa: E402

from app.core.agent import DiffStats  # noqa: E402
from app.core.status import Status  # noqa: E402
from app.core.views import AgentRow  # noqa: E402
from app.ui.themes import default_themes_dir, load_themes  # noqa: E402

#: The last commit whose agent table is Textual's DataTable.
DEFAULT_BASELINE = "a6628d8"
NOW = 1_700_000_000.0
KINDS = ("claude", "codex", "gemini", "aider", "demo")
STATUSES = (Status.WORKING, Status.WORKING, Status.IDLE, Status.NEEDS_INPUT, Status.DONE)
WORDS = [
    "edit",
    "run",
    "read",
    "test",
    "build",
    "fix",
    "parse",
    "render",
    "cache",
    "query",
    "sweep",
    "plan",
    "write",
    "check",
]


def p95(values: list[float]) -> float:
    """The 95th percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def load_baseline(rev: str) -> ModuleType:
    """The agent-table module as it was at ``rev``, imported under another name."""
    source = subprocess.run(
        ["git", "show", f"{rev}:app/ui/widgets/agent_table.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = Path(tempfile.mkdtemp(prefix="table-bench-")) / "agent_table_baseline.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("agent_table_baseline", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


class BenchRow(AgentRow):
    """A row that the baseline widget can read too: it reads the diff stats as the flat
    ``added`` and ``removed`` the rows had before they carried `DiffStats`."""

    @property
    def added(self) -> int:
        """Lines added (as the baseline reads them)."""
        return self.stats.lines_added

    @property
    def removed(self) -> int:
        """Lines removed (as the baseline reads them)."""
        return self.stats.lines_removed


def make_rows(count: int, rng: random.Random) -> list[AgentRow]:
    """A fleet of ``count`` agents in mixed statuses."""
    rows: list[AgentRow] = []
    for i in range(count):
        status = rng.choice(STATUSES)
        rows.append(
            BenchRow(
                name=f"agent-{i:03d}-{rng.choice(WORDS)}",
                kind=rng.choice(KINDS),
                status=status,
                status_label=status.value,
                since=NOW - rng.uniform(1, 5000),
                branch=f"qd/agent-{i:03d}",
                summary=" ".join(rng.choice(WORDS) for _ in range(8)),
                pane_id=f"%{i}",
                evidence="screen: spinner",
                question="",
                options=(),
                stats=DiffStats(rng.randrange(500), rng.randrange(200)),
            )
        )
    return rows


def churn(rows: list[AgentRow], changed: int, rng: random.Random, now: float) -> list[AgentRow]:
    """The fleet a moment later: ``changed`` rows with new output, some with a new status."""
    rows = list(rows)
    for i in rng.sample(range(len(rows)), changed):
        row = rows[i]
        status = rng.choice(STATUSES) if rng.random() < 0.3 else row.status
        rows[i] = replace(
            row,
            status=status,
            status_label=status.value,
            since=now if status is not row.status else row.since,
            stats=replace(row.stats, lines_added=row.stats.lines_added + rng.randrange(5)),
            summary=" ".join(rng.choice(WORDS) for _ in range(rng.randrange(3, 12))),
        )
    return rows


@dataclass
class Probe:
    """What the display hook records: frames, and when the awaited event reached the screen."""

    frames: int = 0
    frame_bytes: list[int] = field(default_factory=list)
    key_from: int | None = None
    waiting: bool = False
    shown: asyncio.Event = field(default_factory=asyncio.Event)
    shown_at: float = 0.0


class BenchApp(App[None]):
    """The table with a filler below it, laid out as in the dashboard."""

    CSS = """
    #agents { height: auto; max-height: 55%; background: $surface; }
    #filler { height: 1fr; }
    """

    def __init__(self, table: Widget) -> None:
        super().__init__()
        for theme in load_themes(default_themes_dir()):
            self.register_theme(theme)
        self.theme = "quarterdeck-dark"
        self.table = table

    def compose(self) -> ComposeResult:
        yield self.table
        yield Static("preview", id="filler")


async def run_one(table_class: type[Any], args: argparse.Namespace) -> dict[str, Any]:
    """Measure one widget class; returns the figures by name."""
    rng = random.Random(args.seed)
    rows = make_rows(args.rows, rng)
    table = table_class(id="agents")
    app = BenchApp(table)
    probe = Probe()
    terminal = Console(
        file=io.StringIO(), color_system="truecolor", force_terminal=True, width=args.width
    )

    def hook(display: Callable[[Screen[Any], Any], None]) -> Callable[[Screen[Any], Any], None]:
        def timed(screen: Screen[Any], renderable: Any) -> None:
            display(screen, renderable)
            if renderable is None or not hasattr(renderable, "render_segments"):
                return
            probe.frame_bytes.append(len(renderable.render_segments(terminal)))
            probe.frames += 1
            if probe.waiting and (probe.key_from is None or table.cursor_row != probe.key_from):
                probe.waiting = False
                probe.shown_at = time.perf_counter()
                probe.shown.set()

        return timed

    async def until_shown(action: Callable[[], None], key_from: int | None) -> tuple[float, float]:
        """Run ``action``; wall and CPU seconds until the frame that shows its effect."""
        probe.shown.clear()
        probe.key_from = key_from
        probe.waiting = True
        cpu, start = time.process_time(), time.perf_counter()
        action()
        await asyncio.wait_for(probe.shown.wait(), 5)
        return probe.shown_at - start, time.process_time() - cpu

    def press(key: str) -> Callable[[], None]:
        def send() -> None:
            assert app._driver is not None
            app._driver.send_message(events.Key(key, key))

        return send

    def direction(step: int) -> str:
        return "j" if (step // 15) % 2 == 0 else "k"  # down 15 rows, up 15 rows, ...

    fleet = {"now": NOW}
    show_rows: list[float] = []

    def update() -> None:
        nonlocal rows
        now = fleet["now"] = fleet["now"] + 1 / args.rate
        rows = churn(rows, args.changed, rng, now)
        start = time.perf_counter()
        table.show_rows(rows, now)
        show_rows.append(time.perf_counter() - start)

    figures: dict[str, Any] = {}
    async with app.run_test(size=(args.width, args.height)) as pilot:
        app._display = hook(app._display)  # type: ignore[method-assign,assignment]
        table.show_rows(rows, NOW)
        await pilot.pause()
        table.focus()
        await pilot.pause()
        figures["rows on screen"] = table.scrollable_content_region.height - 1

        walls, cpus = [], []
        for step in range(60):
            wall, cpu = await until_shown(press(direction(step)), table.cursor_row)
            walls.append(wall)
            cpus.append(cpu)
            await asyncio.sleep(0.02)
        figures["key→frame, wall ms"] = walls
        figures["key→frame, CPU ms"] = cpus

        walls, cpus = [], []
        for _ in range(40):
            wall, cpu = await until_shown(update, None)
            walls.append(wall)
            cpus.append(cpu)
            await asyncio.sleep(0.02)
        figures["show_rows ms"] = list(show_rows)
        figures["update→frame, wall ms"] = walls
        figures["update→frame, CPU ms"] = cpus

        # Busy: updates at --rate per second, keys every 70-130 ms.
        frames, sizes = probe.frames, len(probe.frame_bytes)
        timer = app.set_interval(1 / args.rate, update)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        walls = []
        step = 0
        while time.perf_counter() - wall0 < args.seconds:
            wall, _ = await until_shown(press(direction(step)), table.cursor_row)
            walls.append(wall)
            step += 1
            await asyncio.sleep(rng.uniform(0.07, 0.13))
        elapsed = time.perf_counter() - wall0
        cpu_share = (time.process_time() - cpu0) / elapsed
        timer.stop()
        figures["busy: key→frame, wall ms"] = walls
        figures["busy: CPU % of a core"] = cpu_share * 100
        figures["busy: frames/s"] = (probe.frames - frames) / elapsed
        figures["busy: bytes/frame"] = statistics.mean(probe.frame_bytes[sizes:])
    return figures


def summary(values: list[float]) -> str:
    """Mean, p95 and max in milliseconds."""
    ms = [v * 1000 for v in values]
    return f"{statistics.mean(ms):6.2f} / {p95(ms):6.2f} / {max(ms):6.2f}"


def main() -> None:
    """Run both widgets and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100)
    parser.add_argument("--changed", type=int, default=30)
    parser.add_argument("--rate", type=float, default=5.0, help="updates per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--baseline", default=DEFAULT_BASELINE, help="git revision")
    parser.add_argument("--size", default="160x45", help="terminal WIDTHxHEIGHT")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    args.width, args.height = (int(n) for n in args.size.split("x"))

    from app.ui.widgets.agent_table import AgentTable

    baseline = load_baseline(args.baseline).AgentTable
    results = {}
    for label, cls in ((f"baseline ({args.baseline})", baseline), ("working tree", AgentTable)):
        print(f"measuring {label}…", file=sys.stderr)
        results[label] = asyncio.run(run_one(cls, args))

    print(
        f"{args.rows} rows, {args.changed} changed per update, {args.rate:g} updates/s, "
        f"{args.seconds:g} s busy, {args.width}x{args.height} terminal\n"
    )
    labels = list(results)
    print("| | " + " | ".join(labels) + " |")
    print("|---|" + "---|" * len(labels))
    for key in results[labels[0]]:
        cells = []
        for label in labels:
            value = results[label][key]
            cells.append(summary(value) if isinstance(value, list) else f"{value:.0f}")
        print(f"| {key} | " + " | ".join(cells) + " |")
    print("\nTimings: mean / p95 / max, in ms.")


if __name__ == "__main__":
    main()
