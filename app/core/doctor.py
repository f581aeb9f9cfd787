"""What `quarterdeck doctor` finds about an agent kind: each finding says what is wrong (or
worth knowing) and how to fix it; a problem fails the check, a note does not."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """One thing found about a kind: ``what`` is the case, ``fix`` what to do about it."""

    what: str
    fix: str = ""
    #: False for a note: worth knowing, but agents of the kind run as Quarterdeck expects.
    problem: bool = True

    def line(self) -> str:
        """The finding as one line: ``✗`` a problem, ``·`` a note, then the fix."""
        mark = "✗" if self.problem else "·"
        return f"{mark} {self.what}" + (f" — {self.fix}" if self.fix else "")


def note(what: str, fix: str = "") -> Finding:
    """A finding that does not fail the check."""
    return Finding(what, fix, problem=False)


def has_problem(findings: Sequence[Finding]) -> bool:
    """True when any finding is a problem (not only notes)."""
    return any(f.problem for f in findings)


def first_set(env: dict[str, str] | None, names: Sequence[str]) -> str:
    """The first of ``names`` set (non-empty) in ``env``, or ''."""
    return next((n for n in names if env and env.get(n)), "")
