"""The session file schema: every key a session file or a checkpoint holds, and the conversion
between Conversation objects and those TOML documents.

This is the one place a saved key is declared (docs/ARCHITECTURE.md, "Session files"): a new
key goes into the tuple of its table below and into the reader and writer beside it. Keys a
newer build wrote that this one does not know are carried in `extra` (and `params_extra`) and
written back as they were. Reading checks the shape of everything it takes and raises Shape
with the reason in words.
"""

from __future__ import annotations

import os
import re
import socket
from datetime import UTC, date, datetime, time
from typing import Any

import tomli_w

from tui_chat.attachments import Attachment
from tui_chat.conversation import SCHEMA, Conversation, Message, now
from tui_chat.params import ALL_PARAMS, ParamError, Params

#: The top-level keys of a session file `<id>.toml`, in the order they are written.
TOP_KEYS = ("schema", "id", "title", "title_custom", "created", "updated", "params", "messages")
#: The keys of its [params] table: every parameter of Params (params.py), `effort` and
#: `thinking` only when set (TOML has no None).
PARAMS_KEYS = ALL_PARAMS
#: The keys of each [[messages]] table, in the order they are written. A user turn has only
#: the first three; an assistant turn has `status` and `stop_reason` always, the others when
#: they hold something. `alternatives` (the other replies to the same turn, each a table of
#: these keys without `alternatives` and `chosen`) and `chosen` (Message.chosen: where this
#: reply sits among them) belong to the reply shown.
MESSAGE_KEYS = (
    "role",
    "content",
    "created",
    "status",
    "stop_reason",
    "stop_sequence",
    "params",
    "omitted",
    "omitted_reasons",
    "thinking",
    "usage",
    "error",
    "alternatives",
    "chosen",
    "attachments",
)
#: The keys of each [[messages.attachments]] table: a file attached to a prompt, whose bytes
#: are kept in `<id>.files/<sha256 prefix>-<name>` beside the session file.
ATTACHMENT_KEYS = ("name", "media_type", "size", "sha256")
#: The keys of each [[messages.thinking]] block: "thinking" ones have `text` and `signature`,
#: "redacted" ones `data`.
THINKING_KEYS = ("type", "text", "signature", "data")
#: The keys of a checkpoint `<id>.partial.toml`: the reply still streaming (`message`, a
#: [[messages]] table), whose conversation it belongs to, and which process writes it.
CHECKPOINT_KEYS = ("schema", "conversation", "pid", "host", "message")


_MESSAGE_KEYS = frozenset(MESSAGE_KEYS)


class Shape(Exception):
    """Raised while reading a document whose shape is wrong; carries the reason."""


# ---------------------------------------------------------------------------------------------
# Writing


def message_to_dict(message: Message, nested: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "role": message.role,
        "content": message.content,
        "created": message.created,
    }
    if message.role == "assistant":
        data["status"] = message.status
        data["stop_reason"] = message.stop_reason
        if message.stop_sequence:
            data["stop_sequence"] = message.stop_sequence
        if message.params:
            data["params"] = dict(message.params)
        if message.omitted:
            data["omitted"] = list(message.omitted)
        if message.omitted_reasons:
            data["omitted_reasons"] = dict(message.omitted_reasons)
        if message.thinking:
            data["thinking"] = [dict(block) for block in message.thinking]
        if message.usage:
            data["usage"] = dict(message.usage)
        if message.error:
            data["error"] = dict(message.error)
        if message.alternatives and not nested:
            data["alternatives"] = [
                message_to_dict(alt, nested=True) for alt in message.alternatives
            ]
            if message.chosen is not None:
                data["chosen"] = message.chosen
    if message.attachments:
        data["attachments"] = [
            {key: getattr(attachment, key) for key in ATTACHMENT_KEYS}
            for attachment in message.attachments
        ]
    for key, value in message.extra.items():
        data.setdefault(key, value)
    return data


