"""The conversation list kept in step with the sessions folder: the listing at start, files
that cannot be read (marked, said once, never touched), a full check of every file in a
thread, one row updated after each save, and which conversation opens first."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.css.query import NoMatches

from tui_chat.conversation import Conversation
from tui_chat.store import Problem
from tui_chat.ui.widgets.conversation_list import ConversationList, Entry

if TYPE_CHECKING:
    from tui_chat.ui.app import ChatApp

#: The draft of a conversation not saved yet is kept under this key.
NEW_DRAFT_KEY = "new"


class Listing:
    """The list pane's rows, for the app (`app.listing`)."""

    def __init__(self, app: ChatApp) -> None:
        self.app = app
        self._reported: set[str] = set()

    def load(self) -> None:
        listing = self.app.store.list()
        streams = self.app.streams
        entries = [
            Entry(s.id, s.title, s.updated, s.message_count, streaming=s.id in streams)
            for s in listing.conversations
        ]
        self.app.query_one(ConversationList).set_entries(entries)
        self.report(listing.problems)

    def report(self, problems: list[Problem]) -> None:
        """Show each unreadable file as a marked row (it stays untouched) and say so once."""
        rows = [(p.path.name, p.reason) for p in problems]
        self.app.query_one(ConversationList).show_problems(rows)
        for problem in problems:
            key = f"{problem.path}:{problem.reason}"
            if key not in self._reported:
                self._reported.add(key)
                self.app.say(
                    f"{problem.path} is unreadable and was left untouched: {problem.reason}",
                    severity="warning",
                    timeout=10,
                )

    def verify(self) -> None:
        """In a thread: parse every file the listing only skimmed (once per file version),
        so a file that is broken past its header is reported at start."""
        problems = self.app.store.list(verify=True).problems
        if problems:
            self.app.call_from_thread(self.report, problems)

    def refresh(self, conversation: Conversation) -> None:
        """Update the conversation's row after a save (and select it if it is open)."""
        app = self.app
        if not app.store.exists(conversation.id):  # never saved
            return
        try:
            rows = app.query_one(ConversationList)  # stops at the first match: no DOM walk
        except NoMatches:  # the app is closing
            return
        count = sum(1 for m in conversation.messages if m.status != "streaming")
        streaming = conversation.id in app.streams
        rows.upsert(
            Entry(conversation.id, conversation.title, conversation.updated, count, streaming)
        )
        if conversation is app.conversation:
            rows.select_current(conversation.id, move=not rows.has_focus)

    def first_id(self, reopen: bool = True) -> str | None:
        """The conversation open at quit (with its draft); None (a new one) if that is what
        was open at quit with an unsent draft in it; else the most recent."""
        entries = self.app.query_one(ConversationList).entries
        state = self.app.state
        wanted = state.open_conversation if reopen else None
        if wanted and wanted in entries and not entries[wanted].problem:
            return wanted
        if wanted and wanted not in entries and state.drafts.get(NEW_DRAFT_KEY):
            return None
        readable = [e for e in entries.values() if not e.problem]
        if not readable:
            return None
        return max(readable, key=lambda e: (e.updated, e.id)).id
