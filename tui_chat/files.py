"""Files handled safely: atomic writes, careful reads, and documents anyone may have written.

Every file tui-chat writes (session files, config.toml and state.toml, caches, exports) goes
through `write_atomic`: a temporary file in the same folder, flushed, fsynced and renamed into
place, so a crash leaves the old file or the new one and never half of either. A temporary file
left by a process killed mid-write is recognised by its name and removed once it is stale.

Reading is as careful: `read_regular` reads a regular file without following symbolic links,
refusing anything else, an empty file and a file over a size limit; `loads_toml` and
`loads_json` turn every way a parser can fail on hostile input (nesting deep enough to exhaust
the recursion limit included) into a `DocumentError` with the reason in words.

Nothing here knows what a file is for: that is for its caller (tui_chat/store/, config.py, ...).
See docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import time
import tomllib
from pathlib import Path
from typing import Any

# ---------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------
# Reading a file that must be a regular file of a sensible size

#: The reason given for a file that does not exist (or no longer does).
MISSING = "no such file"


class Unreadable(Exception):
    """A file `read_regular` (or `decode_utf8`) will not read; `reason` says why, in words, to
    follow the file's name ("is empty", "is a directory, not a session file")."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def read_regular(path: Path, max_bytes: int, kind: str = "file") -> tuple[bytes, os.stat_result]:
    """The bytes of the regular file at `path` and its lstat, never following a symbolic link.
    Unreadable for a link, a directory, anything else that is not a regular file, an empty file
    or one over `max_bytes`; `kind` names what the file should be in those reasons."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise Unreadable(MISSING) from None
    except OSError as error:
        raise Unreadable(f"cannot be read ({error.strerror})") from None
    if stat.S_ISLNK(info.st_mode):
        raise Unreadable(f"is a symbolic link; {kind}s must be regular files")
    if stat.S_ISDIR(info.st_mode):
        raise Unreadable(f"is a directory, not a {kind}")
    if not stat.S_ISREG(info.st_mode):
        raise Unreadable("is not a regular file")
    if info.st_size > max_bytes:
        raise Unreadable(
            f"is too large ({info.st_size / 1e6:.0f} MB; the limit is {max_bytes // 1_000_000} MB)"
        )
    if info.st_size == 0:
        raise Unreadable("is empty")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as handle:
            data = handle.read()
    except OSError as error:
        raise Unreadable(f"cannot be read ({error.strerror})") from None
    return data, info


def decode_utf8(data: bytes, kind: str = "TOML") -> str:
    """`data` as text; Unreadable if it holds a NUL byte (binary, not `kind` text) or is not
    UTF-8."""
    if b"\x00" in data:
        raise Unreadable(f"is binary, not {kind} text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Unreadable(f"is not UTF-8 text (byte {error.start})") from None


def stat_key(path: Path) -> tuple[int, int] | None:
    """(mtime_ns, size) of `path` itself (a link is not followed); None when there is none."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    return (info.st_mtime_ns, info.st_size)


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


# ---------------------------------------------------------------------------------------------
# Writing


def write_atomic(
    path: Path, text: str | bytes, mode: int = 0o600, *, follow_symlinks: bool = False
) -> os.stat_result:
    """Write `text` (UTF-8) or bytes to `path` so that a crash leaves either the old file or
    the new one.

    A symbolic link at `path` is replaced by a regular file, unless `follow_symlinks`: then the
    file it points to is written instead (the temporary file is made in that file's folder, so
    the rename stays on its file system), keeping that file's permissions, and the link stays.
    A link to nothing, or a loop, is then an OSError and nothing is written. The user's own
    files (config.toml, state.toml) follow links; session files never do (see read_regular).
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


#: A temporary file of an atomic write left by a process that died (killed mid-write) is
#: removed by `remove_stale_temporary` once it is this old and its process is gone.
STALE_TEMPORARY_SECONDS = 600.0
_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.(?P<pid>[0-9]+)\.[0-9a-f]{6}\.tmp$")


def remove_stale_temporary(entry: os.DirEntry) -> None:
    """Remove one of write_atomic's temporary files (`.<name>.<pid>.<random>.tmp`) whose writer
    died long ago. Anything else is left alone."""
    match = _TEMPORARY.match(entry.name)
    if match is None or pid_alive(int(match["pid"])):
        return
    try:
        info = entry.stat(follow_symlinks=False)
        if not stat.S_ISREG(info.st_mode):
            return
        if time.time() - info.st_mtime < STALE_TEMPORARY_SECONDS:
            return
        os.unlink(entry.path)
    except OSError:
        pass


def pid_alive(pid: int) -> bool:
    """Whether a process with this id is running on this machine."""
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


__all__ = [
    "MAX_NESTING",
    "MISSING",
    "STALE_TEMPORARY_SECONDS",
    "TOO_DEEP",
    "DocumentError",
    "Unreadable",
    "decode_utf8",
    "link_target",
    "loads_json",
    "loads_toml",
    "pid_alive",
    "read_regular",
    "remove_stale_temporary",
    "stat_key",
    "write_atomic",
]
