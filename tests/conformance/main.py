"""``./scripts/conformance``: the five real agent CLIs through Quarterdeck, end to end.

For each CLI: install the pinned version into the cache (or reuse it), start the scripted model
server on 127.0.0.1, write an offline home for the CLI and Quarterdeck's configuration of it, make
a repository, and run the CLI's flow (`scenario.CliRun`) with Quarterdeck's own commands on a
private tmux server. Then one agent of each CLI at once in a real dashboard (`mixed.Mixed`).
Prints the result table (CLI × step) and exits 1 on any failure (``--latest``: always 0).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.conformance import versions
from tests.conformance.driver import Qd, kill_all
from tests.conformance.homes import Home, write_home
from tests.conformance.mixed import Mixed
from tests.conformance.modelserver import ModelServer
from tests.conformance.report import FAIL, Result, Results, table
from tests.conformance.scenario import CLIS, CliRun
from tests.conformance.taskgraph import TaskGraph

ORDER = ["claude", "codex", "gemini", "aider", "opencode"]
#: The parts of a run: each CLI's flow of steps, its task graph, then all CLIs at once.
PARTS = ("flow", "tasks", "mixed")
SLOW_SECONDS = 30.0


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="conformance", description=__doc__.splitlines()[0])
    p.add_argument("--only", default="", help="comma-separated CLIs (default: all five)")
    p.add_argument(
        "--latest",
        action="store_true",
        help="the newest versions the registries serve (own cache); reports, never fails",
    )
    p.add_argument("--cache", type=Path, default=versions.DEFAULT_CACHE, help="install cache")
    p.add_argument("--out", type=Path, default=None, help="where screens and logs go")
    p.add_argument("--jobs", type=int, default=2, help="CLIs run at the same time (default 2)")
    p.add_argument("--no-mixed", action="store_true", help="skip the five-at-once dashboard part")
    p.add_argument(
        "--parts",
        default=",".join(PARTS),
        help="comma-separated parts to run: flow (each CLI's steps), tasks (its task graph), "
        "mixed (all at once in a dashboard); default all",
    )
    return p.parse_args(argv)


def make_repo(path: Path, env: dict[str, str]) -> Path:
    """A repository with one commit on ``main`` (``.aider*`` ignored, as Aider asks)."""
    path.mkdir(parents=True)
    (path / "README.md").write_text("# conformance\n\nA repository for the agents to work in.\n")
    (path / ".gitignore").write_text(".aider*\n")

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(path), *args], env=env, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-q", "-m", "initial")
    return path


def keep(db: Path, copy: Path) -> None:
    """A copy of an SQLite database (WAL included), for reading after the run."""
    with (
        contextlib.closing(sqlite3.connect(db, timeout=10)) as src,
        contextlib.closing(sqlite3.connect(copy)) as dst,
    ):
        src.backup(dst)


def leftovers(home: Path) -> list[int]:
    """Every live process whose HOME is this run's home: whatever its agents left behind."""
    needle = f"HOME={home}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            env = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if needle in env:
            pids.append(int(entry.name))
    return pids


class Run:
    """One isolated world: a home, a model server, a repository, a tmux server."""

    def __init__(self, out: Path, label: str, exes: dict[str, Path]) -> None:
        self.out = out / label
        self.out.mkdir(parents=True, exist_ok=True)
        # Not under /tmp: Gemini CLI ignores settings files below a folder others may write to
        # (Quarterdeck's hooks for it are one), and that is not what this suite checks.
        self.root = out / f"{label}-world"
        self.server = ModelServer(self.out / "requests.jsonl", SLOW_SECONDS)
        self.label = label
        self.exes = exes
        self.home: Home | None = None

    def __enter__(self) -> Qd:
        url = self.server.start()
        self.home = Home(self.root / "home", url, f"qdc-{self.label}-{uuid.uuid4().hex[:6]}")
        write_home(self.home, self.exes)
        env = self.home.env()
        repo = make_repo(self.root / "repo", env)
        self.qd = Qd(repo, env, self.out / "screens", self.out / "commands.log")
        return self.qd

    def __exit__(self, *exc: object) -> None:
        try:
            self.qd.kill_server()
            # Quarterdeck's state (every agent's trail, every task's history) outlives the world.
            state = self.qd.repo / ".git" / "quarterdeck" / "state.db"
            if state.exists():
                keep(state, self.out / "state.db")
        finally:
            if self.home is not None:
                kill_all(leftovers(self.home.root))
            self.server.stop()
            shutil.rmtree(self.root, ignore_errors=True)


