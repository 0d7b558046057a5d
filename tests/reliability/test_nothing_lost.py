"""Nothing lost when the disk fills, the folder turns read-only, the SSH link drops or the app
is told to stop: every reply, prompt and draft is on disk or in memory marked UNSAVED (and
written by itself when writing works again), signals save everything and exit non-zero."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
import tomllib
from contextlib import contextmanager
from pathlib import Path

import pytest

from tui_chat.config import load_settings
from tui_chat.emulator import Fault
from tui_chat.store import SessionStore, dumps
from tui_chat.ui import app as app_module
from tui_chat.ui import keeping
from tui_chat.ui.app import TitleBar
from tui_chat.ui.screens.dialogs import UnsavedDialog
from tui_chat.ui.widgets.prompt import PromptInput

from ..ui.conftest import send, wait_for, wait_for_screen, wait_idle
from .conftest import KEY_ENTER, MODEL, emulator_env, sessions_dir, write_config

WRITING = os.O_WRONLY | os.O_RDWR | os.O_CREAT


@contextmanager
def failing_disk(folder: Path, code: int):
    """Writes, renames and deletions under `folder` fail with the real OSError a full disk
    (ENOSPC) or a read-only mount (EROFS) gives; reading still works."""
    real_open, real_replace, real_unlink = os.open, os.replace, os.unlink
    state = {"on": True}
    prefix = str(folder)

    def inside(path) -> bool:
        return state["on"] and str(os.fspath(path)).startswith(prefix)

    def fail(path):
        raise OSError(code, os.strerror(code), os.fspath(path))

    def open_(path, flags, *args, **kwargs):
        if flags & WRITING and inside(path):
            fail(path)
        return real_open(path, flags, *args, **kwargs)

    def replace(src, dst, *args, **kwargs):
        if inside(dst):
            fail(dst)
        return real_replace(src, dst, *args, **kwargs)

    def unlink(path, *args, **kwargs):
        if inside(path):
            fail(path)
        return real_unlink(path, *args, **kwargs)

    os.open, os.replace, os.unlink = open_, replace, unlink
    try:
        yield state
    finally:
        os.open, os.replace, os.unlink = real_open, real_replace, real_unlink


@pytest.fixture
def fast_retry(monkeypatch):
    monkeypatch.setattr(keeping, "RETRY_SECONDS", 0.2)


@pytest.mark.parametrize("code", [errno.EROFS, errno.ENOSPC], ids=["read-only", "disk-full"])
async def test_a_reply_that_cannot_be_saved_is_kept_and_saved_when_writing_works(
    make_app, emulator, sessions, fast_retry, code
):
    hold = Fault("stall", after_tokens=6, seconds=60)
    emulator.add_fault(hold)
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "hello")
        await wait_for(pilot, lambda: len(app.conversation.messages[-1].content) > 10)
        conversation = app.conversation
        partial = sessions.partial_path(conversation.id)
        await wait_for(pilot, partial.exists, timeout=10)  # the checkpoint of the reply
        with failing_disk(sessions.directory, code) as disk:
            hold.release()
            await wait_idle(pilot, app)
            reply = conversation.messages[-1]
            assert reply.status == "complete" and app.keeping.unsaved  # kept, marked, no crash
            assert app.query_one(TitleBar).has_class("-unsaved")
            said = " ".join(str(n.message) for n in app._notifications)
            assert os.strerror(code) in said and "saved again by itself" in said
            assert partial.exists()  # the checkpoint stays while the reply is unsaved
            disk["on"] = False  # remounted read-write / space freed
            await wait_for(pilot, lambda: not app.keeping.unsaved, timeout=5)
        assert not app.query_one(TitleBar).has_class("-unsaved")
        saved = sessions.load(conversation.id).messages
        assert [m.content for m in saved] == ["hello", reply.content]
        assert saved[-1].status == "complete"


async def test_quitting_with_unsaved_text_offers_to_write_it_elsewhere(
    make_app, emulator, sessions, tmp_path
):
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "first")
        await wait_idle(pilot, app)
        with failing_disk(sessions.directory.parent, errno.ENOSPC):
            await send(pilot, "second, while the disk is full")
            await wait_idle(pilot, app)
            app.query_one(PromptInput).load_text("a draft typed meanwhile")
            await pilot.pause()
            await pilot.press("ctrl+q")
            await wait_for_screen(pilot, UnsavedDialog, "#folder")
            folder = tmp_path / "rescued"
            app.screen.query_one("#folder").value = str(folder)
            await pilot.press("enter")
            await wait_for(pilot, lambda: not app.is_running, timeout=10)
    written = {p.name for p in folder.iterdir()}
    assert f"{app.conversation.id}.toml" in written and "drafts.toml" in written
    rescued = tomllib.loads((folder / f"{app.conversation.id}.toml").read_text())
    assert [m["content"] for m in rescued["messages"]][:3] == [
        "first",
        rescued["messages"][1]["content"],
        "second, while the disk is full",
    ]
    drafts = tomllib.loads((folder / "drafts.toml").read_text())
    assert "a draft typed meanwhile" in drafts["drafts"].values()
    assert oct((folder / "drafts.toml").stat().st_mode & 0o777) == "0o600"


async def test_a_reply_saved_as_a_copy_leaves_no_checkpoint_behind(make_app, emulator, sessions):
    """Another process changed the conversation in a way that cannot be merged while a reply
    streamed: the reply goes into a copy, the copy's title shows, and opening the original
    later does not bring the reply back as an interrupted duplicate."""
    hold = Fault("stall", after_tokens=6, seconds=60)
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "hello")
        await wait_idle(pilot, app)
        original = app.conversation.id
        emulator.add_fault(hold)
        await send(pilot, "again")
        await wait_for(pilot, lambda: sessions.partial_path(original).exists(), timeout=10)
        other = SessionStore(sessions.directory)  # another program edits the conversation
        elsewhere = other.load(original)
        elsewhere.messages[0].content = "rewritten by another program"
        assert other.save(elsewhere).outcome == "saved"
        hold.release()
        await wait_idle(pilot, app)
        copy = app.conversation
        assert copy.id != original and copy.title.endswith("(copy)")
        assert "(copy)" in str(app.query_one(TitleBar).query_one("#title").render())
        assert not sessions.partial_path(original).exists()
        assert not list(sessions.directory.glob("*.partial.toml"))
        reopened = SessionStore(sessions.directory).load(original)
        assert [m.status for m in reopened.messages] == ["complete"] * len(reopened.messages)
        assert all(m.content != copy.messages[-1].content for m in reopened.messages)


# ---------------------------------------------------------------------------------------------
# Signals and a terminal that goes away (the real app on a pseudo-terminal)


def _session(home: Path) -> dict:
    (path,) = [p for p in sessions_dir(home).glob("*.toml") if ".partial" not in p.name]
    return tomllib.loads(path.read_text(encoding="utf-8"))


def _long_stalls(home: Path) -> None:
    """A reply held by a stall must not time out while the test gets to the signal."""
    write_config(home, f'[defaults]\nmodel = "{MODEL}"\n[bedrock]\nread_timeout = 600\n')


def _start_streaming(pty_apps, app_env, home, **popen):
    _long_stalls(home)
    hold = Fault("stall", after_tokens=8, seconds=120)
    app_env.add_fault(hold)
    app = pty_apps(emulator_env(home, app_env), **popen)
    app.wait_for_text("Quit")
    app.wait_quiet()
    app.type("Tell me a story")
    app.wait_for(lambda: len(app_env.requests) == 1, what="the request")
    app.wait_quiet(0.5)  # a few words arrived, then the stall
    app.type("an unsent draft", enter=False)
    app.wait_for_text("draft")
    app.wait_quiet()
    return app, hold


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_saves_everything_restores_the_terminal_and_exits_non_zero(
    pty_apps, app_env, isolated_environment, signum
):
    home = isolated_environment
    app, hold = _start_streaming(pty_apps, app_env, home)
    before = len(app.output)
    started = time.monotonic()
    os.kill(app.pid, signum)
    code = app.proc.wait(timeout=10)
    took = time.monotonic() - started
    hold.release()
    assert code == 128 + signum
    assert took < 5  # measured well under a second; generous for a busy machine
    reply = _session(home)["messages"][-1]
    assert reply["status"] == "interrupted" and reply["content"].strip(), reply
    state = tomllib.loads((home / "data" / "tui-chat" / "state.toml").read_text())
    assert "an unsent draft" in state["drafts"].values()
    app.wait_quiet()
    tail = app.output[before:]
    assert b"\x1b[?1049l" in tail  # out of the alternate screen
    assert b"\x1b[?1000l" in tail  # mouse tracking off
    assert not list(sessions_dir(home).glob("*.partial.toml"))


def test_a_vanished_terminal_with_sighup_ignored_ends_the_app_and_saves(
    app_env, isolated_environment
):
    """`nohup tui-chat`, then the SSH link drops: the terminal's end is read, the reply and the
    draft are saved, and the app exits instead of spinning forever."""
    home = isolated_environment
    _long_stalls(home)
    hold = Fault("stall", after_tokens=8, seconds=120)
    app_env.add_fault(hold)
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "tui-chat")],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={"TERM": "xterm-256color", **emulator_env(home, app_env)},
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN),
    )
    os.close(slave)
    output = bytearray()

    def read_until(needle: bytes, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while needle not in output:
            assert time.monotonic() < deadline, f"no {needle!r} in {bytes(output[-500:])!r}"
            try:
                output.extend(os.read(master, 65536))
            except OSError:
                break

    try:
        read_until(b"Quit")
        os.write(master, b"Tell me a story" + KEY_ENTER)
        deadline = time.monotonic() + 20
        while len(app_env.requests) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        os.write(master, b"draft before the drop")
        read_until(b"drop")
    finally:
        os.close(master)  # the link drops: the terminal is gone
    code = proc.wait(timeout=15)
    hold.release()
    assert code == 128 + signal.SIGHUP
    reply = _session(home)["messages"][-1]
    assert reply["status"] == "interrupted" and reply["content"].strip()
    state = tomllib.loads((home / "data" / "tui-chat" / "state.toml").read_text())
    assert "draft before the drop" in state["drafts"].values()


def test_a_crash_exits_non_zero(isolated_environment, tmp_path):
    """Textual prints the traceback of an error it cannot recover from; the exit status must
    say so too, for scripts (it was 0)."""
    script = tmp_path / "crash.py"
    script.write_text(
        "import sys\n"
        "from tui_chat.config import load_settings\n"
        "from tui_chat.ui import app as app_module\n"
        "def broken(self):\n"
        "    raise RuntimeError('a bug')\n"
        "app_module.ChatApp.action_help = broken\n"
        "from tui_chat.ui.run import run_app\n"
        "sys.exit(run_app(load_settings(demo=True)))\n"
    )
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**os.environ, "TERM": "xterm-256color"},
        start_new_session=True,
    )
    os.close(slave)
    output = bytearray()
    deadline = time.monotonic() + 30
    try:
        while b"Quit" not in output and time.monotonic() < deadline:
            output.extend(os.read(master, 65536))
        os.write(master, b"\x1bOP")  # F1 runs the broken action
        code = proc.wait(timeout=20)
    finally:
        os.close(master)
    assert code == 1


def test_unsaved_documents_are_session_files(make_app, sessions):
    """What 'write it elsewhere' writes can be copied back into the sessions folder."""
    settings = load_settings()
    app = app_module.ChatApp(settings)
    conversation = app.conversation
    conversation.add_user("kept in memory")
    app.keeping.unsaved[conversation.id] = conversation
    documents = app.keeping.documents()
    assert documents == {f"{conversation.id}.toml": dumps(conversation)}
