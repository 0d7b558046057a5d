"""Hostile output: what a model (or a session file, or an error message) says is shown, never
obeyed. The real app runs on a pseudo-terminal; every byte it writes is captured and searched
for the hostile text's own escape sequences.

Textual writes plenty of escape sequences of its own, so the checks look for the hostile
payloads exactly: a distinctive CSI (`ESC[31mRED-CSI`), the OSC 52 clipboard write with its
base64, an OSC 8 hyperlink to a distinctive address, a window-title OSC, a DCS, BEL and BS right
after a distinctive word, and the C1 CSI (U+009B, which UTF-8 terminals obey).
"""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from datetime import UTC, datetime, timedelta

import tomli_w

from tests.cli_result import read_terminal
from tui_chat.conversation import Conversation, Message
from tui_chat.emulator import Fault
from tui_chat.params import Params
from tui_chat.store import SessionStore, StoreError

from .conftest import (
    KEY_CTRL_N,
    KEY_ESCAPE,
    KEY_F2,
    MODEL,
    TUI_CHAT,
    Result,
    emulator_env,
    sessions_dir,
    write_config,
)

# Each hostile piece, and the exact bytes that must never reach the terminal.
PAYLOADS = {
    "csi": ("\x1b[31mRED-CSI\x1b[0m", [b"\x1b[31mRED-CSI"]),
    "osc52": ("\x1b]52;c;UFdORUQtQ0xJUA==\x07", [b"\x1b]52;c;UFdORUQtQ0xJUA"]),
    "osc8": (
        "\x1b]8;;https://evil.example/x\x1b\\click me\x1b]8;;\x1b\\",
        [b"\x1b]8;;https://evil.example"],
    ),
    "title": ("\x1b]0;PWNED-TITLE\x07", [b"\x1b]0;PWNED-TITLE"]),
    "dcs": ("\x1bPq#0;2;0;0;0\x1b\\", [b"\x1bPq#0"]),
    "bel": ("RING\x07RING", [b"RING\x07"]),
    "bs": ("BACK\x08\x08\x08\x08FRONT", [b"BACK\x08"]),
    "c1": ("\x9b32mC1-CSI", [b"\xc2\x9b32mC1", b"\x9b32mC1"]),
    "cr": ("SAFE-TEXT\rEVIL", [b"SAFE-TEXT\rEVIL"]),
}
HOSTILE = " ".join(text for text, _ in PAYLOADS.values())
MARKUP = "[bold]B[/bold] [link=https://evil.example]L[/link] [@click=app.quit]Q[/]"
FORBIDDEN = [needle for _, needles in PAYLOADS.values() for needle in needles]


def leaks(output: bytes) -> list[bytes]:
    return [needle for needle in FORBIDDEN if needle in output]


def hostile_conversation() -> Conversation:
    """A session file with hostile text in every field the app shows."""
    when = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    params = Params(
        model=f"custom.model-{PAYLOADS['title'][0]}",
        system=f"system prompt {HOSTILE}",
        stop_sequences=(f"stop {PAYLOADS['csi'][0]}", f"OSC {PAYLOADS['osc52'][0]}"),
    )
    conversation = Conversation(id="20260501T120000Z-0badc0", params=params)
    conversation.created = conversation.updated = when
    alternative = Message(
        role="assistant", content=f"alternative {HOSTILE}", created=when, params={"model": MODEL}
    )
    conversation.messages = [
        Message(role="user", content=f"OPENING-MARKER user text {HOSTILE}", created=when),
        Message(
            role="assistant",
            content=f"first reply {HOSTILE}\n\n{MARKUP}",
            created=when + timedelta(seconds=1),
            stop_reason="stop_sequence",
            stop_sequence=PAYLOADS["osc8"][0],
            params={"model": f"custom.model-{PAYLOADS['title'][0]}", "temperature": 0.5},
            usage={"input_tokens": 3, "output_tokens": 9, "latency_ms": 500},
            alternatives=[alternative],
        ),
        Message(role="user", content="second question", created=when + timedelta(seconds=2)),
        Message(
            role="assistant",
            content=f"half a reply {PAYLOADS['bel'][0]}",
            created=when + timedelta(seconds=3),
            status="error",
            error={"kind": "throttled", "message": f"server said {HOSTILE}"},
        ),
    ]
    # The rename dialog shows a title's end: keep a payload there.
    conversation.rename(f"Title {MARKUP} {HOSTILE} {PAYLOADS['csi'][0]}")
    return conversation


