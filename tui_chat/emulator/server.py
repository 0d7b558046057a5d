"""The HTTP side: a threaded server on loopback that answers like bedrock-runtime and bedrock."""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import logging
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tui_chat.emulator import catalog, errors
from tui_chat.emulator import eventstream as es
from tui_chat.emulator.caching import InputUsage, PromptCache
from tui_chat.emulator.demo_model import Reply, generate
from tui_chat.emulator.encoders import Metrics, response_body, stream_encoder
from tui_chat.emulator.errors import ApiError, validation
from tui_chat.emulator.faults import (
    ANY_REQUEST,
    BEFORE_STREAM,
    IN_STREAM,
    STREAM_SHAPING,
    Fault,
    FaultBook,
)
from tui_chat.emulator.parsing import Job, parse_converse, parse_invoke

log = logging.getLogger("tui_chat.emulator")

RUNTIME_OPERATIONS = {
    "invoke": "InvokeModel",
    "invoke-with-response-stream": "InvokeModelWithResponseStream",
    "converse": "Converse",
    "converse-stream": "ConverseStream",
}
STREAMING = {"InvokeModelWithResponseStream", "ConverseStream"}
_BATCH_BYTES = 16 * 1024  # at full speed, frames are coalesced into HTTP chunks up to this size


@dataclass
class RecordedRequest:
    """One request as the emulator received it."""

    operation: str  # InvokeModelWithResponseStream | InvokeModel | ConverseStream | Converse
    #                 | ListFoundationModels | ListInferenceProfiles | GetFoundationModel | ...
    model_id: str  # URL-decoded model id from the path ("" for control-plane calls)
    body: dict | None  # the parsed JSON body (None if no body / unparseable)
    headers: dict[str, str]
    # The operation and what the demo model saw of the request (``Prompt.fingerprint``; ""
    # when nothing): identical requests in the log word their replies differently.
    fingerprint: str = field(default="", repr=False, compare=False)


class _Aborted(Exception):
    """The server is stopping or the client went away: drop the connection quietly."""


class Emulator:
    """A local Bedrock (runtime and control plane) on loopback, for real boto3 clients.

    ``tokens_per_second`` None or 0 streams at full speed (no sleeps at all); otherwise the first
    token comes ``first_token_delay`` seconds after the response headers and the rest at that
    rate (thinking tokens too, shown or not). Use as a context manager, or ``start()`` /
    ``stop()``.

    The prompt cache lives as long as the server: ``clear_cache()`` forgets it, and
    ``advance_cache_clock()`` ages it so that expiry can be tested without waiting.
    """

    def __init__(
        self,
        tokens_per_second: float | None = 40.0,
        first_token_delay: float = 0.4,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.tokens_per_second = tokens_per_second
        self.first_token_delay = first_token_delay
        self.host = host
        self.port = port
        self.requests: list[RecordedRequest] = []
        self._requests_lock = threading.Lock()
        self._faults = FaultBook()
        self._cache = PromptCache()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle

    def start(self) -> Emulator:
        if self._server is not None:
            return self
        server = _Server((self.host, self.port), _Handler, self)
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"bedrock-emulator:{self.port}",
            daemon=True,
        )
        self._thread.start()
        log.info("Bedrock emulator listening on %s", self.url)
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server = None
        self._thread = None
        server.stopping.set()
        server.shutdown()
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not running; call start() first")
        return f"http://{self.host}:{self.port}"

    # -- faults

    def add_fault(self, fault: Fault) -> Fault:
        self._faults.add(fault)
        return fault

    def clear_faults(self) -> None:
        self._faults.clear()

    @property
    def faults(self) -> list[Fault]:
        """The faults still armed (a copy), in the order they were added."""
        return self._faults.active()

    # -- prompt cache

    def clear_cache(self) -> None:
        """Forget every cached prompt prefix (the next request with cache points writes)."""
        self._cache.clear()

    def advance_cache_clock(self, seconds: float) -> None:
        """Age the prompt cache by ``seconds`` (entries live 5 minutes, or an hour)."""
        self._cache.advance(seconds)

    @property
    def cached_prefixes(self) -> int:
        """How many prompt prefixes are cached and not expired."""
        return len(self._cache)

    # -- internals used by the handler

    def _record(self, request: RecordedRequest) -> None:
        with self._requests_lock:
            self.requests.append(request)

    def _variant(self, request: RecordedRequest, fingerprint: str) -> int:
        """How many requests in the log before ``request`` were the same request: the demo
        model words the reply differently for each (regenerate gives a new reply), while a
        log cleared (as tests do) starts again from the first wording."""
        with self._requests_lock:
            request.fingerprint = fingerprint
            earlier = itertools.takewhile(lambda r: r is not request, self.requests)
            return sum(1 for r in earlier if r.fingerprint == fingerprint)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() must not wait for open keep-alive connections
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], handler: type, emulator: Emulator) -> None:
        self.emulator = emulator
        self.stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def track(self, conn: socket.socket, add: bool) -> None:
        with self._connections_lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("error while serving %s", client_address, exc_info=True)


