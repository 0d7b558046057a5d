"""Request building (what is sent, model rules, turn shape) and the three stream parsers."""

import base64
import json

import pytest

from tui_chat.bedrock.errors import BedrockError
from tui_chat.bedrock.events import TextDelta
from tui_chat.bedrock.formats import (
    Ending,
    parse_converse,
    parse_messages,
    parse_text_completion,
    prepare,
    text_completion_prompt,
    turns_from_messages,
)
from tui_chat.conversation import Message
from tui_chat.params import ParamError, Params

SONNET_45 = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
HAIKU_3 = "anthropic.claude-3-haiku-20240307-v1:0"


def user(text):
    return Message(role="user", content=text)


def assistant(text, status="complete"):
    return Message(role="assistant", content=text, status=status)


def test_turns_merge_skip_and_trim():
    turns = turns_from_messages(
        [
            assistant("greeting before any user turn"),
            user("one"),
            assistant("", status="cancelled"),
            user("two"),
            assistant("partial", status="cancelled"),
            assistant("  ", status="error"),
            user("three"),
            assistant("prefill  \n"),
        ]
    )
    assert [(t.role, t.text) for t in turns] == [
        ("user", "one\n\ntwo"),
        ("assistant", "partial"),
        ("user", "three"),
        ("assistant", "prefill"),
    ]


def test_legacy_prompt_shape():
    turns = turns_from_messages([user("Hi"), assistant("Hello!"), user("Blue?")])
    assert (
        text_completion_prompt(turns, "Be brief.")
        == "Be brief.\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Blue?\n\nAssistant:"
    )
    assert text_completion_prompt(turns[:1]) == "\n\nHuman: Hi\n\nAssistant:"


def test_defaults_are_not_sent_and_max_tokens_always_is():
    prepared = prepare([user("hi")], Params(model=HAIKU_3, max_tokens_to_sample=300))
    assert prepared.body == {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 300,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
    }
    assert prepared.sent == {"model": HAIKU_3, "max_tokens_to_sample": 300}
    assert prepared.omitted == []


def test_changed_values_are_sent():
    params = Params(
        model=HAIKU_3,
        max_tokens_to_sample=50,
        temperature=0.2,
        top_p=0.8,
        top_k=40,
        stop_sequences=("END",),
        system="Be terse.",
    )
    body = prepare([user("hi")], params).body
    assert body["temperature"] == 0.2
    assert body["top_p"] == 0.8
    assert body["top_k"] == 40
    assert body["stop_sequences"] == ["END"]
    assert body["system"] == "Be terse."


def test_claude_45_leaves_out_top_p_when_temperature_is_set():
    prepared = prepare([user("hi")], Params(model=SONNET_45, temperature=0.3, top_p=0.5))
    assert prepared.body["temperature"] == 0.3
    assert "top_p" not in prepared.body
    assert prepared.omitted == ["top_p"]
    only_top_p = prepare([user("hi")], Params(model=SONNET_45, top_p=0.5))
    assert only_top_p.body["top_p"] == 0.5 and only_top_p.omitted == []


def test_non_anthropic_models_take_no_top_k():
    prepared = prepare(
        [user("hi")], Params(model="meta.llama3-1-70b-instruct-v1:0", top_k=40, temperature=0.9)
    )
    assert prepared.operation == "ConverseStream"
    assert prepared.body == {
        "messages": [{"role": "user", "content": [{"text": "hi"}]}],
        # Llama's own default top_p is 0.9, so the seed's 1.0 differs and is sent.
        "inferenceConfig": {"maxTokens": 256, "temperature": 0.9, "topP": 1.0},
    }
    assert prepared.omitted == ["top_k"]


def test_converse_for_unknown_models_with_system_and_stops():
    prepared = prepare(
        [user("hi")],
        Params(model="acme.new-model-v1", system="sys", stop_sequences=("x",), top_p=0.5),
    )
    assert prepared.body["system"] == [{"text": "sys"}]
    assert prepared.body["inferenceConfig"] == {
        "maxTokens": 256,
        "topP": 0.5,
        "stopSequences": ["x"],
    }


