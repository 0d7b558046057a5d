"""Rich Markdown tuned for a chat pane: links shown as text with their address (never live),
headings left-aligned, images as their alt text, and code blocks on the terminal's own
background so they suit light, dark and 16-colour themes alike.

Its own module so that rich.markdown, markdown-it and Pygments load when the first reply is
drawn, not before the first frame (see `tui_chat.ui.markdown.chat_markdown`).
"""

from __future__ import annotations

from typing import ClassVar

from rich.console import Console, ConsoleOptions, RenderResult
from rich.markdown import CodeBlock, Heading, Markdown, MarkdownContext, MarkdownElement
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
        yield Syntax(
            str(self.text).rstrip(),
            self.lexer_name,
            theme=self.theme,
            word_wrap=True,
            padding=(0, 1),
            background_color=self.background,
        )


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
