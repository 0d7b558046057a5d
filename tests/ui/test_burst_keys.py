"""Keys typed in a burst are applied in the order they were typed.

Over SSH, or while the app is busy, several keys reach the app in one read. Textual 8.2.8
inserts printable keys in the widget but runs bound keys (backspace, arrows, ctrl+w...)
later, through the App's binding chain (Textualize/textual#6605), so `abc`, DEL, `d` gave
`abc`. `OrderedKeys` (tui_chat/ui/widgets/keys.py) fixes that for `OrderedInput` and the
prompt. Every burst here is written to a real pseudo-terminal in ONE write: to an
`OrderedInput` in a small app, and to the real app's prompt.

Typed characters that are text though Python's `str.isprintable()` says no (the zero-width
joiner of a family emoji, a zero-width space, a no-break space...) were dropped by Textual's
`Input`/`TextArea` key handling and are kept now (`typed_text` in keys.py); they are written
to the terminal as an emoji picker or an input method sends them, UTF-8 bytes in one write.
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
from pathlib import Path

import pytest

from tests.reliability import conftest as reliability
from tests.reliability.conftest import (  # noqa: F401 - pty_apps is a fixture
    emulator_env,
    pty_apps,
    xdg_env,
)

#: (bytes written at once, the text it must leave)
BURSTS = [
    pytest.param(b"abc\x7fd", "abd", id="backspace"),
    pytest.param(b"abc\x1b[D\x1b[Dd", "adbc", id="two-left-arrows"),
    pytest.param(b"foo bar\x17baz", "foo baz", id="ctrl+w"),
    pytest.param(b"abc\x15xyz", "xyz", id="ctrl+u"),
]
CTRL_Y = b"\x19"

#: Text with characters that arrive as keys Textual used to drop. The app draws the text as it
#: is (zero-width characters and all), so the test waits until the whole text is drawn.
TYPED_TEXT = [
    pytest.param("a\U0001f468\u200d\U0001f469\u200d\U0001f467b", id="family-emoji-zwj"),
    pytest.param("x\u200by", id="zero-width-space"),
    pytest.param("\u2764\ufe0f", id="variation-selector-16"),
    pytest.param("p\u200cq\u2060r\u200es", id="zwnj-word-joiner-lrm"),
    pytest.param("no\u00a0break\u3000wide", id="no-break-and-ideographic-space"),
    pytest.param("new \U0001fae8 emoji", id="emoji-newer-than-python"),
]
CSI = re.compile(r"\x1b\[[0-9;?<>=$]*[@-~]")

#: A small app with one `OrderedInput` and an App binding (ctrl+y); on ctrl+q it writes the
#: input's value and how often the App's binding ran to the file named by its argument.
SMALL_APP = """
import json
import re
import sys
from pathlib import Path

from textual.app import App

from tui_chat.ui.widgets.keys import OrderedInput


class Burst(App):
    BINDINGS = [("ctrl+y", "mark")]
    marks = 0

    def compose(self):
        yield OrderedInput(placeholder="READY-MARKER", id="field")

    def action_mark(self):
        self.marks += 1

    async def action_quit(self):
        value = self.query_one("#field").value
        Path(sys.argv[1]).write_text(json.dumps({"value": value, "marks": self.marks}))
        self.exit()


Burst().run()
"""


def wait_until_shown(app, text: str) -> None:
    """Until the app has drawn `text` (its output without cursor moves and colours) and
    gone quiet, so the burst was handled before ctrl+q reads what it left. If it never shows,
    go on all the same: the test's own assertion then says what the burst left instead."""
    try:
        app.wait_for(lambda: text in CSI.sub("", app.text), timeout=10, what=repr(text))
    except AssertionError:
        pass
    app.wait_quiet()


@pytest.fixture
def small_app(pty_apps, tmp_path, monkeypatch):  # noqa: F811 - pty_apps is the imported fixture
    """SMALL_APP on a pty (PtyApp runs `TUI_CHAT`: here, this Python with the script):
    `run(burst, shows)` writes the burst in one write and gives what the app recorded."""
    script = tmp_path / "burst_app.py"
    script.write_text(SMALL_APP, encoding="utf-8")
    result = tmp_path / "result.json"
    monkeypatch.setattr(reliability, "TUI_CHAT", Path(sys.executable))

    def run(burst: bytes, shows: str) -> dict:
        app = pty_apps(xdg_env(tmp_path / "home"), str(script), str(result), size=(60, 10))
        app.wait_for_text("READY-MARKER")
        app.wait_quiet()
        app.write(burst)
        wait_until_shown(app, shows)
        assert app.quit() == 0
        return json.loads(result.read_text(encoding="utf-8"))

    return run


@pytest.mark.parametrize(("burst", "expected"), BURSTS)
def test_a_burst_in_an_ordered_input_is_applied_in_order(small_app, burst, expected):
    assert small_app(burst, expected) == {"value": expected, "marks": 0}


def test_keys_the_input_does_not_bind_still_reach_the_app(small_app):
    assert small_app(b"ab" + CTRL_Y + b"c\x7fd", "abd") == {"value": "abd", "marks": 1}


