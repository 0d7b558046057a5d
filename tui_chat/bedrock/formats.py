"""Request bodies and stream parsers for the three wire formats.

- text completion (Claude 2 / Instant): InvokeModelWithResponseStream with a Human/Assistant
  prompt; chunks carry `completion`, `stop_reason`, `stop`.
- Anthropic Messages on Bedrock (Claude 3 and later): InvokeModelWithResponseStream with
  `anthropic_version`; events message_start, content_block_start/delta (text, thinking,
  signature, redacted thinking), message_delta, message_stop.
- ConverseStream for every other model (and any model when asked): contentBlockDelta (text or
  reasoningContent), messageStop, metadata.

`prepare` applies the rules for what is sent: max tokens always, every other parameter only
when it differs from the model's default, and the model's rules from the catalogue (and those
learned from Bedrock's refusals) applied before sending: what a model does not take is left
out, named in `omitted` with the reason in `reasons`, rather than failing at Bedrock. A value
no model could take (a thinking budget above max tokens, say) is a ParamError before sending.
Roles alternate, no empty turns, no empty system prompt. The parsers turn boto3's event dicts
into typed events and a final `Ending`; timing is the runner's job.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from tui_chat.attachments import (
    DOCUMENT,
    IMAGE,
    TEXT,
    Attachment,
    AttachmentError,
    check_request,
    fenced,
    size_words,
)
from tui_chat.bedrock import catalog
from tui_chat.bedrock.errors import BedrockError, from_code
from tui_chat.bedrock.events import RedactedThinking, TextDelta, ThinkingDelta, ThinkingSignature
from tui_chat.params import (
    MIN_THINKING_BUDGET,
    SEED_DEFAULTS,
    THINKING_ADAPTIVE,
    THINKING_OFF,
    ParamError,
    Params,
    check_number,
)

ANTHROPIC_VERSION = "bedrock-2023-05-31"
HUMAN = "\n\nHuman:"
ASSISTANT = "\n\nAssistant:"
INVOKE_STREAM = "InvokeModelWithResponseStream"
CONVERSE_STREAM = "ConverseStream"
#: Prompt-cache checkpoints a request may hold (Bedrock's limit).
MAX_CACHE_POINTS = 4
#: A model that takes no prefill is asked to go on with this user turn instead.
CONTINUE_PROMPT = (
    "Your previous reply was cut off by the output limit. Continue it exactly where it "
    "stopped, without repeating anything and without any preamble."
)
#: Top_p is the one sampling value thinking leaves: from this up to 1.
THINKING_MIN_TOP_P = 0.95
#: How show request marks an attached file's base64 data it leaves out.
ABBREVIATED = "of base64, abbreviated"
#: Gives an attachment's stored bytes (None when the stored copy is missing).
Loader = Callable[[Attachment], "bytes | None"]


@dataclass
class Turn:
    role: str
    text: str
    #: Thinking blocks to send before the text (only a continued final assistant turn).
    thinking: list[dict[str, str]] = field(default_factory=list)
    #: Images and documents to send before the text (user turns), with their bytes.
    files: list[tuple[Attachment, bytes]] = field(default_factory=list)


@dataclass
class Prepared:
    """A request ready to send: the exact body, and what was sent or left out (and why)."""

    model_id: str
    format: str
    operation: str
    body: dict[str, Any]
    sent: dict[str, Any]
    omitted: list[str] = field(default_factory=list)
    #: Why each omitted parameter was left out, in words for the reply's line.
    reasons: dict[str, str] = field(default_factory=dict)
    #: Other things worth saying about the request ("continued with a user turn").
    notes: list[str] = field(default_factory=list)

    def boto3_call(self) -> tuple[str, dict[str, Any]]:
        """The boto3 method name and its keyword arguments."""
        if self.operation == INVOKE_STREAM:
            return "invoke_model_with_response_stream", {
                "modelId": self.model_id,
                "body": json.dumps(self.body),
                "contentType": "application/json",
                "accept": "application/json",
            }
        return "converse_stream", {"modelId": self.model_id, **_converse_blobs(self.body)}


def _converse_blobs(body: dict[str, Any]) -> dict[str, Any]:
    """The Converse body with its blobs as bytes: redacted thinking, images and documents
    (boto3 sends blobs base64-encoded; we keep them as base64 text everywhere else)."""
    messages = []
    for message in body.get("messages", []):
        content = []
        for block in message["content"]:
            redacted = (block.get("reasoningContent") or {}).get("redactedContent")
            if isinstance(redacted, str):
                block = {"reasoningContent": {"redactedContent": base64.b64decode(redacted)}}
            for kind in ("image", "document"):
                if kind in block:
                    source = {"bytes": base64.b64decode(block[kind]["source"]["bytes"])}
                    block = {kind: {**block[kind], "source": source}}
            content.append(block)
        messages.append({**message, "content": content})
    return {**body, "messages": messages} if messages else body


def request_json(prepared: Prepared, abbreviate: bool = True) -> str:
    """The request body as sent, pretty-printed (it never holds credentials); an attached
    file's base64 data is shown by its size unless `abbreviate` is False."""
    body = _abbreviated(prepared.body) if abbreviate else prepared.body
    return json.dumps(body, indent=2, ensure_ascii=False)


