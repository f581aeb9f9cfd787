"""The key bar at the foot of every screen: Textual's footer, rebuilt only when what it shows
changes.

Textual's footer rebuilds its keys (a widget each, styled one by one) whenever the screen's
bindings may have changed: after every focus move and key press. The keys shown rarely change,
so this one compares what it would show with what it shows and rebuilds only on a difference.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer

Shown = tuple[tuple[str, str, bool, str], ...]


def shown_keys(screen: Screen[object]) -> Shown:
    """What a footer on `screen` shows: each shown binding's key, label, state and tooltip."""
    return tuple(
        (binding.key, binding.description, enabled, tooltip)
        for _node, binding, enabled, tooltip in screen.active_bindings.values()
        if binding.show
    )


class KeyFooter(Footer):
    """Textual's footer without the rebuilds that would show the same keys again."""

    def __init__(self) -> None:
        super().__init__(show_command_palette=False)
        self._shown: Shown | None = None

    def bindings_changed(self, screen: Screen[object]) -> None:
        """Rebuild when the keys shown differ from the last ones built (Textual's check first:
        a footer of a screen not on top, or of an app without focus, waits)."""
        if not (screen.app.app_focus and self.is_attached and screen is self.screen):
            super().bindings_changed(screen)
            return
        shown = shown_keys(screen)
        if shown == self._shown:
            return
        self._shown = shown
        super().bindings_changed(screen)
