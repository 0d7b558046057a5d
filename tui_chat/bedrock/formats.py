"""Request bodies and stream parsers for the three wire formats.

- text completion (Claude 2 / Instant): InvokeModelWithResponseStream with a Human/Assistant
  prompt; chunks carry `completion`, `stop_reason`, `stop`.
- Anthropic Messages on Bedrock (Claude 3 and later): InvokeModelWithResponseStream with
  `anthropic_version`; events message_start, content_block_delta, message_delta, message_stop.
- ConverseStream for every other model: contentBlockDelta, messageStop, metadata.

`prepare` applies DESIGN.md's rules for what is sent: max tokens always, every other parameter
only when it differs from the model's default, the model's rules applied (left-out parameters
listed in `omitted`), roles alternating, no empty turns, no empty system prompt. The parsers
turn boto3's event dicts into TextDelta and a final `Ending`; timing is the runner's job.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from tui_chat.bedrock import catalog
from tui_chat.bedrock.errors import BedrockError, from_code
from tui_chat.bedrock.events import TextDelta
from tui_chat.params import SEED_DEFAULTS, ParamError, Params, check_number

ANTHROPIC_VERSION = "bedrock-2023-05-31"
HUMAN = "\n\nHuman:"
ASSISTANT = "\n\nAssistant:"
INVOKE_STREAM = "InvokeModelWithResponseStream"
CONVERSE_STREAM = "ConverseStream"
# Assistant turns that ended like this and hold no text are never sent.
_SKIPPED_WHEN_EMPTY = ("cancelled", "error", "interrupted", "complete", "streaming")


@dataclass
class Turn:
    role: str
    text: str


@dataclass
class Prepared:
    """A request ready to send: the exact body, and what was sent or left out."""

    model_id: str
    format: str
    operation: str
    body: dict[str, Any]
    sent: dict[str, Any]
    omitted: list[str] = field(default_factory=list)

    def boto3_call(self) -> tuple[str, dict[str, Any]]:
        """The boto3 method name and its keyword arguments."""
        if self.operation == INVOKE_STREAM:
            return "invoke_model_with_response_stream", {
                "modelId": self.model_id,
                "body": json.dumps(self.body),
                "contentType": "application/json",
                "accept": "application/json",
            }
        return "converse_stream", {"modelId": self.model_id, **self.body}


def request_json(prepared: Prepared) -> str:
    """The request body exactly as sent, pretty-printed (it never holds credentials)."""
    return json.dumps(prepared.body, indent=2, ensure_ascii=False)


def boto3_snippet(prepared: Prepared, region: str) -> str:
    """Python that sends the same request with boto3 and prints the reply as it streams."""
    body = request_json(prepared)
    head = (
        "import json\n\nimport boto3\n\n"
        f'client = boto3.client("bedrock-runtime", region_name={region!r})\n'
        f"body = {body}\n\n"
    )
    if prepared.operation == CONVERSE_STREAM:
        return head + (
            f"response = client.converse_stream(modelId={prepared.model_id!r}, **body)\n"
            'for event in response["stream"]:\n'
            '    if "contentBlockDelta" in event:\n'
            '        print(event["contentBlockDelta"]["delta"].get("text", ""), end="")\n'
            '    elif "messageStop" in event:\n'
            '        print("\\n[stop:", event["messageStop"]["stopReason"] + "]")\n'
        )
    text = (
        '        print(chunk.get("completion", ""), end="")\n'
        if prepared.format == catalog.TEXT_COMPLETION
        else '        if chunk["type"] == "content_block_delta":\n'
        '            print(chunk["delta"].get("text", ""), end="")\n'
    )
    return head + (
        "response = client.invoke_model_with_response_stream(\n"
        f"    modelId={prepared.model_id!r},\n"
        "    body=json.dumps(body),\n"
        ")\n"
        'for event in response["body"]:\n'
        '    if "chunk" in event:\n'
        '        chunk = json.loads(event["chunk"]["bytes"])\n' + text
    )


def turns_from_messages(messages: Sequence[Any]) -> list[Turn]:
    """The turns to send, in the API's shape.

    Accepts Message objects or {"role", "content"} dicts. System messages are not turns (the
    caller moves them to the system prompt). Empty turns are dropped, consecutive turns of one
    role are merged, the first turn is a user turn, and a final assistant turn (a prefill or a
    continuation) has its trailing whitespace trimmed.
    """
    out: list[Turn] = []
    for message in messages:
        role, text = _role_and_text(message)
        if role not in ("user", "assistant"):
            continue
        if not text.strip():
            continue
        if out and out[-1].role == role:
            out[-1].text = f"{out[-1].text}\n\n{text}"
        else:
            out.append(Turn(role, text))
    while out and out[0].role != "user":
        out.pop(0)
    if out and out[-1].role == "assistant":
        out[-1].text = out[-1].text.rstrip()
    return out


def _role_and_text(message: Any) -> tuple[str, str]:
    if isinstance(message, dict):
        return str(message.get("role", "")), str(message.get("content", "") or "")
    return message.role, message.content


def choose_params(params: Params, info: catalog.ModelInfo) -> tuple[dict[str, Any], list[str]]:
    """The sampling parameters to send (by our names) and those the model's rules leave out."""
    if info.max_output:
        check_number("max_tokens_to_sample", params.max_tokens_to_sample, info.max_output)
    send: dict[str, Any] = {"max_tokens_to_sample": params.max_tokens_to_sample}
    omitted: list[str] = []
    for name in ("temperature", "top_p", "top_k"):
        value = getattr(params, name)
        default = info.defaults.get(name, getattr(SEED_DEFAULTS, name))
        if value != default:
            send[name] = value
    if "top_k" in send and not info.takes_top_k:
        del send["top_k"]
        omitted.append("top_k")
    if info.exclusive_temperature_top_p and "temperature" in send and "top_p" in send:
        del send["top_p"]
        omitted.append("top_p")
    if params.stop_sequences:
        send["stop_sequences"] = list(params.stop_sequences)
    return send, omitted


