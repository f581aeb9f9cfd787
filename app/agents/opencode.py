"""opencode: read from its screen alone (it has no hooks Quarterdeck installs, no status file
and no trust prompt); its dialogs take arrow keys (``answer = "arrows"`` in its rules file)."""

from __future__ import annotations

from app.agents.base import AgentAdapter
from app.core.profiles import AgentProfile, move_keys
from app.core.status import Reading


class Opencode(AgentAdapter):
    """opencode."""

    def reply_keys(
        self, profile: AgentProfile, dialog: Reading, option: int | None, text: str
    ) -> list[list[str]] | None:
        """The question tool's "Type your own answer": the selection (a colour only, so
        taken as the first option) moves onto it with arrows, Enter opens its text field
        under it, the text is typed there and Enter submits it."""
        if option is None:
            return None
        return [*move_keys(dialog.selected, option), ["Enter"], ["-l", text], ["Enter"]]


ADAPTER = Opencode()
