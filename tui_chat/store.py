"""SessionStore: one TOML file per conversation, atomic writes, fast listing.

Files are `<id>.toml` in the sessions folder (0700), each 0600, written with tomli-w through a
temporary file in the same folder, flushed, fsynced and renamed into place. A file that does not
parse, has the wrong shape or a newer schema is reported and never written to or deleted.

Listing reads only the few header lines of each file and remembers what it found in an index in
the cache folder, keyed by file name and checked against mtime and size, so start-up does not
parse thousands of whole conversations. A streaming reply is checkpointed to a small sidecar
`<id>.partial.toml`; a sidecar left behind by a process that died becomes an `interrupted` reply
the next time the conversation is loaded.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import socket
import stat
import time as time_module
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import tomli_w

from tui_chat.conversation import (
    SCHEMA,
    STATUSES,
    Conversation,
    Message,
    is_valid_id,
    new_id,
    now,
)
from tui_chat.params import ALL_PARAMS, ParamError, Params

SUFFIX = ".toml"
PARTIAL_SUFFIX = ".partial.toml"
MAX_FILE_BYTES = 20 * 1024 * 1024
#: Session files at least this big keep a parsed copy in the cache folder (see _parsed_copy).
PARSED_COPY_MIN_BYTES = 256 * 1024
#: The reason given for a session file that does not exist (or no longer does).
VANISHED = "no such file"
#: A temporary file of an atomic write left by a process that died (killed mid-write) is
#: removed by the next listing once it is this old and its process is gone.
STALE_TEMPORARY_SECONDS = 600.0
_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.(?P<pid>[0-9]+)\.[0-9a-f]{6}\.tmp$")
INDEX_VERSION = 2
_MESSAGE_HEADER = re.compile(rb"^\[\[messages\]\][ \t]*\r?$", re.MULTILINE)


class StoreError(Exception):
    """A session file that cannot be used: which file, and why, in words."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path.name}: {reason}")


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


@dataclass(frozen=True)
class SaveResult:
    """How a save went: "saved", "merged" (another process had appended turns, now kept
    in memory and on disk), or "copied" (the file on disk had been changed in a way that
    cannot be merged, so this conversation was saved beside it under `conversation.id`)."""

    outcome: str
    path: Path
    original_id: str = ""


# ---------------------------------------------------------------------------------------------
# Converting between Conversation objects and TOML documents


def _message_to_dict(message: Message, nested: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "role": message.role,
        "content": message.content,
        "created": message.created,
    }
    if message.role == "assistant":
        data["status"] = message.status
        data["stop_reason"] = message.stop_reason
        if message.stop_sequence:
            data["stop_sequence"] = message.stop_sequence
        if message.params:
            data["params"] = dict(message.params)
        if message.omitted:
            data["omitted"] = list(message.omitted)
        if message.omitted_reasons:
            data["omitted_reasons"] = dict(message.omitted_reasons)
        if message.thinking:
            data["thinking"] = [dict(block) for block in message.thinking]
        if message.usage:
            data["usage"] = dict(message.usage)
        if message.error:
            data["error"] = dict(message.error)
        if message.alternatives and not nested:
            data["alternatives"] = [
                _message_to_dict(alt, nested=True) for alt in message.alternatives
            ]
            if message.chosen is not None:
                data["chosen"] = message.chosen
    for key, value in message.extra.items():
        data.setdefault(key, value)
    return data


def conversation_to_dict(conversation: Conversation) -> dict[str, Any]:
    """The TOML document for a conversation (unknown keys it was loaded with included)."""
    data: dict[str, Any] = {
        "schema": SCHEMA,
        "id": conversation.id,
        "title": conversation.title,
        "title_custom": conversation.title_custom,
        "created": conversation.created,
        "updated": conversation.updated,
    }
    for key, value in conversation.extra.items():
        data.setdefault(key, value)
    params = conversation.params.to_dict()
    for key, value in conversation.params_extra.items():
        params.setdefault(key, value)
    data["params"] = params
    # A reply still streaming lives in its checkpoint sidecar, never in the conversation file.
    data["messages"] = [
        _message_to_dict(message)
        for message in conversation.messages
        if message.status != "streaming"
    ]
    return data


