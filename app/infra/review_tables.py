"""The review's tables in the repository's state database (`app/infra/store.py` creates them
and owns the connection): each agent's latest check with its output's tail, the merges that
landed, and each agent's last conflict. Shared by every Quarterdeck process of the repository.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from app.core.checks import CheckResult, CheckState
from app.core.landing import MergeStrategy
from app.infra.store import Store


@dataclass(frozen=True)
class CheckRecord:
    """An agent's latest check as recorded, with who runs it: the check's process (``pid``,
    its start time ``pid_start``) and the Quarterdeck process that follows it (``owner``,
    ``owner_start``; '' in records of older versions)."""

    result: CheckResult
    pid: int
    pid_start: str
    owner: int
    cancel: bool
    owner_start: str = ""


class CheckTable:
    """Each agent's latest check."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def save(
        self,
        agent_id: str,
        agent_name: str,
        result: CheckResult,
        pid: int,
        pid_start: str,
        owner: int,
        owner_start: str,
    ) -> None:
        """Record a check that starts (replacing the agent's previous one)."""
        self._store.query(
            "INSERT OR REPLACE INTO checks (agent_id, agent_name, command, state, started_at,"
            " duration, exit_code, tail, head, dirty, pid, pid_start, owner, cancel, owner_start)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,0,?)",
            (
                agent_id,
                agent_name,
                result.command,
                result.state.value,
                result.started_at,
                result.duration,
                result.exit_code,
                result.tail,
                result.commit,
                int(result.dirty),
                pid,
                pid_start,
                owner,
                owner_start,
            ),
        )

    def finish(self, agent_id: str, result: CheckResult, started_at: float) -> None:
        """Record how the check that started at ``started_at`` ended."""
        self._store.query(
            "UPDATE checks SET state = ?, duration = ?, exit_code = ?, tail = ?"
            " WHERE agent_id = ? AND started_at = ?",
            (
                result.state.value,
                result.duration,
                result.exit_code,
                result.tail,
                agent_id,
                started_at,
            ),
        )

    def save_tail(self, agent_id: str, tail: str, started_at: float) -> None:
        """The output so far of a running check."""
        self._store.query(
            "UPDATE checks SET tail = ? WHERE agent_id = ? AND started_at = ? AND state = ?",
            (tail, agent_id, started_at, CheckState.RUNNING.value),
        )

    def request_cancel(self, agent_id: str) -> None:
        """Mark the running check as cancelled by the human (whoever runs it records it so)."""
        self._store.query("UPDATE checks SET cancel = 1 WHERE agent_id = ?", (agent_id,))

    def get(self, agent_id: str) -> CheckRecord | None:
        """The agent's latest check."""
        rows = self._store.query(
            "SELECT command, state, started_at, duration, exit_code, tail, head, dirty, pid,"
            " pid_start, owner, cancel, owner_start FROM checks WHERE agent_id = ?",
            (agent_id,),
        )
        if not rows:
            return None
        r = rows[0]
        result = CheckResult(
            command=r[0],
            state=CheckState(r[1]),
            started_at=float(r[2]),
            duration=float(r[3]),
            exit_code=r[4],
            tail=r[5],
            commit=r[6],
            dirty=bool(r[7]),
        )
        return CheckRecord(result, int(r[8]), r[9], int(r[10]), bool(r[11]), r[12])

    def running(self) -> list[str]:
        """Agents whose latest check is recorded as running."""
        rows = self._store.query(
            "SELECT agent_id FROM checks WHERE state = ?", (CheckState.RUNNING.value,)
        )
        return [r[0] for r in rows]

    def forget(self, agent_id: str) -> None:
        """Drop an agent's check."""
        self._store.query("DELETE FROM checks WHERE agent_id = ?", (agent_id,))


@dataclass(frozen=True)
class Conflict:
    """An agent's last merge conflict: how it was landed, on what, and the files."""

    strategy: MergeStrategy
    base: str
    base_commit: str
    tip: str
    files: tuple[str, ...]


class LandingTable:
    """The merges that landed (history: kept when an agent goes) and each agent's last
    conflict."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def add_merge(
        self,
        agent_id: str,
        agent_name: str,
        strategy: MergeStrategy,
        base: str,
        tip: str,
        result: str,
    ) -> None:
        """Record that ``tip`` of the agent's branch landed in ``base`` as ``result`` (its
        conflict, if any, is over)."""
        self._store.query(
            "INSERT INTO merges (agent_id, agent_name, at, strategy, base, tip, result)"
            " VALUES (?,?,?,?,?,?,?)",
            (agent_id, agent_name, time.time(), strategy.value, base, tip, result),
        )
        self._store.query("DELETE FROM conflicts WHERE agent_id = ?", (agent_id,))

    def merges(self, agent_id: str) -> list[tuple[str, str, str]]:
        """The agent's landed merges: (base, tip, resulting base commit), oldest first."""
        rows = self._store.query(
            "SELECT base, tip, result FROM merges WHERE agent_id = ? ORDER BY seq", (agent_id,)
        )
        return [(r[0], r[1], r[2]) for r in rows]

    def save_conflict(self, agent_id: str, conflict: Conflict) -> None:
        """Keep the agent's latest merge conflict."""
        self._store.query(
            "INSERT OR REPLACE INTO conflicts (agent_id, at, strategy, base, base_commit, tip,"
            " files) VALUES (?,?,?,?,?,?,?)",
            (
                agent_id,
                time.time(),
                conflict.strategy.value,
                conflict.base,
                conflict.base_commit,
                conflict.tip,
                json.dumps(list(conflict.files), ensure_ascii=False),
            ),
        )

    def conflict(self, agent_id: str) -> Conflict | None:
        """The agent's latest merge conflict, if its branch has not landed since."""
        rows = self._store.query(
            "SELECT strategy, base, base_commit, tip, files FROM conflicts WHERE agent_id = ?",
            (agent_id,),
        )
        if not rows:
            return None
        r = rows[0]
        return Conflict(MergeStrategy(r[0]), r[1], r[2], r[3], tuple(json.loads(r[4])))

    def forget(self, agent_id: str) -> None:
        """Drop an agent's conflict (its merges stay: they are history)."""
        self._store.query("DELETE FROM conflicts WHERE agent_id = ?", (agent_id,))
