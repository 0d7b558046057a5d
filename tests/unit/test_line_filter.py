"""The one line filter between every widget and the terminal: it drops control characters and
runs Textual's own filters in the same pass."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.color import Color
from textual.filter import LineFilter, Monochrome

from tui_chat.ui.line_filter import NoControlCharacters

BLACK = Color(0, 0, 0)


def test_control_characters_are_dropped_from_text_but_not_from_control_segments():
    cursor = Segment("\x1b[2;3H", None, [(1, 2)])
    line = [Segment("red\x1b]52;c;aGk=\x07 text\r", Style(color="red")), cursor]
    out = NoControlCharacters().apply(line, BLACK)
    assert out[0].text == "red]52;c;aGk= text"
    assert out[0].style == Style(color="red")
    assert out[1] is cursor


def test_a_clean_line_is_returned_as_it_is():
    line = [Segment("plain", Style(bold=True))]
    assert NoControlCharacters().apply(line, BLACK) is line


def test_textual_filters_run_after_it_in_order():
    calls: list[str] = []

    class Spy(LineFilter):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

        def apply(self, segments, background):
            calls.append(self.name + ":" + "".join(s.text for s in segments))
            return segments

    line = [Segment("a\x07b", Style(color="red"))]
    out = NoControlCharacters([Spy("one"), Monochrome(), Spy("two")]).apply(line, BLACK)
    assert calls == ["one:ab", "two:ab"]  # each saw the cleaned line
    assert out[0].text == "ab"
    assert out[0].style.color.triplet is not None  # Monochrome turned red into a grey
    assert out[0].style.color.triplet.red == out[0].style.color.triplet.green