def prepare(messages: Sequence[Any], params: Params) -> Prepared:
    """Build the request for `params.model` from a conversation's messages."""
    info = catalog.lookup(params.model)
    turns = turns_from_messages(messages)
    if not turns:
        raise ParamError("messages", [], "at least one non-empty user message")
    send, omitted = choose_params(params, info)
    system = params.system if params.system.strip() else ""
    if info.format == catalog.TEXT_COMPLETION:
        body = _text_completion_body(turns, system, send)
        operation = INVOKE_STREAM
    elif info.format == catalog.MESSAGES:
        body = _messages_body(turns, system, send)
        operation = INVOKE_STREAM
    else:
        body = _converse_body(turns, system, send, info)
        operation = CONVERSE_STREAM
    sent = {"model": params.model, **send}
    if system:
        sent["system"] = system
    return Prepared(params.model, info.format, operation, body, sent, omitted)


def text_completion_prompt(turns: Sequence[Turn], system: str = "") -> str:
    """`system` then `\\n\\nHuman: ...\\n\\nAssistant: ...` turns, ending in `\\n\\nAssistant:`."""
    parts = [system.rstrip()] if system else []
    for turn in turns:
        parts.append(f"{HUMAN if turn.role == 'user' else ASSISTANT} {turn.text}")
    if turns and turns[-1].role == "assistant":
        raise ParamError(
            "messages",
            "continue",
            "a conversation ending in a user turn for text-completion models",
        )
    parts.append(ASSISTANT)
    return "".join(parts)


def _text_completion_body(turns: list[Turn], system: str, send: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"prompt": text_completion_prompt(turns, system)}
    body["max_tokens_to_sample"] = send["max_tokens_to_sample"]
    for name in ("temperature", "top_p", "top_k", "stop_sequences"):
        if name in send:
            body[name] = send[name]
    return body


def _messages_body(turns: list[Turn], system: str, send: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "anthropic_version": ANTHROPIC_VERSION,
        "max_tokens": send["max_tokens_to_sample"],
        "messages": [
            {"role": t.role, "content": [{"type": "text", "text": t.text}]} for t in turns
        ],
    }
    if system:
        body["system"] = system
    for name in ("temperature", "top_p", "top_k", "stop_sequences"):
        if name in send:
            body[name] = send[name]
    return body


def _converse_body(
    turns: list[Turn], system: str, send: dict[str, Any], info: catalog.ModelInfo
) -> dict[str, Any]:
    config: dict[str, Any] = {"maxTokens": send["max_tokens_to_sample"]}
    for ours, theirs in (
        ("temperature", "temperature"),
        ("top_p", "topP"),
        ("stop_sequences", "stopSequences"),
    ):
        if ours in send:
            config[theirs] = send[ours]
    body: dict[str, Any] = {
        "messages": [{"role": t.role, "content": [{"text": t.text}]} for t in turns],
        "inferenceConfig": config,
    }
    if system:
        body["system"] = [{"text": system}]
    if "top_k" in send:
        body["additionalModelRequestFields"] = {"top_k": send["top_k"]}
    return body


# ---------------------------------------------------------------------------------------------
# Stream parsers


@dataclass
class Ending:
    """How a reply ended, as the model reported it (before timing is added)."""

    reason: str
    raw_reason: str
    stop_sequence: str = ""
    input_tokens: int = 0
    output_tokens: int = 0


