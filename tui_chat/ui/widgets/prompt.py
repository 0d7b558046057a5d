"""PromptInput: the multi-line prompt. Enter sends; ctrl+j or shift+enter inserts a newline;
Up in an empty prompt (or while browsing) recalls earlier prompts. Keys typed in a burst are
applied in order (`OrderedKeys`).

Typing stays quick after a huge paste. Textual's soft-wrapping TextArea does work in proportion
to the length of the line being edited, on every key: it re-wraps the whole line, cuts it into
its wrapped sections to place the cursor, and for every row it draws makes a rich `Text` of the
whole line, styled, and cuts it into all its sections to keep one (`TextArea._render_line`,
eight rows for this prompt). After a 1 MB single-line paste that is 10 MB through `Text.divide`
a key, well over a second before the key shows. For a line of at least `LONG_LINE` characters
the prompt works on the rows near the edit or the row drawn only: its wrapped document
(`PromptWrap`, ui/widgets/prompt_wrap.py) re-wraps near the edit, and
`PromptInput._render_line` draws a row from its own section. On any line it finds words and
brackets without walking all of it. Each gives what Textual's own code gives (the tests compare
them: wrap offsets, rows, cursor offsets, drawn rows, words, brackets). The text itself is
untouched: a paste is kept whole, and sending it sends all of it.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from rich.segment import Segment
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.document._document import Location
from textual.document._document_navigator import DocumentNavigator
from textual.document._wrapped_document import WrappedDocument
from textual.expand_tabs import expand_text_tabs_from_widths
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.timer import Timer
from textual.widgets import TextArea
from textual.widgets._text_area import _CLOSING_BRACKETS, _OPENING_BRACKETS

from tui_chat.ui.widgets.keys import OrderedKeys
from tui_chat.ui.widgets.prompt_wrap import PromptWrap

#: Seconds without a key after which the prompt's cursor stops blinking (it stays shown).
STILL_AFTER = 5.0
#: What Textual's "delete word right" deletes up to, and the brackets it matches.
_SPACES_AND_WORD = re.compile(r"\s*\w+")
_BRACKET = re.compile(r"[][(){}]")


def _without_ctrl_y(bindings: list) -> list:
    """TextArea's bindings, with redo moved off ctrl+y (ctrl+y copies the last reply)."""
    out = []
    for binding in bindings:
        if isinstance(binding, Binding) and binding.action == "redo":
            out.append(Binding("ctrl+shift+z,super+y", "redo", binding.description, show=False))
        else:
            out.append(binding)
    return out


