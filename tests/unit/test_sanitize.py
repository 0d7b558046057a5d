"""Model text is neutralised for display: nothing it contains can drive the terminal."""

from hypothesis import given
from hypothesis import strategies as st

from tui_chat.sanitize import for_display, storable


def test_escape_sequences_become_visible_text():
    assert for_display("\x1b[31mred\x1b[0m") == "␛[31mred␛[0m"
    assert for_display("\x1b]52;c;aGk=\x07") == "␛]52;c;aGk=␇"
    assert for_display("bell\x07 back\x08") == "bell␇ back␈"


def test_newlines_and_tabs_stay():
    assert for_display("a\n\tb\r\nc") == "a\n\tb\nc"
    assert for_display("lone\rcr") == "lone␍cr"


def test_c1_del_and_bidi_controls():
    assert for_display("\x9b31m") == "<U+009B>31m"
    assert for_display("\x7f") == "␡"
    assert for_display("\u202eevil") == "<U+202E>evil"


def test_markup_is_left_as_text():
    # Not this module's job to escape markup: the UI never parses model text as markup.
    assert for_display("[bold]x[/bold]") == "[bold]x[/bold]"


@given(st.text())
def test_no_control_character_survives(text):
    shown = for_display(text)
    for char in shown:
        code = ord(char)
        assert char in "\n\t" or not (code < 0x20 or 0x7F <= code <= 0x9F)
        assert not 0xD800 <= code <= 0xDFFF


def test_storable_replaces_only_surrogates():
    assert storable("ok \x1b \x00") == "ok \x1b \x00"
    assert "\ufffd" in storable("bad \ud800")
    storable("bad \ud800").encode("utf-8")
