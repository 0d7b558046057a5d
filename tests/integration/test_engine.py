"""The engine through real boto3 against the emulator: bodies sent, events back, failures,
retries only before the stream, cancellation, credentials and the seed SDK."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time

import pytest

from tui_chat.bedrock import AnthropicBedrock, BedrockError, Engine, Failure, Stop, TextDelta
from tui_chat.bedrock import client as clients
from tui_chat.bedrock.client import BedrockSettings
from tui_chat.config import load_settings
from tui_chat.conversation import Message
from tui_chat.emulator import Fault
from tui_chat.params import ParamError, Params

SONNET_45 = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
CLAUDE = (
    "us.anthropic.claude-sonnet-4-20250514-v1:0"  # a Claude that takes every sampling parameter
)
LLAMA = "meta.llama3-1-70b-instruct-v1:0"
LEGACY = "anthropic.claude-v2"


@pytest.fixture(autouse=True)
def fresh_clients():
    clients.reset_clients()
    yield
    clients.reset_clients()


def engine_for(emulator, read_timeout=10.0, max_attempts=1, **env_extra):
    env = {
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": emulator.url,
        "AWS_ENDPOINT_URL_BEDROCK": emulator.url,
        "AWS_ACCESS_KEY": "AKIDSEEDNAME",
        "AWS_SECRET_KEY": "seed-secret",
        "AWS_REGION": "us-east-1",
        **env_extra,
    }
    settings = load_settings(env=env)
    settings.bedrock = BedrockSettings(
        region="us-east-1", read_timeout=read_timeout, max_attempts=max_attempts
    )
    return Engine(settings.bedrock, env=env)


def run(engine, messages, params):
    events = list(engine.stream(messages, params))
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    return text, events[-1]


def user(text):
    return Message(role="user", content=text)


@pytest.mark.parametrize("model", [LEGACY, CLAUDE, SONNET_45, LLAMA, "amazon.nova-pro-v1:0"])
def test_each_format_streams_and_sends_exactly_the_prepared_body(emulator, model):
    engine = engine_for(emulator)
    params = Params(model=model, max_tokens_to_sample=400, temperature=0.3, system="Be kind.")
    prepared = engine.prepare([user("Hello there")], params)
    text, last = run(engine, [user("Hello there")], params)
    assert isinstance(last, Stop), last
    assert last.reason == "end_turn"
    assert "Hello there" in text
    assert last.usage.output_tokens > 10
    assert last.usage.input_tokens > 0
    assert last.usage.first_token_ms is not None
    assert 0 <= last.usage.first_token_ms <= last.usage.latency_ms
    (request,) = emulator.requests
    assert request.body == prepared.body
    assert request.model_id == model
    expected_operation = (
        "ConverseStream"
        if model in (LLAMA, "amazon.nova-pro-v1:0")
        else "InvokeModelWithResponseStream"
    )
    assert request.operation == expected_operation


def test_exact_bodies(emulator):
    engine = engine_for(emulator)
    run(engine, [user("Hi")], Params(model=LEGACY, max_tokens_to_sample=300))
    run(
        engine,
        [user("Hi"), Message(role="assistant", content="Hello!"), user("More")],
        Params(model=SONNET_45, temperature=0.2, top_p=0.5, top_k=40, stop_sequences=("END",)),
    )
    run(engine, [user("Hi")], Params(model=LLAMA, top_k=40, top_p=0.5, stop_sequences=("x",)))
    legacy, messages, converse = (r.body for r in emulator.requests)
    assert legacy == {"prompt": "\n\nHuman: Hi\n\nAssistant:", "max_tokens_to_sample": 300}
    assert messages == {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 256,
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "Hi"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "Hello!"}]},
            {"role": "user", "content": [{"type": "text", "text": "More"}]},
        ],
        "temperature": 0.2,
        "top_k": 40,
        "stop_sequences": ["END"],
    }
    assert converse == {
        "messages": [{"role": "user", "content": [{"text": "Hi"}]}],
        # Llama's default temperature is 0.5: the seed's 1.0 differs from it, so it is sent.
        "inferenceConfig": {
            "maxTokens": 256,
            "temperature": 1.0,
            "topP": 0.5,
            "stopSequences": ["x"],
        },
    }


def test_max_tokens_and_stop_sequences(emulator):
    engine = engine_for(emulator)
    text, last = run(engine, [user("Tell me")], Params(model=CLAUDE, max_tokens_to_sample=5))
    assert last.reason == "max_tokens"
    assert last.usage.output_tokens == 5
    full, _ = run(engine, [user("Tell me")], Params(model=CLAUDE))
    word = "Bedrock"  # every demo reply says where it runs, whatever its wording
    assert word in full
    for model in (LEGACY, CLAUDE, LLAMA):
        text, last = run(engine, [user("Tell me")], Params(model=model, stop_sequences=(word,)))
        assert last.reason == "stop_sequence", model
        assert word not in text
        if model != LLAMA:  # Converse does not say which sequence matched
            assert last.stop_sequence == word


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("throttling", "throttled"),
        ("access_denied", "access_denied"),
        ("not_found", "not_found"),
        ("validation", "validation"),
        ("context_too_long", "context_too_long"),
        ("model_timeout", "timeout"),
        ("service_unavailable", "overloaded"),
    ],
)
def test_failures_before_the_stream(emulator, kind, expected):
    emulator.add_fault(Fault(kind, times=None))
    engine = engine_for(emulator)
    text, last = run(engine, [user("hi")], Params(model=CLAUDE))
    assert text == ""
    assert isinstance(last, Failure)
    assert last.error.kind == expected
    assert last.error.user_message


IN_STREAM_FAULTS = [
    ("stream_model_error", "overloaded"),
    ("stream_throttling", "throttled"),
    ("stream_unavailable", "overloaded"),
    ("cut", "connection_lost"),
    ("malformed_chunk", "bad_response"),
    ("bad_json_chunk", "bad_response"),
]


@pytest.mark.parametrize(
    ("kind", "expected", "model"),
    [
        (kind, expected, model)
        for kind, expected in IN_STREAM_FAULTS
        for model in (CLAUDE, LEGACY, LLAMA)
        # botocore parses a bad ConverseStream payload as {}: see the test below.
        if not (kind == "bad_json_chunk" and model == LLAMA)
    ],
)
def test_failures_inside_the_stream_keep_the_partial_text(emulator, kind, expected, model):
    emulator.add_fault(Fault(kind, after_tokens=6))
    engine = engine_for(emulator, max_attempts=3)
    text, last = run(engine, [user("hi")], Params(model=model))
    assert isinstance(last, Failure), last
    assert last.error.kind == expected
    assert len(text.split()) >= 5
    assert len(emulator.requests) == 1  # nothing after the HTTP 200 is retried


def test_bad_converse_payload_is_dropped_by_botocore(emulator):
    """botocore's parser turns an unparseable ConverseStream event into {}; the reply goes on."""
    emulator.add_fault(Fault("bad_json_chunk", after_tokens=6))
    _text, last = run(engine_for(emulator), [user("hi")], Params(model=LLAMA))
    assert isinstance(last, Stop)


