"""ctrl+y inside tmux.

tmux 3.3+ at its defaults (`set-clipboard external`, `allow-passthrough off`) drops an
application's plain OSC 52 and its `ESC P tmux;` passthrough form alike; the app copies
through `tmux load-buffer -w -` instead, and says how it copied, or that it could not.

- The decision and its words: pure functions, called with fake versions, options and failures.
- Asking tmux (`probe_tmux`): with a fake runner, never the machine's tmux server.
- The real thing: the app in a private tmux server at tmux's defaults (`-L NAME -f
  /dev/null`), a reply, ctrl+y sent by `send-keys`, and tmux's buffer must hold the reply.
  tmux must be on PATH (CI installs Debian's).
"""

from __future__ import annotations

import re
import shlex
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.reliability.conftest import TUI_CHAT, emulator_env, sessions_dir
from tui_chat.emulator import Fault
from tui_chat.store import SessionStore, StoreError
from tui_chat.ui.clipboard import (
    TMUX_ADVICE,
    TmuxProbe,
    outcome_in_tmux,
    outcome_outside_tmux,
    parse_tmux_version,
    probe_tmux,
)

# ---------------------------------------------------------------------------------------------
# The decision


@pytest.mark.parametrize(
    ("printed", "release"),
    [
        ("tmux 3.3a", (3, 3)),
        ("tmux 3.2\n", (3, 2)),
        ("tmux 3.1c", (3, 1)),
        ("tmux 2.9a", (2, 9)),
        ("tmux next-3.6", (3, 6)),
        ("tmux 3.4-rc", (3, 4)),
        ("tmux openbsd-7.4", None),  # OpenBSD's base tmux prints the OS release
        ("tmux master", None),
        ("", None),
    ],
)
def test_the_tmux_version_is_read_from_tmux_V(printed, release):
    assert parse_tmux_version(printed) == release


WHAT = "the last reply"

#: probe -> (copied, passthrough written, the words for 1,234 characters of "the last reply")
DECISIONS = {
    "buffer set, at tmux's defaults": (
        TmuxProbe("tmux 3.3a", True, "", "external", "off"),
        (True, False, "Copied the last reply (1,234 characters) via tmux's buffer and OSC 52."),
    ),
    "buffer set, set-clipboard on": (
        TmuxProbe("tmux 3.4", True, "", "on", "off"),
        (True, False, "Copied the last reply (1,234 characters) via tmux's buffer and OSC 52."),
    ),
    "buffer set, but set-clipboard off": (
        TmuxProbe("tmux 3.3a", True, "", "off", "off"),
        (
            True,
            False,
            "Copied the last reply (1,234 characters) via tmux's buffer. tmux's set-clipboard "
            f"is off, so not to the terminal's clipboard: {TMUX_ADVICE}.",
        ),
    ),
    "no buffer, set-clipboard on takes the plain OSC 52": (
        TmuxProbe("tmux 3.3a", False, "tmux load-buffer failed (no clients)", "on", "off"),
        (True, False, "Copied the last reply (1,234 characters) via OSC 52."),
    ),
    "tmux 3.1: no load-buffer -w, but passthrough has no option yet": (
        TmuxProbe("tmux 3.1c", False, "tmux 3.1c has no load-buffer -w", "external", None),
        (
            True,
            True,
            "Copied the last reply (1,234 characters) via OSC 52 through tmux's passthrough.",
        ),
    ),
    "no buffer, allow-passthrough on": (
        TmuxProbe("tmux 3.3a", False, "tmux load-buffer failed (x)", "external", "on"),
        (
            True,
            True,
            "Copied the last reply (1,234 characters) via OSC 52 through tmux's passthrough.",
        ),
    ),
    "no buffer, and tmux's defaults drop OSC 52": (
        TmuxProbe("tmux 3.3a", False, "tmux load-buffer failed (no clients)", "external", "off"),
        (
            False,
            False,
            "Not copied: tmux load-buffer failed (no clients), and tmux drops OSC 52 with "
            f"set-clipboard external and allow-passthrough off; {TMUX_ADVICE}.",
        ),
    ),
    "tmux 3.0 with set-clipboard off": (
        TmuxProbe("tmux 3.0a", False, "tmux 3.0a has no load-buffer -w", "off", "off"),
        (
            False,
            False,
            "Not copied: tmux 3.0a has no load-buffer -w, and tmux drops OSC 52 with "
            f"set-clipboard off and allow-passthrough off; {TMUX_ADVICE}.",
        ),
    ),
    "tmux cannot be asked": (
        TmuxProbe(error="there is no tmux command"),
        (
            None,
            False,
            "Sent the last reply (1,234 characters) by OSC 52 only, which tmux may drop "
            f"(there is no tmux command); to be sure, {TMUX_ADVICE}.",
        ),
    ),
}


