"""The last line of defence between any widget and the terminal.

Model text, titles and file contents are made visible with `sanitize.for_display` where they
are shown. Some widgets show what they hold as it is, though (an input field with a model id
or a system prompt read from a session file, say). This filter runs on every rendered line and
drops any control character left in ordinary text, so nothing a model or a file says can ever
reach the terminal as a command. Textual's own control segments (cursor moves) are left alone.

It runs Textual's own filters too, in the same pass: Textual makes a new Strip (seven caches)
for each filter on each line it redraws, and a second filter doubled that cost.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.segment import Segment
from textual.filter import LineFilter

from tui_chat.sanitize import has_controls, strip_controls


class NoControlCharacters(LineFilter):
    """Drops control characters, then applies `then` (Textual's filters) in order."""

    def __init__(self, then: Sequence[LineFilter] = ()) -> None:
        super().__init__()
        self.then = tuple(then)

    def apply(self, segments: list[Segment], background) -> list[Segment]:
        segments = _clean(segments)
        for line_filter in self.then:
            segments = line_filter.apply(segments, background)
        return segments


def _clean(segments: list[Segment]) -> list[Segment]:
    # One search per line in the common, clean case.
    if not has_controls("".join(text for text, _, control in segments if not control)):
        return segments
    return [
        segment
        if segment.control or not has_controls(segment.text)
        else Segment(strip_controls(segment.text), segment.style)
        for segment in segments
    ]
