"""Reading one session file (or checkpoint): its bytes, its text, its TOML document.

Each step refuses what it cannot use with a StoreError naming the file and the reason in words
("is a symbolic link; session files must be regular files", "is not valid TOML (...)"); the
store reports such a file and never writes to or deletes it. The checks themselves are the
generic ones of tui_chat/files.py.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tui_chat.files import (
    MISSING,
    DocumentError,
    Unreadable,
    decode_utf8,
    loads_toml,
    read_regular,
)

MAX_FILE_BYTES = 20 * 1024 * 1024
#: The reason given for a session file that does not exist (or no longer does).
VANISHED = MISSING


class StoreError(Exception):
    """A session file that cannot be used: which file, and why, in words."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path.name}: {reason}")


def read_bytes(path: Path) -> tuple[bytes, os.stat_result]:
    """Read a session file without following symlinks; StoreError says why it can't be."""
    try:
        return read_regular(path, MAX_FILE_BYTES, kind="session file")
    except Unreadable as error:
        raise StoreError(path, error.reason) from None


def decode(path: Path, data: bytes) -> str:
    try:
        return decode_utf8(data, kind="TOML")
    except Unreadable as error:
        raise StoreError(path, error.reason) from None


def parse_toml(path: Path, text: str) -> dict[str, Any]:
    try:
        return loads_toml(text)
    except DocumentError as error:
        raise StoreError(path, error.reason) from None


def read_document(path: Path) -> dict[str, Any]:
    """The TOML document in the file at `path` (a checkpoint, say), read whole."""
    data, _info = read_bytes(path)
    return parse_toml(path, decode(path, data))
