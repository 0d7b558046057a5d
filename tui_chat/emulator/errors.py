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

# Prefix Bedrock puts before an error the model itself reported (always on Converse).
MODEL_ERRORS = "The model returned the following errors: "
END_OF_LIFE = (
    "This model version has reached the end of its life. Please refer to the AWS documentation "
    "for more details."
)
PREFILL = (
    "This model does not support assistant message prefill. The conversation must end with a "
    "user message."
)
THINKING_UNSUPPORTED = "thinking: extended thinking is not supported for this model."
THINKING_ENABLED_UNSUPPORTED = (
    '"thinking.type.enabled" is not supported for this model. Use "thinking.type.adaptive" and '
    '"output_config.effort" to control thinking behavior.'
)
THINKING_DISABLED_UNSUPPORTED = '"thinking.type.disabled" is not supported for this model.'
THINKING_ADAPTIVE_UNSUPPORTED = '"thinking.type.adaptive" is not supported for this model.'
BUDGET_TOO_SMALL = "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
BUDGET_NOT_BELOW_MAX_TOKENS = (
    "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our "
    "documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
    "#max-tokens-and-context-window-size"
)
THINKING_TEMPERATURE = "`temperature` may only be set to 1 when thinking is enabled."
THINKING_TOP_K = "`top_k` is not supported when thinking is enabled."
THINKING_TOP_P = "`top_p` must be greater than or equal to 0.95 or unset when thinking is enabled."
FINAL_ASSISTANT_THINKING = (
    "messages.{i}.content.0.type: Expected `thinking` or `redacted_thinking`, but found "
    "`{found}`. When `thinking` is enabled, a final `assistant` message must start with a "
    "thinking block."
)
INVALID_SIGNATURE = "messages.{i}.content.{j}: Invalid `signature` in `thinking` block"
INVALID_REDACTED = "messages.{i}.content.{j}: Invalid `data` in `redacted_thinking` block"
EFFORT_UNSUPPORTED = "output_config.effort: effort is not supported for this model."
CACHE_LIMIT = "A maximum of 4 blocks with cache_control may be provided. Found {n}."