@pytest.mark.parametrize("case", list(DECISIONS))
def test_what_a_copy_inside_tmux_says(case):
    probe, (copied, passthrough, words) = DECISIONS[case]
    outcome = outcome_in_tmux(probe)
    assert outcome.copied is copied
    assert outcome.passthrough is passthrough
    assert outcome.message(WHAT, 1234) == words
    assert outcome.severity == ("information" if copied else "warning")


def test_the_local_tool_is_named_only_when_it_worked():
    probe = TmuxProbe("tmux 3.3a", True, "", "external", "off")
    said = outcome_in_tmux(probe, ["xclip", "-selection", "clipboard"], True).message(WHAT, 5)
    assert said == "Copied the last reply (5 characters) via tmux's buffer, OSC 52 and xclip."
    said = outcome_in_tmux(probe, ["xclip"], False).message(WHAT, 5)
    assert said == "Copied the last reply (5 characters) via tmux's buffer and OSC 52."
    # tmux took nothing, but xclip did: the copy was made, and the words say how.
    dropped = TmuxProbe("tmux 3.3a", False, "tmux load-buffer failed (x)", "external", "off")
    outcome = outcome_in_tmux(dropped, ["xclip"], True)
    assert outcome.copied is True
    assert outcome.message(WHAT, 5) == (
        "Copied the last reply (5 characters) via xclip. "
        "tmux did not take it: tmux load-buffer failed (x)."
    )
    assert outcome_in_tmux(dropped, ["xclip"], False).copied is False


def test_outside_tmux_nothing_changes():
    assert outcome_outside_tmux(None).message(WHAT, 3) == (
        "Copied the last reply (3 characters) via OSC 52."
    )
    assert outcome_outside_tmux(["wl-copy"]).message(WHAT, 3) == (
        "Copied the last reply (3 characters) via OSC 52 and wl-copy."
    )


# ---------------------------------------------------------------------------------------------
# Asking tmux, with a fake tmux


class FakeTmux:
    """Answers `tmux ...` commands as a given tmux would; records them."""

    def __init__(self, answers: dict[str, Callable[[], tuple[int, str]] | tuple[int, str]]):
        self.answers = answers
        self.calls: list[tuple[list[str], bytes]] = []

    def __call__(self, command, *, input=b"", timeout=None, **_):
        assert command[0] == "tmux" and timeout is not None
        self.calls.append((command, input))
        answer = self.answers[" ".join(command[1:])]
        code, said = answer() if callable(answer) else answer
        out, err = (said.encode(), b"") if code == 0 else (b"", said.encode())
        return subprocess.CompletedProcess(command, code, out, err)

    @property
    def commands(self) -> list[str]:
        return [" ".join(command[1:]) for command, _ in self.calls]


OPTIONS = {
    "show-options -gv set-clipboard": (0, "external\n"),
    "show-options -gv allow-passthrough": (0, "off\n"),
}


def test_probe_loads_the_buffer_with_the_text_on_stdin():
    tmux = FakeTmux({"-V": (0, "tmux 3.3a\n"), "load-buffer -w -": (0, ""), **OPTIONS})
    probe = probe_tmux("ünïcode ✓\nline", run=tmux)
    assert probe == TmuxProbe("tmux 3.3a", True, "", "external", "off")
    assert tmux.calls[1] == (["tmux", "load-buffer", "-w", "-"], "ünïcode ✓\nline".encode())


def test_probe_does_not_try_load_buffer_before_tmux_3_2():
    tmux = FakeTmux(
        {
            "-V": (0, "tmux 3.1c\n"),
            "show-options -gv set-clipboard": (0, "external\n"),
            "show-options -gv allow-passthrough": (1, "invalid option: allow-passthrough"),
        }
    )
    probe = probe_tmux("x", run=tmux)
    assert "load-buffer -w -" not in tmux.commands
    assert probe == TmuxProbe("tmux 3.1c", False, "tmux 3.1c has no load-buffer -w", "external")
    assert outcome_in_tmux(probe).passthrough


