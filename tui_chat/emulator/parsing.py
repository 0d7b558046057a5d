"""Request bodies in, validated ``Job``s out: each wire format checked the way Bedrock checks it.

Formats:
- ``messages``: Anthropic Messages body on InvokeModel(WithResponseStream), Claude models.
- ``legacy``: Anthropic text completions (``prompt``), Claude v2 / v2.1 / Instant only.
- ``meta``, ``mistral``, ``nova``: those families' native InvokeModel bodies.
- ``embed``: Titan text embeddings (InvokeModel only).
- ``converse``: Converse / ConverseStream, every text model.

The rules that differ per model (sampling, thinking, effort, prefill) are checked in ``rules``
for both Claude formats; cache points are collected here with a ``caching.PrefixBuilder``;
image and document blocks are checked and measured in ``attachments``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from tui_chat.emulator import attachments, catalog, errors, rules, signing
from tui_chat.emulator.attachments import Attachment
from tui_chat.emulator.caching import MAX_CACHE_POINTS, TTL_SECONDS, CachePoint, PrefixBuilder
from tui_chat.emulator.catalog import ModelInfo
from tui_chat.emulator.demo_model import Prompt
from tui_chat.emulator.errors import json_type, malformed, validation

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
    cache_points: list[CachePoint] = field(default_factory=list)  # in request order


# ---------------------------------------------------------------------------------------------
# JSON-schema style checks (the messages mimic the validator Bedrock runs on model bodies)


def _expect(value: Any, expected: str, pointer: str) -> None:
    actual = json_type(value)
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
        raise malformed(f"#: expected type: JSONObject, found: {json_type(body)}")
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
    if model.family in (catalog.NOVA, catalog.STRICT):
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
    "output_config",
}
_OUTPUT_CONFIG_KEYS = {"effort"}


@dataclass
class _Block:
    """One content block as the checks and the cache see it."""

    kind: str  # Anthropic's block type: text, image, thinking, redacted_thinking, tool_use...
    material: Any  # what the cache key hashes (the block without its cache marker)
    text: str | None = None  # text that counts toward the input tokens
    cache_ttl: str | None = None  # a cache point after this block
    attachment: Attachment | None = None  # an image or a document, decoded and measured

    @property
    def tokens(self) -> int:
        """Input tokens beyond the text's: an image's or a document's."""
        return self.attachment.tokens if self.attachment is not None else 0


@dataclass
class _Message:
    role: str
    text: str
    blocks: list[_Block]
    lead_cache_ttl: str | None = None  # Converse: a cache point before the message's first block


def _attached(messages: list[_Message]) -> list[Attachment]:
    """The request's images and documents, in order."""
    return [b.attachment for m in messages for b in m.blocks if b.attachment is not None]


def _cache_control(value: Any, pointer: str, refuse: rules.Refuser) -> str:
    """Check a Messages ``cache_control``; its ttl."""
    if not isinstance(value, dict) or value.get("type") != "ephemeral":
        raise refuse(f"{pointer}.cache_control.type: Input should be 'ephemeral'")
    for key in value:
        if key not in ("type", "ttl"):
            raise refuse(f"{pointer}.cache_control.{key}: Extra inputs are not permitted")
    ttl = value.get("ttl", "5m")
    if ttl not in TTL_SECONDS:
        raise refuse(f"{pointer}.cache_control.ttl: Input should be '5m' or '1h'")
    return ttl


def _string_field(block: dict[str, Any], key: str, pointer: str, refuse: rules.Refuser) -> str:
    if key not in block:
        raise refuse(f"{pointer}.{key}: Field required")
    if not isinstance(block[key], str):
        raise refuse(f"{pointer}.{key}: Input should be a valid string")
    return block[key]


