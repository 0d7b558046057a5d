"""MessageView: the conversation's turns, with the streaming reply growing at the bottom.

User turns are plain text, with their attached files as chips under it (ui/widgets/chips.py;
Enter on a prompt says where the files' stored copies are); assistant turns are Markdown
rendered in chunks of whole blocks (`ReplyBody`, ui/widgets/reply_body.py, which the compare
screen imports from here too), a quiet line saying how the reply ended, and an error block when
it failed. Long conversations mount only their last turns and load earlier ones as the user
scrolls up. All text shown here has been through sanitize.for_display, and none of it is ever
parsed as markup."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.widget import Widget
from textual.widgets import Static

from tui_chat.attachments import Attachment
from tui_chat.conversation import Message
from tui_chat.sanitize import for_display
from tui_chat.ui.format import describe_reply, error_text, model_name
from tui_chat.ui.widgets.chips import chip_line
from tui_chat.ui.widgets.reply_body import (
    DEFAULT_CODE,
    STREAM_FPS,
    CodeStyle,
    ReplyBody,
    Unscrolled,
)

#: How many turns are mounted at first, and how many more each time the top is reached.
INITIAL_TURNS = 24
MORE_TURNS = 24


class ThinkingBlock(Static):
    """The model's thinking above its answer, dimmed: one line while collapsed ("thinking…
    ≈1,240 tokens, 6 s"), the whole text once expanded (ctrl+g, or t on a focused reply).
    Redacted thinking says so. The text is plain (never Markdown or markup) and sanitised."""

    DEFAULT_CSS = """
    ThinkingBlock { color: $text-muted; height: auto; margin-bottom: 1; }
    """

    def __init__(self, message: Message, streaming: bool = False) -> None:
        super().__init__("", classes="thinking")
        self.message = message
        self.streaming = streaming
        self.expanded = False
        self._started = time.monotonic()
        self._timer = None
        self.display = bool(message.thinking)

    def on_mount(self) -> None:
        self.update(self.render_text())

    def grow(self) -> None:
        """More thinking arrived: show it on the next throttled repaint."""
        if not self.display:
            self.display = True
            self._started = time.monotonic()
        if self._timer is None and self.is_mounted:  # else on_mount draws it
            self._timer = self.set_timer(1.0 / STREAM_FPS, self._redraw)

    def _redraw(self) -> None:
        self._timer = None
        self.update(self.render_text())

    def finish(self) -> None:
        self.streaming = False
        if self.is_mounted:
            self.display = bool(self.message.thinking)
            self._redraw()

    def toggle(self) -> None:
        self.expanded = not self.expanded
        if self.is_mounted:
            self._redraw()

    def summary(self) -> str:
        text = self.message.thinking_text
        parts = []
        if text:
            parts.append(f"≈{max(1, round(len(text) / 4)):,} tokens")
        seconds = self.message.usage.get("thinking_ms")
        if self.streaming:
            seconds = (time.monotonic() - self._started) * 1000
        if seconds is not None:
            parts.append(
                f"{seconds / 1000:.1f} s" if seconds < 10_000 else f"{seconds / 1000:.0f} s"
            )
        if self.message.thinking_redacted:
            parts.append("partly redacted by the provider" if text else "redacted by the provider")
        elif not text:
            parts.append("not shown by the model")
        return ", ".join(parts)

    def render_text(self) -> Text:
        head = Text("▾ " if self.expanded else "▸ ", style="bold")
        head.append("thinking…" if self.streaming else "thinking", style="italic")
        summary = self.summary()
        if summary:
            head.append(f" {summary}")
        if not self.expanded:
            head.append("  ctrl+g shows it" if self.message.thinking_text else "", style="dim")
            return head
        head.append("\n")
        head.append(for_display(self.message.thinking_text), style="italic")
        return head


class TurnKeys(Unscrolled):
    """Keys on a focused turn: move between turns, copy it, copy a code block from it."""

    BINDINGS: ClassVar = [
        Binding("up,k", "step(-1)", "Previous", show=False),
        Binding("down,j", "step(1)", "Next", show=False),
        Binding("y", "app.copy_reply", "Copy message"),
        Binding("c", "app.copy_code", "Copy code"),
        Binding("delete", "app.delete_message", "Delete message"),
    ]

    def action_step(self, delta: int) -> None:
        turns = [w for w in self.parent.children if isinstance(w, TurnKeys)]  # type: ignore[union-attr]
        index = turns.index(self) + delta
        if 0 <= index < len(turns):
            turns[index].focus()


class AssistantTurn(TurnKeys, Vertical, can_focus=True):
    """One assistant reply: label, Markdown body, the quiet line, and an error block."""

    DEFAULT_CSS = """
    AssistantTurn { height: auto; margin-bottom: 1; }
    AssistantTurn:focus { background: $boost; }
    AssistantTurn > .turn-label { color: $accent; text-style: bold; }
    AssistantTurn > .reply-footer { color: $text-muted; }
    AssistantTurn > .error-block {
        color: $text-error;
        background: $error-muted;
        padding: 0 1;
        margin-top: 1;
    }
    """

    def __init__(self, message: Message, code_style: CodeStyle, streaming: bool = False) -> None:
        super().__init__(classes="turn assistant")
        self.message = message
        self.streaming = streaming
        self.thinking = ThinkingBlock(message, streaming=streaming)
        self.body = ReplyBody(message.content, code_style, streaming=streaming)

    BINDINGS: ClassVar = [
        Binding("left,[", "app.flip(-1)", "Previous alternative", show=False),
        Binding("right,]", "app.flip(1)", "Next alternative", show=False),
        Binding("t", "toggle_thinking", "Thinking", show=False),
    ]

    def action_toggle_thinking(self) -> None:
        self.thinking.toggle()
        if self.thinking.expanded:
            self.call_after_refresh(self.thinking.scroll_visible, top=True, animate=False)

    def _label_text(self) -> Text:
        label = Text(model_name(str(self.message.params.get("model", ""))))
        count = self.message.alternative_count()
        if count > 1:
            label.append(f"  reply {self.message.chosen_index() + 1}/{count}", style="bold")
            label.append("  [ ] flip", style="dim")
        return label

    def compose(self):
        yield Static(self._label_text(), classes="turn-label")
        if self.message.thinking:
            # Mounted only when there is thinking: an idle block in every reply costs the
            # streaming repaints time (measured: render lag 190 -> 390 ms).
            yield self.thinking
        yield self.body
        yield Static(self._footer_text(), classes="reply-footer")
        error = Static(self._error_text(), classes="error-block")
        error.display = self.message.status == "error"
        yield error

    def _footer_text(self) -> Text:
        if self.streaming:
            return Text("streaming… (Escape cancels)")
        return describe_reply(self.message, self.message.replies())

    def _error_text(self) -> Text:
        return error_text(self.message) if self.message.status == "error" else Text("")

    def append(self, text: str) -> None:
        self.body.append(text)

    def append_thinking(self) -> None:
        """The message's thinking grew (the message holds it)."""
        if not self.thinking.is_mounted and self.is_mounted:
            self.mount(self.thinking, before=self.body)
        self.thinking.grow()

    def finish(self) -> None:
        """The reply ended (complete, cancelled or failed): show how."""
        self.streaming = False
        self.body.finish()
        self.thinking.finish()
        try:
            error = self.query_one(".error-block", Static)
        except NoMatches:
            return  # not composed yet: compose shows the final state
        self.query_one(".turn-label", Static).update(self._label_text())
        self.query_one(".reply-footer", Static).update(self._footer_text())
        error.update(self._error_text())
        error.display = self.message.status == "error"


