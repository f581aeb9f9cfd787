"""When an agent's diff stats (files changed, lines added and removed) are due to be computed
again. Pure: the caller keeps time and does the git work (`app/fleet/diffs.py`).

Two regimes:

- With the fleet's watcher (the engine's process): an agent is due once the watcher reports a
  change in it. Due agents are computed longest-stale first, at most `STATS_PER_SECOND` agents a
  second across the fleet, in batches of `STATS_BATCH` (`StatsQueue`): one edit shows within a
  second, and a hundred busy agents cost what ten do (each is refreshed every few seconds then).
  One that failed to compute (git or the store failing for a moment) is due again at the next
  round, within `RETRY_WITHIN` seconds, without waiting for its next change.
- Without a watcher (a command-line process sweeping the fleet once): after a look at its pane,
  when it was never computed, or when its pane had output since and `DIFF_INTERVAL` has passed
  (`stats_due`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

#: Diff stats are recomputed for at most this many agents a second.
STATS_PER_SECOND = 10
#: ... in batches of this many agents.
STATS_BATCH = 2
#: A round of the stats work comes at least this often (seconds): what failed is tried again
#: within it.
RETRY_WITHIN = 1.0
#: Without a watcher, diff stats are refreshed at most this often per agent, and only after
#: activity.
DIFF_INTERVAL = 5.0


def stats_due(last: float | None, activity: int | None, now: float) -> bool:
    """Without a watcher: whether an agent's stats are due after a look at its pane.

    ``last`` is when they were last computed (None: never), ``activity`` the time (whole
    seconds) of its pane's last output (None: no pane was found), ``now`` the look's time.
    """
    if activity is None:
        return False
    if last is None:
        return True
    return activity >= int(last) and now - last >= DIFF_INTERVAL


@dataclass
class StatsQueue:
    """The agents whose stats wait to be computed, and the order they come in.

    Not thread-safe: its owner holds a lock around every call.
    """

    batch: int = STATS_BATCH
    per_second: int = STATS_PER_SECOND
    _due: set[str] = field(default_factory=set)
    #: When each agent's stats were last attempted (the caller's clock).
    _last: dict[str, float] = field(default_factory=dict)

    @property
    def pending(self) -> int:
        """How many agents are due."""
        return len(self._due)

    @property
    def pause(self) -> float:
        """Seconds between two batches while more are due (the rate limit)."""
        return self.batch / self.per_second

    def mark(self, agent_ids: Iterable[str]) -> None:
        """These agents changed: their stats are due."""
        self._due.update(agent_ids)

    def keep_only(self, agent_ids: Iterable[str]) -> None:
        """Only these agents are followed: the others are neither due nor remembered."""
        kept = set(agent_ids)
        self._due &= kept
        self._last = {i: t for i, t in self._last.items() if i in kept}

    def take(self, now: float) -> list[str]:
        """The next batch, longest-stale first (never computed counts as stalest; ties by id),
        taken off the queue and stamped ``now``. More may remain (`pending`): the next batch
        comes after `pause`."""
        order = sorted(self._due, key=lambda i: (i in self._last, self._last.get(i, 0.0), i))
        batch = order[: self.batch]
        self._due.difference_update(batch)
        for agent_id in batch:
            self._last[agent_id] = now
        return batch

    def failed(self, agent_ids: Iterable[str]) -> None:
        """These agents' stats could not be computed: due again at the next round (after the
        ones that waited longer)."""
        self._due.update(agent_ids)
