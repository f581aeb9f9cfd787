"""Keeping every agent's diff stats current without polling: the fleet's one watcher reports
which agents changed, and a worker thread recomputes their stats (files changed, lines added
and removed) off the UI loop, as `app/core/diff_stats.py` says when; then which agents'
changes overlap. Full diffs are read on demand and cached while the watcher sees no change.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from app.core.agent import Agent, DiffStats
from app.core.diff import AgentDiff, FileDiff, overlaps
from app.core.diff_stats import RETRY_WITHIN, StatsQueue, stats_due
from app.core.errors import QuarterdeckError
from app.fleet.diff_reader import DiffReader
from app.infra.watcher import Watched, Watcher

#: Writes an agent's diff stats to its record, from any thread, leaving the rest as it is.
SetStats = Callable[[str, DiffStats], object]
#: Writes which other agents' changes overlap an agent's, likewise.
SetOverlap = Callable[[str, tuple[str, ...]], object]


def _admin_dir(worktree: str) -> str:
    """The worktree's folder in the common git dir (from its ``.git`` file; no git run)."""
    try:
        text = (Path(worktree) / ".git").read_text().strip()
    except OSError:
        return ""
    if not text.startswith("gitdir:"):
        return ""
    path = Path(text.removeprefix("gitdir:").strip())
    if not path.is_absolute():
        path = Path(worktree) / path
    return os.path.realpath(path)


def _stats(files: Sequence[FileDiff]) -> DiffStats:
    """The stats of these changed files."""
    return DiffStats(sum(f.added for f in files), sum(f.removed for f in files), len(files))


def _same_task(a: Agent, b: Agent) -> bool:
    """Both agents are attempts at one task (``name#1``, ``name#2``)."""
    return bool(a.task) and a.task.partition("#")[0] == b.task.partition("#")[0]


def _paths(files: Sequence[FileDiff]) -> frozenset[str]:
    """Every path the files touch (both sides of a rename)."""
    return frozenset(p for f in files for p in (f.path, f.old_path) if p)


