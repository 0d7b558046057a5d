"""The replies streaming now, for the app and compare mode (docs/ARCHITECTURE.md, "A reply's
life"). Each reply is the reply core's `Reply` (tui_chat/reply.py), pumped in a thread worker;
its progress is posted as messages (ui/messages.py) to the widget that shows it, tagged with
the conversation and a request id, so anything from a cancelled or replaced request is
recognised and dropped on arrival (`current`)."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from typing import TYPE_CHECKING

from textual.worker import Worker, get_current_worker

from tui_chat.bedrock.errors import from_exception
from tui_chat.reply import Engines, Keeper, Reply
from tui_chat.ui.messages import StreamEnded, StreamText, StreamThinking

if TYPE_CHECKING:
    from textual.app import App
    from textual.message_pump import MessagePump

    from tui_chat.bedrock.errors import BedrockError
    from tui_chat.bedrock.events import Stop
    from tui_chat.bedrock.formats import Prepared


class _Poster:
    """The reply core's listener: posts each piece to `target` (thread-safe)."""

    def __init__(self, target: MessagePump) -> None:
        self.target = target

    def text(self, reply: Reply, text: str) -> None:
        self.target.post_message(StreamText(reply.conversation.id, reply.request_id, text))

    def thinking(self, reply: Reply, text: str, signature: str, redacted: str) -> None:
        ids = (reply.conversation.id, reply.request_id)
        self.target.post_message(StreamThinking(*ids, text, signature, redacted))

    def ended(self, reply: Reply, stop: Stop | None, error: BedrockError | None) -> None:
        ids = (reply.conversation.id, reply.request_id)
        self.target.post_message(StreamEnded(*ids, outcome=stop, error=error))


class Streams:
    """Owns the replies streaming now: one per conversation, plus compare mode's columns."""

    def __init__(self, app: App, engines: Engines, keeper: Keeper) -> None:
        self.app = app
        self.engines = engines
        self.keeper = keeper
        self._replies: dict[str, Reply] = {}  # by conversation id
        self._columns: dict[int, Reply] = {}  # compare mode's, by request id
        self._workers: dict[int, Worker] = {}
        self._preparing: set[str] = set()  # conversations whose request is being built
        self._ids = itertools.count(1)
        #: The last request sent in each conversation (for "show request").
        self.last_requests: dict[str, Prepared] = {}

    def next_id(self) -> int:
        return next(self._ids)

    def __len__(self) -> int:
        """How many conversations have a reply streaming or about to (compare mode's columns
        aside)."""
        return len(self._preparing.union(self._replies))

    def __contains__(self, conversation_id: object) -> bool:
        return conversation_id in self._replies or conversation_id in self._preparing

    @contextlib.contextmanager
    def preparing(self, conversation_id: str) -> Iterator[None]:
        """While a request is built off the UI thread (attached files read and encoded), the
        conversation counts as streaming: nothing else is sent in it meanwhile."""
        self._preparing.add(conversation_id)
        try:
            yield
        finally:
            self._preparing.discard(conversation_id)

    def get(self, conversation_id: str) -> Reply | None:
        return self._replies.get(conversation_id)

    def replies(self) -> list[Reply]:
        return list(self._replies.values())

    def start(self, reply: Reply, target: MessagePump | None = None) -> None:
        """Pump `reply` in a thread worker, posting its progress to `target` (the app, or a
        compare screen for its columns)."""
        if target is None or target is self.app:
            self._replies[reply.conversation.id] = reply
            self.last_requests[reply.conversation.id] = reply.prepared
        else:
            self._columns[reply.request_id] = reply
        poster = _Poster(target or self.app)
        self._workers[reply.request_id] = self.app.run_worker(
            lambda: self._pump(reply, poster),
            thread=True,
            exit_on_error=False,
            group="streams",
            name=f"stream-{reply.conversation.id}-{reply.request_id}",
        )

    def _pump(self, reply: Reply, poster: _Poster) -> None:
        worker = get_current_worker()
        try:
            engine = self.engines.get()
        except Exception as error:
            poster.ended(reply, None, from_exception(error))
            return
        keeper = self.keeper if reply.checkpoints else None
        reply.pump(engine, poster, keeper, is_cancelled=lambda: worker.is_cancelled)

    def current(self, conversation_id: str, request_id: int) -> Reply | None:
        """The live reply a message is about, or None when it is from a cancelled or replaced
        request (then it is dropped)."""
        reply = self._replies.get(conversation_id)
        if reply is None or reply.request_id != request_id:
            reply = self._columns.get(request_id)
        if reply is None or reply.request_id != request_id or reply.cancelled:
            return None
        return reply

    def done(self, reply: Reply) -> None:
        """The reply ended: it is no longer streaming."""
        if self._replies.get(reply.conversation.id) is reply:
            del self._replies[reply.conversation.id]
        self._columns.pop(reply.request_id, None)
        self._workers.pop(reply.request_id, None)

    def cancel(self, reply: Reply, status: str = "cancelled") -> None:
        """Stop it now, keeping what arrived as `status` (the caller finishes it)."""
        reply.cancel(status)
        worker = self._workers.get(reply.request_id)
        if worker is not None:
            worker.cancel()
        self.done(reply)

    def rekey(self, old_id: str, new_id: str) -> None:
        """A conversation saved as a copy has a new id: its reply follows it."""
        if old_id in self._replies:
            self._replies[new_id] = self._replies.pop(old_id)
        self.last_requests.pop(old_id, None)
