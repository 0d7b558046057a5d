"""Today's Claude models in the request builder: sampling they refuse, thinking, effort, prompt
caching, prefill, rules learned from Bedrock, and the thinking and cache fields in both
parsers."""

import base64
import json

import pytest

from tui_chat.bedrock.events import RedactedThinking, TextDelta, ThinkingDelta, ThinkingSignature
from tui_chat.bedrock.formats import (
    CONTINUE_PROMPT,
    Ending,
    parse_converse,
    parse_messages,
    prepare,
)
from tui_chat.bedrock.refusals import refused_parameters
from tui_chat.conversation import Message
from tui_chat.params import ParamError, Params

SONNET_55 = "us.anthropic.claude-sonnet-5-5"
OPUS_47 = "us.anthropic.claude-opus-4-7"
OPUS_46 = "us.anthropic.claude-opus-4-6-v1"
SONNET_45 = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
HAIKU_45 = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
SONNET_4 = "us.anthropic.claude-sonnet-4-20250514-v1:0"


def user(text):
    return Message(role="user", content=text)


def assistant(text, **fields):
    return Message(role="assistant", content=text, **fields)


def params(model, **values):
    return Params(model=model, max_tokens_to_sample=values.pop("max_tokens", 8192), **values)


# -- sampling -------------------------------------------------------------------------------


def test_a_current_model_sends_no_sampling_parameter_and_says_why():
    prepared = prepare([user("hi")], params(SONNET_55, temperature=0.2, top_p=0.5, top_k=40))
    for key in ("temperature", "top_p", "top_k"):
        assert key not in prepared.body
        assert key not in prepared.sent
    assert prepared.omitted == ["temperature", "top_p", "top_k"]
    assert prepared.reasons["temperature"] == "Claude Sonnet 5.5 sets its own sampling"


def test_default_sampling_values_are_not_mentioned():
    prepared = prepare([user("hi")], params(SONNET_55))
    assert prepared.omitted == []


# -- thinking -------------------------------------------------------------------------------


def test_always_thinking_model_asks_for_summarized_adaptive_thinking():
    body = prepare([user("hi")], params(SONNET_55)).body
    assert body["thinking"] == {"type": "adaptive", "display": "summarized"}


def test_adaptive_on_4_6_has_no_display_field_and_off_sends_nothing():
    assert prepare([user("hi")], params(OPUS_46, thinking="adaptive")).body["thinking"] == {
        "type": "adaptive"
    }
    assert "thinking" not in prepare([user("hi")], params(OPUS_46, thinking="off")).body
    assert "thinking" not in prepare([user("hi")], params(OPUS_47)).body


