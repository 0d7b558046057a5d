"""The Bedrock emulator, driven only through real boto3 (and raw HTTP for unsigned requests)."""

from __future__ import annotations

import base64
import http.client
import itertools
import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import pytest
import urllib3
from botocore.config import Config
from botocore.eventstream import ChecksumMismatch, EventStreamBuffer
from botocore.exceptions import ClientError, EventStreamError

from tui_chat.bedrock.formats import CONTINUE_PROMPT
from tui_chat.emulator import Emulator, Fault
from tui_chat.emulator import catalog as emulator_catalog
from tui_chat.emulator.__main__ import parse_fault
from tui_chat.emulator.demo_model import generate
from tui_chat.emulator.parsing import parse_invoke

HAIKU45 = "anthropic.claude-haiku-4-5-20251001-v1:0"  # inference profiles only, one-of sampling
HAIKU45_US = "us." + HAIKU45  # the everyday Claude model of these tests (Messages API)
HAIKU45_GLOBAL = "global." + HAIKU45
SONNET4_US = "us.anthropic.claude-sonnet-4-20250514-v1:0"  # takes temperature with top_p
SONNET45 = "anthropic.claude-sonnet-4-5-20250929-v1:0"  # inference profiles only, 4.5 rules
SONNET45_US = "us." + SONNET45
SONNET55_US = "us.anthropic.claude-sonnet-5-5"  # takes no prefill, thinks always
HAIKU3 = "anthropic.claude-3-haiku-20240307-v1:0"  # end of life: the runtime answers 404
CLAUDE_V2 = "anthropic.claude-v2"
LLAMA = "meta.llama3-1-70b-instruct-v1:0"
MISTRAL = "mistral.mistral-large-2407-v1:0"
NOVA = "amazon.nova-lite-v1:0"
EMBED = "amazon.titan-embed-text-v2:0"
REPO = Path(__file__).resolve().parents[2]
FAKE_SIGV4 = (
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/us-east-1/bedrock/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64
)


# ---------------------------------------------------------------------------------------------
# helpers


def messages_body(text="Hello there", **extra):
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 512,
        "messages": [{"role": "user", "content": text}],
    }
    body.update(extra)
    return body


def legacy_body(prompt="\n\nHuman: Hello there\n\nAssistant:", **extra):
    return {"prompt": prompt, "max_tokens_to_sample": 300, **extra}


def invoke_events(client, model, body):
    """Decoded model JSON of each chunk of an InvokeModelWithResponseStream."""
    response = client.invoke_model_with_response_stream(modelId=model, body=json.dumps(body))
    return [json.loads(event["chunk"]["bytes"]) for event in response["body"]]


def messages_text(events):
    return "".join(e["delta"]["text"] for e in events if e["type"] == "content_block_delta")


def user(text):
    return [{"role": "user", "content": [{"text": text}]}]


def converse_events(client, model, text="Hello there", **kwargs):
    response = client.converse_stream(modelId=model, messages=user(text), **kwargs)
    return list(response["stream"])


def converse_text(events):
    return "".join(
        e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e
    )


def validation_error(call, fragment):
    with pytest.raises(ClientError) as info:
        call()
    error = info.value.response["Error"]
    assert error["Code"] == "ValidationException", error
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert fragment in error["Message"]
    return error["Message"]


def raw_request(url, method, path, body=None, headers=None):
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------------
# InvokeModelWithResponseStream: Anthropic Messages body