def dumps(conversation: Conversation) -> str:
    return tomli_w.dumps(conversation_to_dict(conversation))


class _Shape(Exception):
    """Raised while reading a document whose shape is wrong; carries the reason."""


def _expect(value: Any, kind: type | tuple[type, ...], where: str) -> Any:
    if isinstance(value, bool) and kind is not bool and bool not in _as_tuple(kind):
        raise _Shape(f"{where} should be {_kind_name(kind)}, not a boolean")
    if not isinstance(value, kind):
        raise _Shape(f"{where} should be {_kind_name(kind)}, not {type(value).__name__}")
    return value


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "true or false",
        dict: "a table",
        list: "an array",
        datetime: "a date-time",
    }
    return " or ".join(names.get(k, k.__name__) for k in _as_tuple(kind))


def _when(value: Any, where: str) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date | time):
        raise _Shape(f"{where} should be a date-time with a time and an offset")
    raise _Shape(f"{where} should be a date-time, not {type(value).__name__}")


_MESSAGE_KEYS = {
    "role",
    "content",
    "created",
    "status",
    "stop_reason",
    "stop_sequence",
    "params",
    "omitted",
    "omitted_reasons",
    "thinking",
    "usage",
    "error",
    "alternatives",
    "chosen",
}


def _message_from_dict(data: Any, where: str, nested: bool = False) -> Message:
    _expect(data, dict, where)
    role = _expect(data.get("role"), str, f"{where}.role")
    if role not in ("user", "assistant"):
        raise _Shape(f"{where}.role should be 'user' or 'assistant', not {role!r}")
    content = _expect(data.get("content", ""), str, f"{where}.content")
    created = _when(data.get("created", now()), f"{where}.created")
    status = _expect(data.get("status", "complete"), str, f"{where}.status")
    if status == "streaming":
        # Only a sidecar ever holds a reply that was still streaming.
        status = "interrupted"
    message = Message(role=role, content=content, created=created, status=status)
    message.stop_reason = _expect(data.get("stop_reason", ""), str, f"{where}.stop_reason")
    message.stop_sequence = _expect(data.get("stop_sequence", ""), str, f"{where}.stop_sequence")
    message.params = dict(_expect(data.get("params", {}), dict, f"{where}.params"))
    omitted = _expect(data.get("omitted", []), list, f"{where}.omitted")
    message.omitted = [_expect(x, str, f"{where}.omitted[]") for x in omitted]
    reasons = _expect(data.get("omitted_reasons", {}), dict, f"{where}.omitted_reasons")
    for key, value in reasons.items():
        _expect(value, str, f"{where}.omitted_reasons.{key}")
    message.omitted_reasons = dict(reasons)
    thinking = _expect(data.get("thinking", []), list, f"{where}.thinking")
    for n, block in enumerate(thinking):
        _expect(block, dict, f"{where}.thinking[{n}]")
        for key, value in block.items():
            _expect(value, str, f"{where}.thinking[{n}].{key}")
        if block.get("type") not in ("thinking", "redacted"):
            raise _Shape(f"{where}.thinking[{n}].type should be 'thinking' or 'redacted'")
    message.thinking = [dict(block) for block in thinking]
    usage = _expect(data.get("usage", {}), dict, f"{where}.usage")
    for key, value in usage.items():
        _expect(value, (int, float), f"{where}.usage.{key}")
    message.usage = dict(usage)
    error = _expect(data.get("error", {}), dict, f"{where}.error")
    for key, value in error.items():
        _expect(value, str, f"{where}.error.{key}")
    message.error = dict(error)
    alternatives = _expect(data.get("alternatives", []), list, f"{where}.alternatives")
    if alternatives and nested:
        raise _Shape(f"{where} is an alternative and cannot have alternatives of its own")
    message.alternatives = [
        _message_from_dict(alt, f"{where}.alternatives[{n}]", nested=True)
        for n, alt in enumerate(alternatives)
    ]
    chosen = data.get("chosen")
    known = _MESSAGE_KEYS
    if isinstance(chosen, int) and not isinstance(chosen, bool):
        message.chosen = chosen
    else:
        known = _MESSAGE_KEYS - {"chosen"}  # not ours to read: carried as it was
    message.extra = {k: v for k, v in data.items() if k not in known}
    return message


