"""Replies out: the event shapes of each wire format, streamed and non-streamed."""

from __future__ import annotations

import base64
import hashlib
import math
import secrets
import string
import struct
from dataclasses import dataclass
from typing import Any

from tui_chat.emulator import eventstream as es
from tui_chat.emulator.demo_model import Reply, estimate_tokens
from tui_chat.emulator.parsing import HUMAN, Job


@dataclass
class Metrics:
    input_tokens: int
    output_tokens: int
    invocation_latency_ms: int
    first_byte_latency_ms: int
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    caching: bool = False  # the model caches prompts: the cache counts are reported

    def invocation(self) -> dict[str, int]:
        """``amazon-bedrock-invocationMetrics`` as Bedrock appends it to the last chunk."""
        metrics = {
            "inputTokenCount": self.input_tokens,
            "outputTokenCount": self.output_tokens,
            "invocationLatency": self.invocation_latency_ms,
            "firstByteLatency": self.first_byte_latency_ms,
        }
        if self.caching:
            metrics["cacheReadInputTokenCount"] = self.cache_read_tokens
            metrics["cacheWriteInputTokenCount"] = self.cache_write_tokens
        return metrics

    def anthropic_usage(self, output_tokens: int | None = None) -> dict[str, int]:
        """Messages-API ``usage``: input, output, and the cache counts on caching models."""
        usage = {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens if output_tokens is None else output_tokens,
        }
        if self.caching:
            usage["cache_creation_input_tokens"] = self.cache_write_tokens
            usage["cache_read_input_tokens"] = self.cache_read_tokens
        return usage


def message_id() -> str:
    alphabet = string.ascii_letters + string.digits
    return "msg_bdrk_01" + "".join(secrets.choice(alphabet) for _ in range(22))


class StreamEncoder:
    """Frames for one streamed reply. Subclasses define the format's events.

    The server calls ``start()``, then ``step(i)`` for each output token (thinking tokens
    first, then the text's), then ``finish()``. ``step`` returns every frame that belongs
    before and at that token, so a format can open and close its blocks there.
    """

    def __init__(self, job: Job, reply: Reply, usage: Metrics) -> None:
        self.job = job
        self.reply = reply
        self.usage = usage  # input side (input and cache tokens) known before the stream
        self.input_tokens = usage.input_tokens
        self._n = 0

    # -- format hooks
    def start(self) -> list[bytes]:
        return []

    def step(self, i: int) -> list[bytes]:
        """Frames for output token ``i`` (formats without thinking: one text token each)."""
        thinking = len(self.reply.thinking)
        if i < thinking:
            return []
        return [self.token(self.reply.tokens[i - thinking], i - thinking + 1)]

    def token(self, text: str, count: int) -> bytes:
        raise NotImplementedError

    def finish(self, metrics: Metrics) -> list[bytes]:
        raise NotImplementedError

    def unknown(self) -> list[bytes]:
        """Events a client must skip: a frame of an unknown ``:event-type``."""
        return [es.event("emulatorFutureEvent", {"note": "clients must ignore unknown events"})]

    def bad_json(self) -> bytes:
        return self._chunk(b'{"type":"content_block_delta","index":0,"delta":{"type":"text_del')

    def corrupt(self, text: str, count: int) -> bytes:
        frame = bytearray(self.token(text, count))
        frame[-1] ^= 0xFF  # wrong message CRC
        return bytes(frame)

    # -- helpers
    def _chunk(self, body: dict[str, Any] | bytes) -> bytes:
        self._n += 1
        return es.chunk(body, self._n)


class _Blocks:
    """Where a streamed Claude reply is: which blocks are open, and their indexes.

    A reply that thinks has its thinking block at index 0 and its text at index 1; one that
    does not has its text at index 0.
    """

    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.thinking_open = reply.thinks
        self.text_open = False
        self.text_index = 1 if reply.thinks else 0

    @property
    def shows_thinking(self) -> bool:
        return self.reply.show_thinking and not self.reply.redacted


