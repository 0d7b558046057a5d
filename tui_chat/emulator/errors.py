"""rest-json errors as Bedrock sends them: HTTP status, ``x-amzn-ErrorType`` and ``{"message"}``."""

from __future__ import annotations

from typing import Any

# HTTP status of each modelled error (from botocore's service JSON for bedrock-runtime/bedrock),
# plus the two errors the API Gateway front door answers with before any service code runs.
STATUS: dict[str, int] = {
    "ValidationException": 400,
    "ServiceQuotaExceededException": 400,
    "AccessDeniedException": 403,
    "MissingAuthenticationTokenException": 403,
    "IncompleteSignatureException": 403,
    "InvalidSignatureException": 403,
    "UnrecognizedClientException": 403,
    "ResourceNotFoundException": 404,
    "UnknownOperationException": 404,
    "ModelTimeoutException": 408,
    "ThrottlingException": 429,
    "ModelNotReadyException": 429,
    "ModelErrorException": 424,
    "ModelStreamErrorException": 424,
    "InternalServerException": 500,
    "ServiceUnavailableException": 503,
}

# Coral-style suffix that Bedrock appends to the error type header; botocore strips it.
_ERROR_TYPE_SUFFIX = ":http://internal.amazon.com/coral/com.amazon.bedrock/"
_GATEWAY_ERRORS = {
    "MissingAuthenticationTokenException",
    "IncompleteSignatureException",
    "InvalidSignatureException",
    "UnrecognizedClientException",
    "UnknownOperationException",
}


class ApiError(Exception):
    """An error answered before the stream starts (a rest-json error response)."""

    def __init__(self, code: str, message: str, **extra: Any) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = STATUS.get(code, 400)
        self.extra = extra

    @property
    def error_type_header(self) -> str:
        if self.code in _GATEWAY_ERRORS:
            return self.code
        return self.code + _ERROR_TYPE_SUFFIX

    def body(self) -> dict[str, Any]:
        return {"message": self.message, **self.extra}


def validation(message: str) -> ApiError:
    return ApiError("ValidationException", message)


def malformed(detail: str) -> ApiError:
    """The JSON-schema flavoured message Bedrock gives for a body that fails the model schema."""
    return validation(
        f"Malformed input request: {detail}, please reformat your input and try again."
    )


INVALID_MODEL = "The provided model identifier is invalid."
INPUT_TOO_LONG = "Input is too long for requested model."
TEMPERATURE_TOP_P = (
    "`temperature` and `top_p` cannot both be specified for this model. Please use only one."
)