def test_budget_thinking_and_the_sampling_it_leaves_out():
    prepared = prepare(
        [user("hi")], params(SONNET_4, thinking=2048, temperature=0.5, top_k=10, top_p=0.9)
    )
    assert prepared.body["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert prepared.sent["thinking"] == 2048
    assert {"temperature", "top_k", "top_p"} <= set(prepared.omitted)
    assert prepared.reasons["temperature"] == "not taken while the model thinks"
    kept = prepare([user("hi")], params(SONNET_4, thinking=2048, top_p=0.97))
    assert kept.body["top_p"] == 0.97


@pytest.mark.parametrize(
    ("model", "thinking", "max_tokens", "allowed"),
    [
        (SONNET_45, 1024, 1024, "off: a thinking budget must be at least 1,024 and below max"),
        (SONNET_45, 9000, 8192, "a budget from 1,024 to 8,191 (below max tokens, 8,192)"),
        (SONNET_45, "adaptive", 8192, "off or a budget of at least 1,024 tokens"),
        (OPUS_47, 4096, 8192, "off or adaptive for Claude Opus 4.7 (it takes no thinking budget)"),
    ],
)
def test_invalid_thinking_is_refused_before_sending(model, thinking, max_tokens, allowed):
    with pytest.raises(ParamError) as caught:
        prepare([user("hi")], params(model, thinking=thinking, max_tokens=max_tokens))
    assert caught.value.name == "thinking"
    assert allowed in caught.value.allowed


def test_thinking_on_a_model_without_it_is_left_out():
    prepared = prepare(
        [user("hi")],
        params("anthropic.claude-3-opus-20240229-v1:0", thinking=2048, max_tokens=4096),
    )
    assert "thinking" not in prepared.body
    assert prepared.omitted == ["thinking"]


# -- effort ---------------------------------------------------------------------------------


def test_effort_is_a_top_level_output_config_and_the_default_is_not_sent():
    assert prepare([user("hi")], params(SONNET_55, effort="low")).body["output_config"] == {
        "effort": "low"
    }
    assert "output_config" not in prepare([user("hi")], params(SONNET_55, effort="high")).body
    # Opus 5.5's own default is medium: high differs and is sent.
    opus_55 = prepare([user("hi")], params("us.anthropic.claude-opus-5-5", effort="high"))
    assert opus_55.body["output_config"] == {"effort": "high"}


def test_effort_a_model_does_not_take_is_left_out():
    prepared = prepare([user("hi")], params(SONNET_45, effort="low"))
    assert "output_config" not in prepared.body and prepared.omitted == ["effort"]
    assert prepared.reasons["effort"] == "Claude Sonnet 4.5 takes no effort setting"
    xhigh = prepare([user("hi")], params(OPUS_46, effort="xhigh"))
    assert xhigh.omitted == ["effort"]
    assert "low, medium, high, max" in xhigh.reasons["effort"]


# -- prompt caching -------------------------------------------------------------------------


def test_cache_points_after_the_system_prompt_and_the_history():
    system = "You are a careful assistant. " * 200  # ~1,500 tokens
    history = [user("first " * 1500), assistant("answer"), user("second question")]
    body = prepare(history, params(SONNET_45, system=system, cache_prompt=True)).body
    assert body["system"] == [
        {"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}
    ]
    marked = [
        (n, b["text"][:6])
        for n, m in enumerate(body["messages"])
        for b in m["content"]
        if "cache_control" in b
    ]
    assert marked == [(0, "first "), (2, "second")]


def test_no_cache_point_below_the_models_minimum_or_when_off():
    short = prepare([user("hello")], params(HAIKU_45, cache_prompt=True, system="Be brief.")).body
    assert "cache_control" not in json.dumps(short)
    # 5,000 characters are ~1,250 tokens: enough for Sonnet 4.5 (1,024), not Haiku 4.5 (4,096).
    text = "x" * 5000
    assert "cache_control" not in json.dumps(
        prepare([user(text)], params(HAIKU_45, cache_prompt=True)).body
    )
    assert "cache_control" in json.dumps(
        prepare([user(text)], params(SONNET_45, cache_prompt=True)).body
    )
    assert "cache_control" not in json.dumps(
        prepare([user(text)], params(SONNET_45, cache_prompt=False)).body
    )


def test_converse_carries_cache_points_thinking_and_effort():
    history = [user("y" * 6000)]
    prepared = prepare(
        history,
        params(SONNET_55, effort="low", system="s" * 5000, cache_prompt=True),
        fmt="converse",
    )
    body = prepared.body
    assert prepared.operation == "ConverseStream"
    assert body["system"] == [{"text": "s" * 5000}, {"cachePoint": {"type": "default"}}]
    assert body["messages"][0]["content"][-1] == {"cachePoint": {"type": "default"}}
    assert body["additionalModelRequestFields"]["thinking"] == {
        "type": "adaptive",
        "display": "summarized",
    }
    assert body["outputConfig"] == {"effort": "low"}


# -- prefill and continuation ---------------------------------------------------------------


def test_continuing_on_a_model_without_prefill_asks_with_a_user_turn():
    history = [user("Write a long story"), assistant("Once upon a time", stop_reason="max_tokens")]
    prepared = prepare(history, params(SONNET_55), continuing=True)
    roles = [(m["role"], m["content"][-1]["text"]) for m in prepared.body["messages"]]
    assert roles[-2:] == [("assistant", "Once upon a time"), ("user", CONTINUE_PROMPT)]
    assert "continued with a user turn" in prepared.notes[0]
    with pytest.raises(ParamError, match="takes no prefill"):
        prepare(history, params(SONNET_55))


def test_continuing_a_thinking_reply_sends_its_signed_thinking_first():
    signed = [{"type": "thinking", "text": "Plan: a story.", "signature": "sig=="}]
    history = [user("Story"), assistant("Once", thinking=signed)]
    body = prepare(history, params(SONNET_4, thinking=2048), continuing=True).body
    assert body["messages"][-1]["content"] == [
        {"type": "thinking", "thinking": "Plan: a story.", "signature": "sig=="},
        {"type": "text", "text": "Once"},
    ]
    # Thinking cut before its signature cannot be sent back: the continuation goes without.
    unsigned = [user("Story"), assistant("Once", thinking=[{"type": "thinking", "text": "Pl"}])]
    prepared = prepare(unsigned, params(SONNET_4, thinking=2048), continuing=True)
    assert "thinking" not in prepared.body
    assert prepared.body["messages"][-1]["content"] == [{"type": "text", "text": "Once"}]


def test_earlier_turns_thinking_is_left_out():
    thought = [{"type": "thinking", "text": "hmm", "signature": "s"}]
    history = [user("a"), assistant("b", thinking=thought), user("c")]
    body = prepare(history, params(SONNET_55)).body
    assert body["messages"][1]["content"] == [{"type": "text", "text": "b"}]


# -- rules learned from Bedrock ------------------------------------------------------------


def test_refused_parameters_are_left_out_with_bedrocks_reason():
    refused = {"temperature": "Bedrock refused it on 2026-11-30", "effort": "refused too"}
    prepared = prepare(
        [user("hi")],
        params("acme.new-model-v1", temperature=0.3, effort="low"),
        refused=refused,
    )
    assert "temperature" not in prepared.body["inferenceConfig"]
    assert prepared.reasons["temperature"] == "Bedrock refused it on 2026-11-30"
    assert "outputConfig" not in prepared.body


def test_a_refused_budget_becomes_adaptive_where_the_model_takes_it():
    prepared = prepare([user("hi")], params(OPUS_46, thinking=4096), refused={"budget": "refused"})
    assert prepared.body["thinking"] == {"type": "adaptive"}


@pytest.mark.parametrize(
    ("message", "rules"),
    [
        (
            "The model returned the following errors: temperature is deprecated for this model.",
            ["temperature"],
        ),
        (
            "`temperature` and `top_p` cannot both be specified for this model. Please use only "
            "one.",
            ["one-of"],
        ),
        ("Malformed input request: #: extraneous key [top_k] is not permitted", ["top_k"]),
        (
            '"thinking.type.enabled" is not supported for this model. Use '
            '"thinking.type.adaptive" and "output_config.effort" to control thinking behavior.',
            ["budget"],
        ),
        (
            "This model does not support assistant message prefill. The conversation must end "
            "with a user message.",
            ["prefill"],
        ),
        ("output_config.effort: effort is not supported for this model.", ["effort"]),
        ("thinking.enabled.budget_tokens: Input should be greater than or equal to 1024", []),
        ("Input is too long for requested model.", []),
    ],
)
def test_what_a_refusal_teaches(message, rules):
    assert refused_parameters(message) == rules


# -- parsers --------------------------------------------------------------------------------


def chunk(data):
    return {"chunk": {"bytes": json.dumps(data).encode()}}


def test_parse_messages_thinking_then_text_with_cache_usage():
    events = [
        chunk(
            {
                "type": "message_start",
                "message": {
                    "usage": {
                        "input_tokens": 7,
                        "cache_read_input_tokens": 2000,
                        "cache_creation_input_tokens": 300,
                    }
                },
            }
        ),
        chunk({"type": "content_block_start", "index": 0, "content_block": {"type": "thinking"}}),
        chunk(
            {"type": "content_block_delta", "delta": {"type": "thinking_delta", "thinking": "A"}}
        ),
        chunk(
            {"type": "content_block_delta", "delta": {"type": "signature_delta", "signature": "S"}}
        ),
        chunk(
            {
                "type": "content_block_start",
                "index": 1,
                "content_block": {"type": "redacted_thinking", "data": "opaque"},
            }
        ),
        chunk({"type": "content_block_delta", "delta": {"type": "text_delta", "text": "Hi"}}),
        chunk(
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn"},
                "usage": {"output_tokens": 9},
            }
        ),
        chunk({"type": "message_stop"}),
    ]
    assert list(parse_messages(events)) == [
        ThinkingDelta("A"),
        ThinkingSignature("S"),
        RedactedThinking("opaque"),
        TextDelta("Hi"),
        Ending("end_turn", "end_turn", "", 7, 9, 2000, 300),
    ]


def test_parse_converse_reasoning_and_cache_usage():
    events = [
        {"contentBlockDelta": {"delta": {"reasoningContent": {"text": "think"}}}},
        {"contentBlockDelta": {"delta": {"reasoningContent": {"signature": "sig"}}}},
        {"contentBlockDelta": {"delta": {"reasoningContent": {"redactedContent": b"\x00\x01"}}}},
        {"contentBlockDelta": {"delta": {"text": "answer"}}},
        {"messageStop": {"stopReason": "end_turn"}},
        {
            "metadata": {
                "usage": {
                    "inputTokens": 5,
                    "outputTokens": 3,
                    "cacheReadInputTokens": 100,
                    "cacheWriteInputTokens": 50,
                }
            }
        },
    ]
    assert list(parse_converse(events)) == [
        ThinkingDelta("think"),
        ThinkingSignature("sig"),
        RedactedThinking(base64.b64encode(b"\x00\x01").decode()),
        TextDelta("answer"),
        Ending("end_turn", "end_turn", "", 5, 3, 100, 50),
    ]


def test_thinking_blocks_accumulate_on_a_message():
    message = assistant("")
    message.add_thinking("Let me ")
    message.add_thinking("think.", signature="s1")
    message.add_thinking(redacted="opaque")
    message.add_thinking("More.")
    assert message.thinking == [
        {"type": "thinking", "text": "Let me think.", "signature": "s1"},
        {"type": "redacted", "data": "opaque"},
        {"type": "thinking", "text": "More."},
    ]
    assert message.thinking_text == "Let me think.More."
    assert message.thinking_redacted
