"""Today's Claude models on the emulator: each model's rules, thinking, effort, prompt caching,
end of life and the catalogue, driven only through real boto3 on both APIs."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime

import pytest

from tui_chat.emulator import FAULT_KINDS, Fault
from tui_chat.emulator.__main__ import parse_fault

from .conftest import refused

HAIKU3 = "anthropic.claude-3-haiku-20240307-v1:0"
SONNET35 = "anthropic.claude-3-5-sonnet-20240620-v1:0"
HAIKU35 = "anthropic.claude-3-5-haiku-20241022-v1:0"
SONNET37 = "anthropic.claude-3-7-sonnet-20250219-v1:0"
EOL_MODELS = (HAIKU3, SONNET35, HAIKU35, SONNET37)
CLAUDE_V2 = "anthropic.claude-v2"
SONNET4 = "us.anthropic.claude-sonnet-4-20250514-v1:0"  # sampling: all; budget thinking
SONNET45 = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
HAIKU45 = "us.anthropic.claude-haiku-4-5-20251001-v1:0"  # one-of; budget; cache min 4096
OPUS45 = "us.anthropic.claude-opus-4-5-20251101-v1:0"  # effort low/medium/high
OPUS46 = "us.anthropic.claude-opus-4-6-v1"  # adaptive (enabled deprecated), no prefill
SONNET46 = "us.anthropic.claude-sonnet-4-6"
OPUS47 = "us.anthropic.claude-opus-4-7"  # no sampling, adaptive only, display; cache 4096
OPUS48 = "us.anthropic.claude-opus-4-8"  # cache min 1024
SONNET5 = "us.anthropic.claude-sonnet-5"  # thinks always
OPUS5 = "us.anthropic.claude-opus-5"
FABLE5 = "us.anthropic.claude-fable-5"
OPUS55 = "us.anthropic.claude-opus-5-5"  # effort default medium
STRICT = "emulator.strict-sampler-v1:0"
LLAMA = "meta.llama3-1-70b-instruct-v1:0"
MODEL_ERRORS = "The model returned the following errors: "
END_OF_LIFE = (
    "This model version has reached the end of its life. Please refer to the AWS documentation "
    "for more details."
)
PREFILL = (
    "This model does not support assistant message prefill. The conversation must end with a "
    "user message."
)
ENABLED_REFUSED = (
    '"thinking.type.enabled" is not supported for this model. Use "thinking.type.adaptive" and '
    '"output_config.effort" to control thinking behavior.'
)
BUDGET_NOT_BELOW_MAX = (
    "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our "
    "documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
    "#max-tokens-and-context-window-size"
)
TEMPERATURE_TOP_P = (
    "`temperature` and `top_p` cannot both be specified for this model. Please use only one."
)
ENABLED = {"type": "enabled", "budget_tokens": 1024}
ADAPTIVE = {"type": "adaptive"}
SUMMARIZED = {"type": "adaptive", "display": "summarized"}
FIVE_LEVELS = ("low", "medium", "high", "xhigh", "max")


# ---------------------------------------------------------------------------------------------
# helpers: one request through either API, reduced to what the tests compare


def messages_body(text="Hello there", *, messages=None, max_tokens=2048, **extra):
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": max_tokens,
        "messages": messages or [{"role": "user", "content": text}],
    }
    body.update(extra)
    return body


def user(text):
    return [{"role": "user", "content": [{"text": text}]}]


def invoke_events(client, model, body):
    response = client.invoke_model_with_response_stream(modelId=model, body=json.dumps(body))
    return [json.loads(event["chunk"]["bytes"]) for event in response["body"]]


def invoke(client, model, body):
    response = client.invoke_model(modelId=model, body=json.dumps(body))
    return json.loads(response["body"].read()), response["ResponseMetadata"]["HTTPHeaders"]


def converse_kwargs(text="Hello there", *, messages=None, max_tokens=2048, **options):
    """Converse arguments: inferenceConfig from temperature/topP, Claude fields from the rest."""
    config = {"maxTokens": max_tokens}
    for key in ("temperature", "topP"):
        if key in options:
            config[key] = options.pop(key)
    extra = {key: options.pop(key) for key in ("top_k", "thinking") if key in options}
    kwargs = {"messages": messages or user(text), "inferenceConfig": config, **options}
    if extra:
        kwargs["additionalModelRequestFields"] = extra
    return kwargs


def converse_events(client, model, text="Hello there", **options):
    response = client.converse_stream(modelId=model, **converse_kwargs(text, **options))
    return list(response["stream"])


def refused_on_both_apis(client, model, *, messages_message, converse_message, **params):
    """Send the same settings through InvokeModel (Messages body) and ConverseStream.

    ``params`` uses Messages names (temperature, top_p, top_k, thinking, effort).
    """
    body_params = dict(params)
    effort = body_params.pop("effort", None)
    if effort is not None:
        body_params["output_config"] = {"effort": effort}
    message = refused(lambda: invoke_events(client, model, messages_body(**body_params)))
    assert message == messages_message
    converse_params = dict(params)
    if "top_p" in converse_params:
        converse_params["topP"] = converse_params.pop("top_p")
    effort = converse_params.pop("effort", None)
    if effort is not None:
        converse_params["outputConfig"] = {"effort": effort}
    message = refused(lambda: converse_events(client, model, **converse_params))
    assert message == converse_message


def accepted_on_both_apis(client, model, **params):
    """Both APIs answer; the two texts (from the Messages and the Converse stream)."""
    params = {key: value for key, value in params.items() if value is not None}
    body_params = dict(params)
    effort = body_params.pop("effort", None)
    if effort is not None:
        body_params["output_config"] = {"effort": effort}
    events = invoke_events(client, model, messages_body(**body_params))
    assert events[-1]["type"] == "message_stop"
    converse_params = dict(params)
    if "top_p" in converse_params:
        converse_params["topP"] = converse_params.pop("top_p")
    effort = converse_params.pop("effort", None)
    if effort is not None:
        converse_params["outputConfig"] = {"effort": effort}
    converse = converse_events(client, model, **converse_params)
    assert "messageStop" in converse[-2]
    return text_of(events), converse_text(converse)


def text_of(events):
    return "".join(
        e["delta"]["text"]
        for e in events
        if e["type"] == "content_block_delta" and e["delta"]["type"] == "text_delta"
    )


def thinking_of(events):
    return "".join(
        e["delta"]["thinking"]
        for e in events
        if e["type"] == "content_block_delta" and e["delta"]["type"] == "thinking_delta"
    )


def converse_text(events):
    return "".join(
        e["contentBlockDelta"]["delta"].get("text", "") for e in events if "contentBlockDelta" in e
    )


def converse_reasoning(events):
    return [
        e["contentBlockDelta"]["delta"]["reasoningContent"]
        for e in events
        if "contentBlockDelta" in e and "reasoningContent" in e["contentBlockDelta"]["delta"]
    ]


def settings_line(text):
    return text.rsplit("\n\n", 1)[-1]


def without_settings(text):
    return text.rsplit("\n\n", 1)[0]


@pytest.fixture
def fresh_cache(emulator):
    """The shared emulator with an empty prompt cache (it outlives single tests otherwise)."""
    emulator.clear_cache()
    yield emulator
    emulator.clear_cache()


# ---------------------------------------------------------------------------------------------
# Catalogue: ListFoundationModels, lifecycle, profiles


def test_list_foundation_models_leaves_out_end_of_life_and_dates_the_rest(emulator_control):
    summaries = emulator_control.list_foundation_models()["modelSummaries"]
    by_id = {s["modelId"]: s for s in summaries}
    assert not set(EOL_MODELS) & set(by_id)
    for model in (SONNET4, HAIKU45, OPUS46, OPUS47, SONNET5, FABLE5, OPUS55, CLAUDE_V2):
        assert model.removeprefix("us.") in by_id, model
    for summary in summaries:
        lifecycle = summary["modelLifecycle"]
        assert lifecycle["status"] in ("ACTIVE", "LEGACY")
        assert isinstance(lifecycle["startOfLifeTime"], datetime)
        assert set(lifecycle) <= {"status", "startOfLifeTime", "legacyTime", "endOfLifeTime"}

    sonnet45 = by_id[SONNET45.removeprefix("us.")]["modelLifecycle"]
    assert sonnet45["status"] == "LEGACY"
    assert sonnet45["startOfLifeTime"] == datetime(2025, 9, 29, tzinfo=UTC)
    # AWS has published no end-of-life date for it: none is made up.
    assert "legacyTime" not in sonnet45 and "endOfLifeTime" not in sonnet45
    assert by_id[OPUS47.removeprefix("us.")]["modelLifecycle"] == {
        "status": "ACTIVE",
        "startOfLifeTime": datetime(2026, 4, 16, tzinfo=UTC),
    }
    assert by_id[HAIKU45.removeprefix("us.")]["modelLifecycle"]["status"] == "ACTIVE"
    # from Haiku 4.5 on, Claude models are reached through inference profiles only
    for model in (HAIKU45, OPUS46, SONNET46, OPUS47, OPUS48, SONNET5, OPUS5, FABLE5, OPUS55):
        assert by_id[model.removeprefix("us.")]["inferenceTypesSupported"] == ["INFERENCE_PROFILE"]

    strict = by_id[STRICT]
    assert strict["providerName"] == "Emulator"
    assert strict["inferenceTypesSupported"] == ["ON_DEMAND"]
    listed = emulator_control.list_foundation_models(byProvider="Emulator")["modelSummaries"]
    assert [s["modelId"] for s in listed] == [STRICT]


def test_get_foundation_model_of_an_end_of_life_model(emulator_control):
    details = emulator_control.get_foundation_model(modelIdentifier=OPUS47.removeprefix("us."))
    assert details["modelDetails"]["modelName"] == "Claude Opus 4.7"
    message = refused(lambda: emulator_control.get_foundation_model(modelIdentifier=SONNET37))
    assert message == "The provided model identifier is invalid."


def profile_ids(client):
    pages = client.get_paginator("list_inference_profiles").paginate()
    return {p["inferenceProfileId"] for page in pages for p in page["inferenceProfileSummaries"]}


def test_jp_and_au_profiles_are_listed_in_their_own_regions(emulator, emulator_client):
    tokyo = emulator_client(emulator.url, "bedrock", region_name="ap-northeast-1")
    ids = profile_ids(tokyo)
    assert {"jp.anthropic.claude-sonnet-4-5-20250929-v1:0", "jp.anthropic.claude-opus-5"} <= ids
    assert "global.anthropic.claude-opus-5" in ids
    assert {i.split(".", 1)[0] for i in ids} == {"jp", "global"}
    osaka = emulator_client(emulator.url, "bedrock", region_name="ap-northeast-3")
    assert profile_ids(osaka) == ids

    sydney = emulator_client(emulator.url, "bedrock", region_name="ap-southeast-2")
    ids = profile_ids(sydney)
    assert {"au.anthropic.claude-opus-4-8", "au.anthropic.claude-opus-5"} <= ids
    assert {i.split(".", 1)[0] for i in ids} == {"au", "global"}
    melbourne = emulator_client(emulator.url, "bedrock", region_name="ap-southeast-4")
    assert profile_ids(melbourne) == ids

    singapore = emulator_client(emulator.url, "bedrock", region_name="ap-southeast-1")
    ids = profile_ids(singapore)
    assert "apac.anthropic.claude-opus-4-6-v1" in ids
    assert {i.split(".", 1)[0] for i in ids} == {"apac", "global"}

    profile = tokyo.get_inference_profile(inferenceProfileIdentifier="jp.anthropic.claude-opus-5")
    assert profile["inferenceProfileName"] == "JP Anthropic Claude Opus 5"
    assert [m["modelArn"] for m in profile["models"]] == [
        "arn:aws:bedrock:ap-northeast-1::foundation-model/anthropic.claude-opus-5",
        "arn:aws:bedrock:ap-northeast-3::foundation-model/anthropic.claude-opus-5",
    ]
    profile = sydney.get_inference_profile(
        inferenceProfileIdentifier="au.anthropic.claude-opus-4-8"
    )
    assert profile["description"] == (
        "Routes requests to Anthropic Claude Opus 4.8 in ap-southeast-2 and ap-southeast-4."
    )


def test_profiles_follow_the_catalogue_and_resolve_for_the_runtime(
    emulator_control, emulator_runtime
):
    ids = profile_ids(emulator_control)  # us-east-1: us. and global.
    assert "us.anthropic.claude-opus-4-1-20250805-v1:0" in ids
    assert "global.anthropic.claude-opus-4-1-20250805-v1:0" not in ids  # Opus 4.1: us only
    assert "global.anthropic.claude-sonnet-4-20250514-v1:0" in ids
    assert not any(eol in i for i in ids for eol in EOL_MODELS)
    for model in ("jp.anthropic.claude-opus-5", "au.anthropic.claude-opus-4-8", OPUS46):
        events = converse_events(emulator_runtime, model, max_tokens=5)
        assert events[-2] == {"messageStop": {"stopReason": "max_tokens"}}, model
    for bare in ("anthropic.claude-opus-4-6-v1", "anthropic.claude-sonnet-5"):
        message = refused(lambda bare=bare: converse_events(emulator_runtime, bare))
        assert "with on-demand throughput isn’t supported" in message


# ---------------------------------------------------------------------------------------------
# End of life


@pytest.mark.parametrize("model", EOL_MODELS)
def test_end_of_life_models_answer_404_on_every_runtime_operation(emulator_runtime, model):
    ids = [
        model,
        "us." + model,
        "eu." + model,
        f"arn:aws:bedrock:us-east-1::foundation-model/{model}",
        f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.{model}",
    ]
    calls = {
        "InvokeModel": lambda m: emulator_runtime.invoke_model(
            modelId=m, body=json.dumps(messages_body())
        ),
        "InvokeModelWithResponseStream": lambda m: invoke_events(
            emulator_runtime, m, messages_body()
        ),
        "Converse": lambda m: emulator_runtime.converse(modelId=m, messages=user("Hi")),
        "ConverseStream": lambda m: converse_events(emulator_runtime, m),
    }
    for model_id in ids:
        for operation, call in calls.items():
            with pytest.raises(emulator_runtime.exceptions.ResourceNotFoundException) as info:
                call(model_id)
            response = info.value.response
            assert response["ResponseMetadata"]["HTTPStatusCode"] == 404, (model_id, operation)
            assert response["Error"]["Message"] == END_OF_LIFE


def test_end_of_life_fault_retires_one_model_for_a_while(emulator, emulator_runtime):
    assert "end_of_life" in FAULT_KINDS
    retire = emulator.add_fault(Fault("end_of_life", model=CLAUDE_V2, times=None))
    for call in (
        lambda: emulator_runtime.converse(modelId=CLAUDE_V2, messages=user("Hi")),
        lambda: invoke_events(emulator_runtime, CLAUDE_V2, messages_body(max_tokens=5)),
    ):
        with pytest.raises(emulator_runtime.exceptions.ResourceNotFoundException) as info:
            call()
        assert info.value.response["Error"]["Message"] == END_OF_LIFE
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert converse_events(emulator_runtime, SONNET4, max_tokens=3)  # other models are fine
    assert retire.used == 2
    emulator.clear_faults()
    assert converse_events(emulator_runtime, CLAUDE_V2, max_tokens=3)
    fault = parse_fault(f"end_of_life:model={CLAUDE_V2},times=forever")
    assert (fault.kind, fault.model, fault.times) == ("end_of_life", CLAUDE_V2, None)


# ---------------------------------------------------------------------------------------------
# Sampling rules


@pytest.mark.parametrize("model", [OPUS47, OPUS48, SONNET5, OPUS5, OPUS55])
@pytest.mark.parametrize(
    ("param", "value"), [("temperature", 0.5), ("top_p", 0.9), ("top_k", 5), ("temperature", 0)]
)
def test_sampling_none_refuses_anything_but_the_defaults(emulator_runtime, model, param, value):
    expected = f"{MODEL_ERRORS}{param} is deprecated for this model."
    refused_on_both_apis(
        emulator_runtime,
        model,
        messages_message=expected,
        converse_message=expected,
        **{param: value},
    )


def test_sampling_none_accepts_the_default_values(emulator_runtime):
    text, converse = accepted_on_both_apis(emulator_runtime, OPUS47, temperature=1.0, top_p=1.0)
    assert "temperature 1 · top_p 1 · top_k default" in text
    assert "temperature 1 · top_p 1 · top_k default" in converse


FABLE_REFUSED = [
    ({"temperature": 0.7}, "temperature must be 1.0 or unset for this model."),
    ({"temperature": 0}, "temperature must be 1.0 or unset for this model."),
    ({"top_p": 0.95}, "top_p must be at least 0.99 and less than 1.0 for this model."),
    ({"top_p": 1.0}, "top_p must be at least 0.99 and less than 1.0 for this model."),
    ({"top_k": 40}, "top_k is not supported for this model."),
]


@pytest.mark.parametrize(("params", "message"), FABLE_REFUSED)
def test_fable_sampling_rule(emulator_runtime, params, message):
    refused_on_both_apis(
        emulator_runtime,
        FABLE5,
        messages_message=MODEL_ERRORS + message,
        converse_message=MODEL_ERRORS + message,
        **params,
    )


def test_fable_accepts_temperature_one_and_top_p_just_below_one(emulator_runtime):
    text, _ = accepted_on_both_apis(emulator_runtime, FABLE5, temperature=1.0, top_p=0.99)
    assert "temperature 1 · top_p 0.99" in text
    assert accepted_on_both_apis(emulator_runtime, FABLE5, top_p=0.995)


@pytest.mark.parametrize("model", [OPUS46, SONNET46, OPUS45, HAIKU45])
def test_one_of_temperature_and_top_p(emulator_runtime, model):
    refused_on_both_apis(
        emulator_runtime,
        model,
        messages_message=TEMPERATURE_TOP_P,
        converse_message=MODEL_ERRORS + TEMPERATURE_TOP_P,
        temperature=0.5,
        top_p=0.9,
    )
    assert accepted_on_both_apis(emulator_runtime, model, temperature=0.5)
    assert accepted_on_both_apis(emulator_runtime, model, top_p=0.9)


def test_strict_sampler_refuses_any_temperature(emulator_runtime):
    expected = MODEL_ERRORS + "temperature is not supported by this model."
    for temperature in (0, 0.5, 1):
        for call in (emulator_runtime.converse, emulator_runtime.converse_stream):
            message = refused(
                lambda call=call, t=temperature: call(
                    modelId=STRICT, messages=user("Hi"), inferenceConfig={"temperature": t}
                )
            )
            assert message == expected
    # its native (Converse-shaped) InvokeModel body has the same rule
    body = {"messages": user("Hi"), "inferenceConfig": {"temperature": 0.2}}
    assert refused(lambda: invoke(emulator_runtime, STRICT, body)) == expected

    response = emulator_runtime.converse(
        modelId=STRICT, messages=user("Hi"), inferenceConfig={"topP": 0.5, "maxTokens": 300}
    )
    text = response["output"]["message"]["content"][0]["text"]
    assert "Strict sampler (emulator test model)" in text
    assert "temperature default · top_p 0.5" in text
    events = converse_events(emulator_runtime, STRICT, max_tokens=4)
    assert events[-2] == {"messageStop": {"stopReason": "max_tokens"}}


# ---------------------------------------------------------------------------------------------
# Thinking: what each model accepts


def test_budget_tokens_bounds(emulator_runtime):
    too_small = "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
    refused_on_both_apis(
        emulator_runtime,
        SONNET4,
        messages_message=too_small,
        converse_message=MODEL_ERRORS + too_small,
        thinking={"type": "enabled", "budget_tokens": 1023},
    )
    for budget in (2048, 3000):  # equal to max_tokens, and above it
        refused_on_both_apis(
            emulator_runtime,
            HAIKU45,
            messages_message=BUDGET_NOT_BELOW_MAX,
            converse_message=MODEL_ERRORS + BUDGET_NOT_BELOW_MAX,
            thinking={"type": "enabled", "budget_tokens": budget},
            max_tokens=2048,
        )
    assert accepted_on_both_apis(
        emulator_runtime, HAIKU45, thinking={"type": "enabled", "budget_tokens": 2047}
    )


THINKING_SAMPLING = [
    ({"temperature": 0.5}, "`temperature` may only be set to 1 when thinking is enabled."),
    ({"top_k": 10}, "`top_k` is not supported when thinking is enabled."),
    (
        {"top_p": 0.9},
        "`top_p` must be greater than or equal to 0.95 or unset when thinking is enabled.",
    ),
]


@pytest.mark.parametrize(("params", "message"), THINKING_SAMPLING)
@pytest.mark.parametrize(("model", "thinking"), [(SONNET4, ENABLED), (OPUS46, ADAPTIVE)])
def test_sampling_while_thinking(emulator_runtime, model, thinking, params, message):
    refused_on_both_apis(
        emulator_runtime,
        model,
        messages_message=message,
        converse_message=MODEL_ERRORS + message,
        thinking=thinking,
        **params,
    )
    # the same value is fine with thinking off
    assert accepted_on_both_apis(emulator_runtime, model, **params)


def test_sampling_values_allowed_while_thinking(emulator_runtime):
    text, _ = accepted_on_both_apis(
        emulator_runtime, SONNET4, thinking=ENABLED, temperature=1.0, top_p=0.95
    )
    assert "temperature 1 · top_p 0.95" in text


NOT_SUPPORTED = "thinking: extended thinking is not supported for this model."
EXTRA = "Extra inputs are not permitted"
THINKING_TYPES = [
    (OPUS47, ENABLED, ENABLED_REFUSED),
    (SONNET5, ENABLED, ENABLED_REFUSED),
    (OPUS47, {"type": "disabled"}, '"thinking.type.disabled" is not supported for this model.'),
    (FABLE5, {"type": "disabled"}, '"thinking.type.disabled" is not supported for this model.'),
    (HAIKU45, ADAPTIVE, '"thinking.type.adaptive" is not supported for this model.'),
    (OPUS45, ADAPTIVE, '"thinking.type.adaptive" is not supported for this model.'),
    (CLAUDE_V2, ENABLED, NOT_SUPPORTED),
    (CLAUDE_V2, {"type": "disabled"}, NOT_SUPPORTED),
    (OPUS46, SUMMARIZED, f"thinking.display: {EXTRA}"),  # display: Opus 4.7 on only
    (SONNET4, {**ENABLED, "display": "summarized"}, f"thinking.display: {EXTRA}"),
    (OPUS47, {**ADAPTIVE, "budget_tokens": 2000}, f"thinking.budget_tokens: {EXTRA}"),
    (
        OPUS47,
        {**ADAPTIVE, "display": "full"},
        "thinking.display: Input should be 'summarized' or 'omitted'",
    ),
    (SONNET4, {"type": "enabled"}, "thinking.enabled.budget_tokens: Field required"),
    (
        SONNET4,
        {"type": "sometimes"},
        "thinking: Input tag 'sometimes' found using 'type' does not match any of the expected "
        "tags: 'enabled', 'adaptive' or 'disabled'",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("model", "thinking", "message"), THINKING_TYPES)
def test_thinking_types_each_model_refuses(emulator_runtime, model, thinking, message):
    refused_on_both_apis(
        emulator_runtime,
        model,
        messages_message=message,
        converse_message=MODEL_ERRORS + message,
        thinking=thinking,
    )


def test_thinking_types_each_model_accepts(emulator_runtime):
    def thinking_setting(model, thinking):
        text, converse = accepted_on_both_apis(emulator_runtime, model, thinking=thinking)
        line = settings_line(text)
        assert line.split("·")[-1] == settings_line(converse).split("·")[-1]
        return line.split(" · ")[-1]

    assert thinking_setting(OPUS46, ENABLED) == "thinking budget 1024.*"  # deprecated, accepted
    assert thinking_setting(OPUS46, ADAPTIVE) == "thinking adaptive.*"
    assert thinking_setting(OPUS46, {"type": "disabled"}) == "thinking off.*"
    assert thinking_setting(HAIKU45, {"type": "disabled"}) == "thinking off.*"
    assert thinking_setting(OPUS47, SUMMARIZED) == "thinking adaptive.*"
    assert thinking_setting(OPUS47, {**ADAPTIVE, "display": "omitted"}) == "thinking adaptive.*"
    assert thinking_setting(SONNET5, ADAPTIVE) == "thinking adaptive.*"
    assert thinking_setting(SONNET5, None) == "thinking adaptive.*"  # always thinks
    assert thinking_setting(OPUS47, None) == "thinking off.*"  # adaptive only, not always


# ---------------------------------------------------------------------------------------------
# Thinking: the replies


def test_messages_stream_thinks_first_with_a_signature(emulator_runtime):
    events = invoke_events(
        emulator_runtime,
        SONNET4,
        messages_body(
            "Plan my garden", max_tokens=4096, thinking={"type": "enabled", "budget_tokens": 2048}
        ),
    )
    types = [(e["type"], e.get("index"), e.get("delta", {}).get("type")) for e in events]
    thinking_deltas = types.count(("content_block_delta", 0, "thinking_delta"))
    text_deltas = types.count(("content_block_delta", 1, "text_delta"))
    assert thinking_deltas > 50 and text_deltas > 50
    assert types == [
        ("message_start", None, None),
        ("content_block_start", 0, None),
        *[("content_block_delta", 0, "thinking_delta")] * thinking_deltas,
        ("content_block_delta", 0, "signature_delta"),
        ("content_block_stop", 0, None),
        ("content_block_start", 1, None),
        *[("content_block_delta", 1, "text_delta")] * text_deltas,
        ("content_block_stop", 1, None),
        ("message_delta", None, None),
        ("message_stop", None, None),
    ]
    assert events[1]["content_block"] == {"type": "thinking", "thinking": "", "signature": ""}
    assert events[thinking_deltas + 3] == {"type": "content_block_stop", "index": 0}
    assert events[thinking_deltas + 4]["content_block"] == {"type": "text", "text": ""}
    signature = events[thinking_deltas + 2]["delta"]["signature"]
    assert len(signature) > 40
    base64.b64decode(signature, validate=True)
    thinking = thinking_of(events)
    assert "“Plan my garden”" in thinking
    assert events[-2]["usage"]["output_tokens"] == thinking_deltas + text_deltas
    metrics = events[-1]["amazon-bedrock-invocationMetrics"]
    assert metrics["outputTokenCount"] == thinking_deltas + text_deltas
    text = text_of(events)
    assert "“Plan my garden”" in text
    assert settings_line(text).endswith("· effort default · thinking budget 2048.*")

    # the non-streaming body carries the same two blocks
    body, headers = invoke(
        emulator_runtime,
        SONNET4,
        messages_body(
            "Plan my garden", max_tokens=4096, thinking={"type": "enabled", "budget_tokens": 2048}
        ),
    )
    assert body["content"] == [
        {"type": "thinking", "thinking": thinking, "signature": signature},
        {"type": "text", "text": text},
    ]
    assert body["usage"]["output_tokens"] == thinking_deltas + text_deltas
    assert headers["x-amzn-bedrock-output-token-count"] == str(thinking_deltas + text_deltas)


def test_converse_stream_thinks_first_with_a_signature(emulator_runtime):
    events = converse_events(emulator_runtime, OPUS46, "Plan my garden", thinking=ADAPTIVE)
    kinds = []
    for event in events:
        if "contentBlockDelta" in event:
            delta = event["contentBlockDelta"]
            if "reasoningContent" in delta["delta"]:
                kinds.append(
                    ("reasoning", delta["contentBlockIndex"], *delta["delta"]["reasoningContent"])
                )
            else:
                kinds.append(("text", delta["contentBlockIndex"]))
        else:
            kinds.append((next(iter(event)),))
    reasoning = kinds.count(("reasoning", 0, "text"))
    texts = kinds.count(("text", 1))
    assert reasoning > 20 and texts > 50
    assert kinds == [
        ("messageStart",),
        *[("reasoning", 0, "text")] * reasoning,
        ("reasoning", 0, "signature"),
        ("contentBlockStop",),
        *[("text", 1)] * texts,
        ("contentBlockStop",),
        ("messageStop",),
        ("metadata",),
    ]
    assert events[reasoning + 2] == {"contentBlockStop": {"contentBlockIndex": 0}}
    assert events[-3] == {"contentBlockStop": {"contentBlockIndex": 1}}
    deltas = converse_reasoning(events)
    thinking = "".join(d.get("text", "") for d in deltas)
    signature = deltas[-1]["signature"]
    assert "“Plan my garden”" in thinking
    assert events[-1]["metadata"]["usage"]["outputTokens"] == reasoning + texts

    response = emulator_runtime.converse(
        modelId=OPUS46, **converse_kwargs("Plan my garden", thinking=ADAPTIVE)
    )
    assert response["output"]["message"]["content"] == [
        {"reasoningContent": {"reasoningText": {"text": thinking, "signature": signature}}},
        {"text": converse_text(events)},
    ]
    assert response["usage"]["outputTokens"] == reasoning + texts


def test_display_models_hide_the_thinking_text_unless_summarized(emulator_runtime):
    for model, thinking in ((OPUS47, ADAPTIVE), (SONNET5, None), (FABLE5, ADAPTIVE)):
        params = {"thinking": thinking} if thinking else {}
        events = invoke_events(emulator_runtime, model, messages_body(**params))
        assert thinking_of(events) == ""
        assert events[1]["content_block"]["type"] == "thinking"
        assert events[2]["delta"]["type"] == "signature_delta"
        assert events[3] == {"type": "content_block_stop", "index": 0}
        text_deltas = sum(1 for e in events if e.get("delta", {}).get("type") == "text_delta")
        # the hidden thinking is still billed as output
        assert events[-2]["usage"]["output_tokens"] > text_deltas

        converse = converse_events(emulator_runtime, model, **params)
        deltas = converse_reasoning(converse)
        assert [list(d) for d in deltas] == [["signature"]]
        usage = converse[-1]["metadata"]["usage"]
        assert usage["outputTokens"] > sum(
            "text" in e.get("contentBlockDelta", {}).get("delta", {}) for e in converse
        )

        body, _ = invoke(emulator_runtime, model, messages_body(**params))
        assert body["content"][0]["type"] == "thinking"
        assert body["content"][0]["thinking"] == ""
        assert body["content"][0]["signature"]

    summarized = invoke_events(emulator_runtime, OPUS47, messages_body(thinking=SUMMARIZED))
    assert "“Hello there”" in thinking_of(summarized)
    converse = converse_events(emulator_runtime, SONNET5, thinking=SUMMARIZED)
    assert "“Hello there”" in "".join(d.get("text", "") for d in converse_reasoning(converse))


def test_max_tokens_running_out_while_thinking(emulator_runtime):
    events = invoke_events(
        emulator_runtime, SONNET5, messages_body(thinking=SUMMARIZED, max_tokens=12)
    )
    assert [e["type"] for e in events] == [
        "message_start",
        "content_block_start",
        *["content_block_delta"] * 13,  # 12 thinking deltas and the signature
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert text_of(events) == ""
    assert events[-2]["delta"]["stop_reason"] == "max_tokens"
    assert events[-2]["usage"]["output_tokens"] == 12

    events = converse_events(emulator_runtime, SONNET5, max_tokens=12)
    assert [next(iter(e)) for e in events] == [
        "messageStart",
        "contentBlockDelta",  # the signature: the thinking text is hidden
        "contentBlockStop",
        "messageStop",
        "metadata",
    ]
    assert events[-2] == {"messageStop": {"stopReason": "max_tokens"}}
    assert events[-1]["metadata"]["usage"]["outputTokens"] == 12
    response = emulator_runtime.converse(modelId=SONNET5, **converse_kwargs(max_tokens=12))
    assert [list(b) for b in response["output"]["message"]["content"]] == [["reasoningContent"]]


def test_thinking_grows_with_effort(emulator_runtime):
    sentences = []
    for level in FIVE_LEVELS:
        events = invoke_events(
            emulator_runtime,
            OPUS47,
            messages_body(thinking=SUMMARIZED, output_config={"effort": level}),
        )
        thinking = thinking_of(events)
        sentences.append(len(re.findall(r"[.?!](?:\s|$)", thinking)))
    assert sentences == [1, 2, 3, 4, 5]

    budget = invoke_events(
        emulator_runtime,
        SONNET4,
        messages_body(thinking={"type": "enabled", "budget_tokens": 8000}, max_tokens=9000),
    )
    thinking_tokens = sum(1 for e in budget if e.get("delta", {}).get("type") == "thinking_delta")
    assert thinking_tokens == 400  # min(budget, 400) at the default (high) effort
    low = invoke_events(
        emulator_runtime,
        OPUS45,
        messages_body(thinking=ENABLED, output_config={"effort": "low"}),
    )
    assert sum(1 for e in low if e.get("delta", {}).get("type") == "thinking_delta") == 133


def test_redacted_thinking_fault(emulator, emulator_runtime):
    emulator.add_fault(Fault("redacted_thinking", times=4))
    events = invoke_events(emulator_runtime, HAIKU45, messages_body(thinking=ENABLED))
    assert events[1]["type"] == "content_block_start"
    block = events[1]["content_block"]
    assert set(block) == {"type", "data"} and block["type"] == "redacted_thinking"
    base64.b64decode(block["data"], validate=True)
    assert events[2] == {"type": "content_block_stop", "index": 0}
    assert events[3]["content_block"] == {"type": "text", "text": ""}
    assert {e["index"] for e in events if e["type"] == "content_block_delta"} == {1}

    events = converse_events(emulator_runtime, HAIKU45, thinking=ENABLED)
    deltas = converse_reasoning(events)
    assert len(deltas) == 1 and isinstance(deltas[0]["redactedContent"], bytes)
    assert events[2] == {"contentBlockStop": {"contentBlockIndex": 0}}

    body, _ = invoke(emulator_runtime, HAIKU45, messages_body(thinking=ENABLED))
    assert body["content"][0]["type"] == "redacted_thinking"
    response = emulator_runtime.converse(modelId=HAIKU45, **converse_kwargs(thinking=ENABLED))
    assert isinstance(
        response["output"]["message"]["content"][0]["reasoningContent"]["redactedContent"], bytes
    )
    assert emulator.faults == []

    # a request that does not think leaves the fault armed
    fault = emulator.add_fault(Fault("redacted_thinking"))
    invoke_events(emulator_runtime, HAIKU45, messages_body(max_tokens=5))
    assert fault.used == 0
    events = invoke_events(emulator_runtime, SONNET5, messages_body())  # thinks always
    assert events[1]["content_block"]["type"] == "redacted_thinking"
    assert fault.used == 1


# ---------------------------------------------------------------------------------------------
# Thinking blocks sent back: continuations, earlier turns, signatures


def first_reply_blocks(client, text="Plan my garden"):
    body, _ = invoke(client, HAIKU45, messages_body(text, thinking=ENABLED))
    return body["content"]


def test_continuation_needs_its_thinking_block_messages(emulator_runtime):
    thinking, answer = first_reply_blocks(emulator_runtime)
    prefix = [{"role": "user", "content": "Plan my garden"}]
    resumed = [
        *prefix,
        {"role": "assistant", "content": [thinking, {"type": "text", "text": "Well,"}]},
    ]
    events = invoke_events(
        emulator_runtime, HAIKU45, messages_body(messages=resumed, thinking=ENABLED)
    )
    # it carries on after the thinking it was given: no new thinking block
    assert events[1]["content_block"] == {"type": "text", "text": ""}
    assert "“Plan my garden”" in text_of(events)

    bare = [*prefix, {"role": "assistant", "content": [{"type": "text", "text": "Well,"}]}]
    message = refused(
        lambda: invoke_events(
            emulator_runtime, HAIKU45, messages_body(messages=bare, thinking=ENABLED)
        )
    )
    assert message == (
        "messages.1.content.0.type: Expected `thinking` or `redacted_thinking`, but found `text`. "
        "When `thinking` is enabled, a final `assistant` message must start with a thinking block."
    )
    as_string = [*prefix, {"role": "assistant", "content": "Well,"}]
    assert "but found `text`" in refused(
        lambda: invoke_events(
            emulator_runtime, HAIKU45, messages_body(messages=as_string, thinking=ENABLED)
        )
    )
    # without thinking, the same prefill is fine
    assert text_of(invoke_events(emulator_runtime, HAIKU45, messages_body(messages=bare)))

    # earlier assistant turns may leave their thinking out
    history = [
        *prefix,
        {"role": "assistant", "content": [answer]},
        {"role": "user", "content": "And the roses?"},
    ]
    events = invoke_events(
        emulator_runtime, HAIKU45, messages_body(messages=history, thinking=ENABLED)
    )
    assert events[1]["content_block"]["type"] == "thinking"
    assert "“And the roses?”" in thinking_of(events)


def test_continuation_needs_its_thinking_block_converse(emulator_runtime):
    response = emulator_runtime.converse(
        modelId=HAIKU45, **converse_kwargs("Plan my garden", thinking=ENABLED)
    )
    reasoning, answer = response["output"]["message"]["content"]
    resumed = [
        *user("Plan my garden"),
        {"role": "assistant", "content": [reasoning, {"text": "Well,"}]},
    ]
    events = converse_events(emulator_runtime, HAIKU45, messages=resumed, thinking=ENABLED)
    assert converse_reasoning(events) == []
    assert "“Plan my garden”" in converse_text(events)

    bare = [*user("Plan my garden"), {"role": "assistant", "content": [{"text": "Well,"}]}]
    message = refused(
        lambda: converse_events(emulator_runtime, HAIKU45, messages=bare, thinking=ENABLED)
    )
    assert message == MODEL_ERRORS + (
        "messages.1.content.0.type: Expected `thinking` or `redacted_thinking`, but found `text`. "
        "When `thinking` is enabled, a final `assistant` message must start with a thinking block."
    )
    history = [*user("Plan my garden"), {"role": "assistant", "content": [answer]}, *user("More")]
    assert converse_reasoning(
        converse_events(emulator_runtime, HAIKU45, messages=history, thinking=ENABLED)
    )


def test_thinking_signatures_are_checked(emulator_runtime):
    thinking, answer = first_reply_blocks(emulator_runtime)

    def send_back(block):
        messages = [
            {"role": "user", "content": "Plan my garden"},
            {"role": "assistant", "content": [block, answer]},
            {"role": "user", "content": "Go on"},
        ]
        return invoke_events(
            emulator_runtime, HAIKU45, messages_body(messages=messages, thinking=ENABLED)
        )

    assert send_back(thinking)
    assert send_back({**thinking, "thinking": ""})  # what a client got with display "omitted"
    invalid = "messages.1.content.0: Invalid `signature` in `thinking` block"
    tampered = {**thinking, "thinking": thinking["thinking"].replace("garden", "galley")}
    assert refused(lambda: send_back(tampered)) == invalid
    forged = {**thinking, "signature": thinking["signature"][:-6] + "AAAAAA"}
    assert refused(lambda: send_back(forged)) == invalid
    assert refused(lambda: send_back({**thinking, "signature": "not a signature"})) == invalid
    # with thinking off the blocks are still checked
    messages = [
        {"role": "user", "content": "Plan my garden"},
        {"role": "assistant", "content": [tampered, answer]},
        {"role": "user", "content": "Go on"},
    ]
    assert (
        refused(lambda: invoke_events(emulator_runtime, HAIKU45, messages_body(messages=messages)))
        == invalid
    )

    # Converse: the same check on reasoningText, and on redactedContent
    response = emulator_runtime.converse(
        modelId=HAIKU45, **converse_kwargs("Plan my garden", thinking=ENABLED)
    )
    reasoning, text = response["output"]["message"]["content"]

    def converse_back(block):
        messages = [
            *user("Plan my garden"),
            {"role": "assistant", "content": [block, text]},
            *user("Go on"),
        ]
        return converse_events(emulator_runtime, HAIKU45, messages=messages, thinking=ENABLED)

    assert converse_back(reasoning)
    signed = reasoning["reasoningContent"]["reasoningText"]
    bad = {"reasoningContent": {"reasoningText": {**signed, "text": signed["text"] + " Also."}}}
    assert refused(lambda: converse_back(bad)) == MODEL_ERRORS + invalid
    assert refused(lambda: converse_back({"reasoningContent": {"redactedContent": b"forged"}})) == (
        MODEL_ERRORS + "messages.1.content.0: Invalid `data` in `redacted_thinking` block"
    )


def test_redacted_blocks_go_back_and_serve_as_the_continuations_thinking(
    emulator, emulator_runtime
):
    emulator.add_fault(Fault("redacted_thinking", times=2))
    body, _ = invoke(emulator_runtime, HAIKU45, messages_body("Plan my garden", thinking=ENABLED))
    redacted = body["content"][0]
    resumed = [
        {"role": "user", "content": "Plan my garden"},
        {"role": "assistant", "content": [redacted]},
    ]
    events = invoke_events(
        emulator_runtime, HAIKU45, messages_body(messages=resumed, thinking=ENABLED)
    )
    assert events[1]["content_block"]["type"] == "text"
    tampered = {**redacted, "data": base64.b64encode(b"x" * 72).decode()}
    message = refused(
        lambda: invoke_events(
            emulator_runtime,
            HAIKU45,
            messages_body(
                messages=[resumed[0], {"role": "assistant", "content": [tampered]}],
                thinking=ENABLED,
            ),
        )
    )
    assert message == "messages.1.content.0: Invalid `data` in `redacted_thinking` block"

    response = emulator_runtime.converse(
        modelId=HAIKU45, **converse_kwargs("Plan my garden", thinking=ENABLED)
    )
    block = response["output"]["message"]["content"][0]
    resumed = [*user("Plan my garden"), {"role": "assistant", "content": [block]}]
    assert converse_text(
        converse_events(emulator_runtime, HAIKU45, messages=resumed, thinking=ENABLED)
    )


# ---------------------------------------------------------------------------------------------
# Effort


def test_effort_refused_where_unsupported_or_not_offered(emulator_runtime):
    unsupported = "output_config.effort: effort is not supported for this model."
    for model in (SONNET45, HAIKU45, SONNET4, CLAUDE_V2):
        refused_on_both_apis(
            emulator_runtime,
            model,
            messages_message=unsupported,
            converse_message=MODEL_ERRORS + unsupported,
            effort="low",
        )
    offered = [
        (OPUS45, "xhigh", "output_config.effort: Input should be 'low', 'medium' or 'high'"),
        (OPUS46, "xhigh", "output_config.effort: Input should be 'low', 'medium', 'high' or 'max'"),
        (
            OPUS47,
            "extreme",
            "output_config.effort: Input should be 'low', 'medium', 'high', 'xhigh' or 'max'",
        ),
    ]
    for model, level, message in offered:
        refused_on_both_apis(
            emulator_runtime,
            model,
            messages_message=message,
            converse_message=MODEL_ERRORS + message,
            effort=level,
        )
    message = refused(
        lambda: emulator_runtime.converse(
            modelId=LLAMA, messages=user("Hi"), outputConfig={"effort": "low"}
        )
    )
    assert message == MODEL_ERRORS + unsupported
    extra = messages_body(output_config={"effort": "low", "speed": "fast"})
    assert refused(lambda: invoke_events(emulator_runtime, OPUS47, extra)) == (
        "output_config.speed: Extra inputs are not permitted"
    )


def test_effort_levels_change_the_reply(emulator_runtime):
    texts = {}
    for level in FIVE_LEVELS:
        text, converse = accepted_on_both_apis(
            emulator_runtime, OPUS47, effort=level, thinking=SUMMARIZED
        )
        assert settings_line(text).endswith(f"· effort {level} · thinking adaptive.*")
        assert without_settings(text) == without_settings(converse)
        texts[level] = text
    assert "things to try" not in texts["low"] and "**temperature**" not in texts["low"]
    assert "**top_p**" in texts["medium"] and "**max tokens**" not in texts["medium"]
    assert "**max tokens**" in texts["high"]
    lengths = [len(texts[level]) for level in FIVE_LEVELS]
    assert lengths == sorted(lengths) and len(set(lengths)) == 5
    # the same wording, only more or less of it
    assert texts["low"].split("\n\n")[1] == texts["max"].split("\n\n")[1]

    for level in ("low", "medium", "high"):
        assert accepted_on_both_apis(emulator_runtime, OPUS45, effort=level)
    assert accepted_on_both_apis(emulator_runtime, OPUS46, effort="max", thinking=ADAPTIVE)


def test_xhigh_and_max_without_thinking_are_treated_as_high(emulator_runtime):
    high, _ = accepted_on_both_apis(emulator_runtime, OPUS47, effort="high")
    for level in ("xhigh", "max"):
        text, converse = accepted_on_both_apis(emulator_runtime, OPUS47, effort=level)
        assert without_settings(text) == without_settings(high)
        assert f"· effort {level} (as high: thinking is off) · thinking off.*" in text
        assert f"· effort {level} (as high: thinking is off) · thinking off.*" in converse
    thinking, _ = accepted_on_both_apis(emulator_runtime, OPUS47, effort="max", thinking=ADAPTIVE)
    assert len(without_settings(thinking)) > len(without_settings(high))


def test_default_effort_is_the_models_own(emulator_runtime):
    default, _ = accepted_on_both_apis(emulator_runtime, OPUS55)
    medium, _ = accepted_on_both_apis(emulator_runtime, OPUS55, effort="medium")
    assert "· effort default ·" in default
    assert without_settings(default) == without_settings(medium)
    high, _ = accepted_on_both_apis(emulator_runtime, OPUS55, effort="high")
    assert len(high) > len(default)
    default, _ = accepted_on_both_apis(emulator_runtime, OPUS5)  # high by default
    high, _ = accepted_on_both_apis(emulator_runtime, OPUS5, effort="high")
    assert without_settings(default) == without_settings(high)


# ---------------------------------------------------------------------------------------------
# Prefill


@pytest.mark.parametrize("model", [OPUS46, SONNET46, OPUS47, SONNET5, FABLE5])
def test_prefill_refused_from_the_46_models_on(emulator_runtime, model):
    prefill = [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Well,"},
    ]
    message = refused(
        lambda: invoke_events(emulator_runtime, model, messages_body(messages=prefill))
    )
    assert message == PREFILL
    converse = [*user("Hi"), {"role": "assistant", "content": [{"text": "Well,"}]}]
    message = refused(lambda: converse_events(emulator_runtime, model, messages=converse))
    assert message == MODEL_ERRORS + PREFILL
    # a conversation that ends with the user is fine
    history = [*prefill, {"role": "user", "content": "Go on"}]
    assert text_of(invoke_events(emulator_runtime, model, messages_body(messages=history)))


@pytest.mark.parametrize("model", [HAIKU45, OPUS45, SONNET4])
def test_prefill_still_accepted_before_46(emulator_runtime, model):
    prefill = [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Well,"},
    ]
    assert text_of(invoke_events(emulator_runtime, model, messages_body(messages=prefill)))
    converse = [*user("Hi"), {"role": "assistant", "content": [{"text": "Well,"}]}]
    assert converse_text(converse_events(emulator_runtime, model, messages=converse))


# ---------------------------------------------------------------------------------------------
# Prompt caching

LONG_SYSTEM = "You are a patient gardener. " * 200  # 5,600 characters: 1,400 tokens


def cached_system_body(question="What should I plant?", ttl=None, **extra):
    marker = {"type": "ephemeral", **({"ttl": ttl} if ttl else {})}
    return messages_body(
        question,
        max_tokens=20,
        system=[{"type": "text", "text": LONG_SYSTEM, "cache_control": marker}],
        **extra,
    )


def start_usage(events):
    return events[0]["message"]["usage"]


def test_cache_write_then_read_messages(fresh_cache, emulator, emulator_runtime):
    total = -(-(len(LONG_SYSTEM) + len("What should I plant?")) // 4)
    first = invoke_events(emulator_runtime, SONNET4, cached_system_body())
    assert start_usage(first) == {
        "input_tokens": total - 1400,
        "output_tokens": 1,
        "cache_creation_input_tokens": 1400,
        "cache_read_input_tokens": 0,
    }
    metrics = first[-1]["amazon-bedrock-invocationMetrics"]
    assert metrics["cacheWriteInputTokenCount"] == 1400
    assert metrics["cacheReadInputTokenCount"] == 0
    assert metrics["inputTokenCount"] == total - 1400

    emulator.requests.clear()  # the same request again is worded as the first (cache kept)
    second = invoke_events(emulator_runtime, SONNET4, cached_system_body())
    assert start_usage(second)["cache_read_input_tokens"] == 1400
    assert start_usage(second)["cache_creation_input_tokens"] == 0
    assert text_of(second) == text_of(first)

    # a different question after the same system prompt still reads the cached system prompt
    body, headers = invoke(emulator_runtime, SONNET4, cached_system_body("And in winter?"))
    assert body["usage"]["cache_read_input_tokens"] == 1400
    assert headers["x-amzn-bedrock-cache-read-input-token-count"] == "1400"
    assert headers["x-amzn-bedrock-cache-write-input-token-count"] == "0"

    # a second cache point further on: the system prompt is read, the rest written
    question = "Tell me about soil. " * 60  # 1,200 characters: 300 tokens
    body = cached_system_body()
    body["messages"] = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": question, "cache_control": {"type": "ephemeral"}},
                {"type": "text", "text": "Thanks!"},
            ],
        }
    ]
    usage = start_usage(invoke_events(emulator_runtime, SONNET4, body))
    assert usage["cache_read_input_tokens"] == 1400
    assert (
        usage["cache_creation_input_tokens"] == -(-(len(LONG_SYSTEM) + len(question)) // 4) - 1400
    )
    usage = start_usage(invoke_events(emulator_runtime, SONNET4, body))
    assert usage["cache_read_input_tokens"] == -(-(len(LONG_SYSTEM) + len(question)) // 4)
    assert usage["cache_creation_input_tokens"] == 0
    assert usage["input_tokens"] == 2  # "\nThanks!": 8 characters


def test_cache_write_then_read_converse(fresh_cache, emulator_runtime):
    kwargs = {
        "system": [{"text": LONG_SYSTEM}, {"cachePoint": {"type": "default"}}],
        "messages": user("What should I plant?"),
        "inferenceConfig": {"maxTokens": 20},
    }
    total = -(-(len(LONG_SYSTEM) + len("What should I plant?")) // 4)
    events = list(emulator_runtime.converse_stream(modelId=SONNET4, **kwargs)["stream"])
    assert events[-1]["metadata"]["usage"] == {
        "inputTokens": total - 1400,
        "outputTokens": 20,
        "totalTokens": total + 20,
        "cacheReadInputTokens": 0,
        "cacheWriteInputTokens": 1400,
    }
    usage = emulator_runtime.converse(modelId=SONNET4, **kwargs)["usage"]
    assert usage == {
        "inputTokens": total - 1400,
        "outputTokens": 20,
        "totalTokens": total + 20,
        "cacheReadInputTokens": 1400,
        "cacheWriteInputTokens": 0,
    }
    # a cache point in the messages, after the system prompt's
    kwargs["messages"] = [
        {
            "role": "user",
            "content": [{"text": "Tell me about soil. " * 60}, {"cachePoint": {"type": "default"}}],
        }
    ]
    usage = emulator_runtime.converse(modelId=SONNET4, **kwargs)["usage"]
    assert (usage["cacheReadInputTokens"], usage["cacheWriteInputTokens"]) == (1400, 300)
    assert usage["inputTokens"] == 0


def test_no_more_than_four_cache_points(fresh_cache, emulator_runtime):
    marker = {"type": "ephemeral"}
    body = messages_body(
        system=[{"type": "text", "text": f"Rule {n}.", "cache_control": marker} for n in range(3)],
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "One", "cache_control": marker},
                    {"type": "text", "text": "Two", "cache_control": marker},
                ],
            }
        ],
    )
    limit = "A maximum of 4 blocks with cache_control may be provided. Found 5."
    for model in (SONNET4, CLAUDE_V2):  # checked even where caching is not offered
        assert refused(lambda model=model: invoke_events(emulator_runtime, model, body)) == limit
    body["system"] = body["system"][:2]
    assert invoke_events(emulator_runtime, SONNET4, body)

    point = {"cachePoint": {"type": "default"}}
    system = [
        {"text": "Rule one."},
        point,
        {"text": "Rule two."},
        point,
        {"text": "Rule three."},
        point,
    ]
    content = [{"text": "One"}, point, {"text": "Two"}, point]
    message = refused(
        lambda: emulator_runtime.converse(
            modelId=SONNET4, system=system, messages=[{"role": "user", "content": content}]
        )
    )
    assert (
        message
        == MODEL_ERRORS + "A maximum of 4 blocks with cache_control may be provided. Found 5."
    )


def test_cache_markers_count_wherever_they_stand_and_blocks_must_not_be_empty(
    fresh_cache, emulator_runtime
):
    point = {"cachePoint": {"type": "default"}}
    limit = MODEL_ERRORS + "A maximum of 4 blocks with cache_control may be provided. Found 5."
    message = refused(
        lambda: emulator_runtime.converse(
            modelId=SONNET4,
            system=[point, {"text": "Rule."}, point, point],  # leading and doubled points count
            messages=[{"role": "user", "content": [point, {"text": "Hi"}, point]}],
        )
    )
    assert message == limit
    empty = messages_body(
        messages=[
            {
                "role": "user",
                "content": [{"type": "text", "text": "", "cache_control": {"type": "ephemeral"}}],
            }
        ]
    )
    message = refused(lambda: invoke_events(emulator_runtime, SONNET4, empty))
    assert message == "messages: text content blocks must be non-empty"
    empty = messages_body(
        system=[{"type": "text", "text": "", "cache_control": {"type": "ephemeral"}}]
    )
    message = refused(lambda: invoke_events(emulator_runtime, SONNET4, empty))
    assert message == "system: text content blocks must be non-empty"
    message = refused(
        lambda: emulator_runtime.converse(
            modelId=SONNET4, messages=[{"role": "user", "content": [{"text": "  "}, point]}]
        )
    )
    assert "is blank" in message
    bad_ttl = messages_body(
        system=[
            {"type": "text", "text": "Rule.", "cache_control": {"type": "ephemeral", "ttl": "2h"}}
        ]
    )
    message = refused(lambda: invoke_events(emulator_runtime, SONNET4, bad_ttl))
    assert message == "system.0.cache_control.ttl: Input should be '5m' or '1h'"


def test_cache_points_below_the_minimum_are_ignored(fresh_cache, emulator_runtime):
    short = "Be brief. " * 200  # 2,000 characters: 500 tokens, under every minimum
    body = messages_body(
        max_tokens=5,
        system=[{"type": "text", "text": short, "cache_control": {"type": "ephemeral"}}],
    )
    for _ in range(2):
        usage = start_usage(invoke_events(emulator_runtime, SONNET4, body))
        assert usage["cache_creation_input_tokens"] == usage["cache_read_input_tokens"] == 0
        assert usage["input_tokens"] == -(-(len(short) + len("Hello there")) // 4)
    assert fresh_cache.cached_prefixes == 0

    # 1,400 tokens: enough for Opus 4.8 (1,024), not for Opus 4.7 or Haiku 4.5 (4,096)
    for model, written in ((OPUS47, 0), (HAIKU45, 0), (OPUS48, 1400)):
        usage = start_usage(invoke_events(emulator_runtime, model, cached_system_body()))
        assert usage["cache_creation_input_tokens"] == written, model
    # a model without prompt caching ignores the markers (and says nothing about a cache)
    events = invoke_events(emulator_runtime, CLAUDE_V2, cached_system_body())
    assert set(start_usage(events)) == {"input_tokens", "output_tokens"}


def test_cache_entries_expire(fresh_cache, emulator_runtime):
    def cache_usage(**kwargs):
        usage = start_usage(invoke_events(emulator_runtime, SONNET4, cached_system_body(**kwargs)))
        return usage["cache_creation_input_tokens"], usage["cache_read_input_tokens"]

    assert cache_usage() == (1400, 0)
    fresh_cache.advance_cache_clock(299)
    assert cache_usage() == (0, 1400)  # reading it keeps it alive for another 5 minutes
    fresh_cache.advance_cache_clock(299)
    assert cache_usage() == (0, 1400)
    fresh_cache.advance_cache_clock(301)
    assert cache_usage() == (1400, 0)

    fresh_cache.clear_cache()
    assert cache_usage(ttl="1h") == (1400, 0)
    fresh_cache.advance_cache_clock(1800)
    assert cache_usage() == (0, 1400)  # the hour-long entry outlives the 5-minute ttl
    fresh_cache.advance_cache_clock(3601)
    assert cache_usage() == (1400, 0)
    fresh_cache.clear_cache()
    assert fresh_cache.cached_prefixes == 0
    assert cache_usage() == (1400, 0)


def test_cache_is_per_model(fresh_cache, emulator_runtime):
    invoke_events(emulator_runtime, SONNET4, cached_system_body())
    usage = start_usage(invoke_events(emulator_runtime, OPUS48, cached_system_body()))
    assert (usage["cache_creation_input_tokens"], usage["cache_read_input_tokens"]) == (1400, 0)
    # a profile and its base model are one model
    usage = start_usage(
        invoke_events(emulator_runtime, "global.anthropic.claude-opus-4-8", cached_system_body())
    )
    assert usage["cache_read_input_tokens"] == 1400
