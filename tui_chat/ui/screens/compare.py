"""Compare mode: one prompt sent to two or three configurations at once, the replies
streaming side by side (stacked below 120 columns), each with its metrics and the parameters
that differ highlighted. The user keeps one as the conversation's reply; the others become
its alternatives.

The files attached to the prompt go to every column; they are stored beside the session file
when it is sent, and the user's message names them.

The screen runs its own replies through the reply core (tui_chat/reply.py, started by the
app's `Streams`, their progress posted here) and posts `Sent` when the prompt goes out and
`Kept` with the replies and the one kept; the app adds them to the conversation and saves.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.binding import Binding
from textual.containers import Container, Horizontal, Vertical, VerticalScroll
from textual.message import Message as TextualMessage
from textual.screen import Screen
from textual.widgets import Button, Input, Static

from tui_chat.attachments import Attachment
from tui_chat.bedrock import catalog
from tui_chat.bedrock.catalog import model_change_notes
from tui_chat.conversation import Conversation, Message
from tui_chat.params import ParamError, Params, apply_overrides
from tui_chat.reply import Reply, prepare_request
from tui_chat.sanitize import for_display
from tui_chat.ui.format import describe_reply, differing, model_name, params_text
from tui_chat.ui.messages import StreamEnded, StreamText, StreamThinking
from tui_chat.ui.widgets.chips import chip_line
from tui_chat.ui.widgets.footer import ReadyFooter
from tui_chat.ui.widgets.keys import OrderedInput
from tui_chat.ui.widgets.message_view import DEFAULT_CODE, CodeStyle, ReplyBody

if TYPE_CHECKING:
    from tui_chat.learned import LearnedRules
    from tui_chat.ui.streams import Streams

LETTERS = "ABC"
STACK_BELOW = 120
DEFAULT_COLUMNS = ("temperature=0.2", "temperature=0.9", "")
#: For a model that sets its own sampling, effort is what there is to compare.
EFFORT_COLUMNS = ("effort=low", "effort=high", "")


class Column(Vertical):
    """One configuration's reply."""

    DEFAULT_CSS = """
    Column { width: 1fr; height: 1fr; border: round $panel-lighten-1; padding: 0 1; }
    Column.-kept { border: round $success; }
    Column > .column-head { height: auto; }
    Column > VerticalScroll { height: 1fr; scrollbar-size-vertical: 1; }
    Column > .column-foot { height: auto; color: $text-muted; }
    Column > Button { width: 100%; dock: bottom; }
    """

    def __init__(self, index: int, message: Message, code_style: CodeStyle) -> None:
        super().__init__(id=f"column-{index}")
        self.index = index
        self.message = message
        self.body = ReplyBody("", code_style, streaming=True)
        self.done = False
        self.thinking_shown = False

    def compose(self):
        yield Static(Text(f"{LETTERS[self.index]}"), classes="column-head")
        with VerticalScroll():
            yield self.body
        yield Static(Text("streaming…", style="dim"), classes="column-foot")
        yield Button(
            f"Keep {LETTERS[self.index]} ({self.index + 1})",
            id=f"keep-{self.index}",
            disabled=True,
            compact=True,
        )

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).anchor()

    def show_head(self, replies: list[Message]) -> None:
        head = Text(f"{LETTERS[self.index]} · ", style="bold")
        head.append(model_name(str(self.message.params.get("model", ""))), style="bold")
        head.append("  ")
        head.append_text(params_text(self.message.params, differing(replies)))
        self.query_one(".column-head", Static).update(head)

    def finish(self, replies: list[Message]) -> None:
        self.done = True
        self.body.finish()
        foot = describe_reply(self.message, replies)
        if self.message.status == "error":
            foot.append("\n⚠ " + for_display(self.message.error.get("message", "failed")))
        self.query_one(".column-foot", Static).update(foot)
        self.query_one(Button).disabled = False


