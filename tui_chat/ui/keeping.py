"""Nothing lost: how the app saves (docs/ARCHITECTURE.md, "Nothing lost").

`Keeping` is the app's keeper for the reply core. A save that fails (a full or read-only disk)
keeps the conversation in memory, marks it UNSAVED in the title bar, and is retried every
RETRY_SECONDS until it works; state.toml (drafts, history) likewise. What still cannot be
written when the app ends is offered as files to write elsewhere, or, with no one to ask (a
signal, the terminal gone), written to a folder of its own.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import tomli_w

from tui_chat.conversation import Conversation, Message
from tui_chat.files import write_atomic
from tui_chat.store import SaveResult, StoreError, dumps

if TYPE_CHECKING:
    from tui_chat.config import State
    from tui_chat.store import SessionStore

log = logging.getLogger("tui_chat.ui")

#: Seconds between attempts to save what could not be written.
RETRY_SECONDS = 5.0


def reason(error: BaseException) -> str:
    """Why a file could not be written, in a few words ("No space left on device")."""
    if isinstance(error, StoreError):
        return error.reason
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__


class Keeping:
    """Saves conversations and the state for the app, and keeps what could not be saved."""

    def __init__(
        self,
        store: SessionStore,
        state: State,
        state_file: Path,
        say: Callable[..., None],
        show_unsaved: Callable[[bool], None],
        set_interval: Callable[..., object],
    ) -> None:
        self.store = store
        self.state = state
        self.state_file = state_file
        self._say = say
        self._show = show_unsaved
        self._set_interval = set_interval
        #: Called after each successful save with (conversation, result).
        self.on_saved: Callable[[Conversation, SaveResult], None] = lambda c, r: None
        #: Conversations that could not be written (by id), kept here and retried.
        self.unsaved: dict[str, Conversation] = {}
        self.reason = ""
        #: Why state.toml could not be written, while it cannot.
        self.state_problem: str | None = None
        self._timer: object | None = None
        self.stopped = False

    # -- the reply core's keeper ----------------------------------------------------------------

    def save(self, conversation: Conversation) -> bool:
        return self.save_now(conversation) is not None

    def checkpoint(self, conversation_id: str, message: Message) -> None:
        self.store.checkpoint(conversation_id, message)

    def clear_checkpoint(self, conversation_id: str) -> None:
        """Remove a finished reply's checkpoint; a folder gone read-only leaves it, which is
        harmless: the saved conversation already holds the reply, so loading drops it."""
        try:
            self.store.clear_checkpoint(conversation_id)
        except OSError as error:
            log.debug("could not remove a checkpoint: %s", error)

    # -- saving -----------------------------------------------------------------------------------

    def save_now(self, conversation: Conversation) -> str | None:
        """Save now: the outcome ("saved", "merged", "copied"), or None when it could not be
        (kept in memory, UNSAVED, and saved again by itself once writing works)."""
        original_id = conversation.id
        try:
            result = self.store.save(conversation)
        except (OSError, StoreError) as error:
            self._mark_unsaved(conversation, reason(error))
            return None
        if self.unsaved.pop(original_id, None) is not None:
            self.unsaved.pop(conversation.id, None)
            self._refresh()
        self.on_saved(conversation, result)
        return result.outcome

    def save_state(self) -> bool:
        """Write state.toml (drafts, history, theme...); if it cannot be, keep it in memory,
        retried by itself like an unsaved conversation."""
        try:
            self.state.save(self.state_file)
        except OSError as error:
            if self.state_problem is None:
                log.debug("could not save state: %s", error)
            self.state_problem = reason(error)
            self._refresh()
            return False
        if self.state_problem is not None:
            self.state_problem = None
            self._refresh()
        return True

    def _mark_unsaved(self, conversation: Conversation, why: str) -> None:
        first = conversation.id not in self.unsaved
        self.unsaved[conversation.id] = conversation
        self.reason = why
        if first:
            self._say(
                f"Could not save “{conversation.title}” ({why}). It is kept here, marked "
                "UNSAVED in the title bar, and saved again by itself as soon as writing works.",
                severity="error",
                timeout=15,
            )
        self._refresh()

    @property
    def waiting(self) -> bool:
        return bool(self.unsaved) or self.state_problem is not None

    def _refresh(self) -> None:
        """The UNSAVED mark, and the retry timer while anything waits."""
        self._show(self.waiting)
        if self.waiting and self._timer is None and not self.stopped:
            self._timer = self._set_interval(RETRY_SECONDS, self.retry)
        elif not self.waiting:
            self.stop_retrying()

    def stop_retrying(self) -> None:
        if self._timer is not None:
            self._timer.stop()  # type: ignore[attr-defined]
            self._timer = None

    def retry(self) -> None:
        """Every few seconds while something is unsaved: try again; say when it worked."""
        saved = []
        for conversation in list(self.unsaved.values()):
            original = conversation.id
            try:
                result = self.store.save(conversation)
            except (OSError, StoreError) as error:
                self.reason = reason(error)
                continue
            self.unsaved.pop(original, None)
            self.clear_checkpoint(conversation.id)
            self.on_saved(conversation, result)
            saved.append(conversation.title)
        if self.state_problem is not None:
            self.save_state()
        self._refresh()
        if saved:
            titles = ", ".join(f"“{title}”" for title in saved)
            self._say(f"Writing works again: {titles} saved.")

    # -- what could not be saved, written elsewhere -----------------------------------------------

    def documents(self) -> dict[str, str]:
        """What could not be written, as files to write elsewhere: each unsaved conversation
        as its session file, and the drafts and history when state.toml could not be."""
        documents = {f"{c.id}.toml": dumps(c) for c in self.unsaved.values()}
        if self.state_problem is not None:
            kept = {k: v for k, v in self.state.drafts.items() if v.strip()}
            documents["drafts.toml"] = tomli_w.dumps(
                {"drafts": kept, "history": self.state.history}
            )
        return documents

    def write_elsewhere(self, folder: Path) -> list[Path]:
        """Write what could not be saved into `folder` (made 0700; files 0600)."""
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        written = []
        for name, text in self.documents().items():
            write_atomic(folder / name, text)
            written.append(folder / name)
        return written

    def rescue(self) -> str | None:
        """No one to ask (a signal, the terminal gone): write what could not be saved to
        `unsaved/` beside state.toml, else the temporary folder. The line to print, or None
        when everything was saved."""
        if not self.documents():
            return None
        for base in (self.state_file.parent / "unsaved", Path(tempfile.gettempdir())):
            try:
                written = self.write_elsewhere(base / f"tui-chat-unsaved-{_stamp()}")
            except OSError:
                continue
            return f"tui-chat: wrote what could not be saved to {written[0].parent}"
        return "tui-chat: some text could not be written anywhere"

    def why(self) -> str:
        return self.reason or self.state_problem or "the disk refused it"


def suggested_folder() -> str:
    """Where to suggest writing what could not be saved: the temporary folder (the data
    folder is the one that failed)."""
    return str(Path(tempfile.gettempdir()) / f"tui-chat-unsaved-{_stamp()}")


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