def test_probe_reports_a_failed_load_buffer():
    tmux = FakeTmux(
        {"-V": (0, "tmux 3.3a"), "load-buffer -w -": (1, "no current client\nmore"), **OPTIONS}
    )
    probe = probe_tmux("x", run=tmux)
    assert probe.error == "tmux load-buffer failed (no current client)"
    assert outcome_in_tmux(probe).copied is False


def test_probe_gives_up_on_a_tmux_that_hangs():
    def hang():
        raise subprocess.TimeoutExpired("tmux", 2)

    tmux = FakeTmux({"-V": (0, "tmux 3.4"), "load-buffer -w -": hang, **OPTIONS})
    probe = probe_tmux("x", run=tmux)
    assert probe.error == "tmux load-buffer failed (tmux load-buffer did not answer within 2 s)"
    assert probe.set_clipboard == "external"


def test_probe_without_a_tmux_command():
    def missing(*args, **kwargs):
        raise FileNotFoundError("tmux")

    probe = probe_tmux("x", run=missing)
    assert probe == TmuxProbe(error="there is no tmux command")
    assert outcome_in_tmux(probe).copied is None


# ---------------------------------------------------------------------------------------------
# The real app in a real tmux, at tmux's defaults


def _tmux(name: str, *args: str, env=None, check=True, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["tmux", "-L", name, *args],
        capture_output=True,
        env=env,
        check=check,
        timeout=10,
        **kwargs,
    )


def _screen(name: str) -> str:
    done = _tmux(name, "capture-pane", "-p", check=False)
    return done.stdout.decode("utf-8", "replace")


def _words(screen: str) -> str:
    """The screen's text without the block characters of borders and bars, on one line: a
    notification wrapped in its toast reads as one sentence."""
    return " ".join(re.sub("[\u2580-\u259f]", " ", screen).split())


def _until(predicate: Callable[[], bool], what: str, name: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; the screen:\n{_screen(name)}")
        time.sleep(0.05)


def _reply_complete(store: SessionStore) -> bool:
    conversations = store.list().conversations
    if not conversations:
        return False
    try:
        conversation = store.load(conversations[0].id, recover=False)
    except StoreError:
        return False
    return [m.status for m in conversation.messages if m.role == "assistant"] == ["complete"]


def _buffer(name: str) -> bytes | None:
    done = _tmux(name, "show-buffer", check=False)
    return done.stdout if done.returncode == 0 else None


def test_ctrl_y_in_tmux_at_its_defaults_puts_the_reply_in_tmux_buffer(
    app_env, isolated_environment
):
    home = isolated_environment
    reply = "Copied inside tmux: ünïcode ✓\n\nA second paragraph,\twith a tab."
    app_env.add_fault(Fault("scripted_reply", text=reply))
    env = emulator_env(home, app_env)  # no $TMUX: this is not nested in any other tmux
    name = f"tui-chat-test-{uuid.uuid4().hex[:12]}"
    socket: Path | None = None
    try:
        _tmux(
            name,
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-x",
            "100",
            "-y",
            "30",
            shlex.join([str(TUI_CHAT)]),
            env=env,
        )
        where = _tmux(name, "display-message", "-p", "#{socket_path}").stdout
        socket = Path(where.decode().strip())
        # tmux's defaults: neither form of an application's OSC 52 gets through.
        assert _tmux(name, "show-options", "-gv", "set-clipboard").stdout == b"external\n"
        assert _tmux(name, "show-options", "-gv", "allow-passthrough").stdout == b"off\n"
        assert _buffer(name) is None

        _until(lambda: "Quit" in _screen(name), "the app to draw", name)
        time.sleep(0.3)
        _tmux(name, "send-keys", "-l", "please reply")
        _tmux(name, "send-keys", "Enter")
        store = SessionStore(sessions_dir(home))
        _until(lambda: _reply_complete(store), "the reply", name)
        _until(lambda: "second paragraph" in _screen(name), "the reply on screen", name)

        _tmux(name, "send-keys", "C-y")
        _until(lambda: _buffer(name) is not None, "tmux's buffer", name)
        assert _buffer(name) == reply.encode("utf-8")
        said = f"Copied the last reply ({len(reply)} characters) via tmux's buffer and OSC 52."
        _until(lambda: said in _words(_screen(name)), "the notification", name)
        _tmux(name, "send-keys", "C-q")
    finally:
        _tmux(name, "kill-server", check=False)
        if socket is not None:
            socket.unlink(missing_ok=True)  # tmux leaves it behind
