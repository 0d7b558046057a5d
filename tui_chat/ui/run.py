"""Running the app from the command line, and ending it when no one is there to ask: SIGHUP
(the SSH link dropped) and SIGTERM save everything and exit with 128 + the signal, like a
shell reports them; a terminal that went away is silenced so Python's exit cannot fail on it."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable

from tui_chat.config import Settings

SIGNALS = ((signal.SIGHUP, "the terminal hung up"), (signal.SIGTERM, "terminated"))


def install_signal_handlers(on_signal: Callable[[int, str], None]) -> None:
    """Call `on_signal(exit code, why)` on SIGHUP and SIGTERM (in the running loop)."""
    loop = asyncio.get_running_loop()
    for signum, why in SIGNALS:
        try:
            loop.add_signal_handler(signum, on_signal, 128 + signum, why)
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # not the main thread, or a platform without them


def silence_output() -> None:
    """Point stdout and stderr at /dev/null: the terminal they wrote to is gone."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        for stream in (sys.stdout, sys.stderr):
            os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def run_app(settings: Settings) -> int:
    """Run the app until the user quits; the exit code for the command line: 0, or 1 when
    the app crashed (Textual printed why), or 128 + the signal that ended it."""
    from tui_chat.ui.app import ChatApp

    app = ChatApp(settings)
    app.run(mouse=settings.mouse)
    if app.quitting.terminal_gone:
        silence_output()  # or Python's own exit flush fails, and the status says 120
        return app.return_code or 0
    for line in app.quitting.exit_notes:
        try:
            print(line, file=sys.stderr)
        except (OSError, ValueError):
            pass  # the terminal is gone: the notes were for it
    if app.quitting.print_on_exit:
        try:
            sys.stdout.write(app.quitting.print_on_exit)
            sys.stdout.flush()
        except (OSError, ValueError):
            pass
    return app.return_code or 0
