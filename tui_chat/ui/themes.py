"""Themes from TOML files: the ones we ship, and the user's own.

Shipped themes live in the top-level `themes/` folder, which the wheel includes as
`tui_chat/themes`; an editable install has no such copy, so the loader looks in the package
first and falls back to the checkout. User themes come from `$XDG_CONFIG_HOME/tui-chat/themes/`.
A file that cannot be used is reported (which file, what is wrong) and skipped; the app then
falls back to a built-in theme instead of failing.
"""

from __future__ import annotations

import re
import stat
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from textual.color import Color, ColorParseError
from textual.theme import Theme

SHIPPED_DIRS = (
    Path(__file__).resolve().parent.parent / "themes",  # tui_chat/themes in a wheel
    Path(__file__).resolve().parent.parent.parent / "themes",  # the checkout's themes/
)
DEFAULT_THEME = "textual-dark"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_COLOURS = (
    "primary",
    "secondary",
    "warning",
    "error",
    "success",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
)
_KNOWN = {f.name for f in fields(Theme)}


class ThemeError(Exception):
    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


@dataclass
class ThemeSet:
    themes: list[Theme] = field(default_factory=list)
    problems: list[ThemeError] = field(default_factory=list)


def _colour(path: Path, key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ThemeError(path, f"{key} must be a colour string, not {type(value).__name__}")
    try:
        Color.parse(value)
    except ColorParseError:
        raise ThemeError(path, f"{key} = {value!r} is not a colour") from None
    return value


#: A theme is a few dozen lines; anything larger is not one (and is not read into memory).
MAX_THEME_BYTES = 64 * 1024


def load_theme(path: Path) -> Theme:
    """One theme file as a Textual Theme; ThemeError says what is wrong."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise ThemeError(path, "is not a regular file")
        if info.st_size > MAX_THEME_BYTES:
            raise ThemeError(path, f"is too large ({info.st_size} bytes; a theme is a few lines)")
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ThemeError(path, f"cannot be read ({error.strerror})") from None
    except UnicodeDecodeError:
        raise ThemeError(path, "is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        raise ThemeError(path, f"is not valid TOML ({error})") from None
    unknown = sorted(set(data) - _KNOWN)
    if unknown:
        raise ThemeError(path, f"unknown key {unknown[0]!r} (known: {', '.join(sorted(_KNOWN))})")
    name = data.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ThemeError(path, "name must be lowercase letters, digits, - or _ (e.g. 'harbor')")
    if "primary" not in data:
        raise ThemeError(path, "primary (a colour) is required")
    values: dict[str, Any] = {"name": name}
    for key in _COLOURS:
        if key in data:
            values[key] = _colour(path, key, data[key])
    for key in ("dark", "ansi"):
        if key in data:
            if not isinstance(data[key], bool):
                raise ThemeError(path, f"{key} must be true or false")
            values[key] = data[key]
    for key in ("luminosity_spread", "text_alpha"):
        if key in data:
            value = data[key]
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise ThemeError(path, f"{key} must be a number from 0 to 1")
            values[key] = float(value)
    variables = data.get("variables", {})
    if not isinstance(variables, dict):
        raise ThemeError(path, "[variables] must be a table of name = value strings")
    for key, value in variables.items():
        if not isinstance(value, str):
            raise ThemeError(path, f"variables.{key} must be a string")
    values["variables"] = dict(variables)
    return Theme(**values)


def load_folder(folder: Path) -> ThemeSet:
    found = ThemeSet()
    try:
        paths = sorted(folder.glob("*.toml"))
    except OSError:
        return found
    for path in paths:
        try:
            found.themes.append(load_theme(path))
        except ThemeError as error:
            found.problems.append(error)
    return found


def shipped_folder() -> Path | None:
    for folder in SHIPPED_DIRS:
        if folder.is_dir() and any(folder.glob("*.toml")):
            return folder
    return None


def load_all(user_folder: Path | None) -> ThemeSet:
    """Our themes, then the user's (a user theme with the same name wins)."""
    result = ThemeSet()
    folder = shipped_folder()
    for source in (folder, user_folder):
        if source is None:
            continue
        found = load_folder(source)
        result.themes.extend(found.themes)
        result.problems.extend(found.problems)
    return result
