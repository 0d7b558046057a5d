"""Reliability and security: the shared harness.

Three ways to drive tui-chat, all against the emulator over loopback through real boto3:

- Pilot (`make_app`, from tests/ui/conftest.py): the app in this process, for precise checks of
  what it shows and saves.
- `Cli`: the installed `tui-chat` executable in a subprocess, as a user runs it.
- `PtyApp`: the real full-screen app in a subprocess on a pseudo-terminal, with every byte it
  writes to the terminal captured: for crash tests (SIGKILL) and for what reaches a terminal.

Every test has its own HOME and XDG folders (the autouse `isolated_environment` fixture).
"""

from __future__ import annotations

import fcntl
import os
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli_result import Result
from tests.ui.conftest import (  # noqa: F401 - fixtures used by the tests in this folder
    MODEL,
    app_env,
    emulator,
    make_app,
    sessions,
    ui_emulator,
)
from tui_chat.emulator import Emulator

TUI_CHAT = Path(sys.executable).parent / "tui-chat"

#: Dummy credentials with distinctive values, so a sweep of every file can look for them.
SECRETS = {
    "AWS_ACCESS_KEY_ID": "AKIDRELIABILITYSTD0001",
    "AWS_SECRET_ACCESS_KEY": "std-secret-access-key-5f4e3d2c1b0a",
    "AWS_SESSION_TOKEN": "session-token-IQoJb3JpZ2luX2VjEXAMPLE77",
}
SEED_SECRETS = {
    "AWS_ACCESS_KEY": "AKIDRELIABILITYSEED02",
    "AWS_SECRET_KEY": "seed-secret-key-a1b2c3d4e5f60718",
}
BEARER = {"AWS_BEARER_TOKEN_BEDROCK": "bedrock-api-key-QmVhcmVyVG9rZW5FWEFNUExF"}
ALL_SECRET_VALUES = (*SECRETS.values(), *SEED_SECRETS.values(), *BEARER.values())