class PromptInput(OrderedKeys, TextArea, inherit_bindings=False):
    """The chat prompt. Posts `PromptInput.Submitted` with the text when Enter is pressed."""

    # Our own copy of TextArea's bindings replaces (rather than extends) the inherited ones,
    # so ctrl+y reaches the app.
    BINDINGS = _without_ctrl_y(list(TextArea.BINDINGS))

    DEFAULT_CSS = """
    PromptInput {
        height: auto;
        min-height: 3;
        max-height: 10;
    }
    """

    @dataclass
    class Submitted(Message):
        """The user pressed Enter on a non-empty prompt."""

        prompt: PromptInput
        text: str

        @property
        def control(self) -> PromptInput:
            return self.prompt

    @property
    def wrapped_document(self) -> PromptWrap:
        return self._prompt_wrap

    @wrapped_document.setter
    def wrapped_document(self, wrapped: WrappedDocument) -> None:
        # TextArea makes its WrappedDocument (not yet wrapped: width 0) when it is created and
        # on load_text; the prompt's own takes its place, and Textual then wraps that one.
        if not isinstance(wrapped, PromptWrap):
            wrapped = PromptWrap(wrapped.document, wrapped._width, wrapped._tab_width)
        self._prompt_wrap = wrapped
        self.navigator = DocumentNavigator(wrapped)

    def __init__(self, *, prompt_history: list[str] | None = None, **kwargs) -> None:
        kwargs.setdefault("soft_wrap", True)
        kwargs.setdefault("show_line_numbers", False)
        kwargs.setdefault("tab_behavior", "focus")
        super().__init__(**kwargs)
        self.prompt_history: list[str] = prompt_history if prompt_history is not None else []
        self._history_index: int | None = None  # position while browsing with Up/Down
        self._draft_before_history = ""
        self._last_key = time.monotonic()
        self._still: Timer | None = None  # stops the cursor blinking after a pause

    def on_mount(self) -> None:
        self._still = self.set_timer(STILL_AFTER, self._hold_cursor)

    def _hold_cursor(self) -> None:
        """Nothing typed for STILL_AFTER seconds: the cursor stops blinking and stays shown.
        A blinking cursor redraws its row twice a second for as long as the app is open
        (about 400 bytes a second to the terminal, and 1% of a core)."""
        idle = time.monotonic() - self._last_key
        if idle < STILL_AFTER:
            self._still = self.set_timer(STILL_AFTER - idle, self._hold_cursor)
        else:
            self._still = None
            # Not `cursor_blink = False`: that repaints the whole prompt, border and all.
            self.set_reactive(TextArea.cursor_blink, False)
            if self.is_mounted:
                self.blink_timer.pause()
            if self.has_focus and not self._cursor_visible:
                self._toggle_cursor_blink_visible()

    def _toggle_cursor_blink_visible(self) -> None:
        """A blink repaints the cursor's cell: Textual repaints its whole row (twice), about
        250 bytes to the terminal for each blink of one cell."""
        if not self.screen.is_active:
            return
        self.set_reactive(TextArea._cursor_visible, not self._cursor_visible)
        x, y = self._cursor_offset  # in the wrapped text, before the gutter and the scroll
        scroll_x, scroll_y = self.scroll_offset
        self.refresh(Region(x + self.gutter_width - scroll_x, y - scroll_y, 1, 1))

    def _typed(self) -> None:
        """A key or a paste: the cursor blinks again, until the next pause."""
        self._last_key = time.monotonic()
        if self._still is None:
            self.cursor_blink = True
            self._still = self.set_timer(STILL_AFTER, self._hold_cursor)

    def _on_paste(self, event: events.Paste) -> None:
        self._typed()

    async def _on_key(self, event: events.Key) -> None:
        # Only the prompt's own keys: Textual then calls OrderedKeys' and TextArea's handlers.
        self._typed()
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self.submit()
            return
        if event.key in ("ctrl+j", "shift+enter"):
            event.stop()
            event.prevent_default()
            start, end = self.selection
            self._replace_via_keyboard("\n", start, end)

    def _render_line(self, y: int) -> Strip:
        """One row of the prompt. A row of a long line is drawn from its own section, as
        Textual's `_render_line` draws it from the whole line cut into all its sections."""
        wrapped = self.wrapped_document
        try:
            line_index, section = wrapped._offset_to_line_info[y + self.scroll_offset.y]
        except IndexError:
            return super()._render_line(y)
        line = self.document[line_index]
        offsets = wrapped.get_offsets(line_index)
        if (
            not offsets
            or not self.soft_wrap
            or self._highlights
            or self.suggestion
            or not wrapped.is_long(line)
        ):
            return super()._render_line(y)
        return self._render_section(line_index, section, line, offsets)

    def _render_section(
        self, line_index: int, section: int, line: str, offsets: list[int]
    ) -> Strip:
        """`TextArea._render_line` for one section of a soft-wrapped line without syntax
        highlights or a suggestion: the styles Textual puts on the whole line (cursor line,
        selection, matching brackets, cursor), each cut to this section, as rich's
        `Text.divide` cuts them."""
        theme = self._theme
        base_style = theme.base_style if theme and theme.base_style is not None else self.rich_style
        last = section == len(offsets)
        start = offsets[section - 1] if section else 0
        end = len(line) if last else offsets[section]
        text = Text(line[start:end], end="")
        if last:
            text.set_length(end - start + 1)  # the space at the end of the line for the cursor
        length = len(text)

        def stylize(style, begin: int = 0, finish: int | None = None) -> None:
            # A style over [begin, finish) of the whole line, on this section.
            if not style:
                return
            begin = max(begin, start) - start
            finish = (start + length if finish is None else min(finish, start + length)) - start
            if finish > begin:
                text.stylize(style, begin, finish)

        selection = self.selection
        cursor_row, cursor_column = selection.end
        (top_row, top_column), (bottom_row, bottom_column) = sorted(selection)
        has_cursor = self._has_cursor
        highlight_cursor_line = self.highlight_cursor_line and has_cursor
        cursor_line_style = theme.cursor_line_style if (theme and highlight_cursor_line) else None
        if has_cursor and cursor_line_style and cursor_row == line_index:
            stylize(cursor_line_style)
        if selection.start != selection.end and top_row <= line_index <= bottom_row:
            selection_style = theme.selection_style if theme else None
            if line_index == top_row == bottom_row:
                stylize(selection_style, top_column, bottom_column)
            elif line_index == top_row:
                stylize(selection_style, top_column, len(line))
            elif line_index == bottom_row:
                stylize(selection_style, 0, bottom_column)
            else:
                stylize(selection_style, 0, len(line))
        matching_bracket = self._matching_bracket_location
        draw_matched_brackets = (
            has_cursor
            and self.match_cursor_bracket
            and matching_bracket is not None
            and selection.start == selection.end
        )
        if cursor_row == line_index:
            if draw_matched_brackets:
                bracket_style = theme.bracket_matching_style if theme else None
                stylize(bracket_style, cursor_column, cursor_column + 1)
            if self._draw_cursor:
                stylize(theme.cursor_style if theme else None, cursor_column, cursor_column + 1)
        if draw_matched_brackets and theme and matching_bracket[0] == line_index:
            bracket_column = matching_bracket[1]
            stylize(theme.bracket_matching_style, bracket_column, bracket_column + 1)

        gutter_width = self.gutter_width
        gutter: list[Segment] = []
        if self.show_line_numbers:
            if cursor_row == line_index and highlight_cursor_line:
                gutter_style = theme.cursor_line_gutter_style
            else:
                gutter_style = theme.gutter_style
            number = str(line_index + self.line_number_start) if section == 0 else ""
            gutter = [Segment(f"{number:>{gutter_width - 2}}  ", gutter_style)]

        tab_widths = self.wrapped_document.get_tab_widths(line_index)
        tabs_before = line.count("\t", 0, start) if tab_widths else 0
        tabs_within = text.plain.count("\t")
        text = expand_text_tabs_from_widths(
            text, tab_widths[tabs_before : tabs_before + tabs_within]
        )
        target_width = self.scrollable_content_region.size.width - gutter_width
        strip = Strip(text.render(self.app.console), cell_length=text.cell_len)
        if cursor_row == line_index and self.highlight_cursor_line:
            line_style = cursor_line_style
        else:
            line_style = theme.base_style if theme else None
        strip = strip.extend_cell_length(target_width, line_style)
        if gutter:
            strip = Strip.join([Strip(gutter, cell_length=gutter_width), strip])
        return strip.apply_style(base_style)

    # -- Textual's word and bracket searches, the same answers without walking the whole line --

    def get_cursor_word_left_location(self) -> Location:
        """Textual lists every word boundary before the cursor to take the last one (half a
        second with a 1 MB line before it, on each ctrl+w); this looks back from the cursor,
        further each time, until it finds one."""
        row, column = self.cursor_location
        if row > 0 and column == 0:
            return super().get_cursor_word_left_location()
        search = self.document[row][:column].rstrip()
        window = 256
        while True:
            start = max(0, len(search) - window)
            boundaries = [match.start() for match in self._word_pattern.finditer(search, start)]
            if boundaries:
                return row, boundaries[-1]
            if not start:
                return row, 0
            window *= 4

    def get_cursor_word_right_location(self) -> Location:
        """Textual lists every word boundary after the cursor to take the first one."""
        row, column = self.selection.end
        line = self.document[row]
        if row < self.document.line_count - 1 and column == len(line):
            return row + 1, 0
        search = line[column:]
        stripped = search.lstrip()
        match = self._word_pattern.search(stripped)
        if match is None:
            return row, len(line)
        return row, column + match.start() + len(search) - len(stripped)

    def action_delete_word_right(self) -> None:
        """Textual's, finding the first word after the cursor rather than all of them."""
        if self.cursor_at_end_of_text:
            return
        start, end = self.selection
        if start != end:
            self._delete_via_keyboard(start, end)
            return
        row, column = end
        length = len(self.document[row])
        match = _SPACES_AND_WORD.search(self.document[row][column:])
        if match:
            to_location = (row, column + match.end())
        elif row < self.document.line_count - 1 and column == length:
            to_location = (row + 1, 0)
        else:
            to_location = (row, length)
        self._delete_via_keyboard(end, to_location)

    def find_matching_bracket(self, bracket: str, search_from: Location) -> Location | None:
        """Textual's bracket matching, which reads every character from the cursor on (all of
        a 1 MB line with the cursor on its first bracket), reading only the brackets."""
        lines = self.document.lines
        row, column = search_from
        stack: list[str] = []
        if bracket in _OPENING_BRACKETS:
            while 0 <= row < len(lines):
                line = lines[row]
                for match in _BRACKET.finditer(line, column):
                    candidate = match.group()
                    if candidate in _OPENING_BRACKETS:
                        stack.append(candidate)
                    elif stack and stack[-1] == _CLOSING_BRACKETS[candidate]:
                        stack.pop()
                        if not stack:
                            return row, match.start()
                row, column = row + 1, 0
        elif bracket in _CLOSING_BRACKETS:
            while 0 <= row < len(lines):
                line = lines[row]
                end = (len(line) if column == -1 else column + 1) if line else 0
                while end > 0:
                    start = max(0, end - 4096)
                    for match in reversed(list(_BRACKET.finditer(line, start, end))):
                        candidate = match.group()
                        if candidate in _CLOSING_BRACKETS:
                            stack.append(candidate)
                        elif stack and stack[-1] == _OPENING_BRACKETS[candidate]:
                            stack.pop()
                            if not stack:
                                return row, match.start()
                    end = start
                row, column = row - 1, -1
        return None

    def show_context(self, words: str, share: float) -> None:
        """The context meter in the border: `words`, warning from 80% of the window."""
        self.border_subtitle = Text(words) if words else ""
        self.set_class(share >= 0.8, "-context-near")
        self.set_class(share >= 1, "-context-over")

    def submit(self) -> None:
        text = self.text
        if not text.strip():
            return
        self._history_index = None
        self.post_message(self.Submitted(self, text))

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if self._history_index is not None and self.text != self._history_value():
            self._history_index = None

    def _history_value(self) -> str:
        if self._history_index is None or not self.prompt_history:
            return ""
        return self.prompt_history[self._history_index]

    def action_cursor_up(self, select: bool = False) -> None:
        browsing = self._history_index is not None
        if (
            not select
            and self.prompt_history
            and (not self.text or browsing)
            and self.cursor_location[0] == 0
        ):
            self._recall(-1)
            return
        super().action_cursor_up(select)

    def action_cursor_down(self, select: bool = False) -> None:
        if not select and self._history_index is not None:
            last_row = self.document.line_count - 1
            if self.cursor_location[0] == last_row:
                self._recall(+1)
                return
        super().action_cursor_down(select)

    def _recall(self, step: int) -> None:
        if self._history_index is None:
            if step > 0:
                return
            self._draft_before_history = self.text
            index = len(self.prompt_history) - 1
        else:
            index = self._history_index + step
        if index < 0:
            return
        if index >= len(self.prompt_history):
            self._history_index = None
            self.load_text(self._draft_before_history)
            self.move_cursor(self.document.end)
            return
        self._history_index = index
        self.load_text(self.prompt_history[index])
        self._history_index = index  # load_text fires Changed; keep browsing state
        self.move_cursor((0, len(self.prompt_history[index].split("\n")[0])))
