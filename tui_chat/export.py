"""A conversation as Markdown: what `tui-chat export` writes (and the app reuses).

`to_markdown` is pure (no I/O, no clock) so the same conversation always exports to the same
text. Message content is written verbatim: the model's own Markdown, code blocks and Unicode
stay exactly as they are. The only thing ever added to content is a closing fence when a
reply stopped inside a code block (a cancelled reply, say), so that the rest of the document
is not swallowed by it. Making the text safe for a terminal is the caller's job
(`tui_chat.sanitize.for_display`), because a file must keep the exact text.

Layout::

    # Title

    - **Model:** `us.anthropic.claude-sonnet-4-5-20250929-v1:0`
    - **Created:** 2026-11-22T01:23:45Z
    - **Updated:** 2026-11-22T01:25:02Z
    - **Conversation:** `20261122T012345Z-3f9a1c`

    > **System prompt**
    >
    > Be brief.

    ## You

    ...

    ## Assistant

    > **Thinking**
    >
    > (the model's thinking, when it thought before answering; marked apart from the answer)

    ...

    *end_turn · 12 input tokens · 40 output tokens*

    ### Alternative 2 of 2

    ...
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from tui_chat.conversation import Conversation, Message
from tui_chat.params import format_stop_sequences

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_STATUS_NOTES = {
    "cancelled": "cancelled",
    "error": "error",
    "interrupted": "interrupted",
    "streaming": "incomplete",
}


def iso_utc(when: datetime) -> str:
    """A time as ISO 8601 in UTC to the second, e.g. 2026-11-22T01:23:45Z."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _code_span(text: str) -> str:
    """`text` as an inline code span, whatever backticks it contains."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _escape_inline(text: str) -> str:
    """Text that reads literally inside an italic line."""
    text = re.sub(r"([\\`*\[\]<>])", r"\\\1", text)
    # An underscore inside a word never starts emphasis; only escape the others.
    return re.sub(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])", r"\\_", text)


def open_fence(text: str) -> str | None:
    """The fence a block of Markdown leaves open at its end (None if every fence closes)."""
    fence: str | None = None
    for line in text.split("\n"):
        match = _FENCE.match(line)
        if not match:
            continue
        marker, rest = match.groups()
        if fence is None:
            if marker[0] == "`" and "`" in rest:
                continue  # not a fence: a backtick fence's info string has no backticks
            fence = marker
        elif marker[0] == fence[0] and len(marker) >= len(fence) and not rest.strip():
            fence = None
    return fence


def _body(content: str, empty: str) -> str:
    text = content.rstrip("\n")
    if not text.strip():
        return empty
    fence = open_fence(text)
    if fence is not None:
        text = f"{text}\n{fence}"
    return text


def _footer(message: Message, conversation_model: str) -> str:
    parts: list[str] = []
    if message.stop_reason:
        if message.stop_reason == "stop_sequence" and message.stop_sequence:
            # Written the way --stop and the sidebar take it: \n, \t, \, and \s escaped.
            shown = format_stop_sequences([message.stop_sequence])
            parts.append(f"stop sequence {_code_span(shown)}")
        else:
            parts.append(_escape_inline(message.stop_reason))
    usage = message.usage or {}
    if "input_tokens" in usage:
        parts.append(f"{int(usage['input_tokens']):,} input tokens")
    if "output_tokens" in usage:
        parts.append(f"{int(usage['output_tokens']):,} output tokens")
    for key, words in (("cache_read_tokens", "read from cache"), ("cache_write_tokens", "cached")):
        if usage.get(key):
            parts.append(f"{int(usage[key]):,} {words}")
    params = message.params or {}
    model = str(params.get("model", ""))
    if model and model != conversation_model:
        parts.append(_code_span(model))
    parts += _sent(params)
    if message.omitted:
        parts.append("not sent: " + ", ".join(_escape_inline(name) for name in message.omitted))
    if message.status == "error" and message.error:
        what = message.error.get("message") or message.error.get("kind", "")
        if what:
            parts.append("error: " + _escape_inline(_one_line(what)))
    if not parts:
        return ""
    return "*" + " · ".join(parts) + "*"


_SENT = (
    ("effort", "effort"),
    ("thinking", "thinking"),
    ("max_tokens_to_sample", "max tokens"),
    ("temperature", "temperature"),
    ("top_p", "top_p"),
    ("top_k", "top_k"),
    ("stop_sequences", "stop"),
)


def _sent(params: dict) -> list[str]:
    """The parameters that produced a reply, as sent (the session file's `params`)."""
    out = []
    for key, label in _SENT:
        if key not in params:
            continue
        value = params[key]
        if key == "stop_sequences":
            shown = _code_span(format_stop_sequences(value))
        elif key == "thinking" and isinstance(value, int):
            shown = f"budget {value:,}"
        elif isinstance(value, int) and not isinstance(value, bool):
            shown = f"{value:,}"
        else:
            shown = _escape_inline(str(value))
        out.append(f"{label} {shown}")
    return out


def _system(text: str, previous: str | None) -> list[str]:
    """The system prompt a reply was sent with, quoted, when it is not the one the reply
    before it had (so a conversation's prompt is written once, and each change shows)."""
    if text == (previous or "") and previous is not None:
        return []
    if not text.strip():
        return [] if previous is None else ["*(sent without a system prompt)*", ""]
    quote = ["> **System prompt** (sent with this reply)", ">"]
    quote += [f"> {line}" if line.strip() else ">" for line in text.strip("\n").split("\n")]
    return [*quote, ""]


def _thinking(message: Message) -> list[str]:
    """The reply's thinking as a quoted block headed **Thinking** (kept apart from the
    answer), or nothing when the model did not think."""
    if not message.thinking:
        return []
    text = message.thinking_text.strip("\n")
    head = "> **Thinking**"
    if message.thinking_redacted:
        head += " (partly redacted by the provider)" if text else " (redacted by the provider)"
    elif not text:
        head += " (not shown by the model)"
    quote = [head]
    if text:
        quote.append(">")
        quote += [f"> {line}" if line.strip() else ">" for line in text.split("\n")]
    return [*quote, ""]


def _assistant(
    message: Message, heading: str, conversation_model: str, system: list[str] | None = None
) -> list[str]:
    note = _STATUS_NOTES.get(message.status)
    out = [f"{heading} ({note})" if note else heading, ""]
    out += system or []
    out += _thinking(message)
    out.append(_body(message.content, "*(no text)*"))
    footer = _footer(message, conversation_model)
    if footer:
        out += ["", footer]
    return out


def to_markdown(conversation: Conversation, files_dir: Path | None = None) -> str:
    """The whole conversation as one Markdown document ending in a newline; each attached
    file is listed with its stored copy's path (in `files_dir`, the conversation's folder of
    attached files)."""
    model = conversation.params.model
    blocks: list[list[str]] = []
    blocks.append([f"# {_one_line(conversation.title) or 'Untitled conversation'}"])
    blocks.append(
        [
            f"- **Model:** {_code_span(model)}",
            f"- **Created:** {iso_utc(conversation.created)}",
            f"- **Updated:** {iso_utc(conversation.updated)}",
            f"- **Conversation:** {_code_span(conversation.id)}",
        ]
    )
    previous: str | None = None  # the system prompt the last reply was sent with
    for message in conversation.messages:
        if message.role == "user":
            blocks.append(["## You", "", _body(message.content, "*(empty)*")])
            if message.attachments:
                blocks.append(_attachments(message, files_dir))
            continue
        replies = message.replies()
        shown = message.chosen_index()
        system = str(message.params.get("system", "") or "")
        heading = "## Assistant"
        if len(replies) > 1:
            heading += f" · reply {shown + 1} of {len(replies)}, the one the chat goes on from"
        blocks.append(_assistant(message, heading, model, _system(system, previous)))
        previous = system
        for number, reply in enumerate(replies, start=1):
            if number - 1 == shown:
                continue
            other = str(reply.params.get("system", "") or "")
            heading = f"### Alternative: reply {number} of {len(replies)}"
            blocks.append(_assistant(reply, heading, model, _system(other, system)))
    return "\n\n".join("\n".join(block) for block in blocks) + "\n"


def _attachments(message: Message, files_dir: Path | None) -> list[str]:
    lines = ["Attached:"]
    for attachment in message.attachments:
        where = files_dir / attachment.stored_name if files_dir else attachment.stored_name
        lines.append(f"- {_escape_inline(attachment.describe())}: {_code_span(str(where))}")
    return lines


__all__ = ["iso_utc", "open_fence", "to_markdown"]
