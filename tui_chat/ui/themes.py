"""Themes from TOML files: the ones we ship, and the user's own.

Shipped themes live in the top-level `themes/` folder, which the wheel includes as
`tui_chat/themes`; an editable install has no such copy, so the loader looks in the package
first and falls back to the checkout. User themes come from `$XDG_CONFIG_HOME/tui-chat/themes/`.
A file that cannot be used is reported (which file, what is wrong) and skipped; the app then
falls back to a built-in theme instead of failing.

A theme's [variables] go straight into Textual's CSS (`color: $footer-key-foreground;`), where a
bad value is a stylesheet error the moment the theme is applied (and, once state.toml remembers
the theme, at every start). So a theme's variables are checked the way Textual would use them:
its colour system is generated, and every declaration of the app's CSS (Textual's widgets and
ours) that uses a variable the theme changes is parsed with them (see check_variables).
"""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil
import re
import stat
from dataclasses import dataclass, field, fields
from pathlib import Path, PurePath
from typing import Any

from textual.color import Color, ColorParseError
from textual.css.stylesheet import Stylesheet, StylesheetParseError
from textual.css.tokenize import tokenize_value
from textual.dom import DOMNode
from textual.theme import BUILTIN_THEMES, Theme

from tui_chat.files import DocumentError, loads_toml

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
    #: Names of themes whose variables need no check at start: Textual's own and ours (make
    #: test checks each of them), unless a user's file of the same name replaces it.
    trusted: set[str] = field(default_factory=set)


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


def load_theme(path: Path, check: bool = True) -> Theme:
    """One theme file as a Textual Theme; ThemeError says what is wrong. `check=False` leaves
    out the [variables] check (check_variables), for our own themes, tested in make test."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise ThemeError(path, "is not a regular file")
        if info.st_size > MAX_THEME_BYTES:
            raise ThemeError(path, f"is too large ({info.st_size} bytes; a theme is a few lines)")
        data = loads_toml(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ThemeError(path, f"cannot be read ({error.strerror})") from None
    except UnicodeDecodeError:
        raise ThemeError(path, "is not UTF-8 text") from None
    except DocumentError as error:
        raise ThemeError(path, error.reason) from None
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
    theme = Theme(**values)
    problem = check_variables(theme) if check else None
    if problem:
        raise ThemeError(path, problem)
    return theme


# ---------------------------------------------------------------------------------------------
# Checking [variables] as Textual uses them
#
# Textual's ColorSystem.generate() makes every variable (design.py); a theme's [variables]
# replace some, and generate() itself parses a few of them (the background and primary shades)
# to derive others, or copies them (link-color is $text unless set). All of them are colours
# (a colour, an optional alpha such as "50%", "auto 87%" for text, "transparent", "initial")
# except the text styles ("bold", "b reverse", "not underline", ...), whose names end in
# "-style". Where a value is allowed depends on the property using it: "auto" is a colour only
# for text (`color`), "initial" only as a whole value, and any of them may be followed by another
# alpha ("$text 60%"). So the check is Textual's own parser, on the declarations that use each
# variable, collected once from the default CSS of every widget and screen and the app's files.


def check_variables(theme: Theme) -> str | None:
    """Why Textual could not use this theme's [variables] (naming the variable and its value),
    or None when every declaration of the app's CSS that uses them parses with them."""
    for name, value in theme.variables.items():
        if not value.strip():
            return f"variables.{name} is empty"
        try:
            list(tokenize_value(value, ("__name__", "")))
        except Exception:
            return f"variables.{name} = {value!r} is not a value Textual's CSS can read"
    try:
        variables = _css_variables(theme)
    except Exception as error:
        # generate() parses some variables as colours: find the one it could not.
        for name, value in theme.variables.items():
            try:
                _css_variables(_with_variables(theme, {name: value}))
            except Exception as single:
                return _not_usable(theme, name, str(single))
        return f"variables: Textual cannot make the theme's colours with them ({error})"
    if not theme.variables:
        return None  # made by Textual from colours already checked
    plain = _css_variables(_with_variables(theme, {}))
    changed = {name for name, value in variables.items() if plain.get(name) != value}
    uses = _uses()
    declarations = sorted({d for name in changed for d in uses.get(name, ())})
    if not declarations:
        return None
    # One rule per declaration, so an error says which declaration (and so which variable).
    css = "\n".join(f"#d{n} {{ {text}; }}" for n, text in enumerate(declarations))
    stylesheet = Stylesheet(variables=variables)
    stylesheet.add_source(css, read_from=("theme variables", ""), is_default_css=True)
    try:
        stylesheet.parse()
    except StylesheetParseError as error:
        for rule in error.errors.rules:
            for token, message in rule.errors:
                detail = _MARKUP.sub("", str(message)).split("\n")[0].strip()
                if token.referenced_by is not None:
                    return _not_usable(theme, token.referenced_by.name, detail)
                text = declarations[int(next(iter(rule.selector_names))[2:])]
                culprit = min(set(_REFERENCE.findall(text)) & changed)
                return _not_usable(theme, culprit, detail)
        return "variables: Textual's CSS does not parse with them"
    except Exception as error:
        return f"variables: Textual's CSS does not parse with them ({error})"
    return None


