"""Typing at the extremes: characters Textual drops, and typing after a huge paste.

1. Characters that are text though Python's `str.isprintable()` says no (a zero-width joiner, a
   no-break space, an emoji newer than this Python...): Textual's `Input` and `TextArea` drop
   them when typed, the prompt and `OrderedInput` keep them (`typed_text` in keys.py). The
   pty tests in test_burst_keys.py type them through a real terminal; these check the rule
   and its edges.
2. Typing after a 1 MB single-line paste (prompt.py, prompt_wrap.py). Nothing here measures
   time: the prompt's own wrapping, cursor, word, bracket and drawing paths are checked to give
   exactly what Textual's give, the work a key does after the paste is counted (it does not
   grow with the line), and the text is checked to be kept whole, in the draft and in the
   request.
"""

from __future__ import annotations

import os
import random
import tomllib

import pytest
from rich.text import Text
from textual import events
from textual._wrap import compute_wrap_offsets
from textual._xterm_parser import XTermParser
from textual.app import App, ComposeResult
from textual.document._wrapped_document import WrappedDocument
from textual.widgets import Input, TextArea

import tui_chat.ui.widgets.prompt_wrap as wrap_module
from tests.reliability.conftest import (  # noqa: F401 - pty_apps is a fixture
    emulator_env,
    pty_apps,
)
from tests.ui.test_burst_keys import wait_until_shown
from tui_chat.ui.widgets.keys import OrderedInput, typed_text
from tui_chat.ui.widgets.prompt import PromptInput
from tui_chat.ui.widgets.prompt_wrap import PromptWrap, rewrap_line, wrap_ascii

from .conftest import wait_for

# -- 1. characters Textual drops ---------------------------------------------------------------

ZWJ_FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"

#: (character, kept when typed): what `typed_text` says of a key with that character.
CHARACTERS = [
    ("\u200d", True),  # zero width joiner (Cf)
    ("\u200b", True),  # zero width space (Cf)
    ("\u200c", True),  # zero width non-joiner (Cf)
    ("\u2060", True),  # word joiner (Cf)
    ("\u200e", True),  # left-to-right mark (Cf)
    ("\U000e0067", True),  # tag latin small letter g, in a subdivision flag (Cf)
    ("\ufe0f", True),  # variation selector 16 (Mn: printable to Python already)
    ("\u00a0", True),  # no-break space (Zs): option+space on a Mac
    ("\u3000", True),  # ideographic space (Zs): a Japanese input method's space
    ("\ue000", True),  # private use (Co): an icon font's glyph
    ("\U0001fae8", True),  # shaking face, Unicode 15: unassigned (Cn) to Python 3.11
    ("a", True),
    ("\x01", False),  # ctrl+a
    ("\t", False),  # tab
    ("\x7f", False),  # backspace
    ("\u2028", False),  # line separator
    ("\u2029", False),  # paragraph separator
]


@pytest.mark.parametrize(("character", "kept"), CHARACTERS, ids=lambda value: repr(value))
def test_typed_text_keeps_what_is_text(character, kept):
    (key,) = XTermParser().feed(character)  # what the driver makes of the character
    assert key.character == character
    assert (typed_text(key.key, key.character) == character) is kept
    # with a modifier, a key types no more than Textual would have it type
    assert typed_text("alt+" + key.key, character) == (
        character if character.isprintable() else None
    )


def test_why_textual_drops_them():
    """The driver passes a zero-width joiner on as a key with its character, but
    `Key.is_printable` is `str.isprintable()`, False for format characters, spaces other than
    the ASCII space, private use and unassigned code points; `Input._on_key` and
    `TextArea._on_key` insert only printable keys."""
    keys = list(XTermParser().feed("a" + ZWJ_FAMILY[:2]))
    assert [(key.key, key.character, key.is_printable) for key in keys] == [
        ("a", "a", True),
        ("man", "\U0001f468", True),
        ("zero_width_joiner", "\u200d", False),
    ]
    assert typed_text("modifier", None) is None
    assert typed_text("ab", "ab") is None  # one character a key


async def type_text(pilot, text: str) -> None:
    """Each character as the driver makes it a key (`pilot.press` finds no character for a
    key named zero_width_joiner or no_break_space), posted to the app as the driver does."""
    for key in XTermParser().feed(text):
        pilot.app.post_message(key)
        await pilot.pause()


