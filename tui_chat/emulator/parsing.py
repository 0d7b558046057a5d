"""Request bodies in, validated ``Job``s out: each wire format checked the way Bedrock checks it.

Formats:
- ``messages``: Anthropic Messages body on InvokeModel(WithResponseStream), Claude models.
- ``legacy``: Anthropic text completions (``prompt``), Claude v2 / v2.1 / Instant only.
- ``meta``, ``mistral``, ``nova``: those families' native InvokeModel bodies.
- ``embed``: Titan text embeddings (InvokeModel only).
- ``converse``: Converse / ConverseStream, every text model.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from tui_chat.emulator import catalog, errors
from tui_chat.emulator.catalog import ModelInfo
from tui_chat.emulator.demo_model import Prompt
from tui_chat.emulator.errors import malformed, validation

ANTHROPIC_VERSION = "bedrock-2023-05-31"
HUMAN = "\n\nHuman:"
ASSISTANT = "\n\nAssistant:"


@dataclass
class Job:
    """A validated request: which output format to speak and what the demo model should see."""

    fmt: str
    model: ModelInfo
    prompt: Prompt | None = None
    response_field_paths: list[str] = field(default_factory=list)  # Converse only
    embedding: dict[str, Any] | None = None  # Titan embeddings only


# ---------------------------------------------------------------------------------------------
# JSON-schema style checks (the messages mimic the validator Bedrock runs on model bodies)


def _type_name(value: Any) -> str:
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


def _expect(value: Any, expected: str, pointer: str) -> None:
    actual = _type_name(value)
    if expected == "Integer":
        if actual != "Number" or (isinstance(value, float) and not value.is_integer()):
            raise malformed(f"{pointer}: expected type: Integer, found: {actual}")
        return
    if actual != expected:
        raise malformed(f"{pointer}: expected type: {expected}, found: {actual}")


def _num(value: float | int) -> str:
    return json.dumps(value)


def _number(
    body: dict[str, Any], key: str, lo: float | None, hi: float | None, *, integer: bool = False
) -> Any:
    if key not in body or body[key] is None:
        return None
    value = body[key]
    pointer = f"#/{key}"
    _expect(value, "Integer" if integer else "Number", pointer)
    if lo is not None and value < lo:
        raise malformed(f"{pointer}: {_num(value)} is not greater or equal to {_num(lo)}")
    if hi is not None and value > hi:
        raise malformed(f"{pointer}: {_num(value)} is not less or equal to {_num(hi)}")
    return int(value) if integer else float(value)


def _no_extraneous(body: dict[str, Any], allowed: set[str]) -> None:
    for key in body:
        if key not in allowed:
            raise malformed(f"#: extraneous key [{key}] is not permitted")


def _required(body: dict[str, Any], keys: tuple[str, ...]) -> None:
    for key in keys:
        if key not in body:
            raise malformed(f"#: required key [{key}] not found")


def _stop_sequences(body: dict[str, Any], key: str) -> list[str]:
    value = body.get(key)
    if value is None:
        return []
    _expect(value, "JSONArray", f"#/{key}")
    for i, item in enumerate(value):
        _expect(item, "String", f"#/{key}/{i}")
    return list(value)


def _check_context(model: ModelInfo, prompt: Prompt) -> None:
    if prompt.input_tokens > model.context_window:
        raise validation(errors.INPUT_TOO_LONG)


def _parse_json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw.decode("utf-8")) if raw else None
    except (UnicodeDecodeError, ValueError):
        raise validation(
            "Malformed input request, please reformat your input and try again."
        ) from None
    if not isinstance(body, dict):
        raise malformed(f"#: expected type: JSONObject, found: {_type_name(body)}")
    return body


# ---------------------------------------------------------------------------------------------
# InvokeModel / InvokeModelWithResponseStream


def parse_invoke(model: ModelInfo, raw: bytes, *, streaming: bool) -> Job:
    if streaming and not model.streaming:
        raise validation("The model is unsupported for streaming.")
    body = _parse_json_object(raw)
    if model.family == catalog.TITAN_EMBED:
        return _parse_embed(model, body)
    if model.family == catalog.ANTHROPIC:
        if model.legacy_text and "prompt" in body and "messages" not in body:
            return _parse_legacy(model, body)
        return _parse_messages(model, body)
    if model.family == catalog.META:
        return _parse_meta(model, body)
    if model.family == catalog.MISTRAL:
        return _parse_mistral(model, body)
    if model.family == catalog.NOVA:
        return _parse_nova(model, body)
    raise validation("The provided model doesn't support this operation.")  # pragma: no cover


_MESSAGES_KEYS = {
    "anthropic_version",
    "anthropic_beta",
    "max_tokens",
    "messages",
    "system",
    "temperature",
    "top_p",
    "top_k",
    "stop_sequences",
    "tools",
    "tool_choice",
    "thinking",
    "metadata",
}


def _anthropic_content_text(content: Any, i: int, *, final_assistant: bool) -> str:
    """The text of one Messages-API message, checking what the Anthropic API checks."""
    pointer = f"#/messages/{i}/content"
    if isinstance(content, str):
        if not content and not final_assistant:
            raise validation(
                "messages: all messages must have non-empty content except for the optional "
                "final assistant message"
            )
        return content
    _expect(content, "JSONArray", pointer)
    if not content and not final_assistant:
        raise validation(
            "messages: all messages must have non-empty content except for the optional "
            "final assistant message"
        )
    texts = []
    for j, block in enumerate(content):
        _expect(block, "JSONObject", f"{pointer}/{j}")
        if "type" not in block:
            raise malformed(f"{pointer}/{j}: required key [type] not found")
        if block["type"] == "text":
            text = block.get("text")
            _expect(text, "String", f"{pointer}/{j}/text")
            if not text:
                raise validation("messages: text content blocks must be non-empty")
            if not text.strip():
                raise validation("messages: text content blocks must contain non-whitespace text")
            texts.append(text)
    return "\n".join(texts)


def _anthropic_messages(body: dict[str, Any]) -> list[tuple[str, str]]:
    messages = body["messages"]
    _expect(messages, "JSONArray", "#/messages")
    if not messages:
        raise malformed("#/messages: expected minimum item count: 1, found: 0")
    out: list[tuple[str, str]] = []
    for i, message in enumerate(messages):
        _expect(message, "JSONObject", f"#/messages/{i}")
        _required_at(message, ("role", "content"), f"#/messages/{i}")
        role = message["role"]
        if role not in ("user", "assistant"):
            raise malformed(f"#/messages/{i}/role: {role} is not a valid enum value")
        if i == 0 and role != "user":
            raise validation('messages: first message must use the "user" role')
        if out and out[-1][0] == role:
            raise validation(
                'messages: roles must alternate between "user" and "assistant", '
                f'but found multiple "{role}" roles in a row'
            )
        final_assistant = role == "assistant" and i == len(messages) - 1
        text = _anthropic_content_text(message["content"], i, final_assistant=final_assistant)
        if final_assistant and text != text.rstrip():
            raise validation(
                "messages: final assistant content cannot end with trailing whitespace"
            )
        out.append((role, text))
    return out


def _required_at(obj: dict[str, Any], keys: tuple[str, ...], pointer: str) -> None:
    for key in keys:
        if key not in obj:
            raise malformed(f"{pointer}: required key [{key}] not found")


def _anthropic_system(body: dict[str, Any]) -> str:
    system = body.get("system")
    if system is None:
        return ""
    if isinstance(system, str):
        return system
    _expect(system, "JSONArray", "#/system")
    texts = []
    for j, block in enumerate(system):
        _expect(block, "JSONObject", f"#/system/{j}")
        if block.get("type") != "text":
            raise malformed(f"#/system/{j}/type: {block.get('type')} is not a valid enum value")
        _expect(block.get("text"), "String", f"#/system/{j}/text")
        if not block["text"]:
            raise validation("system: text content blocks must be non-empty")
        texts.append(block["text"])
    return "\n".join(texts)


def _check_anthropic_version(body: dict[str, Any]) -> None:
    version = body.get("anthropic_version")
    _expect(version, "String", "#/anthropic_version")
    if version != ANTHROPIC_VERSION:
        raise malformed(f"#/anthropic_version: {version} is not a valid enum value")


def _parse_messages(model: ModelInfo, body: dict[str, Any]) -> Job:
    _no_extraneous(body, _MESSAGES_KEYS)
    _required(body, ("anthropic_version", "max_tokens", "messages"))
    _check_anthropic_version(body)
    max_tokens = _number(body, "max_tokens", 1, None, integer=True)
    if max_tokens is None:
        raise malformed("#/max_tokens: expected type: Integer, found: Null")
    if max_tokens > model.max_output:
        raise validation(
            f"max_tokens: {max_tokens} > {model.max_output}, which is the maximum allowed number "
            f"of output tokens for {model.anthropic_name}"
        )
    temperature = _number(body, "temperature", 0, 1)
    top_p = _number(body, "top_p", 0, 1)
    top_k = _number(body, "top_k", 0, None, integer=True)
    stops = _stop_sequences(body, "stop_sequences")
    for seq in stops:
        if not seq.strip():
            raise validation("stop_sequences: each stop sequence must contain non-whitespace")
    messages = _anthropic_messages(body)
    system = _anthropic_system(body)
    if model.exclusive_temperature_top_p and temperature is not None and top_p is not None:
        raise validation(errors.TEMPERATURE_TOP_P)
    prompt = Prompt(
        model_id=model.model_id,
        model_name=model.name,
        messages=messages,
        system=system,
        max_tokens=max_tokens,
        temperature=temperature,
        top_p=top_p,
        top_k=top_k,
        stop_sequences=stops,
    )
    _check_context(model, prompt)
    return Job("messages", model, prompt)


_LEGACY_KEYS = {
    "prompt",
    "max_tokens_to_sample",
    "temperature",
    "top_p",
    "top_k",
    "stop_sequences",
    "anthropic_version",
}
_TURN = re.compile(r"(\n\nHuman:|\n\nAssistant:)")


def _parse_legacy(model: ModelInfo, body: dict[str, Any]) -> Job:
    _no_extraneous(body, _LEGACY_KEYS)
    _required(body, ("prompt", "max_tokens_to_sample"))
    prompt_text = body["prompt"]
    _expect(prompt_text, "String", "#/prompt")
    max_tokens = _number(body, "max_tokens_to_sample", 1, model.max_output, integer=True)
    if max_tokens is None:
        raise malformed("#/max_tokens_to_sample: expected type: Integer, found: Null")
    temperature = _number(body, "temperature", 0, 1)
    top_p = _number(body, "top_p", 0, 1)
    top_k = _number(body, "top_k", 0, 500, integer=True)
    stops = _stop_sequences(body, "stop_sequences")

    first_human = prompt_text.find(HUMAN)
    first_assistant = prompt_text.find(ASSISTANT)
    problems = []
    if first_human < 0 or 0 <= first_assistant < first_human:
        problems.append('prompt must start with "\n\nHuman:" turn after an optional system prompt')
    if prompt_text.rfind(ASSISTANT) <= prompt_text.rfind(HUMAN):
        problems.append('prompt must end with "\n\nAssistant:" turn')
    if problems:
        raise validation("Invalid prompt: " + ", ".join(problems))

    pieces = _TURN.split(prompt_text)
    system = pieces[0].strip()
    messages: list[tuple[str, str]] = []
    for marker, text in zip(pieces[1::2], pieces[2::2], strict=True):
        role = "user" if marker == HUMAN else "assistant"
        messages.append((role, text.strip()))
    if messages and messages[-1] == ("assistant", ""):
        messages.pop()
    prompt = Prompt(
        model_id=model.model_id,
        model_name=model.name,
        messages=messages,
        system=system,
        max_tokens=max_tokens,
        temperature=temperature,
        top_p=top_p,
        top_k=top_k,
        stop_sequences=[*stops, HUMAN],
    )
    if prompt.input_tokens > model.context_window:
        raise validation(errors.INPUT_TOO_LONG)
    return Job("legacy", model, prompt)


_LLAMA_TURN = re.compile(
    r"<\|start_header_id\|>(\w+)<\|end_header_id\|>\s*(.*?)(?:<\|eot_id\|>|$)", re.DOTALL
)


def _parse_meta(model: ModelInfo, body: dict[str, Any]) -> Job:
    _no_extraneous(body, {"prompt", "temperature", "top_p", "max_gen_len", "images"})
    _required(body, ("prompt",))
    _expect(body["prompt"], "String", "#/prompt")
    temperature = _number(body, "temperature", 0, 1)
    top_p = _number(body, "top_p", 0, 1)
    max_gen_len = _number(body, "max_gen_len", 1, model.max_output, integer=True) or 512
    system = ""
    messages: list[tuple[str, str]] = []
    for role, text in _LLAMA_TURN.findall(body["prompt"]):
        if role == "system":
            system = text.strip()
        elif text.strip():
            messages.append(("user" if role == "user" else "assistant", text.strip()))
    if not messages:
        messages = [("user", body["prompt"].strip())]
    prompt = Prompt(
        model_id=model.model_id,
        model_name=model.name,
        messages=messages,
        system=system,
        max_tokens=max_gen_len,
        temperature=temperature,
        top_p=top_p,
    )
    _check_context(model, prompt)
    return Job("meta", model, prompt)


def _parse_mistral(model: ModelInfo, body: dict[str, Any]) -> Job:
    _no_extraneous(
        body,
        {
            "messages",
            "prompt",
            "max_tokens",
            "temperature",
            "top_p",
            "stop",
            "tools",
            "tool_choice",
        },
    )
    if "messages" not in body and "prompt" not in body:
        raise malformed("#: required key [messages] not found")
    temperature = _number(body, "temperature", 0, 1)
    top_p = _number(body, "top_p", 0, 1)
    max_tokens = _number(body, "max_tokens", 1, model.max_output, integer=True) or 8192
    stops = _stop_sequences(body, "stop")
    system = ""
    messages: list[tuple[str, str]] = []
    if "messages" in body:
        _expect(body["messages"], "JSONArray", "#/messages")
        for i, message in enumerate(body["messages"]):
            _expect(message, "JSONObject", f"#/messages/{i}")
            role, content = message.get("role"), message.get("content", "")
            if role not in ("system", "user", "assistant", "tool"):
                raise malformed(f"#/messages/{i}/role: {role} is not a valid enum value")
            text = content if isinstance(content, str) else ""
            if role == "system":
                system = text
            else:
                messages.append(("user" if role in ("user", "tool") else "assistant", text))
    else:
        _expect(body["prompt"], "String", "#/prompt")
        text = re.sub(r"</?s>|\[/?INST\]", " ", body["prompt"])
        messages = [("user", " ".join(text.split()))]
    prompt = Prompt(
        model_id=model.model_id,
        model_name=model.name,
        messages=messages,
        system=system,
        max_tokens=max_tokens,
        temperature=temperature,
        top_p=top_p,
        stop_sequences=stops,
    )
    _check_context(model, prompt)
    return Job("mistral", model, prompt)


def _parse_nova(model: ModelInfo, body: dict[str, Any]) -> Job:
    _no_extraneous(body, {"schemaVersion", "messages", "system", "inferenceConfig", "toolConfig"})
    _required(body, ("messages",))
    config = body.get("inferenceConfig") or {}
    _expect(config, "JSONObject", "#/inferenceConfig")
    _no_extraneous(
        config, {"maxTokens", "max_new_tokens", "temperature", "topP", "topK", "stopSequences"}
    )
    max_tokens = (
        _number(config, "maxTokens", 1, model.max_output, integer=True)
        or _number(config, "max_new_tokens", 1, model.max_output, integer=True)
        or min(5000, model.max_output)
    )
    temperature = _number(config, "temperature", 0, 1)
    top_p = _number(config, "topP", 0, 1)
    top_k = _number(config, "topK", 0, 128, integer=True)
    stops = _stop_sequences(config, "stopSequences")
    messages = _converse_messages(body, anthropic=False)
    system = _converse_system(body)
    prompt = Prompt(
        model_id=model.model_id,
        model_name=model.name,
        messages=messages,
        system=system,
        max_tokens=max_tokens,
        temperature=temperature,
        top_p=top_p,
        top_k=top_k,
        stop_sequences=stops,
    )
    _check_context(model, prompt)
    return Job("nova", model, prompt)


def _parse_embed(model: ModelInfo, body: dict[str, Any]) -> Job:
    _no_extraneous(body, {"inputText", "dimensions", "normalize", "embeddingTypes"})
    _required(body, ("inputText",))
    _expect(body["inputText"], "String", "#/inputText")
    dimensions = body.get("dimensions", 1024)
    if dimensions not in (256, 512, 1024):
        raise malformed(f"#/dimensions: {dimensions} is not a valid enum value")
    if len(body["inputText"]) / 4 > model.context_window:
        raise validation(errors.INPUT_TOO_LONG)
    return Job(
        "embed",
        model,
        embedding={
            "text": body["inputText"],
            "dimensions": dimensions,
            "normalize": bool(body.get("normalize", True)),
        },
    )


# ---------------------------------------------------------------------------------------------
# Converse / ConverseStream

_CONVERSE_ANTHROPIC_FIELDS = {"top_k", "anthropic_beta", "thinking", "anthropic_version"}


def _converse_messages(body: dict[str, Any], *, anthropic: bool) -> list[tuple[str, str]]:
    messages = body.get("messages") or []
    if not isinstance(messages, list):
        raise validation("The messages field must be a list of Message objects.")
    if not messages or not isinstance(messages[0], dict) or messages[0].get("role") != "user":
        raise validation(
            "A conversation must start with a user message. Try again with a conversation that "
            "starts with a user message."
        )
    out: list[tuple[str, str]] = []
    for i, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        if role not in ("user", "assistant") or (out and out[-1][0] == role):
            raise validation(
                "A conversation must alternate between user and assistant roles. Make sure the "
                "conversation alternates between user and assistant roles and try again."
            )
        content = message.get("content")
        if not isinstance(content, list) or not content:
            raise validation(
                f"The content field in the Message object at messages.{i} is empty. Add a "
                "ContentBlock object to the content field and try again."
            )
        texts = []
        for j, block in enumerate(content):
            if not isinstance(block, dict):
                raise validation(f"The ContentBlock object at messages.{i}.content.{j} is invalid.")
            if "text" in block:
                text = block["text"]
                if not isinstance(text, str) or not text.strip():
                    raise validation(
                        f"The text field in the ContentBlock object at messages.{i}.content.{j} "
                        "is blank. Add text to the text field, and try again."
                    )
                texts.append(text)
        out.append((role, "\n".join(texts)))
    if anthropic and out[-1][0] == "assistant" and out[-1][1] != out[-1][1].rstrip():
        raise validation(
            "The model returned the following errors: messages: final assistant content cannot "
            "end with trailing whitespace"
        )
    return out


def _converse_system(body: dict[str, Any]) -> str:
    system = body.get("system") or []
    if not isinstance(system, list):
        raise validation("The system field must be a list of SystemContentBlock objects.")
    texts = []
    for j, block in enumerate(system):
        if isinstance(block, dict) and "text" in block:
            if not isinstance(block["text"], str) or not block["text"].strip():
                raise validation(
                    f"The text field in the SystemContentBlock object at system.{j} is blank. "
                    "Add text to the text field, and try again."
                )
            texts.append(block["text"])
    return "\n".join(texts)


def _converse_number(config: dict[str, Any], key: str, lo: float, hi: float | None) -> Any:
    value = config.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise validation(f"The value at inferenceConfig.{key} must be a number.")
    if value < lo or (hi is not None and value > hi):
        bound = f"between {_num(lo)} and {_num(hi)}" if hi is not None else f"at least {_num(lo)}"
        raise validation(f"The value at inferenceConfig.{key} must be {bound}.")
    return value


def parse_converse(model: ModelInfo, raw: bytes) -> Job:
    if not model.is_text:
        raise validation(
            "This action doesn't support the model that you provided. Try again with a supported "
            "text or chat model."
        )
    body = _parse_json_object(raw)
    anthropic = model.family == catalog.ANTHROPIC
    config = body.get("inferenceConfig") or {}
    if not isinstance(config, dict):
        raise validation("The inferenceConfig field must be an InferenceConfiguration object.")
    default_max = min(4096, model.max_output)
    max_tokens = _converse_number(config, "maxTokens", 1, None)
    if max_tokens is not None and max_tokens > model.max_output:
        raise validation(
            f"The maximum tokens you requested exceeds the model limit of {model.max_output}. "
            f"Try again with a maximum tokens value that is lower than {model.max_output}."
        )
    temperature = _converse_number(config, "temperature", 0, 1)
    top_p = _converse_number(config, "topP", 0, 1)
    stops = config.get("stopSequences") or []
    if not isinstance(stops, list) or not all(isinstance(s, str) and s for s in stops):
        raise validation("The value at inferenceConfig.stopSequences must be non-empty strings.")

    extra = body.get("additionalModelRequestFields") or {}
    if not isinstance(extra, dict):
        raise validation("The additionalModelRequestFields field must be a JSON object.")
    top_k: int | None = None
    if model.family == catalog.ANTHROPIC:
        _no_extraneous(extra, _CONVERSE_ANTHROPIC_FIELDS)
        top_k = _number(extra, "top_k", 0, None, integer=True)
    elif model.family == catalog.NOVA:
        _no_extraneous(extra, {"inferenceConfig"})
        nova_config = extra.get("inferenceConfig") or {}
        _expect(nova_config, "JSONObject", "#/inferenceConfig")
        _no_extraneous(nova_config, {"topK"})
        top_k = _number(nova_config, "topK", 0, 128, integer=True)
    else:
        _no_extraneous(extra, set())

    messages = _converse_messages(body, anthropic=anthropic)
    system = _converse_system(body)
    if model.exclusive_temperature_top_p and temperature is not None and top_p is not None:
        raise validation("The model returned the following errors: " + errors.TEMPERATURE_TOP_P)
    paths = body.get("additionalModelResponseFieldPaths") or []
    prompt = Prompt(
        model_id=model.model_id,
        model_name=model.name,
        messages=messages,
        system=system,
        max_tokens=int(max_tokens or default_max),
        temperature=None if temperature is None else float(temperature),
        top_p=None if top_p is None else float(top_p),
        top_k=top_k,
        stop_sequences=list(stops),
    )
    _check_context(model, prompt)
    return Job("converse", model, prompt, response_field_paths=[str(p) for p in paths])