def test_nothing_hostile_reaches_the_terminal(pty_apps, app_env, isolated_environment):
    """Every place the app shows text from a file, a model or a server, on a real terminal:
    a seeded conversation (title, turns, alternatives, the model id, the system prompt, stop
    sequences, a saved error), drafts and history in state.toml, the rename dialog, a streamed
    reply, and a failure's message from the server."""
    home = isolated_environment
    write_config(home, f'[defaults]\nmodel = "{MODEL}"\n[bedrock]\nmax_attempts = 1\n')
    store = SessionStore(sessions_dir(home))
    seeded = hostile_conversation()
    store.save(seeded)
    state = home / "data" / "tui-chat" / "state.toml"
    state.write_text(
        f'open_conversation = "{seeded.id}"\n'
        f"history = [{_toml_string('old prompt ' + HOSTILE)}]\n"
        f"[drafts]\n{seeded.id} = {_toml_string('draft ' + HOSTILE)}\n"
        f"new = {_toml_string('new draft ' + HOSTILE)}\n",
        encoding="utf-8",
    )

    app = pty_apps(emulator_env(home, app_env))
    app.wait_for_text("OPENING-MARKER")
    app.wait_quiet()
    # The rename dialog shows the title in an input field.
    app.write(KEY_F2)
    app.wait_for_text("Rename this conversation")
    app.wait_quiet()
    app.write(KEY_ESCAPE)
    app.wait_quiet()
    # A new conversation: its hostile draft is in the prompt; what is typed is added to it.
    app.write(KEY_CTRL_N)
    app.wait_quiet()
    app_env.add_fault(Fault("scripted_reply", text=f"STREAMED-MARKER {HOSTILE} {MARKUP} END"))
    app.type(" please reply")
    app.wait_for(lambda: _replies(store) == ["complete"], what="the reply")
    app.wait_for_text("STREAMED-MARKER")
    # A failure whose message (from the server) is hostile.
    app_env.add_fault(Fault("access_denied", message=f"ERROR-MARKER {HOSTILE}"))
    app.type("one more")
    app.wait_for(lambda: _replies(store) == ["complete", "error"], what="the failure")
    app.wait_for_text("ERROR-MARKER")
    app.wait_quiet()
    assert app.quit() == 0

    output = app.output
    assert leaks(output) == [], describe_leaks(output)
    # Shown, not obeyed: the neutralised text is on the screen.
    shown = output.decode("utf-8", "replace")
    assert "␛[31mRED-CSI" in shown
    assert "RING␇RING" in shown
    assert "[@click=app.quit]Q[/]" in shown


def test_ask_on_a_terminal_neutralises_the_reply_and_the_error_line(cli, app_env):
    """`tui-chat ask` with stdout and stderr on a terminal: the streamed reply and the one-line
    error (which quotes the server's message) are both made harmless."""
    app_env.add_fault(Fault("scripted_reply", text=f"REPLY {HOSTILE}"))
    app_env.add_fault(Fault("stream_model_error", after_tokens=20, message=f"ERR {HOSTILE}"))
    result = _run_on_terminal(cli, "ask", "hello")
    assert result.code == 1
    assert leaks(result.out) == [], describe_leaks(result.out)
    shown = result.out.decode("utf-8", "replace")
    assert "␛[31mRED-CSI" in shown and "ERR" in shown
    # The session keeps the exact text.
    (path,) = cli.files()
    reply = tomllib.loads(path.read_text(encoding="utf-8"))["messages"][1]
    assert PAYLOADS["osc52"][0] in reply["content"]
    assert PAYLOADS["osc52"][0] in reply["error"]["message"]


def test_sessions_on_a_terminal_neutralises_titles_and_file_names(cli):
    store = SessionStore(cli.sessions_dir)
    store.save(hostile_conversation())
    cli.sessions_dir.joinpath("bad\x1b]52;c;UFdORUQtQ0xJUA==\x07.toml").write_text("junk")
    result = _run_on_terminal(cli, "sessions")
    assert result.code == 0
    assert leaks(result.out) == [], describe_leaks(result.out)
    assert "20260501T120000Z-0badc0" in result.out.decode()
    assert "␛]52;c;UFdORUQtQ0xJUA==␇.toml" in result.out.decode()


def _run_on_terminal(cli, *args: str) -> Result:
    """Run tui-chat with stdout and stderr on one pseudo-terminal; return what it showed."""
    primary, secondary = os.openpty()
    try:
        proc = subprocess.Popen(
            [str(TUI_CHAT), *args],
            stdin=subprocess.DEVNULL,
            stdout=secondary,
            stderr=secondary,
            env=cli.env,
        )
        os.close(secondary)
        secondary = -1
        data = read_terminal(primary)
        code = proc.wait(timeout=30)
    finally:
        os.close(primary)
        if secondary >= 0:
            os.close(secondary)
    return Result(code, data, b"")


def _replies(store: SessionStore) -> list[str]:
    """The statuses of the replies in the newest conversation (not the seeded one)."""
    listing = store.list()
    newest = [s for s in listing.conversations if s.id != "20260501T120000Z-0badc0"]
    if not newest:
        return []
    try:
        conversation = store.load(newest[0].id, recover=False)
    except StoreError:
        return []
    return [m.status for m in conversation.messages if m.role == "assistant"]


def describe_leaks(output: bytes) -> str:
    """Where each leak is: the text on screen just before it, escape sequences removed."""
    lines = []
    for needle in leaks(output):
        at = output.find(needle)
        before = re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", output[max(0, at - 400) : at])
        lines.append(f"{needle!r} after ...{before[-60:].decode('utf-8', 'replace')!r}")
    return "hostile sequences reached the terminal:\n" + "\n".join(lines)


def _toml_string(text: str) -> str:
    return tomli_w.dumps({"x": text})[4:].strip()


def test_the_last_line_of_defence_removes_every_control_character():
    """`sanitize.strip_controls` (for a filter on every rendered line) leaves printable text,
    tabs and wide characters alone and removes everything a terminal could obey."""
    from tui_chat.sanitize import has_controls, strip_controls

    for text, _needles in PAYLOADS.values():
        cleaned = strip_controls(text)
        assert not has_controls(cleaned)
        assert not leaks(cleaned.encode("utf-8"))
    plain = "tab\tkept, 日本語 and emoji 👋 too"
    assert strip_controls(plain) == plain
    every = "".join(map(chr, [*range(0x20), *range(0x7F, 0xA0), 0x202E, 0x2066]))
    assert strip_controls(every) == "\t"
