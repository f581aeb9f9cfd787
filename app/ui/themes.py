"""Themes: TOML files in a folder, validated and turned into Textual `Theme` objects."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.style import Style
from textual.color import Color, ColorParseError
from textual.theme import Theme

from app.core.errors import UsageError
from app.core.status import Status

#: The theme the dashboard starts with unless told otherwise.
DEFAULT_THEME = "quarterdeck-dark"

#: Used when the themes folder is missing (an unusual install): Textual's own themes.
FALLBACK_THEMES: tuple[str, ...] = ("textual-dark", "textual-light")

#: The theme variable that colours each status, in TCSS (`$status-waiting`) and in cells.
STATUS_VARIABLE: dict[Status, str] = {
    Status.STARTING: "status-starting",
    Status.WORKING: "status-working",
    Status.NEEDS_INPUT: "status-waiting",
    Status.ERROR: "status-error",
    Status.IDLE: "status-idle",
    Status.DONE: "status-done",
    Status.FAILED: "status-failed",
    Status.EXITED: "status-exited",
    Status.PAUSED: "status-paused",
    Status.UNKNOWN: "status-unknown",
}

#: Status variables every theme file must define. `status-paused` is optional (defaults to the
#: `status-unknown` colour) because a paused agent is rare; `status-error` too (defaults to the
#: theme's error colour), so themes written before it still load.
REQUIRED_VARIABLES: tuple[str, ...] = (
    "status-working",
    "status-waiting",
    "status-idle",
    "status-exited",
    "status-failed",
    "status-starting",
    "status-unknown",
    "status-done",
)

_COLOUR_KEYS = (
    "primary",
    "secondary",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
    "success",
    "warning",
    "error",
)
_FLOAT_KEYS = ("luminosity_spread", "text_alpha")
_ALLOWED_KEYS = frozenset({"name", "dark", "variables", *_COLOUR_KEYS, *_FLOAT_KEYS})


def theme_style(variables: Mapping[str, str], variable: str) -> Style:
    """A Rich style in the colour of theme variable ``variable`` (``status-working``), for
    cells drawn with Rich; a plain style when the theme has no such colour."""
    try:
        return Style(color=Color.parse(variables.get(variable, "")).rich_color)
    except ColorParseError:
        return Style()


def default_themes_dir() -> Path:
    """The repository's top-level ``themes/`` folder (beside the ``app`` package).

    Found from this module's own path: ``app.__file__`` is None when ``app`` is imported as a
    namespace package (an editable install made before ``app/__init__.py`` existed).
    """
    return Path(__file__).resolve().parent.parent.parent / "themes"


def load_theme(path: Path) -> Theme:
    """Read one theme file, raising `UsageError` that names the file and the bad key."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"theme file {path}: not valid TOML: {error}") from error
    except OSError as error:
        raise UsageError(f"theme file {path}: cannot be read: {error}") from error

    def bad(key: str, problem: str) -> UsageError:
        return _bad(path, key, problem)

    for key in data:
        if key not in _ALLOWED_KEYS:
            allowed = ", ".join(sorted(_ALLOWED_KEYS))
            raise bad(key, f"is not a theme key (expected one of: {allowed})")
    for key in ("name", "primary"):
        if key not in data:
            raise bad(key, "is missing")
    name = data["name"]
    if not isinstance(name, str) or not name.strip():
        raise bad("name", "must be a non-empty string")

    kwargs: dict[str, Any] = {"name": name}
    for key in _COLOUR_KEYS:
        if key in data:
            kwargs[key] = _colour(path, key, data[key])
    for key in _FLOAT_KEYS:
        if key in data:
            value = data[key]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise bad(key, f"must be a number, not {value!r}")
            kwargs[key] = float(value)
    if "dark" in data:
        if not isinstance(data["dark"], bool):
            raise bad("dark", f"must be true or false, not {data['dark']!r}")
        kwargs["dark"] = data["dark"]

    variables = data.get("variables", {})
    if not isinstance(variables, dict):
        raise bad("variables", "must be a table ([variables])")
    checked: dict[str, str] = {}
    for key, value in variables.items():
        if not isinstance(value, str):
            raise bad(f"variables.{key}", f"must be a string, not {value!r}")
        if key.startswith("status-"):
            _colour(path, f"variables.{key}", value)
        checked[key] = value
    for key in REQUIRED_VARIABLES:
        if key not in checked:
            raise bad(f"variables.{key}", "is missing (every theme defines all status colours)")
    kwargs["variables"] = checked
    return Theme(**kwargs)


def load_themes(folder: Path) -> list[Theme]:
    """Every ``*.toml`` theme in ``folder``, sorted by file name.

    Raises:
        UsageError: a file is invalid (the message names the file and the key), two files
            define the same theme name, or the folder holds no theme.
    """
    themes: list[Theme] = []
    seen: dict[str, Path] = {}
    for path in sorted(folder.glob("*.toml")):
        theme = load_theme(path)
        if theme.name in seen:
            raise UsageError(
                f"theme file {path}: key 'name': {theme.name!r} is already defined by "
                f"{seen[theme.name]}"
            )
        seen[theme.name] = path
        themes.append(theme)
    if not themes:
        raise UsageError(f"theme folder {folder}: no *.toml theme files")
    return themes


def _bad(path: Path, key: str, problem: str) -> UsageError:
    """The error for one bad key of one theme file."""
    return UsageError(f"theme file {path}: key {key!r} {problem}")


def _colour(path: Path, key: str, value: object) -> str:
    """``value`` if it is a colour Textual understands, else a `UsageError` naming the key."""
    if not isinstance(value, str):
        raise _bad(path, key, f"must be a colour string, not {value!r}")
    try:
        Color.parse(value)
    except ColorParseError:
        raise _bad(path, key, f"has {value!r}, which is not a colour (try '#rrggbb')") from None
    return value


def status_variable_defaults(colours: dict[str, str]) -> dict[str, str]:
    """Status colours for a theme that does not define them (Textual's built-in themes).

    Args:
        colours: The theme's generated colour system (``Theme.to_color_system().generate()``).
    """
    muted = colours.get("foreground-darken-3", colours["foreground"])
    return {
        "status-working": colours["success"],
        "status-waiting": colours["warning"],
        "status-idle": colours["primary"],
        "status-done": colours["success"],
        "status-failed": colours["error"],
        "status-error": colours["error"],
        "status-exited": muted,
        "status-starting": colours["secondary"],
        "status-unknown": muted,
        "status-paused": muted,
    }
