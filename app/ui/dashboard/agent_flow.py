"""What the dashboard does to agents: attach to one, and after asking: stop, remove (as risky
as it is), interrupt, answer a dialog.

`AgentFlow` is an invisible widget of the dashboard screen: the questions are its dialogs, the
port calls run in thread workers of the app (`RunPort`) and report back as the flow's messages
(or as `OperationReported`, which bubbles up to the app).
"""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Sequence
from functools import partial

from textual.app import SuspendNotSupported
from textual.message import Message
from textual.widget import Widget

from app.core.ports import AgentsPort, PanesPort, RemovalRisk, SteeringPort
from app.ui.dialogs.confirm import ConfirmScreen, RemoveRiskyScreen
from app.ui.messages import OperationReported, RunPort, describe_error
from app.ui.review.screen import ReviewScreen


class AgentFlow(Widget):
    """Attaches to agents; stops, removes, interrupts and answers them, asking first where
    something is lost.

    Args:
        agents: The fleet's agents port.
        steering: The fleet's steering port.
        panes: The fleet's panes port (attach).
        run_port: Runs a port call in a worker of the app.
    """

    DEFAULT_CSS = """
    AgentFlow {
        display: none;
    }
    """

    class RemovalAssessed(Message):
        """The port said what removing an agent would lose."""

        def __init__(self, risk: RemovalRisk) -> None:
            super().__init__()
            self.risk = risk

    class AttachPrepared(Message):
        """The port prepared an attach; ``argv`` is a command to run in the foreground."""

        def __init__(self, name: str, argv: list[str] | None) -> None:
            super().__init__()
            self.name = name
            self.argv = argv

    class Attached(Message):
        """The human was shown agent ``name``'s pane (and is back, when it took the terminal)."""

        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    def __init__(
        self, agents: AgentsPort, steering: SteeringPort, panes: PanesPort, run_port: RunPort
    ) -> None:
        super().__init__()
        self.agents = agents
        self.steering = steering
        self.panes = panes
        self.run_port = run_port

    # -- attach -----------------------------------------------------------------------------

    def attach(self, name: str) -> None:
        """Show agent ``name``'s pane (a newer attach supersedes one still being prepared)."""
        self.run_port(
            lambda: self.AttachPrepared(name, self.panes.attach(name)),
            to=self,
            group="attach",
            exclusive=True,
        )

    def on_agent_flow_attach_prepared(self, message: AttachPrepared) -> None:
        """Hand the terminal to the attach command (if any), then say the agent was shown."""
        if message.argv:
            self.run_foreground(message.argv)
        self.post_message(self.Attached(message.name))

    def run_foreground(self, argv: list[str]) -> None:
        """Run ``argv`` with the terminal, the dashboard suspended until it ends."""
        try:
            with self.app.suspend():
                subprocess.run(argv, check=False)
        except SuspendNotSupported:
            self.notify(
                f"This terminal cannot be handed over; run: {shlex.join(argv)}",
                severity="warning",
            )
        except OSError as error:
            self.notify(f"{shlex.join(argv)}: {error}", severity="error")

    # -- stop -------------------------------------------------------------------------------

    def stop(self, name: str) -> None:
        """Ask, then stop agent ``name``."""
        question = f"Stop {name}? Its process tree will be ended."
        self.app.push_screen(
            ConfirmScreen(question, yes_label="Stop"), partial(self._stop_answered, name)
        )

    def _stop_answered(self, name: str, yes: bool | None) -> None:
        if yes:
            self.run_port(partial(self._stop, name))

    def _stop(self, name: str) -> Message:
        self.agents.stop(name)
        return OperationReported(f"Stopped {name}")

    # -- remove -----------------------------------------------------------------------------

    def offer_removal(self, name: str) -> None:
        """Find out what removing agent ``name`` would lose, then ask accordingly."""
        self.run_port(partial(self._assess, name), to=self)

    def _assess(self, name: str) -> Message:
        return self.RemovalAssessed(self.agents.removal_risk(name))

    def on_agent_flow_removal_assessed(self, message: RemovalAssessed) -> None:
        """Safe: a plain yes/no. Risky: say what is lost and require the name typed out."""
        risk = message.risk
        if risk.safe:
            question = (
                f"Remove {risk.name}? Its worktree, window and branch go; "
                "nothing unmerged or uncommitted is lost."
            )
            self.app.push_screen(
                ConfirmScreen(question, yes_label="Remove"),
                partial(self._remove_answered, risk, False),
            )
        else:
            self.app.push_screen(
                RemoveRiskyScreen(risk), partial(self._remove_answered, risk, True)
            )

    def _remove_answered(self, risk: RemovalRisk, discard: bool, yes: bool | None) -> None:
        if yes:
            # A review of the agent (asked from there after landing it) has nothing left to show.
            screen = self.app.screen
            if isinstance(screen, ReviewScreen) and screen.agent == risk.name:
                screen.dismiss(None)
            self.run_port(partial(self._remove, risk.name, discard))

    def _remove(self, name: str, discard: bool) -> Message:
        kept = self.agents.remove(name, discard_unmerged=discard, discard_changes=discard)
        return OperationReported(kept or f"Removed {name}")

    # -- steering ---------------------------------------------------------------------------

    def answer(self, name: str, number: int) -> None:
        """Pick option ``number`` of agent ``name``'s dialog (verified by the port)."""
        self.run_port(lambda: OperationReported(self.steering.answer(name, number)))

    def interrupt(self, names: Sequence[str]) -> None:
        """Interrupt the agents now; asks first when there are several."""
        names = tuple(names)
        if len(names) > 1:
            listed = ", ".join(names)
            self.app.push_screen(
                ConfirmScreen(
                    f"Interrupt {len(names)} agents now?\n\n{listed}", yes_label="Interrupt"
                ),
                partial(self._interrupt_answered, names),
            )
        elif names:
            self.run_port(partial(self._interrupt, names))

    def _interrupt_answered(self, names: tuple[str, ...], yes: bool | None) -> None:
        if yes:
            self.run_port(partial(self._interrupt, names))

    def _interrupt(self, names: tuple[str, ...]) -> Message | None:
        """In a thread: interrupt each agent; report each failure, and what each success did
        (as the port says it: "interrupted X", or a key pressed in an agent that was not
        working)."""
        done = []
        for name in names:
            try:
                said = self.steering.interrupt(name)
            except Exception as error:
                self.post_message(OperationReported(f"{name}: {describe_error(error)}", "error"))
            else:
                done.append(said[:1].upper() + said[1:])
        return OperationReported("; ".join(done)) if done else None
