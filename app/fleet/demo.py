"""The demo: a throwaway repository and a varied fleet of demo agents, all offline."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from app.core.agent import SpawnRequest
from app.infra.settings import data_home

#: (name, behaviour, task): varied so every status shows within seconds.
DEMO_FLEET: tuple[tuple[str, str, str], ...] = (
    ("signup-validation", "worker", "Add input validation to the signup form"),
    ("payments-refactor", "asker", "Refactor the payment module into smaller functions"),
    ("cache-backend", "questioner", "Pick a cache backend and wire it into the API"),
    ("parser-tests", "busy", "Write property tests for the config parser"),
    ("flaky-login", "mixed", "Fix the flaky login test"),
    ("changelog", "quitter", "Update the changelog for release 2.4"),
    ("toml-config", "asker", "Migrate the config loader from INI to TOML"),
    ("memory-leak", "crasher", "Investigate the memory leak in the importer"),
    ("api-docs", "mixed", "Document the public HTTP API"),
    ("csv-speedup", "worker", "Speed up the CSV import"),
)

#: The looping demo task's check script (stdlib only).
_TODO_DONE = r'''"""Exit 0 when every item of TODO.md (or the file named) is ticked, else 1."""

import re
import sys
from pathlib import Path

ITEM = re.compile(r"^\s*[-*+] \[([ xX])\](?:[ \t]+(.*))?$")

lines = Path(sys.argv[1] if len(sys.argv) > 1 else "TODO.md").read_text().splitlines()
items = [m for m in map(ITEM.match, lines) if m]
left = [(m.group(2) or "").strip() for m in items if m.group(1) == " "]
if left:
    print(f"{len(left)} of {len(items)} items left: " + "; ".join(left))
    sys.exit(1)
print(f"all {len(items)} items done")
'''

_FILES = {
    "README.md": "# Acme shop\n\nA small web shop used to demo Quarterdeck.\n",
    "src/shop/__init__.py": '"""Acme shop."""\n',
    "src/shop/signup.py": "def signup(email: str, password: str) -> dict:\n"
    "    return {'email': email}\n",
    "src/shop/payments.py": "def charge(amount: int, card: str) -> bool:\n    return amount > 0\n",
    "tests/test_signup.py": "import unittest\n\nfrom shop.signup import signup\n\n\n"
    "class SignupTest(unittest.TestCase):\n"
    "    def test_signup(self) -> None:\n"
    "        self.assertEqual(signup('a@b.c', 'pw')['email'], 'a@b.c')\n",
    "CHANGELOG.md": "# Changelog\n\n## 2.3\n- Faster checkout\n",
    ".gitignore": "__pycache__/\n",
    # The looping task's work: a checklist agent ticks one item a round (app/demo/script.py
    # reads items the same way), and the task's check passes once none is left.
    "TODO.md": "# TODO\n\n"
    "- [ ] Add a health-check endpoint\n"
    "- [ ] Log slow database queries\n"
    "- [ ] Remove the old cart code\n",
    "scripts/todo_done.py": _TODO_DONE,
}

#: The demo repository's check (`C` in the dashboard): its tests, with the Python running the
#: demo (nothing else need be installed), writing no files into the agent's worktree.
DEMO_CHECK = "PYTHONPATH=src {python} -B -m unittest discover -s tests"
#: The looping demo task's check: fails, listing them, while TODO.md has unchecked items.
TODO_CHECK = "{python} -B scripts/todo_done.py"


def _git(root: Path, *args: str) -> None:
    env = {
        "GIT_AUTHOR_NAME": "Quarterdeck Demo",
        "GIT_AUTHOR_EMAIL": "demo@quarterdeck.invalid",
        "GIT_COMMITTER_NAME": "Quarterdeck Demo",
        "GIT_COMMITTER_EMAIL": "demo@quarterdeck.invalid",
        "PATH": "/usr/local/bin:/usr/bin:/bin",
    }
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


def create_demo_repository(parent: Path | None = None) -> Path:
    """A new git repository with a little code and one commit, outside the current directory:
    in ``parent``, by default ``$XDG_DATA_HOME/quarterdeck/demo`` — not ``/tmp``, whose
    world-writable folder makes Gemini CLI skip the hook settings kept in the repository."""
    parent = parent or data_home() / "demo"
    parent.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="quarterdeck-demo-", dir=parent))
    check = DEMO_CHECK.format(python=shlex.quote(sys.executable))
    files = {**_FILES, ".quarterdeck.toml": f"check = {json.dumps(check)}\n"}
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "Initial commit")
    return root


def demo_requests(count: int, speed: float) -> list[SpawnRequest]:
    """Spawn requests for ``count`` demo agents with varied behaviour."""
    requests = []
    for i in range(count):
        name, behaviour, task = DEMO_FLEET[i % len(DEMO_FLEET)]
        if i >= len(DEMO_FLEET):
            name = f"{name}-{i // len(DEMO_FLEET) + 1}"
        requests.append(
            SpawnRequest(
                prompt=task,
                kind="demo",
                name=name,
                command=(
                    f"{{python}} -m app.demo.agent --behaviour {behaviour} --seed {i + 1} "
                    f"--speed {speed:g} --name {name}"
                ),
            )
        )
    return requests