class MessagesEncoder(StreamEncoder):
    def __init__(self, job: Job, reply: Reply, usage: Metrics) -> None:
        super().__init__(job, reply, usage)
        self.id = message_id()
        self._blocks = _Blocks(reply)

    def start(self) -> list[bytes]:
        frames = [
            self._chunk(
                {
                    "type": "message_start",
                    "message": {
                        "id": self.id,
                        "type": "message",
                        "role": "assistant",
                        "model": self.job.model.anthropic_name,
                        "content": [],
                        "stop_reason": None,
                        "stop_sequence": None,
                        "usage": self.usage.anthropic_usage(output_tokens=1),
                    },
                }
            )
        ]
        if not self.reply.thinks:
            frames.append(self._open_text())
        elif self.reply.redacted:
            # A redacted block comes whole: its start carries the data, then it stops.
            block = {"type": "redacted_thinking", "data": signing_data(self.reply)}
            frames.append(
                self._chunk({"type": "content_block_start", "index": 0, "content_block": block})
            )
            frames.append(self._chunk({"type": "content_block_stop", "index": 0}))
            self._blocks.thinking_open = False
        else:
            block = {"type": "thinking", "thinking": "", "signature": ""}
            frames.append(
                self._chunk({"type": "content_block_start", "index": 0, "content_block": block})
            )
        return frames

    def _open_text(self) -> bytes:
        self._blocks.text_open = True
        return self._chunk(
            {
                "type": "content_block_start",
                "index": self._blocks.text_index,
                "content_block": {"type": "text", "text": ""},
            }
        )

    def _close_thinking(self) -> list[bytes]:
        if not self._blocks.thinking_open:
            return []
        self._blocks.thinking_open = False
        signature = {"type": "signature_delta", "signature": self.reply.signature}
        return [
            self._chunk({"type": "content_block_delta", "index": 0, "delta": signature}),
            self._chunk({"type": "content_block_stop", "index": 0}),
        ]

    def step(self, i: int) -> list[bytes]:
        thinking = self.reply.thinking
        if i < len(thinking):
            if not self._blocks.shows_thinking:
                return []  # hidden or redacted: the tokens pass without a delta
            delta = {"type": "thinking_delta", "thinking": thinking[i]}
            return [self._chunk({"type": "content_block_delta", "index": 0, "delta": delta})]
        frames = self._close_thinking()
        if not self._blocks.text_open:
            frames.append(self._open_text())
        frames.append(self.token(self.reply.tokens[i - len(thinking)], i - len(thinking) + 1))
        return frames

    def token(self, text: str, count: int) -> bytes:
        return self._chunk(
            {
                "type": "content_block_delta",
                "index": self._blocks.text_index,
                "delta": {"type": "text_delta", "text": text},
            }
        )

    def finish(self, metrics: Metrics) -> list[bytes]:
        frames = self._close_thinking()
        if self.reply.text_block:
            if not self._blocks.text_open:
                frames.append(self._open_text())
            frames.append(
                self._chunk({"type": "content_block_stop", "index": self._blocks.text_index})
            )
        return [
            *frames,
            self._chunk(
                {
                    "type": "message_delta",
                    "delta": {
                        "stop_reason": self.reply.stop_reason,
                        "stop_sequence": self.reply.stop_sequence,
                    },
                    "usage": {"output_tokens": metrics.output_tokens},
                }
            ),
            self._chunk(
                {"type": "message_stop", "amazon-bedrock-invocationMetrics": metrics.invocation()}
            ),
        ]

    def unknown(self) -> list[bytes]:
        return [
            *super().unknown(),
            self._chunk({"type": "emulator_future_event", "note": "clients must ignore it"}),
        ]


def signing_data(reply: Reply) -> str:
    """The base64 ``data`` of a redacted thinking block."""
    return base64.b64encode(reply.redacted_blob).decode("ascii")


def legacy_stop(reply: Reply) -> tuple[str, str | None]:
    if reply.stop_reason == "max_tokens":
        return "max_tokens", None
    if reply.stop_reason == "stop_sequence":
        return "stop_sequence", reply.stop_sequence
    return "stop_sequence", HUMAN  # a natural end is the model writing the next Human turn


class LegacyEncoder(StreamEncoder):
    def token(self, text: str, count: int) -> bytes:
        if count == 1:
            text = " " + text  # Claude's text completions start with a space
        return self._chunk({"completion": text, "stop_reason": None, "stop": None})

    def finish(self, metrics: Metrics) -> list[bytes]:
        reason, stop = legacy_stop(self.reply)
        return [
            self._chunk(
                {
                    "completion": "",
                    "stop_reason": reason,
                    "stop": stop,
                    "amazon-bedrock-invocationMetrics": metrics.invocation(),
                }
            )
        ]

    def bad_json(self) -> bytes:
        return self._chunk(b'{"completion":" and then","stop_reason":nul')


class MetaEncoder(StreamEncoder):
    def token(self, text: str, count: int) -> bytes:
        return self._chunk(
            {
                "generation": text,
                "prompt_token_count": self.input_tokens if count == 1 else None,
                "generation_token_count": count,
                "stop_reason": None,
            }
        )

    def finish(self, metrics: Metrics) -> list[bytes]:
        reply = self.reply
        return [
            self._chunk(
                {
                    "generation": "",
                    "prompt_token_count": None,
                    "generation_token_count": metrics.output_tokens,
                    "stop_reason": "length" if reply.stop_reason == "max_tokens" else "stop",
                    "amazon-bedrock-invocationMetrics": metrics.invocation(),
                }
            )
        ]


