"""Copy over SSH (exact OSC 52 bytes; inside tmux, what tmux did decides the words), code
blocks, the focused message, in-app export, and the filter searching message content."""

from __future__ import annotations

import base64
import os
import stat

import pytest
from textual.widgets import Input

from tui_chat.emulator import Fault
from tui_chat.export import to_markdown
from tui_chat.ui import tools
from tui_chat.ui.clipboard import TmuxProbe
from tui_chat.ui.screens.dialogs import AskText, CodePicker, Confirm
from tui_chat.ui.widgets.conversation_list import ConversationList
from tui_chat.ui.widgets.message_view import AssistantTurn, UserTurn

from .conftest import send, wait_for, wait_for_screen, wait_idle

REPLY = """Two blocks follow.

```python
print("one")
```

And another:

```sh
echo two
```
"""


@pytest.fixture
def written(monkeypatch):
    """Everything the app writes to the terminal through its driver."""
    chunks: list[str] = []

    def capture(app):
        original = app._driver.write

        def write(data: str) -> None:
            chunks.append(data)
            original(data)

        monkeypatch.setattr(app._driver, "write", write)
        return chunks

    return capture


def osc52(text: str) -> str:
    return "\x1b]52;c;" + base64.b64encode(text.encode()).decode() + "\x07"


def passthrough(sequence: str) -> str:
    """The `ESC P tmux;` form, which tmux 3.3+ drops at its defaults."""
    return "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"


REPLY_TEXT = "Copy me: ünïcode ✓"

#: Inside tmux: what tmux did and said (faked: the real thing is tests/ui/test_tmux_copy.py),
#: whether the passthrough form must be written, and the notification.
TMUX_CASES = {
    "outside-tmux": (None, False, "Copied the last reply (18 characters) via OSC 52."),
    "tmux-buffer": (
        TmuxProbe("tmux 3.3a", True, "", "external", "off"),
        False,
        "Copied the last reply (18 characters) via tmux's buffer and OSC 52.",
    ),
    "tmux-3.1-passthrough": (
        TmuxProbe("tmux 3.1", False, "tmux 3.1 has no load-buffer -w", "external", None),
        True,
        "Copied the last reply (18 characters) via OSC 52 through tmux's passthrough.",
    ),
    "tmux-drops-it": (
        TmuxProbe("tmux 3.3a", False, "tmux load-buffer failed (no clients)", "external", "off"),
        False,
        "Not copied: tmux load-buffer failed (no clients), and tmux drops OSC 52 with "
        "set-clipboard external and allow-passthrough off; add `set -g set-clipboard on` to "
        "~/.tmux.conf.",
    ),
}


@pytest.mark.parametrize("case", list(TMUX_CASES))
async def test_ctrl_y_writes_the_exact_osc52_bytes(make_app, emulator, written, monkeypatch, case):
    probe, wrapped, said = TMUX_CASES[case]
    monkeypatch.setenv("SSH_CONNECTION", "10.0.0.1 5000 10.0.0.2 22")  # no local tool
    asked: list[str] = []
    if probe is not None:
        monkeypatch.setenv("TMUX", "/tmp/tmux-0/no-such-server,1,0")

        def fake_probe(text: str) -> TmuxProbe:
            asked.append(text)
            return probe

        # Never the machine's tmux: a test must not touch a real tmux server's buffers.
        monkeypatch.setattr(tools, "probe_tmux", fake_probe)
    else:
        monkeypatch.delenv("TMUX", raising=False)
    emulator.add_fault(Fault("scripted_reply", text=REPLY_TEXT))
    app = make_app()
    async with app.run_test() as pilot:
        chunks = written(app)
        await send(pilot, "hello")
        await wait_idle(pilot, app)
        before = len(app._notifications)
        await pilot.press("ctrl+y")
        # Inside tmux the words come once tmux has answered, from a thread.
        await wait_for(pilot, lambda: len(app._notifications) > before)
        assert [str(n.message) for n in app._notifications][before:] == [said]
        output = "".join(chunks)
        # The plain OSC 52 always; the passthrough form only where tmux forwards it.
        assert osc52(REPLY_TEXT) in output
        assert (passthrough(osc52(REPLY_TEXT)) in output) == wrapped
        assert app.clipboard == REPLY_TEXT
        assert asked == ([REPLY_TEXT] if probe is not None else [])


async def test_copying_a_code_block_and_choosing_among_several(make_app, emulator, written):
    emulator.add_fault(Fault("scripted_reply", text=REPLY))
    app = make_app()
    async with app.run_test() as pilot:
        chunks = written(app)
        await send(pilot, "code please")
        await wait_idle(pilot, app)
        app.action_copy_code()
        await wait_for_screen(pilot, CodePicker, "OptionList")
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.clipboard == "echo two\n"
        assert osc52("echo two\n") in "".join(chunks)


async def test_the_focused_message_is_copied(make_app):
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "first words")
        await wait_idle(pilot, app)
        app.query(UserTurn).first().focus()
        await pilot.press("y")
        assert app.clipboard == "first words"
        await pilot.press("down")  # to the reply
        assert isinstance(app.focused, AssistantTurn)
        await pilot.press("ctrl+y")
        assert app.clipboard == app.conversation.messages[1].content


async def test_in_app_export_writes_the_same_markdown(make_app, tmp_path):
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "export me")
        await wait_idle(pilot, app)
        target = tmp_path / "out" / "chat.md"
        target.parent.mkdir()
        app.action_export()
        await wait_for_screen(pilot, AskText, "Input")
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await wait_for(pilot, target.exists)
        assert target.read_text() == to_markdown(app.conversation)
        assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
        messages = [str(n.message) for n in app._notifications]
        assert any(str(target) in m and "Exported" in m for m in messages)
        # A second export to the same file asks first.
        target.write_text("keep")
        app.action_export()
        await wait_for_screen(pilot, AskText, "Input")
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await wait_for_screen(pilot, Confirm, "Button")
        await pilot.press("n")
        await pilot.pause()
        assert target.read_text() == "keep"


async def test_filter_matches_message_content(make_app, sessions):
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "first topic")
        await wait_idle(pilot, app)
        first = app.conversation.id
        await pilot.press("ctrl+n")
        await send(pilot, "second topic about zebras")
        await wait_idle(pilot, app)
        await pilot.press("ctrl+n")
        await send(pilot, "third")
        await wait_idle(pilot, app)
        listing = app.query_one(ConversationList)
        await pilot.press("ctrl+f", *"zebras")
        await wait_for(pilot, lambda: listing.option_count == 1)
        # The reply (not the title) of the first conversation says "Demo"/"demo".
        app.query_one("#filter", Input).value = "built-in demo"
        await wait_for(pilot, lambda: listing.option_count == 3)
        app.query_one("#filter", Input).value = "first topic"
        await wait_for(pilot, lambda: listing.option_count == 1)
        assert listing.get_option_at_index(0).id == first