def _abbreviated(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _abbreviated(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_abbreviated(item, key) for item in value]
    if key in ("data", "bytes") and isinstance(value, str) and len(value) > 64:
        return f"<{size_words(len(value) * 3 // 4)} {ABBREVIATED}>"
    return value


def boto3_snippet(prepared: Prepared, region: str) -> str:
    """Python that sends the same request with boto3 and prints the reply as it streams."""
    body = request_json(prepared)
    note = ""
    if ABBREVIATED in body:
        note = (
            "# Attached files are abbreviated in `body`: put their base64 data back to send it.\n"
        )
    head = (
        "import json\n\nimport boto3\n\n"
        + note
        + f'client = boto3.client("bedrock-runtime", region_name={region!r})\n'
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


def turns_from_messages(
    messages: Sequence[Any], load: Loader | None = None, notes: list[str] | None = None
) -> list[Turn]:
    """The turns to send, in the API's shape.

    Accepts Message objects or {"role", "content"} dicts. System messages are not turns (the
    caller moves them to the system prompt). Empty turns are dropped, consecutive turns of one
    role are merged, the first turn is a user turn, and a final assistant turn (a prefill or a
    continuation) has its trailing whitespace trimmed and keeps its thinking blocks (earlier
    turns' thinking is left out, which the API allows outside tool use).

    A user message's attachments are read with `load` (their stored bytes, None when missing):
    images and documents go with the turn as blocks, text files into its text, fenced under
    their names. One whose stored copy is missing is left out, and `notes` says so.
    """
    out: list[Turn] = []
    last_thinking: list[dict[str, str]] = []
    for message in messages:
        role, text = _role_and_text(message)
        if role not in ("user", "assistant"):
            continue
        files, texts = _loaded_files(message, load, notes)
        text = "\n\n".join([*texts, text]) if texts else text
        if not text.strip():
            continue
        if out and out[-1].role == role:
            out[-1].text = f"{out[-1].text}\n\n{text}"
            out[-1].files.extend(files)
        else:
            out.append(Turn(role, text, files=files))
        last_thinking = list(getattr(message, "thinking", None) or [])
    while out and out[0].role != "user":
        out.pop(0)
    if out and out[-1].role == "assistant":
        out[-1].text = out[-1].text.rstrip()
        out[-1].thinking = last_thinking
    return out


def _loaded_files(
    message: Any, load: Loader | None, notes: list[str] | None
) -> tuple[list[tuple[Attachment, bytes]], list[str]]:
    """A message's attachments as blocks to send and texts to put in its text."""
    files: list[tuple[Attachment, bytes]] = []
    texts: list[str] = []
    for attachment in getattr(message, "attachments", None) or []:
        data = load(attachment) if load is not None else None
        if data is None:
            if notes is not None:
                notes.append(f"{attachment.name} was left out: its stored copy is missing")
            continue
        if attachment.kind == TEXT:
            texts.append(fenced(attachment, data))
        else:
            files.append((attachment, data))
    return files, texts


def _fit_files(turns: list[Turn], info: catalog.ModelInfo) -> catalog.ModelInfo:
    """Check the files the turns carry against the model and Bedrock's limits; a Messages
    API model with a document is sent through the Converse API (InvokeModel takes none)."""
    attached = [attachment for turn in turns for attachment, _ in turn.files]
    if not attached:
        return info
    check_request(attached)
    for attachment in attached:
        if not attachment.read_by(info):
            raise AttachmentError(f"{attachment.name}: {info.name} reads no {attachment.kind}s")
    if info.format == catalog.MESSAGES and any(a.kind == DOCUMENT for a in attached):
        return replace(info, format=catalog.CONVERSE)
    return info


def _role_and_text(message: Any) -> tuple[str, str]:
    if isinstance(message, dict):
        return str(message.get("role", "")), str(message.get("content", "") or "")
    return message.role, message.content


@dataclass
class Choice:
    """What `choose_params` decided: the values to send (by our names), those left out and
    why, and notes."""

    send: dict[str, Any]
    omitted: list[str] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def leave_out(self, name: str, reason: str) -> None:
        self.send.pop(name, None)
        if name not in self.omitted:
            self.omitted.append(name)
        self.reasons.setdefault(name, reason)


def thinking_mode(value: str | int, info: catalog.ModelInfo) -> str | int:
    """The thinking a request will ask for: "off", "adaptive" or a budget, after the model's
    default ("" ) is resolved and an always-thinking model is accounted for."""
    if info.thinking == catalog.THINKING_ALWAYS:
        return THINKING_ADAPTIVE
    if info.thinking == catalog.THINKING_NONE or value == "":
        return THINKING_OFF
    return value


def thinking_problem(value: str | int, info: catalog.ModelInfo, max_tokens: int) -> str | None:
    """What the model allows instead, when `value` cannot be sent to it (None when it can)."""
    if value == "" or value == THINKING_OFF:
        return None
    if info.thinking == catalog.THINKING_NONE or info.thinking == catalog.THINKING_ALWAYS:
        return None  # left out or replaced with a note, never refused
    if isinstance(value, int):
        if not info.takes_budget:
            return f"off or adaptive for {info.name} (it takes no thinking budget)"
        if not MIN_THINKING_BUDGET <= value < max_tokens:
            if max_tokens <= MIN_THINKING_BUDGET:
                return (
                    f"off: a thinking budget must be at least {MIN_THINKING_BUDGET:,} and "
                    f"below max tokens ({max_tokens:,}); raise max tokens first"
                )
            return (
                f"a budget from {MIN_THINKING_BUDGET:,} to {max_tokens - 1:,} "
                f"(below max tokens, {max_tokens:,})"
            )
        return None
    if value == THINKING_ADAPTIVE and not info.takes_adaptive:
        return f"off or a budget of at least {MIN_THINKING_BUDGET:,} tokens for {info.name}"
    return None


def choose_params(
    params: Params, info: catalog.ModelInfo, refused: Mapping[str, str] | None = None
) -> Choice:
    """The parameters to send (by our names) and those the model's rules leave out.

    `refused` holds what Bedrock refused for this model before (parameter -> reason): those
    are left out too. Raises ParamError for a value no request to this model could carry.
    """
    refused = refused or {}
    if info.max_output:
        check_number("max_tokens_to_sample", params.max_tokens_to_sample, info.max_output)
    max_tokens = params.max_tokens_to_sample
    choice = Choice({"max_tokens_to_sample": max_tokens})
    name = info.name

    # Thinking first: it decides which sampling values may go with it.
    problem = thinking_problem(params.thinking, info, max_tokens)
    if problem is not None:
        raise ParamError("thinking", params.thinking, problem)
    thinking = thinking_mode(params.thinking, info)
    if params.thinking not in ("", THINKING_OFF) and info.thinking == catalog.THINKING_NONE:
        choice.leave_out("thinking", f"{name} does not think before answering")
    elif info.thinking == catalog.THINKING_ALWAYS and params.thinking not in ("", "adaptive"):
        choice.notes.append(f"{name} always thinks (adaptive); thinking {params.thinking} ignored")
    if thinking != THINKING_OFF and "thinking" in refused:
        choice.leave_out("thinking", refused["thinking"])
        thinking = THINKING_OFF
    if isinstance(thinking, int) and "budget" in refused:
        if info.takes_adaptive and "adaptive" not in refused:
            choice.notes.append(f"thinking budget replaced by adaptive: {refused['budget']}")
            thinking = THINKING_ADAPTIVE
        else:
            choice.leave_out("thinking", refused["budget"])
            thinking = THINKING_OFF
    if thinking != THINKING_OFF:
        choice.send["thinking"] = thinking
    thinking_on = thinking != THINKING_OFF

    for key in ("temperature", "top_p", "top_k"):
        value = getattr(params, key)
        default = info.defaults.get(key, getattr(SEED_DEFAULTS, key))
        if value == default:
            continue
        choice.send[key] = value
        if key in refused:
            choice.leave_out(key, refused[key])
        elif not info.takes_sampling:
            choice.leave_out(key, f"{name} sets its own sampling")
        elif key == "top_k" and not info.top_k:
            choice.leave_out(key, "this model takes no top_k")
        elif thinking_on and key in ("temperature", "top_k"):
            choice.leave_out(key, "not taken while the model thinks")
        elif thinking_on and key == "top_p" and value < THINKING_MIN_TOP_P:
            choice.leave_out(key, f"below {THINKING_MIN_TOP_P} is not taken while thinking")
    one_of = info.exclusive_temperature_top_p or "one-of" in refused
    if one_of and "temperature" in choice.send and "top_p" in choice.send:
        choice.leave_out("top_p", refused.get("one-of", "this model takes temperature or top_p"))

    if params.effort:
        levels = info.effort_levels
        if "effort" in refused:
            choice.leave_out("effort", refused["effort"])
        elif not levels:
            choice.leave_out("effort", f"{name} takes no effort setting")
        elif params.effort not in levels:
            choice.leave_out("effort", f"{name} offers effort {', '.join(levels)}")
        elif params.effort != info.effort_default:
            choice.send["effort"] = params.effort

    if params.stop_sequences:
        choice.send["stop_sequences"] = list(params.stop_sequences)
    if params.cache_prompt and info.cache_min_tokens and "cache" not in refused:
        choice.send["cache_prompt"] = info.cache_min_tokens
    return choice


def prepare(
    messages: Sequence[Any],
    params: Params,
    *,
    refused: Mapping[str, str] | None = None,
    continuing: bool = False,
    fmt: str | None = None,
    load: Loader | None = None,
) -> Prepared:
    """Build the request for `params.model` from a conversation's messages.

    `continuing` says the final assistant turn is a reply to go on with: a model that takes
    no prefill is then asked to continue by a user turn. `fmt` forces a wire format (the
    Converse API for a Claude model, say)."""
    info = catalog.lookup(params.model)
    if fmt is not None and fmt != info.format:
        info = replace(info, format=fmt)
    refused = refused or {}
    file_notes: list[str] = []
    turns = turns_from_messages(messages, load, file_notes)
    if not turns:
        raise ParamError("messages", [], "at least one non-empty user message")
    fitted = _fit_files(turns, info)
    if fitted.format != info.format:
        file_notes.append(
            "sent with ConverseStream: Bedrock takes documents only through the Converse API"
        )
    info = fitted
    choice = choose_params(params, info, refused)
    choice.notes.extend(file_notes)
    send = choice.send
    takes_prefill = info.prefill and "prefill" not in refused
    if turns[-1].role == "assistant" and not takes_prefill:
        if not continuing:
            raise ParamError(
                "messages",
                "a final assistant turn",
                f"a conversation ending in a user turn for {info.name} (it takes no prefill)",
            )
        turns.append(Turn("user", CONTINUE_PROMPT))
        choice.notes.append("continued with a user turn (the model takes no prefill)")
    if turns[-1].role == "assistant" and "thinking" in send:
        _keep_thinking_for_continuation(turns[-1], choice)
    system = params.system if params.system.strip() else ""
    points = cache_points(turns, system, send.pop("cache_prompt", 0))
    if info.format == catalog.TEXT_COMPLETION:
        body = _text_completion_body(turns, system, send)
        operation = INVOKE_STREAM
    elif info.format == catalog.MESSAGES:
        body = _messages_body(turns, system, send, info, points)
        operation = INVOKE_STREAM
    else:
        body = _converse_body(turns, system, send, info, points)
        operation = CONVERSE_STREAM
    sent = {"model": params.model, **send}
    if points[0] or points[1]:
        sent["cache_prompt"] = True  # only when a checkpoint was placed
    if system:
        sent["system"] = system
    return Prepared(
        params.model,
        info.format,
        operation,
        body,
        sent,
        choice.omitted,
        choice.reasons,
        choice.notes,
    )


def _keep_thinking_for_continuation(turn: Turn, choice: Choice) -> None:
    """With thinking on, a continued assistant turn must start with its signed thinking; a
    reply whose thinking was cut before it was signed is continued without thinking."""
    complete = turn.thinking and all(
        block.get("signature") or block.get("type") == "redacted" for block in turn.thinking
    )
    if not complete:
        turn.thinking = []
        del choice.send["thinking"]
        choice.notes.append("continued without thinking (the reply's thinking was not complete)")


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


def estimate_tokens(text: str, info: catalog.ModelInfo | None = None) -> int:
    """A rough token count (four characters a token, more with a newer tokenizer)."""
    factor = info.tokenizer if info is not None else 1.0
    return math.ceil(len(text) / 4 * factor)


def cache_points(turns: Sequence[Turn], system: str, min_tokens: int) -> tuple[bool, list[int]]:
    """Where to put prompt-cache checkpoints: after the system prompt, and after the user
    turn before the last one and after the last turn (so the next request reads what this one
    wrote), each only where the prompt up to it reaches the model's minimum. Returns (after
    the system prompt?, indexes of the turns to mark)."""
    if min_tokens <= 0:
        return False, []
    length = len(system)
    after_system = bool(system) and estimate_tokens(system) >= min_tokens
    ends: list[int] = []
    for turn in turns:
        length += len(turn.text)
        ends.append(length)
    users = [n for n, t in enumerate(turns) if t.role == "user"]
    wanted = [n for n in (users[-2] if len(users) > 1 else None, len(turns) - 1) if n is not None]
    marked = [n for n in dict.fromkeys(wanted) if math.ceil(ends[n] / 4) >= min_tokens]
    budget = MAX_CACHE_POINTS - (1 if after_system else 0)
    return after_system, marked[-budget:]


_EPHEMERAL = {"type": "ephemeral"}


def _messages_thinking(thinking: str | int, info: catalog.ModelInfo) -> dict[str, Any]:
    if isinstance(thinking, int):
        return {"type": "enabled", "budget_tokens": thinking}
    config: dict[str, Any] = {"type": "adaptive"}
    if info.thinking_display:
        config["display"] = "summarized"  # else the thinking text comes back empty
    return config


def _messages_content(turn: Turn) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for block in turn.thinking:
        if block.get("type") == "redacted":
            blocks.append({"type": "redacted_thinking", "data": block.get("data", "")})
        else:
            blocks.append(
                {
                    "type": "thinking",
                    "thinking": block.get("text", ""),
                    "signature": block.get("signature", ""),
                }
            )
    for attachment, data in turn.files:  # images only: documents go through Converse
        source = {"type": "base64", "media_type": attachment.media_type}
        blocks.append({"type": "image", "source": {**source, "data": _b64(data)}})
    blocks.append({"type": "text", "text": turn.text})
    return blocks


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _messages_body(
    turns: list[Turn],
    system: str,
    send: dict[str, Any],
    info: catalog.ModelInfo,
    points: tuple[bool, list[int]],
) -> dict[str, Any]:
    messages = [{"role": t.role, "content": _messages_content(t)} for t in turns]
    after_system, marked = points
    for n in marked:
        messages[n]["content"][-1]["cache_control"] = dict(_EPHEMERAL)
    body: dict[str, Any] = {
        "anthropic_version": ANTHROPIC_VERSION,
        "max_tokens": send["max_tokens_to_sample"],
        "messages": messages,
    }
    if system:
        if after_system:
            body["system"] = [{"type": "text", "text": system, "cache_control": dict(_EPHEMERAL)}]
        else:
            body["system"] = system
    for name in ("temperature", "top_p", "top_k", "stop_sequences"):
        if name in send:
            body[name] = send[name]
    if "thinking" in send:
        body["thinking"] = _messages_thinking(send["thinking"], info)
    if "effort" in send:
        body["output_config"] = {"effort": send["effort"]}
    return body


def _converse_content(turn: Turn) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for block in turn.thinking:
        if block.get("type") == "redacted":
            blocks.append({"reasoningContent": {"redactedContent": block.get("data", "")}})
        else:
            text = {"text": block.get("text", ""), "signature": block.get("signature", "")}
            blocks.append({"reasoningContent": {"reasoningText": text}})
    for attachment, data in turn.files:
        source = {"bytes": _b64(data)}
        if attachment.kind == IMAGE:
            blocks.append({"image": {"format": attachment.format, "source": source}})
        else:
            name = attachment.document_name
            blocks.append(
                {"document": {"format": attachment.format, "name": name, "source": source}}
            )
    blocks.append({"text": turn.text})
    return blocks


def _converse_body(
    turns: list[Turn],
    system: str,
    send: dict[str, Any],
    info: catalog.ModelInfo,
    points: tuple[bool, list[int]],
) -> dict[str, Any]:
    config: dict[str, Any] = {"maxTokens": send["max_tokens_to_sample"]}
    for ours, theirs in (
        ("temperature", "temperature"),
        ("top_p", "topP"),
        ("stop_sequences", "stopSequences"),
    ):
        if ours in send:
            config[theirs] = send[ours]
    messages = [{"role": t.role, "content": _converse_content(t)} for t in turns]
    after_system, marked = points
    for n in marked:
        messages[n]["content"].append({"cachePoint": {"type": "default"}})
    body: dict[str, Any] = {"messages": messages, "inferenceConfig": config}
    if system:
        body["system"] = [{"text": system}]
        if after_system:
            body["system"].append({"cachePoint": {"type": "default"}})
    extra: dict[str, Any] = {}
    if "top_k" in send:
        extra["top_k"] = send["top_k"]
    if "thinking" in send:
        extra["thinking"] = _messages_thinking(send["thinking"], info)
    if extra:
        body["additionalModelRequestFields"] = extra
    if "effort" in send:
        body["outputConfig"] = {"effort": send["effort"]}
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
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0


Parsed = TextDelta | ThinkingDelta | ThinkingSignature | RedactedThinking | Ending


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


def _count(mapping: dict[str, Any], key: str, default: int = 0) -> int:
    value = mapping.get(key, default)
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _metrics(data: dict[str, Any], ending: Ending) -> None:
    metrics = data.get("amazon-bedrock-invocationMetrics")
    if isinstance(metrics, dict):
        ending.input_tokens = _count(metrics, "inputTokenCount", ending.input_tokens)
        ending.output_tokens = _count(metrics, "outputTokenCount", ending.output_tokens)
        if "cacheReadInputTokenCount" in metrics:
            ending.cache_read_tokens = _count(metrics, "cacheReadInputTokenCount")
        if "cacheWriteInputTokenCount" in metrics:
            ending.cache_write_tokens = _count(metrics, "cacheWriteInputTokenCount")


def parse_text_completion(events: Iterable[dict[str, Any]]) -> Iterator[Parsed]:
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


def parse_messages(events: Iterable[dict[str, Any]]) -> Iterator[Parsed]:
    ending = Ending("", "")
    stopped = False
    for event in events:
        data = _chunk_json(event)
        if data is None:
            continue
        kind = data.get("type")
        if kind == "content_block_delta":
            delta = data.get("delta") or {}
            delta_type = delta.get("type")
            if delta_type == "text_delta" and delta.get("text"):
                yield TextDelta(delta["text"])
            elif delta_type == "thinking_delta" and delta.get("thinking"):
                yield ThinkingDelta(delta["thinking"])
            elif delta_type == "signature_delta" and delta.get("signature"):
                yield ThinkingSignature(delta["signature"])
        elif kind == "content_block_start":
            block = data.get("content_block") or {}
            if block.get("type") == "redacted_thinking":
                yield RedactedThinking(str(block.get("data", "")))
            elif block.get("type") == "thinking" and block.get("thinking"):
                yield ThinkingDelta(block["thinking"])
        elif kind == "message_start":
            usage = (data.get("message") or {}).get("usage") or {}
            ending.input_tokens = _count(usage, "input_tokens")
            ending.cache_read_tokens = _count(usage, "cache_read_input_tokens")
            ending.cache_write_tokens = _count(usage, "cache_creation_input_tokens")
        elif kind == "message_delta":
            delta = data.get("delta") or {}
            raw = delta.get("stop_reason") or ""
            ending.reason, ending.stop_sequence = normalise_stop(raw, delta.get("stop_sequence"))
            if raw == "stop_sequence" and delta.get("stop_sequence"):
                ending.reason, ending.stop_sequence = "stop_sequence", delta["stop_sequence"]
            ending.raw_reason = raw
            usage = data.get("usage") or {}
            ending.output_tokens = _count(usage, "output_tokens", ending.output_tokens)
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


def parse_converse(events: Iterable[dict[str, Any]]) -> Iterator[Parsed]:
    ending = Ending("", "")
    stopped = False
    for event in events:
        if "contentBlockDelta" in event:
            delta = event["contentBlockDelta"].get("delta") or {}
            text = delta.get("text")
            if text:
                yield TextDelta(text)
            reasoning = delta.get("reasoningContent")
            if isinstance(reasoning, dict):
                if reasoning.get("text"):
                    yield ThinkingDelta(reasoning["text"])
                if reasoning.get("signature"):
                    yield ThinkingSignature(reasoning["signature"])
                redacted = reasoning.get("redactedContent")
                if redacted:
                    if isinstance(redacted, bytes | bytearray):
                        redacted = base64.b64encode(redacted).decode("ascii")
                    yield RedactedThinking(str(redacted))
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
            ending.input_tokens = _count(usage, "inputTokens")
            ending.output_tokens = _count(usage, "outputTokens")
            ending.cache_read_tokens = _count(usage, "cacheReadInputTokens")
            ending.cache_write_tokens = _count(usage, "cacheWriteInputTokens")
    if stopped:
        yield ending


def parser_for(prepared: Prepared):
    return {
        catalog.TEXT_COMPLETION: parse_text_completion,
        catalog.MESSAGES: parse_messages,
        catalog.CONVERSE: parse_converse,
    }[prepared.format]
