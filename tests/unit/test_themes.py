"""Theme files: the shipped ones load; a broken one is reported by file and key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.theme import BUILTIN_THEMES

from app.core.errors import UsageError
from app.ui.themes import (
    REQUIRED_VARIABLES,
    default_themes_dir,
    load_themes,
    status_variable_defaults,
)

VALID = """
name = "test-theme"
primary = "#336699"
background = "#101010"
dark = true

[variables]
status-working = "#00ff00"
status-waiting = "#ffaa00"
status-idle = "#3399ff"
status-exited = "#777777"
status-failed = "#ff3333"
status-starting = "#aa88ff"
status-unknown = "#888888"
status-done = "#99cc66"
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_themes_load_with_every_status_colour() -> None:
    themes = {theme.name: theme for theme in load_themes(default_themes_dir())}
    assert {"quarterdeck-dark", "quarterdeck-light"} <= set(themes)
    assert themes["quarterdeck-dark"].dark is True
    assert themes["quarterdeck-light"].dark is False
    for theme in themes.values():
        for key in (
            "secondary",
            "accent",
            "foreground",
            "background",
            "surface",
            "panel",
            "success",
            "warning",
            "error",
        ):
            assert getattr(theme, key), f"{theme.name} lacks {key}"
        for variable in REQUIRED_VARIABLES:
            assert variable in theme.variables, f"{theme.name} lacks {variable}"


def test_valid_file_loads(tmp_path: Path) -> None:
    write(tmp_path, "mine.toml", VALID)
    (theme,) = load_themes(tmp_path)
    assert theme.name == "test-theme"
    assert theme.primary == "#336699"
    assert theme.variables["status-waiting"] == "#ffaa00"


@pytest.mark.parametrize(
    ("change", "key", "problem"),
    [
        (
            lambda t: t.replace('primary = "#336699"', 'primray = "#336699"'),
            "primray",
            "is not a theme key",
        ),
        (lambda t: t.replace('primary = "#336699"', ""), "primary", "is missing"),
        (lambda t: t.replace('"#101010"', '"not-a-colour"'), "background", "is not a colour"),
        (lambda t: t.replace("dark = true", 'dark = "yes"'), "dark", "must be true or false"),
        (
            lambda t: t.replace('status-idle = "#3399ff"\n', ""),
            "variables.status-idle",
            "is missing",
        ),
        (
            lambda t: t.replace('status-done = "#99cc66"', 'status-done = "greenish"'),
            "variables.status-done",
            "is not a colour",
        ),
        (
            lambda t: t.replace('status-done = "#99cc66"', "status-done = 7"),
            "variables.status-done",
            "must be a string",
        ),
    ],
)
def test_broken_file_names_the_file_and_the_key(
    tmp_path: Path, change: Callable[[str], str], key: str, problem: str
) -> None:
    path = write(tmp_path, "broken.toml", change(VALID))
    with pytest.raises(UsageError) as caught:
        load_themes(tmp_path)
    message = str(caught.value)
    assert str(path) in message
    assert repr(key) in message
    assert problem in message


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.toml", 'name = "x"\nprimary = \n')
    with pytest.raises(UsageError, match="not valid TOML") as caught:
        load_themes(tmp_path)
    assert str(path) in str(caught.value)


def test_duplicate_theme_names_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", VALID)
    second = write(tmp_path, "b.toml", VALID)
    with pytest.raises(UsageError, match="already defined") as caught:
        load_themes(tmp_path)
    assert str(second) in str(caught.value)


def test_empty_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"no \*\.toml theme files"):
        load_themes(tmp_path)


def test_builtin_themes_get_status_colours_from_their_palette() -> None:
    colours = BUILTIN_THEMES["nord"].to_color_system().generate()
    defaults = status_variable_defaults(colours)
    assert set(REQUIRED_VARIABLES) <= set(defaults)
    assert defaults["status-failed"] == colours["error"]
    assert defaults["status-waiting"] == colours["warning"]
