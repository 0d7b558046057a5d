"""Error mapping: every failure becomes one BedrockError with a kind, advice and retryability."""

import pytest
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    EventStreamError,
    NoCredentialsError,
    NoRegionError,
    ReadTimeoutError,
)
from urllib3.exceptions import ProtocolError
from urllib3.exceptions import ReadTimeoutError as Urllib3ReadTimeout

from tui_chat.bedrock.errors import BedrockError, from_exception


def client_error(code, message, cls=ClientError):
    return cls({"Error": {"Code": code, "Message": message}}, "InvokeModelWithResponseStream")


@pytest.mark.parametrize(
    ("error", "kind", "retryable"),
    [
        (client_error("ThrottlingException", "Too many requests"), "throttled", True),
        (client_error("AccessDeniedException", "no access"), "access_denied", False),
        (client_error("ResourceNotFoundException", "nope"), "not_found", False),
        (client_error("ValidationException", "temperature: range 0..1"), "validation", False),
        (
            client_error("ValidationException", "Input is too long for requested model."),
            "context_too_long",
            False,
        ),
        (
            client_error("ValidationException", "prompt is too long: 210000 tokens > 200000"),
            "context_too_long",
            False,
        ),
        (
            client_error("ValidationException", "The provided model identifier is invalid."),
            "not_found",
            False,
        ),
        (client_error("ModelTimeoutException", "slow"), "timeout", True),
        (client_error("ServiceUnavailableException", "busy"), "overloaded", True),
        (client_error("UnrecognizedClientException", "bad token"), "credentials", False),
        (client_error("ExpiredTokenException", "expired"), "credentials", False),
        (
            client_error("modelStreamErrorException", "Overloaded", EventStreamError),
            "overloaded",
            True,
        ),
        (client_error("throttlingException", "slow down", EventStreamError), "throttled", True),
        (ProtocolError("Connection broken", ConnectionResetError()), "connection_lost", True),
        (Urllib3ReadTimeout(None, "/", "Read timed out."), "read_timeout", True),
        (ReadTimeoutError(endpoint_url="http://x"), "read_timeout", True),
        (EndpointConnectionError(endpoint_url="http://x"), "connection_failed", True),
        (NoCredentialsError(), "no_credentials", False),
        (NoRegionError(), "no_region", False),
        (RuntimeError("surprise"), "unknown", True),
    ],
)
def test_mapping(error, kind, retryable):
    mapped = from_exception(error, model="m")
    assert mapped.kind == kind
    assert mapped.retryable is retryable
    message = mapped.user_message
    assert "\n" not in message and message.endswith(".")
    assert ": " in message  # what happened: what to do


def test_messages_say_what_to_do():
    assert "retry" in BedrockError("throttled").user_message.lower()
    assert "--demo" in BedrockError("no_credentials").user_message
    assert "AWS_REGION" in BedrockError("no_region").user_message
    denied = BedrockError("access_denied", model="anthropic.claude-v2")
    assert "anthropic.claude-v2" in denied.user_message
    assert "Model access" in denied.user_message


def test_detail_is_included_once():
    error = from_exception(client_error("ValidationException", "temperature: range: 0..1"))
    assert error.user_message.count("temperature: range: 0..1") == 1
    assert error.as_dict() == {"kind": "validation", "message": error.user_message}
