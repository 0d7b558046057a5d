"""AWS event-stream framing (``application/vnd.amazon.eventstream``), the encoding side.

A message is::

    prelude:  total length (u32) | headers length (u32) | CRC32 of those 8 bytes
    headers:  name length (u8) | name | value type (u8, 7 = string) | value length (u16) | value
    payload:  bytes
    trailer:  CRC32 of everything before it

botocore (``botocore.eventstream``) decodes exactly this and checks both CRCs.
"""

from __future__ import annotations

import base64
import json
import struct
from binascii import crc32
from typing import Any

_STRING = 7

# Bedrock pads every payload with a "p" field of varying length so that the size of an encrypted
# frame does not reveal the size of the text in it. Clients must ignore it.
_PAD_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def padding(n: int) -> str:
    """A deterministic padding string whose length varies with ``n`` (1 to 40 characters)."""
    return _PAD_ALPHABET[: 1 + (n * 7) % 40]


def encode_headers(headers: dict[str, str]) -> bytes:
    out = bytearray()
    for name, value in headers.items():
        raw_name = name.encode("utf-8")
        raw_value = value.encode("utf-8")
        out += struct.pack(">B", len(raw_name)) + raw_name
        out += struct.pack(">BH", _STRING, len(raw_value)) + raw_value
    return bytes(out)


def encode_message(headers: dict[str, str], payload: bytes, *, corrupt_crc: bool = False) -> bytes:
    """One event-stream message. ``corrupt_crc`` flips the message CRC (for fault injection)."""
    raw_headers = encode_headers(headers)
    total = 12 + len(raw_headers) + len(payload) + 4
    prelude = struct.pack(">II", total, len(raw_headers))
    prelude += struct.pack(">I", crc32(prelude))
    body = prelude + raw_headers + payload
    checksum = crc32(body)
    if corrupt_crc:
        checksum ^= 0xDEADBEEF
    return body + struct.pack(">I", checksum)


def event(event_type: str, payload: dict[str, Any] | bytes) -> bytes:
    """An ``event`` message with a JSON payload."""
    raw = payload if isinstance(payload, bytes) else _dumps(payload)
    return encode_message(
        {
            ":event-type": event_type,
            ":content-type": "application/json",
            ":message-type": "event",
        },
        raw,
    )


def exception(exception_type: str, payload: dict[str, Any]) -> bytes:
    """An ``exception`` message; botocore raises ``EventStreamError`` with this code."""
    return encode_message(
        {
            ":exception-type": exception_type,
            ":content-type": "application/json",
            ":message-type": "exception",
        },
        _dumps(payload),
    )


def chunk_payload(model_body: dict[str, Any] | bytes, n: int) -> bytes:
    """The payload of an InvokeModelWithResponseStream ``chunk`` event."""
    raw = model_body if isinstance(model_body, bytes) else _dumps(model_body)
    return _dumps({"bytes": base64.b64encode(raw).decode("ascii"), "p": padding(n)})


def chunk(model_body: dict[str, Any] | bytes, n: int, *, corrupt_crc: bool = False) -> bytes:
    """An InvokeModelWithResponseStream ``chunk`` event carrying ``model_body`` base64-encoded."""
    return encode_message(
        {
            ":event-type": "chunk",
            ":content-type": "application/json",
            ":message-type": "event",
        },
        chunk_payload(model_body, n),
        corrupt_crc=corrupt_crc,
    )


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
