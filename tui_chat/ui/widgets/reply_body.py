"""ReplyBody: a reply's Markdown, growing as the stream arrives, repainted a few times a second
at most and in place where it can. The message view's assistant turns and the compare screen's
columns show their replies with it. Its text has been through sanitize.for_display and is
never parsed as markup.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.containers import Vertical
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import Static

from tui_chat.sanitize import for_display
from tui_chat.ui.markdown import Chunker, RenderedOnce, chat_markdown, split_chunks

#: Repaints of a streaming reply per second (the stream itself is never slowed down).
STREAM_FPS = 8.0
#: ... and while the user is typing (a key in the last TYPING_GRACE seconds): keys go first.
TYPING_FPS = 3.0
TYPING_GRACE = 0.5
#: ... and after a flush of at least BURST_CHARS (a very fast stream, or one catching up).
BURST_FPS = 3.0
BURST_CHARS = 2000
#: The block being written grows in steps of this many lines (or a fifth of the screen).
TAIL_STEP = 4

CodeStyle = tuple[str, str]  # (Pygments theme, background colour)
DEFAULT_CODE: CodeStyle = ("monokai", "default")


class Unscrolled(Widget):
    """A widget in the message pane that never scrolls its own content. Textual sets each
    resized widget's virtual size as a reactive that asks for a layout, so every layout that
    resizes one is followed by a second, full one that changes nothing; these skip it (as
    Textual's own scrolling path does)."""

    def _size_updated(self, size, virtual_size, container_size, layout: bool = True) -> bool:
        return super()._size_updated(size, virtual_size, container_size, layout=False)


class MarkdownChunk(Unscrolled, Static):
    """Part of a reply. Until it is first drawn its height is estimated from its text, so the
    chunks of a long reply that scroll by unseen are never parsed or rendered; once drawn, its
    real height replaces the estimate."""

    def __init__(self, content, *, lazy: bool = True, **kwargs) -> None:
        super().__init__(content, **kwargs)
        self._source = content
        self._lazy = lazy  # the live chunk, redrawn as text arrives, is always measured
        self._estimated: int | None = None
        #: Grow in steps of this many lines (the block being written, while it streams).
        self.step = 0

    def update(self, content="", *, layout: bool = True) -> None:
        self._source = content
        self._estimated = None
        super().update(content, layout=layout)

    def update_from(self, content, line: int) -> None:
        """New content of the same height whose lines above `line` are as they were: only the
        lines from there on are repainted (and written to the terminal)."""
        self._source = content
        self._estimated = None
        # Static.update, without the refresh of the whole widget it ends with.
        self._Static__content = content
        self._Static__visual = None
        width, height = self.size
        self.refresh(Region(0, line, width, max(1, height - line)))

    def get_content_height(self, container, viewport, width: int) -> int:
        source = self._source
        if self._lazy and isinstance(source, RenderedOnce) and source.rendered_width() is None:
            self._estimated = source.estimate_height(width)
            return self._estimated
        height = super().get_content_height(container, viewport, width)
        if self.step and height:
            return -(-height // self.step) * self.step
        return height

    def render_lines(self, crop):
        lines = super().render_lines(crop)
        if self._estimated is not None:
            estimated, self._estimated = self._estimated, None
            source = self._source
            if isinstance(source, RenderedOnce) and source.rendered_height() != estimated:
                self._content_height_cache = (None, 0)
                self.call_later(self.refresh, layout=True)
        return lines


class ReplyBody(Unscrolled, Vertical):
    """A reply's Markdown, cheap to grow a token at a time.

    Settled chunks (whole blocks, about CHUNK_CHARS each) are rendered once, when first seen.
    While streaming, `_open` holds the whole blocks of the chunk still filling and `_live` the
    block still being written; only `_live` is redrawn as text arrives, at most STREAM_FPS
    times a second, and its height grows in steps of TAIL_STEP lines (or a fifth of the
    screen): most redraws then repaint the lines that changed, in place, instead of laying
    out the screen again and scrolling (so repainting) the whole pane.
    """

    DEFAULT_CSS = """
    ReplyBody { height: auto; }
    ReplyBody > .chunk { height: auto; margin-bottom: 1; }
    ReplyBody > .chunk.-last { margin-bottom: 0; }
    """

    def __init__(self, text: str = "", code_style: CodeStyle = DEFAULT_CODE, streaming=False):
        super().__init__()
        self.code_style = code_style
        self.streaming = streaming
        self._chunker = Chunker()
        self._pending = ""
        self._carry_cr = False
        self._last_render = 0.0
        self._interval = 1.0 / STREAM_FPS
        self._timer = None
        self._open: MarkdownChunk | None = None
        self._live: MarkdownChunk | None = None
        self._tail_height = -1  # lines `_live` took when last laid out
        self._tail_lines: list = []  # and the lines it showed
        self._initial = for_display(text)

    def compose(self):
        if self.streaming:
            self._chunker.feed(self._initial)
            for chunk in self._chunker.chunks:
                yield self._chunk_widget(chunk)
            self._open = self._chunk_widget(self._chunker.open, live=True)
            self._live = self._chunk_widget(self._chunker.tail, last=True, live=True)
            self._show_open()
            yield self._open
            yield self._live
        else:
            chunks = split_chunks(self._initial) or [""]
            for n, chunk in enumerate(chunks):
                yield self._chunk_widget(chunk, last=n == len(chunks) - 1)

    def _chunk_widget(self, text: str, last: bool = False, live: bool = False) -> MarkdownChunk:
        widget = MarkdownChunk(self._render_markdown(text), lazy=not live, classes="chunk")
        widget.set_class(last, "-last")
        return widget

    def _render_markdown(self, text: str):
        if not text.strip():
            return Text("")
        code_theme, code_background = self.code_style
        return RenderedOnce(lambda: chat_markdown(text, code_theme, code_background), text)

    def append(self, text: str) -> None:
        """Queue text from the model; it is shown on the next throttled repaint."""
        if self._carry_cr:
            text = "\r" + text
            self._carry_cr = False
        if text.endswith("\r"):
            text, self._carry_cr = text[:-1], True
        self._pending += for_display(text)
        if self._timer is None:
            now = time.monotonic()
            interval = self._interval
            if now - getattr(self.app, "last_typed", 0.0) < TYPING_GRACE:
                interval = max(interval, 1.0 / TYPING_FPS)
            delay = max(0.01, self._last_render + interval - now)
            self._timer = self.set_timer(delay, self.flush)

    def flush(self) -> None:
        """Show everything queued so far."""
        self._timer = None
        if self._carry_cr:
            self._pending += for_display("\r")
            self._carry_cr = False
        if not self._pending or self._live is None or self._open is None:
            return
        pending, self._pending = self._pending, ""
        # A burst (text arriving faster than anyone reads) is drawn less often, leaving the
        # time to receiving it.
        self._interval = 1.0 / (BURST_FPS if len(pending) >= BURST_CHARS else STREAM_FPS)
        before = len(self._chunker.chunks)
        _closed, blocks_done = self._chunker.feed(pending)
        new_chunks = self._chunker.chunks[before:]
        if new_chunks:
            self.mount_all([self._chunk_widget(c) for c in new_chunks], before=self._open)
        if blocks_done:
            self._open.update(self._render_markdown(self._chunker.open))
            self._show_open()
        self._show_tail(moved=blocks_done)
        self._last_render = time.monotonic()

    def _show_open(self) -> None:
        assert self._open is not None
        shown = bool(self._chunker.open.strip())
        if self._open.display != shown:
            self._open.display = shown
        self._open.set_class(not self._chunker.tail.strip(), "-last")

    def _show_tail(self, moved: bool) -> None:
        """Redraw the block being written: in place, from its first changed line, when its
        (stepped) height is unchanged."""
        assert self._live is not None
        tail = self._chunker.tail
        renderable = self._render_markdown(tail)
        shown = bool(tail.strip())
        if self._live.display != shown:  # setting it, even unchanged, asks for a layout
            self._live.display = shown
        if self._open is not None:
            self._open.set_class(not shown, "-last")
        width = self._live.content_region.width or self.content_region.width
        lines = self._render_lines(renderable, width) if width else []
        height = len(lines) if width else -1
        step = self._live.step = max(TAIL_STEP, self.screen.size.height // 5)
        if height > 0:
            height = -(-height // step) * step
        if moved or height != self._tail_height or height < 0 or not self._live.size:
            self._tail_height = height
            self._live.update(renderable)
        else:  # the same height: repaint from the first line that changed
            before = self._tail_lines
            same = 0
            while same < min(len(lines), len(before)) and lines[same] == before[same]:
                same += 1
            self._live.update_from(renderable, same)
        self._tail_lines = lines

    def _render_lines(self, renderable, width: int) -> list:
        console = self.app.console
        return console.render_lines(renderable, console.options.update_width(width))

    def finish(self) -> None:
        self.flush()
        if self._live is None or self._open is None:  # never composed: compose shows it all
            self._initial += self._pending
            self._pending = ""
        else:
            # The same layout as the reply loaded from disk: the tail joins the open chunk.
            self._open.update(self._render_markdown(self._chunker.open + self._chunker.tail))
            self._open.display = True
            self._open.set_class(True, "-last")
            self._live.display = False
            self._live.step = 0
        self.streaming = False
        self.refresh(layout=True)  # to its exact height
