"""The footer, with its keys in the app's first frame.

Textual's Footer composes empty and fills itself only after the screen's first change of
bindings (the first focus), a refresh and a recompose later: on this app ~130 ms after the
first frame, the last thing of the start-up to appear. This one composes with the keys active
when it is mounted (the app's and the screen's) and follows every later change as Textual's
does."""

from __future__ import annotations

from textual.widgets import Footer


class ReadyFooter(Footer):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.set_reactive(Footer._bindings_ready, True)
