"""How the app reaches the terminal: its driver (ui/driver.py) and one line filter that keeps
control characters from any widget off the terminal (ui/line_filter.py). ChatApp inherits it."""

from __future__ import annotations

from textual.app import App

from tui_chat.ui.driver import driver_class
from tui_chat.ui.line_filter import NoControlCharacters


class Drawing(App):
    _no_controls = NoControlCharacters()  # replaced (per app) when Textual's filters change

    def get_line_filters(self):
        """One filter: it removes any control character from every line, then runs Textual's."""
        textual_filters = tuple(super().get_line_filters())
        if self._no_controls.then != textual_filters:  # a theme or NO_COLOR changed them
            self._no_controls = NoControlCharacters(textual_filters)
        return [self._no_controls]

    def get_driver_class(self):
        return driver_class(super().get_driver_class())
