"""Running one streamed request: a reader thread, a queue of events, and prompt cancellation.

The blocking boto3 call and the socket reads happen in a daemon reader thread that puts typed
events on a queue. The consumer (the app's worker, the CLI, the SDK) takes them in batches,
which coalesces text naturally, and can stop at any moment: `cancel()` shuts the socket down
(closing it from another thread would not wake a blocked read) so the reader ends at once and
the connection is discarded rather than returned to the pool half-read. Because the reader is a
daemon thread outside any executor, even a request still waiting for its first byte can never
hold up the app's exit.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from tui_chat.bedrock.errors import BedrockError, from_exception
from tui_chat.bedrock.events import (
    Event,
    Failure,
    RedactedThinking,
    Stop,
    TextDelta,
    ThinkingDelta,
    ThinkingSignature,
    Usage,
)
from tui_chat.bedrock.formats import Ending, Prepared, parser_for
from tui_chat.sanitize import storable

log = logging.getLogger("tui_chat.bedrock")
_DONE = object()


class StreamHandle:
    """One request in flight. Create with `start()`; read with `batches()` or `events()`."""

    def __init__(
        self, client: Any, prepared: Prepared, clock: Callable[[], float] = time.monotonic
    ):
        self.prepared = prepared
        self._client = client
        self._clock = clock
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._cancelled = threading.Event()
        self._finished = threading.Event()
        self._lock = threading.Lock()
        self._stream: Any = None
        self._socket: socket.socket | None = None
        self._thread = threading.Thread(
            target=self._run, name=f"bedrock-stream-{prepared.model_id}", daemon=True
        )
        self.started_at = 0.0
        self.first_token_at: float | None = None
        self.first_thinking_at: float | None = None

    def start(self) -> StreamHandle:
        self.started_at = self._clock()
        self._thread.start()
        return self

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    @property
    def finished(self) -> bool:
        return self._finished.is_set()

    def cancel(self) -> None:
        """Stop the request now, from any thread. Safe to call more than once."""
        self._cancelled.set()
        with self._lock:
            sock = self._socket
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the reader thread to end; True if it did."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # -- reading -------------------------------------------------------------------------------

    def batches(self, wait: float = 0.05) -> Iterator[list[Event]]:
        """Lists of events: each waits up to `wait` seconds for the first event, then takes
        everything already queued. An empty list means nothing arrived (check for cancel).
        Ends after a Stop or a Failure, or once cancelled."""
        while not self.cancelled:
            batch: list[Event] = []
            try:
                item = self._queue.get(timeout=wait)
            except queue.Empty:
                yield batch
                continue
            done = False
            while True:
                if item is _DONE:
                    done = True
                    break
                batch.append(item)
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if batch:
                yield batch
            if done or any(isinstance(e, Stop | Failure) for e in batch):
                return

    def events(self, wait: float = 0.05) -> Iterator[Event]:
        """Events one by one (blocking), until the end of the reply or cancellation."""
        for batch in self.batches(wait):
            yield from batch

    # -- the reader thread ---------------------------------------------------------------------

    def _elapsed_ms(self, since: float) -> int:
        return max(0, round((self._clock() - since) * 1000))

    def _thinking_ms(self) -> int | None:
        """From the first thinking to the first word of the answer (or the end)."""
        if self.first_thinking_at is None:
            return None
        until = self.first_token_at if self.first_token_at is not None else self._clock()
        return max(0, round((until - self.first_thinking_at) * 1000))

    def _run(self) -> None:
        prepared = self.prepared
        ending: Ending | None = None
        try:
            method, kwargs = prepared.boto3_call()
            log.debug("request %s model=%s", prepared.operation, prepared.model_id)
            response = getattr(self._client, method)(**kwargs)
            stream = response.get("body") if "body" in response else response.get("stream")
            with self._lock:
                self._stream = stream
                self._socket = _socket_of(stream)
            if self.cancelled:
                return
            for item in parser_for(prepared)(stream):
                if self.cancelled:
                    return
                if isinstance(item, TextDelta):
                    if self.first_token_at is None:
                        self.first_token_at = self._clock()
                    self._queue.put(TextDelta(storable(item.text)))
                elif isinstance(item, ThinkingDelta):
                    if self.first_thinking_at is None:
                        self.first_thinking_at = self._clock()
                    self._queue.put(ThinkingDelta(storable(item.text)))
                elif isinstance(item, ThinkingSignature | RedactedThinking):
                    if self.first_thinking_at is None:
                        self.first_thinking_at = self._clock()
                    self._queue.put(item)
                else:
                    ending = item
            if self.cancelled:
                return
            if ending is None:
                raise BedrockError(
                    "connection_lost", detail="the stream ended before the reply finished"
                )
            first = (
                None
                if self.first_token_at is None
                else max(0, round((self.first_token_at - self.started_at) * 1000))
            )
            usage = Usage(
                input_tokens=ending.input_tokens,
                output_tokens=ending.output_tokens,
                latency_ms=self._elapsed_ms(self.started_at),
                first_token_ms=first,
                cache_read_tokens=ending.cache_read_tokens,
                cache_write_tokens=ending.cache_write_tokens,
                thinking_ms=self._thinking_ms(),
            )
            log.debug(
                "stop %s in=%d out=%d ms=%d",
                ending.reason,
                usage.input_tokens,
                usage.output_tokens,
                usage.latency_ms,
            )
            self._queue.put(Stop(ending.reason, ending.stop_sequence, usage, ending.raw_reason))
        except BaseException as error:
            if not self.cancelled:
                mapped = from_exception(error, prepared.model_id)
                log.debug("failure %s (%s)", mapped.kind, type(error).__name__)
                self._queue.put(Failure(mapped))
        finally:
            self._close()
            self._finished.set()
            self._queue.put(_DONE)

    def _close(self) -> None:
        with self._lock:
            stream, sock = self._stream, self._socket
            self._stream = self._socket = None
        if stream is None:
            return
        if self.cancelled and sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(Exception):
            stream.close()


def _socket_of(stream: Any) -> socket.socket | None:
    """The TCP socket under a botocore EventStream (urllib3 2.x response internals)."""
    raw = getattr(stream, "_raw_stream", None)
    for path in (("_connection", "sock"), ("_fp", "fp", "raw", "_sock")):
        target = raw
        for attribute in path:
            target = getattr(target, attribute, None)
            if target is None:
                break
        if isinstance(target, socket.socket):
            return target
    return None