def test_stall_longer_than_the_read_timeout(emulator):
    emulator.add_fault(Fault("stall", after_tokens=3, seconds=5))
    engine = engine_for(emulator, read_timeout=0.5)
    text, last = run(engine, [user("hi")], Params(model=CLAUDE))
    assert isinstance(last, Failure)
    assert last.error.kind == "read_timeout"
    assert text


def test_unknown_events_are_ignored(emulator):
    for model in (CLAUDE, LEGACY, LLAMA):
        emulator.add_fault(Fault("unknown_event"))
        _text, last = run(engine_for(emulator), [user("hi")], Params(model=model))
        assert isinstance(last, Stop), (model, last)


def test_max_attempts_counts_every_attempt(emulator):
    emulator.add_fault(Fault("throttling", times=None))
    _text, last = run(engine_for(emulator, max_attempts=2), [user("hi")], Params(model=CLAUDE))
    assert isinstance(last, Failure)
    assert len(emulator.requests) == 2


def test_explicit_keys_win_over_a_bearer_token(emulator, monkeypatch):
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "not-for-http")
    _text, last = run(engine_for(emulator), [user("hi")], Params(model=CLAUDE))
    assert isinstance(last, Stop), last
    assert "Credential=AKIDSEEDNAME/" in emulator.requests[-1].headers["Authorization"]


def test_retries_happen_before_the_stream_only(emulator):
    emulator.add_fault(Fault("throttling", times=1))
    engine = engine_for(emulator, max_attempts=3)
    _text, last = run(engine, [user("hi")], Params(model=CLAUDE))
    assert isinstance(last, Stop)
    assert [r.operation for r in emulator.requests] == ["InvokeModelWithResponseStream"] * 2


