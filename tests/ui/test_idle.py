"""Left alone, the app writes nothing: the prompt's cursor stops blinking after a pause
without keys (it stays shown) and blinks again as soon as something is typed or pasted.
(How many bytes and how much CPU idle costs is measured by `make bench`: idle_bytes_per_s.)"""

from __future__ import annotations

from textual import events

from tests.ui.conftest import wait_for
from tui_chat.ui.widgets import prompt as prompt_module
from tui_chat.ui.widgets.prompt import PromptInput


async def test_the_cursor_stops_blinking_once_nothing_is_typed(make_app, monkeypatch):
    monkeypatch.setattr(prompt_module, "STILL_AFTER", 0.05)
    app = make_app()
    async with app.run_test() as pilot:
        prompt = app.query_one(PromptInput)
        await wait_for(pilot, lambda: not prompt.cursor_blink, timeout=10)
        assert prompt._cursor_visible  # shown, not caught hidden mid-blink
        await pilot.press("a")
        assert prompt.text == "a"
        await wait_for(pilot, lambda: not prompt.cursor_blink, timeout=10)


async def test_a_key_or_a_paste_makes_it_blink_again_and_a_recent_key_puts_the_pause_off(
    make_app,
):
    app = make_app()
    async with app.run_test() as pilot:
        prompt = app.query_one(PromptInput)
        prompt._last_key -= prompt_module.STILL_AFTER  # as if nothing was typed for a while
        prompt._hold_cursor()
        assert not prompt.cursor_blink
        await pilot.press("a")
        assert prompt.cursor_blink and prompt._still is not None
        prompt._hold_cursor()  # the timer's turn comes right after a key: not yet
        assert prompt.cursor_blink and prompt._still is not None
        prompt._last_key -= prompt_module.STILL_AFTER
        prompt._hold_cursor()
        assert not prompt.cursor_blink
        prompt.post_message(events.Paste("pasted"))
        await pilot.pause()
        assert prompt.cursor_blink and prompt.text.endswith("pasted")


async def test_a_cursor_caught_hidden_mid_blink_is_shown_when_the_blinking_stops(make_app):
    app = make_app()
    async with app.run_test() as pilot:
        prompt = app.query_one(PromptInput)
        await pilot.pause()
        assert prompt.has_focus
        prompt._toggle_cursor_blink_visible()
        if prompt._cursor_visible:
            prompt._toggle_cursor_blink_visible()
        assert not prompt._cursor_visible
        prompt._last_key -= prompt_module.STILL_AFTER
        prompt._hold_cursor()
        assert not prompt.cursor_blink and prompt._cursor_visible
        assert not prompt.blink_timer._active.is_set()  # paused: nothing wakes to blink