def _anthropic_blocks(
    model: ModelInfo, content: Any, i: int, *, final_assistant: bool, refuse: rules.Refuser
) -> list[_Block]:
    """The blocks of one Messages-API message, checking what the Anthropic API checks."""
    pointer = f"#/messages/{i}/content"
    if isinstance(content, str):
        if not content and not final_assistant:
            raise validation(
                "messages: all messages must have non-empty content except for the optional "
                "final assistant message"
            )
        return [_Block("text", {"type": "text", "text": content}, content)]
    _expect(content, "JSONArray", pointer)
    if not content and not final_assistant:
        raise validation(
            "messages: all messages must have non-empty content except for the optional "
            "final assistant message"
        )
    blocks = []
    for j, block in enumerate(content):
        _expect(block, "JSONObject", f"{pointer}/{j}")
        if "type" not in block:
            raise malformed(f"{pointer}/{j}: required key [type] not found")
        kind = block["type"]
        where = f"messages.{i}.content.{j}"
        text = None
        attachment = None
        if kind == "text":
            text = block.get("text")
            _expect(text, "String", f"{pointer}/{j}/text")
            if not text:
                raise validation("messages: text content blocks must be non-empty")
            if not text.strip():
                raise validation("messages: text content blocks must contain non-whitespace text")
        elif kind == "thinking":
            thinking = _string_field(block, "thinking", f"{where}.thinking", refuse)
            signature = _string_field(block, "signature", f"{where}.thinking", refuse)
            if not signing.verify(thinking, signature):
                raise refuse(errors.INVALID_SIGNATURE.format(i=i, j=j))
        elif kind == "redacted_thinking":
            data = _string_field(block, "data", f"{where}.redacted_thinking", refuse)
            blob = signing.decode_base64(data)
            if blob is None or not signing.verify_redacted(blob):
                raise refuse(errors.INVALID_REDACTED.format(i=i, j=j))
        elif kind in (attachments.IMAGE, attachments.DOCUMENT):
            attachment = attachments.messages_block(model, block, i, j)
        ttl = None
        if block.get("cache_control") is not None:
            ttl = _cache_control(block["cache_control"], where, refuse)
        material = {k: v for k, v in block.items() if k != "cache_control"}
        blocks.append(_Block(str(kind), material, text, ttl, attachment))
    return blocks


def _anthropic_messages(
    model: ModelInfo, body: dict[str, Any], refuse: rules.Refuser
) -> list[_Message]:
    messages = body["messages"]
    _expect(messages, "JSONArray", "#/messages")
    if not messages:
        raise malformed("#/messages: expected minimum item count: 1, found: 0")
    out: list[_Message] = []
    for i, message in enumerate(messages):
        _expect(message, "JSONObject", f"#/messages/{i}")
        _required_at(message, ("role", "content"), f"#/messages/{i}")
        role = message["role"]
        if role not in ("user", "assistant"):
            raise malformed(f"#/messages/{i}/role: {role} is not a valid enum value")
        if i == 0 and role != "user":
            raise validation('messages: first message must use the "user" role')
        if out and out[-1].role == role:
            raise validation(
                'messages: roles must alternate between "user" and "assistant", '
                f'but found multiple "{role}" roles in a row'
            )
        final_assistant = role == "assistant" and i == len(messages) - 1
        blocks = _anthropic_blocks(
            model, message["content"], i, final_assistant=final_assistant, refuse=refuse
        )
        text = "\n".join(b.text for b in blocks if b.text is not None)
        if final_assistant and text != text.rstrip():
            raise validation(
                "messages: final assistant content cannot end with trailing whitespace"
            )
        out.append(_Message(role, text, blocks))
    attachments.check_messages_request(_attached(out))
    return out


def _required_at(obj: dict[str, Any], keys: tuple[str, ...], pointer: str) -> None:
    for key in keys:
        if key not in obj:
            raise malformed(f"{pointer}: required key [{key}] not found")


def _anthropic_system(body: dict[str, Any], refuse: rules.Refuser) -> list[_Block]:
    system = body.get("system")
    if system is None:
        return []
    if isinstance(system, str):
        return [_Block("text", {"type": "text", "text": system}, system)] if system else []
    _expect(system, "JSONArray", "#/system")
    blocks = []
    for j, block in enumerate(system):
        _expect(block, "JSONObject", f"#/system/{j}")
        if block.get("type") != "text":
            raise malformed(f"#/system/{j}/type: {block.get('type')} is not a valid enum value")
        _expect(block.get("text"), "String", f"#/system/{j}/text")
        if not block["text"]:
            raise validation("system: text content blocks must be non-empty")
        ttl = None
        if block.get("cache_control") is not None:
            ttl = _cache_control(block["cache_control"], f"system.{j}", refuse)
        material = {k: v for k, v in block.items() if k != "cache_control"}
        blocks.append(_Block("text", material, block["text"], ttl))
    return blocks


def _anthropic_tools(body: dict[str, Any], refuse: rules.Refuser) -> list[_Block]:
    """Tools only matter here as the start of the cached prefix (and their cache markers)."""
    tools = body.get("tools")
    if not isinstance(tools, list):
        return []
    blocks = []
    for j, tool in enumerate(tools):
        if not isinstance(tool, dict):
            continue
        ttl = None
        if tool.get("cache_control") is not None:
            ttl = _cache_control(tool["cache_control"], f"tools.{j}", refuse)
        material = {k: v for k, v in tool.items() if k != "cache_control"}
        blocks.append(_Block("tool", material, None, ttl))
    return blocks


