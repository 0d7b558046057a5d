"""PromptInput: the multi-line prompt. Enter sends; ctrl+j or shift+enter inserts a newline;
Up in an empty prompt (or while browsing) recalls earlier prompts. Keys typed in a burst are
applied in order (`OrderedKeys`).

Typing stays quick after a huge paste. Textual's soft-wrapping TextArea does work in proportion
to the length of the line being edited, on every key: it re-wraps the whole line
(`WrappedDocument.wrap_range`), cuts the whole line into its wrapped sections to place the
cursor (`get_sections`), and for every row it draws makes a rich `Text` of the whole line,
styled, and cuts it into all its sections to keep one (`TextArea._render_line`, eight rows for
this prompt). After a 1 MB single-line paste that is 10 MB through `Text.divide` a key, well
over a second before the key shows. For a line of at least `LONG_LINE` characters the prompt
works on the rows near the edit or the row drawn only (`PromptWrap`, `rewrap_line`,
`PromptInput._render_line`) and wraps plain ASCII row by row rather than word by word
(`wrap_ascii`); on any line it finds words and brackets without walking all of it. Each gives what
Textual's own code gives (the tests compare them: wrap offsets, rows, cursor offsets, drawn
rows, words, brackets). The text itself is untouched: a paste is kept whole, and sending it
sends all of it.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from itertools import pairwise

from rich.segment import Segment
from rich.text import Text
from textual import events
from textual._cells import cell_len, cell_width_to_column_index
from textual._wrap import compute_wrap_offsets
from textual.binding import Binding
from textual.document._document import Location
from textual.document._document_navigator import DocumentNavigator
from textual.document._wrapped_document import WrappedDocument
from textual.expand_tabs import (
    expand_tabs_inline,
    expand_text_tabs_from_widths,
    get_tab_widths,
)
from textual.geometry import Offset, clamp
from textual.message import Message
from textual.strip import Strip
from textual.widgets import TextArea
from textual.widgets._text_area import _CLOSING_BRACKETS, _OPENING_BRACKETS

from tui_chat.ui.widgets.keys import OrderedKeys

#: A line at least this long (in characters) takes the prompt's own wrapping and drawing paths.
#: Below it, Textual's code is as quick, and runs unchanged.
LONG_LINE = 4_000

#: Where a wrap chunk (a word and the spaces after it, as `textual._wrap.chunks` cuts them)
#: starts after another one: the position after a whitespace character followed by another.
_NEXT_CHUNK = re.compile(r"\s\S")

#: What Textual's "delete word right" deletes up to, and the brackets it matches.
_SPACES_AND_WORD = re.compile(r"\s*\w+")
_BRACKET = re.compile(r"[][(){}]")

#: Characters that rich's `Text` removes from a line (a line of the document never holds the
#: others, \r, \v and \f, which split lines): Textual's sections then no longer line up with
#: the wrap offsets, and the prompt leaves such a line to Textual's code, to give the same.
_STRIPPED = ("\x07", "\x08")


def wrap_ascii(text: str, width: int) -> list[int]:
    """What `compute_wrap_offsets(text, width, tab)` gives for printable ASCII (each character
    one cell, the space the only whitespace, no tab), worked out row by row rather than chunk
    by chunk: a row that starts at `row` breaks at the start of the chunk holding the character
    at `row + width` (the first that does not fit), and a chunk that already started at or
    before `row` folds there. Some fifty times quicker on a long line."""
    breaks: list[int] = []
    length = len(text)
    row = 0
    while True:
        limit = row + width  # the first character that does not fit on this row
        if limit >= length:
            return breaks
        if text[limit] != " " and text[limit - 1] == " ":
            cut = limit  # a chunk starts right where the row is full
        else:
            space = text.rfind(" ", row, limit)
            if space >= 0 and text[space + 1] == " ":
                # the row ends in a run of spaces: they belong to the word before them
                word_end = len(text[row:space].rstrip(" ")) + row
                space = text.rfind(" ", row, word_end)
            cut = space + 1 if space >= 0 else row
        if cut <= row:
            cut = limit  # the chunk started at or before the row's start: it folds
        breaks.append(cut)
        row = cut


def wrap_offsets(text: str, width: int, tab: int) -> list[int]:
    """`compute_wrap_offsets(text, width, tab)`, by `wrap_ascii` when it can."""
    if text.isascii() and text.isprintable():
        return wrap_ascii(text, width)
    return compute_wrap_offsets(text, width, tab)


def rewrap_line(
    line: str, offsets: list[int], start: int, old_end: int, new_end: int, width: int, tab: int
) -> list[int]:
    """The wrap offsets of a tab-free `line` (what `compute_wrap_offsets(line, width, tab)`
    gives), after `line[start:new_end]` replaced what was `[start:old_end]` of a line that
    wrapped at `offsets`, computing only near the edit.

    Textual's wrap is greedy: it reads the line chunk by chunk (a word and the spaces after
    it), starts a row at a chunk that does not fit, and folds a chunk wider than a row
    character by character. A fresh row starts at every break, so wrapping from a break gives
    what the whole line gives from there on: at a chunk's start always (the chunks from there
    are the same strings), and inside a folded chunk when widths add up (they do not across
    a zero-width joiner or a variation selector 16, which rich measures as a cluster, so such
    a line only resumes at chunk starts). The wrap resumes at the last break the edit cannot
    move (a chunk's start whose chunk ends before the edit, or a fold before it) and stops at
    the first new break past the edit that is an old one moved by the edit's length: the rest
    is the old rest, moved. Wrapping a window of the line gives only true breaks (only its
    last chunk is cut short, and a cut chunk is no wider than the whole one), so the window
    grows until it holds such a break or reaches the end of the line.
    """

    if width < 2:  # a wide character folds into an empty row of its own: not worth it
        return wrap_offsets(line, width, tab)

    def chunk_start(position: int) -> bool:
        return line[position - 1].isspace() and not line[position].isspace()

    additive = "\u200d" not in line and "\ufe0f" not in line
    resume, kept = 0, 0
    for index in range(bisect_left(offsets, start) - 1, -1, -1):
        position = offsets[index]
        if chunk_start(position):
            stable = _NEXT_CHUNK.search(line, position, start) is not None
        else:
            stable = additive
        if stable:
            resume, kept = position, index + 1
            break
    shift = new_end - old_end
    margin = max(8 * width, 256)
    while True:
        end = min(len(line), new_end + margin)
        fresh = [resume + offset for offset in wrap_offsets(line[resume:end], width, tab)]
        if end == len(line):
            return offsets[:kept] + fresh
        for index, position in enumerate(fresh):
            if position < new_end or not (
                additive or (position > new_end and chunk_start(position))
            ):
                continue
            old = bisect_left(offsets, position - shift)
            if old < len(offsets) and offsets[old] == position - shift:
                moved = [offset + shift for offset in offsets[old + 1 :]]
                return offsets[:kept] + fresh[: index + 1] + moved
        margin *= 4


class PromptWrap(WrappedDocument):
    """Textual's `WrappedDocument`, but for a line of at least `long_line` characters the
    work of an edit or a cursor move is bounded by the sections it touches, not the line."""

    long_line = LONG_LINE

    def __init__(self, *args, **kwargs) -> None:
        self._lengths: dict[int, int] = {}  # the length of each long line, as last wrapped
        super().__init__(*args, **kwargs)

    def _long(self, line: str) -> bool:
        return len(line) >= self.long_line and not any(code in line for code in _STRIPPED)

    def _remember_lengths(self, top: int = 0, old_bottom: int = -1, new_bottom: int = -1) -> None:
        """Note the length of each long line: of all of them, or after an edit that replaced
        rows `top` to `old_bottom` with rows `top` to `new_bottom` (the rows below move)."""
        long_line = self.long_line
        lines = self.document.lines
        if old_bottom < 0:
            self._lengths = {
                row: len(line) for row, line in enumerate(lines) if len(line) >= long_line
            }
            return
        shift = new_bottom - old_bottom
        lengths = {
            row if row < top else row + shift: length
            for row, length in self._lengths.items()
            if row < top or row > old_bottom
        }
        for row in range(top, min(new_bottom + 1, len(lines))):
            if len(lines[row]) >= long_line:
                lengths[row] = len(lines[row])
        self._lengths = lengths

    @property
    def height(self) -> int:
        """The height of the wrapped document: one entry a row (Textual sums over the lines,
        several times a key)."""
        return len(self._offset_to_line_info)

    def _section_bounds(self, line: str, offsets: list[int], section: int) -> tuple[int, int]:
        start = offsets[section - 1] if section else 0
        end = offsets[section] if section < len(offsets) else len(line)
        return start, end

    def wrap(self, width: int, tab_width: int | None = None) -> None:
        """`WrappedDocument.wrap`, a long line wrapped by `wrap_offsets`."""
        long_line = self.long_line
        if all(len(line) < long_line for line in self.document.lines):
            super().wrap(width, tab_width)
            self._lengths = {}
            return
        self._width = width
        if tab_width:
            self._tab_width = tab_width
        tab_width = self._tab_width
        wrap_offsets_: list[list[int]] = []
        offset_to_line_info: list[tuple[int, int]] = []
        line_index_to_offsets: list[list[int]] = []
        tab_widths: list[list[int]] = []
        y_offset = 0
        for line_index, line in enumerate(self.document.lines):
            if len(line) >= long_line and "\t" not in line:
                tab_sections = [(line, 0)]
                offsets = wrap_offsets(line, width, tab_width) if width else []
            else:
                tab_sections = get_tab_widths(line, tab_width)
                offsets = (
                    compute_wrap_offsets(
                        line, width, tab_size=tab_width, precomputed_tab_sections=tab_sections
                    )
                    if width
                    else []
                )
            tab_widths.append([tab for _, tab in tab_sections])
            wrap_offsets_.append(offsets)
            rows = len(offsets) + 1
            offset_to_line_info.extend((line_index, section) for section in range(rows))
            line_index_to_offsets.append(list(range(y_offset, y_offset + rows)))
            y_offset += rows
        self._wrap_offsets = wrap_offsets_
        self._offset_to_line_info = offset_to_line_info
        self._line_index_to_offsets = line_index_to_offsets
        self._tab_width_cache = tab_widths
        self._remember_lengths()

    def wrap_range(self, start: Location, old_end: Location, new_end: Location) -> None:
        row, column = start
        if (
            self._width
            and row == old_end[0] == new_end[0]
            and 0 <= row < len(self._wrap_offsets) == self.document.line_count
        ):
            line = self.document[row]
            old_length = self._lengths.get(row, -1)
            if (
                len(line) >= self.long_line
                and "\t" not in line
                and 0 <= column <= old_end[1] <= old_length
                and column <= new_end[1] <= len(line)
                and len(line) - old_length == new_end[1] - old_end[1]
            ):
                offsets = rewrap_line(
                    line,
                    self._wrap_offsets[row],
                    column,
                    old_end[1],
                    new_end[1],
                    self._width,
                    self._tab_width,
                )
                self._set_line_offsets(row, offsets)
                self._lengths[row] = len(line)
                return
        super().wrap_range(start, old_end, new_end)
        top, old_bottom = sorted((start[0], old_end[0]))
        self._remember_lengths(top, old_bottom, max(start[0], new_end[0]))

    def _set_line_offsets(self, row: int, offsets: list[int]) -> None:
        """What `wrap_range` records for a re-wrapped line, changing only the rows it gained
        or lost."""
        y_offsets = self._line_index_to_offsets[row]
        top = y_offsets[0]
        old_height = len(self._wrap_offsets[row]) + 1
        new_height = len(offsets) + 1
        if new_height > old_height:
            self._offset_to_line_info[top + old_height : top + old_height] = [
                (row, section) for section in range(old_height, new_height)
            ]
            y_offsets.extend(range(top + old_height, top + new_height))
        elif new_height < old_height:
            del self._offset_to_line_info[top + new_height : top + old_height]
            del y_offsets[new_height:]
        if shift := new_height - old_height:
            for below in range(row + 1, len(self._line_index_to_offsets)):
                self._line_index_to_offsets[below] = [
                    offset + shift for offset in self._line_index_to_offsets[below]
                ]
        self._wrap_offsets[row] = offsets
        self._tab_width_cache[row] = [0]  # as `get_tab_widths` has it for a line without tabs

    def get_sections(self, line_index: int) -> list[str]:
        line = self.document[line_index]
        if not self._long(line):
            return super().get_sections(line_index)
        bounds = [0, *self._wrap_offsets[line_index], len(line)]
        return [line[start:end] for start, end in pairwise(bounds)]

    def location_to_offset(self, location: Location) -> Offset:
        line_index, column_index = location
        line_index = clamp(line_index, 0, len(self._line_index_to_offsets))
        if line_index >= self.document.line_count:
            return super().location_to_offset(location)
        line = self.document[line_index]
        if not self._long(line):
            return super().location_to_offset(location)
        offsets = self._wrap_offsets[line_index]
        section = bisect_right(offsets, column_index)
        start, end = self._section_bounds(line, offsets, section)
        before = line[start:end][: column_index - start]
        x_offset = cell_len(expand_tabs_inline(before, self._tab_width))
        return Offset(x_offset, self._line_index_to_offsets[line_index][section])

    def get_target_document_column(self, line_index: int, x_offset: int, y_offset: int) -> int:
        line = self.document[line_index]
        if not self._long(line):
            return super().get_target_document_column(line_index, x_offset, y_offset)
        offsets = self._wrap_offsets[line_index]
        count = len(offsets) + 1
        section = y_offset + count if y_offset < 0 else y_offset
        if not 0 <= section < count:
            raise IndexError("list index out of range")
        start, end = self._section_bounds(line, offsets, section)
        target = line[start:end]
        column = start + cell_width_to_column_index(target, x_offset, self._tab_width)
        if y_offset != count - 1 and y_offset != -1:
            column = min(column, start + len(target) - 1)
        return column


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

    async def _on_key(self, event: events.Key) -> None:
        # Only the prompt's own keys: Textual then calls OrderedKeys' and TextArea's handlers.
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
            or not wrapped._long(line)
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