class MistralEncoder(StreamEncoder):
    @staticmethod
    def _choice(text: str, stop_reason: str | None) -> dict[str, Any]:
        return {
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "stop_reason": stop_reason,
                }
            ]
        }

    def token(self, text: str, count: int) -> bytes:
        return self._chunk(self._choice(text, None))

    def finish(self, metrics: Metrics) -> list[bytes]:
        body = self._choice("", "length" if self.reply.stop_reason == "max_tokens" else "stop")
        body["amazon-bedrock-invocationMetrics"] = metrics.invocation()
        return [self._chunk(body)]


def _usage(metrics: Metrics) -> dict[str, int]:
    """Converse ``usage``; on caching models also the cache counts (part of the total)."""
    usage = {
        "inputTokens": metrics.input_tokens,
        "outputTokens": metrics.output_tokens,
        "totalTokens": (
            metrics.input_tokens
            + metrics.output_tokens
            + metrics.cache_read_tokens
            + metrics.cache_write_tokens
        ),
    }
    if metrics.caching:
        usage["cacheReadInputTokens"] = metrics.cache_read_tokens
        usage["cacheWriteInputTokens"] = metrics.cache_write_tokens
    return usage


class NovaEncoder(StreamEncoder):
    def start(self) -> list[bytes]:
        return [self._chunk({"messageStart": {"role": "assistant"}})]

    def token(self, text: str, count: int) -> bytes:
        return self._chunk({"contentBlockDelta": {"delta": {"text": text}, "contentBlockIndex": 0}})

    def finish(self, metrics: Metrics) -> list[bytes]:
        return [
            self._chunk({"contentBlockStop": {"contentBlockIndex": 0}}),
            self._chunk({"messageStop": {"stopReason": self.reply.stop_reason}}),
            self._chunk(
                {
                    "metadata": {"usage": _usage(metrics), "metrics": {}, "trace": {}},
                    "amazon-bedrock-invocationMetrics": metrics.invocation(),
                }
            ),
        ]


def _response_fields(job: Job, reply: Reply) -> dict[str, Any] | None:
    """``additionalModelResponseFields`` for the paths a Converse request asked for."""
    fields: dict[str, Any] = {}
    if "/stop_sequence" in job.response_field_paths and job.model.family == "anthropic":
        fields["stop_sequence"] = reply.stop_sequence
    return fields or None


class ConverseEncoder(StreamEncoder):
    def __init__(self, job: Job, reply: Reply, usage: Metrics) -> None:
        super().__init__(job, reply, usage)
        self._blocks = _Blocks(reply)

    def _event(self, event_type: str, body: dict[str, Any]) -> bytes:
        self._n += 1
        return es.event(event_type, {**body, "p": es.padding(self._n)})

    def _reasoning(self, delta: dict[str, Any]) -> bytes:
        return self._event(
            "contentBlockDelta", {"contentBlockIndex": 0, "delta": {"reasoningContent": delta}}
        )

    def start(self) -> list[bytes]:
        frames = [self._event("messageStart", {"role": "assistant"})]
        if self.reply.thinks and self.reply.redacted:
            # Redacted thinking comes whole, in one delta (bytes: base64 in the JSON).
            frames.append(self._reasoning({"redactedContent": signing_data(self.reply)}))
            frames.append(self._event("contentBlockStop", {"contentBlockIndex": 0}))
            self._blocks.thinking_open = False
        return frames

    def _close_thinking(self) -> list[bytes]:
        if not self._blocks.thinking_open:
            return []
        self._blocks.thinking_open = False
        return [
            self._reasoning({"signature": self.reply.signature}),
            self._event("contentBlockStop", {"contentBlockIndex": 0}),
        ]

    def step(self, i: int) -> list[bytes]:
        thinking = self.reply.thinking
        if i < len(thinking):
            if not self._blocks.shows_thinking:
                return []
            return [self._reasoning({"text": thinking[i]})]
        frames = self._close_thinking()
        self._blocks.text_open = True
        frames.append(self.token(self.reply.tokens[i - len(thinking)], i - len(thinking) + 1))
        return frames

    def token(self, text: str, count: int) -> bytes:
        return self._event(
            "contentBlockDelta",
            {"contentBlockIndex": self._blocks.text_index, "delta": {"text": text}},
        )

    def finish(self, metrics: Metrics) -> list[bytes]:
        reply = self.reply
        stop: dict[str, Any] = {"stopReason": reply.stop_reason}
        fields = _response_fields(self.job, reply)
        if fields:
            stop["additionalModelResponseFields"] = fields
        frames = self._close_thinking()
        if reply.text_block:
            frames.append(
                self._event("contentBlockStop", {"contentBlockIndex": self._blocks.text_index})
            )
        return [
            *frames,
            self._event("messageStop", stop),
            self._event(
                "metadata",
                {"usage": _usage(metrics), "metrics": {"latencyMs": metrics.invocation_latency_ms}},
            ),
        ]

    def bad_json(self) -> bytes:
        return es.event("contentBlockDelta", b'{"contentBlockIndex":0,"delta":{"text":"oops')


