"""Check results: what a row shows of them, and when they allow landing."""

from __future__ import annotations

from app.core.checks import CheckResult, CheckState, check_refusal
from app.core.views import check_label


def test_check_labels_and_what_they_allow() -> None:
    head = "a" * 40

    def result(state: CheckState, commit: str = head, dirty: bool = False) -> CheckResult:
        return CheckResult("pytest -q", state, 0.0, 12.4, 0, "", commit, dirty)

    assert check_label(result(CheckState.PASSED).summary) == "passed 12s"
    assert check_label(result(CheckState.FAILED).summary) == "failed 12s"
    assert check_label(result(CheckState.RUNNING).summary) == "running"
    assert check_label(result(CheckState.CANCELLED).summary) == "cancelled"
    assert result(CheckState.PASSED, dirty=True).ran_on == "aaaaaaa+dirty"
    assert check_refusal(result(CheckState.PASSED), head) == ""
    assert check_refusal(None, head) == "no check has run on it"
    assert "failed with exit code 0" in check_refusal(result(CheckState.FAILED), head)
    assert "still running" in check_refusal(result(CheckState.RUNNING), head)
    assert "cancelled" in check_refusal(result(CheckState.CANCELLED), head)
    moved = check_refusal(result(CheckState.PASSED, "b" * 40), head)
    assert moved == "its latest check passed on bbbbbbb, but the branch is now at aaaaaaa"
    assert "uncommitted" in check_refusal(result(CheckState.PASSED, dirty=True), head)
    assert check_refusal(result(CheckState.PASSED), head, "pytest -q") == ""
    changed = check_refusal(result(CheckState.PASSED), head, "make test")
    assert changed == "its latest check ran `pytest -q`, but the check is now `make test`"


def test_a_checks_last_line_is_its_last_non_blank_line_once_it_ended() -> None:
    def result(state: CheckState, tail: str) -> CheckResult:
        return CheckResult("pytest -q", state, 0.0, 1.0, 1, tail)

    assert result(CheckState.FAILED, "a\n  1 failed, 3 passed  \n\n").last_line == (
        "1 failed, 3 passed"
    )
    assert result(CheckState.PASSED, "").last_line == ""
    assert result(CheckState.RUNNING, "collecting").last_line == ""
