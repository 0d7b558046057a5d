"""The last line of defence between any widget and the terminal.

Model text, titles and file contents are made visible with `sanitize.for_display` where they
are shown. Some widgets show what they hold as it is, though (an input field with a model id
or a system prompt read from a session file, say). This filter runs on every rendered line and
drops any control character left in ordinary text, so nothing a model or a file says can ever
reach the terminal as a command. Textual's own control segments (cursor moves) are left alone.
"""

from __future__ import annotations

from rich.segment import Segment
from textual.filter import LineFilter

from tui_chat.sanitize import has_controls, strip_controls


class NoControlCharacters(LineFilter):
    def apply(self, segments: list[Segment], background) -> list[Segment]:
        # One search per line in the common, clean case.
        if not has_controls("".join(text for text, _, control in segments if not control)):
            return segments
        return [
            segment
            if segment.control or not has_controls(segment.text)
            else Segment(strip_controls(segment.text), segment.style)
            for segment in segments
        ]
