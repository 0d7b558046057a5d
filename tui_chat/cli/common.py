"""What every `tui-chat` subcommand shares: the exit codes, the two errors that end a command
(a usage error, exit 2; a failure, exit 1) and the lines written to stderr."""

from __future__ import annotations

import os
import sys
from typing import Any

PROG = "tui-chat"
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143
EXIT_BROKEN_PIPE = 141


class UsageError(Exception):
    """Exit 2 with this one line."""


class Failure(Exception):
    """Exit 1 with this one line."""


def one_line(text: str) -> str:
    """Text for a diagnostic line: control characters (from a model id, a server's message or
    a file name) are shown as symbols, never obeyed, and the line stays one line."""
    from tui_chat.sanitize import for_display

    return for_display(text).replace("\n", "\u2424")


def say(line: str) -> None:
    """One line on stderr, prefixed with the program name."""
    try:
        sys.stderr.write(f"{PROG}: {one_line(line)}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def note(line: str) -> None:
    """A quiet line for a person at a terminal (nothing when stderr is not a terminal)."""
    if isatty(sys.stderr):
        try:
            sys.stderr.write(f"\x1b[2m{one_line(line)}\x1b[0m\n")
            sys.stderr.flush()
        except (OSError, ValueError):
            pass


def isatty(stream: Any) -> bool:
    try:
        return bool(stream is not None and stream.isatty())
    except (OSError, ValueError):
        return False


def utf8_stdout() -> None:
    """Write UTF-8 whatever the locale says (valid text keeps its exact bytes)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is None:
            continue
        try:
            if stream is sys.stdout:
                reconfigure(encoding="utf-8", errors="replace")
            else:
                reconfigure(errors="backslashreplace")
        except (OSError, ValueError):
            pass


def silence_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so the exit flush cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


# ---------------------------------------------------------------------------------------------