class Fields(App):
    def compose(self) -> ComposeResult:
        yield PromptInput(id="prompt")
        yield OrderedInput(id="field")
        yield OrderedInput(id="number", type="integer")
        yield TextArea(id="plain-area")
        yield Input(id="plain-input")


TYPED = ["a" + ZWJ_FAMILY + "b", "x\u200by", "\u2764\ufe0f", "no\u00a0break\u3000\U0001fae8\ue000"]


@pytest.mark.parametrize("text", TYPED, ids=["family", "zwsp", "vs16", "spaces-new-emoji-pua"])
async def test_typed_characters_are_kept_where_textual_drops_them(text):
    app = Fields()
    async with app.run_test() as pilot:
        for name in ("#prompt", "#field", "#plain-area", "#plain-input"):
            app.query_one(name).focus()
            await type_text(pilot, text)
        assert app.query_one("#prompt", PromptInput).text == text
        assert app.query_one("#field", OrderedInput).value == text
        # Textual alone keeps what `str.isprintable` passes: all of "\u2764\ufe0f" (the
        # selector is a mark), none of the joiners or spaces
        kept = "".join(c for c in text if c.isprintable())
        assert app.query_one("#plain-area", TextArea).text == kept
        assert app.query_one("#plain-input", Input).value == kept


async def test_typed_characters_go_through_the_widgets_own_insert():
    """A typed zero-width character replaces a selection, respects an Input's type, and a
    read-only prompt takes none; the widget says it consumes such keys (so the footer hides
    an app binding on them), unless read-only."""
    app = Fields()
    async with app.run_test() as pilot:
        prompt = app.query_one("#prompt", PromptInput)
        prompt.focus()
        await pilot.press(*"abc", "shift+left")
        await type_text(pilot, "\u200d")
        assert prompt.text == "ab\u200d"
        assert prompt.check_consume_key("zero_width_joiner", "\u200d")
        prompt.read_only = True
        await type_text(pilot, "\u200b")
        assert prompt.text == "ab\u200d"
        assert not prompt.check_consume_key("zero_width_joiner", "\u200d")
        number = app.query_one("#number", OrderedInput)
        number.focus()
        await type_text(pilot, "1\u200d\u00a02")
        assert number.value == "12"


# -- 2. typing after a huge paste: the prompt's paths give what Textual's give ----------------

WORDS = ["a", "bb", "ccc", "lorem", "ipsum", "x" * 30, " ", "  ", "-", ".", "{", "}", "(", ")"]
WIDE = ["\u6f22", "\u3000", "\U0001f468", "\u00e9", "e\u0301", "\u200b", "\u00a0"]
CLUSTERS = ["\u200d", "\ufe0f", "\u2764", ZWJ_FAMILY, "\u200d\u200d"]


def random_line(rng: random.Random, alphabet: list[str], words: int) -> str:
    line = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, words)))
    if rng.random() < 0.15:  # a long run of one word, or of spaces: folded rows
        line += rng.choice([*alphabet[:4], " "]) * rng.randint(0, 300)
    return line


def test_wrap_ascii_is_textuals_wrap():
    rng = random.Random(1)
    ascii_words = [word for word in WORDS if word.isascii()]
    for _ in range(3000):
        width = rng.choice([1, 2, 3, 5, 8, 13, 40, 117])
        text = random_line(rng, ascii_words, 80)
        if rng.random() < 0.1:
            text = " " * rng.randint(1, 20) + text
        assert wrap_ascii(text, width) == compute_wrap_offsets(text, width, 4), (text, width)


@pytest.mark.parametrize(
    "alphabet", [WORDS, WORDS + WIDE, WORDS + WIDE + CLUSTERS], ids=["ascii", "wide", "clusters"]
)
def test_rewrap_after_an_edit_is_a_whole_rewrap(alphabet):
    """The offsets worked out near an edit are those of a wrap of the whole edited line: for
    inserts, deletes and replacements anywhere, in words, folded runs and wide characters,
    including the zero-width joiner and variation selector that rich measures as clusters."""
    rng = random.Random(len(alphabet))
    for _ in range(2500):
        width = rng.choice([1, 2, 3, 5, 8, 13, 40])
        line = random_line(rng, alphabet, 200 if rng.random() < 0.2 else 40)
        start = rng.randint(0, len(line))
        end = rng.randint(start, min(len(line), start + rng.choice([0, 1, 1, 3, 40])))
        insert = "".join(rng.choice(alphabet) for _ in range(rng.choice([0, 1, 1, 1, 2, 6])))
        edited = line[:start] + insert + line[end:]
        offsets = compute_wrap_offsets(line, width, 4)
        got = rewrap_line(edited, offsets, start, end, start + len(insert), width, 4)
        assert got == compute_wrap_offsets(edited, width, 4), (line, width, start, end, insert)


