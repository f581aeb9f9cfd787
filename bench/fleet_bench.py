"""Fleet benchmark: spawn cost per agent, and the engine's cost with an idle fleet.

Usage: .venv/bin/python bench/fleet_bench.py [--agents 10 50 100] [--seconds 10] [--files 300]

For each fleet size it creates a throwaway repository (with ``--files`` files, so a checkout has
something to do) on a private tmux server, starts that many demo agents through `Fleet.spawn`,
waits until every prompt is delivered and every agent has finished its turn, then measures:

- spawn: wall time per agent, and the share spent in `git worktree add` itself;
- sweep: wall time of one engine sweep over the idle fleet (mean and p95 of 40 sweeps);
- idle CPU: CPU time the engine thread uses per wall second while the fleet is idle, as a
  percentage of one core (the process does nothing else meanwhile).

Everything is torn down afterwards (tmux server killed, temporary folders removed).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.core.agent import PromptState, SpawnRequest  # noqa: E402
from app.core.diff_stats import STATS_PER_SECOND  # noqa: E402
from app.core.status import Status  # noqa: E402


def make_repo(path: Path, files: int) -> None:
    """A repository with ``files`` small files in one commit."""
    path.mkdir(parents=True)
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "b",
        "GIT_AUTHOR_EMAIL": "b@b",
        "GIT_COMMITTER_NAME": "b",
        "GIT_COMMITTER_EMAIL": "b@b",
    }
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=path, check=True, env=env)
    for i in range(files):
        f = path / f"src/pkg{i % 20}/mod{i}.py"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(f"def f{i}():\n    return {i}\n" * 20)
    subprocess.run(["git", "add", "-A"], cwd=path, check=True, env=env)
    subprocess.run(["git", "commit", "-q", "-m", "init"], cwd=path, check=True, env=env)


def p95(values: list[float]) -> float:
    """The 95th percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def run(n: int, seconds: float, files: int) -> dict[str, float]:
    """Measure one fleet size."""
    tmp = Path(tempfile.mkdtemp(prefix="qd-bench-"))
    socket = f"qdbench-{uuid.uuid4().hex[:8]}"
    os.environ.update(
        QUARTERDECK_TMUX_SOCKET=socket,
        XDG_DATA_HOME=str(tmp / "data"),
        XDG_CONFIG_HOME=str(tmp / "config"),
        SHELL="/bin/sh",
    )
    from app.fleet.engine import Engine
    from app.fleet.fleet import Fleet

    try:
        make_repo(tmp / "repo", files)
        fleet = Fleet.open(tmp / "repo")
        git_times: list[float] = []
        add = fleet.repo.add_worktree

        def timed_add(path: Path, branch: str, base_commit: str) -> None:
            t0 = time.perf_counter()
            add(path, branch, base_commit)
            git_times.append(time.perf_counter() - t0)

        fleet.repo.add_worktree = timed_add  # type: ignore[method-assign]
        spawn_times = []
        for i in range(n):
            t0 = time.perf_counter()
            fleet.spawn(
                SpawnRequest(
                    prompt="Tidy the code",
                    kind="demo",
                    name=f"a{i}",
                    command=f"{{python}} -m app.demo.agent --behaviour worker --seed {i} --speed 4",
                )
            )
            spawn_times.append(time.perf_counter() - t0)

        deadline = time.monotonic() + 120 + n
        while time.monotonic() < deadline:
            fleet.sweep(deliver=True)
            agents = fleet.agents()
            if all(
                a.prompt_state is PromptState.DELIVERED and a.shown.status is Status.IDLE
                for a in agents
            ):
                break
            time.sleep(0.2)
        else:
            raise SystemExit(f"{n} agents did not all finish their first turn in time")

        sweeps = []
        for _ in range(40):
            t0 = time.perf_counter()
            fleet.sweep()
            sweeps.append(time.perf_counter() - t0)

        engine = Engine(fleet)
        engine.start()
        # A new engine computes every agent's diff stats once, at most STATS_PER_SECOND agents
        # a second: the idle window starts once that is done.
        time.sleep(n / STATS_PER_SECOND)
        settle = time.monotonic() + 60
        while fleet.diffs.pending_stats() and time.monotonic() < settle:
            time.sleep(0.2)
        time.sleep(2)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        time.sleep(seconds)
        cpu1, wall1 = time.process_time(), time.perf_counter()
        engine.stop()
        return {
            "agents": n,
            "spawn_ms": 1000 * statistics.mean(spawn_times),
            "git_ms": 1000 * statistics.mean(git_times),
            "sweep_ms": 1000 * statistics.mean(sweeps),
            "sweep_p95_ms": 1000 * p95(sweeps),
            "idle_cpu_pct": 100 * (cpu1 - cpu0) / (wall1 - wall0),
        }
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, check=False)
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    """Run the benchmark and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, nargs="+", default=[10, 50, 100])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--files", type=int, default=300)
    args = parser.parse_args()
    print(f"nproc={os.cpu_count()} files/repo={args.files} idle window={args.seconds:g}s\n")
    print(
        "| agents | spawn ms/agent | of which git worktree add | sweep ms (mean) | "
        "sweep ms (p95) | engine idle CPU % of a core |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for n in args.agents:
        r = run(n, args.seconds, args.files)
        print(
            f"| {n} | {r['spawn_ms']:.0f} | {r['git_ms']:.0f} | {r['sweep_ms']:.1f} | "
            f"{r['sweep_p95_ms']:.1f} | {r['idle_cpu_pct']:.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