def _cache_points(
    model: ModelInfo,
    tools: list[_Block],
    system: list[_Block],
    messages: list[_Message],
    refuse: rules.Refuser,
) -> list[CachePoint]:
    """Every cache point of a Claude request, after checking there are at most four.

    Models without prompt caching accept the markers and ignore them.
    """
    prefix = PrefixBuilder(model.model_id)
    sections = [("tools", tools, None), ("system", system, None)]
    sections += [(m.role, m.blocks, m.lead_cache_ttl) for m in messages]
    for label, blocks, lead_ttl in sections:
        prefix.section(label)
        if lead_ttl is not None:
            prefix.mark(lead_ttl)  # a cache point that opens a message: the prefix before it
        for block in blocks:
            prefix.block(block.material, block.text, block.tokens)
            if block.cache_ttl is not None:
                prefix.mark(block.cache_ttl)
    if prefix.markers > MAX_CACHE_POINTS:
        raise refuse(errors.CACHE_LIMIT.format(n=prefix.markers))
    return prefix.points if model.cache_min_tokens is not None else []


def _check_final_assistant(
    settings: rules.Settings, messages: list[_Message], refuse: rules.Refuser
) -> bool:
    """With thinking on, a final assistant turn (a continuation) must start with its thinking.

    True when it does: the reply then continues after it without thinking again.
    """
    last = messages[-1]
    if settings.thinking == "off" or last.role != "assistant":
        return False
    kinds = [b.kind for b in last.blocks if b.kind != "cache"]  # cache points are not blocks
    first = kinds[0] if kinds else "text"
    if first not in ("thinking", "redacted_thinking"):
        raise refuse(errors.FINAL_ASSISTANT_THINKING.format(i=len(messages) - 1, found=first))
    return True


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
    refuse = rules.Refuser()
    messages = _anthropic_messages(model, body, refuse)
    system = _anthropic_system(body, refuse)
    tools = _anthropic_tools(body, refuse)
    output_config = body.get("output_config")
    if isinstance(output_config, dict):
        for key in output_config:
            if key not in _OUTPUT_CONFIG_KEYS:
                raise refuse(f"output_config.{key}: Extra inputs are not permitted")
    request = rules.Request(
        temperature=temperature,
        top_p=top_p,
        top_k=top_k,
        max_tokens=max_tokens,
        thinking=body.get("thinking"),
        output_config=output_config,
        ends_with_assistant=messages[-1].role == "assistant",
    )
    settings = rules.check(model, request, refuse, api_key="output_config")
    thinking_done = _check_final_assistant(settings, messages, refuse)
    cache_points = _cache_points(model, tools, system, messages, refuse)
    prompt = _prompt(
        model,
        [(m.role, m.text) for m in messages],
        "\n".join(b.text for b in system if b.text is not None),
        max_tokens=max_tokens,
        temperature=temperature,
        top_p=top_p,
        top_k=top_k,
        stop_sequences=stops,
        settings=settings,
        thinking_done=thinking_done,
        attached=_attached(messages),
    )
    _check_context(model, prompt)
    return Job("messages", model, prompt, cache_points=cache_points)


def _prompt(
    model: ModelInfo,
    messages: list[tuple[str, str]],
    system: str,
    *,
    settings: rules.Settings,
    thinking_done: bool = False,
    attached: list[Attachment] | None = None,
    **sampling: Any,
) -> Prompt:
    attached = attached or []
    return Prompt(
        model_id=model.model_id,
        model_name=model.name,
        messages=messages,
        system=system,
        effort=settings.effort,
        effort_level=settings.effort_level,
        effort_capped=settings.effort_capped,
        thinking=settings.thinking,
        budget_tokens=settings.budget_tokens,
        show_thinking=settings.show_thinking,
        thinking_done=thinking_done,
        attachments=[a.describe() for a in attached],
        attachment_tokens=sum(a.tokens for a in attached),
        **sampling,
    )


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
    refuse = rules.Refuser(errors.MODEL_ERRORS)
    walked = _converse_walk(model, body, anthropic=False, refuse=refuse)
    messages = [(m.role, m.text) for m in walked]
    attached = _attached(walked)
    system = _converse_system(body)
    sampling = rules.Request(temperature, top_p, top_k, max_tokens)
    rules.check_sampling(model, sampling, rules.Refuser())  # the strict sampler's rule
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
        attachments=[a.describe() for a in attached],
        attachment_tokens=sum(a.tokens for a in attached),
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
# Converse block key -> the Anthropic block type it becomes (for the model's own messages).
_CONVERSE_KINDS = {
    "text": "text",
    "image": "image",
    "document": "document",
    "video": "video",
    "toolUse": "tool_use",
    "toolResult": "tool_result",
    "reasoningContent": "thinking",
    "guardContent": "text",
    "citationsContent": "text",
    "searchResult": "search_result",
}


