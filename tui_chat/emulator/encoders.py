"""Replies out: the event shapes of each wire format, streamed and non-streamed."""

from __future__ import annotations

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

    def invocation(self) -> dict[str, int]:
        """``amazon-bedrock-invocationMetrics`` as Bedrock appends it to the last chunk."""
        return {
            "inputTokenCount": self.input_tokens,
            "outputTokenCount": self.output_tokens,
            "invocationLatency": self.invocation_latency_ms,
            "firstByteLatency": self.first_byte_latency_ms,
        }


def message_id() -> str:
    alphabet = string.ascii_letters + string.digits
    return "msg_bdrk_01" + "".join(secrets.choice(alphabet) for _ in range(22))


class StreamEncoder:
    """Frames for one streamed reply. Subclasses define the format's events."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.input_tokens = job.prompt.input_tokens if job.prompt else 0
        self._n = 0

    # -- format hooks
    def start(self) -> list[bytes]:
        return []

    def token(self, text: str, count: int) -> bytes:
        raise NotImplementedError

    def finish(self, reply: Reply, metrics: Metrics) -> list[bytes]:
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


class MessagesEncoder(StreamEncoder):
    def __init__(self, job: Job) -> None:
        super().__init__(job)
        self.id = message_id()

    def start(self) -> list[bytes]:
        return [
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
                        "usage": {"input_tokens": self.input_tokens, "output_tokens": 1},
                    },
                }
            ),
            self._chunk(
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "text", "text": ""},
                }
            ),
        ]

    def token(self, text: str, count: int) -> bytes:
        return self._chunk(
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": text},
            }
        )

    def finish(self, reply: Reply, metrics: Metrics) -> list[bytes]:
        return [
            self._chunk({"type": "content_block_stop", "index": 0}),
            self._chunk(
                {
                    "type": "message_delta",
                    "delta": {
                        "stop_reason": reply.stop_reason,
                        "stop_sequence": reply.stop_sequence,
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

    def finish(self, reply: Reply, metrics: Metrics) -> list[bytes]:
        reason, stop = legacy_stop(reply)
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

    def finish(self, reply: Reply, metrics: Metrics) -> list[bytes]:
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

    def finish(self, reply: Reply, metrics: Metrics) -> list[bytes]:
        body = self._choice("", "length" if reply.stop_reason == "max_tokens" else "stop")
        body["amazon-bedrock-invocationMetrics"] = metrics.invocation()
        return [self._chunk(body)]


def _usage(metrics: Metrics) -> dict[str, int]:
    return {
        "inputTokens": metrics.input_tokens,
        "outputTokens": metrics.output_tokens,
        "totalTokens": metrics.input_tokens + metrics.output_tokens,
    }


class NovaEncoder(StreamEncoder):
    def start(self) -> list[bytes]:
        return [self._chunk({"messageStart": {"role": "assistant"}})]

    def token(self, text: str, count: int) -> bytes:
        return self._chunk({"contentBlockDelta": {"delta": {"text": text}, "contentBlockIndex": 0}})

    def finish(self, reply: Reply, metrics: Metrics) -> list[bytes]:
        return [
            self._chunk({"contentBlockStop": {"contentBlockIndex": 0}}),
            self._chunk({"messageStop": {"stopReason": reply.stop_reason}}),
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
    def _event(self, event_type: str, body: dict[str, Any]) -> bytes:
        self._n += 1
        return es.event(event_type, {**body, "p": es.padding(self._n)})

    def start(self) -> list[bytes]:
        return [self._event("messageStart", {"role": "assistant"})]

    def token(self, text: str, count: int) -> bytes:
        return self._event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": text}})

    def finish(self, reply: Reply, metrics: Metrics) -> list[bytes]:
        stop: dict[str, Any] = {"stopReason": reply.stop_reason}
        fields = _response_fields(self.job, reply)
        if fields:
            stop["additionalModelResponseFields"] = fields
        return [
            self._event("contentBlockStop", {"contentBlockIndex": 0}),
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


def stream_encoder(job: Job) -> StreamEncoder:
    return ENCODERS[job.fmt](job)


# ---------------------------------------------------------------------------------------------
# Non-streaming bodies


def response_body(job: Job, reply: Reply | None, metrics: Metrics) -> dict[str, Any]:
    """The JSON body InvokeModel / Converse return for a finished reply."""
    if job.fmt == "embed":
        return embedding_body(job)
    assert reply is not None
    text = reply.text
    if job.fmt == "messages":
        return {
            "id": message_id(),
            "type": "message",
            "role": "assistant",
            "model": job.model.anthropic_name,
            "content": [{"type": "text", "text": text}],
            "stop_reason": reply.stop_reason,
            "stop_sequence": reply.stop_sequence,
            "usage": {"input_tokens": metrics.input_tokens, "output_tokens": metrics.output_tokens},
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
    message = {"role": "assistant", "content": [{"text": text}]}
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
