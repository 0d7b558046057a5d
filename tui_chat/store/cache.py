"""The parsed-copy cache: a big session file's TOML document, kept as JSON in the cache folder.

Python's TOML parser reads a 1 MB conversation in about 0.15 s; JSON ten times faster. So when
a conversation of at least PARSED_COPY_MIN_BYTES is opened, its parsed document is kept in
`<cache>/parsed/<id>.json` with a digest of the file's bytes, and used only while the file's
bytes still match. It is only a cache: anything wrong with a copy and the file is parsed again.
TOML's dates and times, which JSON lacks, are kept as {"\\u0000toml": kind, "value": ISO 8601}.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from tui_chat.files import DocumentError, loads_json, write_atomic
from tui_chat.store.reading import decode, parse_toml

#: Session files at least this big keep a parsed copy in the cache folder.
PARSED_COPY_MIN_BYTES = 256 * 1024


def parsed_path(cache_dir: Path | None, file_id: str) -> Path | None:
    """Where the parsed copy of a conversation is kept (None: no cache folder)."""
    return None if cache_dir is None else cache_dir / "parsed" / f"{file_id}.json"


def document(path: Path, data: bytes, copy_path: Path | None, keep_copy: bool) -> dict[str, Any]:
    """The TOML document of the session file at `path` whose bytes are `data`: from its parsed
    copy at `copy_path` when the file is big and the copy matches, else parsed (and, with
    `keep_copy`, kept for next time). StoreError when the file cannot be parsed."""
    if len(data) < PARSED_COPY_MIN_BYTES:
        copy_path = None
    digest = _digest(data) if copy_path else ""
    found = _read_parsed_copy(copy_path, digest) if copy_path else None
    if found is None:
        found = parse_toml(path, decode(path, data))
        if copy_path and keep_copy:
            _keep_parsed_copy(copy_path, digest, found)
    return found


def _read_parsed_copy(path: Path, digest: str) -> dict[str, Any] | None:
    """The document in a parsed copy, if it was made from bytes with this digest."""
    try:
        copy = loads_json(path.read_bytes(), object_hook=_from_json)
    except (OSError, DocumentError):
        return None
    if not isinstance(copy, dict) or copy.get("digest") != digest:
        return None
    found = copy.get("document")
    return found if isinstance(found, dict) else None


def _keep_parsed_copy(path: Path, digest: str, found: dict[str, Any]) -> None:
    try:
        payload = json.dumps(
            {"digest": digest, "document": found}, default=_to_json, ensure_ascii=False
        )
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomic(path, payload)
    except (OSError, TypeError, ValueError):
        pass  # only a cache: the file is parsed next time


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


_TOML_TYPE = "\u0000toml"
_TIME_TYPES: dict[str, Any] = {
    "datetime": datetime.fromisoformat,
    "date": date.fromisoformat,
    "time": time.fromisoformat,
}


def _to_json(value: Any) -> dict[str, str]:
    for name, kind in (("datetime", datetime), ("date", date), ("time", time)):
        if isinstance(value, kind):
            return {_TOML_TYPE: name, "value": value.isoformat()}
    raise TypeError(f"cannot keep a {type(value).__name__} in a parsed copy")


def _from_json(item: dict[str, Any]) -> Any:
    kind = item.get(_TOML_TYPE)
    if kind is None:
        return item
    return _TIME_TYPES[kind](item["value"])
