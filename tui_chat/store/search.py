"""Searching conversations for text, fast enough to run as the user types.

It never parses TOML: the needle is escaped exactly as the store writes strings (tomli-w basic
strings), and only the `title` and `content` lines of each file are searched. Those lines are
kept in memory against each file's mtime and size, so only changed files are read again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import tomli_w

from tui_chat.files import stat_key
from tui_chat.store.index import Summary
from tui_chat.store.reading import StoreError, decode, read_bytes

_SEARCHABLE_LINE = re.compile(r'^(?:title|content) = "(.*)"[ \t]*\r?$', re.MULTILINE)


class Searcher:
    """Finds text in session files, remembering each file's searchable lines."""

    def __init__(self) -> None:
        self._lines: dict[str, tuple[tuple[int, int] | None, str]] = {}

    def search(
        self, summaries: list[Summary], text: str, ids: Iterable[str] | None = None
    ) -> list[str]:
        """Ids of the conversations of `summaries` (of those in `ids`, when given) whose title
        or any turn contains `text`, case-insensitively, in the order of `summaries`."""
        needle = toml_escaped(text).casefold()
        if not needle:
            return []
        wanted = set(ids) if ids is not None else None
        found = []
        for summary in summaries:
            if wanted is not None and summary.id not in wanted:
                continue
            if needle in self._searchable(summary.path):
                found.append(summary.id)
        return found

    def _searchable(self, path: Path) -> str:
        key = stat_key(path)
        cached = self._lines.get(path.name)
        if cached is not None and cached[0] == key:
            return cached[1]
        try:
            data, _info = read_bytes(path)
            text = decode(path, data)
        except StoreError:
            text = ""
        lines = "\n".join(_SEARCHABLE_LINE.findall(text)).casefold()
        self._lines[path.name] = (key, lines)
        return lines


def toml_escaped(text: str) -> str:
    """`text` as it appears inside a basic string written by tomli-w (without the quotes)."""
    line = tomli_w.dumps({"x": text})
    return line[line.index('"') + 1 : line.rindex('"')]