class OnePrompt(App):
    CSS = "PromptInput { max-height: 12; }"

    def compose(self) -> ComposeResult:
        yield PromptInput(id="prompt")


def textual_wrap(prompt: PromptInput) -> WrappedDocument:
    wrapped = WrappedDocument(prompt.document, tab_width=prompt.indent_width)
    wrapped.wrap(prompt.wrap_width, prompt.indent_width)
    return wrapped


def assert_wrapped_as_textual(prompt: PromptInput, rng: random.Random) -> None:
    """The prompt's wrapped document is Textual's own wrap of the same text, and answers
    cursor questions as Textual's does."""
    ours = prompt.wrapped_document
    theirs = textual_wrap(prompt)
    assert isinstance(ours, PromptWrap)
    assert ours._wrap_offsets == theirs._wrap_offsets
    assert ours._offset_to_line_info == theirs._offset_to_line_info
    assert ours._line_index_to_offsets == theirs._line_index_to_offsets
    assert ours._tab_width_cache == theirs._tab_width_cache
    assert ours.height == theirs.height
    for row, line in enumerate(prompt.document.lines):
        assert ours.get_sections(row) == theirs.get_sections(row)
        for column in {0, len(line), *(rng.randint(0, len(line)) for _ in range(6))}:
            assert ours.location_to_offset((row, column)) == theirs.location_to_offset(
                (row, column)
            )
        sections = len(theirs.get_offsets(row)) + 1
        for section in {0, sections - 1, -1, rng.randrange(sections)}:
            x = rng.randint(0, prompt.wrap_width + 2)
            assert ours.get_target_document_column(
                row, x, section
            ) == theirs.get_target_document_column(row, x, section)


async def test_the_prompts_wrap_follows_every_edit_as_textuals(monkeypatch):
    """With every line taken as long, the prompt's wrapping, row bookkeeping and cursor
    answers stay Textual's through typing, deleting, words, pastes with newlines, undo and
    redo, on lines of words, wide characters, clusters and tabs."""
    monkeypatch.setattr(PromptWrap, "long_line", 1)
    rewraps = []

    def counted(*args):
        rewraps.append(args[0])
        return rewrap_line(*args)

    monkeypatch.setattr(wrap_module, "rewrap_line", counted)
    rng = random.Random(7)
    alphabet = WORDS + WIDE + CLUSTERS
    app = OnePrompt()
    async with app.run_test(size=(50, 20)) as pilot:
        prompt = app.query_one(PromptInput)
        lines = [random_line(rng, alphabet, 60) for _ in range(3)]
        prompt.load_text("\n".join([*lines, random_line(rng, [*alphabet, "\t"], 30)]))
        await pilot.pause()
        assert_wrapped_as_textual(prompt, rng)
        keys = ["x", "space", "backspace", "delete", "ctrl+w", "left", "right", "up", "down"]
        keys += ["home", "end", "ctrl+z", "ctrl+shift+z", "ctrl+j", "ctrl+k", "ctrl+u"]
        for step in range(70):
            row = rng.randrange(prompt.document.line_count)
            prompt.move_cursor((row, rng.randint(0, len(prompt.document[row]))))
            if step % 9 == 0:
                prompt.insert(random_line(rng, alphabet, 8) + rng.choice(["", "\n", "\n\n"]))
            elif step % 7 == 0:
                start = prompt.cursor_location
                prompt.delete(start, (start[0], start[1] + rng.randint(1, 30)))
            else:
                await pilot.press(*rng.choices(keys, k=rng.randint(1, 3)))
                await type_text(pilot, rng.choice(alphabet)[:3])
            assert_wrapped_as_textual(prompt, rng)
    assert len(rewraps) > 50  # most edits took the prompt's own path


def rows(prompt: PromptInput) -> list:
    """Every row of the prompt as drawn by its own `_render_line` and by Textual's."""
    drawn = []
    for y in range(prompt.size.height):
        ours = prompt._render_line(y)
        theirs = TextArea._render_line(prompt, y)
        drawn.append((list(ours), ours.cell_length, list(theirs), theirs.cell_length))
    return drawn


