"""ConversationList: titles and relative times, most recent first, with a filter above it.

Titles are user or model text: each option is a Rich Text built from plain strings (never
markup), so a title like `[@click=app.quit]` is just shown.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from tui_chat.sanitize import for_display
from tui_chat.store import SUFFIX
from tui_chat.ui.format import relative_time
from tui_chat.ui.widgets.keys import OrderedInput


@dataclass
class Entry:
    """One row of the list."""

    id: str
    title: str
    updated: datetime
    count: int
    streaming: bool = False
    problem: str = ""
    matches: set[str] = field(default_factory=set)


#: Rows shown at first (the most recent conversations); the "more" row adds as many again,
#: and the filter always searches every conversation.
PAGE = 100
MORE_ID = "+more"
EMPTY_ID = "+empty"
EPOCH = datetime.fromtimestamp(0, UTC)


def _one_line(text: str, width: int = 80) -> str:
    line = " ".join(for_display(text).split())
    return line if len(line) <= width else line[: width - 1] + "…"


class ConversationList(OptionList):
    """The list itself (`#conversations`). Posts `Opened` when the user picks one."""

    DEFAULT_CSS = """
    ConversationList { height: 1fr; border: none; padding: 0; }
    """

    BINDINGS: ClassVar = [Binding("delete", "delete", "Delete", show=False)]

    @dataclass
    class Opened(Message):
        conversation_id: str

    @dataclass
    class DeleteRequested(Message):
        conversation_id: str

    def action_delete(self) -> None:
        option = self.highlighted_option
        if option is not None and option.id not in (None, MORE_ID) and not option.disabled:
            self.post_message(self.DeleteRequested(option.id))

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.entries: dict[str, Entry] = {}
        self.filter_text = ""
        self.filter_ids: set[str] | None = None  # extra matches (content search)
        self.current_id = ""
        self.limit = PAGE  # rows shown before the "more" row
        self._filtered = ""

    def set_entries(self, entries: list[Entry]) -> None:
        self.entries = {entry.id: entry for entry in entries}
        self.rebuild()

    def upsert(self, entry: Entry) -> None:
        self.entries[entry.id] = entry
        self.rebuild()

    def show_problems(self, problems: list[tuple[str, str]]) -> None:
        """Show each unreadable file (by name, with why) as a marked row that cannot be
        opened, in place of the conversation it would have been."""
        for name, problem in problems:
            self.entries.pop(name.removesuffix(SUFFIX), None)
            self.entries[f"!{name}"] = Entry(f"!{name}", name, EPOCH, 0, problem=problem)
        if problems:
            self.rebuild()

    def remove_entry(self, conversation_id: str) -> None:
        self.entries.pop(conversation_id, None)
        self.rebuild()

    def _visible(self) -> list[Entry]:
        entries = sorted(self.entries.values(), key=lambda e: (e.updated, e.id), reverse=True)
        needle = self.filter_text.casefold().strip()
        if not needle:
            return entries
        extra = self.filter_ids or set()
        return [e for e in entries if needle in e.title.casefold() or e.id in extra]

    def _prompt(self, entry: Entry) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        marker = "● " if entry.streaming else ""
        if entry.problem:
            text.append("⚠ " + _one_line(entry.title), style="italic")
            text.append("\n  unreadable: " + _one_line(entry.problem, 60), style="dim")
            return text
        text.append(marker + _one_line(entry.title), style="bold" if marker else "")
        count = f"{entry.count} msg" + ("" if entry.count == 1 else "s")
        text.append(f"\n  {relative_time(entry.updated)} · {count}", style="dim")
        return text

    def rebuild(self, target: str | None = None) -> None:
        """Show the most recent `limit` matching entries (and the open one), then a row that
        says how many more there are: with thousands of conversations, building every row
        would cost a noticeable pause each time the list changes."""
        visible = self._visible()
        if self.filter_text != self._filtered:  # a new search starts from one page
            self._filtered, self.limit = self.filter_text, PAGE
        highlighted = self.highlighted_option.id if self.highlighted_option else None
        shown = visible[: self.limit]
        if self.current_id and self.current_id not in {e.id for e in shown}:
            shown += [e for e in visible[self.limit :] if e.id == self.current_id]
        self.clear_options()
        self.add_options(
            Option(self._prompt(entry), id=entry.id, disabled=bool(entry.problem))
            for entry in shown
        )
        if not shown:
            words = (
                "No conversation matches."
                if self.filter_text.strip()
                else "No conversations yet: the first message you send starts one."
            )
            self.add_option(Option(Text(words, style="dim italic"), id=EMPTY_ID, disabled=True))
        more = len(visible) - len(shown)
        if more > 0:
            self.add_option(
                Option(
                    Text(f"… {more:,} more: Enter shows {min(more, PAGE):,}", style="dim italic"),
                    id=MORE_ID,
                )
            )
        if target is None:
            # The user's own cursor stays where it was while the list has focus (a reply
            # streaming elsewhere refreshes the list); else the open conversation is shown.
            mine = highlighted if self.has_focus else None
            current = self.current_id if self.current_id in self.entries else None
            target = mine or current or highlighted
        self._highlight(target)

    def _highlight(self, target: str | None) -> None:
        """Highlight `target`, or the first row that can be opened when it is not shown."""
        index = None
        if target:
            try:
                index = self.get_option_index(target)
            except Exception:
                index = None
        if index is None:
            index = self.first_row()
        if index is not None:
            self.highlighted = index

    def first_row(self) -> int | None:
        """The index of the first conversation that can be opened, if any."""
        for index in range(self.option_count):
            option = self.get_option_at_index(index)
            if not option.disabled and option.id not in (MORE_ID, EMPTY_ID):
                return index
        return None

    def first_match(self) -> str | None:
        """Move the cursor to the first match (the filter's Enter) and give its id; None when
        there is none. The pane posts `Opened` itself: a message its parent made and posted
        here would stop at that parent (Textual's rule for a message from a parent)."""
        index = self.first_row()
        if index is None:
            return None
        self.highlighted = index
        return self.get_option_at_index(index).id

    def select_current(self, conversation_id: str, move: bool = True) -> None:
        """Mark the open conversation; `move` the cursor to it too (not while the user is
        moving it in the list)."""
        self.current_id = conversation_id
        if not move:
            return
        try:
            self.highlighted = self.get_option_index(conversation_id)
        except Exception:
            if conversation_id in self.entries:
                self.rebuild()  # beyond the rows shown: `rebuild` adds it

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id == MORE_ID:
            first_new = event.option_index
            self.limit += PAGE
            self.rebuild(target="")
            self.highlighted = min(first_new, self.option_count - 1)
            return
        if event.option.id:
            self.post_message(self.Opened(event.option.id))


class ConversationPane(Vertical):
    """The filter input (`#filter`) above the list; it owns the filter and its search.
    Titles match at once; matches inside messages follow from `search` (a function from the
    text to the ids of the conversations holding it) in a background thread."""

    DEFAULT_CSS = """
    ConversationPane { height: 1fr; }
    ConversationPane > #filter { display: none; }
    ConversationPane.-filtering > #filter { display: block; }
    """

    #: Seconds of typing on that replace a search before it starts.
    SEARCH_DELAY = 0.12

    def __init__(self, search: Callable[[str], Iterable[str]] | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.search = search

    def compose(self):
        yield OrderedInput(placeholder="filter conversations", id="filter", compact=True)
        yield ConversationList(id="conversations")

    @property
    def filtering(self) -> bool:
        return self.has_class("-filtering")

    def open_filter(self) -> None:
        self.add_class("-filtering")
        self.query_one("#filter", Input).focus()

    def close_filter(self) -> None:
        self.remove_class("-filtering")
        self.query_one("#filter", Input).value = ""

    @on(Input.Changed, "#filter")
    def _on_filter(self, event: Input.Changed) -> None:
        event.stop()
        listing = self.query_one(ConversationList)
        listing.filter_text = event.value
        listing.filter_ids = None
        listing.rebuild()
        if event.value.strip() and self.search is not None:
            self._search_content(event.value)

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def _search_content(self, text: str) -> None:
        time.sleep(self.SEARCH_DELAY)
        if get_current_worker().is_cancelled or self.search is None:
            return
        matches = set(self.search(text))
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_matches, text, matches)

    def _show_matches(self, text: str, matches: set[str]) -> None:
        listing = self.query_one(ConversationList)
        if listing.filter_text == text and listing.filter_ids != matches:
            listing.filter_ids = matches
            listing.rebuild()

    @on(Input.Submitted, "#filter")
    def _on_filter_submitted(self, event: Input.Submitted) -> None:
        """Enter in the filter opens the first match (and the list keeps its cursor there)."""
        event.stop()
        listing = self.query_one(ConversationList)
        listing.focus()
        found = listing.first_match()
        if found:
            self.post_message(ConversationList.Opened(found))
        else:
            self.notify("No conversation matches the filter.", markup=False)
