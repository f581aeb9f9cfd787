"""A fake of the panes port: fixed captures, scripted attach commands and trails."""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.ui.fakes.rows import CAPTURE
from tests.ui.fakes.views import FakeViews


@dataclass
class FakePanes(FakeViews):
    """A PanesPort in memory over `FakeViews`' rows."""

    key: str = "C-q"
    capture_text: str = CAPTURE
    #: What `attach` returns (a command to run in the foreground, or None).
    attach_argv: list[str] | None = None
    #: What `evidence` returns: (time, status, evidence), oldest first.
    trail: list[tuple[float, str, str]] = field(default_factory=list)
    attached: list[str] = field(default_factory=list)
    captured: list[str] = field(default_factory=list)
    evidence_asked: list[str] = field(default_factory=list)

    def capture(self, name: str) -> str:
        self._row(name)
        self.captured.append(name)
        return self.capture_text.format(name=name)

    def attach(self, name: str) -> list[str] | None:
        self._row(name)
        self.attached.append(name)
        return self.attach_argv

    def evidence(self, name: str) -> list[tuple[float, str, str]]:
        self.evidence_asked.append(name)
        return list(self.trail)

    @property
    def return_key(self) -> str:
        return self.key