class UserTurn(TurnKeys, Static, can_focus=True):
    """One prompt, and the files attached to it as chips on a line under it (`missing`: the
    digests of those whose stored copy is gone)."""

    BINDINGS: ClassVar = [
        Binding("e", "app.edit_prompt", "Edit and resend"),
        Binding("enter", "app.where_files", "Where the files are", show=False),
    ]

    DEFAULT_CSS = """
    UserTurn { height: auto; margin-bottom: 1; }
    UserTurn:focus { background: $boost; }
    """

    def __init__(self, message: Message, missing: set[str] | None = None) -> None:
        text = Text()
        text.append("You\n", style="bold")
        text.append(for_display(message.content))
        if message.attachments:
            text.append("\n")
            text.append_text(chip_line(message.attachments, missing))
        super().__init__(text, classes="turn user")
        self.message = message


class EarlierMarker(Static):
    DEFAULT_CSS = """
    EarlierMarker { color: $text-muted; text-align: center; height: 1; }
    """


class MessageView(VerticalScroll, can_focus=True):
    """The open conversation. `show()` replaces what is shown; `streaming_turn` is the reply
    currently growing (if it belongs to the shown conversation)."""

    DEFAULT_CSS = """
    MessageView { padding: 0 1; }
    MessageView > .empty { color: $text-muted; padding: 1 0; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._messages: Sequence[Message] = ()
        self._first_mounted = 0
        self._loading_more = False
        self.streaming_turn: AssistantTurn | None = None
        self.conversation_id = ""
        #: The Pygments theme and background for code blocks (set by the app per theme).
        self.code_style: CodeStyle = DEFAULT_CODE
        #: Whether an attached file's stored copy is missing (set by the app).
        self.file_missing: Callable[[str, Attachment], bool] = lambda _id, _attachment: False

    def _size_updated(self, size, virtual_size, container_size, layout: bool = True) -> bool:
        """As `Unscrolled`'s: the scrollbar and the scroll position follow a new virtual
        size here (Textual's `_scroll_update`); the second layout it asks for changes nothing."""
        return super()._size_updated(size, virtual_size, container_size, layout=False)

    def _turn(self, message: Message, streaming: bool = False) -> Widget:
        if message.role == "user":
            gone = self.file_missing
            missing = {a.sha256 for a in message.attachments if gone(self.conversation_id, a)}
            return UserTurn(message, missing)
        turn = AssistantTurn(message, self.code_style, streaming=streaming)
        if streaming:
            self.streaming_turn = turn
        return turn

    async def show(
        self,
        conversation_id: str,
        messages: Sequence[Message],
        streaming: Message | None = None,
        empty_hint: str = "",
    ) -> None:
        """Show a conversation's turns (the last ones first; earlier ones on scrolling up)."""
        self.conversation_id = conversation_id
        self._messages = messages
        self.streaming_turn = None
        await self.remove_children()
        if not messages:
            if empty_hint:
                await self.mount(Static(Text(empty_hint), classes="empty"))
            return
        self._first_mounted = max(0, len(messages) - self._initial_turns())
        widgets: list[Widget] = []
        if self._first_mounted:
            widgets.append(self._earlier_marker())
        for message in messages[self._first_mounted :]:
            widgets.append(self._turn(message, streaming=message is streaming))
        await self.mount_all(widgets)
        self.anchor()
        if self._first_mounted:
            self.call_after_refresh(self._fill)

    def _initial_turns(self) -> int:
        """Enough turns to fill the screen (a turn takes at least three lines), at most
        INITIAL_TURNS: mounting fewer widgets is what makes a long chat open quickly."""
        return min(INITIAL_TURNS, max(4, self.app.size.height // 3))

    async def _fill(self) -> None:
        """Load earlier turns while the view is not full (it can only load on scrolling up)."""
        if self._first_mounted and not self._loading_more and self.max_scroll_y <= 1:
            self._loading_more = True
            await self._load_earlier()

    def _earlier_marker(self) -> EarlierMarker:
        return EarlierMarker(Text(f"↑ {self._first_mounted} earlier messages (scroll up to load)"))

    async def add_turn(self, message: Message, streaming: bool = False) -> Widget:
        """Append one turn at the bottom."""
        for placeholder in self.query(".empty"):
            await placeholder.remove()
        widget = self._turn(message, streaming=streaming)
        await self.mount(widget)
        self.anchor()
        return widget

    async def replace_message(self, old: Message, new: Message) -> Widget | None:
        """Show `new` where `old` was (flipping between alternative replies)."""
        self._messages = [new if m is old else m for m in self._messages]
        for turn in self.query(AssistantTurn):
            if turn.message is old:
                replacement = self._turn(new)
                await self.mount(replacement, after=turn)
                await turn.remove()
                return replacement
        return None

    async def restream(self, message: Message) -> Widget | None:
        """Show `message` as streaming again (a reply being continued)."""
        for turn in self.query(AssistantTurn):
            if turn.message is message:
                replacement = self._turn(message, streaming=True)
                await self.mount(replacement, after=turn)
                await turn.remove()
                self.anchor()
                return replacement
        return None

    async def replace_turn(self, message: Message, streaming: bool = False) -> Widget:
        """Swap the last assistant turn's widget for a fresh one (retry/regenerate)."""
        turns = list(self.query(AssistantTurn))
        if turns:
            await turns[-1].remove()
        return await self.add_turn(message, streaming=streaming)

    async def remove_last_reply(self) -> None:
        """Remove the last reply's turn (it is being regenerated)."""
        for turn in list(self.query(AssistantTurn))[-1:]:
            await turn.remove()

    def toggle_thinking(self, focused: Widget | None) -> bool:
        """Show or hide the thinking of the `focused` reply, or of the last reply that has
        some; False when there is none to show."""
        turn = focused if isinstance(focused, AssistantTurn) else None
        if turn is None:
            turns = list(self.query(AssistantTurn))
            turn = next((t for t in reversed(turns) if t.message.thinking), None)
        if turn is None or not turn.message.thinking:
            return False
        turn.thinking.toggle()
        if turn.thinking.expanded:
            self.call_after_refresh(turn.thinking.scroll_visible, top=True, animate=False)
        return True

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if new <= 1 and self._first_mounted > 0 and not self._loading_more:
            self._loading_more = True
            self.call_after_refresh(self._load_earlier)

    async def _load_earlier(self) -> None:
        try:
            start = max(0, self._first_mounted - MORE_TURNS)
            batch = [self._turn(m) for m in self._messages[start : self._first_mounted]]
            for marker in self.query(EarlierMarker):
                await marker.remove()
            first = self.children[0] if self.children else None
            height_before = self.virtual_size.height
            self._first_mounted = start
            widgets: list[Widget] = [self._earlier_marker()] if start else []
            widgets.extend(batch)
            await self.mount_all(widgets, before=first)
            self.refresh(layout=True)
            await self._settle()
            grown = self.virtual_size.height - height_before
            self.scroll_to(y=self.scroll_y + max(0, grown), animate=False, immediate=True)
        finally:
            self._loading_more = False

    async def _settle(self) -> None:
        # Wait for the new widgets to be laid out so their height is known.
        import asyncio

        await asyncio.sleep(0)
        self.app.screen._refresh_layout(self.app.size)

    def mount_all_earlier(self) -> None:
        """Mount every remaining earlier turn (used by export-like views and tests)."""
        if self._first_mounted:
            self._first_mounted = self._first_mounted
