"""Choosing and applying themes in the running app: ours and the user's are registered (a file
Textual could not use is reported and skipped), and the one applied is --theme, else the last
choice, else config.toml's, else the default. Code blocks follow the theme's surface colour."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.color import Color, ColorParseError
from textual.theme import Theme

from tui_chat.ui.themes import DEFAULT_THEME, check_variables, load_all
from tui_chat.ui.widgets.message_view import MessageView

if TYPE_CHECKING:
    from pathlib import Path

    from textual.app import App


class Themes:
    """The app's themes: what is registered, what could not be used, what was applied."""

    def __init__(self, app: App, say) -> None:
        self.app = app
        self.say = say
        self._problems: dict[str, str | None] = {}
        #: The theme applied, not chosen (a --theme for one run is not remembered).
        self.applied: str | None = None
        self.ready = False

    def register(self, folder: Path | None, wanted: list[str | None]) -> None:
        """Register our themes and the user's, then apply the first of `wanted` known."""
        found = load_all(folder)
        self._problems.update(dict.fromkeys(found.trusted))  # None: nothing wrong
        for theme in found.themes:
            if self.problem(theme) is None:
                self.app.register_theme(theme)
        for problem in found.problems:
            self.say(
                f"Theme file {problem.path} was skipped: {problem.reason}",
                severity="warning",
                timeout=10,
            )
        for name in [*wanted, DEFAULT_THEME]:
            if not name:
                continue
            if name in self.app.available_themes:
                self.applied = name
                self.app.theme = name
                break
            self.say(
                f"Unknown theme “{name}”; using another. Themes: "
                + ", ".join(sorted(self.app.available_themes)),
                severity="warning",
                timeout=10,
            )
        self.ready = True

    def problem(self, theme: Theme) -> str | None:
        """Why Textual could not use this theme (said once, naming it), or None. The loader
        already refuses such files; this is the safety net for a theme got any other way."""
        if theme.name not in self._problems:
            self._problems[theme.name] = problem = check_variables(theme)
            if problem:
                self.say(
                    f"Theme “{theme.name}” cannot be used: {problem}",
                    severity="warning",
                    timeout=10,
                )
        return self._problems[theme.name]

    def usable(self, name: str, current: str | None) -> str:
        """`name`, or when that theme would stop the app (a bad variable) the current one (the
        default at start)."""
        theme = self.app.get_theme(name)
        if theme is not None and self.problem(theme):
            return current if current and current != name else DEFAULT_THEME
        return name

    def chosen(self, name: str) -> bool:
        """Whether the user chose `name` (not applied at start): it is remembered."""
        chosen = name != self.applied
        if chosen and self.ready:
            self.applied = None  # from now on every change is the user's
        return chosen and self.ready

    def refresh_code_style(self) -> None:
        """Code blocks in the current theme's colours: the open conversation is shown again
        when they change."""
        app: Any = self.app
        views = app.query(MessageView)
        style = self.code_style()
        if views and views.first().code_style != style:
            views.first().code_style = style
            app.call_after_refresh(app.show, app.conversation)

    def code_style(self) -> tuple[str, str]:
        """Pygments style and background for code blocks in the current theme."""
        theme = self.app.current_theme
        if theme.name.startswith("ansi") or getattr(theme, "ansi", False):
            return ("ansi_dark" if theme.dark else "ansi_light", "default")
        variables = self.app.theme_variables
        name = "surface-lighten-1" if theme.dark else "surface-darken-1"
        return ("monokai" if theme.dark else "default", _solid(variables, name))


def _solid(variables: dict[str, str], name: str) -> str:
    """A theme colour as #rrggbb for code blocks: a semi-transparent one is blended onto the
    background (Rich's Syntax takes no alpha), anything unreadable is the terminal's own."""
    try:
        colour = Color.parse(variables.get(name, ""))
        if colour.a < 1:
            colour = Color.parse(variables.get("background", "#000000")).blend(colour, colour.a)
    except (ColorParseError, ValueError):
        return "default"
    return colour.hex6