_TOP_KEYS = {"schema", "id", "title", "title_custom", "created", "updated", "params", "messages"}


def _check_schema(data: dict[str, Any]) -> None:
    if "schema" not in data:
        raise _Shape("missing key 'schema' (not a tui-chat session file?)")
    schema = _expect(data["schema"], int, "schema")
    if schema > SCHEMA:
        raise _Shape(
            f"written by a newer tui-chat (schema {schema}; this version reads {SCHEMA}); "
            "left untouched"
        )
    if schema < 1:
        raise _Shape(f"schema {schema} is not a valid version")


def conversation_from_dict(data: dict[str, Any], file_id: str, defaults: Params) -> Conversation:
    """Build a Conversation from a parsed document; raises _Shape with the reason."""
    _check_schema(data)
    title = _expect(data.get("title", ""), str, "title")
    title_custom = _expect(data.get("title_custom", False), bool, "title_custom")
    created = _when(data.get("created", now()), "created")
    updated = _when(data.get("updated", created), "updated")
    raw_params = _expect(data.get("params", {}), dict, "params")
    try:
        params = Params.from_dict(raw_params, base=defaults)
    except ParamError as error:
        raise _Shape(f"[params] {error}") from None
    messages_raw = _expect(data.get("messages", []), list, "messages")
    messages = [_message_from_dict(m, f"messages[{n}]") for n, m in enumerate(messages_raw)]
    conversation = Conversation(
        id=file_id,
        params=params,
        title=title,
        title_custom=title_custom,
        created=created,
        updated=updated,
        messages=messages,
        extra={k: v for k, v in data.items() if k not in _TOP_KEYS},
        params_extra={k: v for k, v in raw_params.items() if k not in ALL_PARAMS},
    )
    if not title:
        conversation.refresh_title()
    return conversation


# ---------------------------------------------------------------------------------------------
# Files