def normalise_stop(raw: str | None, stop: str | None = None) -> tuple[str, str]:
    """(normalised reason, stop sequence). The legacy API's built-in stop on `\\n\\nHuman:` is
    an ordinary end of turn."""
    raw = raw or ""
    if raw == "stop_sequence":
        if not stop or stop == HUMAN or stop.strip() == "Human:":
            return "end_turn", ""
        return "stop_sequence", stop
    if raw == "length":
        return "max_tokens", ""
    if raw in ("stop", "end"):
        return "end_turn", ""
    return (raw or "end_turn"), (stop or "")


def _chunk_json(event: dict[str, Any]) -> dict[str, Any] | None:
    chunk = event.get("chunk")
    if not isinstance(chunk, dict) or "bytes" not in chunk:
        return None  # an event type we do not know: ignored
    data = chunk["bytes"]
    if isinstance(data, str):
        data = base64.b64decode(data)
    try:
        parsed = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise BedrockError("bad_response", detail="a chunk that is not JSON") from None
    return parsed if isinstance(parsed, dict) else None


def _metrics(data: dict[str, Any], ending: Ending) -> None:
    metrics = data.get("amazon-bedrock-invocationMetrics")
    if isinstance(metrics, dict):
        ending.input_tokens = int(metrics.get("inputTokenCount", ending.input_tokens) or 0)
        ending.output_tokens = int(metrics.get("outputTokenCount", ending.output_tokens) or 0)


def parse_text_completion(events: Iterable[dict[str, Any]]) -> Iterator[TextDelta | Ending]:
    ending: Ending | None = None
    for event in events:
        data = _chunk_json(event)
        if data is None:
            continue
        text = data.get("completion")
        if isinstance(text, str) and text:
            yield TextDelta(text)
        raw = data.get("stop_reason")
        if raw:
            reason, sequence = normalise_stop(raw, data.get("stop"))
            ending = Ending(reason, raw, sequence)
        if ending is not None:
            _metrics(data, ending)
    if ending is not None:
        yield ending


def parse_messages(events: Iterable[dict[str, Any]]) -> Iterator[TextDelta | Ending]:
    ending = Ending("", "")
    stopped = False
    for event in events:
        data = _chunk_json(event)
        if data is None:
            continue
        kind = data.get("type")
        if kind == "content_block_delta":
            delta = data.get("delta") or {}
            if delta.get("type") == "text_delta" and delta.get("text"):
                yield TextDelta(delta["text"])
        elif kind == "message_start":
            usage = (data.get("message") or {}).get("usage") or {}
            ending.input_tokens = int(usage.get("input_tokens", 0) or 0)
        elif kind == "message_delta":
            delta = data.get("delta") or {}
            raw = delta.get("stop_reason") or ""
            ending.reason, ending.stop_sequence = normalise_stop(raw, delta.get("stop_sequence"))
            if raw == "stop_sequence" and delta.get("stop_sequence"):
                ending.reason, ending.stop_sequence = "stop_sequence", delta["stop_sequence"]
            ending.raw_reason = raw
            usage = data.get("usage") or {}
            ending.output_tokens = int(usage.get("output_tokens", ending.output_tokens) or 0)
        elif kind == "message_stop":
            _metrics(data, ending)
            stopped = True
        elif kind == "error":
            error = data.get("error") or {}
            raise from_code(str(error.get("type", "")), str(error.get("message", "")))
    if stopped or ending.raw_reason:
        if not ending.reason:
            ending.reason = "end_turn"
        yield ending


def parse_converse(events: Iterable[dict[str, Any]]) -> Iterator[TextDelta | Ending]:
    ending = Ending("", "")
    stopped = False
    for event in events:
        if "contentBlockDelta" in event:
            delta = event["contentBlockDelta"].get("delta") or {}
            text = delta.get("text")
            if text:
                yield TextDelta(text)
        elif "messageStop" in event:
            stop = event["messageStop"]
            raw = stop.get("stopReason") or ""
            fields = stop.get("additionalModelResponseFields") or {}
            sequence = fields.get("stop_sequence") if isinstance(fields, dict) else None
            ending.raw_reason = raw
            ending.reason = "stop_sequence" if raw == "stop_sequence" else normalise_stop(raw)[0]
            ending.stop_sequence = sequence or ""
            stopped = True
        elif "metadata" in event:
            usage = event["metadata"].get("usage") or {}
            ending.input_tokens = int(usage.get("inputTokens", 0) or 0)
            ending.output_tokens = int(usage.get("outputTokens", 0) or 0)
    if stopped:
        yield ending


def parser_for(prepared: Prepared):
    return {
        catalog.TEXT_COMPLETION: parse_text_completion,
        catalog.MESSAGES: parse_messages,
        catalog.CONVERSE: parse_converse,
    }[prepared.format]