class CompareScreen(Screen[None]):
    """Set up to three configurations, send one prompt, keep one reply."""

    BINDINGS: ClassVar = [
        Binding("escape", "leave", "Back"),
        Binding("1", "keep(0)", "Keep A", show=False),
        Binding("2", "keep(1)", "Keep B", show=False),
        Binding("3", "keep(2)", "Keep C", show=False),
    ]
    AUTO_FOCUS = "#compare-prompt"
    DEFAULT_CSS = """
    CompareScreen { layout: vertical; }
    CompareScreen #setup { height: auto; padding: 0 1; }
    CompareScreen #setup Input { width: 1fr; }
    CompareScreen #setup .row { height: 1; }
    CompareScreen #setup .letter { width: 3; text-style: bold; }
    CompareScreen #problem { color: $text-error; height: auto; }
    CompareScreen #columns { height: 1fr; layout: horizontal; }
    CompareScreen.-stacked #columns { layout: vertical; }
    CompareScreen #compare-prompt { margin: 0 1; }
    /* Once sent, the set-up gives its rows to the replies (the columns' heads say what each
       one changed); one line recalls the prompt. */
    CompareScreen.-sent #setup, CompareScreen.-sent #compare-prompt { display: none; }
    CompareScreen #sent-prompt { display: none; height: 1; padding: 0 1; color: $text-muted;
                                 text-wrap: nowrap; text-overflow: ellipsis; }
    CompareScreen.-sent #sent-prompt { display: block; }
    CompareScreen.-stacked Column > .column-head,
    CompareScreen.-stacked Column > .column-foot { height: 1; text-wrap: nowrap;
                                                   text-overflow: ellipsis; }
    """

    @dataclass
    class Sent(TextualMessage):
        """The prompt went out to every column: the app adds it to the conversation."""

        user: Message

    @dataclass
    class Kept(TextualMessage):
        """Compare mode ends: `replies` as they stand, `index` the one kept (None: none)."""

        replies: list[Message]
        index: int | None

    def __init__(
        self,
        conversation: Conversation,
        streams: Streams,
        learned: LearnedRules | None = None,
        prompt: str = "",
        code_style: CodeStyle = DEFAULT_CODE,
        files: list[tuple[Attachment, bytes]] | None = None,
    ):
        super().__init__()
        self.conversation = conversation
        #: The files attached to the prompt, sent with it to every column (and then stored).
        self.files = list(files or [])
        self.streams = streams
        self.learned = learned
        self.base = conversation.params
        self.prompt = prompt
        self.code_style = code_style
        self.columns: list[Column] = []
        self.replies: list[Reply] = []
        self.sent = False

    def compose(self):
        with Vertical(id="setup"):
            yield Static(
                Text(
                    "Compare: each line changes the sidebar's parameters for one column "
                    "(name=value: model, effort, thinking, temperature, top_p, top_k, "
                    "max_tokens, stop). "
                    "Leave C empty for two columns.",
                    style="dim",
                )
            )
            info = catalog.lookup(self.base.model)
            defaults = DEFAULT_COLUMNS
            if not info.takes_sampling and {"low", "high"} <= set(info.effort_levels):
                defaults = EFFORT_COLUMNS
            for index, default in enumerate(defaults):
                with Horizontal(classes="row"):
                    yield Static(LETTERS[index], classes="letter")
                    yield OrderedInput(default, id=f"config-{index}", compact=True)
            yield Static("", id="problem")
            if self.files:
                yield Static(Text("Attached: ").append_text(chip_line(self.attachments)))
        yield OrderedInput(
            self.prompt, id="compare-prompt", placeholder="the prompt for every column"
        )
        yield Static("", id="sent-prompt")
        yield Container(id="columns")
        yield ReadyFooter()

    def on_mount(self) -> None:
        self._layout()

    def on_resize(self) -> None:
        self._layout()

    def _layout(self) -> None:
        self.set_class(self.app.size.width < STACK_BELOW, "-stacked")

    @property
    def attachments(self) -> list[Attachment]:
        return [attachment for attachment, _ in self.files]

    def configs(self) -> list[Params]:
        """Each column's parameters; ParamError names the column and the problem."""
        out = []
        for index in range(3):
            text = self.query_one(f"#config-{index}", Input).value
            if index == 2 and not text.strip():
                continue
            try:
                params = apply_overrides(self.base, text)
                if params.model != self.base.model:
                    # Another model: what no longer applies is fitted, as a switch in the
                    # sidebar does, unless the column sets it itself.
                    changes, _notes = model_change_notes(self.base, params.model)
                    given = {item.partition("=")[0].strip() for item in text.split()}
                    given |= {"max_tokens_to_sample"} if "max_tokens" in given else set()
                    fitted = {k: v for k, v in changes.items() if k not in given}
                    params = params.with_changes(**fitted) if fitted else params
                out.append(params)
            except ParamError as error:
                raise ParamError(
                    f"column {LETTERS[index]}: {error.name}", error.value, error.allowed
                ) from None
        return out

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.sent:
            return
        prompt = self.query_one("#compare-prompt", Input).value
        if not prompt.strip():
            self.query_one("#compare-prompt").focus()
            return
        user = Message(role="user", content=prompt, attachments=self.attachments)
        sending = [*self.conversation.messages, user]
        store = self.app.store  # type: ignore[attr-defined]
        try:
            load = store.loader(self.conversation.id, self.files)
            prepared = [
                prepare_request(sending, params, self.learned, load=load)
                for params in self.configs()
            ]
            for attachment, data in self.files:  # off the UI thread, as the app's send does
                await asyncio.to_thread(store.keep_file, self.conversation.id, attachment, data)
        except ParamError as error:
            self.query_one("#problem", Static).update(Text(f"Not sent: {error}"))
            return
        except OSError as error:
            reason = error.strerror or str(error)
            self.query_one("#problem", Static).update(
                Text(f"Not sent: the attached files could not be stored ({reason}).")
            )
            return
        self.query_one("#problem", Static).update("")
        self.replies = [
            Reply(
                self.conversation,
                request,
                request_id=self.streams.next_id(),
                placed=False,  # the conversation's reply only once kept
                checkpoints=False,
                learned=self.learned,
            )
            for request in prepared
        ]
        self.post_message(self.Sent(user))
        await self.start([reply.message for reply in self.replies])
        for reply in self.replies:
            self.streams.start(reply, self)

    async def start(self, messages: list[Message]) -> None:
        """The requests went out: one column per (still empty) reply."""
        self.sent = True
        for widget in self.query("#setup Input, #compare-prompt"):
            widget.disabled = True
        prompt = self.query_one("#compare-prompt", Input).value
        line = Text("Prompt: ", style="bold")
        line.append(" ".join(for_display(prompt).split()))
        if self.files:
            count = len(self.files)
            line.append(f"  (+ {count} attached file{'s' if count > 1 else ''})", style="dim")
        self.query_one("#sent-prompt", Static).update(line)
        self.add_class("-sent")
        container = self.query_one("#columns")
        self.columns = [Column(n, m, self.code_style) for n, m in enumerate(messages)]
        await container.mount_all(self.columns)
        for column in self.columns:
            column.show_head(messages)

    def _column(self, event: StreamText | StreamThinking | StreamEnded) -> int | None:
        """The column a stream message is for (None: not one of this screen's, or stale)."""
        event.stop()
        reply = self.streams.current(event.conversation_id, event.request_id)
        if reply is None or reply not in self.replies:
            return None
        return self.replies.index(reply)

    def on_stream_text(self, event: StreamText) -> None:
        index = self._column(event)
        if index is not None:
            self.replies[index].add_text(event.text)
            self.append(index, event.text)

    def on_stream_thinking(self, event: StreamThinking) -> None:
        index = self._column(event)
        if index is not None:
            self.replies[index].add_thinking(event.text, event.signature, event.redacted)
            self.thinking(index)

    def on_stream_ended(self, event: StreamEnded) -> None:
        index = self._column(event)
        if index is not None:
            reply = self.replies[index]
            reply.end(event.outcome, event.error)
            self.streams.done(reply)
            self.finish(index)

    def stop(self, status: str = "cancelled") -> tuple[list[Message], int | None]:
        """Stop the replies still streaming (keeping what arrived as `status`): every reply,
        and the first that holds anything (None when none does or nothing was sent)."""
        for reply in self.replies:
            if reply.message.status == "streaming":
                self.streams.cancel(reply, status)
        messages = [reply.message for reply in self.replies]
        with_text = [n for n, message in enumerate(messages) if message.content]
        return messages, (with_text[0] if with_text else None)

    def append(self, index: int, text: str) -> None:
        column = self.columns[index]
        if column.thinking_shown:
            column.thinking_shown = False
            column.query_one(".column-foot", Static).update(Text("streaming…", style="dim"))
        column.body.append(text)

    def thinking(self, index: int) -> None:
        """The column's model is thinking (its message holds the text): say so, briefly."""
        column = self.columns[index]
        if not column.message.content:
            column.thinking_shown = True
            tokens = max(1, round(len(column.message.thinking_text) / 4))
            column.query_one(".column-foot", Static).update(
                Text(f"thinking… ≈{tokens:,} tokens", style="dim italic")
            )

    def finish(self, index: int) -> None:
        replies = [c.message for c in self.columns]
        self.columns[index].finish(replies)
        if all(c.done for c in self.columns):
            self.query_one("#keep-0").focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_keep(int((event.button.id or "keep-0").split("-")[1]))

    def action_keep(self, index: int) -> None:
        if self.sent and index < len(self.columns) and self.columns[index].done:
            self.columns[index].add_class("-kept")
            replies, _first = self.stop()
            self.post_message(self.Kept(replies, index))

    def action_leave(self) -> None:
        """Back to the conversation; once sent, the first reply with text is kept."""
        replies, first = self.stop()
        self.post_message(self.Kept(replies, first if self.sent else None))