def xdg_env(home: Path) -> dict[str, str]:
    """HOME and the XDG folders under `home`, and nothing of the machine's AWS set-up."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_STATE_HOME": str(home / "state"),
        "AWS_CONFIG_FILE": str(home / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "TZ": "UTC",
        "LANG": "C.UTF-8",
    }


def emulator_env(home: Path, server: Emulator, **extra: str) -> dict[str, str]:
    """The environment of a user with (dummy) keys whose Bedrock is the emulator `server`."""
    env = xdg_env(home)
    env.update(
        AWS_ENDPOINT_URL_BEDROCK_RUNTIME=server.url,
        AWS_ENDPOINT_URL_BEDROCK=server.url,
        AWS_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="AKIDRELIABILITY",
        AWS_SECRET_ACCESS_KEY="reliability-dummy",
    )
    env.update(extra)
    return env


def write_config(home: Path, text: str) -> Path:
    path = home / "config" / "tui-chat" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def record_notifications(app) -> list[str]:
    """Every notification the app shows from now on, as text, in order."""
    said: list[str] = []
    notify = app.notify

    def record(message, *args, **kwargs):
        said.append(str(message))
        return notify(message, *args, **kwargs)

    app.notify = record
    return said


def sessions_dir(home: Path) -> Path:
    return home / "data" / "tui-chat" / "sessions"


# ---------------------------------------------------------------------------------------------
# The command line


class Cli:
    """The installed `tui-chat` against one emulator, with the test's HOME."""

    def __init__(self, server: Emulator, home: Path) -> None:
        self.emulator = server
        self.home = home
        self.env = emulator_env(home, server)
        self.sessions_dir = sessions_dir(home)
        self.log_file = home / "state" / "tui-chat" / "tui-chat.log"

    def run(
        self, *args: str, input: bytes = b"", env: dict[str, str] | None = None, timeout=60
    ) -> Result:
        proc = subprocess.run(
            [str(TUI_CHAT), *args],
            input=input,
            capture_output=True,
            env=self.env if env is None else env,
            timeout=timeout,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def config(self, text: str) -> Path:
        return write_config(self.home, text)

    def files(self) -> list[Path]:
        if not self.sessions_dir.is_dir():
            return []
        return sorted(p for p in self.sessions_dir.glob("*.toml") if p.is_file())

    def session(self, path: Path) -> dict:
        return tomllib.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def cli(app_env, isolated_environment) -> Cli:  # noqa: F811 - app_env is the imported fixture
    """`tui-chat` with the same emulator, HOME and config.toml as `make_app`."""
    return Cli(app_env, isolated_environment)


# ---------------------------------------------------------------------------------------------
# The real app on a pseudo-terminal

KEY_ENTER = b"\r"
KEY_ESCAPE = b"\x1b"
KEY_CTRL_N = b"\x0e"
KEY_CTRL_Q = b"\x11"
KEY_F2 = b"\x1bOQ"


class PtyApp:
    """`tui-chat` (the full-screen app) on a pseudo-terminal of a given size.

    A thread drains the terminal into `output`, so the app never blocks on a full terminal and
    every byte it wrote can be searched afterwards.
    """

    def __init__(
        self,
        env: dict[str, str],
        *args: str,
        size: tuple[int, int] = (120, 40),
    ) -> None:
        self.env = {"TERM": "xterm-256color", **env}
        self.args = args
        self.size = size
        self.proc: subprocess.Popen | None = None
        self._master = -1
        self._buffer = bytearray()
        self._lock = threading.Lock()
        self._reader: threading.Thread | None = None

    def start(self) -> PtyApp:
        master, slave = os.openpty()
        columns, rows = self.size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        try:
            self.proc = subprocess.Popen(
                [str(TUI_CHAT), *self.args],
                stdin=slave,
                stdout=slave,
                stderr=slave,
                env=self.env,
                start_new_session=True,
                close_fds=True,
            )
        finally:
            os.close(slave)
        self._master = master
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()
        return self

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self._master, 65536)
            except OSError:  # EIO once the app has gone and the terminal is closed
                break
            if not data:
                break
            with self._lock:
                self._buffer.extend(data)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def output(self) -> bytes:
        with self._lock:
            return bytes(self._buffer)

    @property
    def text(self) -> str:
        return self.output.decode("utf-8", "replace")

    def write(self, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode("utf-8")
        os.write(self._master, data)

    def type(self, text: str, enter: bool = True) -> None:
        """Type like a person: the text, then Enter."""
        self.write(text.encode("utf-8") + (KEY_ENTER if enter else b""))

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 20.0, what="") -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(
                    f"the app exited ({self.proc.returncode}) while waiting for {what}:\n"
                    + self.text[-2000:]
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}:\n" + self.text[-2000:])
            time.sleep(0.02)

    def wait_for_text(self, needle: str, timeout: float = 20.0) -> None:
        encoded = needle.encode("utf-8")
        self.wait_for(lambda: encoded in self.output, timeout, repr(needle))

    def wait_quiet(self, seconds: float = 0.3, timeout: float = 10.0) -> None:
        """Until the app has written nothing for `seconds` (it is idle)."""
        deadline = time.monotonic() + timeout
        size, since = len(self.output), time.monotonic()
        while time.monotonic() - since < seconds:
            if time.monotonic() > deadline:
                return
            time.sleep(0.02)
            now = len(self.output)
            if now != size:
                size, since = now, time.monotonic()

    def kill(self) -> None:
        """SIGKILL: no handler runs, nothing is flushed or saved."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.close()

    def quit(self, timeout: float = 15.0) -> int:
        """ctrl+q, and wait for the app to exit."""
        assert self.proc is not None
        self.write(KEY_CTRL_Q)
        try:
            code = self.proc.wait(timeout=timeout)
        finally:
            self.close()
        return code

    def close(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        if self._reader is not None:
            self._reader.join(timeout=5)
            self._reader = None
        if self._master >= 0:
            os.close(self._master)
            self._master = -1


@pytest.fixture
def pty_apps():
    """Start PtyApps with `pty_apps(env, *args)`; every one is stopped at the end."""
    started: list[PtyApp] = []

    def start(env: dict[str, str], *args: str, size=(120, 40)) -> PtyApp:
        app = PtyApp(env, *args, size=size).start()
        started.append(app)
        return app

    yield start
    for app in started:
        app.close()


@pytest.fixture(scope="module")
def paced_emulator():
    """An emulator streaming at 200 tokens a second: replies last a while, as real ones do."""
    with Emulator(tokens_per_second=200.0, first_token_delay=0.05) as emu:
        yield emu
