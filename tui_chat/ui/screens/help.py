"""The help screen: every key (from the table of commands, ui/commands.py), how to copy over
SSH, and where things are kept."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui_chat.ui import commands

NOTES = (
    "Copying over SSH: ctrl+y sends the text to your terminal's clipboard with OSC 52, which "
    "works over SSH in most terminals (not macOS Terminal.app). Inside tmux it also goes into "
    "tmux's buffer (tmux load-buffer -w, which tmux forwards to the outer terminal), so it "
    "works at tmux's default options; when tmux's options drop it, the notification says so "
    "and which option to set (`set -g set-clipboard on` in ~/.tmux.conf). On a local desktop the "
    "text also goes to wl-copy, xclip, xsel or pbcopy when installed. The command palette has "
    '"Copy code block" and "Export conversation to Markdown".\n\n'
    "Selecting text: drag with the mouse to select, then ctrl+c copies the selection. Started "
    "with --no-mouse (or [ui] mouse = false), the app leaves the mouse to the terminal, so "
    "its own selection and copy work instead.\n\n"
    "Parameters apply to the next request as soon as they are valid; an invalid value is "
    "marked in red and never sent. Today's Claude models set their own sampling: their "
    "temperature, top_p and top_k fields are disabled and Effort (low … max) and Thinking "
    "(off, adaptive, or a budget of tokens) appear instead; a model that always thinks says so. "
    "When Bedrock refuses a parameter for a model, the app remembers it and ctrl+r resends "
    "without it; a retired model's error names a current one, and ctrl+r switches to it. "
    "Conversations are saved as TOML files as you go."
)


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar = [
        Binding("escape,f1,q", "dismiss", "Close"),
    ]

    AUTO_FOCUS = "VerticalScroll"
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 84;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: round $primary;
        background: $surface;
        padding: 0 1;
        scrollbar-size-vertical: 1;
    }
    """

    def compose(self):
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for key, what in commands.help_lines():
            table.add_row(key, what)
        with VerticalScroll():
            yield Static(Text("tui-chat — keys", style="bold"))
            yield Static(table)
            yield Static(Text("\n" + NOTES))
            yield Static(Text("\nEscape closes this help.", style="dim"))
