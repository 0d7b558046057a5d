"""Files attached to the next prompt (F4): the dialog that picks them, the model's rules and
Bedrock's counts checked at once, the chips under the messages, and, when the prompt is sent,
their copies kept beside the session file and their names on the user's message
(docs/ARCHITECTURE.md, "The app"). The pending files belong to the open conversation while it
is open: switching conversation or starting a new one drops them, saying so."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from tui_chat.attachments import Attachment, AttachmentError, check_request
from tui_chat.bedrock import catalog
from tui_chat.conversation import Conversation, Message
from tui_chat.ui.screens.attach import AttachDialog
from tui_chat.ui.widgets.chips import AttachmentChips, Chip
from tui_chat.ui.widgets.message_view import MessageView
from tui_chat.ui.widgets.prompt import PromptInput

if TYPE_CHECKING:
    from tui_chat.ui.app import ChatApp

__all__ = ["Attaching", "AttachmentChips"]

Pending = list[tuple[Attachment, bytes]]


class Attaching:
    """The files attached to the open conversation's next prompt (`app.attaching`)."""

    def __init__(self, app: ChatApp) -> None:
        self.app = app
        #: Paths are typed relative to the folder the app started in.
        self.base = Path.cwd()
        self.pending: Pending = []
        self._owner: Conversation | None = None
        #: The files pending before an earlier prompt's files were brought back to edit it.
        self._before_edit: Pending | None = None
        self._drawing = asyncio.Lock()  # one redraw of the chips at a time

    @property
    def attachments(self) -> list[Attachment]:
        return [attachment for attachment, _ in self.pending]

    # -- attaching and removing ----------------------------------------------------------------

    def attach(self) -> None:
        """F4: ask for a file (again for another one)."""
        app = self.app
        if app.screen is not app.screen_stack[0]:
            if app.screen is app.compare_screen:
                app.say("Attach files before F3: compare mode sends the files attached then.")
            return
        dialog = AttachDialog(self.base, self.check, len(self.pending))
        app.push_screen(dialog, self._attached)

    def check(self, attachment: Attachment) -> None:
        """AttachmentError unless the open conversation's model reads this kind of file and
        one request can carry it with the others (text files go in the prompt: always fine)."""
        model = self.app.conversation.params.model
        info = catalog.lookup(model)
        name = catalog.display_name(model)
        if not attachment.read_by(info):
            what = f"{attachment.kind}s"
            raise AttachmentError(f"{name} reads no {what}: {attachment.name} is not attached")
        if any(a.sha256 == attachment.sha256 for a in self.attachments):
            raise AttachmentError(f"{attachment.name} is attached already")
        earlier = [a for m in self.app.conversation.messages for a in m.attachments]
        check_request([*earlier, *self.attachments, attachment])

    async def _attached(self, result: tuple[Attachment, bytes] | None) -> None:
        if result is not None:
            self._owner = self.app.conversation
            self.pending.append(result)
            await self.refresh()

    async def refresh(self, focus: int | None = None) -> None:
        """Show the pending files as chips (`focus`: the chip at that index takes the focus)."""
        async with self._drawing:
            for chips in self.app.query(AttachmentChips):
                await chips.show(self.attachments, focus)

    async def remove_attachment(self) -> None:
        """Delete or Backspace on a focused chip: that file is no longer attached."""
        chip = self.app.focused
        if not isinstance(chip, Chip):
            self.app.say("Focus an attached file first (shift+Tab from the prompt).")
            return
        index = next((n for n, (a, _) in enumerate(self.pending) if a is chip.attachment), None)
        if index is None:
            return
        del self.pending[index]
        await self.refresh(focus=index if self.pending else None)
        if not self.pending:
            self.app.query_one(PromptInput).focus()
        self.app.say(f"Removed {chip.attachment.name}.")

    def clear(self, say: bool = False) -> None:
        """Drop the pending files (saying so, with `say`, when there were any)."""
        if say and self.pending:
            names = ", ".join(a.name for a in self.attachments)
            self.app.say(f"Not sent, so no longer attached: {names}.")
        self.sent()

    def sent(self) -> None:
        """The prompt went out with the pending files: the chips go."""
        self._before_edit = None
        if self.pending:
            self.pending = []
            self.app.call_later(self.refresh)

    # -- the open conversation -----------------------------------------------------------------

    def shown(self, conversation: Conversation) -> None:
        """The app shows `conversation`: another one drops the pending files, saying so. The
        messages show whether each sent file's stored copy is still there."""
        view = self.app.query_one(MessageView)
        view.file_missing = self._missing
        if self._owner is not conversation:
            self.clear(say=True)
            self._owner = conversation

    def _missing(self, conversation_id: str, attachment: Attachment) -> bool:
        try:
            return not self.app.store.has_file(conversation_id, attachment)
        except ValueError:  # not a conversation id (nothing is stored for it)
            return True

    async def add_user(self, conversation: Conversation, text: str) -> Message | None:
        """The user's turn, with the pending files, their copies stored first; None (nothing
        added, nothing to send; the prompt and the files kept) when that cannot be."""
        info = catalog.lookup(conversation.params.model)
        name = catalog.display_name(conversation.params.model)
        for attachment in self.attachments:
            if not attachment.read_by(info):
                self.app.say(
                    f"Not sent: {name} reads no {attachment.kind}s. Remove {attachment.name} "
                    "(Delete on its chip) or choose another model.",
                    severity="warning",
                )
                return None
        store = self.app.store
        sending = list(self.pending)
        try:
            # Off the UI thread: a 4 MB PDF is written and synced while typing goes on (and
            # nothing else is sent in the conversation meanwhile).
            with self.app.streams.preparing(conversation.id):
                for attachment, data in sending:
                    await asyncio.to_thread(store.keep_file, conversation.id, attachment, data)
        except OSError as error:
            reason = error.strerror or str(error)
            self.app.say(
                f"Not sent: {attachment.name} could not be stored ({reason}). Your prompt "
                "and files are kept.",
                severity="error",
            )
            return None
        message = conversation.add_user(text)
        message.attachments = [attachment for attachment, _ in sending]
        return message

    def for_compare(self) -> Pending:
        """The pending files, for compare mode to send (and store) with its prompt."""
        return list(self.pending)

    def forked(self, original: Conversation, fork: Conversation) -> None:
        """An earlier prompt edited and sent in `fork`, a copy of `original` up to it: the
        copy gets the stored files of the turns it copied, and the pending files go with it."""
        store = self.app.store
        for message in fork.messages:
            for attachment in message.attachments:
                data = store.read_file(original.id, attachment)
                if data is not None:
                    try:
                        store.keep_file(fork.id, attachment, data)
                    except OSError as error:
                        self.app.say(f"{attachment.name} was not copied: {error}", severity="error")
        self._owner = fork
        self._before_edit = None

    def editing(self, conversation: Conversation, message: Message) -> None:
        """An earlier prompt goes into the prompt box to be edited: its files come back as
        chips (the files pending before come back if the edit is left)."""
        if not message.attachments:
            return
        self._before_edit = list(self.pending)
        self.pending = []
        gone = []
        for attachment in message.attachments:
            data = self.app.store.read_file(conversation.id, attachment)
            if data is None:
                gone.append(attachment.name)
            else:
                self.pending.append((attachment, data))
        if gone:
            self.app.say(f"Not attached again (the stored copy is missing): {', '.join(gone)}.")
        self.app.call_later(self.refresh)

    def left_edit(self) -> None:
        """Escape left the edit: the files pending before it come back."""
        if self._before_edit is not None:
            self.pending, self._before_edit = self._before_edit, None
            self.app.call_later(self.refresh)

    # -- where the sent files are --------------------------------------------------------------

    def where_files(self) -> None:
        """Enter on a focused prompt with files (or the palette: the focused prompt, else the
        last one with files): where their stored copies are, one per line."""
        app = self.app
        conversation = app.conversation
        focused = app.focused_message()
        message = focused if focused is not None and focused.role == "user" else None
        if message is None:
            with_files = [m for m in conversation.messages if m.role == "user" and m.attachments]
            message = with_files[-1] if with_files else None
        if message is None or not message.attachments:
            where = "this prompt" if message is not None else "this conversation"
            app.say(f"No files are attached to {where}.")
            return
        lines = []
        for attachment in message.attachments:
            path = app.store.file_path(conversation.id, attachment)
            gone = " (missing)" if self._missing(conversation.id, attachment) else ""
            lines.append(f"{path}{gone}")
        app.say("\n".join(lines), title="The attached files' stored copies", timeout=20)
