"""The agents' tmux panes: found by the agent id tmux carries for each (never by a bare %id),
their screens, and showing one to the human."""

from __future__ import annotations

from app.core.agent import Agent
from app.core.errors import QuarterdeckError
from app.infra.tmux import PaneFacts, TmuxServer


class Panes:
    """The panes of one repository's agents in its tmux session. ``hosted``: this process is
    the dashboard in window 0 of that session."""

    def __init__(self, tmux: TmuxServer, session: str, *, hosted: bool) -> None:
        self._tmux = tmux
        self._session = session
        self._hosted = hosted

    def of(self, agent: Agent) -> PaneFacts | None:
        """The agent's pane, or None when it is gone."""
        return self._tmux.agent_panes().get(agent.id)

    def capture(self, agent: Agent) -> str:
        """The agent's screen with colours."""
        pane = self.of(agent)
        if pane is None:
            raise QuarterdeckError(f"the tmux pane of {agent.name!r} is gone")
        return self._tmux.capture(pane.pane_id, ansi=True)

    def attach(self, agent: Agent) -> list[str] | None:
        """Show the agent's pane: select its window when hosted, else give a command to run."""
        pane = self.of(agent)
        if pane is None:
            raise QuarterdeckError(f"the tmux window of {agent.name!r} is gone")
        if self._hosted:
            self._tmux.select_window(pane.window_id)
            return None
        viewer = self._tmux.viewer_session(self._session, pane.window_id)
        return self._tmux.attach_argv(viewer, viewer=True)