def test_cancel_stops_a_stalled_stream_within_half_a_second(emulator):
    emulator.add_fault(Fault("stall", after_tokens=3, seconds=30))
    engine = engine_for(emulator, read_timeout=60)
    handle = engine.start(engine.prepare([user("hi")], Params(model=CLAUDE)))
    received = []
    for batch in handle.batches():
        received.extend(batch)
        if len(received) >= 3:
            break
    time.sleep(0.2)  # the reader is now blocked in a socket read
    started = time.monotonic()
    threading.Thread(target=handle.cancel).start()
    assert handle.join(timeout=2)
    elapsed = time.monotonic() - started
    assert elapsed < 0.5, elapsed
    assert list(handle.batches()) == []
    # The engine still works afterwards.
    _text, last = run(engine, [user("again")], Params(model=CLAUDE))
    assert isinstance(last, Stop)


def test_cancel_while_waiting_for_the_first_byte_returns_at_once(emulator):
    emulator.add_fault(Fault("slow_first_byte", seconds=3))
    engine = engine_for(emulator)
    handle = engine.start(engine.prepare([user("hi")], Params(model=CLAUDE)))
    time.sleep(0.2)
    started = time.monotonic()
    handle.cancel()
    assert list(handle.batches()) == []
    assert time.monotonic() - started < 0.2


