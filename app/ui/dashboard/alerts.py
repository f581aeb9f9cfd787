"""How the fleet's alerts are announced: collected for a moment, then one bell and one
notification per kind (a single agent by its own words, several by name)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from textual.notifications import SeverityLevel

from app.core.alerts import Alert, AlertKind

#: Alerts arriving this close together (seconds) are announced together, with one bell.
ALERT_BATCH_SECONDS = 0.25

_BATCHES: tuple[tuple[AlertKind, SeverityLevel, str], ...] = (
    (AlertKind.WAITING, "warning", "{n} agents wait for you"),
    (AlertKind.FINISHED, "information", "{n} agents finished"),
)


def announcements(alerts: Sequence[Alert]) -> Iterator[tuple[str, str, SeverityLevel]]:
    """The notifications for a batch of alerts: (message, title, severity), waiting first."""
    for kind, severity, several in _BATCHES:
        these = [a for a in alerts if a.kind is kind]
        if len(these) == 1:
            [alert] = these
            yield alert.body or alert.title, alert.title, severity
        elif these:
            names = ", ".join(dict.fromkeys(a.name for a in these))
            yield names, several.format(n=len(these)), severity
