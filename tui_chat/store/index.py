"""Listing the sessions folder fast: header summaries and the listing index.

Listing reads only the few header lines of each file (the keys before its first table) and
counts its `[[messages]]` headers, so start-up does not parse thousands of whole
conversations. What it found is remembered in an index in the cache folder, keyed by file name
and checked against mtime and size, so a file is read again only once it changes. The index is
only a cache: an entry it cannot use is dropped and its file read again, and a folder without a
cache folder is listed all the same.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tui_chat.conversation import Conversation
from tui_chat.files import DocumentError, loads_json, remove_stale_temporary, write_atomic
from tui_chat.store.reading import VANISHED, StoreError, decode, parse_toml, read_bytes
from tui_chat.store.schema import Shape, header_fields

SUFFIX = ".toml"
PARTIAL_SUFFIX = ".partial.toml"
INDEX_VERSION = 2
_MESSAGE_HEADER = re.compile(rb"^\[\[messages\]\][ \t]*\r?$", re.MULTILINE)
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


@dataclass(frozen=True)
class Problem:
    """An unreadable file found while listing; it is left exactly as it is."""

    path: Path
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass(frozen=True)
class Summary:
    """What the conversation list shows, read without parsing the whole file."""

    id: str
    title: str
    created: datetime
    updated: datetime
    message_count: int
    path: Path


@dataclass
class Listing:
    conversations: list[Summary] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def safe_name(name: str) -> bool:
    """Whether `name` may name a session file (no path, nothing hidden, nothing odd)."""
    return bool(_SAFE_NAME.match(name)) and ".." not in name


def index_path(cache_dir: Path | None, directory: Path) -> Path | None:
    """Where the index of the sessions folder `directory` is kept (None: no cache folder)."""
    if cache_dir is None:
        return None
    key = hashlib.sha256(str(directory.resolve()).encode()).hexdigest()[:16]
    return cache_dir / f"index-{key}.json"


#: Parses a whole session file: (path, file id, its bytes) -> Conversation, or StoreError.
Parse = Callable[[Path, str, bytes], Conversation]


def scan(directory: Path, index_file: Path | None, parse: Parse, verify: bool) -> Listing:
    """Every conversation in `directory`, most recently updated first, and every file that
    cannot be read. With `verify`, files not yet fully parsed in their current version are
    parsed whole with `parse` (and the result remembered), so problems anywhere in a file are
    reported. Stale temporary files of writers that died are removed on the way."""
    listing = Listing()
    if not directory.is_dir():
        return listing
    index = load_index(index_file)
    entries: dict[str, Any] = {}
    changed = False
    for entry in os.scandir(directory):
        name = entry.name
        if name.startswith(".") and name.endswith(".tmp"):
            remove_stale_temporary(entry)
            continue
        if not name.endswith(SUFFIX) or name.endswith(PARTIAL_SUFFIX) or name.startswith("."):
            continue
        path = Path(entry.path)
        file_id = name[: -len(SUFFIX)]
        try:
            info = entry.stat(follow_symlinks=False)
        except FileNotFoundError:
            continue  # deleted since the folder was read
        except OSError as error:
            listing.problems.append(Problem(path, f"cannot be read ({error.strerror})"))
            continue
        key = [info.st_mtime_ns, info.st_size]
        cached = index.get(name)
        if cached is None or cached.get("key") != key or (verify and not cached.get("ok")):
            cached = summarise(path, file_id, parse, verify)
            if cached.get("problem") == VANISHED:
                continue  # deleted while being read: not a problem, just gone
            cached["key"] = key
            changed = True
        entries[name] = cached
        if "problem" in cached:
            listing.problems.append(Problem(path, cached["problem"]))
            continue
        listing.conversations.append(
            Summary(
                id=cached["id"],
                title=cached["title"],
                created=datetime.fromisoformat(cached["created"]),
                updated=datetime.fromisoformat(cached["updated"]),
                message_count=cached["count"],
                path=path,
            )
        )
    if changed or set(entries) != set(index):
        save_index(index_file, directory, entries)
    listing.conversations.sort(key=lambda s: (s.updated, s.id), reverse=True)
    listing.problems.sort(key=lambda p: p.path.name)
    return listing


def summarise(path: Path, file_id: str, parse: Parse, verify: bool) -> dict[str, Any]:
    """The index entry of one file (without its key): a summary, or the problem with it."""
    try:
        if not safe_name(file_id):
            raise StoreError(path, "has a name that is not a conversation id")
        data, _info = read_bytes(path)
        if verify:
            conversation = parse(path, file_id, data)
            return {
                "id": file_id,
                "title": conversation.title,
                "created": conversation.created.isoformat(),
                "updated": conversation.updated.isoformat(),
                "count": len(conversation.messages),
                "ok": True,
            }
        return header_summary(path, file_id, data)
    except StoreError as error:
        return {"problem": error.reason}


def header_summary(path: Path, file_id: str, data: bytes) -> dict[str, Any]:
    """Read the title and times from the lines before the first table, and count turns."""
    text = decode(path, data)
    match = re.search(r"^[ \t]*\[", text, re.MULTILINE)
    head = text[: match.start()] if match else text
    header = parse_toml(path, head)
    try:
        title, created, updated = header_fields(header)
    except Shape as error:
        raise StoreError(path, str(error)) from None
    count = len(_MESSAGE_HEADER.findall(data))
    if not title:
        title = "(untitled)"
    return {
        "id": file_id,
        "title": title,
        "created": created.isoformat(),
        "updated": updated.isoformat(),
        "count": count,
    }


def load_index(path: Path | None) -> dict[str, Any]:
    """The index's entries by file name ({} when there is none, or none that can be used)."""
    if path is None:
        return {}
    try:
        data = loads_json(path.read_bytes())
    except (OSError, DocumentError):
        return {}  # only a cache: it is rebuilt from the files
    if not isinstance(data, dict) or data.get("version") != INDEX_VERSION:
        return {}
    files = data.get("files")
    if not isinstance(files, dict):
        return {}
    # An entry `scan` could not use (edited by hand, or by another version) is dropped, so
    # that file is simply read again.
    return {name: entry for name, entry in files.items() if entry_ok(name, entry)}


def entry_ok(name: str, entry: Any) -> bool:
    """Whether an index entry has what `scan` reads from it, of the types it expects."""
    if not isinstance(entry, dict):
        return False
    key = entry.get("key")
    if not (
        isinstance(key, list)
        and len(key) == 2
        and all(isinstance(n, int) and not isinstance(n, bool) for n in key)
    ):
        return False
    if "problem" in entry:
        return isinstance(entry["problem"], str)
    count = entry.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        return False
    if entry.get("id") != name.removesuffix(SUFFIX) or not isinstance(entry.get("title"), str):
        return False
    for stamp in ("created", "updated"):
        try:
            when = datetime.fromisoformat(entry.get(stamp))
        except (TypeError, ValueError):
            return False
        if when.tzinfo is None:
            return False  # compared with the others when sorting: all have an offset
    return True


def save_index(path: Path | None, directory: Path, entries: dict[str, Any]) -> None:
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        payload = {"version": INDEX_VERSION, "directory": str(directory), "files": entries}
        write_atomic(path, json.dumps(payload, ensure_ascii=False))
    except OSError:
        # The index is only a cache: listing still works without it.
        pass
