"""What drawing costs: the work the app asks of Textual while a reply streams, counted (never
timed), and the one line filter every line goes through."""

from __future__ import annotations

from textual.filter import Monochrome

from tui_chat.ui.line_filter import NoControlCharacters


async def test_the_app_gives_textual_one_filter_that_wraps_its_own(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        textual_own = [f for f in app._filters if f.enabled]
        (only,) = app.get_line_filters()
        assert isinstance(only, NoControlCharacters)
        assert list(only.then) == textual_own
        assert app.get_line_filters()[0] is only  # the same object: Textual's caches hold
        app._filters.append(Monochrome())  # as NO_COLOR or a theme change would
        (changed,) = app.get_line_filters()
        assert changed is not only and changed.then[-1] is app._filters[-1]