def run_cli(cli: str, exe: Path, out: Path, results: Results, parts: set[str]) -> None:
    start = time.monotonic()
    run = Run(out, cli, {cli: exe})
    try:
        with run as qd:
            if "flow" in parts:
                CliRun(CLIS[cli], qd, run.server.log, results).run()
            if "tasks" in parts:
                TaskGraph(cli, qd, run.server.log, results, run.out / "plan.toml").run()
    except Exception as exc:  # the world could not be made: say so in the table
        results.add(
            Result(cli, "setup", FAIL, f"{type(exc).__name__}: {exc}", time.monotonic() - start)
        )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if not args.latest:
        return run(args)
    try:
        return run(args)
    except Exception as exc:  # --latest reports and never fails
        print(f"conformance --latest: the run broke: {type(exc).__name__}: {exc}")
        return 0


def run(args: argparse.Namespace) -> int:
    pins = versions.load_pins()
    wanted = [c.strip() for c in args.only.split(",") if c.strip()] or ORDER
    unknown = [c for c in wanted if c not in CLIS]
    if unknown:
        print(f"conformance: unknown CLI(s) {', '.join(unknown)}; known: {', '.join(ORDER)}")
        return 2
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    if parts - set(PARTS):
        print(
            f"conformance: unknown part(s) {', '.join(sorted(parts - set(PARTS)))}; known: "
            + ", ".join(PARTS)
        )
        return 2
    if args.no_mixed:
        parts.discard("mixed")
    pins = [p for p in pins if p.cli in wanted]
    cache: Path = args.cache / "latest" if args.latest else args.cache
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out: Path = (args.out or cache / "runs" / stamp).resolve()
    out.mkdir(parents=True, exist_ok=True)
    results = Results()
    started = time.monotonic()
    print(f"conformance: output in {out}", flush=True)

    exes: dict[str, Path] = {}
    if args.latest:
        try:
            pins = versions.latest_pins(pins)
        except versions.SetupError as exc:
            print(f"conformance --latest: {exc}")
            return 0
    for pin in pins:
        t0 = time.monotonic()
        try:
            version = versions.ensure_installed(cache, pin)
            exes[pin.cli] = versions.executable(cache, pin)
            print(f"conformance: {pin.cli} = {pin.package} {version}", flush=True)
        except versions.SetupError as exc:
            results.add(Result(pin.cli, "install", FAIL, str(exc), time.monotonic() - t0))
            print(f"conformance: {pin.cli}: {exc}", flush=True)
    if shutil.which("tmux") is None:
        print("conformance: tmux is not installed (./scripts/setup installs it)")
        return 1 if not args.latest else 0

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        runs = [pool.submit(run_cli, c, exes[c], out, results, parts) for c in wanted if c in exes]
        for future in runs:
            future.result()
    if "mixed" in parts and len(exes) > 1:
        with Run(out, "mixed", {c: exes[c] for c in wanted if c in exes}) as qd:
            Mixed(qd, [c for c in wanted if c in exes], results).run()

    results.save(out / "results.json")
    print()
    print("versions: " + ", ".join(f"{p.cli} {p.package}@{p.version}" for p in pins))
    print(table(results.rows, [c for c in wanted]))
    print(f"\nconformance: {time.monotonic() - started:.0f}s; screens and logs in {out}")
    failed = results.failed()
    if args.latest:
        if failed:
            print(f"conformance --latest: {len(failed)} step(s) broke on the newest versions")
        return 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
