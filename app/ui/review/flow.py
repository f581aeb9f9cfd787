"""Review actions shared by the dashboard and the review screen: run or cancel a check, land a
branch (strategy, refusal by the check, conflicts, then removal), push it, comment on a line.

Every port call runs in a thread worker of the app, so it finishes and reports even when the
screen it started from is closed; results come back to the event loop through
`App.call_from_thread`, where dialogs are opened and notifications shown.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from textual.app import App
from textual.notifications import SeverityLevel

from app.core.errors import BaseCheckedOutError, CheckRefusalError
from app.core.ports import FleetPort
from app.core.review import Comment, MergeOutcome, MergeStrategy
from app.ui.dialogs.confirm import ConfirmScreen
from app.ui.dialogs.land import ConflictScreen, LandScreen, TextScreen
from app.ui.messages import describe_error

#: Seconds a notification about a push, a landing or a failure of either stays up.
LONG_NOTICE = 20.0
#: Seconds other review notifications stay up.
NOTICE = 8.0


@dataclass(frozen=True)
class _Landing:
    """One landing asked for: what, how, and what the human has allowed so far."""

    name: str
    strategy: MergeStrategy
    landed: Callable[[], None] | None
    force: bool = False
    update_worktree: bool = False


class ReviewActions:
    """The review's port calls and their dialogs, for the dashboard and the review screen.

    Args:
        app: The app whose workers, dialogs and notifications are used.
        port: The fleet.
        remove: Starts the app's removal flow for an agent (it asks before losing anything).
    """

    def __init__(self, app: App[Any], port: FleetPort, remove: Callable[[str], None]) -> None:
        self.app = app
        self.port = port
        self.remove = remove

    # -- plumbing ---------------------------------------------------------------------------

    def _run(self, work: Callable[[], None], name: str) -> None:
        """Run ``work`` in a thread worker of the app."""
        self.app.run_worker(work, name=name, group="review", thread=True, exit_on_error=False)

    def _later(self, callback: Callable[..., object], *args: object) -> None:
        """From a worker: run ``callback`` on the event loop (dropped if the app has ended)."""
        with suppress(RuntimeError):  # the app is gone: nobody to tell
            self.app.call_from_thread(callback, *args)

    def _notify(
        self, text: str, severity: SeverityLevel = "information", *, timeout: float = NOTICE
    ) -> None:
        """From a worker: show a notification."""
        self._later(partial(self.app.notify, text, severity=severity, timeout=timeout))

    # -- checks -----------------------------------------------------------------------------

    def toggle_check(
        self, name: str, *, running: bool, started: Callable[[], None] | None = None
    ) -> None:
        """Run the agent's check; while one runs, ask to cancel it instead. ``started`` is
        called (on the event loop) once the port has started the check."""
        if running:
            self.app.push_screen(
                ConfirmScreen(f"{name}'s check is running. Cancel it?", yes_label="Cancel check"),
                partial(self._cancel_answered, name, started),
            )
        else:
            self._run(partial(self._run_check, name, started), "run_check")

    def _run_check(self, name: str, started: Callable[[], None] | None) -> None:
        try:
            self.port.run_check(name)
        except Exception as error:
            self._notify(f"{name}: check not started: {describe_error(error)}", "error")
            return
        self._notify(f"Check started for {name}")
        if started is not None:
            self._later(started)

    def _cancel_answered(
        self, name: str, changed: Callable[[], None] | None, yes: bool | None
    ) -> None:
        if yes:
            self._run(partial(self._cancel_check, name, changed), "cancel_check")

    def _cancel_check(self, name: str, changed: Callable[[], None] | None) -> None:
        try:
            self.port.cancel_check(name)
        except Exception as error:
            self._notify(f"{name}: check not cancelled: {describe_error(error)}", "error")
            return
        self._notify(f"Cancelled {name}'s check")
        if changed is not None:
            self._later(changed)

    # -- landing ----------------------------------------------------------------------------

    def land(self, name: str, branch: str, landed: Callable[[], None] | None = None) -> None:
        """Ask for the strategy, then land the agent's branch; ``landed`` is called (on the
        event loop) after a merge that went in, and then removing the agent is offered."""
        self.app.push_screen(LandScreen(name, branch), partial(self._strategy_chosen, name, landed))

    def _strategy_chosen(
        self, name: str, landed: Callable[[], None] | None, strategy: MergeStrategy | None
    ) -> None:
        if strategy is not None:
            self._start_merge(_Landing(name, strategy, landed))

    def _start_merge(self, landing: _Landing) -> None:
        self._run(partial(self._merge, landing), "merge")

    def _merge(self, landing: _Landing) -> None:
        name = landing.name
        try:
            outcome = self.port.merge(
                name,
                landing.strategy,
                force=landing.force,
                update_worktree=landing.update_worktree,
            )
        except CheckRefusalError as error:
            self._later(self._offer_force, landing, describe_error(error))
        except BaseCheckedOutError as error:
            self._later(self._offer_update, landing, error.base, error.worktree)
        except Exception as error:
            # Often a way to do it by hand follows: shown where it can be copied.
            screen = TextScreen(f"{name} not landed", describe_error(error), danger=True)
            self._later(self.app.push_screen, screen)
        else:
            self._later(self._merged, name, outcome, landing.landed)

    def _offer_force(self, landing: _Landing, reason: str) -> None:
        question = (
            f"{landing.name} was not landed: {reason}\n\n"
            f"Land it anyway with {landing.strategy.value}, without a passing check? "
            "(n keeps it; C runs the check)"
        )
        self.app.push_screen(
            ConfirmScreen(question, yes_label="Land anyway"),
            partial(self._answered, replace(landing, force=True)),
        )

    def _offer_update(self, landing: _Landing, base: str, worktree: str) -> None:
        question = (
            f"{landing.name}'s base, {base}, is checked out in {worktree}.\n\n"
            f"Land it and bring that worktree forward too? Its files and index move with "
            f"{base}, as `git merge --ff-only` would; changes of yours there are kept, and "
            "nothing is done if one would be overwritten. (n keeps everything as it is)"
        )
        self.app.push_screen(
            ConfirmScreen(question, yes_label="Land and update it"),
            partial(self._answered, replace(landing, update_worktree=True)),
        )

    def _answered(self, landing: _Landing, yes: bool | None) -> None:
        if yes:
            self._start_merge(landing)

    def _merged(self, name: str, outcome: MergeOutcome, landed: Callable[[], None] | None) -> None:
        if not outcome.merged:
            if outcome.conflicts:
                self.app.push_screen(
                    ConflictScreen(name, outcome), partial(self._conflict_answered, name)
                )
            else:
                why = outcome.message or "nothing was merged"
                self.app.notify(
                    f"{name} not landed: {why}", severity="warning", timeout=LONG_NOTICE
                )
            return
        if outcome.how:
            moved = f"; {outcome.worktree} moved with it" if outcome.worktree else ""
            said = (
                f"Landed {name} in {outcome.base} ({outcome.how}), now at "
                f"{outcome.commit[:7]}{moved}"
            )
        else:
            said = f"{name}: {outcome.message}"  # nothing to land: it is all there already
        self.app.notify(said, timeout=LONG_NOTICE)
        if landed is not None:
            landed()
        # The offer to remove it is the removal's own question (No is the default), which
        # names anything that would still be lost.
        self.remove(name)

    def _conflict_answered(self, name: str, send: bool | None) -> None:
        if send:
            self._run(partial(self._send_conflict, name), "send_conflict")

    def _send_conflict(self, name: str) -> None:
        try:
            self.port.send_conflict(name)
        except Exception as error:
            self._notify(f"{name}: conflict not sent: {describe_error(error)}", "error")
        else:
            self._notify(f"Sent the conflict to {name} to resolve")

    # -- pushing ----------------------------------------------------------------------------

    def push(self, name: str) -> None:
        """Push the agent's branch (and open a pull request when `gh` can); show what the port
        said in a dialog, where it can be selected and copied."""
        self.app.notify(f"Pushing {name}…", timeout=3)
        self._run(partial(self._push, name), "push_branch")

    def _push(self, name: str) -> None:
        try:
            text = self.port.push_branch(name)
        except Exception as error:
            self._notify(
                f"{name} not pushed: {describe_error(error)}", "error", timeout=LONG_NOTICE
            )
        else:
            self._later(self.app.push_screen, TextScreen(f"Pushed {name}", text))

    # -- comments ---------------------------------------------------------------------------

    def comment(self, name: str, comment: Comment, done: Callable[[str], None]) -> None:
        """Send a review comment to the agent; ``done`` gets "" once it is queued, or the
        error (on the event loop)."""
        self._run(partial(self._comment, name, comment, done), "comment")

    def _comment(self, name: str, comment: Comment, done: Callable[[str], None]) -> None:
        try:
            self.port.comment(name, comment)
        except Exception as error:
            self._later(done, describe_error(error))
        else:
            self._notify(f"Comment on {comment.where} queued for {name}")
            self._later(done, "")
