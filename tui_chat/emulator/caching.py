"""Prompt caching: cache points in a request, and the cache of prefixes the emulator remembers.

A cache point (Messages ``cache_control`` on a block, Converse a ``cachePoint`` block) marks
the end of a prefix: tools, system and messages up to and including the marked block. The
parser walks a request in that order with a ``PrefixBuilder``, which hashes the content (not
the markers, so moving a marker further on still finds the earlier prefix) and counts
characters exactly as ``Prompt.input_tokens`` does (and adds an image's or a document's own
tokens, as the prompt does), so a prefix's tokens never exceed the request's.

``PromptCache.account`` then does what Bedrock does for one request: points whose prefix is
below the model's minimum are ignored; the longest prefix still cached is read, the rest up to
the last point is written and remembered (5 minutes, or an hour with ``ttl: "1h"``).
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from dataclasses import dataclass
from typing import Any

from tui_chat.emulator.catalog import ModelInfo

TTL_SECONDS = {"5m": 300.0, "1h": 3600.0}
MAX_CACHE_POINTS = 4


@dataclass(frozen=True)
class CachePoint:
    key: str  # hash of the model id and the prefix's content
    tokens: int  # the prefix's input tokens (4 characters a token)
    ttl: float  # seconds


class PrefixBuilder:
    """Walks a request's content in order and records a ``CachePoint`` at each marker."""

    def __init__(self, model_id: str) -> None:
        self._hash = hashlib.sha256(model_id.encode("utf-8"))
        self._chars = 0
        self._extra_tokens = 0  # images' and documents' tokens
        self._joined = False  # a text already in this section: the next one adds a "\n"
        self.points: list[CachePoint] = []
        self.markers = 0  # every marker, for the limit of 4

    def section(self, label: str) -> None:
        """Start the tools, the system prompt, or one message (``label`` its role)."""
        self._update(["section", label])
        self._joined = False

    def block(self, material: Any, text: str | None = None, tokens: int = 0) -> None:
        """One content block: ``material`` is hashed, ``text`` counts toward the tokens, and so
        do ``tokens`` (an image's or a document's own)."""
        self._update(material)
        self._extra_tokens += tokens
        if text is not None:
            self._chars += len(text) + (1 if self._joined else 0)
            self._joined = True

    def mark(self, ttl: str = "5m") -> None:
        """A cache point after everything added so far."""
        self.markers += 1
        tokens = math.ceil(self._chars / 4) + self._extra_tokens
        self.points.append(CachePoint(self._hash.copy().hexdigest(), tokens, TTL_SECONDS[ttl]))

    def _update(self, material: Any) -> None:
        raw = json.dumps(material, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        self._hash.update(raw.encode("utf-8") + b"\x00")


@dataclass(frozen=True)
class InputUsage:
    """How a request's input tokens split between plain input and the cache."""

    input_tokens: int
    cache_read: int = 0
    cache_write: int = 0
    caching: bool = False  # the model caches prompts: usage carries the cache fields

    @property
    def total(self) -> int:
        return self.input_tokens + self.cache_read + self.cache_write


class PromptCache:
    """The prefixes one emulator remembers, per model. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._expiry: dict[str, float] = {}
        self._offset = 0.0

    def now(self) -> float:
        return time.monotonic() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the cache's clock forward (tests of expiry, without waiting)."""
        with self._lock:
            self._offset += seconds

    def clear(self) -> None:
        with self._lock:
            self._expiry.clear()

    def __len__(self) -> int:
        with self._lock:
            now = self.now()
            return sum(1 for expiry in self._expiry.values() if expiry > now)

    def account(self, model: ModelInfo, total_tokens: int, points: list[CachePoint]) -> InputUsage:
        if model.cache_min_tokens is None:
            return InputUsage(total_tokens)
        usable = [p for p in points if p.tokens >= model.cache_min_tokens]
        if not usable:
            return InputUsage(total_tokens, caching=True)
        with self._lock:
            now = self.now()
            self._expiry = {k: t for k, t in self._expiry.items() if t > now}
            read = 0
            for point in usable:
                if point.key in self._expiry:
                    read = max(read, point.tokens)
            write = max(0, max(p.tokens for p in usable) - read)
            for point in usable:  # written, or read again: either way it lives on
                self._expiry[point.key] = max(self._expiry.get(point.key, 0.0), now + point.ttl)
        return InputUsage(max(0, total_tokens - read - write), read, write, caching=True)