@pytest.mark.parametrize("text", TYPED_TEXT)
def test_typed_zero_width_characters_are_kept_in_an_ordered_input(small_app, text):
    assert small_app(text.encode("utf-8"), text) == {"value": text, "marks": 0}


@pytest.fixture
def prompt_app(pty_apps, app_env, isolated_environment):  # noqa: F811
    """The real app against the emulator: `run(burst, shows)` writes the burst to its
    terminal in one write, waits until `shows` is drawn, quits with ctrl+q, and gives the
    prompt's draft as saved in state.toml and the text the app drew."""
    home = isolated_environment

    def run(burst: bytes, shows: str):
        app = pty_apps(emulator_env(home, app_env))
        app.wait_for_text("Quit")  # the footer: the app is drawn, the prompt has focus
        app.wait_quiet()
        app.write(burst)
        wait_until_shown(app, shows)
        shown = CSI.sub("", app.text)
        assert app.quit() == 0
        state = tomllib.loads((home / "data" / "tui-chat" / "state.toml").read_text("utf-8"))
        return state.get("drafts", {}).get("new", ""), shown

    return run


@pytest.mark.parametrize(("burst", "expected"), BURSTS)
def test_a_burst_in_the_prompt_is_applied_in_order(prompt_app, burst, expected):
    draft, _ = prompt_app(burst, expected)
    assert draft == expected


@pytest.mark.parametrize("text", TYPED_TEXT)
def test_typed_zero_width_characters_are_kept_in_the_prompt(prompt_app, text):
    """The draft saved in state.toml is the text typed, joiners and all: the family emoji is
    one emoji, not three."""
    draft, _ = prompt_app(text.encode("utf-8"), text)
    assert draft == text


def test_the_apps_keys_work_in_a_burst_in_the_prompt(prompt_app):
    """ctrl+y in the middle of a burst still reaches the app (nothing to copy yet)."""
    draft, shown = prompt_app(b"ab" + CTRL_Y + b"c\x7fd", "There is no reply to copy yet.")
    assert draft == "abd"
    assert "There is no reply to copy yet." in shown


def test_a_burst_in_a_sidebar_field_is_applied_in_order(pty_apps, app_env, isolated_environment):  # noqa: F811
    """The sidebar's fields are `OrderedInput`s: ctrl+a, ctrl+k, `0.45`, DEL, `6` in one write
    sets temperature 0.46, and that is what the next request sends."""
    home = isolated_environment
    app = pty_apps(emulator_env(home, app_env), size=(100, 40))  # the sidebar starts hidden
    app.wait_for_text("Quit")
    app.wait_quiet()
    app.write(b"\x0f")  # ctrl+o: the sidebar takes the focus, on its temperature field
    app.wait_for_text("Temperature")
    app.wait_quiet()
    app.write(b"\x01\x0b0.45\x7f6")
    wait_until_shown(app, "0.46")
    app.write(b"\x0f")  # back to the prompt
    app.wait_quiet()
    app.write(b"hello\r")
    app.wait_for(lambda: len(app_env.requests) == 1, timeout=20, what="the request")
    app.wait_quiet()
    assert app.quit() == 0
    assert app_env.requests[-1].body["temperature"] == 0.46


def test_typing_on_a_focused_message_goes_to_the_prompt_in_a_burst(
    pty_apps,  # noqa: F811
    app_env,
    isolated_environment,
):
    """A printable key a focused message does not bind moves the focus to the prompt and is
    typed there; the rest of the burst follows it, even the keys a message binds (`y` copies a
    focused message): "Say hi" written at once is the draft, and nothing is copied."""
    home = isolated_environment
    app = pty_apps(emulator_env(home, app_env))
    app.wait_for_text("Quit")
    app.wait_quiet()
    app.write(b"hello\r")
    app.wait_for(lambda: len(app_env.requests) == 1, timeout=20, what="the request")
    app.wait_for_text("end of turn", timeout=20)
    app.wait_quiet()
    app.write(b"\x1b[Z")  # shift+Tab: the last message takes the focus
    app.wait_quiet()
    app.write(b"Say hi")
    wait_until_shown(app, "Say hi")
    shown = CSI.sub("", app.text)
    assert app.quit() == 0
    assert "Copied" not in shown
    state = tomllib.loads((home / "data" / "tui-chat" / "state.toml").read_text("utf-8"))
    assert "Say hi" in state.get("drafts", {}).values()


def test_every_text_field_of_ours_applies_a_burst_in_order():
    """Each one-line field the app makes (the compare screen's prompt and columns, the
    dialogs, the filter, the sidebar) is an `OrderedInput`: a plain Textual `Input` would
    apply `ctrl+u` typed after some text before that text (Textualize/textual#6605)."""
    ui = Path(__file__).resolve().parents[2] / "tui_chat" / "ui"
    plain = re.compile(r"(?<![A-Za-z_])Input\(")
    found = [
        f"{path.relative_to(ui)}:{number}"
        for path in sorted(ui.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if plain.search(line)
    ]
    assert found == []