ENCODERS: dict[str, type[StreamEncoder]] = {
    "messages": MessagesEncoder,
    "legacy": LegacyEncoder,
    "meta": MetaEncoder,
    "mistral": MistralEncoder,
    "nova": NovaEncoder,
    "converse": ConverseEncoder,
}


def stream_encoder(job: Job, reply: Reply, usage: Metrics) -> StreamEncoder:
    """The encoder for a job's format; ``usage`` holds the input side of the counts."""
    return ENCODERS[job.fmt](job, reply, usage)


# ---------------------------------------------------------------------------------------------
# Non-streaming bodies


def response_body(job: Job, reply: Reply | None, metrics: Metrics) -> dict[str, Any]:
    """The JSON body InvokeModel / Converse return for a finished reply."""
    if job.fmt == "embed":
        return embedding_body(job)
    assert reply is not None
    text = reply.text
    if job.fmt == "messages":
        content: list[dict[str, Any]] = []
        if reply.thinks and reply.redacted:
            content.append({"type": "redacted_thinking", "data": signing_data(reply)})
        elif reply.thinks:
            content.append(
                {"type": "thinking", "thinking": reply.thinking_text, "signature": reply.signature}
            )
        if reply.text_block:
            content.append({"type": "text", "text": text})
        return {
            "id": message_id(),
            "type": "message",
            "role": "assistant",
            "model": job.model.anthropic_name,
            "content": content,
            "stop_reason": reply.stop_reason,
            "stop_sequence": reply.stop_sequence,
            "usage": metrics.anthropic_usage(),
        }
    if job.fmt == "legacy":
        reason, stop = legacy_stop(reply)
        return {"completion": " " + text, "stop_reason": reason, "stop": stop}
    if job.fmt == "meta":
        return {
            "generation": text,
            "prompt_token_count": metrics.input_tokens,
            "generation_token_count": metrics.output_tokens,
            "stop_reason": "length" if reply.stop_reason == "max_tokens" else "stop",
        }
    if job.fmt == "mistral":
        return MistralEncoder._choice(
            text, "length" if reply.stop_reason == "max_tokens" else "stop"
        )
    blocks: list[dict[str, Any]] = []
    if reply.thinks and reply.redacted:
        blocks.append({"reasoningContent": {"redactedContent": signing_data(reply)}})
    elif reply.thinks:
        reasoning = {"text": reply.thinking_text, "signature": reply.signature}
        blocks.append({"reasoningContent": {"reasoningText": reasoning}})
    if reply.text_block:
        blocks.append({"text": text})
    message = {"role": "assistant", "content": blocks}
    if job.fmt == "nova":
        return {
            "output": {"message": message},
            "stopReason": reply.stop_reason,
            "usage": _usage(metrics),
        }
    body: dict[str, Any] = {
        "output": {"message": message},
        "stopReason": reply.stop_reason,
        "usage": _usage(metrics),
        "metrics": {"latencyMs": metrics.invocation_latency_ms},
    }
    fields = _response_fields(job, reply)
    if fields:
        body["additionalModelResponseFields"] = fields
    return body


def embedding_body(job: Job) -> dict[str, Any]:
    assert job.embedding is not None
    text, dims = job.embedding["text"], job.embedding["dimensions"]
    seed = hashlib.sha256(text.encode("utf-8")).digest()
    values: list[float] = []
    block = 0
    while len(values) < dims:
        digest = hashlib.sha256(seed + struct.pack(">I", block)).digest()
        values.extend((b - 127.5) / 127.5 for b in digest)
        block += 1
    values = values[:dims]
    if job.embedding["normalize"]:
        norm = math.sqrt(sum(v * v for v in values)) or 1.0
        values = [v / norm for v in values]
    return {
        "embedding": values,
        "embeddingsByType": {"float": values},
        "inputTextTokenCount": estimate_tokens(text),
    }
