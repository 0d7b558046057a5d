"""Code blocks on a narrow pane: a line too long is wrapped with a mark, never silently broken."""

from __future__ import annotations

import io

from rich.console import Console

from tui_chat.ui.chat_markdown import WRAP_MARK, ChatMarkdown

LONG = "    return 'x' * 80 + 'a line far too long for a forty-column pane to show at once'"


def render(markdown: str, width: int) -> list[str]:
    console = Console(width=width, file=io.StringIO(), color_system=None, record=True)
    console.print(ChatMarkdown(markdown))
    return console.export_text().splitlines()


def test_a_long_code_line_wraps_with_a_mark_and_keeps_every_character():
    lines = render(f"```python\ndef f():\n{LONG}\n```\n", 40)
    code = [line for line in lines if line.strip()]
    assert code[0].strip() == "def f():"
    continued = [line for line in code[1:] if line.lstrip().startswith(WRAP_MARK.strip())]
    assert len(continued) >= 2  # the long line went on over several marked rows
    assert all(len(line.rstrip()) <= 40 for line in lines)
    rebuilt = "".join(
        line[1:-1].rstrip().removeprefix(WRAP_MARK) if n else line[1:-1].rstrip()
        for n, line in enumerate(code[1:])
    )
    # Every character is there, in order (a space at a row's end reads as padding here).
    assert "".join(rebuilt.split()) == "".join(LONG.split())


def test_short_code_is_not_marked():
    lines = render("```\nprint('hi')\n```\n", 40)
    assert not any(WRAP_MARK.strip() in line for line in lines)
    assert lines[0].strip() == "print('hi')"