def _cache_point(value: Any, pointer: str) -> str:
    """Check a Converse ``cachePoint``; its ttl."""
    if not isinstance(value, dict) or value.get("type") != "default":
        raise validation(f"The value at {pointer}.cachePoint.type must be default.")
    ttl = value.get("ttl", "5m")
    if ttl not in TTL_SECONDS:
        raise validation(f"The value at {pointer}.cachePoint.ttl must be one of 5m, 1h.")
    return ttl


def _reasoning_block(value: Any, i: int, j: int, refuse: rules.Refuser) -> str:
    """Check a ``reasoningContent`` block sent back to a Claude model; its Anthropic type.

    ``j`` is the block's index as Claude sees it (cache points are not blocks there).
    """
    where = f"messages.{i}.content.{j}"
    if not isinstance(value, dict) or len(value) != 1:
        raise validation(f"The ReasoningContentBlock object at {where} is invalid.")
    if "redactedContent" in value:
        data = value["redactedContent"]
        blob = signing.decode_base64(data) if isinstance(data, str) else None
        if blob is None or not signing.verify_redacted(blob):
            raise refuse(errors.INVALID_REDACTED.format(i=i, j=j))
        return "redacted_thinking"
    reasoning = value.get("reasoningText")
    if not isinstance(reasoning, dict):
        raise validation(f"The ReasoningContentBlock object at {where} is invalid.")
    text = _string_field(reasoning, "text", f"{where}.thinking", refuse)
    if "signature" not in reasoning:
        raise refuse(f"{where}.thinking.signature: Field required")
    signature = _string_field(reasoning, "signature", f"{where}.thinking", refuse)
    if not signing.verify(text, signature):
        raise refuse(errors.INVALID_SIGNATURE.format(i=i, j=j))
    return "thinking"


def _converse_walk(
    model: ModelInfo, body: dict[str, Any], *, anthropic: bool, refuse: rules.Refuser
) -> list[_Message]:
    """The messages of a Converse body, as blocks (cache points folded into the block before),
    images and documents checked and measured."""
    messages = body.get("messages") or []
    if not isinstance(messages, list):
        raise validation("The messages field must be a list of Message objects.")
    if not messages or not isinstance(messages[0], dict) or messages[0].get("role") != "user":
        raise validation(
            "A conversation must start with a user message. Try again with a conversation that "
            "starts with a user message."
        )
    out: list[_Message] = []
    for i, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        if role not in ("user", "assistant") or (out and out[-1].role == role):
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
        blocks: list[_Block] = []
        pending_ttl: str | None = None  # a cache point before any block of this message
        for j, block in enumerate(content):
            if not isinstance(block, dict):
                raise validation(f"The ContentBlock object at messages.{i}.content.{j} is invalid.")
            if "cachePoint" in block:
                ttl = _cache_point(block["cachePoint"], f"messages.{i}.content.{j}")
                if not blocks and pending_ttl is None:
                    pending_ttl = ttl  # kept out of the blocks: the first must stay the first
                elif blocks and blocks[-1].cache_ttl is None:
                    blocks[-1].cache_ttl = ttl
                else:  # two cache points in a row: still two toward the limit
                    blocks.append(_Block("cache", {"cachePoint": j}, None, ttl))
                continue
            kind = next((_CONVERSE_KINDS[k] for k in block if k in _CONVERSE_KINDS), "unknown")
            text = None
            attachment = None
            if "text" in block:
                text = block["text"]
                if not isinstance(text, str) or not text.strip():
                    raise validation(
                        f"The text field in the ContentBlock object at messages.{i}.content.{j} "
                        "is blank. Add text to the text field, and try again."
                    )
            elif "reasoningContent" in block and anthropic:
                index = sum(1 for b in blocks if b.kind != "cache")  # as Claude numbers it
                kind = _reasoning_block(block["reasoningContent"], i, index, refuse)
            elif kind in (attachments.IMAGE, attachments.DOCUMENT):
                index = sum(1 for b in blocks if b.kind != "cache")
                attachment = attachments.converse_block(model, kind, block[kind], i, j, index)
            blocks.append(_Block(kind, block, text, attachment=attachment))
        text = "\n".join(b.text for b in blocks if b.text is not None)
        out.append(_Message(role, text, blocks, pending_ttl))
    attachments.check_converse_request(model, _attached(out))
    if anthropic and out[-1].role == "assistant" and out[-1].text != out[-1].text.rstrip():
        raise validation(
            "The model returned the following errors: messages: final assistant content cannot "
            "end with trailing whitespace"
        )
    return out


