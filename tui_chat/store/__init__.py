"""SessionStore: one TOML file per conversation, atomic writes, fast listing.

Files are `<id>.toml` in the sessions folder (0700), each 0600, written with tomli-w through a
temporary file in the same folder, flushed, fsynced and renamed into place
(tui_chat/files.py). A file that does not parse, has the wrong shape or a newer schema is
reported and never written to or deleted. The schema lives in tui_chat/store/schema.py; see
docs/ARCHITECTURE.md, "Session files".

SessionStore is the facade the app and the CLI use; each job is a module of this package:
  - schema.py: Conversation <-> TOML document, every saved key declared;
  - reading.py: reading one file safely (StoreError says why it cannot be);
  - index.py: listing the folder from file headers, remembered in an index in the cache folder;
  - search.py: finding text without parsing TOML;
  - cache.py: parsed copies of big files, so they open fast;
  - merge.py: saving over another process's changes (merged, or saved as a copy);
  - checkpoints.py: a streaming reply's sidecar `<id>.partial.toml`, recovered after a crash;
  - model_cache.py: the account's model list, kept for a day (plain data).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from tui_chat.attachments import Attachment
from tui_chat.conversation import STATUSES, Conversation, Message, is_valid_id
from tui_chat.files import Unreadable, read_regular, stat_key, write_atomic
from tui_chat.params import Params
from tui_chat.store import cache, index, merge
from tui_chat.store.checkpoints import Checkpoints
from tui_chat.store.index import PARTIAL_SUFFIX, SUFFIX, Listing, Problem, Summary
from tui_chat.store.reading import StoreError, read_bytes
from tui_chat.store.schema import (
    Shape,
    conversation_from_dict,
    conversation_to_dict,
    dumps,
)
from tui_chat.store.search import Searcher


@dataclass(frozen=True)
class SaveResult:
    """How a save went: "saved", "merged" (another process had appended turns, now kept
    in memory and on disk), or "copied" (the file on disk had been changed in a way that
    cannot be merged, so this conversation was saved beside it under `conversation.id`)."""

    outcome: str
    path: Path
    original_id: str = ""


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
        self._base: dict[str, list[tuple[str, str, str]]] = {}
        self._searcher = Searcher()
        self._checkpoints = Checkpoints(self.directory)

    # -- paths ---------------------------------------------------------------------------------

    def ensure_directory(self) -> None:
        if not self.directory.exists():
            self.directory.mkdir(parents=True, mode=0o700)
            os.chmod(self.directory, 0o700)

    def path(self, conversation_id: str) -> Path:
        if not is_valid_id(conversation_id) and not index.safe_name(conversation_id):
            raise StoreError(self.directory / conversation_id, "is not a valid conversation id")
        return self.directory / f"{conversation_id}{SUFFIX}"

    def partial_path(self, conversation_id: str) -> Path:
        return self._checkpoints.partial_path(conversation_id)

    @property
    def index_path(self) -> Path | None:
        return index.index_path(self.cache_dir, self.directory)

    # -- listing and searching -----------------------------------------------------------------

    def list(self, verify: bool = False) -> Listing:
        """Every conversation, most recently updated first, and every file that cannot be read.

        With `verify`, files not yet fully parsed in their current version are parsed whole
        (and the result remembered), so problems anywhere in a file are reported.
        """
        return index.scan(self.directory, self.index_path, self._parse, verify)

    def search(self, text: str, ids: Iterable[str] | None = None) -> list[str]:
        """Ids of conversations whose title or any turn contains `text` (case-insensitive),
        most recent first (see search.py: it never parses TOML)."""
        return self._searcher.search(self.list().conversations, text, ids)

    # -- loading and saving --------------------------------------------------------------------

    def _parse(
        self, path: Path, file_id: str, data: bytes, keep_copy: bool = False
    ) -> Conversation:
        """The conversation in `data`, from the parsed copy when one matches. With `keep_copy`
        (opening a conversation, not listing or saving one) a big file's parse is kept."""
        copy_path = cache.parsed_path(self.cache_dir, file_id)
        document = cache.document(path, data, copy_path, keep_copy)
        try:
            return conversation_from_dict(document, file_id, self.defaults)
        except Shape as error:
            raise StoreError(path, str(error)) from None

    def exists(self, conversation_id: str) -> bool:
        return self.path(conversation_id).exists()

    def load(self, conversation_id: str, recover: bool = True) -> Conversation:
        """Read a conversation. A leftover checkpoint from a process that died is turned into
        the last reply with status `interrupted` (and saved) unless `recover` is false."""
        path = self.path(conversation_id)
        data, info = read_bytes(path)
        conversation = self._parse(path, conversation_id, data, keep_copy=True)
        self._remember(conversation, info)
        if recover:
            self._checkpoints.recover(conversation, self.save)
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
        current = stat_key(path)
        seen = self._seen.get(conversation.id)
        if current is not None and current != seen:
            if self._merge_from_disk(conversation, path, known=seen is not None):
                outcome = "merged"
            else:
                original = merge.make_copy(conversation)
                self._checkpoints.moved(original, conversation.id)
                self._copy_files(original, conversation.id)
                path = self.path(conversation.id)
                outcome = "copied"
        info = write_atomic(path, dumps(conversation))
        self._remember(conversation, info)
        self._checkpoints.saved(conversation.id)
        return SaveResult(outcome, path, original)

    def _merge_from_disk(self, conversation: Conversation, path: Path, known: bool) -> bool:
        """Fold turns another process appended into `conversation`; False if that's not safe."""
        if not known:
            return False
        try:
            data, _info = read_bytes(path)
            disk = self._parse(path, conversation.id, data)
        except StoreError:
            return False
        return merge.fold_in(conversation, disk, self._base.get(conversation.id, []))

    def delete(self, conversation_id: str) -> None:
        parsed = cache.parsed_path(self.cache_dir, conversation_id)
        for path in (
            self.path(conversation_id),
            *self._checkpoints.sidecars(conversation_id),
            *([parsed] if parsed else []),
        ):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        files = self.files_dir(conversation_id)
        if files.is_dir() and not files.is_symlink():
            shutil.rmtree(files)
        self.forget(conversation_id)

    # -- attached files ------------------------------------------------------------------------

    def files_dir(self, conversation_id: str) -> Path:
        """The folder of a conversation's attached files, `<id>.files/` beside its file."""
        if not is_valid_id(conversation_id):
            raise ValueError(f"not a conversation id: {conversation_id!r}")
        return self.directory / f"{conversation_id}.files"

    def file_path(self, conversation_id: str, attachment: Attachment) -> Path:
        """Where an attached file's stored copy is."""
        return self.files_dir(conversation_id) / attachment.stored_name

    def keep_file(self, conversation_id: str, attachment: Attachment, data: bytes) -> Path:
        """Store a copy of an attached file (0600, written atomically; once per content)."""
        folder = self.files_dir(conversation_id)
        self.ensure_directory()
        folder.mkdir(mode=0o700, exist_ok=True)
        path = folder / attachment.stored_name
        if not path.is_file() or path.stat().st_size != len(data):
            write_atomic(path, data)
        return path

    def has_file(self, conversation_id: str, attachment: Attachment) -> bool:
        """Whether the stored copy is there, of its size (a quick look: `read_file` checks
        the content too)."""
        try:
            info = os.lstat(self.file_path(conversation_id, attachment))
        except OSError:
            return False
        return stat.S_ISREG(info.st_mode) and info.st_size == attachment.size

    def read_file(self, conversation_id: str, attachment: Attachment) -> bytes | None:
        """The stored copy's bytes; None when it is missing, unreadable or not the file that
        was attached (its digest differs)."""
        try:
            data, _ = read_regular(self.file_path(conversation_id, attachment), 1 << 30)
        except Unreadable:
            return None
        return data if hashlib.sha256(data).hexdigest() == attachment.sha256 else None

    def loader(
        self, conversation_id: str, pending: Iterable[tuple[Attachment, bytes]] = ()
    ) -> Callable[[Attachment], bytes | None]:
        """What reads a conversation's attached files for a request: the stored copies, or
        the bytes of `pending` files not stored (yet), found by digest."""
        pending = {attachment.sha256: data for attachment, data in pending}

        def load(attachment: Attachment) -> bytes | None:
            found = pending.get(attachment.sha256)
            return found if found is not None else self.read_file(conversation_id, attachment)

        return load

    def _copy_files(self, old_id: str, new_id: str) -> None:
        source = self.files_dir(old_id)
        if source.is_dir() and not source.is_symlink():
            shutil.copytree(source, self.files_dir(new_id), dirs_exist_ok=True)

    # -- checkpoints ---------------------------------------------------------------------------

    def checkpoint(self, conversation_id: str, message: Message) -> None:
        """Save a reply that is still streaming to its sidecar (small; the conversation file
        is not rewritten). If another live process is checkpointing a reply into the same
        conversation (`tui-chat ask --session` while the app streams), this process uses a
        sidecar of its own, `<id>.<pid>.partial.toml`, so neither overwrites the other."""
        self.ensure_directory()
        self._checkpoints.write(conversation_id, message)

    def clear_checkpoint(self, conversation_id: str) -> None:
        """Remove this process's checkpoint of the conversation (never another live
        process's: its reply is still streaming)."""
        self._checkpoints.clear(conversation_id)


__all__ = [
    "PARTIAL_SUFFIX",
    "STATUSES",
    "SUFFIX",
    "Listing",
    "Problem",
    "SaveResult",
    "SessionStore",
    "StoreError",
    "Summary",
    "conversation_from_dict",
    "conversation_to_dict",
    "dumps",
]
