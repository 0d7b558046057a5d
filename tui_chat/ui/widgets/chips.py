"""Attached files shown as chips: "name · PNG · 2 KB". The pending ones sit in one row between
the messages and the prompt (`AttachmentChips`, each chip focusable: Delete or Backspace on it
removes it, through the app's `remove_attachment`); a sent prompt shows its files the same way
on a line under its text (`chip_line`). A file's name is data: it is never parsed as markup,
and what a terminal could obey in it is shown as a stand-in."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding
from textual.containers import HorizontalScroll
from textual.widgets import Static

from tui_chat.attachments import Attachment
from tui_chat.sanitize import for_display


def chip_words(attachment: Attachment, missing: bool = False) -> str:
    """'notes.md · MD · 12 KB' on one line ('(missing)' after it when the stored copy is)."""
    words = for_display(attachment.describe()).replace("\n", "␊").replace("\t", " ")
    return f"{words} (missing)" if missing else words


def chip_line(attachments: Iterable[Attachment], missing: set[str] | None = None) -> Text:
    """A sent prompt's files as chips on one line (`missing`: the digests of those whose
    stored copy is gone)."""
    missing = missing or set()
    line = Text()
    for number, attachment in enumerate(attachments):
        if number:
            line.append("  ")
        gone = attachment.sha256 in missing
        line.append(f" {chip_words(attachment, gone)} ", style="italic" if gone else "reverse")
    return line


class Chip(Static, can_focus=True):
    """One pending attachment."""

    BINDINGS: ClassVar = [
        Binding("delete,backspace", "app.remove_attachment", "Remove file", show=False)
    ]
    DEFAULT_CSS = """
    Chip { width: auto; height: 1; padding: 0 1; margin-right: 1; background: $boost;
           color: $text; text-wrap: nowrap; }
    Chip:focus { background: $accent; color: $text; text-style: bold; }
    """

    def __init__(self, attachment: Attachment) -> None:
        super().__init__(Text(chip_words(attachment)), markup=False, classes="chip")
        self.attachment = attachment


class AttachmentChips(HorizontalScroll, can_focus=False):
    """The files attached to the next prompt, in one row (hidden when there are none)."""

    DEFAULT_CSS = """
    AttachmentChips { height: 1; margin: 0 1; scrollbar-size-horizontal: 0; display: none; }
    AttachmentChips.-some { display: block; }
    """

    async def show(self, attachments: list[Attachment], focus: int | None = None) -> None:
        """Show these files; with `focus`, the chip at that index (the last one when past
        the end) takes the focus."""
        await self.remove_children()
        chips = [Chip(attachment) for attachment in attachments]
        if chips:
            await self.mount_all(chips)
        self.set_class(bool(chips), "-some")
        if focus is not None and chips:
            chip = chips[min(focus, len(chips) - 1)]
            chip.focus()
            self.call_after_refresh(chip.scroll_visible, animate=False)

    def chips(self) -> list[Chip]:
        return list(self.query(Chip))