def _attach_cache_point(blocks: list[_Block], ttl: str) -> None:
    """A Converse cache point closes the block before it; one with none before it still
    counts toward the limit (it caches an empty prefix, which no minimum lets through)."""
    if blocks and blocks[-1].cache_ttl is None:
        blocks[-1].cache_ttl = ttl
    else:
        blocks.append(_Block("cache", {"cachePoint": len(blocks)}, None, ttl))


def _converse_system_blocks(body: dict[str, Any]) -> list[_Block]:
    system = body.get("system") or []
    if not isinstance(system, list):
        raise validation("The system field must be a list of SystemContentBlock objects.")
    blocks: list[_Block] = []
    for j, block in enumerate(system):
        if not isinstance(block, dict):
            continue
        if "cachePoint" in block:
            ttl = _cache_point(block["cachePoint"], f"system.{j}")
            _attach_cache_point(blocks, ttl)
            continue
        text = None
        if "text" in block:
            if not isinstance(block["text"], str) or not block["text"].strip():
                raise validation(
                    f"The text field in the SystemContentBlock object at system.{j} is blank. "
                    "Add text to the text field, and try again."
                )
            text = block["text"]
        blocks.append(_Block("text", block, text))
    return blocks


def _converse_system(body: dict[str, Any]) -> str:
    return "\n".join(b.text for b in _converse_system_blocks(body) if b.text is not None)


def _converse_tools(body: dict[str, Any]) -> list[_Block]:
    config = body.get("toolConfig")
    tools = config.get("tools") if isinstance(config, dict) else None
    if not isinstance(tools, list):
        return []
    blocks: list[_Block] = []
    for j, tool in enumerate(tools):
        if isinstance(tool, dict) and "cachePoint" in tool:
            ttl = _cache_point(tool["cachePoint"], f"toolConfig.tools.{j}")
            _attach_cache_point(blocks, ttl)
            continue
        blocks.append(_Block("tool", tool))
    return blocks


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
    refuse = rules.Refuser(errors.MODEL_ERRORS)
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
    thinking = None
    if model.family == catalog.ANTHROPIC:
        _no_extraneous(extra, _CONVERSE_ANTHROPIC_FIELDS)
        top_k = _number(extra, "top_k", 0, None, integer=True)
        thinking = extra.get("thinking")
    elif model.family == catalog.NOVA:
        _no_extraneous(extra, {"inferenceConfig"})
        nova_config = extra.get("inferenceConfig") or {}
        _expect(nova_config, "JSONObject", "#/inferenceConfig")
        _no_extraneous(nova_config, {"topK"})
        top_k = _number(nova_config, "topK", 0, 128, integer=True)
    else:
        _no_extraneous(extra, set())

    messages = _converse_walk(model, body, anthropic=anthropic, refuse=refuse)
    system = _converse_system_blocks(body)
    tools = _converse_tools(body)
    output_config = body.get("outputConfig")
    request = rules.Request(
        temperature=None if temperature is None else float(temperature),
        top_p=None if top_p is None else float(top_p),
        top_k=top_k,
        max_tokens=int(max_tokens or default_max),
        thinking=thinking,
        output_config=output_config,
        ends_with_assistant=messages[-1].role == "assistant",
    )
    settings = rules.check(model, request, refuse, api_key="outputConfig")
    thinking_done = False
    cache_points: list[CachePoint] = []
    if anthropic:
        thinking_done = _check_final_assistant(settings, messages, refuse)
        cache_points = _cache_points(model, tools, system, messages, refuse)
    paths = body.get("additionalModelResponseFieldPaths") or []
    prompt = _prompt(
        model,
        [(m.role, m.text) for m in messages],
        "\n".join(b.text for b in system if b.text is not None),
        max_tokens=request.max_tokens,
        temperature=request.temperature,
        top_p=request.top_p,
        top_k=top_k,
        stop_sequences=list(stops),
        settings=settings,
        thinking_done=thinking_done,
        attached=_attached(messages),
    )
    _check_context(model, prompt)
    return Job(
        "converse",
        model,
        prompt,
        response_field_paths=[str(p) for p in paths],
        cache_points=cache_points,
    )
