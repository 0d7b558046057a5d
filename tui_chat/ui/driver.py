"""The terminal driver, made safe for a terminal that goes away.

Over SSH the usual way a session ends is the connection dropping. Textual 8.2.8's Linux
driver then misbehaves in two ways: its input thread, reading end-of-file, loops on a
selector that is always ready (a full core, forever), and its writer thread dies on the first
EIO, after which the app blocks as soon as the writes queue up. With SIGHUP ignored (`nohup`)
nothing ever ends the app, and the reply streaming at the time is never written.

`SafeLinuxDriver` stops reading at end-of-file or an I/O error and tells the app
(`TerminalGone`), and writes through a file that swallows errors once the terminal is gone,
so the app can save everything and exit as it would on SIGHUP.
"""

from __future__ import annotations

import os
import selectors
import sys
from codecs import getincrementaldecoder
from typing import IO, Any

from textual.drivers.linux_driver import LinuxDriver
from textual.message import Message


class TerminalGone(Message):
    """The terminal closed (end-of-file or an I/O error on it): save and exit."""


class _TolerantFile:
    """A text file whose writes stop (quietly) after the first error: a terminal that has
    gone cannot be written to, and a writer thread that dies blocks the app."""

    def __init__(self, file: IO[str]) -> None:
        self._file = file
        self.broken = False

    def write(self, text: str) -> int:
        if self.broken:
            return len(text)
        try:
            return self._file.write(text)
        except (OSError, ValueError):
            self.broken = True
            return len(text)

    def flush(self) -> None:
        if self.broken:
            return
        try:
            self._file.flush()
        except (OSError, ValueError):
            self.broken = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)


class SafeLinuxDriver(LinuxDriver):
    """Textual's Linux driver, ending input at end-of-file and writes after an error."""

    def __init__(self, app: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(app, *args, **kwargs)
        self._file = _TolerantFile(self._file)  # type: ignore[assignment]

    def run_input_thread(self) -> None:
        """As Textual's, but end-of-file or an I/O error on the terminal ends the reading
        and posts TerminalGone to the app (instead of spinning on a ready selector)."""
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        from textual._xterm_parser import XTermParser

        parser = XTermParser(self._debug)
        decode = getincrementaldecoder("utf-8")().decode
        try:
            while not self.exit_event.is_set():
                for _key, mask in selector.select(0.1):
                    if not mask & selectors.EVENT_READ:
                        continue
                    try:
                        data = os.read(self.fileno, 1024 * 4)
                    except OSError:
                        data = b""
                    if not data:
                        self._gone()
                        return
                    for event in parser.feed(decode(data)):
                        self.process_message(event)
                for event in parser.tick():
                    self.process_message(event)
        finally:
            selector.close()

    def _gone(self) -> None:
        self._file.broken = True  # type: ignore[attr-defined]
        self._app.post_message(TerminalGone())

    def stop_application_mode(self) -> None:
        """Restoring a terminal that has gone fails: that is not an error worth a traceback."""
        try:
            super().stop_application_mode()
        except (OSError, ValueError) as error:
            print(f"tui-chat: the terminal could not be restored ({error})", file=sys.stderr)


def driver_class(default: type) -> type:
    """Textual's driver for this platform (`default`); on Linux and macOS the one that
    survives the terminal going away."""
    return SafeLinuxDriver if default is LinuxDriver else default