def test_legacy_body():
    prepared = prepare(
        [user("Hi")], Params(model="anthropic.claude-v2", top_k=10, stop_sequences=("END",))
    )
    assert prepared.body == {
        "prompt": "\n\nHuman: Hi\n\nAssistant:",
        "max_tokens_to_sample": 256,
        "top_k": 10,
        "stop_sequences": ["END"],
    }


def test_whitespace_system_prompt_is_not_sent():
    prepared = prepare([user("hi")], Params(model=HAIKU_3, system="  \n"))
    assert "system" not in prepared.body


def test_max_tokens_above_the_model_limit_is_refused():
    with pytest.raises(ParamError, match="from 1 to 4096"):
        prepare([user("hi")], Params(model=HAIKU_3, max_tokens_to_sample=5000))


def test_nothing_to_send_is_refused():
    with pytest.raises(ParamError):
        prepare([assistant("only me")], Params(model=HAIKU_3))


def chunk(data):
    return {"chunk": {"bytes": json.dumps(data).encode()}}


def test_parse_text_completion():
    events = [
        chunk({"completion": " Hello", "stop_reason": None, "stop": None}),
        {"somethingNew": {}},
        chunk({"completion": "!", "stop_reason": None, "stop": None}),
        chunk(
            {
                "completion": "",
                "stop_reason": "stop_sequence",
                "stop": "\n\nHuman:",
                "amazon-bedrock-invocationMetrics": {"inputTokenCount": 7, "outputTokenCount": 2},
            }
        ),
    ]
    out = list(parse_text_completion(events))
    assert out == [
        TextDelta(" Hello"),
        TextDelta("!"),
        Ending("end_turn", "stop_sequence", "", 7, 2),
    ]


def test_parse_text_completion_user_stop_sequence():
    events = [chunk({"completion": "a", "stop_reason": "stop_sequence", "stop": "END"})]
    assert list(parse_text_completion(events))[-1].reason == "stop_sequence"
    assert list(parse_text_completion(events))[-1].stop_sequence == "END"


def test_parse_messages():
    events = [
        chunk({"type": "message_start", "message": {"usage": {"input_tokens": 9}}}),
        chunk({"type": "content_block_start", "index": 0}),
        chunk(
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": "Hi"},
            }
        ),
        chunk({"type": "mystery_event"}),
        chunk(
            {
                "type": "message_delta",
                "delta": {"stop_reason": "stop_sequence", "stop_sequence": "END"},
                "usage": {"output_tokens": 3},
            }
        ),
        chunk({"type": "message_stop"}),
    ]
    assert list(parse_messages(events)) == [
        TextDelta("Hi"),
        Ending("stop_sequence", "stop_sequence", "END", 9, 3),
    ]


def test_parse_messages_base64_string_bytes():
    data = base64.b64encode(json.dumps({"type": "message_stop"}).encode()).decode()
    assert next(iter(parse_messages([{"chunk": {"bytes": data}}]))).reason == "end_turn"


def test_parse_messages_error_event_is_the_seed_overload():
    events = [
        chunk({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    ]
    with pytest.raises(BedrockError) as info:
        list(parse_messages(events))
    assert info.value.kind == "overloaded"


def test_parse_messages_bad_json():
    with pytest.raises(BedrockError) as info:
        list(parse_messages([{"chunk": {"bytes": b"{not json"}}]))
    assert info.value.kind == "bad_response"


def test_parse_converse():
    events = [
        {"messageStart": {"role": "assistant"}},
        {"contentBlockDelta": {"contentBlockIndex": 0, "delta": {"text": "Hey"}}},
        {"contentBlockStop": {"contentBlockIndex": 0}},
        {"messageStop": {"stopReason": "max_tokens"}},
        {"metadata": {"usage": {"inputTokens": 4, "outputTokens": 1}, "metrics": {"latencyMs": 5}}},
    ]
    assert list(parse_converse(events)) == [
        TextDelta("Hey"),
        Ending("max_tokens", "max_tokens", "", 4, 1),
    ]


def test_no_stop_event_means_no_ending():
    assert list(parse_converse([{"contentBlockDelta": {"delta": {"text": "x"}}}])) == [
        TextDelta("x")
    ]
