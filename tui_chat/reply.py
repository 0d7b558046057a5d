"""The reply core: one `Reply` per answer the model gives, the same for the app, each column of
compare mode and `tui-chat ask`. No Textual here (docs/ARCHITECTURE.md, "A reply's life").

A reply's life, whichever front end runs it:

1. `prepare_request` builds the request for the conversation's model, leaving out what Bedrock
   refused for that model before (the learned rules).
2. `Reply(...)` makes the assistant message (or takes the reply being continued) and, for the
   conversation's own reply, puts it in the conversation (a streaming message is never written
   to the conversation file: it lives in its checkpoint until it ends).
3. `Reply.pump(engine, listener, keeper)` runs where the front end wants it (the app: a worker
   thread; `ask`: the main thread): it starts the request, reads the events in batches,
   coalesces text, checkpoints what arrived every CHECKPOINT_SECONDS, and tells the listener.
   It never changes the message itself: the listener hands the text back to `add_text` /
   `add_thinking` on the front end's own thread, and its end to `end`.
4. `end` sets how it ended (stop reason, usage, continued usage, or the error, and a refusal
   is learned); `cancel` stops it keeping what arrived; `finish` keeps earlier replies as
   alternatives (regenerate), saves through the keeper and clears the checkpoint once saved.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from tui_chat.conversation import Conversation, Message

if TYPE_CHECKING:
    from tui_chat.bedrock.engine import Engine
    from tui_chat.bedrock.errors import BedrockError
    from tui_chat.bedrock.events import Stop
    from tui_chat.bedrock.formats import Loader, Prepared
    from tui_chat.config import Settings
    from tui_chat.learned import LearnedRules

log = logging.getLogger("tui_chat.reply")

#: Seconds between checkpoints of a streaming reply (what a crash can cost at most).
CHECKPOINT_SECONDS = 2.0
#: Seconds of text gathered into one update of the front end (a few per frame, not per token).
COALESCE_SECONDS = 0.05


class Listener(Protocol):
    """What a front end is told while a reply streams (called on the pumping thread)."""

    def text(self, reply: Reply, text: str) -> None: ...

    def thinking(self, reply: Reply, text: str, signature: str, redacted: str) -> None: ...

    def ended(self, reply: Reply, stop: Stop | None, error: BedrockError | None) -> None: ...


class Keeper(Protocol):
    """How a front end keeps replies: its store, and what it does when saving fails."""

    def save(self, conversation: Conversation) -> bool:
        """Save; True when the conversation is on disk (False: kept in memory, unsaved)."""
        ...

    def checkpoint(self, conversation_id: str, message: Message) -> None: ...

    def clear_checkpoint(self, conversation_id: str) -> None: ...


def prepare_request(
    messages: list[Message],
    params: Any,
    learned: LearnedRules | None = None,
    continuing: bool = False,
    load: Loader | None = None,
) -> Prepared:
    """The request for `params.model` from the turns that are not still streaming, leaving
    out what Bedrock refused for that model before; attachments are read with `load` (their
    stored bytes). Raises ParamError for a bad value (AttachmentError for a file)."""
    from tui_chat.bedrock.formats import prepare

    refused = learned.for_model(params.model) if learned is not None else {}
    sending = [m for m in messages if m.status != "streaming"]
    return prepare(sending, params, refused=refused, continuing=continuing, load=load)


class Reply:
    """One reply being produced into a conversation."""

    def __init__(
        self,
        conversation: Conversation,
        prepared: Prepared,
        *,
        request_id: int = 0,
        previous: Message | None = None,
        continuing: Message | None = None,
        placed: bool = True,
        checkpoints: bool = True,
        learned: LearnedRules | None = None,
    ) -> None:
        """`previous`: the reply this one regenerates (kept as an alternative); `continuing`:
        a reply cut at max tokens that this one goes on with; `placed`: the reply is the
        conversation's next turn (a compare column's is not until it is kept); `checkpoints`:
        write what arrives to the checkpoint sidecar (not for compare columns or --no-save)."""
        self.conversation = conversation
        self.prepared = prepared
        self.request_id = request_id
        self.previous = previous
        self.checkpoints = checkpoints
        self.learned = learned
        self.handle: Any = None
        self.started = time.monotonic()
        self._cancelled = threading.Event()
        if continuing is not None:
            message = continuing
            message.content = message.content.rstrip()  # as sent: the model goes on from here
            message.status = "streaming"
            self.base_usage = dict(message.usage)
        else:
            message = Message(
                role="assistant",
                content="",
                status="streaming",
                params=dict(prepared.sent),
                omitted=list(prepared.omitted),
                omitted_reasons=dict(prepared.reasons),
            )
            self.base_usage = {}
            if placed:
                conversation.messages.append(message)
        self.message = message
        self.base_text = message.content

    # -- streaming (on the pumping thread) ------------------------------------------------------

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def pump(
        self,
        engine: Engine,
        listener: Listener,
        keeper: Keeper | None = None,
        is_cancelled: Callable[[], bool] = lambda: False,
        coalesce: float = COALESCE_SECONDS,
    ) -> None:
        """Start the request and read it to its end, telling `listener`; checkpoint what
        arrived through `keeper`. Returns without `ended` once cancelled."""
        from tui_chat.bedrock.errors import from_exception
        from tui_chat.bedrock.events import (
            Failure,
            RedactedThinking,
            Stop,
            TextDelta,
            ThinkingDelta,
            ThinkingSignature,
        )
        from tui_chat.logs import request_line

        if log.isEnabledFor(logging.DEBUG):
            sent = [m for m in self.conversation.messages if m.status != "streaming"]
            chars = sum(len(m.content) for m in sent)
            log.debug(request_line(self.prepared, chars, sum(1 for m in sent if m.content)))
        try:
            self.handle = engine.start(self.prepared)
        except Exception as error:  # e.g. an endpoint URL botocore refuses
            listener.ended(self, None, from_exception(error, self.prepared.model_id))
            return
        if self.cancelled:  # cancelled while the request was being made
            self.handle.cancel()
            return
        text: list[str] = []  # coalesced, not yet told
        thought: list[str] = []
        received: list[str] = []  # everything, for the checkpoint (the message is not ours)
        # The thinking as it arrives, kept here too so a checkpoint can hold it.
        thinking = Message(role="assistant", content="")
        last_told = last_checkpoint = time.monotonic()
        # Waiting for the next event never spins, even when each batch is told at once.
        for batch in self.handle.batches(wait=coalesce or COALESCE_SECONDS):
            if self.cancelled or is_cancelled():
                self.handle.cancel()
                return
            stop: Stop | None = None
            error: BedrockError | None = None
            for event in batch:
                if isinstance(event, TextDelta):
                    text.append(event.text)
                    received.append(event.text)
                elif isinstance(event, ThinkingDelta):
                    thought.append(event.text)
                    thinking.add_thinking(event.text)
                elif isinstance(event, ThinkingSignature | RedactedThinking):
                    self._tell_thinking(listener, thought)
                    signature = event.signature if isinstance(event, ThinkingSignature) else ""
                    redacted = event.data if isinstance(event, RedactedThinking) else ""
                    thinking.add_thinking(signature=signature, redacted=redacted)
                    listener.thinking(self, "", signature, redacted)
                elif isinstance(event, Stop):
                    stop = event
                elif isinstance(event, Failure):
                    error = event.error
            now = time.monotonic()
            ending = stop is not None or error is not None
            if (text or thought) and (ending or now - last_told >= coalesce):
                self._tell_thinking(listener, thought)
                if text:
                    listener.text(self, "".join(text))
                    text.clear()
                last_told = now
            if ending:
                listener.ended(self, stop, error)
                return
            due = now - last_checkpoint >= CHECKPOINT_SECONDS
            if due and keeper is not None and (received or thinking.thinking):
                last_checkpoint = now
                self._checkpoint(keeper, self.base_text + "".join(received), thinking.thinking)
        if not (self.cancelled or is_cancelled()):
            from tui_chat.bedrock.errors import BedrockError

            # The stream ended without saying how (should not happen).
            lost = BedrockError("connection_lost", detail="the reply ended without a stop")
            self._tell_thinking(listener, thought)  # what arrived is kept, not dropped
            if text:
                listener.text(self, "".join(text))
            listener.ended(self, None, lost)

    def _tell_thinking(self, listener: Listener, thought: list[str]) -> None:
        if thought:
            listener.thinking(self, "".join(thought), "", "")
            thought.clear()

    def _checkpoint(self, keeper: Keeper, text: str, thinking: list[dict[str, str]]) -> None:
        if not self.checkpoints:
            return
        message = self.message
        partial = Message(
            role="assistant",
            content=text,
            created=message.created,
            status="streaming",
            params=dict(message.params),
            omitted=list(message.omitted),
            omitted_reasons=dict(message.omitted_reasons),
            thinking=[dict(block) for block in thinking],
        )
        try:
            keeper.checkpoint(self.conversation.id, partial)
        except OSError as error:
            log.debug("checkpoint failed: %s", error)

    # -- applying (on the front end's thread) ---------------------------------------------------

    def add_text(self, text: str) -> None:
        self.message.content += text

    def add_thinking(self, text: str = "", signature: str = "", redacted: str = "") -> None:
        self.message.add_thinking(text, signature, redacted)

    def end(self, stop: Stop | None = None, error: BedrockError | None = None) -> None:
        """How the reply ended: complete with its stop reason and usage (a continued reply's
        usage added to what it had), or an error (a refusal is learned for the model)."""
        message = self.message
        if stop is not None:
            message.status = "complete"
            message.stop_reason = stop.reason
            message.stop_sequence = stop.stop_sequence or ""
            usage = stop.usage.as_dict()
            for key in ("output_tokens", "latency_ms"):
                usage[key] = usage.get(key, 0) + self.base_usage.get(key, 0)
            if "first_token_ms" in self.base_usage:
                usage["first_token_ms"] = self.base_usage["first_token_ms"]
            message.usage = usage
        else:
            if error is None:
                from tui_chat.bedrock.errors import BedrockError

                error = BedrockError("unknown")
            message.status = "error"
            message.error = error.as_dict()
            message.usage = {"latency_ms": self.elapsed_ms()} if message.content else {}
            self.learn(error)
        self._log_outcome(stop, error)

    def learn(self, error: BedrockError) -> bool:
        """A refusal teaches the model's rules (left out of its requests from now on)."""
        if error.kind != "refused" or not error.refused or self.learned is None:
            return False
        self.learned.learn(self.prepared.model_id, error.refused, error.detail)
        return True

    def cancel(self, status: str = "cancelled") -> None:
        """Stop the request (from any thread), keeping what arrived as `status`."""
        self._cancelled.set()
        if self.handle is not None:
            self.handle.cancel()
        if self.message.status == "streaming":
            self.message.status = status
            self._log_outcome(None, None)

    def finish(self, keeper: Keeper | None) -> bool:
        """Keep the reply in its conversation and save it: a regenerated turn keeps its
        earlier replies as alternatives (a failed empty one is simply replaced). The
        checkpoint is cleared only once the reply is on disk. True when saved."""
        message = self.message
        if self.previous is not None:
            combined = self.previous.with_new_reply(message)
            message.alternatives, message.chosen = combined.alternatives, combined.chosen
            self.previous = None
        self.conversation.touch()
        if keeper is None:
            return False
        saved = keeper.save(self.conversation)
        if saved:
            keeper.clear_checkpoint(self.conversation.id)
        return saved

    def elapsed_ms(self) -> int:
        return round((time.monotonic() - self.started) * 1000)

    def _log_outcome(self, stop: Stop | None, error: BedrockError | None) -> None:
        if log.isEnabledFor(logging.DEBUG):
            from tui_chat.logs import outcome_line

            log.debug(
                outcome_line(
                    status=self.message.status,
                    stop=stop,
                    error=error,
                    chars=len(self.message.content),
                    elapsed_ms=self.elapsed_ms(),
                )
            )


class Engines:
    """The one place an engine is made: Bedrock, or in demo mode the built-in emulator
    (started on first use). Thread-safe; `close` stops the demo's emulator."""

    def __init__(self, settings: Settings, demo: bool | None = None) -> None:
        self.settings = settings
        self.demo = bool(settings.demo if demo is None else demo)
        self._engine: Engine | None = None
        self._demo: Any = None
        self._lock = threading.Lock()

    @property
    def made(self) -> Engine | None:
        """The engine if it was made already (None: not yet)."""
        return self._engine

    def get(self) -> Engine:
        with self._lock:
            if self._engine is None:
                if self.demo:
                    from tui_chat.demo import Demo

                    self._demo = Demo.from_environment()  # TUI_CHAT_DEMO_TPS and the like
                    self._engine = self._demo.engine(self.settings)
                else:
                    from tui_chat.bedrock.engine import Engine

                    self._engine = Engine(self.settings.bedrock)
            return self._engine

    def close(self) -> None:
        with self._lock:
            demo, self._demo = self._demo, None
        if demo is not None:
            try:
                demo.stop()
            except Exception as error:  # stopping must never stop the caller's exit
                log.debug("stopping the demo failed: %s", error)
