"""Review benchmark: how fast diff stats follow edits, what looking costs while nothing changes,
and how the review screen copes with a 10,000-line diff.

Usage: .venv/bin/python bench/review_bench.py [--agents 10 50] [--edits 40] [--idle 10]
       [--lines 10000]

For each fleet size it creates a throwaway repository on a private tmux server, spawns that
many shell agents (each in its own worktree), starts the engine (with its one watcher for the
fleet) and measures:

- edit → row: a file written in one agent's worktree, until that agent's record shows the new
  file count (what the dashboard's row shows); ``--edits`` edits, spread over the agents;
- idle: for ``--idle`` seconds with nothing changing, the git commands run (0 is the target) and
  the CPU the process uses, as a percentage of one core (the engine's own tmux work included);
- the 10,000-line diff (``--lines``), once, on the largest fleet: `Fleet.diff` cold (git and
  parsing) and warm (from the cache); then the dashboard itself (headless, real fleet): `v`
  until the review screen shows the diff, and each of 100 `PgDn` / `]` / `j` keypresses
  (press to processed), while the engine runs.

Everything is torn down afterwards (tmux server killed, temporary folders removed).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fleet_bench import make_repo, p95  # noqa: E402

from app.core.agent import SpawnRequest  # noqa: E402
from app.fleet.engine import Engine  # noqa: E402
from app.fleet.fleet import Fleet  # noqa: E402
from app.infra.git import Repository  # noqa: E402


def wait(condition: Callable[[], object], timeout: float, what: str, step: float = 0.002) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(step)


def git(cwd: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@b"}
    env.update(GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@b")
    subprocess.run(["git", *args], cwd=cwd, check=True, env=env, capture_output=True)


class GitCounter:
    """Counts every git command Quarterdeck runs (they all go through `Repository.call`)."""

    def __init__(self) -> None:
        self.calls = 0
        original = Repository.call

        def counting(repo: Repository, *args: str, **kwargs: Any) -> Any:
            self.calls += 1
            return original(repo, *args, **kwargs)

        Repository.call = counting  # type: ignore[method-assign]


def fleet_of(n: int, work: Path) -> tuple[Fleet, list[str]]:
    repo = work / f"repo{n}"
    make_repo(repo, 300)
    fleet = Fleet.open(repo)
    names = [f"agent{i:03d}" for i in range(n)]
    for name in names:
        fleet.spawn(SpawnRequest(prompt="", kind="shell", name=name))
    return fleet, names


def measure_fleet(n: int, work: Path, edits: int, idle: float, counter: GitCounter) -> Fleet:
    fleet, names = fleet_of(n, work)
    engine = Engine(fleet)
    engine.start()
    try:
        wait(
            lambda: all(fleet.diffs.covers(fleet.get(x)) for x in names),
            30,
            "the watcher to cover every agent",
            0.05,
        )
        wait(lambda: fleet.diffs.pending_stats() == 0, 60, "first stats", 0.05)
        latencies = []
        for k in range(edits):
            name = names[(k * 7) % n]
            before = fleet.get(name).stats.files_changed
            worktree = Path(fleet.get(name).checkout.worktree)
            started = time.monotonic()
            (worktree / f"edit{k}.txt").write_text("".join(f"line {i}\n" for i in range(k + 1)))
            wait(lambda: fleet.get(name).stats.files_changed == before + 1, 10, "the row")  # noqa: B023
            latencies.append(time.monotonic() - started)
            time.sleep(0.25)  # let the watcher's debounce pass: edits are separate events
        wait(lambda: fleet.diffs.pending_stats() == 0, 30, "quiet", 0.05)
        time.sleep(1.0)
        calls, cpu, wall = counter.calls, time.process_time(), time.monotonic()
        time.sleep(idle)
        idle_calls = counter.calls - calls
        idle_cpu = (time.process_time() - cpu) / (time.monotonic() - wall) * 100
        ms = [x * 1000 for x in latencies]
        print(
            f"| {n} | {statistics.median(ms):.0f} | {p95(ms):.0f} | {max(ms):.0f} | "
            f"{idle_calls} | {idle_cpu:.1f} % |",
            flush=True,
        )
    finally:
        engine.stop()
    return fleet


def end_fleet(fleet: Fleet) -> None:
    """Kill the fleet's tmux session: the next fleet's figures are its own."""
    socket = os.environ["QUARTERDECK_TMUX_SOCKET"]
    session = fleet.agents()[0].placement.session
    subprocess.run(["tmux", "-L", socket, "kill-session", "-t", session], capture_output=True)


def big_diff(fleet: Fleet, lines: int) -> str:
    name = fleet.agents()[0].name
    worktree = Path(fleet.get(name).checkout.worktree)
    text = "".join(f"value_{i} = compute({i}, 'row {i}')  # generated\n" for i in range(lines))
    (worktree / "big_module.py").write_text(text)
    git(worktree, "add", "big_module.py")
    git(worktree, "commit", "-q", "-m", "big")
    started = time.perf_counter()
    diff = fleet.diffs.reader.diff(worktree, fleet.get(name).checkout.base_commit)
    cold = (time.perf_counter() - started) * 1000
    big = next(f for f in diff.files if f.path == "big_module.py")
    assert big.added == lines and sum(h.added for h in big.hunks) == lines, "lines lost"
    print(
        f"  ({len(fleet.agents())} agents: {lines}-line diff read and parsed in {cold:.0f} ms)",
        flush=True,
    )
    return name


async def review_keys(fleet: Fleet, name: str, lines: int) -> str:
    from textual.geometry import Region

    from app.ui.app import QuarterdeckApp
    from app.ui.review.screen import ReviewScreen

    gc.freeze()  # as `quarterdeck dashboard` does before it runs the app
    app = QuarterdeckApp(fleet)
    async with app.run_test(size=(160, 45)) as pilot:
        agents = len(fleet.agents())
        while app.dashboard.table.row_count < agents or not app.dashboard.table.select_name(name):
            await asyncio.sleep(0.01)
        # The engine's start (every agent looked at, every diff counted once) is over, as it
        # long is when someone opens a review.
        while fleet.diffs.pending_stats():
            await asyncio.sleep(0.05)
        await asyncio.sleep(2.0)
        started = time.perf_counter()
        await pilot.press("v")
        while not (isinstance(app.screen, ReviewScreen) and app.screen.view.line_count >= lines):
            await asyncio.sleep(0.001)
        opened = (time.perf_counter() - started) * 1000
        screen = app.screen
        view = screen.view
        await pilot.pause()
        # The work one key makes on the UI loop: the action, then drawing the lines now in
        # view (what the next repaint draws), timed on the wall clock while the engine runs.
        keys: list[Callable[[], None]] = (
            [view.action_page_down] * 100 + [view.action_cursor_down] * 100
        ) + [view.action_page_up] * 50
        lags: list[float] = []
        scrolling = True

        async def ticker() -> None:
            # How late the event loop runs a 10 ms timer: the longest the dashboard stalls.
            while scrolling:
                planned = time.perf_counter()
                await asyncio.sleep(0.01)
                lags.append((time.perf_counter() - planned - 0.01) * 1000)

        ticking = asyncio.create_task(ticker())
        rows = []
        for action in keys:
            started = time.perf_counter()
            action()
            await pilot._wait_for_screen()  # the messages it caused (scrolling) handled
            view.render_lines(Region(0, 0, view.size.width, view.size.height))
            rows.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.02)  # between keypresses the app runs as it would
        scrolling = False
        await ticking
        assert view.scroll_offset.y > 100, "the keys did not scroll"
        end = time.perf_counter()
        view.action_last_line()
        await pilot._wait_for_screen()
        view.render_lines(Region(0, 0, view.size.width, view.size.height))
        to_end = (time.perf_counter() - end) * 1000
    return (
        f"review screen, {len(fleet.agents())} agents: opened with {lines} lines in "
        f"{opened:.0f} ms; UI work per key (250: PgDn, j, PgUp; action and drawing the lines in "
        f"view): median {statistics.median(rows):.1f} ms, p95 {p95(rows):.1f} ms, max "
        f"{max(rows):.1f} ms; End {to_end:.1f} ms; event loop late meanwhile: median "
        f"{statistics.median(lags):.1f} ms, p95 {p95(lags):.1f} ms, max {max(lags):.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--edits", type=int, default=40)
    parser.add_argument("--idle", type=float, default=10.0)
    parser.add_argument("--lines", type=int, default=10_000)
    args = parser.parse_args()
    socket = f"qd-review-bench-{uuid.uuid4().hex[:8]}"
    os.environ["QUARTERDECK_TMUX_SOCKET"] = socket
    work = Path(tempfile.mkdtemp(prefix="qd-review-bench-"))
    counter = GitCounter()
    print(f"Review benchmark, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores\n")
    print("| agents | edit → row median (ms) | p95 | max | git commands idle | CPU idle |")
    print("|---:|---:|---:|---:|---:|---:|")
    try:
        screens = []
        for n in args.agents:
            fleet = measure_fleet(n, work, args.edits, args.idle, counter)
            if n in (args.agents[0], args.agents[-1]):
                name = big_diff(fleet, args.lines)
                engine = Engine(fleet)
                engine.start()
                try:
                    screens.append(asyncio.run(review_keys(fleet, name, args.lines)))
                finally:
                    engine.stop()
            end_fleet(fleet)
        print()
        for line in screens:
            print(line)
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, check=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
