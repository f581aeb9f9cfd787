import pytest

from app.core.status import Evidence, InputKind, Reading, Status, StatusTracker, is_ended

EV = Evidence("screen", "test")


def r(status: Status, kind: InputKind | None = None) -> Reading:
    return Reading(status, EV, kind=kind)


def test_dialog_switches_at_once_and_keeps_since_while_it_holds() -> None:
    t = StatusTracker()
    s = t.start(r(Status.WORKING), 0.0)
    s = t.observe(s, r(Status.NEEDS_INPUT, InputKind.PERMISSION), 1.0)
    assert s.status is Status.NEEDS_INPUT and s.since == 1.0
    s = t.observe(s, r(Status.NEEDS_INPUT, InputKind.PERMISSION), 5.0)
    assert s.since == 1.0


def test_idle_must_hold_before_it_replaces_working() -> None:
    t = StatusTracker()
    s = t.start(r(Status.WORKING), 0.0)
    s = t.observe(s, r(Status.IDLE), 1.0)
    assert s.status is Status.WORKING  # a single idle frame between spinner frames
    s = t.observe(s, r(Status.WORKING), 1.1)
    s = t.observe(s, r(Status.IDLE), 1.2)
    assert s.status is Status.WORKING
    s = t.observe(s, r(Status.IDLE), 1.7)
    assert s.status is Status.IDLE and s.since == 1.7


def test_unknown_needs_to_persist() -> None:
    t = StatusTracker()
    s = t.start(r(Status.IDLE), 0.0)
    s = t.observe(s, r(Status.UNKNOWN), 1.0)
    assert s.status is Status.IDLE
    s = t.observe(s, r(Status.UNKNOWN), 3.5)
    assert s.status is Status.UNKNOWN


def test_summary_refresh_does_not_reset_since() -> None:
    t = StatusTracker()
    s = t.start(Reading(Status.WORKING, EV, summary="a"), 0.0)
    s = t.observe(s, Reading(Status.WORKING, EV, summary="b"), 2.0)
    assert s.since == 0.0 and s.reading.summary == "b"


@pytest.mark.parametrize(
    ("status", "stopped", "ended"),
    [
        (Status.STARTING, False, False),
        (Status.WORKING, False, False),
        (Status.NEEDS_INPUT, False, False),
        (Status.IDLE, False, False),
        (Status.PAUSED, False, False),
        (Status.UNKNOWN, False, False),
        (Status.DONE, False, True),
        (Status.FAILED, False, True),
        (Status.EXITED, False, True),
        (Status.WORKING, True, True),  # stopped by the human: ended whatever was last seen
        (Status.IDLE, True, True),
    ],
)
def test_which_agents_have_ended(status: Status, stopped: bool, ended: bool) -> None:
    assert is_ended(status, stopped=stopped) is ended