LONG_LINES = {
    "words": ("lorem ipsum (dolor) sit amet, " * 600)[:15_000],
    "folded": "QUJDREVGR0hJSktM" * 900,
    "wide-tabs-clusters": ("\u6f22\u5b57 tab\there " + ZWJ_FAMILY + " \u2764\ufe0f x ") * 600,
}


@pytest.mark.parametrize("name", LONG_LINES)
async def test_a_long_line_is_drawn_as_textual_draws_it(name):
    """Each row of a long line, drawn from its own section, is what Textual draws from the
    whole line: with the cursor at its end, in the middle on a bracket, a selection across
    rows and lines, line numbers, scrolled, and without focus."""
    text = "short first line\n" + LONG_LINES[name] + "\nlast"
    app = OnePrompt()
    async with app.run_test(size=(70, 20)) as pilot:
        prompt = app.query_one(PromptInput)
        prompt.load_text(text)
        await pilot.pause()
        assert prompt.wrapped_document.is_long(prompt.document[1])
        middle = len(prompt.document[1]) // 2
        bracket = prompt.document[1].find("(", middle)
        states = [
            lambda: prompt.move_cursor((1, len(prompt.document[1]))),
            lambda: prompt.move_cursor((1, bracket if bracket >= 0 else middle)),
            lambda: prompt.select_line(1),
            lambda: prompt.move_cursor((2, 2), select=True),
            lambda: setattr(prompt, "selection", prompt.selection.cursor((1, middle))),
            lambda: setattr(prompt, "show_line_numbers", True),
            lambda: prompt.scroll_to(y=3, animate=False),
            lambda: app.set_focus(None),
        ]
        for state in states:
            state()
            await pilot.pause()
            for ours, our_width, theirs, their_width in rows(prompt):
                assert (ours, our_width) == (theirs, their_width)


async def test_word_and_bracket_searches_answer_as_textuals():
    """ctrl+w, ctrl+left/right, delete word right and bracket matching, found without
    walking the whole line, land where Textual's land."""
    rng = random.Random(3)
    alphabet = WORDS + WIDE + ["[", "]", "\u6f22", "_", "\t"]
    app = OnePrompt()
    async with app.run_test(size=(60, 20)) as pilot:
        prompt = app.query_one(PromptInput)
        prompt.load_text("\n".join(random_line(rng, alphabet, 400) for _ in range(3)))
        await pilot.pause()
        for row, line in enumerate(prompt.document.lines):
            for column in {0, len(line), *(rng.randint(0, len(line)) for _ in range(40))}:
                prompt.move_cursor((row, column))
                assert prompt.get_cursor_word_left_location() == (
                    TextArea.get_cursor_word_left_location(prompt)
                )
                assert prompt.get_cursor_word_right_location() == (
                    TextArea.get_cursor_word_right_location(prompt)
                )
                character = line[column] if column < len(line) else ""
                assert prompt.find_matching_bracket(character, (row, column)) == (
                    TextArea.find_matching_bracket(prompt, character, (row, column))
                )
        for _ in range(30):
            row = rng.randrange(prompt.document.line_count)
            prompt.move_cursor((row, rng.randint(0, len(prompt.document[row]))))
            before, location = prompt.text, prompt.cursor_location
            prompt.action_delete_word_right()
            ours = prompt.text
            prompt.load_text(before)
            prompt.move_cursor(location)
            TextArea.action_delete_word_right(prompt)
            assert ours == prompt.text


# -- 2. typing after a huge paste: the work of a key, and the text kept whole ----------------

MEGABYTE = 1_000_000