def conversation_to_dict(conversation: Conversation) -> dict[str, Any]:
    """The TOML document for a conversation (unknown keys it was loaded with included)."""
    data: dict[str, Any] = {
        "schema": SCHEMA,
        "id": conversation.id,
        "title": conversation.title,
        "title_custom": conversation.title_custom,
        "created": conversation.created,
        "updated": conversation.updated,
    }
    for key, value in conversation.extra.items():
        data.setdefault(key, value)
    params = conversation.params.to_dict()
    for key, value in conversation.params_extra.items():
        params.setdefault(key, value)
    data["params"] = params
    # A reply still streaming lives in its checkpoint sidecar, never in the conversation file.
    data["messages"] = [
        message_to_dict(message)
        for message in conversation.messages
        if message.status != "streaming"
    ]
    return data


def dumps(conversation: Conversation) -> str:
    """The text of a conversation's session file."""
    return tomli_w.dumps(conversation_to_dict(conversation))


def checkpoint_to_dict(conversation_id: str, message: Message) -> dict[str, Any]:
    """The checkpoint document of a reply this process is streaming into a conversation."""
    return {
        "schema": SCHEMA,
        "conversation": conversation_id,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "message": message_to_dict(message),
    }


# ---------------------------------------------------------------------------------------------
# Reading


def expect(value: Any, kind: type | tuple[type, ...], where: str) -> Any:
    """`value` if it is of `kind` (a boolean is not a number here); Shape if not."""
    if isinstance(value, bool) and kind is not bool and bool not in _as_tuple(kind):
        raise Shape(f"{where} should be {_kind_name(kind)}, not a boolean")
    if not isinstance(value, kind):
        raise Shape(f"{where} should be {_kind_name(kind)}, not {type(value).__name__}")
    return value


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "true or false",
        dict: "a table",
        list: "an array",
        datetime: "a date-time",
    }
    return " or ".join(names.get(k, k.__name__) for k in _as_tuple(kind))