def _read_bytes(path: Path) -> tuple[bytes, os.stat_result]:
    """Read a session file without following symlinks; StoreError says why it can't be."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise StoreError(path, VANISHED) from None
    except OSError as error:
        raise StoreError(path, f"cannot be read ({error.strerror})") from None
    if stat.S_ISLNK(info.st_mode):
        raise StoreError(path, "is a symbolic link; session files must be regular files")
    if stat.S_ISDIR(info.st_mode):
        raise StoreError(path, "is a directory, not a session file")
    if not stat.S_ISREG(info.st_mode):
        raise StoreError(path, "is not a regular file")
    if info.st_size > MAX_FILE_BYTES:
        raise StoreError(
            path,
            f"is too large ({info.st_size / 1e6:.0f} MB; the limit is "
            f"{MAX_FILE_BYTES // 1_000_000} MB)",
        )
    if info.st_size == 0:
        raise StoreError(path, "is empty")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as handle:
            data = handle.read()
    except OSError as error:
        raise StoreError(path, f"cannot be read ({error.strerror})") from None
    return data, info


def _decode(path: Path, data: bytes) -> str:
    if b"\x00" in data:
        raise StoreError(path, "is binary, not TOML text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise StoreError(path, f"is not UTF-8 text (byte {error.start})") from None


def _parse_toml(path: Path, text: str) -> dict[str, Any]:
    try:
        return loads_toml(text)
    except DocumentError as error:
        raise StoreError(path, error.reason) from None


# Reading TOML and JSON that anyone may have written. Python's parsers (and tomli-w, and
# json.dumps of a parsed copy) recurse once per level of nesting, so `a = [[[[...]]]]` a few
# hundred levels deep, a kilobyte or so, raises RecursionError instead of a syntax error. These
# turn that, and any other failure of a parser on hostile input, into a reason in words.

#: Deeper than this and a document is refused: no file of ours nests more than a few levels, and
#: everything later done with a document (tomli-w, json.dumps, repr) then stays far from the
#: recursion limit.
MAX_NESTING = 64
#: The reason given for a file nested too deeply (for the parser, or past MAX_NESTING).
TOO_DEEP = "is nested too deeply to read"


class DocumentError(ValueError):
    """A TOML or JSON document that cannot be used; `reason` says why, in words, to follow a
    file name ("is not valid TOML (...)", "is nested too deeply to read")."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def loads_toml(text: str) -> dict[str, Any]:
    """`tomllib.loads`, but every way it can fail is a DocumentError."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise DocumentError(f"is not valid TOML ({error})") from None
    except RecursionError:
        raise DocumentError(TOO_DEEP) from None
    except Exception as error:  # any other failure of the parser: the file is unreadable
        raise DocumentError(f"cannot be parsed ({type(error).__name__}: {error})") from None
    _check_nesting(document)
    return document


def loads_json(data: str | bytes, **options: Any) -> Any:
    """`json.loads` (with `options`, such as an object_hook), but every way it or the hook can
    fail is a DocumentError."""
    try:
        document = json.loads(data, **options)
    except RecursionError:
        raise DocumentError(TOO_DEEP) from None
    except Exception as error:  # JSONDecodeError, bad UTF-8, or the hook's own errors
        raise DocumentError(f"is not valid JSON ({error})") from None
    _check_nesting(document)
    return document


def _check_nesting(document: Any) -> None:
    """DocumentError if tables and arrays nest more than MAX_NESTING deep (without recursing)."""
    containers: list[tuple[Any, int]] = [(document, 1)] if isinstance(document, dict | list) else []
    while containers:
        value, depth = containers.pop()
        children = value.values() if isinstance(value, dict) else value
        for child in children:
            if isinstance(child, dict | list):
                if depth >= MAX_NESTING:
                    raise DocumentError(TOO_DEEP)
                containers.append((child, depth + 1))


def link_target(path: Path) -> Path:
    """The file `path` names once symbolic links are followed (`path` itself when it is not a
    link, whether or not it exists). OSError, naming the link, for a link to nothing, a loop, or
    a link to something that is not a regular file."""
    current = path
    for _ in range(40):  # as the kernel: a chain this long is a loop
        try:
            info = os.lstat(current)
        except FileNotFoundError:
            if current == path:
                return path
            shown = os.path.normpath(current)
            raise OSError(f"{path} is a symbolic link to {shown}, which does not exist") from None
        if not stat.S_ISLNK(info.st_mode):
            if current != path and not stat.S_ISREG(info.st_mode):
                shown = os.path.normpath(current)
                raise OSError(f"{path} is a symbolic link to {shown}, which is not a file")
            return current
        current = current.parent / os.readlink(current)
    raise OSError(f"{path} is a symbolic link that leads round in a loop")


def write_atomic(
    path: Path, text: str | bytes, mode: int = 0o600, *, follow_symlinks: bool = False
) -> os.stat_result:
    """Write `text` (UTF-8) or bytes to `path` so that a crash leaves either the old file or
    the new one.

    A symbolic link at `path` is replaced by a regular file, unless `follow_symlinks`: then the
    file it points to is written instead (the temporary file is made in that file's folder, so
    the rename stays on its file system), keeping that file's permissions, and the link stays.
    A link to nothing, or a loop, is then an OSError and nothing is written. The user's own
    files (config.toml, state.toml) follow links; session files never do (see _read_bytes).
    """
    if follow_symlinks:
        target = link_target(path)
        if target != path:
            with contextlib.suppress(FileNotFoundError):
                mode = stat.S_IMODE(os.stat(target).st_mode)
            path = target
    directory = path.parent
    data = text.encode("utf-8") if isinstance(text, str) else text
    tmp = directory / f".{path.name}.{os.getpid()}.{os.urandom(3).hex()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(directory)
    return os.stat(path)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _header_summary(path: Path, file_id: str, data: bytes) -> dict[str, Any]:
    """Read the title and times from the lines before the first table, and count turns."""
    text = _decode(path, data)
    match = re.search(r"^[ \t]*\[", text, re.MULTILINE)
    head = text[: match.start()] if match else text
    header = _parse_toml(path, head)
    try:
        _check_schema(header)
        title = _expect(header.get("title", ""), str, "title")
        created = _when(header.get("created", datetime.fromtimestamp(0, UTC)), "created")
        updated = _when(header.get("updated", created), "updated")
    except _Shape as error:
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


def _remove_stale_temporary(entry: os.DirEntry) -> None:
    """Remove one of our own temporary files (`.<name>.<pid>.<random>.tmp`) whose writer died
    long ago. Anything else is left alone."""
    match = _TEMPORARY.match(entry.name)
    if match is None or _pid_alive(int(match["pid"])):
        return
    try:
        info = entry.stat(follow_symlinks=False)
        if not stat.S_ISREG(info.st_mode):
            return
        if time_module.time() - info.st_mtime < STALE_TEMPORARY_SECONDS:
            return
        os.unlink(entry.path)
    except OSError:
        pass


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


# ---------------------------------------------------------------------------------------------


class SessionStore:
    """All conversations in one folder. One instance per process; methods are thread-safe
    for different conversations (each save writes its own file)."""

    def __init__(
        self,
        directory: Path | str,
        cache_dir: Path | str | None = None,
        defaults: Params | None = None,
    ) -> None:
        self.directory = Path(directory).expanduser()
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir else None
        self.defaults = defaults or Params()
        # What this process last read or wrote for each file: (mtime_ns, size) and the
        # fingerprints of its turns, so a save can tell whether someone else changed it.
        self._seen: dict[str, tuple[int, int]] = {}
        self._search_cache: dict[str, tuple[tuple[int, int] | None, str]] = {}
        self._base: dict[str, list[tuple[str, str, str]]] = {}
        # The checkpoint file this process writes for each conversation it streams into.
        self._checkpoints: dict[str, Path] = {}
        #: Sidecars left under an id a conversation no longer has (it was saved as a copy):
        #: removed once the copy is written.
        self._orphans: dict[str, list[Path]] = {}

    # -- paths ---------------------------------------------------------------------------------

    def ensure_directory(self) -> None:
        if not self.directory.exists():
            self.directory.mkdir(parents=True, mode=0o700)
            os.chmod(self.directory, 0o700)

    def path(self, conversation_id: str) -> Path:
        if not is_valid_id(conversation_id) and not _safe_name(conversation_id):
            raise StoreError(self.directory / conversation_id, "is not a valid conversation id")
        return self.directory / f"{conversation_id}{SUFFIX}"

    def partial_path(self, conversation_id: str) -> Path:
        return self.directory / f"{conversation_id}{PARTIAL_SUFFIX}"

    @property
    def index_path(self) -> Path | None:
        if self.cache_dir is None:
            return None
        key = hashlib.sha256(str(self.directory.resolve()).encode()).hexdigest()[:16]
        return self.cache_dir / f"index-{key}.json"

    # -- listing -------------------------------------------------------------------------------

    def list(self, verify: bool = False) -> Listing:
        """Every conversation, most recently updated first, and every file that cannot be read.

        With `verify`, files not yet fully parsed in their current version are parsed whole
        (and the result remembered), so problems anywhere in a file are reported.
        """
        listing = Listing()
        if not self.directory.is_dir():
            return listing
        index = self._load_index()
        entries: dict[str, Any] = {}
        changed = False
        for entry in os.scandir(self.directory):
            name = entry.name
            if name.startswith(".") and name.endswith(".tmp"):
                _remove_stale_temporary(entry)
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
                cached = self._summarise(path, file_id, verify)
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
            self._save_index(entries)
        listing.conversations.sort(key=lambda s: (s.updated, s.id), reverse=True)
        listing.problems.sort(key=lambda p: p.path.name)
        return listing

    def _summarise(self, path: Path, file_id: str, verify: bool) -> dict[str, Any]:
        try:
            if not _safe_name(file_id):
                raise StoreError(path, "has a name that is not a conversation id")
            data, _info = _read_bytes(path)
            if verify:
                conversation = self._parse(path, file_id, data)
                return {
                    "id": file_id,
                    "title": conversation.title,
                    "created": conversation.created.isoformat(),
                    "updated": conversation.updated.isoformat(),
                    "count": len(conversation.messages),
                    "ok": True,
                }
            return _header_summary(path, file_id, data)
        except StoreError as error:
            return {"problem": error.reason}

    def _load_index(self) -> dict[str, Any]:
        path = self.index_path
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
        # An entry `list` could not use (edited by hand, or by another version) is dropped, so
        # that file is simply read again.
        return {name: entry for name, entry in files.items() if self._index_entry_ok(name, entry)}

    @staticmethod
    def _index_entry_ok(name: str, entry: Any) -> bool:
        """Whether an index entry has what `list` reads from it, of the types it expects."""
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

    def _save_index(self, entries: dict[str, Any]) -> None:
        path = self.index_path
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            payload = {"version": INDEX_VERSION, "directory": str(self.directory), "files": entries}
            write_atomic(path, json.dumps(payload, ensure_ascii=False))
        except OSError:
            # The index is only a cache: listing still works without it.
            pass

    def search(self, text: str, ids: Iterable[str] | None = None) -> list[str]:
        """Ids of conversations whose title or any turn contains `text` (case-insensitive),
        most recent first.

        Fast enough to run as the user types over thousands of files: it never parses TOML.
        The needle is escaped exactly as the store writes strings, and only the `title` and
        `content` lines of each file are searched; those lines are cached in memory against
        each file's mtime and size, so only changed files are read again.
        """
        needle = _toml_escaped(text).casefold()
        if not needle:
            return []
        wanted = set(ids) if ids is not None else None
        found = []
        for summary in self.list().conversations:
            if wanted is not None and summary.id not in wanted:
                continue
            if needle in self._searchable(summary.path):
                found.append(summary.id)
        return found

    def _searchable(self, path: Path) -> str:
        key = _stat_key(path)
        cached = self._search_cache.get(path.name)
        if cached is not None and cached[0] == key:
            return cached[1]
        try:
            data, _info = _read_bytes(path)
            text = _decode(path, data)
        except StoreError:
            text = ""
        lines = "\n".join(_SEARCHABLE_LINE.findall(text)).casefold()
        self._search_cache[path.name] = (key, lines)
        return lines

    # -- loading and saving --------------------------------------------------------------------

    def _parse(
        self, path: Path, file_id: str, data: bytes, keep_copy: bool = False
    ) -> Conversation:
        """The conversation in `data`, from the parsed copy when one matches. With `keep_copy`
        (opening a conversation, not listing or saving one) a big file's parse is kept."""
        copy_path = self._parsed_path(file_id) if len(data) >= PARSED_COPY_MIN_BYTES else None
        digest = _digest(data) if copy_path else ""
        document = _read_parsed_copy(copy_path, digest) if copy_path else None
        if document is None:
            document = _parse_toml(path, _decode(path, data))
            if copy_path and keep_copy:
                _keep_parsed_copy(copy_path, digest, document)
        try:
            return conversation_from_dict(document, file_id, self.defaults)
        except _Shape as error:
            raise StoreError(path, str(error)) from None

    # -- parsed copies of big files ---------------------------------------------------------------

    def _parsed_path(self, file_id: str) -> Path | None:
        return None if self.cache_dir is None else self.cache_dir / "parsed" / f"{file_id}.json"

    def exists(self, conversation_id: str) -> bool:
        return self.path(conversation_id).exists()

    def load(self, conversation_id: str, recover: bool = True) -> Conversation:
        """Read a conversation. A leftover checkpoint from a process that died is turned into
        the last reply with status `interrupted` (and saved) unless `recover` is false."""
        path = self.path(conversation_id)
        data, info = _read_bytes(path)
        conversation = self._parse(path, conversation_id, data, keep_copy=True)
        self._remember(conversation, info)
        if recover:
            self._recover_partial(conversation)
        return conversation

    def _remember(self, conversation: Conversation, info: os.stat_result) -> None:
        self._seen[conversation.id] = (info.st_mtime_ns, info.st_size)
        self._base[conversation.id] = [
            m.fingerprint() for m in conversation.messages if m.status != "streaming"
        ]

    def forget(self, conversation_id: str) -> None:
        self._seen.pop(conversation_id, None)
        self._base.pop(conversation_id, None)

    def save(self, conversation: Conversation) -> SaveResult:
        """Write a conversation atomically, keeping any turns another process appended."""
        self.ensure_directory()
        path = self.path(conversation.id)
        outcome = "saved"
        original = ""
        current = _stat_key(path)
        seen = self._seen.get(conversation.id)
        if current is not None and current != seen:
            merged = self._merge_from_disk(conversation, path, known=seen is not None)
            if merged:
                outcome = "merged"
            else:
                original = conversation.id
                self._save_as_copy(conversation)
                path = self.path(conversation.id)
                outcome = "copied"
        info = write_atomic(path, dumps(conversation))
        self._remember(conversation, info)
        for sidecar in self._orphans.pop(conversation.id, []):
            with contextlib.suppress(OSError):  # gone, or a read-only folder: harmless
                sidecar.unlink()
        return SaveResult(outcome, path, original)

    def _merge_from_disk(self, conversation: Conversation, path: Path, known: bool) -> bool:
        """Fold turns another process appended into `conversation`; False if that's not safe."""
        if not known:
            return False
        try:
            data, _info = _read_bytes(path)
            disk = self._parse(path, conversation.id, data)
        except StoreError:
            return False
        base = self._base.get(conversation.id, [])
        disk_prints = [m.fingerprint() for m in disk.messages]
        if disk_prints[: len(base)] != base:
            return False
        theirs = disk.messages[len(base) :]
        ours = conversation.messages[len(base) :]
        prefix = conversation.messages[: len(base)]
        our_prints = {m.fingerprint() for m in conversation.messages}
        theirs = [m for m in theirs if m.fingerprint() not in our_prints]
        conversation.messages = prefix + _interleave(ours, theirs)
        if disk.title_custom and not conversation.title_custom:
            conversation.title, conversation.title_custom = disk.title, True
        conversation.updated = max(conversation.updated, disk.updated)
        return True

    def _save_as_copy(self, conversation: Conversation) -> None:
        """Give the conversation a new id (and "(copy)" in its title). A reply this process
        is checkpointing goes with it: its sidecar under the old id is removed once the copy
        is saved (the copy holds the reply), so the original never gets it back as an
        interrupted duplicate."""
        old_id = conversation.id
        conversation.id = new_id()
        sidecar = self._checkpoints.pop(old_id, None)
        if sidecar is not None:
            self._orphans.setdefault(conversation.id, []).append(sidecar)
        if not conversation.title.endswith("(copy)"):
            conversation.title = f"{conversation.title} (copy)"
            conversation.title_custom = True

    def delete(self, conversation_id: str) -> None:
        parsed = self._parsed_path(conversation_id)
        for path in (
            self.path(conversation_id),
            *self._sidecars(conversation_id),
            *([parsed] if parsed else []),
        ):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        self.forget(conversation_id)

    # -- checkpoints ---------------------------------------------------------------------------

    def checkpoint(self, conversation_id: str, message: Message) -> None:
        """Save a reply that is still streaming to its sidecar (small; the conversation file
        is not rewritten). If another live process is checkpointing a reply into the same
        conversation (`tui-chat ask --session` while the app streams), this process uses a
        sidecar of its own, `<id>.<pid>.partial.toml`, so neither overwrites the other."""
        self.ensure_directory()
        path = self._checkpoints.get(conversation_id)
        if path is None:
            path = self.partial_path(conversation_id)
            if self._held_by_another(path):
                path = self.directory / f"{conversation_id}.{os.getpid()}{PARTIAL_SUFFIX}"
            self._checkpoints[conversation_id] = path
        document = {
            "schema": SCHEMA,
            "conversation": conversation_id,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "message": _message_to_dict(message),
        }
        write_atomic(path, tomli_w.dumps(document))

    def clear_checkpoint(self, conversation_id: str) -> None:
        """Remove this process's checkpoint of the conversation (never another live
        process's: its reply is still streaming)."""
        path = self._checkpoints.pop(conversation_id, None)
        if path is None:
            path = self.partial_path(conversation_id)
            if self._held_by_another(path):
                return
        with contextlib.suppress(FileNotFoundError):
            path.unlink()

    def _sidecars(self, conversation_id: str) -> list[Path]:
        """Every checkpoint of a conversation: the usual one, then any a second process wrote
        while streaming into it at the same time."""
        main = self.partial_path(conversation_id)
        try:
            others = sorted(self.directory.glob(f"{conversation_id}.*{PARTIAL_SUFFIX}"))
        except OSError:
            others = []
        return [main, *(p for p in others if p != main)]

    def _held_by_another(self, path: Path) -> bool:
        """Whether the checkpoint at `path` belongs to another process that is still running
        (on this machine; one from another machine is left for that machine)."""
        try:
            data, _info = _read_bytes(path)
            document = _parse_toml(path, _decode(path, data))
        except StoreError:
            return False
        pid, host = document.get("pid"), document.get("host")
        if not isinstance(pid, int) or isinstance(pid, bool) or not isinstance(host, str):
            return False
        if host != socket.gethostname():
            return True
        return pid != os.getpid() and _pid_alive(pid)

    def _recover_partial(self, conversation: Conversation) -> None:
        for path in self._sidecars(conversation.id):
            self._recover_one(conversation, path)

    def _recover_one(self, conversation: Conversation, path: Path) -> None:
        try:
            data, _info = _read_bytes(path)
        except StoreError:
            return
        try:
            document = _parse_toml(path, _decode(path, data))
            _check_schema(document)
            pid = _expect(document.get("pid", 0), int, "pid")
            host = document.get("host", "")
            message = _message_from_dict(document.get("message"), "message")
        except (StoreError, _Shape):
            # A checkpoint is only ever written atomically, so a bad one is not ours: leave it.
            return
        if host == socket.gethostname() and pid != os.getpid() and _pid_alive(pid):
            return  # another live process is still streaming this reply
        if pid == os.getpid():
            return  # our own stream in progress
        same = [
            m
            for m in conversation.messages
            if m.role == message.role and m.created == message.created
        ]
        if not same:
            message.status = "interrupted"
            conversation.messages.append(message)
            self.save(conversation)
        elif len(message.content) > len(same[0].content) and message.content.startswith(
            same[0].content.rstrip()
        ):
            # A reply being continued when the process died: keep the longer text.
            same[0].content = message.content
            same[0].status = "interrupted"
            self.save(conversation)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