def _css_variables(theme: Theme) -> dict[str, str]:
    """The CSS variables Textual makes of a theme (as App.get_css_variables does)."""
    return {**theme.to_color_system().generate(), **theme.variables}


def _with_variables(theme: Theme, variables: dict[str, str]) -> Theme:
    return Theme(
        **{**{f.name: getattr(theme, f.name) for f in fields(Theme)}, "variables": variables}
    )


def _not_usable(theme: Theme, name: str, detail: str) -> str:
    if name not in theme.variables:
        # A variable Textual copies from one the theme sets (link-color from text, say).
        value = _css_variables(theme).get(name)
        name = next((k for k, v in theme.variables.items() if v == value), name)
    value = theme.variables.get(name, "")
    what = "a text style" if name.endswith("-style") else "a colour"
    detail = detail[:1].lower() + detail[1:]
    return f"variables.{name} = {value!r} is not {what} Textual can use ({detail})"


_REFERENCE = re.compile(r"\$([A-Za-z0-9_-]+)")
_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_DECLARATION = re.compile(r"(?<![\w-])([a-z][a-z0-9-]*)\s*:\s*([^;{}]*\$[^;{}]*)")
_MARKUP = re.compile(r"\[/?(?:i|b|bold|italic|dim)?\]")  # in Textual's error messages


@functools.cache
def _uses() -> dict[str, frozenset[str]]:
    """Variable name -> every declaration ("background: $panel 50%") that uses it, in the
    default CSS of each widget and screen the app has (loading them all first) and the app's
    CSS files: what Textual parses with a theme's variables."""
    import tui_chat.ui

    for module in pkgutil.walk_packages(tui_chat.ui.__path__, "tui_chat.ui."):
        try:
            importlib.import_module(module.name)
        except Exception:
            continue  # a module that does not load never shows its widgets either
    sources: list[str] = []
    classes = [DOMNode]
    seen: set[type] = set()
    while classes:
        cls = classes.pop()
        if cls in seen:
            continue
        seen.add(cls)
        classes.extend(cls.__subclasses__())
        for attribute in ("DEFAULT_CSS", "CSS"):
            css = cls.__dict__.get(attribute)
            if isinstance(css, str):
                sources.append(css)
        paths = cls.__dict__.get("CSS_PATH")
        for css_path in [paths] if isinstance(paths, str | PurePath) else paths or ():
            try:
                sources.append((Path(inspect.getfile(cls)).parent / css_path).read_text("utf-8"))
            except (OSError, TypeError, UnicodeDecodeError):
                continue
    uses: dict[str, set[str]] = {}
    for css in sources:
        for prop, value in _DECLARATION.findall(_COMMENT.sub("", css)):
            text = f"{prop}: {' '.join(value.split())}"
            for name in _REFERENCE.findall(value):
                uses.setdefault(name, set()).add(text)
    return {name: frozenset(texts) for name, texts in uses.items()}


def load_folder(folder: Path, check: bool = True) -> ThemeSet:
    found = ThemeSet()
    try:
        paths = sorted(folder.glob("*.toml"))
    except OSError:
        return found
    for path in paths:
        try:
            found.themes.append(load_theme(path, check))
        except ThemeError as error:
            found.problems.append(error)
    return found


def shipped_folder() -> Path | None:
    for folder in SHIPPED_DIRS:
        if folder.is_dir() and any(folder.glob("*.toml")):
            return folder
    return None


def load_all(user_folder: Path | None) -> ThemeSet:
    """Our themes, then the user's (a user theme with the same name wins). Checking a theme's
    [variables] parses every declaration of the app's CSS that uses them (a tenth of a second
    at start, importing every screen first): ours and Textual's are checked by make test
    instead, the user's here."""
    result = ThemeSet(trusted=set(BUILTIN_THEMES))
    folder = shipped_folder()
    for source, ours in ((folder, True), (user_folder, False)):
        if source is None:
            continue
        found = load_folder(source, check=not ours)
        result.themes.extend(found.themes)
        result.problems.extend(found.problems)
        names = {theme.name for theme in found.themes}
        result.trusted = result.trusted | names if ours else result.trusted - names
    return result
