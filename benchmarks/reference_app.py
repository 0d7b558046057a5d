"""The reference apps the pty benchmarks compare tui-chat with: plain Textual at its defaults.

    python benchmarks/reference_app.py bare
        A bare Textual app (a Static and a Footer showing "Quit"): time to first frame.

    python benchmarks/reference_app.py stream FILE [--tps 100]
        Waits for Enter, then streams FILE's text into `Markdown.get_stream()` inside an
        anchored VerticalScroll, split into the emulator's tokens (a word and the whitespace
        after it) at `--tps` tokens a second: what a straightforward Textual chat client does.

Textual's frame rate and everything else stay at their defaults; the theme is the default.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time
from pathlib import Path

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Footer, Markdown, Static

_TOKEN = re.compile(r"\s*\S+\s*")  # the emulator's tokenizer (tui_chat.emulator.demo_model)


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text)


class BareApp(App):
    BINDINGS = [Binding("ctrl+q", "quit", "Quit")]  # noqa: RUF012

    def compose(self):
        yield Static("reference app")
        yield Footer()


class StreamApp(App):
    BINDINGS = [Binding("ctrl+q", "quit", "Quit"), Binding("enter", "go", "Stream")]  # noqa: RUF012

    def __init__(self, text: str, tps: float) -> None:
        super().__init__()
        self.text = text
        self.tps = tps
        self.started = False

    def compose(self):
        with VerticalScroll(id="scroll"):
            yield Markdown(id="reply")
        yield Footer()

    def action_go(self) -> None:
        if not self.started:
            self.started = True
            self.stream_reply()

    @work
    async def stream_reply(self) -> None:
        container = self.query_one(VerticalScroll)
        container.anchor()
        stream = Markdown.get_stream(self.query_one(Markdown))
        tokens = tokenize(self.text)
        started = time.monotonic()
        try:
            for n, token in enumerate(tokens):
                delay = started + n / self.tps - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                await stream.write(token)
        finally:
            await stream.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="mode", required=True)
    sub.add_parser("bare")
    stream = sub.add_parser("stream")
    stream.add_argument("file", type=Path)
    stream.add_argument("--tps", type=float, default=100.0)
    args = parser.parse_args()
    if args.mode == "bare":
        BareApp().run()
    else:
        StreamApp(args.file.read_text(encoding="utf-8"), args.tps).run()


if __name__ == "__main__":
    main()
