"""A reply on a terminal, rendered as Markdown line by line as it streams (`ask` on a tty)."""

from __future__ import annotations

import functools
import os
import re
from typing import Any, ClassVar

_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)")
_FENCE_CLOSE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*$")
_TABLE_ROW = re.compile(r"^ {0,3}\|")
CODE_THEME = "monokai"


class TerminalMarkdown:
    """The reply on a terminal, rendered as Markdown line by line as it streams.

    The line being written is shown raw (already neutralised by `for_display`) as its words
    arrive; once it is complete, the raw line is erased (carriage return, cursor up over the
    rows it wrapped onto, clear to the end of the screen) and replaced by its rendering with
    Rich: headings, lists, emphasis, quotes, rules, links shown with their address (never as a
    terminal hyperlink). Lines inside a fenced code block are highlighted with the fence's
    language (the whole block so far is highlighted, so strings and comments that span lines
    come out right). Table rows stay raw until the table ends, then the table is drawn whole.
    Model text is never read as Rich markup: it only ever reaches `rich.markdown.Markdown`,
    `Syntax` or `Text`. A line too tall to move back over (taller than the screen) is left raw.
    """

    def __init__(self, out: Any) -> None:
        self.out = out
        self.line = ""  # the current line, shown raw so far
        self.table: list[str] = []  # table rows shown raw, drawn when the table ends
        self.table_rows = 0  # the screen rows they take
        self.table_raw = False  # this table stays raw (part of it could not be moved back over)
        self.fence: tuple[str, int, str] | None = None  # (character, length, language)
        self.code: list[str] = []  # the open code block's lines so far

    @functools.cached_property
    def console(self) -> Any:
        """Rich's console on the same stream (made on first use: Rich takes a moment to
        import). Model text never reaches it as a string to parse, only as renderables."""
        from rich.console import Console

        return Console(
            file=self.out,
            force_terminal=True,
            highlight=False,
            markup=False,
            emoji=False,
            soft_wrap=False,
        )

    # -- input

    def feed(self, text: str) -> None:
        *complete, rest = text.split("\n")
        for piece in complete:
            self._complete(self.line + piece, shown=self.line)
            self.line = ""
        if rest:
            self.out.write(rest)
            self.line += rest
        self.out.flush()

    def close(self, render: bool = True) -> None:
        """End the reply: render (or, interrupted, leave raw) what is still raw, and leave the
        cursor at the start of a line."""
        if self.line:
            if render:
                self._complete(self.line, shown=self.line)
            else:
                self.out.write("\x1b[0m\n")  # interrupted: no style left on, a fresh line
            self.line = ""
        if self.table and render:
            self._draw_table()
        self.table, self.table_rows = [], 0
        self.out.flush()

    # -- screen

    def _size(self) -> tuple[int, int]:
        try:
            columns, lines = os.get_terminal_size(self.out.fileno())
        except (OSError, ValueError, AttributeError):
            columns, lines = 0, 0
        return columns or 80, lines or 24

    @staticmethod
    def rows(text: str, columns: int) -> int:
        """The screen rows `text` (one line, no newline) takes when written from column 0 of a
        terminal `columns` wide that wraps at the margin (wide characters take two cells)."""
        from rich.cells import get_character_cell_size

        rows, column = 1, 0
        for char in text:
            if char == "\t":
                column = min((column // 8 + 1) * 8, columns - 1)
                continue
            width = get_character_cell_size(char)
            if column + width > columns:
                rows += 1
                column = 0
            column += width
        return rows

    def _complete(self, line: str, shown: str) -> None:
        columns, lines = self._size()
        table_row = self.fence is None and _TABLE_ROW.match(line) is not None
        if shown:
            rows = self.rows(shown, columns)
            if rows >= lines:  # its top has scrolled away: it stays raw, and so does the
                self.out.write(line[len(shown) :] + "\n")  # table above it (or its own)
                self.table, self.table_rows, self.table_raw = [], 0, table_row
                self._track_fence(line)
                return
            self.out.write("\r" + (f"\x1b[{rows - 1}A" if rows > 1 else "") + "\x1b[J")
        if table_row:
            self.out.write(line + "\n")
            if not self.table_raw:
                self.table.append(line)
                self.table_rows += self.rows(line, columns)
            return
        self.table_raw = False
        if self.table:
            self._draw_table()
        self._emit(self._render(line, columns), columns)

    def _draw_table(self) -> None:
        columns, lines = self._size()
        rows, table = self.table_rows, self.table
        self.table, self.table_rows = [], 0
        if rows >= lines:
            return  # taller than the screen: it stays raw
        self.out.write(f"\r\x1b[{rows}A\x1b[J")
        self._emit(self._markdown("\n".join(table), columns), columns)

    def _emit(self, lines: list[list[Any]], columns: int) -> None:
        from rich.segment import Segment, Segments

        self.console.width = columns
        segments = [segment for line in lines for segment in (*line, Segment.line())]
        self.console.print(Segments(segments), end="")

    # -- rendering

    def _track_fence(self, line: str) -> bool:
        """Follow code fences; True when `line` is a fence (opening or closing)."""
        if self.fence is None:
            opened = _FENCE_OPEN.match(line)
            if opened is None:
                return False
            marks = opened.group(1)
            self.fence = (marks[0], len(marks), opened.group(2))
            self.code = []
            return True
        closed = _FENCE_CLOSE.match(line)
        if closed and closed.group(1)[0] == self.fence[0] and len(closed.group(1)) >= self.fence[1]:
            self.fence = None
            self.code = []
            return True
        self.code.append(line)
        return False

    def _render(self, line: str, columns: int) -> list[list[Any]]:
        from rich.segment import Segment
        from rich.syntax import Syntax

        in_code = self.fence is not None
        if self._track_fence(line):  # a fence: a row of the code block's background
            background = Syntax.get_theme(CODE_THEME).get_background_style()
            return [[Segment(" " * columns, background)]]
        if in_code:
            language = self.fence[2] if self.fence else ""
            code = Syntax(
                "\n".join(self.code),
                language or "text",
                theme=CODE_THEME,
                line_range=(len(self.code), len(self.code)),
                word_wrap=True,
                padding=(0, 1),
            )
            return self._lines(code, columns) or [[]]
        if not line.strip():
            return [[]]
        expanded = line.expandtabs(4)
        body = expanded.lstrip(" ")
        indent = min(len(expanded) - len(body), columns // 2)
        lines = self._markdown(body, columns - indent)
        if indent:
            lines = [[Segment(" " * indent), *row] for row in lines]
        return lines

    def _markdown(self, text: str, columns: int) -> list[list[Any]]:
        """`text` rendered as Markdown (rows of segments); as plain text when Markdown would
        hide some of it (HTML, link definitions) or show nothing."""
        from rich.text import Text

        markdown = _markdown_type()(text, code_theme=CODE_THEME, hyperlinks=False)
        if not _has_html(markdown.parsed):
            lines = self._lines(markdown, columns)
            if lines:
                return lines
        return self._lines(Text(text), columns) or [[]]

    def _lines(self, renderable: Any, columns: int) -> list[list[Any]]:
        """Rendered rows, without blank rows around them or padding at their ends."""
        options = self.console.options.update(width=max(columns, 1))
        rows = [_trim(row) for row in self.console.render_lines(renderable, options, pad=False)]
        while rows and not rows[0]:
            rows.pop(0)
        while rows and not rows[-1]:
            rows.pop()
        return rows


def _trim(row: list[Any]) -> list[Any]:
    """A row without the blank padding Rich adds at its end (coloured backgrounds are kept)."""
    row = list(row)
    while row:
        last = row[-1]
        if last.style is not None and last.style.bgcolor is not None:
            break
        text = last.text.rstrip()
        if text:
            row[-1] = last._replace(text=text)
            break
        row.pop()
    return row


def _has_html(tokens: list[Any]) -> bool:
    return any(t.type.startswith("html") or _has_html(t.children or []) for t in tokens)


@functools.cache
def _markdown_type() -> Any:
    """rich.markdown.Markdown with every heading on the left (made on first use: Rich is
    imported only when a reply is rendered)."""
    from rich.markdown import Heading, Markdown

    class LeftHeading(Heading):
        """Headings on the left, as a terminal reader expects (Rich centres the first level)."""

        LEVEL_ALIGN = dict.fromkeys(("h1", "h2", "h3", "h4", "h5", "h6"), "left")

    class TerminalMarkdown(Markdown):
        elements: ClassVar[dict[str, type[Any]]] = {
            **Markdown.elements,
            "heading_open": LeftHeading,
        }

    return TerminalMarkdown
