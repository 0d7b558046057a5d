"""Words for the UI: how a reply ended, errors, parameters, relative times.

Everything returns Rich `Text` built from plain strings, never from markup, so model text and
titles can never act as markup.
"""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text

from tui_chat.bedrock import catalog
from tui_chat.conversation import Message
from tui_chat.sanitize import for_display

_PARAM_LABELS = {
    "max_tokens_to_sample": "max tokens",
    "temperature": "temperature",
    "top_p": "top_p",
    "top_k": "top_k",
    "stop_sequences": "stop",
}
_OMITTED_WHY = {
    "top_p": "this model takes temperature or top_p, not both",
    "top_k": "this model takes no top_k",
}


def stop_words(message: Message) -> str:
    reason = message.stop_reason
    if reason == "end_turn":
        return "end of turn"
    if reason == "max_tokens":
        return "hit max tokens"
    if reason == "stop_sequence":
        sequence = for_display(message.stop_sequence).replace("\n", "\\n")
        return f"stopped at “{sequence}”" if sequence else "stopped at a stop sequence"
    return reason


def _seconds(ms: int | float) -> str:
    return f"{ms / 1000:.1f} s" if ms >= 100 else f"{ms:.0f} ms"


def params_words(params: dict) -> str:
    parts = []
    for name, label in _PARAM_LABELS.items():
        if name not in params:
            continue
        value = params[name]
        if name == "stop_sequences":
            shown = ", ".join(f"“{for_display(s)}”".replace("\n", "\\n") for s in value)
            parts.append(f"{label} {shown}")
        else:
            parts.append(f"{label} {value:g}" if isinstance(value, float) else f"{label} {value}")
    if params.get("system"):
        parts.append("system prompt")
    return " · ".join(parts)


def describe_reply(message: Message) -> Text:
    """The quiet line under a reply: how it ended, tokens, times, parameters sent."""
    parts: list[str] = []
    if message.status == "cancelled":
        parts.append("cancelled")
    elif message.status == "interrupted":
        parts.append("interrupted (the app closed while it streamed)")
    elif message.status == "error":
        parts.append("failed")
    if message.stop_reason and message.status == "complete":
        parts.append(stop_words(message))
    usage = message.usage
    if usage.get("input_tokens") or usage.get("output_tokens"):
        parts.append(f"{usage.get('input_tokens', 0)} in → {usage.get('output_tokens', 0)} out")
    if usage.get("first_token_ms") is not None and "first_token_ms" in usage:
        parts.append(f"first token {_seconds(usage['first_token_ms'])}")
    if usage.get("latency_ms"):
        parts.append(f"{_seconds(usage['latency_ms'])} total")
    sent = params_words(message.params)
    if sent:
        parts.append(sent)
    text = Text(" · ".join(parts), style="dim")
    for name in message.omitted:
        why = _OMITTED_WHY.get(name, "the model's rules")
        text.append(f"\nleft out {name}: {why}", style="dim italic")
    return text


def error_text(message: Message) -> Text:
    error = message.error or {}
    text = Text("⚠ ", style="bold")
    text.append(for_display(error.get("message", "The request failed.")))
    text.append("\nctrl+r retries", style="bold")
    if message.content:
        text.append(" · the partial reply above is kept")
    return text


def relative_time(when: datetime, now: datetime | None = None) -> str:
    """'now', '5 min', '3 h', 'yesterday', 'Mon', 'Nov 3', '2025-11-03'."""
    now = now or datetime.now(UTC)
    local_now = now.astimezone()
    local = when.astimezone()
    seconds = (now - when).total_seconds()
    if seconds < 60:
        return "now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if local.date() == local_now.date():
        return f"{int(seconds // 3600)} h"
    days = (local_now.date() - local.date()).days
    if days == 1:
        return "yesterday"
    if days < 7:
        return local.strftime("%a")
    if local.year == local_now.year:
        return local.strftime("%b %-d")
    return local.strftime("%Y-%m-%d")


def model_name(model: str) -> str:
    """A short name for a model id: 'Claude Sonnet 4.5 (us)', or the id itself."""
    if not model:
        return "Assistant"
    info = catalog.lookup(model)
    if not info.known:
        return model
    base = catalog.base_model_id(model)
    scope = model[: -len(base)].rstrip(".") if model.endswith(base) and model != base else ""
    if "inference-profile/" in scope or scope.startswith("arn:"):
        scope = ""
    return f"{info.name} ({scope})" if scope else info.name
