"""Rendering replies: a growing reply split into settled blocks and an unfinished tail, so
streaming costs the same per token at any length.

Finished text is rendered once into chunks of whole blocks; only the last, unfinished block is
rendered again as text arrives. A reply loaded from disk is cut into the same chunks, so it
looks exactly as it did while it streamed. The Markdown itself is `chat_markdown.ChatMarkdown`.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.segment import Segment

#: A settled chunk grows to about this many characters before a new one starts.
CHUNK_CHARS = 2000

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


_SAMPLE = "# A\n\n*b* `c`\n\n- d\n\n```python\ndef e(): pass\n```\n"


def warm_up_markdown() -> None:
    """Load what drawing a reply needs (rich.markdown, markdown-it, Pygments and its Python
    lexer) ahead of the first reply, off the first frame: loaded on the spot, it delayed the
    first lines of a streaming reply by a tenth of a second or more."""
    console = Console(width=40, file=io.StringIO(), color_system=None)
    console.print(chat_markdown(_SAMPLE, "monokai", "default"))


def chat_markdown(text: str, code_theme: str, code_background: str) -> RenderableType:
    """The Rich Markdown renderable for a reply (imported on first use)."""
    from tui_chat.ui.chat_markdown import ChatMarkdown

    return ChatMarkdown(text, code_theme, code_background)


class RenderedOnce:
    """A renderable built and rendered once per width, then replayed.

    Textual asks a widget for its height at every layout and for its lines at every repaint;
    parsing Markdown each time would make a long reply cost more with every token after it.
    `build` makes the renderable when it is first needed, so a chunk nobody looks at (one
    scrolled far above) costs nothing but an estimate of its height (see `estimate_height`).
    """

    def __init__(self, build: Callable[[], RenderableType], text: str = "") -> None:
        self._build = build
        self.text = text
        self._renderable: RenderableType | None = None
        self._key: tuple | None = None
        self._lines: list[list[Segment]] = []

    @property
    def renderable(self) -> RenderableType:
        if self._renderable is None:
            self._renderable = self._build()
        return self._renderable

    def rendered_width(self) -> int | None:
        """The width it was last rendered at (None: never rendered)."""
        return None if self._key is None else self._key[0]

    def rendered_height(self) -> int:
        return len(self._lines)

    def estimate_height(self, width: int) -> int:
        """Lines the text would take as plain wrapped text: close to the Markdown's height."""
        width = max(1, width)
        return sum(
            max(1, -(-cell_len(line) // width)) for line in self.text.rstrip("\n").split("\n")
        )

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        key = (options.max_width, options.justify, options.overflow, options.no_wrap)
        if key != self._key:
            lines = console.render_lines(self.renderable, options.update(height=None), pad=False)
            # Rich starts a list with a blank line; the chunk's margin already separates it.
            while lines and _blank(lines[0]):
                lines.pop(0)
            self._lines = [list(Segment.simplify(line)) for line in lines]
            self._key = key
        new_line = Segment.line()
        for line in self._lines:
            yield from line
            yield new_line


def _blank(line: list[Segment]) -> bool:
    """A line with no text and nothing coloured behind it."""
    return all(
        not segment.text.strip() and not (segment.style and segment.style.bgcolor)
        for segment in line
    )


def _closes(line: str, fence: str) -> bool:
    match = _FENCE.match(line)
    if not match:
        return False
    marker = match.group(1)
    rest = line.strip()[len(marker) :]
    return marker[0] == fence[0] and len(marker) >= len(fence) and not rest.strip()


def take_blocks(text: str) -> tuple[list[str], str]:
    """Split text that starts at a block boundary into whole blocks and the unfinished tail.

    A block ends at a blank line outside a code fence, or at the line that closes a fence.
    Blank lines before any content stay with the block that follows them.
    """
    blocks: list[str] = []
    start = position = 0
    fence: str | None = None
    has_content = False
    lines = text.split("\n")
    for line in lines[:-1]:  # the last piece has no newline yet: it is never complete
        position += len(line) + 1
        if fence is not None:
            if _closes(line, fence):
                fence = None
                blocks.append(text[start:position])
                start, has_content = position, False
            continue
        match = _FENCE.match(line)
        if match:
            fence, has_content = match.group(1), True
        elif line.strip():
            has_content = True
        elif has_content:
            blocks.append(text[start:position])
            start, has_content = position, False
    return blocks, text[start:]


class Chunker:
    """Groups whole blocks into chunks of about `size` characters, the same way whether the
    text arrives all at once or a token at a time."""

    def __init__(self, size: int = CHUNK_CHARS) -> None:
        self.size = size
        self.chunks: list[str] = []
        self.open = ""  # the chunk still being filled
        self.tail = ""  # the unfinished block

    def feed(self, text: str) -> tuple[int, bool]:
        """Add text. Returns (how many chunks were closed, whether the open chunk changed)."""
        self.tail += text
        blocks, self.tail = take_blocks(self.tail)
        closed = 0
        for block in blocks:
            self.open += block
            if len(self.open) >= self.size:
                self.chunks.append(self.open)
                self.open = ""
                closed += 1
        return closed, bool(blocks)

    def all_chunks(self) -> list[str]:
        """Every chunk with the tail joined to the open one: the finished layout."""
        last = self.open + self.tail
        return [*self.chunks, last] if last else list(self.chunks)


def split_chunks(text: str, size: int = CHUNK_CHARS) -> list[str]:
    """The chunks a finished text is shown in (identical to streaming it)."""
    chunker = Chunker(size)
    chunker.feed(text)
    return chunker.all_chunks()