def test_messages_stream_event_shapes_usage_and_metrics(emulator_runtime):
    events = invoke_events(emulator_runtime, HAIKU45_US, messages_body(system="Be brief."))
    types = [e["type"] for e in events]
    assert types[:2] == ["message_start", "content_block_start"]
    assert types[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert set(types[2:-3]) == {"content_block_delta"}

    start = events[0]
    assert set(start) == {"type", "message"}
    assert set(start["message"]) == {
        "id",
        "type",
        "role",
        "model",
        "content",
        "stop_reason",
        "stop_sequence",
        "usage",
    }
    assert start["message"]["id"].startswith("msg_bdrk_")
    assert start["message"]["role"] == "assistant"
    assert start["message"]["model"] == "claude-haiku-4-5-20251001"
    assert start["message"]["usage"] == {
        "input_tokens": 5,
        "output_tokens": 1,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }
    assert events[1] == {
        "type": "content_block_start",
        "index": 0,
        "content_block": {"type": "text", "text": ""},
    }
    for delta in events[2:-3]:
        assert set(delta) == {"type", "index", "delta"}
        assert set(delta["delta"]) == {"type", "text"}
        assert delta["delta"]["type"] == "text_delta"
    assert events[-3] == {"type": "content_block_stop", "index": 0}

    deltas = len(types) - 5
    message_delta = events[-2]
    assert set(message_delta) == {"type", "delta", "usage"}
    assert message_delta["delta"] == {"stop_reason": "end_turn", "stop_sequence": None}
    assert message_delta["usage"] == {"output_tokens": deltas}
    assert 60 <= deltas <= 200

    stop = events[-1]
    assert set(stop) == {"type", "amazon-bedrock-invocationMetrics"}
    metrics = stop["amazon-bedrock-invocationMetrics"]
    assert set(metrics) == {
        "inputTokenCount",
        "outputTokenCount",
        "invocationLatency",
        "firstByteLatency",
        "cacheReadInputTokenCount",
        "cacheWriteInputTokenCount",
    }
    assert metrics["cacheReadInputTokenCount"] == metrics["cacheWriteInputTokenCount"] == 0
    assert metrics["outputTokenCount"] == deltas
    # input estimate: ceil(chars / 4) of system + messages
    assert metrics["inputTokenCount"] == start["message"]["usage"]["input_tokens"] == 5
    assert 0 <= metrics["firstByteLatency"] <= metrics["invocationLatency"]

    text = messages_text(events)
    assert text.startswith("*(Demo model — offline, no AWS)*")
    assert "Hello there" in text


def test_stream_http_headers_and_raw_frames(emulator):
    """Raw HTTP: chunked event stream, both CRCs valid, base64 chunk payloads with padding."""
    status, headers, raw = raw_request(
        emulator.url,
        "POST",
        f"/model/{HAIKU45_US}/invoke-with-response-stream",
        body=json.dumps(messages_body(max_tokens=5)),
        headers={"Authorization": FAKE_SIGV4, "X-Amz-Date": "20250101T000000Z"},
    )
    assert status == 200
    assert headers["Content-Type"] == "application/vnd.amazon.eventstream"
    assert headers["Transfer-Encoding"] == "chunked"
    assert headers["X-Amzn-Bedrock-Content-Type"] == "application/json"
    assert re.fullmatch(r"[0-9a-f-]{36}", headers["x-amzn-RequestId"])
    buffer = EventStreamBuffer()
    buffer.add_data(raw)
    messages = list(buffer)  # raises on a bad prelude or message CRC
    assert len(messages) == 2 + 5 + 3
    for message in messages:
        assert message.headers == {
            ":event-type": "chunk",
            ":content-type": "application/json",
            ":message-type": "event",
        }
        payload = json.loads(message.payload)
        assert set(payload) == {"bytes", "p"}
        json.loads(base64.b64decode(payload["bytes"]))


def test_inference_profiles_and_arns_resolve_to_their_base_model(emulator_runtime):
    ids = [
        SONNET45_US,
        "eu." + SONNET45,
        "global." + SONNET45,
        f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/{SONNET45_US}",
    ]
    for model_id in ids:
        events = invoke_events(emulator_runtime, model_id, messages_body(max_tokens=3))
        assert events[0]["message"]["model"] == "claude-sonnet-4-5-20250929", model_id
    arn = f"arn:aws:bedrock:us-east-1::foundation-model/{CLAUDE_V2}"  # an on-demand model
    events = invoke_events(emulator_runtime, arn, messages_body(max_tokens=3))
    assert events[0]["message"]["model"] == "claude-v2"


def test_profile_only_model_rejects_on_demand_invocation(emulator_runtime):
    validation_error(
        lambda: invoke_events(emulator_runtime, SONNET45, messages_body()),
        "with on-demand throughput isn’t supported",
    )


def test_unknown_model_id(emulator_runtime):
    for model_id in ("anthropic.claude-9-nonexistent-v1:0", "us.meta.llama3-1-70b-instruct-v1:0"):
        message = validation_error(
            lambda model_id=model_id: invoke_events(emulator_runtime, model_id, messages_body()),
            "",
        )
        assert message == "The provided model identifier is invalid."
    validation_error(
        lambda: converse_events(emulator_runtime, "nope.model-v1:0"),
        "The provided model identifier is invalid.",
    )


MESSAGES_INVALID = [
    ("missing max_tokens", {"max_tokens": None}, "#: required key [max_tokens] not found"),
    (
        "missing anthropic_version",
        {"anthropic_version": None},
        "#: required key [anthropic_version] not found",
    ),
    ("extraneous key", {"max_tokens_to_sample": 10}, "extraneous key [max_tokens_to_sample]"),
    ("temperature above 1", {"temperature": 1.5}, "#/temperature: 1.5 is not less or equal to 1"),
    ("top_p below 0", {"top_p": -0.1}, "#/top_p: -0.1 is not greater or equal to 0"),
    ("negative top_k", {"top_k": -1}, "#/top_k: -1 is not greater or equal to 0"),
    ("max_tokens zero", {"max_tokens": 0}, "#/max_tokens: 0 is not greater or equal to 1"),
    (
        "max_tokens above the limit",
        {"max_tokens": 64_001},
        "max_tokens: 64001 > 64000, which is the maximum allowed number of output tokens",
    ),
    (
        "assistant first",
        {"messages": [{"role": "assistant", "content": "Hi"}]},
        'first message must use the "user" role',
    ),
    (
        "roles do not alternate",
        {"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]},
        'roles must alternate between "user" and "assistant"',
    ),
    (
        "empty text block",
        {"messages": [{"role": "user", "content": [{"type": "text", "text": ""}]}]},
        "text content blocks must be non-empty",
    ),
    (
        "empty string content",
        {"messages": [{"role": "user", "content": ""}]},
        "all messages must have non-empty content",
    ),
    (
        "final assistant with trailing whitespace",
        {
            "messages": [
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Sure thing "},
            ]
        },
        "final assistant content cannot end with trailing whitespace",
    ),
    (
        "context too long",
        {"messages": [{"role": "user", "content": "word " * 170_000}]},
        "Input is too long for requested model.",
    ),
]


@pytest.mark.parametrize(
    ("change", "fragment"),
    [case[1:] for case in MESSAGES_INVALID],
    ids=[case[0] for case in MESSAGES_INVALID],
)
def test_messages_body_validation(emulator_runtime, change, fragment):
    body = messages_body()
    for key, value in change.items():
        if value is None:
            del body[key]
        else:
            body[key] = value
    validation_error(lambda: invoke_events(emulator_runtime, HAIKU45_US, body), fragment)


def test_missing_max_tokens_message_is_bedrocks(emulator_runtime):
    body = messages_body()
    del body["max_tokens"]
    message = validation_error(lambda: invoke_events(emulator_runtime, HAIKU45_US, body), "")
    assert message == (
        "Malformed input request: #: required key [max_tokens] not found, please reformat your "
        "input and try again."
    )


@pytest.mark.parametrize(
    "model",
    [SONNET45_US, HAIKU45_GLOBAL, "us.anthropic.claude-opus-4-1-20250805-v1:0"],
)
def test_claude_45_class_rejects_temperature_with_top_p(emulator_runtime, model):
    message = validation_error(
        lambda: invoke_events(emulator_runtime, model, messages_body(temperature=0.5, top_p=0.9)),
        "",
    )
    assert message == (
        "`temperature` and `top_p` cannot both be specified for this model. Please use only one."
    )
    # either one alone is fine, and older models take both
    assert invoke_events(emulator_runtime, model, messages_body(max_tokens=2, temperature=0.5))
    assert invoke_events(emulator_runtime, model, messages_body(max_tokens=2, top_p=0.5))
    both = messages_body(max_tokens=2, temperature=0.5, top_p=0.9)
    assert invoke_events(emulator_runtime, SONNET4_US, both)


def test_messages_body_with_history_system_blocks_and_prefill(emulator_runtime):
    body = messages_body(
        system=[{"type": "text", "text": "You are a terse assistant who loves lists."}],
        messages=[
            {"role": "user", "content": "First question"},
            {"role": "assistant", "content": [{"type": "text", "text": "First answer"}]},
            {"role": "user", "content": [{"type": "text", "text": "Second question"}]},
        ],
    )
    text = messages_text(invoke_events(emulator_runtime, HAIKU45_US, body))
    assert "“Second question”" in text
    assert "system prompt: “You are a terse assistant who loves lists.”" in text
    assert "We are 2 turns into this conversation" in text
    prefill = body["messages"] + [{"role": "assistant", "content": "Well,"}]
    assert messages_text(invoke_events(emulator_runtime, HAIKU45_US, {**body, "messages": prefill}))


# ---------------------------------------------------------------------------------------------
# InvokeModelWithResponseStream: legacy text completions


def test_legacy_stream_chunks_and_final_metrics(emulator_runtime):
    events = invoke_events(emulator_runtime, CLAUDE_V2, legacy_body())
    *chunks, last = events
    for chunk in chunks:
        assert set(chunk) == {"completion", "stop_reason", "stop"}
        assert chunk["stop_reason"] is None and chunk["stop"] is None
    text = "".join(c["completion"] for c in events)
    assert text.startswith(" *(Demo model")  # Claude 2's completions start with a space
    assert set(last) == {"completion", "stop_reason", "stop", "amazon-bedrock-invocationMetrics"}
    assert last["stop_reason"] == "stop_sequence"
    assert last["stop"] == "\n\nHuman:"
    assert last["amazon-bedrock-invocationMetrics"]["outputTokenCount"] == len(chunks)
    assert "“Hello there”" in text


def test_legacy_models_also_take_the_messages_body(emulator_runtime):
    for model in (CLAUDE_V2, "anthropic.claude-v2:1", "anthropic.claude-instant-v1"):
        events = invoke_events(emulator_runtime, model, messages_body(max_tokens=3))
        assert events[-2]["delta"]["stop_reason"] == "max_tokens"


def test_legacy_system_preamble_and_max_tokens(emulator_runtime):
    prompt = "Talk like a pirate.\n\nHuman: Ahoy\n\nAssistant:"
    events = invoke_events(emulator_runtime, CLAUDE_V2, legacy_body(prompt, max_tokens_to_sample=7))
    assert len(events) == 8
    assert events[-1]["stop_reason"] == "max_tokens"
    assert events[-1]["stop"] is None


LEGACY_INVALID = [
    ("no Human turn", "Hello\n\nAssistant:", 'prompt must start with "\n\nHuman:" turn'),
    ("no newlines", "Human: Hello\n\nAssistant:", 'prompt must start with "\n\nHuman:" turn'),
    ("no Assistant turn", "\n\nHuman: Hello", 'prompt must end with "\n\nAssistant:" turn'),
    ("ends on Human", "\n\nHuman: a\n\nAssistant: b\n\nHuman: c", 'must end with "\n\nAssistant:"'),
]


@pytest.mark.parametrize(
    ("prompt", "fragment"),
    [case[1:] for case in LEGACY_INVALID],
    ids=[case[0] for case in LEGACY_INVALID],
)
def test_legacy_prompt_validation(emulator_runtime, prompt, fragment):
    message = validation_error(
        lambda: invoke_events(emulator_runtime, CLAUDE_V2, legacy_body(prompt)), fragment
    )
    assert message.startswith("Invalid prompt: ")


def test_legacy_requires_max_tokens_to_sample(emulator_runtime):
    body = legacy_body()
    del body["max_tokens_to_sample"]
    validation_error(
        lambda: invoke_events(emulator_runtime, CLAUDE_V2, body),
        "#: required key [max_tokens_to_sample] not found",
    )


def test_legacy_body_only_for_legacy_models(emulator_runtime):
    validation_error(
        lambda: invoke_events(emulator_runtime, HAIKU45_US, legacy_body()),
        "extraneous key [prompt]",
    )


# ---------------------------------------------------------------------------------------------
# Native bodies of the other families, and embeddings


def test_native_bodies_of_other_families(emulator_runtime):
    llama_prompt = (
        "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi llama<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n"
    )
    events = invoke_events(emulator_runtime, LLAMA, {"prompt": llama_prompt, "max_gen_len": 5})
    assert [e["generation_token_count"] for e in events] == [1, 2, 3, 4, 5, 5]
    assert events[-1]["stop_reason"] == "length"
    assert "amazon-bedrock-invocationMetrics" in events[-1]

    body = {"messages": [{"role": "user", "content": "Hi mistral"}], "max_tokens": 4}
    events = invoke_events(emulator_runtime, MISTRAL, body)
    assert len(events) == 5
    assert events[-1]["choices"][0]["stop_reason"] == "length"

    body = {"messages": user("Hi nova"), "inferenceConfig": {"maxTokens": 4}}
    events = invoke_events(emulator_runtime, NOVA, body)
    assert [next(iter(e)) for e in events] == [
        "messageStart",
        *["contentBlockDelta"] * 4,
        "contentBlockStop",
        "messageStop",
        "metadata",
    ]
    assert events[-2] == {"messageStop": {"stopReason": "max_tokens"}}
    validation_error(
        lambda: invoke_events(emulator_runtime, LLAMA, {"prompt": "hi", "top_k": 5}),
        "extraneous key [top_k]",
    )


def test_embeddings_model(emulator_runtime):
    response = emulator_runtime.invoke_model(
        modelId=EMBED, body=json.dumps({"inputText": "hello", "dimensions": 256})
    )
    body = json.loads(response["body"].read())
    assert len(body["embedding"]) == 256
    assert body["inputTextTokenCount"] == 2
    validation_error(
        lambda: invoke_events(emulator_runtime, EMBED, {"inputText": "hello"}),
        "unsupported for streaming",
    )
    validation_error(
        lambda: converse_events(emulator_runtime, EMBED),
        "doesn't support the model that you provided",
    )


# ---------------------------------------------------------------------------------------------
# Non-streaming InvokeModel and Converse


def test_invoke_model_messages_and_legacy(emulator_runtime):
    response = emulator_runtime.invoke_model(
        modelId=HAIKU45_US, body=json.dumps(messages_body(max_tokens=20))
    )
    assert response["contentType"] == "application/json"
    headers = response["ResponseMetadata"]["HTTPHeaders"]
    body = json.loads(response["body"].read())
    assert set(body) == {
        "id",
        "type",
        "role",
        "content",
        "model",
        "stop_reason",
        "stop_sequence",
        "usage",
    }
    assert body["type"] == "message"
    assert body["content"][0]["type"] == "text"
    assert body["stop_reason"] == "max_tokens"
    assert body["usage"]["output_tokens"] == 20
    assert headers["x-amzn-bedrock-output-token-count"] == "20"
    assert headers["x-amzn-bedrock-input-token-count"] == str(body["usage"]["input_tokens"])
    streamed = invoke_events(emulator_runtime, HAIKU45_US, messages_body(max_tokens=20))
    assert body["content"][0]["text"] == messages_text(streamed)

    response = emulator_runtime.invoke_model(modelId=CLAUDE_V2, body=json.dumps(legacy_body()))
    body = json.loads(response["body"].read())
    assert set(body) == {"completion", "stop_reason", "stop"}
    assert (body["stop_reason"], body["stop"]) == ("stop_sequence", "\n\nHuman:")


def test_converse(emulator_runtime):
    response = emulator_runtime.converse(
        modelId=SONNET45_US,
        messages=user("Hi"),
        system=[{"text": "Answer in French."}],
        inferenceConfig={"maxTokens": 300, "temperature": 0.2},
    )
    assert set(response) - {"ResponseMetadata"} == {"output", "stopReason", "usage", "metrics"}
    message = response["output"]["message"]
    assert message["role"] == "assistant"
    assert "Answer in French." in message["content"][0]["text"]
    assert response["stopReason"] == "end_turn"
    usage = response["usage"]
    assert usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"]
    assert set(response["metrics"]) == {"latencyMs"}


# ---------------------------------------------------------------------------------------------
# ConverseStream


def test_converse_stream_event_shapes(emulator_runtime):
    events = converse_events(emulator_runtime, LLAMA, inferenceConfig={"maxTokens": 400})
    assert events[0] == {"messageStart": {"role": "assistant"}}
    deltas = events[1:-3]
    for event in deltas:
        assert event == {
            "contentBlockDelta": {
                "delta": {"text": event["contentBlockDelta"]["delta"]["text"]},
                "contentBlockIndex": 0,
            }
        }
    assert events[-3] == {"contentBlockStop": {"contentBlockIndex": 0}}
    assert events[-2] == {"messageStop": {"stopReason": "end_turn"}}
    metadata = events[-1]["metadata"]
    assert set(metadata) == {"usage", "metrics"}
    assert set(metadata["usage"]) == {"inputTokens", "outputTokens", "totalTokens"}
    assert metadata["usage"]["outputTokens"] == len(deltas)
    assert metadata["usage"]["totalTokens"] == len(deltas) + metadata["usage"]["inputTokens"]
    assert set(metadata["metrics"]) == {"latencyMs"}
    assert "Llama 3.1 70B Instruct" in converse_text(events)


def test_converse_stream_for_every_text_model(emulator_runtime, emulator_control):
    summaries = emulator_control.list_foundation_models(byOutputModality="TEXT")["modelSummaries"]
    for summary in summaries:
        model = summary["modelId"]
        if "INFERENCE_PROFILE" in summary["inferenceTypesSupported"]:
            model = "us." + model
        events = converse_events(emulator_runtime, model, inferenceConfig={"maxTokens": 3})
        assert events[-2] == {"messageStop": {"stopReason": "max_tokens"}}, model


CONVERSE_INVALID = [
    (
        "assistant first",
        {"messages": [{"role": "assistant", "content": [{"text": "Hi"}]}]},
        "A conversation must start with a user message.",
    ),
    (
        "roles do not alternate",
        {"messages": user("a") + user("b")},
        "A conversation must alternate between user and assistant roles.",
    ),
    (
        "blank text",
        {"messages": user("   ")},
        "The text field in the ContentBlock object at messages.0.content.0 is blank.",
    ),
    (
        "maxTokens above the limit",
        {"inferenceConfig": {"maxTokens": 64_001}},
        "The maximum tokens you requested exceeds the model limit of 64000.",
    ),
    (
        "unknown additional field",
        {"additionalModelRequestFields": {"top_q": 3}},
        "extraneous key [top_q] is not permitted",
    ),
    (
        "context too long",
        {"messages": user("word " * 170_000)},
        "Input is too long for requested model.",
    ),
]


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [case[1:] for case in CONVERSE_INVALID],
    ids=[case[0] for case in CONVERSE_INVALID],
)
def test_converse_validation(emulator_runtime, kwargs, fragment):
    call = {"modelId": HAIKU45_US, "messages": user("Hi"), **kwargs}
    validation_error(lambda: emulator_runtime.converse_stream(**call), fragment)
    validation_error(lambda: emulator_runtime.converse(**call), fragment)


def test_converse_temperature_and_top_p_on_45_models(emulator_runtime):
    config = {"temperature": 0.5, "topP": 0.9, "maxTokens": 5}
    validation_error(
        lambda: converse_events(emulator_runtime, SONNET45_US, inferenceConfig=config),
        "`temperature` and `top_p` cannot both be specified for this model.",
    )
    assert converse_events(emulator_runtime, SONNET4_US, inferenceConfig=config)


def test_converse_top_k_only_where_the_family_takes_it(emulator_runtime):
    config = {"maxTokens": 5}
    for model in (HAIKU45_US, SONNET45_US, CLAUDE_V2):
        extra = {"top_k": 40}
        assert converse_events(
            emulator_runtime, model, inferenceConfig=config, additionalModelRequestFields=extra
        )
    for model in (LLAMA, MISTRAL, NOVA):
        validation_error(
            lambda model=model: converse_events(
                emulator_runtime,
                model,
                inferenceConfig=config,
                additionalModelRequestFields={"top_k": 40},
            ),
            "extraneous key [top_k] is not permitted",
        )
    nova_top_k = {"inferenceConfig": {"topK": 20}}
    assert converse_events(
        emulator_runtime, NOVA, inferenceConfig=config, additionalModelRequestFields=nova_top_k
    )


# ---------------------------------------------------------------------------------------------
# The demo model: determinism, parameters, limits


def test_demo_model_is_deterministic_and_reacts_to_parameters(emulator, emulator_runtime):
    def text(**params):  # Claude Sonnet 4 takes temperature, top_p and top_k together
        return messages_text(invoke_events(emulator_runtime, SONNET4_US, messages_body(**params)))

    # The same request again (regenerate) is worded anew, in a set order: a cleared request
    # log starts again from the first wording, which is the demo model's reply to the request.
    replies = [text(temperature=1.0) for _ in range(3)]
    assert len(set(replies)) == 3
    recorded = emulator.requests[0]
    emulator.requests.clear()
    assert [text(temperature=1.0) for _ in range(3)] == replies
    model = emulator_catalog.resolve(recorded.model_id).model
    job = parse_invoke(model, json.dumps(recorded.body).encode(), streaming=True)
    assert generate(job.prompt).text == replies[0]
    emulator.requests.clear()
    plain = text(temperature=0.0)
    assert plain == text(temperature=0.0) == text(temperature=0.0)  # plain every time
    assert plain.split("\n\n")[1] == "Hello! You wrote: “Hello there”"
    assert text(temperature=1.0) != plain
    assert text(temperature=0.7) != text(temperature=1.0)
    top_k_1 = plain.replace(
        "temperature 0 · top_p default · top_k default", "temperature 1 · top_p default · top_k 1"
    )
    assert text(temperature=1.0, top_k=1) == top_k_1
    assert text(temperature=1.0, top_k=50) != text(temperature=1.0, top_k=1)
    narrowed = text(temperature=1.0, top_p=0.01)
    assert narrowed == plain.replace("temperature 0 · top_p default", "temperature 1 · top_p 0.01")
    # the same request to a different model words it differently
    assert text(temperature=1.0) != messages_text(
        invoke_events(emulator_runtime, SONNET45_US, messages_body(temperature=1.0))
    )


def test_demo_model_code_block_when_asked_for_code(emulator_runtime):
    plain = messages_text(invoke_events(emulator_runtime, HAIKU45_US, messages_body("Hi")))
    assert "```" not in plain
    code = messages_text(
        invoke_events(emulator_runtime, HAIKU45_US, messages_body("Write a Python function please"))
    )
    assert "```python\n" in code
    assert code.count("```") == 2


def test_max_tokens_cuts_the_same_text(emulator_runtime):
    full = messages_text(invoke_events(emulator_runtime, HAIKU45_US, messages_body()))
    events = invoke_events(emulator_runtime, HAIKU45_US, messages_body(max_tokens=10))
    assert full.startswith(messages_text(events))
    assert events[-2]["delta"] == {"stop_reason": "max_tokens", "stop_sequence": None}
    assert events[-2]["usage"]["output_tokens"] == 10

    events = converse_events(emulator_runtime, HAIKU45_US, inferenceConfig={"maxTokens": 10})
    assert events[-2] == {"messageStop": {"stopReason": "max_tokens"}}
    assert events[-1]["metadata"]["usage"]["outputTokens"] == 10


def test_stop_sequences(emulator_runtime):
    full = messages_text(invoke_events(emulator_runtime, HAIKU45_US, messages_body()))
    stop = "demo model"
    expected = full[: full.index(stop)]
    body = messages_body(stop_sequences=["never appears", stop])
    events = invoke_events(emulator_runtime, HAIKU45_US, body)
    assert messages_text(events) == expected
    assert events[-2]["delta"] == {"stop_reason": "stop_sequence", "stop_sequence": stop}
    deltas = sum(1 for e in events if e["type"] == "content_block_delta")
    assert events[-2]["usage"]["output_tokens"] == deltas

    response = emulator_runtime.converse_stream(
        modelId=HAIKU45_US,
        messages=user("Hello there"),
        inferenceConfig={"stopSequences": [stop]},
        additionalModelResponseFieldPaths=["/stop_sequence"],
    )
    events = list(response["stream"])
    assert converse_text(events) == expected
    assert events[-2] == {
        "messageStop": {
            "stopReason": "stop_sequence",
            "additionalModelResponseFields": {"stop_sequence": stop},
        }
    }

    events = invoke_events(emulator_runtime, CLAUDE_V2, legacy_body(stop_sequences=[stop]))
    assert (events[-1]["stop_reason"], events[-1]["stop"]) == ("stop_sequence", stop)
    assert "demo" not in "".join(e["completion"] for e in events).split("built-in")[-1]


def answer_text(events):
    """The text of an InvokeModelWithResponseStream reply (thinking left out)."""
    return "".join(
        e["delta"]["text"]
        for e in events
        if e["type"] == "content_block_delta" and e["delta"]["type"] == "text_delta"
    )


def test_demo_model_continues_a_reply_cut_at_max_tokens_from_a_prefill(emulator_runtime):
    ask = [{"role": "user", "content": "Tell me about the sea"}]
    full = messages_text(invoke_events(emulator_runtime, HAIKU45_US, messages_body(messages=ask)))
    cut = messages_text(
        invoke_events(emulator_runtime, HAIKU45_US, messages_body(messages=ask, max_tokens=17))
    )
    # The client sends the partial reply back as the final assistant turn, trimmed.
    partial = cut.rstrip()
    resumed = [*ask, {"role": "assistant", "content": partial}]
    events = invoke_events(emulator_runtime, HAIKU45_US, messages_body(messages=resumed))
    rest = messages_text(events)
    assert events[-2]["delta"]["stop_reason"] == "end_turn"
    assert partial + rest == full  # no restart, no repetition, nothing glued on
    # Cut in the middle of a word, it finishes the word.
    at = full.index("demo model") + len("de")
    resumed = [*ask, {"role": "assistant", "content": full[:at]}]
    rest = messages_text(
        invoke_events(emulator_runtime, HAIKU45_US, messages_body(messages=resumed))
    )
    assert rest.startswith("mo model") and full[:at] + rest == full


def test_demo_model_continues_when_asked_by_a_user_turn(emulator_runtime):
    # A model that takes no prefill gets the partial reply, then a user turn asking to go on.
    ask = [{"role": "user", "content": "Tell me about the sea"}]
    events = invoke_events(emulator_runtime, SONNET55_US, messages_body(messages=ask))
    full = answer_text(events)
    texts = sum(1 for e in events if e["type"] == "content_block_delta" and "text" in e["delta"])
    thinking = events[-2]["usage"]["output_tokens"] - texts  # it always thinks first
    body = messages_body(messages=ask, max_tokens=thinking + 30)
    cut = answer_text(invoke_events(emulator_runtime, SONNET55_US, body))
    assert cut and full.startswith(cut) and len(cut) < len(full)
    resumed = [
        *ask,
        {"role": "assistant", "content": cut.rstrip()},
        {"role": "user", "content": CONTINUE_PROMPT},
    ]
    events = invoke_events(emulator_runtime, SONNET55_US, messages_body(messages=resumed))
    assert cut.rstrip() + answer_text(events) == full
    assert events[-2]["delta"]["stop_reason"] == "end_turn"


def test_demo_model_writes_about_n_words_when_asked(emulator_runtime):
    events = converse_events(
        emulator_runtime,
        HAIKU45_US,
        text="Write 1500 words about lighthouses",
        inferenceConfig={"maxTokens": 8000},
    )
    text = converse_text(events)
    assert 1450 <= len(text.split()) <= 1515
    assert "about 1,500 words about lighthouses" in text
    assert events[-2] == {"messageStop": {"stopReason": "end_turn"}}
    # Max tokens still cuts it, as it does any reply.
    events = converse_events(
        emulator_runtime,
        HAIKU45_US,
        text="Write 1500 words about lighthouses",
        inferenceConfig={"maxTokens": 400},
    )
    assert text.startswith(converse_text(events))
    assert events[-2] == {"messageStop": {"stopReason": "max_tokens"}}
    assert events[-1]["metadata"]["usage"]["outputTokens"] == 400


# ---------------------------------------------------------------------------------------------
# Authentication and routing


def test_unsigned_request_is_rejected_like_aws(emulator):
    status, headers, raw = raw_request(
        emulator.url,
        "POST",
        f"/model/{HAIKU45_US}/invoke",
        body=json.dumps(messages_body()),
        headers={"Content-Type": "application/json"},
    )
    assert status == 403
    assert headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert json.loads(raw) == {"message": "Missing Authentication Token"}


def test_malformed_and_bearer_authorization(emulator):
    status, headers, _ = raw_request(
        emulator.url, "GET", "/foundation-models", headers={"Authorization": "AWS4-HMAC-SHA256 x"}
    )
    assert status == 403
    assert headers["x-amzn-ErrorType"] == "IncompleteSignatureException"
    # API keys (AWS_BEARER_TOKEN_BEDROCK) arrive as a bearer token; botocore only sends them over
    # HTTPS, so this one is checked with raw HTTP.
    status, _, raw = raw_request(
        emulator.url, "GET", "/foundation-models", headers={"Authorization": "Bearer abc123"}
    )
    assert status == 200
    assert json.loads(raw)["modelSummaries"]


def test_unknown_path(emulator):
    status, headers, _ = raw_request(
        emulator.url, "GET", "/nothing/here", headers={"Authorization": FAKE_SIGV4}
    )
    assert status == 404
    assert headers["x-amzn-ErrorType"] == "UnknownOperationException"


def test_requests_are_recorded(emulator, emulator_runtime):
    arn = f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/{SONNET45_US}"
    body = messages_body(max_tokens=3)
    invoke_events(emulator_runtime, arn, body)
    emulator_runtime.converse(modelId=HAIKU45_US, messages=user("Hi"))
    first, second = emulator.requests
    assert first.operation == "InvokeModelWithResponseStream"
    assert first.model_id == arn
    assert first.body == body
    assert first.headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert second.operation == "Converse"
    assert second.model_id == HAIKU45_US
    assert second.body == {"messages": user("Hi")}


def test_endpoints_from_environment(emulator_env):
    session = boto3.Session()
    runtime = session.client("bedrock-runtime", config=Config(retries={"total_max_attempts": 1}))
    events = list(runtime.converse_stream(modelId=HAIKU45_US, messages=user("env"))["stream"])
    assert "“env”" in converse_text(events)
    control = session.client("bedrock")
    assert control.list_foundation_models()["modelSummaries"]
    assert [r.operation for r in emulator_env.requests] == [
        "ConverseStream",
        "ListFoundationModels",
    ]


# ---------------------------------------------------------------------------------------------
# Control plane


def test_list_foundation_models(emulator_control):
    summaries = emulator_control.list_foundation_models()["modelSummaries"]
    ids = {s["modelId"] for s in summaries}
    assert {HAIKU45, SONNET45, CLAUDE_V2, LLAMA, MISTRAL, NOVA, EMBED} <= ids
    assert HAIKU3 not in ids  # end of life: no longer listed
    assert len(summaries) == 24
    for summary in summaries:
        assert set(summary) == {
            "modelArn",
            "modelId",
            "modelName",
            "providerName",
            "inputModalities",
            "outputModalities",
            "responseStreamingSupported",
            "customizationsSupported",
            "inferenceTypesSupported",
            "modelLifecycle",
        }
        assert summary["modelArn"] == (
            f"arn:aws:bedrock:us-east-1::foundation-model/{summary['modelId']}"
        )
    by_id = {s["modelId"]: s for s in summaries}
    assert by_id[CLAUDE_V2]["modelLifecycle"] == {
        "status": "LEGACY",
        "startOfLifeTime": datetime(2023, 7, 11, tzinfo=UTC),
    }
    assert by_id[SONNET45]["inferenceTypesSupported"] == ["INFERENCE_PROFILE"]
    assert by_id[EMBED]["responseStreamingSupported"] is False

    anthropic = emulator_control.list_foundation_models(byProvider="Anthropic")["modelSummaries"]
    assert len(anthropic) == 18
    assert {s["providerName"] for s in anthropic} == {"Anthropic"}
    embeddings = emulator_control.list_foundation_models(byOutputModality="EMBEDDING")
    assert [s["modelId"] for s in embeddings["modelSummaries"]] == [EMBED]
    on_demand = emulator_control.list_foundation_models(byInferenceType="ON_DEMAND")
    assert SONNET45 not in {s["modelId"] for s in on_demand["modelSummaries"]}
    validation_error(
        lambda: emulator_control.list_foundation_models(byOutputModality="AUDIO"),
        "Member must satisfy enum value set: [TEXT, IMAGE, EMBEDDING]",
    )


def test_list_inference_profiles(emulator_control, emulator_client, emulator):
    profiles = emulator_control.list_inference_profiles()["inferenceProfileSummaries"]
    ids = {p["inferenceProfileId"] for p in profiles}
    assert SONNET45_US in ids
    assert HAIKU45_GLOBAL in ids
    assert "us.amazon.nova-pro-v1:0" in ids
    assert not any(i.startswith(("eu.", "apac.")) for i in ids)  # us-east-1 lists us. + global.
    profile = next(p for p in profiles if p["inferenceProfileId"] == SONNET45_US)
    assert profile["inferenceProfileArn"] == (
        f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/{SONNET45_US}"
    )
    assert profile["inferenceProfileName"] == "US Anthropic Claude Sonnet 4.5"
    assert profile["status"] == "ACTIVE"
    assert profile["type"] == "SYSTEM_DEFINED"
    assert profile["models"][0] == {
        "modelArn": f"arn:aws:bedrock:us-east-1::foundation-model/{SONNET45}"
    }

    pages = emulator_control.get_paginator("list_inference_profiles").paginate(
        PaginationConfig={"PageSize": 3}
    )
    paged = [p["inferenceProfileId"] for page in pages for p in page["inferenceProfileSummaries"]]
    assert len(paged) == len(ids) and set(paged) == ids

    applications = emulator_control.list_inference_profiles(typeEquals="APPLICATION")
    assert applications["inferenceProfileSummaries"] == []

    eu = emulator_client(emulator.url, "bedrock", region_name="eu-west-1")
    eu_ids = {
        p["inferenceProfileId"] for p in eu.list_inference_profiles()["inferenceProfileSummaries"]
    }
    assert "eu." + SONNET45 in eu_ids
    assert not any(i.startswith("us.") for i in eu_ids)


# ---------------------------------------------------------------------------------------------
# Faults before the stream

BEFORE_STREAM = [
    (
        "throttling",
        "ThrottlingException",
        429,
        "Too many requests, please wait before trying again.",
    ),
    (
        "access_denied",
        "AccessDeniedException",
        403,
        "You don't have access to the model with the specified model ID.",
    ),
    ("validation", "ValidationException", 400, "Malformed input request"),
    ("not_found", "ResourceNotFoundException", 404, ""),
    ("context_too_long", "ValidationException", 400, "Input is too long for requested model."),
    ("model_timeout", "ModelTimeoutException", 408, ""),
    ("service_unavailable", "ServiceUnavailableException", 503, ""),
    ("internal", "InternalServerException", 500, ""),
]


@pytest.mark.parametrize(("kind", "code", "status", "message"), BEFORE_STREAM)
def test_faults_before_the_stream(emulator, emulator_runtime, kind, code, status, message):
    emulator.add_fault(Fault(kind))
    with pytest.raises(getattr(emulator_runtime.exceptions, code)) as info:
        invoke_events(emulator_runtime, HAIKU45_US, messages_body())
    response = info.value.response
    assert response["Error"]["Code"] == code
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"].startswith(code)
    assert message in response["Error"]["Message"]
    assert emulator.faults == []  # used up
    assert invoke_events(emulator_runtime, HAIKU45_US, messages_body(max_tokens=2))


def test_before_stream_faults_apply_to_every_inference_operation(emulator, emulator_runtime):
    emulator.add_fault(Fault("throttling", times=3))
    with pytest.raises(emulator_runtime.exceptions.ThrottlingException):
        emulator_runtime.converse(modelId=HAIKU45_US, messages=user("Hi"))
    with pytest.raises(emulator_runtime.exceptions.ThrottlingException):
        emulator_runtime.invoke_model(modelId=HAIKU45_US, body=json.dumps(messages_body()))
    with pytest.raises(emulator_runtime.exceptions.ThrottlingException):
        converse_events(emulator_runtime, HAIKU45_US)
    assert converse_events(emulator_runtime, HAIKU45_US)


def test_fault_times_and_forever(emulator, emulator_runtime):
    emulator.add_fault(Fault("access_denied", times=2))
    for _ in range(2):
        with pytest.raises(emulator_runtime.exceptions.AccessDeniedException):
            converse_events(emulator_runtime, HAIKU45_US)
    assert converse_events(emulator_runtime, HAIKU45_US)

    forever = emulator.add_fault(Fault("service_unavailable", times=None))
    for _ in range(4):
        with pytest.raises(emulator_runtime.exceptions.ServiceUnavailableException):
            converse_events(emulator_runtime, HAIKU45_US)
    assert forever.used == 4 and emulator.faults == [forever]
    emulator.clear_faults()
    assert converse_events(emulator_runtime, HAIKU45_US)


def test_fault_restricted_to_a_model(emulator, emulator_runtime):
    emulator.add_fault(Fault("throttling", model=SONNET45))
    assert converse_events(emulator_runtime, HAIKU45_US)
    with pytest.raises(emulator_runtime.exceptions.ThrottlingException):
        converse_events(emulator_runtime, SONNET45_US)  # the profile names that base model


def test_fault_restricted_to_an_operation(emulator, emulator_runtime, emulator_control):
    emulator.add_fault(Fault("throttling", operation="ListFoundationModels"))
    assert converse_events(emulator_runtime, HAIKU45_US)
    with pytest.raises(emulator_control.exceptions.ThrottlingException):
        emulator_control.list_foundation_models()
    assert emulator_control.list_foundation_models()["modelSummaries"]


def test_botocore_retries_a_throttled_request(emulator, emulator_client):
    client = emulator_client(emulator.url, retries={"total_max_attempts": 2, "mode": "standard"})
    emulator.add_fault(Fault("throttling"))
    assert converse_events(client, HAIKU45_US)
    assert [r.operation for r in emulator.requests] == ["ConverseStream", "ConverseStream"]


def test_slow_first_byte(emulator, emulator_runtime):
    emulator.add_fault(Fault("slow_first_byte", seconds=0.3))
    started = time.monotonic()
    response = emulator_runtime.converse_stream(modelId=HAIKU45_US, messages=user("Hi"))
    assert time.monotonic() - started >= 0.29
    assert list(response["stream"])


# ---------------------------------------------------------------------------------------------
# Faults inside the stream

IN_STREAM = [
    ("stream_model_error", "modelStreamErrorException"),
    ("stream_throttling", "throttlingException"),
    ("stream_unavailable", "serviceUnavailableException"),
]


@pytest.mark.parametrize(("kind", "code"), IN_STREAM)
def test_in_stream_exceptions(emulator, emulator_runtime, kind, code):
    emulator.add_fault(Fault(kind, after_tokens=5))
    response = emulator_runtime.invoke_model_with_response_stream(
        modelId=HAIKU45_US, body=json.dumps(messages_body())
    )
    received = []
    with pytest.raises(EventStreamError) as info:
        for event in response["body"]:
            received.append(json.loads(event["chunk"]["bytes"]))
    assert info.value.response["Error"]["Code"] == code
    assert info.value.response["Error"]["Message"]
    assert [e["type"] for e in received].count("content_block_delta") == 5

    emulator.add_fault(Fault(kind, after_tokens=3))
    response = emulator_runtime.converse_stream(modelId=HAIKU45_US, messages=user("Hi"))
    received = []
    with pytest.raises(EventStreamError) as info:
        received.extend(response["stream"])
    assert info.value.response["Error"]["Code"] == code
    assert sum("contentBlockDelta" in e for e in received) == 3
    assert emulator.faults == []


def test_stream_fault_times_and_non_streaming_calls(emulator, emulator_runtime):
    fault = emulator.add_fault(Fault("stream_throttling", after_tokens=5, times=2))
    emulator_runtime.converse(modelId=HAIKU45_US, messages=user("Hi"))  # not a stream: untouched
    assert fault.used == 0
    for _ in range(2):
        with pytest.raises(EventStreamError):
            converse_events(emulator_runtime, HAIKU45_US)
    assert (
        converse_events(emulator_runtime, HAIKU45_US)[-2]["messageStop"]["stopReason"] == "end_turn"
    )
    assert emulator.faults == []


def test_model_stream_error_carries_original_status(emulator):
    emulator.add_fault(Fault("stream_model_error"))
    _, _, raw = raw_request(
        emulator.url,
        "POST",
        f"/model/{HAIKU45_US}/converse-stream",
        body=json.dumps({"messages": user("Hi")}),
        headers={"Authorization": FAKE_SIGV4, "X-Amz-Date": "20250101T000000Z"},
    )
    buffer = EventStreamBuffer()
    buffer.add_data(raw)
    last = list(buffer)[-1]
    assert last.headers[":message-type"] == "exception"
    assert last.headers[":exception-type"] == "modelStreamErrorException"
    payload = json.loads(last.payload)
    assert set(payload) == {"message", "originalStatusCode", "originalMessage"}


def test_cut_connection_mid_stream(emulator, emulator_runtime):
    emulator.add_fault(Fault("cut", after_tokens=4))
    response = emulator_runtime.invoke_model_with_response_stream(
        modelId=HAIKU45_US, body=json.dumps(messages_body())
    )
    received = []
    with pytest.raises(urllib3.exceptions.ProtocolError):
        for event in response["body"]:
            received.append(json.loads(event["chunk"]["bytes"]))
    assert messages_text(received)
    assert [e["type"] for e in received].count("content_block_delta") == 4
    assert converse_events(emulator_runtime, HAIKU45_US)  # the server is fine afterwards


def test_stall_longer_than_the_read_timeout(emulator, emulator_client):
    client = emulator_client(emulator.url, read_timeout=0.5)
    emulator.add_fault(Fault("stall", after_tokens=3, seconds=5))
    response = client.converse_stream(modelId=HAIKU45_US, messages=user("Hi"))
    received = []
    started = time.monotonic()
    with pytest.raises(urllib3.exceptions.ReadTimeoutError):
        received.extend(response["stream"])
    assert time.monotonic() - started < 3
    assert sum("contentBlockDelta" in e for e in received) == 3


def test_short_stall_then_normal_end(emulator, emulator_runtime):
    emulator.add_fault(Fault("stall", after_tokens=2, seconds=0.3))
    response = emulator_runtime.converse_stream(modelId=HAIKU45_US, messages=user("Hi"))
    stamps = []
    events = []
    for event in response["stream"]:
        events.append(event)
        stamps.append(time.monotonic())
    assert events[-2] == {"messageStop": {"stopReason": "end_turn"}}
    assert stamps[3] - stamps[2] >= 0.25  # messageStart, 2 deltas, then the pause


def test_malformed_chunk(emulator, emulator_runtime):
    emulator.add_fault(Fault("malformed_chunk", after_tokens=2))
    response = emulator_runtime.invoke_model_with_response_stream(
        modelId=HAIKU45_US, body=json.dumps(messages_body())
    )
    received = []
    with pytest.raises(ChecksumMismatch):
        received.extend(response["body"])
    assert len(received) == 4  # message_start, content_block_start, 2 deltas


def test_bad_json_chunk(emulator, emulator_runtime):
    emulator.add_fault(Fault("bad_json_chunk", after_tokens=2))
    response = emulator_runtime.invoke_model_with_response_stream(
        modelId=HAIKU45_US, body=json.dumps(messages_body())
    )
    payloads = [event["chunk"]["bytes"] for event in response["body"]]
    bad = []
    for raw in payloads:
        try:
            json.loads(raw)
        except ValueError:
            bad.append(raw)
    assert len(bad) == 1
    assert payloads.index(bad[0]) == 4
    assert json.loads(payloads[-1])["type"] == "message_stop"  # the stream goes on

    emulator.add_fault(Fault("bad_json_chunk", after_tokens=2))
    events = converse_events(emulator_runtime, HAIKU45_US)
    assert events[3] == {"contentBlockDelta": {}}  # botocore cannot parse it into the shape
    assert events[-2] == {"messageStop": {"stopReason": "end_turn"}}


def test_unknown_events_are_interleaved_and_the_reply_completes(emulator, emulator_runtime):
    normal = invoke_events(emulator_runtime, HAIKU45_US, messages_body())
    emulator.add_fault(Fault("unknown_event", after_tokens=3))
    emulator.requests.clear()  # so that the same request is worded the same way again
    events = invoke_events(emulator_runtime, HAIKU45_US, messages_body())
    unknown = [e for e in events if e["type"] not in {n["type"] for n in normal}]
    assert len(unknown) == 1
    assert events.index(unknown[0]) == 5
    assert messages_text(events) == messages_text(normal)
    assert events[-1]["type"] == "message_stop"

    normal = converse_events(emulator_runtime, HAIKU45_US)[:-1]  # without the timing metadata
    emulator.add_fault(Fault("unknown_event", after_tokens=3))
    emulator.requests.clear()
    # botocore drops events whose :event-type it does not know
    assert converse_events(emulator_runtime, HAIKU45_US)[:-1] == normal
    assert emulator.requests[-1].operation == "ConverseStream"


def test_long_reply(emulator, emulator_runtime):
    emulator.add_fault(Fault("long_reply", tokens=2500))
    events = invoke_events(emulator_runtime, HAIKU45_US, messages_body(max_tokens=4096))
    assert events[-2]["usage"]["output_tokens"] == 2500
    assert events[-2]["delta"]["stop_reason"] == "end_turn"
    assert "**Part " in messages_text(events)

    emulator.add_fault(Fault("long_reply", tokens=2500))
    events = converse_events(emulator_runtime, HAIKU45_US, inferenceConfig={"maxTokens": 300})
    assert events[-2] == {"messageStop": {"stopReason": "max_tokens"}}
    assert events[-1]["metadata"]["usage"]["outputTokens"] == 300


def test_fault_definitions():
    with pytest.raises(ValueError):
        Fault("explode")
    with pytest.raises(ValueError):
        Fault("throttling", times=0)
    fault = parse_fault("stream_throttling:after_tokens=5,times=2")
    assert (fault.kind, fault.after_tokens, fault.times) == ("stream_throttling", 5, 2)
    assert parse_fault("stall:seconds=1.5,times=forever").times is None


# ---------------------------------------------------------------------------------------------
# Pacing, concurrency, lifecycle


def timed_deltas(client, text="Hi", max_tokens=12):
    response = client.converse_stream(
        modelId=HAIKU45_US, messages=user(text), inferenceConfig={"maxTokens": max_tokens}
    )
    return [time.monotonic() for e in response["stream"] if "contentBlockDelta" in e]


def test_chunks_arrive_incrementally(paced_emulator, emulator_client):
    client = emulator_client(paced_emulator.url)
    stamps = timed_deltas(client, max_tokens=12)
    assert len(stamps) == 12
    # 20 tokens per second: 11 gaps of about 50 ms between the first delta and the last
    assert stamps[-1] - stamps[0] >= 0.4
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert sum(gap > 0.02 for gap in gaps) >= 8


def test_two_clients_stream_at_once(paced_emulator, emulator_client):
    clients = [emulator_client(paced_emulator.url) for _ in range(2)]
    results: dict[int, list[float]] = {}

    def run(index):
        results[index] = timed_deltas(clients[index], text=f"client {index}")

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert [len(results[i]) for i in range(2)] == [12, 12]
    # the two streams overlap in time instead of running one after the other
    assert results[0][0] < results[1][-1] and results[1][0] < results[0][-1]


def test_stop_returns_promptly_while_streams_are_open(emulator_client):
    emu = Emulator(tokens_per_second=20.0, first_token_delay=0.0).start()
    emu.add_fault(Fault("long_reply", tokens=1000, times=None))
    emu.add_fault(Fault("stall", after_tokens=2, seconds=30))
    client = emulator_client(emu.url)
    responses = [
        client.converse_stream(
            modelId=HAIKU45_US, messages=user("Hi"), inferenceConfig={"maxTokens": 4096}
        )
        for _ in range(2)
    ]
    iterators = [iter(r["stream"]) for r in responses]
    for iterator in iterators:
        next(iterator)  # both streams are open
    started = time.monotonic()
    emu.stop()
    assert time.monotonic() - started < 1.0
    for iterator in iterators:
        with pytest.raises(urllib3.exceptions.ProtocolError):
            for _ in iterator:
                pass
    assert not emu.running


def test_start_stop_without_context_manager():
    emu = Emulator(tokens_per_second=None)
    with pytest.raises(RuntimeError):
        _ = emu.url
    emu.start()
    first = emu.url
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", first)
    emu.stop()
    emu.stop()  # idempotent
    assert not emu.running


def test_command_line_emulator_streams_a_reply(emulator_client):
    process = subprocess.Popen(
        [sys.executable, "-m", "tui_chat.emulator", "--port", "0", "--speed", "full", "--quiet"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put(line) for line in process.stdout], daemon=True
    ).start()
    try:
        printed = []
        while not any("export AWS_ENDPOINT_URL_BEDROCK_RUNTIME=" in line for line in printed):
            printed.append(lines.get(timeout=15))
        url = re.search(r"http://127\.0\.0\.1:\d+", printed[0]).group(0)
        assert f"export AWS_ENDPOINT_URL_BEDROCK_RUNTIME={url}\n" in printed
        client = emulator_client(url)
        events = invoke_events(client, HAIKU45_US, messages_body("From the command line"))
        assert "“From the command line”" in messages_text(events)
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


def test_scripted_reply_is_streamed_exactly(emulator, emulator_runtime):
    text = "Plain [bold]markup[/bold] and \x1b[31mred\x1b[0m\nsecond line"
    emulator.add_fault(Fault("scripted_reply", text=text))
    response = emulator_runtime.converse_stream(
        modelId="meta.llama3-1-70b-instruct-v1:0",
        messages=[{"role": "user", "content": [{"text": "hi"}]}],
    )
    pieces = [
        event["contentBlockDelta"]["delta"]["text"]
        for event in response["stream"]
        if "contentBlockDelta" in event
    ]
    assert "".join(pieces) == text
    assert len(pieces) > 3
