"""Names: agent names, the branches and tmux sessions derived from them."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

from app.core.errors import UsageError

#: Agent names are used in branch names, directory names and tmux targets, so they are kept to
#: characters that are safe in all three.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
MAX_NAME_LENGTH = 63
_STOPWORDS = {"a", "an", "the", "to", "of", "and", "in", "on", "for", "please", "with"}


def slugify(text: str, max_words: int = 4) -> str:
    """A short, safe name from free text: ``"Fix the login bug!"`` becomes ``"fix-login-bug"``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = [w for w in re.split(r"[^A-Za-z0-9]+", ascii_text.lower()) if w]
    kept = [w for w in words if w not in _STOPWORDS] or words
    slug = "-".join(kept[:max_words])[:40].strip("-")
    return slug or "agent"


def validate_name(name: str) -> str:
    """Return ``name`` if it is a valid agent name, else raise a `UsageError` that suggests one."""
    if NAME_PATTERN.match(name) and ".." not in name and not name.endswith((".", ".lock")):
        return name
    suggestion = slugify(name, max_words=8)
    raise UsageError(
        f"invalid agent name {name!r}: use up to {MAX_NAME_LENGTH} ASCII letters, digits, "
        f"'.', '_' and '-', starting with a letter or digit (for example {suggestion!r})"
    )


def unique_names(base: str, count: int, taken: Iterable[str], explicit: bool) -> list[str]:
    """``count`` names starting from ``base`` that are not in ``taken``.

    An explicit name for a single agent must be free as given; otherwise a numeric suffix is added.
    """
    taken_set = set(taken)
    if explicit and count == 1:
        if base in taken_set:
            raise UsageError(f"an agent named {base!r} already exists; pick another --name")
        return [base]
    names: list[str] = []
    n = 1
    while len(names) < count:
        candidate = base if (n == 1 and count == 1) else f"{base}-{n}"
        if candidate not in taken_set:
            names.append(candidate)
            taken_set.add(candidate)
        n += 1
    return names


def branch_name(prefix: str, name: str) -> str:
    """The branch an agent works on."""
    return f"{prefix}{name}"


def archive_ref(name: str) -> str:
    """The ref that keeps a removed agent's branch tip."""
    return f"refs/quarterdeck/archive/{name}"


def repo_key(repo_path: str) -> str:
    """A short, stable, filesystem- and tmux-safe key for a repository path."""
    digest = hashlib.sha1(repo_path.encode()).hexdigest()[:6]
    base = re.sub(r"[^A-Za-z0-9_-]+", "-", repo_path.rstrip("/").rsplit("/", 1)[-1]).strip("-")
    return f"{(base or 'repo')[:24]}-{digest}"
