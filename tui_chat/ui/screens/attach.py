"""Attach a file (F4): a path, completed as it is typed, relative to the folder the app started
in. Enter reads and checks the file (tui_chat/attachments.py, then the caller's rules: the
model's, Bedrock's counts); a problem is shown in the dialog, the typed path kept. Escape
closes it."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.actions import SkipAction
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Input, Static

from tui_chat.attachments import Attachment, AttachmentError, read
from tui_chat.sanitize import for_display
from tui_chat.ui.screens.dialogs import _CSS
from tui_chat.ui.widgets.keys import OrderedInput

#: At most this many entries of a folder are looked at for one completion.
SCAN_LIMIT = 20_000


def complete_path(typed: str, base: Path, limit: int = SCAN_LIMIT) -> str | None:
    """What `typed` completes to: the first entry (by name) of the folder it names, relative
    to `base` and with `~` expanded, whose name starts with the typed name; a folder ends with
    "/". Hidden entries only when the typed name starts with a dot. None when nothing does."""
    if not typed or "\x00" in typed:
        return None
    if typed == "~":
        return "~/"
    head, slash, name = typed.rpartition("/")
    folder = Path(head + slash if slash else ".").expanduser()
    if not folder.is_absolute():
        folder = base / folder
    best: os.DirEntry[str] | None = None
    try:
        with os.scandir(folder) as entries:
            for count, entry in enumerate(entries):
                if count >= limit:
                    break
                found = entry.name
                if not found.startswith(name) or (found[:1] == "." and name[:1] != "."):
                    continue
                if best is None or found < best.name:
                    best = entry
    except (OSError, ValueError):
        return None
    if best is None:
        return None
    try:
        folder_entry = best.is_dir()
    except OSError:
        folder_entry = False
    suggestion = typed[: len(typed) - len(name)] + best.name + ("/" if folder_entry else "")
    return suggestion if suggestion != typed else None


class PathSuggester(Suggester):
    """Completes a path from what is on disk now (never cached: folders change)."""

    def __init__(self, base: Path) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.base = base

    async def get_suggestion(self, value: str) -> str | None:
        # Off the UI thread: a folder on a slow disk or a network share must not stop typing.
        return await asyncio.to_thread(complete_path, value, self.base)


class PathInput(OrderedInput):
    """A path field: Right (as any Textual field), End and Tab accept the completion shown."""

    BINDINGS: ClassVar = [Binding("tab", "complete", "Complete", show=False)]

    @property
    def completion(self) -> str:
        """The completion shown after the cursor ("" when none is)."""
        shown = self._suggestion
        if self.cursor_at_end and len(shown) > len(self.value) and shown.startswith(self.value):
            return shown
        return ""

    def _accept(self) -> bool:
        completion = self.completion
        if completion:
            self.value = completion
            self.cursor_position = len(completion)
        return bool(completion)

    def action_complete(self) -> None:
        if not self._accept():
            raise SkipAction()  # Tab moves the focus on, as anywhere else

    def action_end(self, select: bool = False) -> None:
        if select or not self._accept():
            super().action_end(select)


class AttachDialog(ModalScreen[tuple[Attachment, bytes] | None]):
    """Ask for a file to attach; returns it and its bytes once read and accepted by `check`
    (which raises AttachmentError to refuse it)."""

    BINDINGS: ClassVar = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = (
        _CSS.format(name="AttachDialog")
        + """
    AttachDialog > Vertical { width: 80; }
    AttachDialog #attach-problem { color: $text-error; height: auto; }
    """
    )
    AUTO_FOCUS = "#attach-path"

    def __init__(self, base: Path, check: Callable[[Attachment], None], attached: int = 0):
        super().__init__()
        self.base = base
        self.check = check
        self.attached = attached

    def compose(self):
        more = f" ({self.attached} attached so far)" if self.attached else ""
        question = Text(f"Attach a file{more}: an image, a document (PDF, DOCX, CSV…) or a ")
        question.append("text file. Its path, from ")
        question.append(for_display(str(self.base)), style="bold")
        question.append(":")
        with Vertical():
            yield Static(question, classes="question")
            yield PathInput(
                placeholder="e.g. notes.md, ~/Pictures/chart.png",
                suggester=PathSuggester(self.base),
                id="attach-path",
            )
            yield Static("", id="attach-problem", markup=False)
            yield Static(
                Text("Right, End or Tab completes · Enter attaches · Escape closes", style="dim")
            )

    def problem(self, text: str) -> None:
        self.query_one("#attach-problem", Static).update(Text(for_display(text)))

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        typed = event.value.strip()
        if not typed:
            self.problem("Type the path of a file to attach.")
            return
        try:
            # Off the UI thread: a 4 MB PDF is read and hashed while typing goes on.
            attachment, data = await asyncio.to_thread(read, typed, self.base)
            self.check(attachment)
        except AttachmentError as error:
            self.problem(str(error))  # the dialog stays, with what was typed
            return
        self.dismiss((attachment, data))

    def action_cancel(self) -> None:
        self.dismiss(None)
