"""The typed events every wire format is parsed into: text, thinking, a stop, or a failure."""

from __future__ import annotations

from dataclasses import dataclass, field

from tui_chat.bedrock.errors import BedrockError


@dataclass(frozen=True)
class TextDelta:
    """A piece of the reply, exactly as the model sent it (not yet sanitised)."""

    text: str


@dataclass(frozen=True)
class ThinkingDelta:
    """A piece of the model's thinking (shown apart from the answer, never part of it)."""

    text: str


@dataclass(frozen=True)
class ThinkingSignature:
    """The signature that closes a thinking block; sent back unchanged with the block."""

    signature: str


@dataclass(frozen=True)
class RedactedThinking:
    """A thinking block the provider encrypted for safety: opaque data to send back as is."""

    data: str


@dataclass(frozen=True)
class Usage:
    """Tokens from the model; times measured by the client from the moment it sent the
    request (`first_token_ms` is None when no text arrived; `thinking_ms` is how long the
    model thought before its first word of answer). `input_tokens` are those not read from
    or written to the prompt cache."""

    input_tokens: int = 0
    output_tokens: int = 0
    latency_ms: int = 0
    first_token_ms: int | None = None
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    thinking_ms: int | None = None

    def as_dict(self) -> dict[str, int]:
        data = {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "latency_ms": self.latency_ms,
        }
        if self.first_token_ms is not None:
            data["first_token_ms"] = self.first_token_ms
        if self.cache_read_tokens:
            data["cache_read_tokens"] = self.cache_read_tokens
        if self.cache_write_tokens:
            data["cache_write_tokens"] = self.cache_write_tokens
        if self.thinking_ms is not None:
            data["thinking_ms"] = self.thinking_ms
        return data


@dataclass(frozen=True)
class Stop:
    """The reply ended. `reason` is normalised (end_turn, max_tokens, stop_sequence, or the
    model's own word passed through); `raw_reason` is what the model said."""

    reason: str
    stop_sequence: str = ""
    usage: Usage = field(default_factory=Usage)
    raw_reason: str = ""


@dataclass(frozen=True)
class Failure:
    """The request or the stream failed; text that arrived before stays valid."""

    error: BedrockError


Event = TextDelta | ThinkingDelta | ThinkingSignature | RedactedThinking | Stop | Failure
