"""PromptInput: the multi-line prompt. Enter sends; ctrl+j or shift+enter inserts a newline;
Up in an empty prompt (or while browsing) recalls earlier prompts. Keys typed in a burst are
applied in order (`OrderedKeys`)."""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea

from tui_chat.ui.widgets.keys import OrderedKeys


def _without_ctrl_y(bindings: list) -> list:
    """TextArea's bindings, with redo moved off ctrl+y (ctrl+y copies the last reply)."""
    out = []
    for binding in bindings:
        if isinstance(binding, Binding) and binding.action == "redo":
            out.append(Binding("ctrl+shift+z,super+y", "redo", binding.description, show=False))
        else:
            out.append(binding)
    return out


class PromptInput(OrderedKeys, TextArea, inherit_bindings=False):
    """The chat prompt. Posts `PromptInput.Submitted` with the text when Enter is pressed."""

    # Our own copy of TextArea's bindings replaces (rather than extends) the inherited ones,
    # so ctrl+y reaches the app.
    BINDINGS = _without_ctrl_y(list(TextArea.BINDINGS))

    DEFAULT_CSS = """
    PromptInput {
        height: auto;
        min-height: 3;
        max-height: 10;
    }
    """

    @dataclass
    class Submitted(Message):
        """The user pressed Enter on a non-empty prompt."""

        prompt: PromptInput
        text: str

        @property
        def control(self) -> PromptInput:
            return self.prompt

    def __init__(self, *, prompt_history: list[str] | None = None, **kwargs) -> None:
        kwargs.setdefault("soft_wrap", True)
        kwargs.setdefault("show_line_numbers", False)
        kwargs.setdefault("tab_behavior", "focus")
        super().__init__(**kwargs)
        self.prompt_history: list[str] = prompt_history if prompt_history is not None else []
        self._history_index: int | None = None  # position while browsing with Up/Down
        self._draft_before_history = ""

    async def _on_key(self, event: events.Key) -> None:
        # Only the prompt's own keys: Textual then calls OrderedKeys' and TextArea's handlers.
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self.submit()
            return
        if event.key in ("ctrl+j", "shift+enter"):
            event.stop()
            event.prevent_default()
            start, end = self.selection
            self._replace_via_keyboard("\n", start, end)

    def submit(self) -> None:
        text = self.text
        if not text.strip():
            return
        self._history_index = None
        self.post_message(self.Submitted(self, text))

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if self._history_index is not None and self.text != self._history_value():
            self._history_index = None

    def _history_value(self) -> str:
        if self._history_index is None or not self.prompt_history:
            return ""
        return self.prompt_history[self._history_index]

    def action_cursor_up(self, select: bool = False) -> None:
        browsing = self._history_index is not None
        if (
            not select
            and self.prompt_history
            and (not self.text or browsing)
            and self.cursor_location[0] == 0
        ):
            self._recall(-1)
            return
        super().action_cursor_up(select)

    def action_cursor_down(self, select: bool = False) -> None:
        if not select and self._history_index is not None:
            last_row = self.document.line_count - 1
            if self.cursor_location[0] == last_row:
                self._recall(+1)
                return
        super().action_cursor_down(select)

    def _recall(self, step: int) -> None:
        if self._history_index is None:
            if step > 0:
                return
            self._draft_before_history = self.text
            index = len(self.prompt_history) - 1
        else:
            index = self._history_index + step
        if index < 0:
            return
        if index >= len(self.prompt_history):
            self._history_index = None
            self.load_text(self._draft_before_history)
            self.move_cursor(self.document.end)
            return
        self._history_index = index
        self.load_text(self.prompt_history[index])
        self._history_index = index  # load_text fires Changed; keep browsing state
        self.move_cursor((0, len(self.prompt_history[index].split("\n")[0])))