_SEARCHABLE_LINE = re.compile(r'^(?:title|content) = "(.*)"[ \t]*\r?$', re.MULTILINE)


def _toml_escaped(text: str) -> str:
    """`text` as it appears inside a basic string written by tomli-w (without the quotes)."""
    line = tomli_w.dumps({"x": text})
    return line[line.index('"') + 1 : line.rindex('"')]


def _interleave(ours: list[Message], theirs: list[Message]) -> list[Message]:
    """Two processes' new turns in one order, each side's own order kept: the earlier first.
    Times are stored to the second, so ties are common; on a tie a reply of ours goes first
    (it answers the turn before it, which both sides had), any other turn of ours after
    theirs (it was added to a conversation that, on disk, already held theirs)."""
    combined: list[Message] = []
    i = j = 0
    while i < len(ours) and j < len(theirs):
        mine, other = ours[i], theirs[j]
        if mine.created < other.created or (
            mine.created == other.created and mine.role == "assistant"
        ):
            combined.append(mine)
            i += 1
        else:
            combined.append(other)
            j += 1
    return combined + ours[i:] + theirs[j:]


def _read_parsed_copy(path: Path, digest: str) -> dict[str, Any] | None:
    """The TOML document of a big file as parsed before, if the file's bytes are the same
    (Python's TOML parser reads a 1 MB conversation in about 0.15 s; JSON ten times
    faster). Only a cache: anything wrong with it and the file is parsed again."""
    try:
        copy = loads_json(path.read_bytes(), object_hook=_from_json)
    except (OSError, DocumentError):
        return None
    if not isinstance(copy, dict) or copy.get("digest") != digest:
        return None
    document = copy.get("document")
    return document if isinstance(document, dict) else None


def _keep_parsed_copy(path: Path, digest: str, document: dict[str, Any]) -> None:
    try:
        payload = json.dumps(
            {"digest": digest, "document": document}, default=_to_json, ensure_ascii=False
        )
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomic(path, payload)
    except (OSError, TypeError, ValueError):
        pass  # only a cache: the file is parsed next time


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


# TOML's dates and times in JSON: {"\u0000toml": "datetime", "value": "<ISO 8601>"}.
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


def _stat_key(path: Path) -> tuple[int, int] | None:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    return (info.st_mtime_ns, info.st_size)


_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def _safe_name(name: str) -> bool:
    return bool(_SAFE_NAME.match(name)) and ".." not in name


__all__ = [
    "STATUSES",
    "Listing",
    "Problem",
    "SaveResult",
    "SessionStore",
    "StoreError",
    "Summary",
    "conversation_from_dict",
    "conversation_to_dict",
    "write_atomic",
]
