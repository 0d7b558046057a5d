"""Write the README's screenshots: the real app, driven with Pilot, on the built-in emulator.

Run with `make screenshots`. Every run starts from empty folders (nothing of yours is read or
written) and writes SVGs next to this file.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def isolate() -> None:
    root = Path(tempfile.mkdtemp(prefix="tui-chat-shots-"))
    for name in ("CONFIG", "DATA", "CACHE", "STATE"):
        os.environ[f"XDG_{name}_HOME"] = str(root / name.lower())
    for name in list(os.environ):
        if name.startswith("AWS_") or name.startswith("TUI_CHAT_"):
            del os.environ[name]
    os.environ["AWS_CONFIG_FILE"] = str(root / "none")
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = str(root / "none")
    os.environ["TUI_CHAT_DEMO"] = "1"
    os.environ["TUI_CHAT_DEMO_TPS"] = "0"


async def until(pilot, predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not get there")
        await pilot.pause(0.05)


async def send(pilot, text: str) -> None:
    from tui_chat.ui.widgets.prompt import PromptInput

    prompt = pilot.app.query_one(PromptInput)
    prompt.focus()
    prompt.load_text(text)
    await pilot.press("enter")
    await pilot.pause(0.1)
    await until(pilot, lambda: not pilot.app.streams)
    await pilot.pause(0.3)


async def shoot(name: str, size: tuple[int, int], script, theme: str | None = None) -> None:
    from tui_chat.config import load_settings
    from tui_chat.ui.app import ChatApp

    app = ChatApp(load_settings(theme=theme))
    async with app.run_test(size=size) as pilot:
        await pilot.pause(0.2)
        app.clear_notifications()
        await script(pilot)
        app.clear_notifications()
        await pilot.pause(0.2)
        app.save_screenshot(str(HERE / f"{name}.svg"))
    print(f"wrote screenshots/{name}.svg")


async def streamed_reply(pilot) -> None:
    await send(pilot, "Write a small Python function that greets someone")


async def sidebar_editing(pilot) -> None:
    app = pilot.app
    await send(pilot, "Explain nucleus sampling in two sentences")
    app.query_one("#model").value = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    app.query_one("#temperature").value = "0.4"
    app.query_one("#top_p").value = "0.9"
    app.query_one("#top_k").value = "900"
    app.query_one("#stop_sequences").value = "END, \\n\\nObserver:"
    app.query_one("#top_k").focus()
    await pilot.pause(0.2)


async def thinking_reply(pilot) -> None:
    """A current Claude that thinks before it answers: the thinking expanded above the reply."""
    app = pilot.app
    await send(pilot, "Why is the sky blue? Keep it short.")
    await pilot.press("ctrl+g")
    await pilot.pause(0.3)
    app.query_one("#prompt").focus()


async def current_model_sidebar(pilot) -> None:
    """The sidebar for a model that sets its own sampling: Effort and Thinking instead."""
    from textual.widgets import Select

    app = pilot.app
    app.query_one("#effort", Select).value = "medium"
    await send(pilot, "Plan a three-day trip to Lisbon")
    app.query_one("#effort").focus()
    await pilot.pause(0.2)


async def small_terminal(pilot) -> None:
    await send(pilot, "What is good about the colour blue?")


async def help_screen(pilot) -> None:
    await pilot.press("f1")
    await pilot.pause(0.2)


async def error_block(pilot) -> None:
    from tui_chat.emulator import Fault

    app = pilot.app
    await send(pilot, "Tell me about the sea")
    app.engine()  # the demo's emulator is running from here on
    app._demo._emulator.add_fault(Fault("cut", after_tokens=40))
    await send(pilot, "And about rivers?")


async def theme_demo(pilot) -> None:
    await send(pilot, "Show me a Python example with a list")
    await pilot.press("ctrl+o")
    await pilot.pause(0.1)
    pilot.app.query_one("#prompt").focus()


async def compare_mode(pilot) -> None:
    from textual.widgets import Input

    from tui_chat.ui.screens.compare import CompareScreen

    app = pilot.app
    await pilot.press("f3")
    await until(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen.query(Input))
    screen = app.screen
    screen.query_one("#config-2", Input).value = "model=us.amazon.nova-pro-v1:0"
    screen.query_one("#compare-prompt", Input).value = "Name three uses for a lighthouse"
    screen.query_one("#compare-prompt").focus()
    await pilot.press("enter")
    await until(pilot, lambda: screen.columns and all(c.done for c in screen.columns))
    await pilot.pause(0.3)


async def attachments(pilot) -> None:
    """A prompt with an image, a PDF and a Python file: sent, and three more waiting."""
    import struct
    import zlib

    from tui_chat import attachments as files

    def png(width: int, height: int) -> bytes:
        def chunk(kind: bytes, data: bytes) -> bytes:
            body = kind + data
            return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

        header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
        return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")

    folder = Path(tempfile.mkdtemp())
    (folder / "chart.png").write_bytes(png(640, 480))
    pdf = b"%PDF-1.4\n" + b"1 0 obj << /Type /Page >> endobj\n" * 3 + b"%%EOF\n"
    (folder / "spec.pdf").write_bytes(pdf)
    (folder / "retry.py").write_text("def retry(call, times=3):\n    ...\n", encoding="utf-8")
    app = pilot.app
    for name in ("chart.png", "spec.pdf", "retry.py"):
        app.attaching.pending.append(files.read(folder / name))
    await app.attaching.refresh()
    await send(pilot, "What do these three have in common?")
    (folder / "notes.md").write_text("# Notes\n", encoding="utf-8")
    app.attaching.pending.append(files.read(folder / "notes.md"))
    await app.attaching.refresh()
    from tui_chat.ui.widgets.message_view import MessageView, UserTurn

    view = app.query_one(MessageView)
    view.scroll_to_widget(app.query(UserTurn).last(), top=True, animate=False)
    await pilot.pause(0.2)
    app.query_one("#prompt").focus()


SHOTS = [
    ("streamed-reply", (120, 36), streamed_reply, None),
    ("sidebar", (120, 36), sidebar_editing, None),
    ("thinking", (120, 40), thinking_reply, None),
    ("current-model-sidebar", (120, 44), current_model_sidebar, None),
    ("small-80x24", (80, 24), small_terminal, None),
    ("help", (100, 30), help_screen, None),
    ("error-block", (120, 36), error_block, None),
    ("light-theme", (120, 36), theme_demo, "paper"),
    ("terminal16", (120, 36), theme_demo, "terminal16"),
    ("compare", (150, 40), compare_mode, None),
    ("attachments", (120, 36), attachments, None),
]


async def main() -> None:
    for name, size, script, theme in SHOTS:
        isolate()
        await shoot(name, size, script, theme)


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    asyncio.run(main())
