"""When to tell the human: an agent started waiting on them, or finished. Pure: the services
ring the bell, write to tmux and send desktop notifications."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.core.status import Status
from app.core.views import AgentRow, FleetView

_FINISHED = (Status.IDLE, Status.DONE, Status.EXITED, Status.FAILED)
_BUSY = (Status.WORKING,)


class AlertKind(StrEnum):
    """Why the human is told."""

    WAITING = "waiting"
    FINISHED = "finished"


@dataclass(frozen=True)
class Alert:
    """One thing to tell the human about one agent."""

    name: str
    kind: AlertKind
    title: str
    body: str
    #: Identifies the occasion: the same wait is never announced twice.
    key: tuple[str, float, str]


def _waiting(row: AgentRow) -> Alert:
    what = row.detail or row.question or (row.input_kind.value if row.input_kind else "input")
    kind = row.input_kind.value if row.input_kind else "input"
    return Alert(
        name=row.name,
        kind=AlertKind.WAITING,
        title=f"{row.name} waits for you ({kind})",
        body=what,
        key=(row.name, row.since, row.status.value),
    )


def _error(row: AgentRow) -> Alert:
    return Alert(
        name=row.name,
        kind=AlertKind.WAITING,
        title=f"{row.name} stopped on an error",
        body=row.detail or row.summary,
        key=(row.name, row.since, row.status.value),
    )


def _finished(row: AgentRow) -> Alert:
    verb = {Status.FAILED: "failed", Status.EXITED: "exited"}.get(row.status, "finished its turn")
    return Alert(
        name=row.name,
        kind=AlertKind.FINISHED,
        title=f"{row.name} {verb}",
        body=row.summary,
        key=(row.name, row.since, row.status.value),
    )


def alerts_between(before: FleetView, after: FleetView, *, finished: bool = True) -> list[Alert]:
    """What changed from ``before`` to ``after`` that the human should hear of: an agent that
    started waiting on them or whose turn ended in an error, and (with ``finished``) one that
    went from working to idle, done, exited or failed. Agents new in ``after`` are not
    announced as finished."""
    old = {r.name: r for r in before.rows}
    alerts = []
    for row in after.rows:
        prev = old.get(row.name)
        if row.status is Status.NEEDS_INPUT and (
            prev is None or prev.status is not Status.NEEDS_INPUT or prev.since != row.since
        ):
            alerts.append(_waiting(row))
        elif row.status is Status.ERROR and (
            prev is None or prev.status is not Status.ERROR or prev.since != row.since
        ):
            alerts.append(_error(row))
        elif finished and prev is not None and prev.status in _BUSY and row.status in _FINISHED:
            alerts.append(_finished(row))
    return alerts
