"""The prompt's wrapping of long lines: Textual's `WrappedDocument`, with the work of a key
bounded by the rows near the edit rather than the length of the line.

Textual's soft-wrapping TextArea does work in proportion to the length of the line being
edited, on every key: it re-wraps the whole line (`WrappedDocument.wrap_range`) and cuts the
whole line into its wrapped sections to place the cursor (`get_sections`). After a 1 MB
single-line paste that is well over a second before the key shows. For a line of at least
`LONG_LINE` characters `PromptWrap` re-wraps only near the edit (`rewrap_line`) and works on the
sections it touches, and wraps plain ASCII row by row rather than word by word (`wrap_ascii`).
Each gives what Textual's own code gives (tests/ui/test_typing_extremes.py compares them: wrap
offsets, rows, cursor offsets). The prompt draws the rows of such a line itself
(`PromptInput._render_line`, ui/widgets/prompt.py).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from itertools import pairwise

from textual._cells import cell_len, cell_width_to_column_index
from textual._wrap import compute_wrap_offsets
from textual.document._document import Location
from textual.document._wrapped_document import WrappedDocument
from textual.expand_tabs import expand_tabs_inline, get_tab_widths
from textual.geometry import Offset, clamp

#: A line at least this long (in characters) takes the prompt's own wrapping and drawing paths.
#: Below it, Textual's code is as quick, and runs unchanged.
LONG_LINE = 4_000

#: Where a wrap chunk (a word and the spaces after it, as `textual._wrap.chunks` cuts them)
#: starts after another one: the position after a whitespace character followed by another.
_NEXT_CHUNK = re.compile(r"\s\S")

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

    def is_long(self, line: str) -> bool:
        """Whether the prompt wraps and draws `line` itself (else Textual's code does)."""
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
        if not self.is_long(line):
            return super().get_sections(line_index)
        bounds = [0, *self._wrap_offsets[line_index], len(line)]
        return [line[start:end] for start, end in pairwise(bounds)]

    def location_to_offset(self, location: Location) -> Offset:
        line_index, column_index = location
        line_index = clamp(line_index, 0, len(self._line_index_to_offsets))
        if line_index >= self.document.line_count:
            return super().location_to_offset(location)
        line = self.document[line_index]
        if not self.is_long(line):
            return super().location_to_offset(location)
        offsets = self._wrap_offsets[line_index]
        section = bisect_right(offsets, column_index)
        start, end = self._section_bounds(line, offsets, section)
        before = line[start:end][: column_index - start]
        x_offset = cell_len(expand_tabs_inline(before, self._tab_width))
        return Offset(x_offset, self._line_index_to_offsets[line_index][section])

    def get_target_document_column(self, line_index: int, x_offset: int, y_offset: int) -> int:
        line = self.document[line_index]
        if not self.is_long(line):
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
