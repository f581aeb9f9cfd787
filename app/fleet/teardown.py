"""Teardown: stopping an agent (its whole process tree, verified) and removing it (window,
worktree, branch and record), never losing work without the specific confirmation."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from app.core.agent import Agent
from app.core.errors import QuarterdeckError, UnsafeRemovalError
from app.core.ports import RemovalRisk
from app.core.status import STATUS_GLYPH, Evidence, Reading, Status
from app.fleet.profiles import Profiles
from app.fleet.roster import Roster
from app.fleet.tracking import StatusTracking
from app.infra.git import Repository
from app.infra.lock import RepositoryMutex
from app.infra.procs import end_process_tree
from app.infra.store import Store
from app.infra.tmux import PaneFacts, TmuxServer


class Teardown:
    """Stops and removes the agents of one repository."""

    def __init__(
        self,
        repo: Repository,
        store: Store,
        tmux: TmuxServer,
        tracking: StatusTracking,
        roster: Roster,
        profiles: Profiles,
        *,
        landed: Callable[[Agent], list[str]],
        forget: Sequence[Callable[[Agent], None]],
        pane_of: Callable[[Agent], PaneFacts | None],
        clock: Callable[[], float],
        on_removed: Callable[[], None],
        changes: RepositoryMutex,
    ) -> None:
        """``changes`` is the repository's mutex for making and unmaking agents."""
        self._changes = changes
        self._repo = repo
        self._store = store
        self._tmux = tmux
        self._tracking = tracking
        self._landed = landed
        self._forget = tuple(forget)
        self._roster = roster
        self._profiles = profiles
        self._pane_of = pane_of
        self._clock = clock
        self._on_removed = on_removed

    def stop(self, name: str) -> None:
        """End the agent's whole process tree, verified; its window stays with the last screen."""
        agent = self._roster.named(name)
        facts = self._pane_of(agent)
        pid = facts.pid if facts is not None else agent.placement.pane_pid
        left = end_process_tree(pid, agent.id)
        self._tmux.reap()  # let tmux collect the pane's process and mark the pane dead
        if left:
            raise QuarterdeckError(
                f"could not end every process of {name!r}: pids {sorted(left)} are still alive"
            )
        now = self._clock()
        with self._roster.mutex:
            stopped = replace(
                agent,
                stopped=True,
                shown=replace(
                    agent.shown,
                    status=Status.EXITED,
                    input_kind=None,
                    since=now,
                    evidence="user: stopped",
                    question="",
                    options=(),
                ),
            )
            self._store.update(stopped, before=agent, transition=True)
            self._tracking.set(agent.id, Reading(Status.EXITED, Evidence("user", "stopped")), now)
            if agent.placement.window_id:
                self._tmux.set_window_option(
                    agent.placement.window_id, "@qd_glyph", STATUS_GLYPH[Status.EXITED]
                )
            self._roster.reload()

    def removal_risk(self, name: str) -> RemovalRisk:
        """What removing the agent would lose."""
        agent = self._roster.named(name)
        return RemovalRisk(
            name=name,
            branch=agent.checkout.branch,
            base=agent.checkout.base,
            unmerged_commits=self._repo.unmerged_commits(
                agent.checkout.branch, agent.checkout.base, self._landed(agent)
            ),
            changed_files=self._repo.changed_files(Path(agent.checkout.worktree)),
        )

    def remove(self, name: str, *, discard_unmerged: bool, discard_changes: bool) -> str:
        """Stop the agent and remove its window, worktree and branch, keeping archive refs.

        Refused (`UnsafeRemovalError`) when commits or changes would be lost and the matching
        flag does not confirm it.
        """
        with self._changes.held(f"remove {name}"):
            return self._remove(name, discard_unmerged, discard_changes)

    def _remove(self, name: str, discard_unmerged: bool, discard_changes: bool) -> str:
        risk = self.removal_risk(name)
        missing = []
        if risk.unmerged_commits and not discard_unmerged:
            missing.append("--discard-unmerged")
        if risk.changed_files and not discard_changes:
            missing.append("--discard-changes")
        if missing:
            raise UnsafeRemovalError(
                f"refusing to remove {name!r}: it has {risk.describe()}. "
                f"To remove it anyway (an archive ref keeps the work), confirm with "
                f"{' '.join(missing)}"
            )
        agent = self._roster.named(name)
        # Its check ends and review lets it go: not under the mutex the check's thread needs.
        for forget in self._forget:
            forget(agent)
        with self._roster.mutex:
            facts = self._pane_of(agent)
            if facts is not None and not facts.dead:
                end_process_tree(facts.pid, agent.id)
            kept = self._repo.archive(name, agent.checkout.branch, Path(agent.checkout.worktree))
            self._profiles.adapter(agent.kind).set_trust(Path(agent.checkout.worktree), False)
            if agent.placement.window_id:
                self._tmux.kill_window(agent.placement.window_id)
            self._repo.remove_worktree(Path(agent.checkout.worktree))
            self._repo.delete_branch(agent.checkout.branch)
            self._store.delete(agent.id)
            self._tracking.forget(agent.id)
            self._roster.reload()
            self._on_removed()
        if kept:
            return f"removed {name}; kept {', '.join(kept)}"
        return f"removed {name}; nothing needed keeping"