def when(value: Any, where: str) -> datetime:
    """A date-time with an offset (UTC when the file gave none); Shape for anything else."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date | time):
        raise Shape(f"{where} should be a date-time with a time and an offset")
    raise Shape(f"{where} should be a date-time, not {type(value).__name__}")


def message_from_dict(data: Any, where: str, nested: bool = False) -> Message:
    expect(data, dict, where)
    role = expect(data.get("role"), str, f"{where}.role")
    if role not in ("user", "assistant"):
        raise Shape(f"{where}.role should be 'user' or 'assistant', not {role!r}")
    content = expect(data.get("content", ""), str, f"{where}.content")
    created = when(data.get("created", now()), f"{where}.created")
    status = expect(data.get("status", "complete"), str, f"{where}.status")
    if status == "streaming":
        # Only a sidecar ever holds a reply that was still streaming.
        status = "interrupted"
    message = Message(role=role, content=content, created=created, status=status)
    message.stop_reason = expect(data.get("stop_reason", ""), str, f"{where}.stop_reason")
    message.stop_sequence = expect(data.get("stop_sequence", ""), str, f"{where}.stop_sequence")
    message.params = dict(expect(data.get("params", {}), dict, f"{where}.params"))
    omitted = expect(data.get("omitted", []), list, f"{where}.omitted")
    message.omitted = [expect(x, str, f"{where}.omitted[]") for x in omitted]
    reasons = expect(data.get("omitted_reasons", {}), dict, f"{where}.omitted_reasons")
    for key, value in reasons.items():
        expect(value, str, f"{where}.omitted_reasons.{key}")
    message.omitted_reasons = dict(reasons)
    thinking = expect(data.get("thinking", []), list, f"{where}.thinking")
    for n, block in enumerate(thinking):
        expect(block, dict, f"{where}.thinking[{n}]")
        for key, value in block.items():
            expect(value, str, f"{where}.thinking[{n}].{key}")
        if block.get("type") not in ("thinking", "redacted"):
            raise Shape(f"{where}.thinking[{n}].type should be 'thinking' or 'redacted'")
    message.thinking = [dict(block) for block in thinking]
    usage = expect(data.get("usage", {}), dict, f"{where}.usage")
    for key, value in usage.items():
        expect(value, (int, float), f"{where}.usage.{key}")
    message.usage = dict(usage)
    error = expect(data.get("error", {}), dict, f"{where}.error")
    for key, value in error.items():
        expect(value, str, f"{where}.error.{key}")
    message.error = dict(error)
    alternatives = expect(data.get("alternatives", []), list, f"{where}.alternatives")
    if alternatives and nested:
        raise Shape(f"{where} is an alternative and cannot have alternatives of its own")
    message.alternatives = [
        message_from_dict(alt, f"{where}.alternatives[{n}]", nested=True)
        for n, alt in enumerate(alternatives)
    ]
    attachments = expect(data.get("attachments", []), list, f"{where}.attachments")
    message.attachments = [
        _attachment_from_dict(item, f"{where}.attachments[{n}]")
        for n, item in enumerate(attachments)
    ]
    chosen = data.get("chosen")
    known = _MESSAGE_KEYS
    if isinstance(chosen, int) and not isinstance(chosen, bool):
        message.chosen = chosen
    else:
        known = _MESSAGE_KEYS - {"chosen"}  # not ours to read: carried as it was
    message.extra = {k: v for k, v in data.items() if k not in known}
    return message


def _attachment_from_dict(data: Any, where: str) -> Attachment:
    expect(data, dict, where)
    name = expect(data.get("name"), str, f"{where}.name")
    media_type = expect(data.get("media_type"), str, f"{where}.media_type")
    size = expect(data.get("size"), int, f"{where}.size")
    digest = expect(data.get("sha256"), str, f"{where}.sha256")
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise Shape(f"{where}.sha256 should be 64 hexadecimal digits")
    return Attachment(name, media_type, size, digest)


def check_schema(data: dict[str, Any]) -> None:
    """Shape unless `data` says it is a session document this version can read."""
    if "schema" not in data:
        raise Shape("missing key 'schema' (not a tui-chat session file?)")
    schema = expect(data["schema"], int, "schema")
    if schema > SCHEMA:
        raise Shape(
            f"written by a newer tui-chat (schema {schema}; this version reads {SCHEMA}); "
            "left untouched"
        )
    if schema < 1:
        raise Shape(f"schema {schema} is not a valid version")


def header_fields(header: dict[str, Any]) -> tuple[str, datetime, datetime]:
    """The title, created and updated of the keys before a session file's first table (what
    the listing shows without parsing the whole file); Shape if they are wrong."""
    check_schema(header)
    title = expect(header.get("title", ""), str, "title")
    created = when(header.get("created", datetime.fromtimestamp(0, UTC)), "created")
    updated = when(header.get("updated", created), "updated")
    return title, created, updated


def conversation_from_dict(data: dict[str, Any], file_id: str, defaults: Params) -> Conversation:
    """Build a Conversation from a parsed document; raises Shape with the reason."""
    check_schema(data)
    title = expect(data.get("title", ""), str, "title")
    title_custom = expect(data.get("title_custom", False), bool, "title_custom")
    created = when(data.get("created", now()), "created")
    updated = when(data.get("updated", created), "updated")
    raw_params = expect(data.get("params", {}), dict, "params")
    try:
        params = Params.from_dict(raw_params, base=defaults)
    except ParamError as error:
        raise Shape(f"[params] {error}") from None
    messages_raw = expect(data.get("messages", []), list, "messages")
    messages = [message_from_dict(m, f"messages[{n}]") for n, m in enumerate(messages_raw)]
    conversation = Conversation(
        id=file_id,
        params=params,
        title=title,
        title_custom=title_custom,
        created=created,
        updated=updated,
        messages=messages,
        extra={k: v for k, v in data.items() if k not in TOP_KEYS},
        params_extra={k: v for k, v in raw_params.items() if k not in PARAMS_KEYS},
    )
    if not title:
        conversation.refresh_title()
    return conversation


def checkpoint_owner(document: dict[str, Any]) -> tuple[int, str] | None:
    """The process id and host a checkpoint names, or None when it names none properly."""
    pid, host = document.get("pid"), document.get("host")
    if not isinstance(pid, int) or isinstance(pid, bool) or not isinstance(host, str):
        return None
    return pid, host


def checkpoint_from_dict(document: dict[str, Any]) -> tuple[int, Any, Message]:
    """The writer's process id and host, and the reply, of a checkpoint; Shape if wrong."""
    check_schema(document)
    pid = expect(document.get("pid", 0), int, "pid")
    host = document.get("host", "")
    message = message_from_dict(document.get("message"), "message")
    return pid, host, message
