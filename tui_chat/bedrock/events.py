"""The typed events every wire format is parsed into: text, a stop, or a failure."""

from __future__ import annotations

from dataclasses import dataclass, field

from tui_chat.bedrock.errors import BedrockError


@dataclass(frozen=True)
class TextDelta:
    """A piece of the reply, exactly as the model sent it (not yet sanitised)."""

    text: str


@dataclass(frozen=True)
class Usage:
    """Tokens from the model; times measured by the client from the moment it sent the
    request (`first_token_ms` is None when no text arrived)."""

    input_tokens: int = 0
    output_tokens: int = 0
    latency_ms: int = 0
    first_token_ms: int | None = None

    def as_dict(self) -> dict[str, int]:
        data = {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "latency_ms": self.latency_ms,
        }
        if self.first_token_ms is not None:
            data["first_token_ms"] = self.first_token_ms
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


Event = TextDelta | Stop | Failure
