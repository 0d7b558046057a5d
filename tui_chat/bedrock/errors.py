"""botocore and urllib3 failures turned into one BedrockError with a message for people.

Every failure, wherever it happens (before the stream as a modelled ClientError, inside it as an
EventStreamError, or as a broken connection), becomes a BedrockError with a `kind`, a one-line
`user_message` that says what happened and what to do, and whether retrying makes sense.
Nothing here imports botocore at module level: it is matched by class name and module, so the
UI can import this module without paying for boto3 at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui_chat.aws import redact

# kind -> (what happened, what to do, worth retrying)
_KINDS: dict[str, tuple[str, str, bool]] = {
    "throttled": (
        "Bedrock is throttling requests (too many requests or tokens right now)",
        "wait a moment and retry",
        True,
    ),
    "overloaded": (
        "the model is overloaded or Bedrock is unavailable",
        "retry in a moment",
        True,
    ),
    "access_denied": (
        "access denied to this model",
        "enable it under Model access in the Bedrock console for this region, "
        "or check your IAM permissions (bedrock:InvokeModelWithResponseStream)",
        False,
    ),
    "not_found": (
        "the model was not found in this region",
        "check the model id, the region, or use an inference profile id such as us.…",
        False,
    ),
    "validation": ("Bedrock refused the request", "check the parameters and the model", False),
    "refused": (
        "Bedrock refused a parameter for this model",
        "it is left out from now on: send again (ctrl+r in the app)",
        False,
    ),
    "end_of_life": (
        "this model has reached the end of its life on Bedrock",
        "switch to a current model",
        False,
    ),
    "context_too_long": (
        "the conversation is too long for the model's context window",
        "start a new conversation (ctrl+n) or pick a model with a larger context",
        False,
    ),
    "timeout": (
        "the model took too long to answer",
        "retry, perhaps with fewer max tokens",
        True,
    ),
    "read_timeout": (
        "the stream stalled: no data arrived within the read timeout",
        "retry; the partial reply is kept",
        True,
    ),
    "connection_lost": (
        "the connection to Bedrock dropped mid-reply",
        "retry; the partial reply is kept",
        True,
    ),
    "connection_failed": (
        "could not connect to Bedrock",
        "check your network, proxy and the region",
        True,
    ),
    "bad_response": (
        "Bedrock sent a response that could not be read",
        "retry; the partial reply is kept",
        True,
    ),
    "bad_credentials": (
        "an AWS credential in the environment is malformed",
        "remove the stray space, line break or control character from it and try again",
        False,
    ),
    "credentials": (
        "AWS refused the credentials (invalid or expired)",
        "refresh them (aws sso login, new keys or session token) and retry",
        False,
    ),
    "no_credentials": (
        "no AWS credentials were found",
        "set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or AWS_ACCESS_KEY/AWS_SECRET_KEY), "
        "AWS_PROFILE or AWS_BEARER_TOKEN_BEDROCK, or run with --demo",
        False,
    ),
    "bad_region": (
        "the AWS region name is not valid",
        "use a region such as us-east-1 (--region, AWS_REGION or [bedrock] region in config.toml)",
        False,
    ),
    "bad_endpoint": (
        "the endpoint settings cannot be used",
        "check AWS_ENDPOINT_URL_BEDROCK_RUNTIME (a bearer token needs an https:// endpoint; "
        "keys work with either)",
        False,
    ),
    "no_region": (
        "no AWS region is set",
        "set AWS_REGION, pass --region, or set [bedrock] region in config.toml",
        False,
    ),
    "model_error": ("the model failed to produce a reply", "retry", True),
    "unknown": ("the request failed", "retry, or run with --debug and check the log", True),
}

KINDS = tuple(_KINDS)


@dataclass
class BedrockError(Exception):
    """A failure talking to Bedrock, ready to show: `user_message` is one line. A refusal
    (`refused`) names the rules it teaches (see refusals.py); the end of a model's life
    names a current `replacement`."""

    kind: str
    detail: str = ""
    code: str = ""
    model: str = ""
    refused: tuple[str, ...] = ()
    replacement: str = ""

    def __post_init__(self) -> None:
        # Library messages can quote request headers or settings: no credential is ever kept
        # in an error that is shown, saved in a session or logged.
        self.detail = redact(self.detail)
        super().__init__(self.user_message)

    @property
    def retryable(self) -> bool:
        return _KINDS.get(self.kind, _KINDS["unknown"])[2]

    @property
    def summary(self) -> str:
        return _KINDS.get(self.kind, _KINDS["unknown"])[0]

    @property
    def advice(self) -> str:
        return _KINDS.get(self.kind, _KINDS["unknown"])[1]

    @property
    def user_message(self) -> str:
        what = self.summary
        advice = self.advice
        detail = " ".join(self.detail.split())
        detail = detail.removeprefix("The model returned the following errors: ")
        if self.kind in ("access_denied", "not_found") and self.model:
            what = what.replace("this model", self.model).replace("the model", self.model)
        if self.kind == "refused" and self.refused:
            from tui_chat.bedrock.refusals import describe

            what = f"Bedrock refused {describe(list(self.refused))} for this model"
        if self.kind == "end_of_life":
            from tui_chat.bedrock.catalog import display_name

            detail = ""  # Bedrock's words say no more than ours
            if self.model:
                what = f"{display_name(self.model)} has reached the end of its life on Bedrock"
            if self.replacement:
                advice = (
                    f"switch to a current model, such as {display_name(self.replacement)} "
                    f"({self.replacement})"
                )
        if detail and detail.rstrip(".").lower() not in what.lower():
            if len(detail) > 300:
                detail = detail[:297] + "..."
            what = f"{what} ({detail.rstrip('.')})"
        return f"{what[:1].upper()}{what[1:]}: {advice}."

    def as_dict(self) -> dict[str, str]:
        """The `error` table of a session file."""
        data = {"kind": self.kind, "message": self.user_message}
        if self.refused:
            data["refused"] = ", ".join(self.refused)
        if self.replacement:
            data["replacement"] = self.replacement
        return data


_CODE_KINDS = {
    "throttlingexception": "throttled",
    "toomanyrequestsexception": "throttled",
    "servicequotaexceededexception": "throttled",
    "modelnotreadyexception": "overloaded",
    "serviceunavailableexception": "overloaded",
    "internalserverexception": "overloaded",
    "modelstreamerrorexception": "overloaded",
    "overloaded_error": "overloaded",
    "accessdeniedexception": "access_denied",
    "resourcenotfoundexception": "not_found",
    "validationexception": "validation",
    "modeltimeoutexception": "timeout",
    "modelerrorexception": "model_error",
    "unrecognizedclientexception": "credentials",
    "invalidsignatureexception": "credentials",
    "expiredtokenexception": "credentials",
    "missingauthenticationtokenexception": "credentials",
    "incompletesignatureexception": "credentials",
    "unauthorizedexception": "credentials",
}

_CONTEXT_HINTS = ("too long", "context window", "maximum context", "too many input tokens")


def _class_names(error: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(error).__mro__}


def from_code(code: str, message: str = "", model: str = "") -> BedrockError:
    """An error code from Bedrock (either casing) and its message, as a BedrockError."""
    kind = _CODE_KINDS.get(code.lower(), "unknown")
    lowered = message.lower()
    refused: tuple[str, ...] = ()
    replacement = ""
    if kind == "validation":
        from tui_chat.bedrock.refusals import refused_parameters

        refused = tuple(refused_parameters(message))
        if any(hint in lowered for hint in _CONTEXT_HINTS):
            kind = "context_too_long"
        elif "model identifier is invalid" in lowered:
            kind = "not_found"
        elif refused:
            kind = "refused"
    if "end of its life" in lowered or "end-of-life" in lowered:
        kind = "end_of_life"
        if model:
            from tui_chat.bedrock.catalog import replacement_for

            replacement = replacement_for(model) or ""
    return BedrockError(
        kind, detail=message, code=code, model=model, refused=refused, replacement=replacement
    )


def from_exception(error: BaseException, model: str = "") -> BedrockError:
    """Map any exception raised while calling or streaming from Bedrock."""
    if isinstance(error, BedrockError):
        return error
    names = _class_names(error)
    response = getattr(error, "response", None)
    if isinstance(response, dict) and "Error" in response:
        info = response.get("Error") or {}
        code = str(info.get("Code", ""))
        message = str(info.get("Message", "") or info.get("message", ""))
        return from_code(code, message, model)
    if "NoCredentialsError" in names or "PartialCredentialsError" in names:
        return BedrockError("no_credentials", model=model)
    if "NoRegionError" in names:
        return BedrockError("no_region", model=model)
    if "InvalidRegionError" in names:
        return BedrockError("bad_region", detail=str(error), model=model)
    if "InvalidEndpointConfigurationError" in names:
        return BedrockError("bad_endpoint", detail=str(error), model=model)
    if "ReadTimeoutError" in names or "TimeoutError" in names:
        return BedrockError("read_timeout", model=model)
    if "ConnectTimeoutError" in names or "EndpointConnectionError" in names:
        return BedrockError("connection_failed", detail=str(error), model=model)
    if names & {
        "ProtocolError",
        "ResponseStreamingError",
        "IncompleteRead",
        "IncompleteReadError",
        "ConnectionClosedError",
        "ConnectionResetError",
        "BrokenPipeError",
        "ConnectionError",
    }:
        return BedrockError("connection_lost", model=model)
    if names & {"ParserError", "ChecksumMismatch", "InvalidPayloadLength", "JSONDecodeError"}:
        return BedrockError("bad_response", detail=type(error).__name__, model=model)
    if "ParamError" in names or "ParamValidationError" in names:
        return BedrockError("validation", detail=str(error), model=model)
    return BedrockError("unknown", detail=f"{type(error).__name__}: {error}", model=model)
