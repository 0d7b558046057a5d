"""Fault injection: what can go wrong, configured per server, never by words in a prompt."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from tui_chat.emulator.errors import END_OF_LIFE, ApiError

# kind -> (error code, default message). Answered as a rest-json error before any stream starts.
BEFORE_STREAM: dict[str, tuple[str, str]] = {
    "throttling": ("ThrottlingException", "Too many requests, please wait before trying again."),
    "access_denied": (
        "AccessDeniedException",
        "You don't have access to the model with the specified model ID.",
    ),
    "validation": (
        "ValidationException",
        "Malformed input request, please reformat your input and try again.",
    ),
    "not_found": (
        "ResourceNotFoundException",
        "Model use case details have not been submitted for this account. Fill out the Anthropic "
        "use case details form before using the model.",
    ),
    "context_too_long": ("ValidationException", "Input is too long for requested model."),
    "model_timeout": (
        "ModelTimeoutException",
        "Model has timed out in processing the request. Try your request again.",
    ),
    "service_unavailable": (
        "ServiceUnavailableException",
        "Bedrock is unable to process your request.",
    ),
    "internal": (
        "InternalServerException",
        "The system encountered an unexpected error during processing. Try your request again.",
    ),
    # What a retired model answers (catalog ``eol``): lets a test retire any model for a while.
    "end_of_life": ("ResourceNotFoundException", END_OF_LIFE),
}

# kind -> (event-stream :exception-type, default message). Sent as an exception frame mid-stream.
IN_STREAM: dict[str, tuple[str, str]] = {
    "stream_model_error": (
        "modelStreamErrorException",
        "The model returned an error while streaming its response: Overloaded",
    ),
    "stream_throttling": (
        "throttlingException",
        "Too many tokens, please wait before trying again.",
    ),
    "stream_unavailable": (
        "serviceUnavailableException",
        "Bedrock is unable to process your request.",
    ),
}

# Faults that shape a stream without ending it with an error frame.
STREAM_SHAPING = ("cut", "stall", "malformed_chunk", "bad_json_chunk", "unknown_event")
# Faults that apply to any inference request, streamed or not. ``redacted_thinking`` is only
# taken by a request whose reply thinks (it makes that thinking block a redacted one).
ANY_REQUEST = ("long_reply", "slow_first_byte", "scripted_reply", "redacted_thinking")

KINDS: tuple[str, ...] = (*BEFORE_STREAM, *IN_STREAM, *STREAM_SHAPING, *ANY_REQUEST)

STREAMING_OPERATIONS = ("InvokeModelWithResponseStream", "ConverseStream")
INFERENCE_OPERATIONS = (*STREAMING_OPERATIONS, "InvokeModel", "Converse")


@dataclass(eq=False)
class Fault:
    """One injected failure, used up after ``times`` requests (``None``: forever).

    - ``model`` restricts it to requests naming that model id (as sent, or its base model).
    - ``operation`` (an addition to the core API) restricts it to one operation name; by default
      a fault matches inference operations only (stream-only kinds: streaming operations only),
      so model listing in the same run is not disturbed. Set it to ``"ListFoundationModels"``
      or ``"ListInferenceProfiles"`` to make a before-the-stream kind fail those.
    - ``message`` (an addition) overrides the default error message.
    - ``text`` is the exact reply for ``scripted_reply`` (tests of hostile model output): it is
      streamed word by word and still cut by max tokens and stop sequences.
    - ``after_tokens`` counts output tokens, thinking included (hidden thinking too).
    - ``end_of_life`` answers the 404 of a retired model; give it a ``model`` (and
      ``times=None``) to retire one model without changing the catalogue.
    - A ``stall`` lasts ``seconds`` or until ``release()`` is called, whichever comes first, so
      a test can hold a reply open while it acts and then let it finish, without racing a
      token rate on a slow machine.
    """

    kind: str
    after_tokens: int = 0
    times: int | None = 1
    seconds: float = 0.0
    tokens: int = 0
    model: str | None = None
    operation: str | None = None
    message: str | None = None
    text: str = ""
    used: int = field(default=0, init=False)
    _released: threading.Event = field(default_factory=threading.Event, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(
                f"unknown fault kind {self.kind!r}; expected one of {', '.join(KINDS)}"
            )
        if self.times is not None and self.times < 1:
            raise ValueError("times must be at least 1 (or None for forever)")
        if self.after_tokens < 0 or self.tokens < 0 or self.seconds < 0:
            raise ValueError("after_tokens, tokens and seconds must not be negative")

    def release(self) -> None:
        """End a ``stall`` now (and any later use of this fault at once)."""
        self._released.set()

    def wait_released(self, seconds: float) -> bool:
        """Block up to ``seconds`` for ``release()``; True when released."""
        return self._released.wait(seconds)

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.used >= self.times

    def matches(self, operation: str, model_ids: tuple[str, ...]) -> bool:
        if self.model is not None and self.model not in model_ids:
            return False
        if self.operation is not None:
            return operation == self.operation
        if self.kind in IN_STREAM or self.kind in STREAM_SHAPING:
            return operation in STREAMING_OPERATIONS
        return operation in INFERENCE_OPERATIONS

    def api_error(self) -> ApiError:
        code, message = BEFORE_STREAM[self.kind]
        return ApiError(code, self.message or message)

    def stream_exception(self) -> tuple[str, dict]:
        exception_type, message = IN_STREAM[self.kind]
        payload: dict = {"message": self.message or message}
        if self.kind == "stream_model_error":
            payload["originalStatusCode"] = 529
            payload["originalMessage"] = "Overloaded"
        return exception_type, payload


TERMINAL = (*IN_STREAM, "cut", "malformed_chunk")


def _group(kind: str) -> str:
    if kind in BEFORE_STREAM:
        return "error"
    if kind in TERMINAL:
        return "terminal"
    return kind


class FaultBook:
    """The faults armed on one server. Taking a fault for a request uses it up atomically."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def active(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def take(
        self, kinds: tuple[str, ...], operation: str, model_ids: tuple[str, ...]
    ) -> list[Fault]:
        """Use up the first matching fault of each kind in ``kinds`` (in the order added).

        At most one before-the-stream error is taken, and at most one stream-ending fault
        (an in-stream exception, ``cut`` or ``malformed_chunk``): the first that matches.
        """
        taken: list[Fault] = []
        seen: set[str] = set()
        with self._lock:
            for fault in self._faults:
                if fault.kind not in kinds or not fault.matches(operation, model_ids):
                    continue
                group = _group(fault.kind)
                if group in seen:
                    continue
                seen.add(group)
                fault.used += 1
                taken.append(fault)
            self._faults = [f for f in self._faults if not f.exhausted]
        return taken