def test_two_streams_at_once(emulator):
    engine = engine_for(emulator)
    results = {}

    def worker(name, model):
        results[name] = run(engine, [user(f"I am {name}")], Params(model=model))

    threads = [
        threading.Thread(target=worker, args=(n, m)) for n, m in (("ann", CLAUDE), ("bob", LLAMA))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert "I am ann" in results["ann"][0] and "I am bob" not in results["ann"][0]
    assert "I am bob" in results["bob"][0]
    assert all(isinstance(last, Stop) for _text, last in results.values())


def test_seed_key_names_and_explicit_keys_reach_the_signature(emulator):
    run(engine_for(emulator), [user("hi")], Params(model=CLAUDE))
    assert "Credential=AKIDSEEDNAME/" in emulator.requests[-1].headers["Authorization"]
    sdk = AnthropicBedrock(access_key="AKIDEXPLICIT", secret_key="x", region="us-east-1")
    env = {"AWS_ENDPOINT_URL_BEDROCK_RUNTIME": emulator.url}
    sdk._engine._env = env
    sdk.Completion.create(model=LEGACY, prompt="hi")
    assert "Credential=AKIDEXPLICIT/" in emulator.requests[-1].headers["Authorization"]


def test_bearer_token_counts_as_credentials(monkeypatch):
    # botocore sends bearer tokens over HTTPS only, so the plain-HTTP emulator cannot receive
    # one; what we can check is that a token alone satisfies the up-front credential check.
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key-abc")
    Engine(env={"AWS_REGION": "us-east-1", "AWS_BEARER_TOKEN_BEDROCK": "x"}).check_credentials()


def test_missing_region_and_credentials_are_found_up_front():
    with pytest.raises(BedrockError) as info:
        Engine(env={}).connection  # noqa: B018
    assert info.value.kind == "no_region"
    engine = Engine(env={"AWS_REGION": "us-east-1"})
    with pytest.raises(BedrockError) as info:
        engine.check_credentials()
    assert info.value.kind == "no_credentials"
    assert "--demo" in info.value.user_message


def test_sdk_defaults_are_the_seed_defaults(emulator, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", emulator.url)
    sdk = AnthropicBedrock(access_key="AKID", secret_key="s", region="us-east-1")
    result = sdk.Completion.create(model=LEGACY, prompt="In one sentence, what is good about blue?")
    assert set(result) == {"completion", "stop_reason", "model"}
    assert result["stop_reason"] == "stop_sequence"  # the legacy API's own word for a natural end
    assert emulator.requests[-1].body == {
        "prompt": "\n\nHuman: In one sentence, what is good about blue?\n\nAssistant:",
        "max_tokens_to_sample": 256,
    }
    with pytest.raises(ParamError, match="top_k must be a whole number from 0 to 500"):
        sdk.Completion.create(model=LEGACY, prompt="x", top_k=0.7)
    with pytest.raises(ParamError, match="temperature"):
        sdk.ChatCompletion.create(
            model=LEGACY, messages=[{"role": "user", "content": "x"}], temperature=2
        )
    assert len(emulator.requests) == 1


def test_sdk_chat_with_system_and_streaming(emulator, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", emulator.url)
    sdk = AnthropicBedrock(access_key="AKID", secret_key="s", region="us-east-1")
    messages = [
        {"role": "system", "content": "Hi how are you doing today."},
        {"role": "user", "content": "Hello!"},
    ]
    chat = sdk.ChatCompletion.create(model=CLAUDE, messages=messages, max_tokens_to_sample=300)
    assert chat["messages"][:2] == messages
    assert chat["messages"][2]["role"] == "assistant"
    assert chat["messages"][2]["content"] == chat["completion"] != ""
    assert emulator.requests[-1].body["system"] == "Hi how are you doing today."
    chunks = list(sdk.Completion.create(model=CLAUDE, prompt="Hello", stream=True))
    assert all(c["stop_reason"] is None for c in chunks[:-1])
    assert chunks[-1]["stop_reason"] == "end_turn"
    assert "".join(c["completion"] for c in chunks).strip()


def test_sdk_raises_bedrock_errors(emulator, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", emulator.url)
    emulator.add_fault(Fault("access_denied"))
    sdk = AnthropicBedrock(access_key="AKID", secret_key="s", region="us-east-1")
    with pytest.raises(BedrockError) as info:
        sdk.Completion.create(model=LEGACY, prompt="hi")
    assert info.value.kind == "access_denied"


def test_sdk_completion_runs_on_todays_claude(emulator, monkeypatch):
    """The seed's Completion names claude-v2; with a current Claude the same call goes through
    the Messages API, the Human/Assistant prompt turned into turns, with the same chunks."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", emulator.url)
    sdk = AnthropicBedrock(access_key="AKID", secret_key="s", region="us-east-1")
    prompt = "\n\nHuman: Why is the sky blue?\n\nAssistant:"
    chunks = list(
        sdk.Completion.create(
            model="us.anthropic.claude-sonnet-5-5",
            prompt=prompt,
            max_tokens_to_sample=2000,
            stream=True,
        )
    )
    request = emulator.requests[-1]
    assert request.operation == "InvokeModelWithResponseStream"
    assert request.body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Why is the sky blue?"}]}
    ]
    assert "temperature" not in request.body  # the seed's defaults are the model's own
    assert set(chunks[0]) == {"completion", "stop_reason", "model"}
    assert chunks[-1]["stop_reason"] == "end_turn"
    text = "".join(c["completion"] for c in chunks)
    assert "Why is the sky blue?" in text  # the answer only: thinking is not a completion
    with pytest.raises(ParamError, match="takes no prefill"):
        sdk.ChatCompletion.create(
            model="us.anthropic.claude-sonnet-5-5",
            messages=[
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello, I am"},
            ],
        )


def test_sdk_reports_a_retired_model_clearly(emulator, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", emulator.url)
    emulator.add_fault(Fault("end_of_life", model=LEGACY, times=None))
    sdk = AnthropicBedrock(access_key="AKID", secret_key="s", region="us-east-1")
    with pytest.raises(BedrockError) as info:
        sdk.Completion.create(model=LEGACY, prompt="Hello")
    assert info.value.kind == "end_of_life"
    message = info.value.user_message
    assert message.startswith("Claude 2 has reached the end of its life on Bedrock")
    assert "Claude Sonnet 5.5" in message
    assert emulator.requests[-1].body["prompt"] == "\n\nHuman: Hello\n\nAssistant:"


SEED_CHAT = """
import os
from tui_chat.bedrock import AnthropicBedrock

anthropic = AnthropicBedrock(
    access_key=os.getenv("AWS_ACCESS_KEY"),
    secret_key=os.getenv("AWS_SECRET_KEY"),
    region=os.getenv("AWS_REGION")
)

chat = anthropic.ChatCompletion.create(
    model="anthropic.claude-v2",
    max_tokens_to_sample=300,
    messages=[
        {"role": "user", "content": "Hello!"},
        # { role: "system", content: "Hi how are you doing today." },
    ]
)

print(chat["messages"])
"""

SEED_STREAM = """
import os
from tui_chat.bedrock import AnthropicBedrock

anthropic = AnthropicBedrock(
    access_key=os.getenv("AWS_ACCESS_KEY"),
    secret_key=os.getenv("AWS_SECRET_KEY"),
    region=os.getenv("AWS_REGION"),
)
stream = anthropic.Completion.create(
    model="anthropic.claude-v2",
    prompt="In one sentence, what is good about the color blue?",
    max_tokens_to_sample=300,
    stream=True,
)
for completion in stream:
    print(completion["completion"])
"""


@pytest.mark.parametrize("snippet", [SEED_CHAT, SEED_STREAM], ids=["chat", "stream"])
def test_seed_snippets_run_unchanged(emulator, snippet, isolated_environment):
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(isolated_environment),
        "AWS_ACCESS_KEY": "AKIDSEED",
        "AWS_SECRET_KEY": "secret",
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": emulator.url,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(snippet)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Demo" in result.stdout and "offline" in result.stdout
    assert emulator.requests[-1].model_id == "anthropic.claude-v2"
    assert emulator.requests[-1].body["max_tokens_to_sample"] == 300
