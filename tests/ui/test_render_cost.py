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


SENTENCE = (
    "streaming replies grow a few words at a time while the pane stays anchored at the "
    "bottom and every repaint costs the terminal bytes and the machine time"
)
WORDS = SENTENCE.split()


def _prose(paragraphs: int, words: int) -> str:
    return "\n\n".join(
        " ".join(WORDS[(p * 7 + i) % len(WORDS)] for i in range(words)) for p in range(paragraphs)
    )


async def test_a_streaming_reply_is_mostly_repainted_in_place(make_app, emulator, monkeypatch):
    """Each flush of a growing reply used to cost two full layouts of the screen (one for the
    new height, a second Textual asks for when a widget's virtual size changes). Now the block
    being written grows a few lines at a time and is repainted in place in between."""
    from tui_chat.emulator import Fault
    from tui_chat.ui.widgets.reply_body import ReplyBody

    from .conftest import send, wait_idle

    text = _prose(2, 90)
    emulator.tokens_per_second = 50  # under a line of text per flush
    emulator.add_fault(Fault("scripted_reply", text=text))
    layouts = 0
    at_flush: list[int] = []  # layouts so far, at each flush that showed new text
    original_flush = ReplyBody.flush

    def counting_flush(self) -> None:
        if self._pending:
            at_flush.append(layouts)
        original_flush(self)

    monkeypatch.setattr(ReplyBody, "flush", counting_flush)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        screen = app.screen
        original_layout = screen._refresh_layout

        def counting_layout(*args, **kwargs):
            nonlocal layouts
            layouts += not kwargs.get("scroll", args[1] if len(args) > 1 else False)
            return original_layout(*args, **kwargs)

        screen._refresh_layout = counting_layout
        await send(pilot, "Two long paragraphs, please")
        await wait_idle(pilot, app, timeout=20)
        screen._refresh_layout = original_layout
        assert app.conversation.messages[-1].content == text
    # While it streams (the start and the end change the footer and the title too):
    flushes = len(at_flush) - 3
    assert flushes >= 10, at_flush
    during = at_flush[-1] - at_flush[2]
    # Measured: 3 layouts in 24 flushes (it was two for each flush).
    assert during <= flushes * 0.6, (during, flushes)


async def test_the_keys_of_a_prompt_just_sent_do_not_slow_its_reply(make_app, emulator):
    """Replies repaint at TYPING_FPS while the user types; the prompt's own keys, up to the
    Enter that sent it, held the first half second of every reply to that rate (its first
    words reached the screen ~400 ms late)."""
    from tui_chat.emulator import Fault

    from .conftest import send, wait_idle

    emulator.tokens_per_second = 40
    stall = Fault("stall", after_tokens=5, seconds=10)
    emulator.add_fault(stall)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "Hello there")
        assert app.last_typed == 0.0
        await pilot.press("x")  # typing while it streams does count
        assert app.last_typed > 0.0
        stall.release()
        await wait_idle(pilot, app, timeout=20)


async def test_the_footer_has_its_keys_in_the_first_frame(make_app, monkeypatch):
    """Textual's Footer composes empty and fills itself a refresh and a recompose after the
    first change of bindings: the last thing of the start-up to appear (~130 ms late)."""
    from textual.widgets._footer import FooterKey

    from tui_chat.ui.widgets.footer import ReadyFooter

    app = make_app()
    composed: list[int] = []
    original = ReadyFooter.compose

    def counting(self):
        widgets = list(original(self))
        composed.append(sum(isinstance(w, FooterKey) for w in widgets))
        yield from widgets

    monkeypatch.setattr(ReadyFooter, "compose", counting)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        keys = [key.key for key in app.query(FooterKey)]
    assert composed and composed[0] > 0  # the very first compose already has the keys
    assert "ctrl+q" in keys
