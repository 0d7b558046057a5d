"""How `ask` writes a reply: the terminal's rules and the pipe's.

Piped or redirected, stdout gets the text exactly as the model sent it, nothing added. On a
terminal, control characters are shown as symbols, never obeyed (a CR held back in case it is
half of a CRLF), the reply is rendered as Markdown line by line (not with --raw, nor where
the terminal cannot move its cursor), and its last line is finished. Thinking goes to stderr
(dimmed on a terminal), never into stdout's answer."""

from __future__ import annotations

import os
import sys

from tui_chat.cli.common import isatty
from tui_chat.cli.terminal_markdown import TerminalMarkdown
from tui_chat.sanitize import for_display


class Writer:
    """stdout and stderr for one reply."""

    def __init__(self, raw: bool = False, show_thinking: bool = False) -> None:
        self.tty = isatty(sys.stdout)
        #: Piped, stderr gets the thinking only when asked (--thinking): a model that always
        #: thinks would otherwise fill a script's error log.
        self.show_thinking = show_thinking
        self.markdown: TerminalMarkdown | None = None
        if self.tty and not raw and os.environ.get("TERM") != "dumb":
            self.markdown = TerminalMarkdown(sys.stdout)
        self.pending_cr = ""
        self.last_char = "\n"
        self.wrote = False
        self.thinking_state = ""  # "open" while thinking is being written, then "ended"

    def write(self, text: str) -> None:
        self.end_thinking()
        if self.tty:
            text = self.pending_cr + text
            self.pending_cr = ""
            if text.endswith("\r"):
                # Hold a trailing CR back: it may be the first half of a CRLF.
                text, self.pending_cr = text[:-1], "\r"
            text = for_display(text)
        if not text:
            return
        if self.markdown is not None and self.tty:
            self.markdown.feed(text)
        else:
            sys.stdout.write(text)
            sys.stdout.flush()
        self.wrote = True
        self.last_char = text[-1]

    def end_line(self, render: bool = True) -> None:
        """On a terminal, finish the reply's last line (piped output is left exact): rendered
        as Markdown, unless `render` is False (interrupted: what is raw stays raw)."""
        self.end_thinking()
        if not self.tty:
            return
        if self.pending_cr:
            self.pending_cr = ""
            self.write("\r")  # shown as a symbol; nothing left to pair it with
        if self.markdown is not None:
            try:
                self.markdown.close(render)
            except (OSError, ValueError):
                pass
            self.last_char = "\n"
            return
        if self.wrote and self.last_char != "\n":
            try:
                sys.stdout.write("\n")
                sys.stdout.flush()
            except (OSError, ValueError):
                pass
            self.last_char = "\n"

    def think(self, text: str, redacted: bool = False) -> None:
        """The model's thinking, on stderr."""
        stream = sys.stderr
        tty = isatty(stream)
        if not tty and not self.show_thinking:
            return
        try:
            if not self.thinking_state:
                self.thinking_state = "open"
                stream.write("\x1b[2m" if tty else "")
                stream.write("thinking…\n" if tty else "")
            if redacted:
                stream.write("[thinking redacted by the provider]\n")
            elif text:
                stream.write(for_display(text) if tty else text)
            stream.flush()
        except (OSError, ValueError):
            pass

    def end_thinking(self) -> None:
        if self.thinking_state != "open":
            return
        self.thinking_state = "ended"
        try:
            sys.stderr.write("\x1b[0m\n" if isatty(sys.stderr) else "\n")
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
