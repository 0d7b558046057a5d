"""Messages posted up to the app: the stream workers' (each carries the conversation and request
ids so that anything from a cancelled or superseded request is recognised and dropped), and a
screen's request to copy text."""

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
    """A reply ended: `outcome` (its Stop: reason and usage) when it finished, `error` when it
    failed. (Not `stop`: that is Message.stop(), which ends a message's bubbling.)"""

    def __init__(
        self,
        conversation_id: str,
        request_id: int,
        outcome: Stop | None = None,
        error: BedrockError | None = None,
    ) -> None:
        super().__init__()
        self.conversation_id = conversation_id
        self.request_id = request_id
        self.outcome = outcome
        self.error = error


class CopyText(Message):
    """Copy `text` to the clipboard; the app says how it was copied (tmux's buffer, OSC 52)
    or that it could not be. `what` names it in that message ("the JSON body")."""

    def __init__(self, text: str, what: str) -> None:
        super().__init__()
        self.text = text
        self.what = what
