"""Auto-approve: permission requests that the repository's rules cover are answered yes by the
tracking process, once per request, each answer in the agent's trail with its rule. Which
rule covers which request is `app.core.answers.auto_approval`."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from app.core.answers import AutoApproveRule, auto_approval, yes_option
from app.core.errors import QuarterdeckError
from app.core.status import InputKind, Status
from app.core.views import AgentRow
from app.infra.store import Store

#: Answers given at once, at most (each takes a few seconds to verify).
WORKERS = 8

#: Picks an option of an agent's dialog, verified: (name, option, origin) → what was answered.
Answer = Callable[[str, int, str], str]


class AutoApprove:
    """Applies the repository's auto-approve rules to the rows of the fleet's view."""

    def __init__(
        self,
        rules: Sequence[AutoApproveRule],
        answer: Answer,
        store: Store,
        *,
        clock: Callable[[], float],
        on_change: Callable[[], None],
    ) -> None:
        self._rules = rules
        self._answer = answer
        self._store = store
        self._clock = clock
        self._on_change = on_change
        self._pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="qd-approve")
        #: Requests already answered (agent name, since when it waits): each is answered once.
        self._answered: set[tuple[str, float]] = set()
        self._closing = threading.Event()

    def use(self, rules: Sequence[AutoApproveRule]) -> None:
        """The rules of a configuration read again."""
        self._rules = rules

    def apply(self, rows: Sequence[AgentRow]) -> None:
        """Answer yes to each permission request the rules cover, once per request, on a pool
        thread; returns at once."""
        if not self._rules:
            return
        for row in rows:
            if row.status is not Status.NEEDS_INPUT or row.input_kind is not InputKind.PERMISSION:
                continue
            key = (row.name, row.since)
            if key in self._answered:
                continue
            rule = auto_approval(self._rules, row)
            option = yes_option(row.options)
            if rule is None or option is None:
                continue
            self._answered.add(key)
            if self._closing.is_set():
                return
            self._pool.submit(self._approve, row, option, rule.describe())

    def _approve(self, row: AgentRow, option: int, rule: str) -> None:
        try:
            # The answer goes to the agent's trail with the rule and the request.
            self._answer(row.name, option, f"auto ({rule}; {row.detail})")
        except QuarterdeckError as exc:
            agent = self._store.get(row.name)
            if agent is not None:
                self._store.log(agent.id, self._clock(), "-", f"auto: failed: {exc}")
        self._on_change()

    def close(self) -> None:
        """Stop answering; answers being given finish."""
        self._closing.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
