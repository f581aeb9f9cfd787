"""When diff stats are due: after a look without a watcher, and the order, pace and retries of
the stats work with one."""

from __future__ import annotations

import pytest

from app.core.diff_stats import (
    DIFF_INTERVAL,
    RETRY_WITHIN,
    STATS_BATCH,
    STATS_PER_SECOND,
    StatsQueue,
    stats_due,
)


@pytest.mark.parametrize(
    ("last", "activity", "now", "due"),
    [
        (None, None, 100.0, False),  # no pane found: nothing to look at
        (None, 0, 100.0, True),  # never computed
        (None, 50, 100.0, True),
        (90.0, 95, 100.0, True),  # output since, and the interval has passed
        (90.0, 95, 90.0 + DIFF_INTERVAL, True),
        (90.0, 95, 94.9, False),  # output since, but too soon
        (90.0, 80, 100.0, False),  # no output since
        (90.5, 90, 100.0, True),  # output in the same second counts (whole seconds)
        (90.0, 89, 100.0, False),
        (90.0, None, 200.0, False),  # its pane is gone
    ],
)
def test_without_a_watcher_stats_are_due_after_activity_at_most_every_interval(
    last: float | None, activity: int | None, now: float, due: bool
) -> None:
    assert stats_due(last, activity, now) is due


def test_the_longest_stale_come_first_never_computed_before_all() -> None:
    queue = StatsQueue(batch=2)
    queue.mark(["c", "a", "b"])
    assert queue.take(now=1.0) == ["a", "b"]  # never computed: ties by id
    assert queue.pending == 1
    queue.mark(["a", "d"])
    assert queue.take(now=2.0) == ["c", "d"]  # never computed before a (computed at 1.0)
    queue.mark(["c"])
    assert queue.take(now=3.0) == ["a", "c"]  # a (still due) at 1.0, c at 2.0
    queue.mark(["a", "b"])
    assert queue.take(now=4.0) == ["b", "a"]  # b at 1.0, a at 3.0
    assert queue.take(now=5.0) == [] and queue.pending == 0


def test_an_agent_marked_twice_is_due_once() -> None:
    queue = StatsQueue()
    queue.mark(["a"])
    queue.mark(["a", "a"])
    assert queue.pending == 1
    assert queue.take(0.0) == ["a"] and queue.take(0.0) == []


def test_at_most_ten_agents_a_second_however_many_are_due() -> None:
    queue = StatsQueue()
    assert (queue.batch, queue.per_second) == (STATS_BATCH, STATS_PER_SECOND) == (2, 10)
    queue.mark(f"agent{i:03d}" for i in range(100))
    # The worker takes a batch, and while more are due, pauses `pause` before the next.
    clock, done = 0.0, []
    while queue.pending:
        done.append((clock, queue.take(clock)))
        clock += queue.pause
    per_second: dict[int, int] = {}
    for at, batch in done:
        per_second[int(at + 1e-9)] = per_second.get(int(at + 1e-9), 0) + len(batch)
    assert max(per_second.values()) == STATS_PER_SECOND
    assert sum(len(b) for _, b in done) == 100
    assert clock == pytest.approx(100 / STATS_PER_SECOND)


def test_a_busy_fleet_is_refreshed_in_turn_not_the_noisiest_first() -> None:
    queue = StatsQueue(batch=1)
    seen: list[str] = []
    for round_ in range(6):
        queue.mark(["noisy", "quiet1", "quiet2"])  # all keep changing
        seen += queue.take(float(round_))
    assert seen == ["noisy", "quiet1", "quiet2", "noisy", "quiet1", "quiet2"]


def test_what_failed_is_due_again_at_the_next_round_after_the_longer_stale() -> None:
    queue = StatsQueue(batch=2)
    queue.mark(["a", "b", "c"])
    assert queue.take(now=10.0) == ["a", "b"]
    queue.failed(["a"])  # git failed for a moment
    # The next round comes within RETRY_WITHIN even with no change reported: a is due.
    assert RETRY_WITHIN <= 1.0
    assert queue.take(now=10.0 + queue.pause) == ["c", "a"]
    assert queue.pending == 0


def test_agents_no_longer_followed_are_forgotten() -> None:
    queue = StatsQueue(batch=5)
    queue.mark(["a", "b", "c"])
    queue.take(1.0)
    queue.mark(["a", "b", "c"])
    queue.keep_only(["b"])
    assert queue.pending == 1 and queue.take(2.0) == ["b"]
    queue.mark(["a", "b"])  # a is back: never computed, so first
    assert queue.take(3.0) == ["a", "b"]
