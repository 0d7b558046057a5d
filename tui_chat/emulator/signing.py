"""Thinking signatures and redacted-thinking blobs: opaque to clients, checkable by the emulator.

A signature stands for the whole thinking text, shown or not: it carries a digest of the text
and an HMAC of that digest. A thinking block sent back verifies when its signature is intact
and its text is either the text that was signed or empty (the text a client got when the
thinking display was "omitted"). Editing the text, or the signature, breaks it.

The key is fixed rather than drawn per process on purpose: Bedrock's signatures stay valid
across time, so a conversation saved in one run of the app (or of the command line, which
starts its own demo emulator) can be continued in another. Nothing here is a secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

_KEY = hashlib.sha256(b"tui-chat bedrock emulator / thinking signatures / v1").digest()
_SIGNATURE_TAG = b"EMUsig1\x00"
_REDACTED_TAG = b"EMUred1\x00"


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


def _mac(purpose: bytes, digest: bytes) -> bytes:
    return hmac.new(_KEY, purpose + digest, hashlib.sha256).digest()


def sign(thinking: str) -> str:
    """The ``signature`` of a thinking block whose full text is ``thinking``."""
    digest = _digest(thinking)
    return base64.b64encode(_SIGNATURE_TAG + digest + _mac(b"signature", digest)).decode("ascii")


def verify(thinking: str, signature: str) -> bool:
    try:
        raw = base64.b64decode(signature.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return False
    if len(raw) != len(_SIGNATURE_TAG) + 64 or not raw.startswith(_SIGNATURE_TAG):
        return False
    digest, mac = raw[len(_SIGNATURE_TAG) : -32], raw[-32:]
    if not hmac.compare_digest(mac, _mac(b"signature", digest)):
        return False
    return thinking == "" or hmac.compare_digest(digest, _digest(thinking))


def redacted_blob(thinking: str) -> bytes:
    """The opaque bytes of a redacted thinking block (Converse ``redactedContent``)."""
    digest = _digest(thinking)
    return _REDACTED_TAG + digest + _mac(b"redacted", digest)


def redacted_data(thinking: str) -> str:
    """The ``data`` of a Messages ``redacted_thinking`` block: the blob, base64-encoded."""
    return base64.b64encode(redacted_blob(thinking)).decode("ascii")


def verify_redacted(blob: bytes) -> bool:
    if len(blob) != len(_REDACTED_TAG) + 64 or not blob.startswith(_REDACTED_TAG):
        return False
    digest, mac = blob[len(_REDACTED_TAG) : -32], blob[-32:]
    return hmac.compare_digest(mac, _mac(b"redacted", digest))


def decode_base64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return None