class Diffs:
    """Agents' diffs and diff stats, for the fleet of one repository.

    Threads: the watcher's (`Watcher`) reports changes; ``quarterdeck-diff-stats`` (started
    by `start`, in the engine's process) recomputes stats; any thread may ask for a `diff`.
    """

    def __init__(
        self,
        reader: DiffReader,
        common_dir: Path,
        *,
        agents: Callable[[], list[Agent]],
        stored: Callable[[], list[Agent]],
        get: Callable[[str], Agent],
        set_stats: SetStats,
        set_overlap: SetOverlap,
    ) -> None:
        """``reader`` reads diffs; ``common_dir`` is the repository's common git dir (the
        worktrees' admin folders and the branch refs are there). ``agents`` lists the agents
        as this process last saw them, ``stored`` as stored, ``get`` finds one by name,
        ``set_stats`` and ``set_overlap`` write an agent's stats and overlap to its record."""
        self.reader = reader
        self._heads = os.path.join(os.path.realpath(common_dir), "refs", "heads")
        self.watcher = Watcher(self._changed, unfiltered=str(common_dir))
        self._agents = agents
        self._stored = stored
        self._get = get
        self._set_stats = set_stats
        self._set_overlap = set_overlap
        #: Guards everything below (the watcher's thread, the worker and callers share it).
        self._lock = threading.Lock()
        #: Per agent, how many changes the watcher reported (a cached diff of an older
        #: generation is stale).
        self._generation: dict[str, int] = {}
        self._diffs: dict[str, tuple[int, str, str, AgentDiff]] = {}
        #: Per agent, the paths its changes touch (for overlaps).
        self._paths: dict[str, frozenset[str]] = {}
        #: The agents followed: (worktree, base commit) by id.
        self._tracked: dict[str, tuple[str, str]] = {}
        #: Each agent's worktree admin folder, by (id, real worktree path).
        self._admin: dict[tuple[str, str], str] = {}
        self._queue = StatsQueue()
        self._overlaps_due = False
        #: Without a watcher: when each agent's stats were last computed after a look.
        self._diffed_at: dict[str, float] = {}
        self._writer = False
        self._work = threading.Event()
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        #: The last error the background work met (shown nowhere yet; for debugging).
        self.last_error = ""

    # ------------------------------------------------------------------ watching

    @property
    def watching(self) -> bool:
        """True when this process keeps diff stats current through the watcher (otherwise
        `after_look` refreshes them after activity)."""
        return self.watcher.running

    def start(self, stop: threading.Event) -> None:
        """Start the watcher and the thread that recomputes what it reports (the engine)."""
        self.watcher.start(stop)
        if self._worker is None:
            self._worker = threading.Thread(
                target=self._work_loop, args=(stop,), name="quarterdeck-diff-stats", daemon=True
            )
            self._worker.start()

    def close(self) -> None:
        """Stop watching and recomputing."""
        self._stop.set()
        self._work.set()
        self.watcher.close()

    def track(self, agents: Sequence[Agent], *, writer: bool) -> None:
        """Follow these agents (called after every engine tick; cheap when nothing changed).
        ``writer``: this process writes the agents' records (it holds the engine lock)."""
        wanted = {a.id: (a.checkout.worktree, a.checkout.base_commit) for a in agents}
        with self._lock:
            became_writer = writer and not self._writer
            self._writer = writer
            if wanted == self._tracked and not became_writer:
                return
            new = {i for i, where in wanted.items() if self._tracked.get(i) != where}
            gone = set(self._tracked) - set(wanted)
            for agent_id in gone:
                self._diffs.pop(agent_id, None)
                self._paths.pop(agent_id, None)
                self._generation.pop(agent_id, None)
            for agent_id in new:
                self._bump(agent_id)
            self._tracked = wanted
            self._queue.keep_only(wanted)
            self._queue.mark(set(wanted) if became_writer else new)
            self._overlaps_due = self._overlaps_due or bool(gone)
        self.watcher.set_watched(self._watched(agents))
        self._work.set()

    def _watched(self, agents: Sequence[Agent]) -> dict[str, Watched]:
        """What to watch of each agent: its worktree, its admin folder in the common dir (its
        HEAD, reflog and index change on every commit), and the refs of its branch (a commit
        of its own) and of its base (a landing moves where its changes are counted from)."""
        with self._lock:
            known = dict(self._admin)
        admins: dict[tuple[str, str], str] = {}
        watched: dict[str, Watched] = {}
        for agent in agents:
            worktree = os.path.realpath(agent.checkout.worktree)
            key = (agent.id, worktree)
            admin = known.get(key) or _admin_dir(worktree)
            if admin:
                admins[key] = admin
            refs = [
                os.path.join(self._heads, b) for b in (agent.checkout.branch, agent.checkout.base)
            ]
            watched[agent.id] = Watched(
                folders=(admin, worktree) if admin else (worktree,),
                files=tuple(p for ref in refs for p in (ref, ref + ".lock")),
            )
        with self._lock:
            self._admin = admins
        return watched

    def covers(self, agent: Agent) -> bool:
        """True when the running watch sees every change of this agent."""
        with self._lock:
            admin = self._admin.get((agent.id, os.path.realpath(agent.checkout.worktree)), "")
        return bool(admin) and self.watcher.covers(agent.id)

    def pending_stats(self) -> int:
        """How many agents' diff stats wait to be recomputed."""
        with self._lock:
            return self._queue.pending

    def _bump(self, agent_id: str) -> None:
        self._generation[agent_id] = self._generation.get(agent_id, 0) + 1
        self._diffs.pop(agent_id, None)

    def _changed(self, agent_ids: set[str]) -> None:
        """The watcher saw these agents change: their cached diffs are stale at once; their
        stats are recomputed on the worker thread."""
        with self._lock:
            for agent_id in agent_ids:
                self._bump(agent_id)
            self._queue.mark(agent_ids & set(self._tracked))
        self._work.set()

    def _work_loop(self, stop: threading.Event) -> None:
        """Recompute the stats of the agents due (`StatsQueue`: the longest-stale first, at
        most `STATS_PER_SECOND` a second), then the overlaps if any agent's paths changed."""
        while not stop.is_set() and not self._stop.is_set():
            self._work.wait(RETRY_WITHIN)
            self._work.clear()
            with self._lock:
                if not self._writer:
                    continue
                batch = self._queue.take(time.monotonic())
                more = self._queue.pending > 0
                overlaps_due, self._overlaps_due = self._overlaps_due, False
            changed, failed = False, set()
            for agent_id in batch:
                try:
                    changed = self.refresh(agent_id) or changed
                except Exception as exc:  # keep watching; it is tried again
                    self.last_error = f"{type(exc).__name__}: {exc}"
                    failed.add(agent_id)
            if failed:
                # Again after the loop's next wait (a second at most), not at once: whatever
                # failed (git, the store) gets time to recover.
                with self._lock:
                    self._queue.failed(failed & set(self._tracked))
            try:
                if changed or overlaps_due:
                    self._update_overlaps()
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                with self._lock:
                    self._overlaps_due = True
            if more:
                # More to do: pace the batches.
                stop.wait(self._queue.pause)
                self._work.set()

    def refresh(self, agent_id: str) -> bool:
        """Recompute one agent's diff stats and write them to its record. True when the set
        of paths it touches changed (overlaps need recomputing)."""
        agent = next((a for a in self._agents() if a.id == agent_id), None)
        if agent is None:
            agent = next((a for a in self._stored() if a.id == agent_id), None)
        if agent is None or not Path(agent.checkout.worktree).is_dir():
            return False
        files = self.reader.files(Path(agent.checkout.worktree), self._diff_base(agent))
        paths = _paths(files)
        with self._lock:
            before = self._paths.get(agent_id)
            self._paths[agent_id] = paths
        self._set_stats(agent_id, _stats(files))
        return before != paths

    def _update_overlaps(self) -> None:
        agents = self._stored()
        with self._lock:
            paths = {a.name: self._paths.get(a.id, frozenset()) for a in agents}
        found = self._overlaps(paths, agents)
        for agent in agents:
            wanted = tuple(sorted(found.get(agent.name, {})))
            if agent.overlap != wanted:
                self._set_overlap(agent.id, wanted)

    # ------------------------------------------------------------------ without a watcher

    def after_look(self, agent: Agent, activity: int | None, now: float) -> Agent:
        """The agent with fresh diff stats when they are due after a look at its pane
        (``activity``: its last output, None when no pane was found) in a process without a
        watcher (`stats_due`); as it is otherwise."""
        if self.watching:
            return agent
        with self._lock:
            due = stats_due(self._diffed_at.get(agent.id), activity, now)
            if due:
                self._diffed_at[agent.id] = now
        return self.with_stats(agent) if due else agent

    def with_stats(self, agent: Agent) -> Agent:
        """The agent with fresh diff stats and overlap (for processes without a watcher)."""
        try:
            files = self.reader.files(Path(agent.checkout.worktree), self._diff_base(agent))
        except QuarterdeckError:
            return agent
        agents = {a.id: a for a in self._agents()}
        agents[agent.id] = agent
        with self._lock:
            self._paths[agent.id] = _paths(files)
            paths = {agents[i].name: p for i, p in self._paths.items() if i in agents}
        found = self._overlaps(paths, list(agents.values()))
        return replace(agent, stats=_stats(files), overlap=tuple(sorted(found.get(agent.name, {}))))

    def _overlaps(
        self, paths: dict[str, frozenset[str]], agents: Sequence[Agent]
    ) -> dict[str, dict[str, tuple[str, ...]]]:
        """Which agents' changes touch the same files — but not two attempts at one task
        (alternatives, one of which is kept), nor one started from the other's work whose
        changes to those files are all inside the other's branch (`stacked`)."""
        found = overlaps(paths)
        by_name = {a.name: a for a in agents}
        for name, others in found.items():
            for other, shared in list(others.items()):
                if name not in by_name or other not in by_name:
                    continue
                a, b = by_name[name], by_name[other]
                if _same_task(a, b) or self.reader.stacked(a, b, shared):
                    del others[other]
                    found[other].pop(name, None)
        return {name: others for name, others in found.items() if others}

    # ------------------------------------------------------------------ diffs

    def _diff_base(self, agent: Agent) -> str:
        """Where the agent's changes are counted from (see `DiffReader.base_of`)."""
        worktree = Path(agent.checkout.worktree)
        if not worktree.is_dir():
            return agent.checkout.base_commit
        return self.reader.base_of(worktree, agent.checkout.base, agent.checkout.base_commit)

    def diff(self, name: str) -> AgentDiff:
        """The agent's diff against its base; served from the cache while the watcher has
        seen no change in its worktree."""
        agent = self._get(name)
        covered = self.covers(agent)
        with self._lock:
            generation = self._generation.get(agent.id, 0)
            cached = self._diffs.get(agent.id)
            if (
                covered
                and cached is not None
                and cached[:3] == (generation, agent.checkout.worktree, agent.checkout.base_commit)
            ):
                return cached[3]
        diff = self.reader.diff(Path(agent.checkout.worktree), self._diff_base(agent))
        with self._lock:
            if covered and self._generation.get(agent.id, 0) == generation:
                self._diffs[agent.id] = (
                    generation,
                    agent.checkout.worktree,
                    agent.checkout.base_commit,
                    diff,
                )
        return diff

    # ------------------------------------------------------------------ agents leaving

    def forget(self, agent: Agent) -> None:
        """An agent is being removed: what is remembered of its worktree and diff goes."""
        self.reader.forget(agent.checkout.worktree)
        with self._lock:
            self._diffs.pop(agent.id, None)
            self._paths.pop(agent.id, None)
            self._diffed_at.pop(agent.id, None)
            self._overlaps_due = True
        self._work.set()
