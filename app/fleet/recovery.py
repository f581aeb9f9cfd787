"""Recovery of the fleet's records from what exists: a damaged state database set aside and
rebuilt, and agents that have no record found again and taken back.

Each agent leaves a card in its worktree's own git dir (``quarterdeck-agent.json``: its record as
it was made), so a lost database costs no agent: its worktree under the worktree root, its
branch and its tmux window (marked with its id) are matched to the card, and the record made
again, live when its window still runs. A worktree without a card (made by an older version)
is taken back as an agent of the ``shell`` kind by its folder and branch; branches of the agent
prefix with no worktree are reported, never touched.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from app.core.agent import Agent, Checkout, Placement, StatusShown
from app.core.status import Status
from app.infra.git import Repository
from app.infra.store import Store, decode_agent, encode_agent
from app.infra.tmux import PaneFacts, TmuxServer

#: The agent's card, in its worktree's git dir (removed with the worktree).
CARD = "quarterdeck-agent.json"


def write_card(repo: Repository, agent: Agent) -> None:
    """Leave the agent's record in its worktree's git dir (best effort: the database is the
    record; the card only brings it back)."""
    gitdir = repo.git_dir(Path(agent.checkout.worktree))
    if gitdir is not None:
        with contextlib.suppress(OSError):
            (gitdir / CARD).write_text(encode_agent(agent), encoding="utf-8")


def read_card(repo: Repository, worktree: Path) -> Agent | None:
    """The card left in ``worktree``'s git dir, if there is a readable one."""
    gitdir = repo.git_dir(worktree)
    if gitdir is None:
        return None
    try:
        return decode_agent((gitdir / CARD).read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError, KeyError):
        return None


@dataclass(frozen=True)
class Found:
    """An agent without a record, and what it was found by."""

    agent: Agent
    how: str

    def line(self) -> str:
        """``fix-login (demo) on qd/fix-login: its window runs; from its card``."""
        a = self.agent
        state = "its window runs" if not a.stopped else "no window (it will show exited)"
        return f"{a.name} ({a.kind}) on {a.checkout.branch}: {state}; {self.how}"


@dataclass(frozen=True)
class Survey:
    """What exists of agents that the store does not know."""

    found: tuple[Found, ...]
    #: Branches of the agent prefix with neither a record nor a worktree (kept as they are).
    branches: tuple[str, ...]


class Recovery:
    """Finds agents without records and takes them back; repairs a damaged database."""

    def __init__(
        self,
        repo: Repository,
        tmux: TmuxServer,
        *,
        session: str,
        worktree_root: Path,
        branch_prefix: Callable[[], str],
        default_base: Callable[[], str],
    ) -> None:
        self._repo = repo
        self._tmux = tmux
        self._session = session
        self._root = worktree_root
        self._prefix = branch_prefix
        self._base = default_base

    def survey(self, store: Store) -> Survey:
        """Agents whose worktree (and window) exist but whose record does not."""
        known = store.agents()
        ids = {a.id for a in known}
        names = set(store.names())
        worktrees = {a.checkout.worktree for a in known}
        panes = self._tmux.agent_panes() if self._tmux.is_running() else {}
        by_window_name = self._windows_by_name(panes)
        found: list[Found] = []
        seen_branches = {a.checkout.branch for a in known}
        for path, branch in self._repo.worktree_branches():
            if path.parent != self._root or str(path) in worktrees:
                continue
            card = read_card(self._repo, path)
            if card is not None and (card.id in ids or card.name in names):
                continue
            if card is None and (path.name in names or not branch):
                continue
            agent, how = (
                (card, "from its card")
                if card is not None
                else (self._uncarded(path, branch), "from its worktree and branch")
            )
            pane = panes.get(agent.id) or by_window_name.get(agent.name)
            found.append(Found(self._placed(agent, pane), how))
            seen_branches.add(branch)
            names.add(agent.name)
        strays = tuple(b for b in self._repo.branches(self._prefix()) if b not in seen_branches)
        return Survey(tuple(found), strays)

    def adopt(self, store: Store, survey: Survey) -> None:
        """Record every agent found (each written whole, its status logged)."""
        for found in survey.found:
            store.insert(found.agent)

    def _windows_by_name(self, panes: dict[str, PaneFacts]) -> dict[str, PaneFacts]:
        """Panes of the repository's session by window name (for worktrees without a card)."""
        names = self._tmux.window_names(self._session) if panes else {}
        return {names[p.window_id]: p for p in panes.values() if p.window_id in names}

    def _uncarded(self, worktree: Path, branch: str) -> Agent:
        base = self._base()
        base_commit = self._repo.merge_base(branch, base) or ""
        return Agent(
            id=f"found-{worktree.name}"[:40],
            name=worktree.name,
            kind="shell",
            command="",
            checkout=Checkout(branch, base, base_commit, str(worktree)),
            placement=Placement(self._session),
            created_at=worktree.stat().st_mtime,
        )

    def _placed(self, agent: Agent, pane: PaneFacts | None) -> Agent:
        now = time.time()
        if pane is not None and pane.session == self._session and not pane.dead:
            return replace(
                agent,
                placement=Placement(self._session, pane.window_id, pane.pane_id, pane.pid),
                shown=StatusShown(Status.STARTING, since=now, evidence="quarterdeck: recovered"),
                stopped=False,
                started=True,
            )
        return replace(
            agent,
            placement=Placement(self._session),
            shown=StatusShown(
                Status.EXITED, since=now, evidence="quarterdeck: recovered without its window"
            ),
            stopped=True,
            started=True,
        )


def set_aside(path: Path) -> tuple[Path, list[Agent]]:
    """Move a damaged database (and its journal files) aside, keeping what records of agents
    can still be read from it; returns where it went and those records."""
    salvaged: list[Agent] = []
    with contextlib.suppress(sqlite3.DatabaseError):
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            for (data,) in db.execute("SELECT data FROM agents"):
                with contextlib.suppress(ValueError, TypeError, KeyError):
                    salvaged.append(decode_agent(data))
        finally:
            db.close()
    aside = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
    for suffix in ("", "-wal", "-shm"):
        part = Path(f"{path}{suffix}")
        if part.exists():
            part.rename(Path(f"{aside}{suffix}"))
    return aside, salvaged
