"""A fake of the agents port: spawns, stops and removals recorded, and seen in the view."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace

from app.core.agent import Agent, Checkout, Placement, SpawnRequest
from app.core.errors import QuarterdeckError
from app.core.ports import RemovalRisk
from app.core.status import Status
from tests.ui.fakes.rows import NOW, make_row
from tests.ui.fakes.views import FakeViews


@dataclass
class FakeAgents(FakeViews):
    """An AgentsPort in memory over `FakeViews`' rows."""

    kind_list: list[str] = field(default_factory=lambda: ["claude", "codex", "demo"])
    base: str = "main"
    #: Per-agent removal risk; agents not listed are safe to remove.
    risks: dict[str, RemovalRisk] = field(default_factory=dict)
    #: Raised by `spawn` when set (the next call only).
    spawn_error: QuarterdeckError | None = None
    #: Set to make `spawn` wait until the test releases it.
    spawn_gate: threading.Event | None = None
    spawned: list[SpawnRequest] = field(default_factory=list)
    #: What `hook_problems` says, by kind.
    hook_warnings: dict[str, list[str]] = field(default_factory=dict)
    stopped: list[str] = field(default_factory=list)
    removed: list[tuple[str, bool, bool]] = field(default_factory=list)

    def kinds(self) -> list[str]:
        return list(self.kind_list)

    def default_base(self) -> str:
        return self.base

    def spawn(self, request: SpawnRequest) -> list[Agent]:
        if self.spawn_gate is not None:
            self.spawn_gate.wait(timeout=10)
        self.spawned.append(request)
        if self.spawn_error is not None:
            error, self.spawn_error = self.spawn_error, None
            raise error
        name = request.name or "new-agent"
        self.push([*self.rows, make_row(name, Status.STARTING, kind=request.kind, age=0)])
        return [_agent(request, name)]

    def hook_problems(self, kind: str) -> list[str]:
        return list(self.hook_warnings.get(kind, []))

    def stop(self, name: str) -> None:
        self._row(name)
        self.stopped.append(name)
        self.push(
            replace(r, status=Status.EXITED, status_label="exited") if r.name == name else r
            for r in self.rows
        )

    def removal_risk(self, name: str) -> RemovalRisk:
        row = self._row(name)
        return self.risks.get(name) or RemovalRisk(name, row.branch, "main", 0, ())

    def remove(self, name: str, *, discard_unmerged: bool, discard_changes: bool) -> str:
        self._row(name)
        self.removed.append((name, discard_unmerged, discard_changes))
        self.push(r for r in self.rows if r.name != name)
        return f"Removed {name}; its branch tip is kept at refs/quarterdeck/archive/{name}"


def _agent(request: SpawnRequest, name: str) -> Agent:
    return Agent(
        id=f"id-{name}",
        name=name,
        kind=request.kind,
        command="",
        checkout=Checkout(f"qd/{name}", request.base or "main", "0" * 40, f"/tmp/wt/{name}"),
        placement=Placement("qd", "@1", "%1", 1),
        created_at=NOW,
        prompt=request.prompt,
    )