def _auth_region(headers: Any) -> str:
    """Check the Authorization header the way AWS's front door does; return the signing region.

    Signatures are not verified (the emulator knows no secrets), only their shape.
    """
    auth = (headers.get("Authorization") or "").strip()
    if not auth:
        raise ApiError("MissingAuthenticationTokenException", "Missing Authentication Token")
    if auth.startswith("Bearer "):
        if not auth[7:].strip():
            raise ApiError("IncompleteSignatureException", "Authorization header is malformed.")
        return catalog.DEFAULT_REGION
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        raise ApiError(
            "IncompleteSignatureException",
            "Authorization header requires 'Credential' parameter. Authorization header requires "
            "'Signature' parameter. Authorization header requires 'SignedHeaders' parameter.",
        )
    params: dict[str, str] = {}
    for part in auth[len("AWS4-HMAC-SHA256 ") :].split(","):
        key, sep, value = part.strip().partition("=")
        if sep:
            params[key] = value
    problems = [
        f"Authorization header requires '{key}' parameter."
        for key in ("Credential", "Signature", "SignedHeaders")
        if not params.get(key)
    ]
    if not headers.get("X-Amz-Date") and not headers.get("Date"):
        problems.append(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        )
    if problems:
        raise ApiError("IncompleteSignatureException", " ".join(problems))
    scope = params["Credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request" or not scope[2]:
        raise ApiError(
            "IncompleteSignatureException",
            "Credential should be scoped to a valid region, not ''.",
        )
    if scope[3] != "bedrock":
        raise ApiError(
            "InvalidSignatureException",
            "Credential should be scoped to correct service: 'bedrock'.",
        )
    return scope[2]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "tui-chat-bedrock-emulator"
    server: _Server

    def version_string(self) -> str:
        return self.server_version

    # -- plumbing

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)

    @property
    def emulator(self) -> Emulator:
        return self.server.emulator

    def _wait(self, seconds: float) -> None:
        """Sleep, but wake up (and abort) at once when the server stops."""
        if seconds > 0 and self.server.stopping.wait(seconds):
            raise _Aborted
        if self.server.stopping.is_set():
            raise _Aborted

    def _stall(self, fault: Fault) -> None:
        """Hold the stream for the fault's seconds, until it is released or the server stops."""
        deadline = time.monotonic() + fault.seconds
        while not fault.wait_released(min(0.05, max(0.0, deadline - time.monotonic()))):
            if time.monotonic() >= deadline:
                break
            self._wait(0)
        self._wait(0)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(data)
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        raw = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.send_header("x-amzn-RequestId", self.request_id)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(raw)

    def _send_error(self, error: ApiError) -> None:
        log.info("-> %s: %s", error.code, error.message)
        self._send_json(error.status, error.body(), {"x-amzn-ErrorType": error.error_type_header})

    # -- dispatch

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _route(self, method: str) -> tuple[str, str, str] | None:
        """(operation, model id or resource id, kind) for a request line, or None."""
        split = urlsplit(self.path)
        parts = [unquote(p) for p in split.path.split("/")[1:]]
        if method == "POST" and len(parts) == 3 and parts[0] == "model" and parts[1]:
            operation = RUNTIME_OPERATIONS.get(parts[2])
            if operation:
                return operation, parts[1], "runtime"
        if method == "GET" and parts == ["foundation-models"]:
            return "ListFoundationModels", "", "control"
        if method == "GET" and parts == ["inference-profiles"]:
            return "ListInferenceProfiles", "", "control"
        if method == "GET" and len(parts) == 2 and parts[1]:
            if parts[0] == "foundation-models":
                return "GetFoundationModel", parts[1], "control"
            if parts[0] == "inference-profiles":
                return "GetInferenceProfile", parts[1], "control"
        return None

    def _dispatch(self, method: str) -> None:
        self.request_id = str(uuid.uuid4())
        started = time.monotonic()
        try:
            raw = self._read_body()
            route = self._route(method)
            if route is None:
                self._send_error(ApiError("UnknownOperationException", "Unknown operation."))
                return
            operation, ident, kind = route
            body = None
            if raw:
                try:
                    parsed = json.loads(raw.decode("utf-8"))
                    body = parsed if isinstance(parsed, dict) else None
                except (UnicodeDecodeError, ValueError):
                    body = None
            self.recorded = RecordedRequest(
                operation=operation,
                model_id=ident if kind == "runtime" else "",
                body=body,
                headers=dict(self.headers.items()),
            )
            self.emulator._record(self.recorded)
            try:
                region = _auth_region(self.headers)
                if kind == "runtime":
                    self._runtime(operation, ident, raw, started)
                else:
                    self._control(operation, ident, region)
            except ApiError as error:
                self._send_error(error)
        except _Aborted:
            self.close_connection = True
        except (ConnectionError, TimeoutError, OSError) as exc:
            log.debug("connection dropped: %s", exc)
            self.close_connection = True

    # -- faults

    def _before(self, operation: str, model_ids: tuple[str, ...]) -> None:
        """Apply ``slow_first_byte`` and any before-the-stream error fault."""
        faults = self.emulator._faults.take(
            (*BEFORE_STREAM, "slow_first_byte"), operation, model_ids
        )
        for fault in faults:
            if fault.kind == "slow_first_byte":
                log.info("fault: slow_first_byte %.2fs", fault.seconds)
                self._wait(fault.seconds)
        for fault in faults:
            if fault.kind in BEFORE_STREAM:
                log.info("fault: %s", fault.kind)
                raise fault.api_error()

    # -- runtime

    def _runtime(self, operation: str, model_id: str, raw: bytes, started: float) -> None:
        resolved = catalog.resolve(model_id)
        model_ids = (model_id, resolved.model.model_id) if resolved else (model_id,)
        self._before(operation, model_ids)
        if resolved is None:
            raise validation(errors.INVALID_MODEL)
        model = resolved.model
        if model.eol:
            raise ApiError("ResourceNotFoundException", errors.END_OF_LIFE)
        if resolved.profile is None and not model.on_demand:
            raise validation(
                f"Invocation of model ID {model.model_id} with on-demand throughput isn’t "
                "supported. Retry your request with the ID or ARN of an inference profile that "
                "contains this model."
            )
        if operation in ("Converse", "ConverseStream"):
            job = parse_converse(model, raw)
        else:
            job = parse_invoke(model, raw, streaming=operation in STREAMING)
        kinds: tuple[str, ...] = (*IN_STREAM, *STREAM_SHAPING, *ANY_REQUEST)
        if job.prompt is None or not job.prompt.thinks:
            kinds = tuple(k for k in kinds if k != "redacted_thinking")  # nothing to redact
        faults = self.emulator._faults.take(kinds, operation, model_ids)
        long_reply = next((f for f in faults if f.kind == "long_reply"), None)
        scripted = next((f for f in faults if f.kind == "scripted_reply"), None)
        reply = None
        if job.prompt is not None:
            fingerprint = f"{operation} {job.prompt.fingerprint()}"
            job.prompt.variant = self.emulator._variant(self.recorded, fingerprint)
            reply = generate(
                job.prompt,
                long_reply.tokens if long_reply else None,
                scripted.text if scripted else None,
            )
            reply.redacted = any(f.kind == "redacted_thinking" for f in faults)
        total = job.prompt.input_tokens if job.prompt else 0
        usage = self.emulator._cache.account(model, total, job.cache_points)
        if operation in STREAMING:
            assert reply is not None
            self._stream(job, reply, usage, faults, started)
        else:
            self._respond(operation, job, reply, usage, started)

    def _metrics(
        self, usage: InputUsage, reply: Reply | None, started: float, first: float
    ) -> Metrics:
        now = time.monotonic()
        return Metrics(
            input_tokens=usage.input_tokens,
            output_tokens=reply.output_tokens if reply else 0,
            invocation_latency_ms=round((now - started) * 1000),
            first_byte_latency_ms=round((first - started) * 1000),
            cache_read_tokens=usage.cache_read,
            cache_write_tokens=usage.cache_write,
            caching=usage.caching,
        )

    def _respond(
        self,
        operation: str,
        job: Job,
        reply: Reply | None,
        usage: InputUsage,
        started: float,
    ) -> None:
        emu = self.emulator
        tps = emu.tokens_per_second or 0.0
        if tps > 0 and reply is not None:
            self._wait(emu.first_token_delay + reply.output_tokens / tps)
        metrics = self._metrics(usage, reply, started, time.monotonic())
        body = response_body(job, reply, metrics)
        headers = {}
        if operation == "InvokeModel":
            headers = {
                "X-Amzn-Bedrock-Invocation-Latency": str(metrics.invocation_latency_ms),
                "X-Amzn-Bedrock-Input-Token-Count": str(metrics.input_tokens),
                "X-Amzn-Bedrock-Output-Token-Count": str(metrics.output_tokens),
            }
            if metrics.caching:
                headers["X-Amzn-Bedrock-Cache-Read-Input-Token-Count"] = str(
                    metrics.cache_read_tokens
                )
                headers["X-Amzn-Bedrock-Cache-Write-Input-Token-Count"] = str(
                    metrics.cache_write_tokens
                )
        self._send_json(200, body, headers)

    def _stream(
        self,
        job: Job,
        reply: Reply,
        usage: InputUsage,
        faults: list[Fault],
        started: float,
    ) -> None:
        emu = self.emulator
        tps = emu.tokens_per_second or 0.0  # read once: tests may change it between requests
        full_speed = tps <= 0
        encoder = stream_encoder(job, reply, self._metrics(usage, None, started, started))
        tokens = [*reply.thinking, *reply.tokens]  # every output token, thinking first
        n = len(tokens)

        def at(kind_set: tuple[str, ...]) -> Fault | None:
            return next((f for f in faults if f.kind in kind_set), None)

        terminal = at((*IN_STREAM, "cut", "malformed_chunk"))
        stall = at(("stall",))
        unknown = at(("unknown_event",))
        bad_json = at(("bad_json_chunk",))

        def position(fault: Fault | None) -> int:
            return -1 if fault is None else min(fault.after_tokens, n)

        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.amazon.eventstream")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("x-amzn-RequestId", self.request_id)
        if job.fmt != "converse":
            self.send_header("X-Amzn-Bedrock-Content-Type", "application/json")
        self.end_headers()

        out = _ChunkWriter(self.wfile, batch=full_speed)
        base = time.monotonic()
        if not full_speed:
            self._wait(emu.first_token_delay)
            base = time.monotonic()
        first_byte = time.monotonic()
        for frame in encoder.start():
            out.send(frame)
        for i in range(n + 1):
            if position(unknown) == i:
                for frame in encoder.unknown():
                    out.send(frame)
            if position(bad_json) == i:
                out.send(encoder.bad_json())
            if position(stall) == i and stall is not None:
                out.flush()
                log.info("fault: stall %.2fs after %d tokens", stall.seconds, i)
                self._stall(stall)
                base = time.monotonic() - (i / tps if tps else 0.0)
            if terminal is not None and position(terminal) == i:
                self._terminate(out, encoder, terminal, tokens[i] if i < n else "", i)
                return
            if i == n:
                break
            if not full_speed and i > 0:
                self._wait(base + i / tps - time.monotonic())
            for frame in encoder.step(i):
                out.send(frame)
            if i == 0:
                first_byte = time.monotonic()
        for frame in encoder.finish(self._metrics(usage, reply, started, first_byte)):
            out.send(frame)
        out.end()

    def _terminate(self, out: _ChunkWriter, encoder: Any, fault: Fault, text: str, i: int) -> None:
        log.info("fault: %s after %d tokens", fault.kind, i)
        if fault.kind == "cut":
            out.flush()
            frame = encoder.token(text or "cut", i + 1)
            # Announce a whole frame, send half of it, and hang up: the body ends mid-chunk.
            self.wfile.write(b"%X\r\n" % len(frame) + frame[: len(frame) // 2])
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            raise _Aborted
        if fault.kind == "malformed_chunk":
            out.send(encoder.corrupt(text or "corrupt", i + 1))
        else:
            exception_type, payload = fault.stream_exception()
            out.send(es.exception(exception_type, payload))
        out.end()

    # -- control plane

    def _control(self, operation: str, ident: str, region: str) -> None:
        self._before(operation, ())
        query = {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}
        if operation == "ListFoundationModels":
            self._send_json(200, {"modelSummaries": _list_models(query, region)})
        elif operation == "ListInferenceProfiles":
            self._send_json(200, _list_profiles(query, region))
        elif operation == "GetFoundationModel":
            resolved = catalog.resolve(ident)
            if resolved is None or resolved.profile is not None or resolved.model.eol:
                raise validation(errors.INVALID_MODEL)
            summary = catalog.foundation_model_summary(resolved.model, region)
            self._send_json(200, {"modelDetails": summary})
        else:  # GetInferenceProfile
            resolved = catalog.resolve(ident)
            if resolved is None or resolved.profile is None:
                raise ApiError(
                    "ResourceNotFoundException", "The specified inference profile doesn't exist."
                )
            self._send_json(200, catalog.inference_profile_summary(resolved.profile, region))


def _enum(query: dict[str, str], key: str, allowed: tuple[str, ...]) -> str | None:
    value = query.get(key)
    if value is not None and value not in allowed:
        raise validation(
            f"1 validation error detected: Value '{value}' at '{key}' failed to satisfy "
            f"constraint: Member must satisfy enum value set: [{', '.join(allowed)}]"
        )
    return value


def _list_models(query: dict[str, str], region: str) -> list[dict[str, Any]]:
    provider = query.get("byProvider")
    modality = _enum(query, "byOutputModality", ("TEXT", "IMAGE", "EMBEDDING"))
    inference = _enum(query, "byInferenceType", ("ON_DEMAND", "PROVISIONED"))
    customization = _enum(
        query, "byCustomizationType", ("FINE_TUNING", "CONTINUED_PRE_TRAINING", "DISTILLATION")
    )
    out = []
    for model in catalog.MODELS:
        if model.eol:
            continue  # retired: gone from the listing, though the runtime still knows the id
        if provider and provider.lower() not in (
            model.provider.lower(),
            model.model_id.split(".", 1)[0],
        ):
            continue
        if modality and modality not in model.output_modalities:
            continue
        if inference and inference not in model.inference_types:
            continue
        if customization and customization not in model.customizations:
            continue
        out.append(catalog.foundation_model_summary(model, region))
    return out


def _list_profiles(query: dict[str, str], region: str) -> dict[str, Any]:
    kind = _enum(query, "type", ("SYSTEM_DEFINED", "APPLICATION"))
    geographies = catalog.geographies_for_region(region)
    profiles = [
        p
        for p in catalog.PROFILES
        if p.geography in geographies and kind in (None, "SYSTEM_DEFINED")
    ]
    try:
        limit = int(query.get("maxResults", "1000"))
    except ValueError:
        limit = 0
    if not 1 <= limit <= 1000:
        raise validation(
            f"1 validation error detected: Value '{query.get('maxResults')}' at 'maxResults' "
            "failed to satisfy constraint: Member must have value between 1 and 1000"
        )
    offset = 0
    if query.get("nextToken"):
        try:
            offset = int(base64.b64decode(query["nextToken"]).decode("ascii"))
        except (ValueError, binascii.Error):
            raise validation("The pagination token is invalid.") from None
    page = profiles[offset : offset + limit]
    body: dict[str, Any] = {
        "inferenceProfileSummaries": [catalog.inference_profile_summary(p, region) for p in page]
    }
    if offset + limit < len(profiles):
        body["nextToken"] = base64.b64encode(str(offset + limit).encode("ascii")).decode("ascii")
    return body


class _ChunkWriter:
    """Writes event-stream frames as HTTP/1.1 chunks.

    Paced streams send every frame as its own chunk the moment it exists. At full speed frames
    are coalesced into chunks of up to 16 KiB (still one frame per token, and flushed before any
    pause or fault), which keeps a 40,000-token reply fast for the client to drain.
    """

    def __init__(self, wfile: Any, *, batch: bool) -> None:
        self._wfile = wfile
        self._batch = batch
        self._buffer = bytearray()

    def send(self, frame: bytes) -> None:
        if not self._batch:
            self._write(frame)
            return
        self._buffer += frame
        if len(self._buffer) >= _BATCH_BYTES:
            self.flush()

    def flush(self) -> None:
        if self._buffer:
            self._write(bytes(self._buffer))
            self._buffer.clear()

    def end(self) -> None:
        self.flush()
        self._wfile.write(b"0\r\n\r\n")

    def _write(self, data: bytes) -> None:
        self._wfile.write(b"%X\r\n%s\r\n" % (len(data), data))
