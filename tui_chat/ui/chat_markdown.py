"""Rich Markdown tuned for a chat pane: links shown as text with their address (never live),
headings left-aligned, images as their alt text, and code blocks on the terminal's own
background so they suit light, dark and 16-colour themes alike.

Its own module so that rich.markdown, markdown-it and Pygments load when the first reply is
drawn, not before the first frame (see `tui_chat.ui.markdown.chat_markdown`).
"""

from __future__ import annotations

from typing import ClassVar

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.markdown import CodeBlock, Heading, Markdown, MarkdownContext, MarkdownElement
from rich.style import Style
from rich.syntax import Syntax
from rich.text import Text


class _LeftHeading(Heading):
    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        text = self.text.copy()
        text.justify = "left"
        yield text


class _PlainCodeBlock(CodeBlock):
    background = "default"

    @classmethod
    def create(cls, markdown: Markdown, token) -> CodeBlock:
        block = super().create(markdown, token)
        block.background = getattr(markdown, "code_background", "default")
        return block

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        code = str(self.text).rstrip()
        syntax = Syntax(code, self.lexer_name, theme=self.theme, background_color=self.background)
        base = Style.parse(f"on {self.background}") if self.background != "default" else Style()
        width = max(8, options.max_width - 2)  # a column of padding on each side
        highlighted = syntax.highlight(code)
        highlighted.rstrip()
        for line in highlighted.split("\n", allow_blank=True):
            for part in _wrap_code_line(line, width):
                part.pad_right(width - part.cell_len)
                row = Text(" ", style=base)
                row.append_text(part)
                row.append(" ", style=base)
                row.stylize(base, 0, len(row))
                row.no_wrap = True
                yield row


#: Marks the continuation of a code line too long for the pane: the line was wrapped there,
#: not broken in the code.
WRAP_MARK = "↪ "


def _wrap_code_line(line: Text, width: int) -> list[Text]:
    """A code line cut to `width` cells, each continuation starting with WRAP_MARK (so code
    stays readable, and a wrapped line is never mistaken for two)."""
    parts: list[Text] = []
    rest = line
    room = width
    while cell_len(rest.plain) > room:
        cut, cells = 0, 0
        for char in rest.plain:
            cells += cell_len(char)
            if cells > room:
                break
            cut += 1
        head, rest = rest.divide([max(1, cut)])
        parts.append(head)
        room = width - len(WRAP_MARK)
        marked = Text(WRAP_MARK, style="dim")
        marked.append_text(rest)
        rest = marked
    parts.append(rest)
    return parts


class _TextOnlyImage(MarkdownElement):
    """An image is shown as its alt text and address; nothing is fetched."""

    @classmethod
    def create(cls, markdown: Markdown, token) -> MarkdownElement:
        return cls(str(token.attrs.get("src", "")))

    def __init__(self, src: str) -> None:
        self.src = src
        self.text = Text()

    def on_enter(self, context: MarkdownContext) -> None:
        self.text = Text()

    def on_text(self, context: MarkdownContext, text: str) -> None:
        self.text.append(text)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield Text.assemble("🖼 ", self.text, (f" ({self.src})", "dim"))


class ChatMarkdown(Markdown):
    """Rich Markdown for the message pane."""

    elements: ClassVar[dict[str, type[MarkdownElement]]] = {
        **Markdown.elements,
        "heading_open": _LeftHeading,
        "fence": _PlainCodeBlock,
        "code_block": _PlainCodeBlock,
        "image": _TextOnlyImage,
    }

    def __init__(
        self, markup: str, code_theme: str = "monokai", code_background: str = "default"
    ) -> None:
        self.code_background = code_background
        super().__init__(markup, code_theme=code_theme, hyperlinks=False)
