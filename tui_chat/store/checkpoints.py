"""Checkpoints: a reply still streaming, saved to a small sidecar beside its conversation.

While a reply streams, the app (or `tui-chat ask`) saves it every few seconds to
`<id>.partial.toml` (the document is declared in store/schema.py) rather than rewriting the
whole conversation file. When the reply ends, the conversation is saved and the sidecar
removed. A sidecar left behind by a process that died becomes an `interrupted` reply the next
time the conversation is loaded. A process never touches a sidecar another live process is
writing: if two stream into one conversation at once, the second writes
`<id>.<pid>.partial.toml`.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import tomli_w

from tui_chat.conversation import Conversation, Message
from tui_chat.files import pid_alive, write_atomic
from tui_chat.store.index import PARTIAL_SUFFIX
from tui_chat.store.reading import StoreError, read_document
from tui_chat.store.schema import Shape, checkpoint_from_dict, checkpoint_owner, checkpoint_to_dict


class Checkpoints:
    """The checkpoints of one sessions folder, as one process sees them: which sidecar it
    writes for each conversation it streams into."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        # The checkpoint file this process writes for each conversation it streams into.
        self._paths: dict[str, Path] = {}
        #: Sidecars left under an id a conversation no longer has (it was saved as a copy):
        #: removed once the copy is written.
        self._orphans: dict[str, list[Path]] = {}

    def partial_path(self, conversation_id: str) -> Path:
        return self.directory / f"{conversation_id}{PARTIAL_SUFFIX}"

    def write(self, conversation_id: str, message: Message) -> None:
        """Save a reply that is still streaming to this process's sidecar of the conversation
        (the folder must exist)."""
        path = self._paths.get(conversation_id)
        if path is None:
            path = self.partial_path(conversation_id)
            if self._held_by_another(path):
                path = self.directory / f"{conversation_id}.{os.getpid()}{PARTIAL_SUFFIX}"
            self._paths[conversation_id] = path
        write_atomic(path, tomli_w.dumps(checkpoint_to_dict(conversation_id, message)))

    def clear(self, conversation_id: str) -> None:
        """Remove this process's checkpoint of the conversation (never another live
        process's: its reply is still streaming)."""
        path = self._paths.pop(conversation_id, None)
        if path is None:
            path = self.partial_path(conversation_id)
            if self._held_by_another(path):
                return
        with contextlib.suppress(FileNotFoundError):
            path.unlink()

    def moved(self, old_id: str, new_id: str) -> None:
        """The conversation `old_id` is being saved as a copy, `new_id`. A reply this process
        is checkpointing goes with it: its sidecar under the old id is removed once the copy
        is saved (`saved`; the copy holds the reply), so the original never gets it back as
        an interrupted duplicate."""
        sidecar = self._paths.pop(old_id, None)
        if sidecar is not None:
            self._orphans.setdefault(new_id, []).append(sidecar)

    def saved(self, conversation_id: str) -> None:
        """The conversation was written: sidecars it left under an old id are removed."""
        for sidecar in self._orphans.pop(conversation_id, []):
            with contextlib.suppress(OSError):  # gone, or a read-only folder: harmless
                sidecar.unlink()

    def sidecars(self, conversation_id: str) -> list[Path]:
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
            owner = checkpoint_owner(read_document(path))
        except StoreError:
            return False
        if owner is None:
            return False
        pid, host = owner
        if host != socket.gethostname():
            return True
        return pid != os.getpid() and pid_alive(pid)

    def recover(self, conversation: Conversation, save: Callable[[Conversation], Any]) -> None:
        """Turn the checkpoints of processes that died into the conversation's last reply,
        status `interrupted`, saving it with `save`; each is removed once recovered."""
        for path in self.sidecars(conversation.id):
            self._recover_one(conversation, path, save)

    def _recover_one(
        self, conversation: Conversation, path: Path, save: Callable[[Conversation], Any]
    ) -> None:
        try:
            pid, host, message = checkpoint_from_dict(read_document(path))
        except (StoreError, Shape):
            # Missing, or not ours: a checkpoint is only ever written atomically, so a bad one
            # was written by something else. Leave it.
            return
        if host == socket.gethostname() and pid != os.getpid() and pid_alive(pid):
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
            save(conversation)
        elif len(message.content) > len(same[0].content) and message.content.startswith(
            same[0].content.rstrip()
        ):
            # A reply being continued when the process died: keep the longer text.
            same[0].content = message.content
            same[0].status = "interrupted"
            save(conversation)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
