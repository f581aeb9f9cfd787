"""Hook installation, the part every CLI shares: where Quarterdeck's hook script is, the command
a CLI runs for an event, and the folder that holds the settings files made for the CLIs.

Each CLI is told to run the hook script without touching the user's settings files or the
agent's worktree: everything lives in Quarterdeck's state folder (inside the repository's git
dir, so `git status` in a worktree stays clean) and reaches the agent on its command line or in
its environment. What each CLI needs is in its module (`AgentAdapter.install_hooks`).
"""

from __future__ import annotations

import json
import os
import shlex
from importlib import resources
from pathlib import Path
from typing import Any


def hook_script() -> Path:
    """The hook script shipped with Quarterdeck."""
    return Path(str(resources.files("app.hooks").joinpath("qd-hook")))


class HookInstaller:
    """Prepares, idempotently, what an agent needs to report its events to this repository's
    engine."""

    def __init__(self, state_dir: Path, events_dir: Path) -> None:
        self.hooks_dir = state_dir / "hooks"
        self.events_dir = events_dir
        self.script = hook_script()

    def command(self, event: str, *, no_stdin: bool = False) -> str:
        """The shell command a CLI runs for ``event`` (a fixed string: payloads never enter it)."""
        command = f"sh {shlex.quote(str(self.script))} {event}"
        return command + " ''" if no_stdin else command

    def environment(self) -> dict[str, str]:
        """What every agent's environment carries so the hook script finds the spool."""
        return {"QUARTERDECK_EVENTS": str(self.events_dir)}

    def write_settings(self, name: str, data: dict[str, Any]) -> Path:
        """``hooks/<name>``, a settings file made for a CLI, rewritten only when it changes."""
        path = self.hooks_dir / name
        text = json.dumps(data, indent=2, sort_keys=True) + "\n"
        try:
            if path.read_text() == text:
                return path
        except OSError:
            pass
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(text)
        tmp.replace(path)
        return path
