"""Review actions shared by the dashboard and the review screen: run or cancel a check, land a
branch (strategy, refusal by the check, conflicts, then removal), push it.

`ReviewFlow` is an invisible widget of the dashboard screen, which is always there: a landing
asked for from a review that is closed meanwhile still asks its questions and reports. Port
calls run in thread workers of the app (`RunPort`); each posts one of the flow's messages back,
and the flow opens the dialogs and says how it went. What a review screen that is open should
follow (its check, its diff after a landing) is told to the open screens as `CheckChanged` and
`Landed`; `Landed` also bubbles up to the dashboard, which offers to remove the agent.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial

from textual.message import Message
from textual.widget import Widget

from app.core.errors import BaseCheckedOutError, CheckRefusalError
from app.core.landing import MergeOutcome, MergeStrategy
from app.core.ports import ReviewPort
from app.ui.dialogs.confirm import ConfirmScreen
from app.ui.dialogs.land import ConflictScreen, LandScreen, TextScreen
from app.ui.messages import LONG_NOTICE, OperationReported, RunPort, describe_error


@dataclass(frozen=True)
class Landing:
    """One landing asked for: what, how, and what the human has allowed so far."""

    name: str
    strategy: MergeStrategy
    force: bool = False
    update_worktree: bool = False


class ReviewFlow(Widget):
    """The review's port calls and their dialogs, for the dashboard and the review screen.

    Args:
        port: The fleet's review port.
        run_port: Runs a port call in a worker of the app.
    """

    DEFAULT_CSS = """
    ReviewFlow {
        display: none;
    }
    """

    class CheckChanged(Message, bubble=False):
        """Agent ``name``'s check was started or cancelled (told to the open screens)."""

        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    class Landed(Message):
        """Agent ``name``'s branch went into its base (told to the open screens; bubbles up
        to the dashboard, which offers the removal)."""

        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    class MergeRefused(Message):
        """The port refused ``landing``: its check (``reason``), or its base is checked out
        in ``worktree`` (``base`` set)."""

        def __init__(
            self, landing: Landing, reason: str, base: str = "", worktree: str = ""
        ) -> None:
            super().__init__()
            self.landing = landing
            self.reason = reason
            self.base = base
            self.worktree = worktree

    class MergeFinished(Message):
        """The port merged (or could not merge) agent ``name``'s branch."""

        def __init__(self, name: str, outcome: MergeOutcome) -> None:
            super().__init__()
            self.name = name
            self.outcome = outcome

    class MergeFailed(Message):
        """Landing agent ``name`` failed with ``error``."""

        def __init__(self, name: str, error: str) -> None:
            super().__init__()
            self.name = name
            self.error = error

    class Pushed(Message):
        """Agent ``name``'s branch was pushed; ``said`` is what the push said."""

        def __init__(self, name: str, said: str) -> None:
            super().__init__()
            self.name = name
            self.said = said

    def __init__(self, port: ReviewPort, run_port: RunPort) -> None:
        super().__init__()
        self.port = port
        self.run_port = run_port

    def _tell_screens(self, message: Message) -> None:
        """Attributes down: every screen open over the dashboard hears of it (the review of
        that agent acts on it)."""
        for screen in self.app.screen_stack:
            if screen is not self.screen:
                screen.post_message(message)

    # -- checks -----------------------------------------------------------------------------

    def toggle_check(self, name: str, *, running: bool) -> None:
        """Run the agent's check; while one runs, ask to cancel it instead."""
        if running:
            self.app.push_screen(
                ConfirmScreen(f"{name}'s check is running. Cancel it?", yes_label="Cancel check"),
                partial(self._cancel_answered, name),
            )
        else:
            self.run_port(
                partial(self._run_check, name),
                to=self,
                failure=f"{name}: check not started",
                group="review",
            )

    def _run_check(self, name: str) -> Message:
        self.port.run_check(name)
        self.post_message(OperationReported(f"Check started for {name}"))
        return self.CheckChanged(name)

    def _cancel_answered(self, name: str, yes: bool | None) -> None:
        if yes:
            self.run_port(
                partial(self._cancel_check, name),
                to=self,
                failure=f"{name}: check not cancelled",
                group="review",
            )

    def _cancel_check(self, name: str) -> Message:
        self.port.cancel_check(name)
        self.post_message(OperationReported(f"Cancelled {name}'s check"))
        return self.CheckChanged(name)

    def on_review_flow_check_changed(self, message: CheckChanged) -> None:
        """Tell an open review of the agent to read its check again."""
        self._tell_screens(self.CheckChanged(message.name))

    # -- landing ----------------------------------------------------------------------------

    def land(self, name: str, branch: str) -> None:
        """Ask for the strategy, then land the agent's branch; after a merge that went in, an
        open review reads its diff again and removing the agent is offered."""
        self.app.push_screen(LandScreen(name, branch), partial(self._strategy_chosen, name))

    def _strategy_chosen(self, name: str, strategy: MergeStrategy | None) -> None:
        if strategy is not None:
            self._start_merge(Landing(name, strategy))

    def _start_merge(self, landing: Landing) -> None:
        self.run_port(partial(self._merge, landing), to=self, group="review")

    def _merge(self, landing: Landing) -> Message | None:
        name = landing.name
        try:
            outcome = self.port.merge(
                name,
                landing.strategy,
                force=landing.force,
                update_worktree=landing.update_worktree,
            )
        except CheckRefusalError as error:
            return self.MergeRefused(landing, describe_error(error))
        except BaseCheckedOutError as error:
            return self.MergeRefused(landing, "", error.base, error.worktree)
        except Exception as error:
            return self.MergeFailed(name, describe_error(error))
        return self.MergeFinished(name, outcome)

    def on_review_flow_merge_refused(self, message: MergeRefused) -> None:
        """Offer to land anyway (refused by the check) or to bring the base's worktree
        forward too (the base is checked out there)."""
        landing = message.landing
        if message.base:
            question = (
                f"{landing.name}'s base, {message.base}, is checked out in {message.worktree}.\n\n"
                f"Land it and bring that worktree forward too? Its files and index move with "
                f"{message.base}, as `git merge --ff-only` would; changes of yours there are "
                "kept, and nothing is done if one would be overwritten. (n keeps everything as "
                "it is)"
            )
            allowed, label = replace(landing, update_worktree=True), "Land and update it"
        else:
            question = (
                f"{landing.name} was not landed: {message.reason}\n\n"
                f"Land it anyway with {landing.strategy.value}, without a passing check? "
                "(n keeps it; C runs the check)"
            )
            allowed, label = replace(landing, force=True), "Land anyway"
        self.app.push_screen(
            ConfirmScreen(question, yes_label=label), partial(self._answered, allowed)
        )

    def _answered(self, landing: Landing, yes: bool | None) -> None:
        if yes:
            self._start_merge(landing)

    def on_review_flow_merge_failed(self, message: MergeFailed) -> None:
        """Show why, where it can be copied: often a way to do it by hand follows."""
        self.app.push_screen(TextScreen(f"{message.name} not landed", message.error, danger=True))

    def on_review_flow_merge_finished(self, message: MergeFinished) -> None:
        """Say how it landed and offer the removal; a conflict offers to send it to the agent."""
        name, outcome = message.name, message.outcome
        if not outcome.merged:
            if outcome.conflicts:
                self.app.push_screen(
                    ConflictScreen(name, outcome), partial(self._conflict_answered, name)
                )
            else:
                why = outcome.message or "nothing was merged"
                self.notify(f"{name} not landed: {why}", severity="warning", timeout=LONG_NOTICE)
            return
        if outcome.how:
            moved = f"; {outcome.worktree} moved with it" if outcome.worktree else ""
            said = (
                f"Landed {name} in {outcome.base} ({outcome.how}), now at "
                f"{outcome.commit[:7]}{moved}"
            )
        else:
            said = f"{name}: {outcome.message}"  # nothing to land: it is all there already
        self.notify(said, timeout=LONG_NOTICE)
        self._tell_screens(self.Landed(name))
        # The offer to remove it is the removal's own question (No is the default), which
        # names anything that would still be lost.
        self.post_message(self.Landed(name))

    def _conflict_answered(self, name: str, send: bool | None) -> None:
        if send:
            self.run_port(
                partial(self._send_conflict, name),
                failure=f"{name}: conflict not sent",
                group="review",
            )

    def _send_conflict(self, name: str) -> Message:
        self.port.send_conflict(name)
        return OperationReported(f"Sent the conflict to {name} to resolve")

    # -- pushing ----------------------------------------------------------------------------

    def push(self, name: str) -> None:
        """Push the agent's branch (and open a pull request when `gh` can); show what the port
        said in a dialog, where it can be selected and copied."""
        self.notify(f"Pushing {name}…", timeout=3)
        self.run_port(
            partial(self._push, name),
            to=self,
            failure=f"{name} not pushed",
            timeout=LONG_NOTICE,
            group="review",
        )

    def _push(self, name: str) -> Message:
        return self.Pushed(name, self.port.push_branch(name))

    def on_review_flow_pushed(self, message: Pushed) -> None:
        """Show what the push said, where it can be copied."""
        self.app.push_screen(TextScreen(f"Pushed {message.name}", message.said))