def paste_text(size: int) -> str:
    """`size` characters on one line, of words of varied lengths (so that, as in prose, an edit
    moves the rows after it for a few rows at most), ending in END."""
    rng = random.Random(size)
    words = ["a", "an", "the", "of", "lorem", "ipsum", "(dolor)", "sit", "amet,", "elit."]
    words += ["consectetur", "[" + "x" * 12 + "]", "supercalifragilistic", "0123456789abcdef"]
    text = " ".join(rng.choices(words, k=size // 5))
    return text[: size - 3] + "END"


class WorkCounter:
    """Counts the characters that a key makes Python-level code go through: wrapped (by the
    prompt's wrap, Textual's or both), turned into rich `Text` and cut by `Text.divide`."""

    def __init__(self, monkeypatch) -> None:
        self.wrapped = self.divided = self.largest_text = 0
        import textual.document._wrapped_document as textual_wrapped

        def counting(function):
            def count(text, *args, **kwargs):
                self.wrapped += len(text)
                return function(text, *args, **kwargs)

            return count

        monkeypatch.setattr(wrap_module, "wrap_offsets", counting(wrap_module.wrap_offsets))
        monkeypatch.setattr(
            wrap_module, "compute_wrap_offsets", counting(wrap_module.compute_wrap_offsets)
        )
        monkeypatch.setattr(
            textual_wrapped, "compute_wrap_offsets", counting(textual_wrapped.compute_wrap_offsets)
        )
        divide, init = Text.divide, Text.__init__

        def counted_divide(text: Text, offsets):
            self.divided += len(text.plain)
            return divide(text, offsets)

        def counted_init(text: Text, plain: str = "", *args, **kwargs):
            self.largest_text = max(self.largest_text, len(plain))
            init(text, plain, *args, **kwargs)

        monkeypatch.setattr(Text, "divide", counted_divide)
        monkeypatch.setattr(Text, "__init__", counted_init)

    def reset(self) -> None:
        self.wrapped = self.divided = self.largest_text = 0


async def test_a_key_after_a_1mb_paste_does_not_work_through_the_line(make_app, monkeypatch):
    """Before, every key after a 1 MB single-line paste re-wrapped the whole line (1,000,000
    characters), cut it into all its sections for the cursor, and made a 1 MB `Text` and cut
    it into all its sections for each row drawn: 10 MB through `Text.divide` a key (about
    1.6 s). Now a key, at the end, in the middle or at the start of the line, goes through
    the rows near the edit or the cursor: a few hundred characters."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        prompt = app.query_one(PromptInput)
        text = paste_text(MEGABYTE)
        app.post_message(events.Paste(text))
        await wait_for(pilot, lambda: len(prompt.text) == MEGABYTE)
        await pilot.pause()
        counter = WorkCounter(monkeypatch)
        keys = ["x", "y", "backspace", "left", "z", "ctrl+w", "shift+left", "right", "end"]
        middle = [(0, MEGABYTE // 2), "q", "backspace", "space", "ctrl+left", "up", "down"]
        start = [(0, 0), "s", "delete", "space", "right"]
        work = []
        for key in keys + middle + start:
            counter.reset()
            if isinstance(key, tuple):
                prompt.move_cursor(key)
            else:
                await pilot.press(key)
            await pilot.pause()
            work.append((key, counter.wrapped, counter.divided, counter.largest_text))
        for key, wrapped, divided, largest in work:
            assert wrapped <= 5_000 and divided <= 5_000 and largest <= 5_000, (key, work)


async def test_a_1mb_paste_is_kept_whole_and_sent_whole(make_app, emulator):
    """The text of a 1 MB single-line paste, edited at its end and in its middle, is the
    prompt's text to the character, and Enter sends all of it."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        prompt = app.query_one(PromptInput)
        text = paste_text(MEGABYTE)
        app.post_message(events.Paste(text))
        await wait_for(pilot, lambda: len(prompt.text) == MEGABYTE)
        await pilot.press(*"xyz", "backspace")
        prompt.move_cursor((0, 500_000))
        await type_text(pilot, "Q\u200d")
        expected = text[:500_000] + "Q\u200d" + text[500_000:] + "xy"
        assert prompt.text == expected
        await pilot.press("enter")
        await wait_for(pilot, lambda: bool(emulator.requests), timeout=30)
    assert emulator.requests[-1].body["messages"][-1]["content"][0]["text"] == expected


def test_a_1mb_paste_on_a_terminal_is_the_draft(pty_apps, app_env, isolated_environment):  # noqa: F811
    """A 1 MB bracketed paste into the real app on a pty, then keys: the draft saved in
    state.toml is the paste and the keys, whole."""
    home = isolated_environment
    app = pty_apps(emulator_env(home, app_env))
    app.wait_for_text("Quit")
    app.wait_quiet()
    text = paste_text(MEGABYTE)
    paste = memoryview(b"\x1b[200~" + text.encode() + b"\x1b[201~")
    while paste:  # a write to a terminal may take only part of a megabyte
        paste = paste[os.write(app._master, paste) :]
    wait_until_shown(app, "END")
    app.write(b"xyz\x7f!")
    wait_until_shown(app, "ENDxy!")
    assert app.quit(timeout=60) == 0
    state = tomllib.loads((home / "data" / "tui-chat" / "state.toml").read_text("utf-8"))
    assert state["drafts"]["new"] == text + "xy!"
