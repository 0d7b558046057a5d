"""Messages the stream workers post to the app. Each carries the conversation and request ids
so that anything from a cancelled or superseded request is recognised and dropped."""

from __future__ import annotations

from textual.message import Message

from tui_chat.bedrock.errors import BedrockError
from tui_chat.bedrock.events import Stop


class StreamText(Message):
    """Text that arrived for a reply (several model deltas coalesced)."""

    def __init__(self, conversation_id: str, request_id: int, text: str) -> None:
        super().__init__()
        self.conversation_id = conversation_id
        self.request_id = request_id
        self.text = text


class StreamThinking(Message):
    """Thinking that arrived for a reply: text (coalesced), a block's closing signature, or a
    redacted block's opaque data."""

    def __init__(
        self,
        conversation_id: str,
        request_id: int,
        text: str = "",
        signature: str = "",
        redacted: str = "",
    ) -> None:
        super().__init__()
        self.conversation_id = conversation_id
        self.request_id = request_id
        self.text = text
        self.signature = signature
        self.redacted = redacted


class StreamEnded(Message):
    """A reply ended: `stop` when it finished, `error` when it failed."""

    def __init__(
        self,
        conversation_id: str,
        request_id: int,
        stop: Stop | None = None,
        error: BedrockError | None = None,
    ) -> None:
        super().__init__()
        self.conversation_id = conversation_id
        self.request_id = request_id
        self.stop = stop
        self.error = error
