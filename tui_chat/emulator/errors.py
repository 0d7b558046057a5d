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


def json_type(value: Any) -> str:
    """The JSON type name Bedrock's schema messages use ("found: String")."""
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int | float):
        return "Number"
    if isinstance(value, str):
        return "String"
    if isinstance(value, list):
        return "JSONArray"
    return "JSONObject"


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

# -- images and documents (see ``attachments``). Where a message was seen from Bedrock it says
#    where; the others are written in the style of their neighbours and say so.

# Converse, a model that takes no images: seen on Bedrock (boto/boto3#4581, Claude 3.5 Haiku).
IMAGE_BLOCK_UNSUPPORTED = (
    "This model doesn't support the image content block that you provided. Update the content "
    "block and try again."
)
# Converse, no documents: not seen; written after the image message above.
DOCUMENT_BLOCK_UNSUPPORTED = (
    "This model doesn't support the document content block that you provided. Update the "
    "content block and try again."
)
# Messages API, no images: Anthropic's words as Bedrock relays them (anthropics/claude-code#8404).
IMAGE_INPUT_UNSUPPORTED = "'{name}' does not support image input."
# Messages API, no documents: a PDF as seen (boto/boto3#4581); a text document not seen.
PDF_INPUT_UNSUPPORTED = "{name} does not support PDFs."
DOCUMENT_INPUT_UNSUPPORTED = "{name} does not support documents."
# Bedrock's own document checks, on Converse (seen: simonw/llm-bedrock#8,
# aws-samples/generative-ai-use-cases#1685, Boise-State-Development/agentcore-public-stack#206).
DOCUMENT_NAME = (
    "The document file name can only contain alphanumeric characters, whitespace characters, "
    "hyphens, parentheses, and square brackets. The name can't contain more than one "
    "consecutive whitespace character. Check that the file name conforms to these restrictions "
    "and retry your request."
)
DUPLICATE_DOCUMENT_NAMES = "Messages can't contain duplicate document names."
TOO_MANY_DOCUMENTS = "You can't include more than 5 documents in a request."
DOCUMENT_TOO_BIG = (
    "The maximum document size is 4.5 MB. Reduce the size of your document and retry your request."
)
# Claude's image checks (Bedrock enforces Anthropic's 5 MB on the base64 text: 3.75 MB of
# bytes). Seen: anthropics/claude-code#5147 (dimensions), Anthropic's "image exceeds 5 MB
# maximum: N bytes > 5242880 bytes", aws-samples/amazon-bedrock-client-for-mac#130 (media
# type, on Converse), boto/boto3#4632 (count, on Converse), "invalid base64 data" and "Could
# not process image" (Anthropic API errors quoted in public code). ``{at}`` is the block's
# path: ``messages.0.content.1.image.source.base64`` (Messages) or ``...source.bytes``
# (Converse); the dimension message adds ``.data`` on the Messages API.
CLAUDE_IMAGE_TOO_BIG = "{at}: image exceeds 5 MB maximum: {size} bytes > 5242880 bytes"
CLAUDE_IMAGE_TOO_WIDE = (
    "{at}: At least one of the image dimensions exceed max allowed size: 8000 pixels"
)
CLAUDE_IMAGE_MISMATCH = (
    "{at}: The image was specified using the {declared} media type, but the image appears to "
    "be a {actual} image"
)
CLAUDE_IMAGE_UNREADABLE = "Could not process image"
CLAUDE_TOO_MANY_IMAGES = "messages: too many images: image_count > 20"
CLAUDE_BAD_BASE64 = "{at}: invalid base64 data"
# Not seen: Anthropic's words for a PDF that is not one, as best remembered.
CLAUDE_BAD_PDF = "{at}: The PDF specified was not valid."
# Other models on Converse. The mismatch was seen (boto/boto3#4415, Llama 3.2, prefixed with
# MODEL_ERRORS); the limits were not, and are written after Bedrock's document messages.
IMAGE_MISMATCH = "The provided image does not match the specified image format."
TOO_MANY_IMAGES = "You can't include more than 20 images in a request."
IMAGE_TOO_BIG = (
    "The maximum image size is 3.75 MB. Reduce the size of your image and retry your request."
)
IMAGE_TOO_WIDE = (
    "The maximum image width and height is 8000 px. Reduce the size of your image and retry "
    "your request."
)
# Converse blobs arrive as base64 text; boto3 always encodes them well. Not seen.
BLOB_NOT_BASE64 = "The value at {at} is not valid base64."
