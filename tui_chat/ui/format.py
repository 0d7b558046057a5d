"""Words for the UI: how a reply ended, errors, parameters, relative times.

Everything returns Rich `Text` built from plain strings, never from markup, so model text and
titles can never act as markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rich.text import Text

from tui_chat.bedrock import catalog
from tui_chat.bedrock.formats import estimate_tokens
from tui_chat.conversation import Conversation, Message
from tui_chat.sanitize import for_display

if TYPE_CHECKING:
    from tui_chat.bedrock.models import ModelEntry

_PARAM_LABELS = {
    "effort": "effort",
    "thinking": "thinking",
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


def _short(n: int | float) -> str:
    n = int(n)
    return f"{n / 1000:.1f}k" if n >= 1000 else str(n)


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


def params_text(params: dict, highlight: set[str] | frozenset[str] = frozenset()) -> Text:
    """The parameters that were sent; those in `highlight` (they differ between replies to
    the same turn) stand out."""
    text = Text()
    for name, label in _PARAM_LABELS.items():
        if name not in params:
            continue
        value = params[name]
        if name == "stop_sequences":
            shown = ", ".join(f"“{for_display(s)}”".replace("\n", "\\n") for s in value)
        elif name == "thinking" and isinstance(value, int):
            shown = f"budget {value:,}"
        else:
            shown = f"{value:g}" if isinstance(value, float) else str(value)
        if text:
            text.append(" · ", style="dim")
        text.append(f"{label} {shown}", style="bold reverse" if name in highlight else "dim")
    if params.get("system"):
        text.append((" · " if text else "") + "system prompt", style="dim")
    if "model" in highlight:
        text.append(" · " if text else "", style="dim")
        text.append(f"model {model_name(str(params.get('model', '')))}", style="bold reverse")
    return text


def differing(replies: list[Message]) -> set[str]:
    """Parameters whose values are not the same across these replies."""
    if len(replies) < 2:
        return set()
    names = {name for reply in replies for name in reply.params}
    return {name for name in names if len({repr(r.params.get(name)) for r in replies}) > 1}


def describe_reply(message: Message, replies: list[Message] | None = None) -> Text:
    """The quiet line under a reply: how it ended, tokens, times, parameters sent (those
    that differ from its alternatives highlighted)."""
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
    cached = []
    if usage.get("cache_read_tokens"):
        cached.append(f"{_short(usage['cache_read_tokens'])} read")
    if usage.get("cache_write_tokens"):
        cached.append(f"{_short(usage['cache_write_tokens'])} written")
    if cached:
        parts.append("cache " + ", ".join(cached))
    if usage.get("first_token_ms") is not None:
        parts.append(f"first token {_seconds(usage['first_token_ms'])}")
    if usage.get("latency_ms"):
        parts.append(f"{_seconds(usage['latency_ms'])} total")
    text = Text(" · ".join(parts), style="dim")
    sent = params_text(message.params, differing(replies or []))
    if sent:
        if parts:
            text.append(" · ", style="dim")
        text.append_text(sent)
    for name in message.omitted:
        why = message.omitted_reasons.get(name) or _OMITTED_WHY.get(name, "the model's rules")
        text.append(f"\nleft out {name}: {for_display(why)}", style="dim italic")
    return text


def error_text(message: Message) -> Text:
    error = message.error or {}
    text = Text("⚠ ", style="bold")
    text.append(for_display(error.get("message", "The request failed.")))
    kind = error.get("kind")
    if kind == "refused":
        text.append("\nctrl+r resends without it (remembered for this model)", style="bold")
    elif kind == "end_of_life" and error.get("replacement"):
        name = catalog.display_name(error["replacement"])
        text.append(f"\nctrl+r switches this conversation to {name} and resends", style="bold")
    else:
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
        return for_display(model)
    base = catalog.base_model_id(model)
    scope = model[: -len(base)].rstrip(".") if model.endswith(base) and model != base else ""
    if "inference-profile/" in scope or scope.startswith("arn:"):
        scope = ""
    return f"{info.name} ({scope})" if scope else info.name


@dataclass
class UsageTotals:
    """A conversation's tokens over every reply (alternatives too: they were paid for), the
    estimated cost in USD (None when no reply's model has a known price), and what reading
    from the prompt cache saved against sending those tokens uncached."""

    tokens_in: int = 0
    tokens_out: int = 0
    cache_read: int = 0
    cache_write: int = 0
    cost: float | None = None
    saved: float = 0.0


def conversation_usage(
    messages: list[Message], prices: dict[str, tuple[float, float]] | None = None
) -> UsageTotals:
    totals = UsageTotals()
    for message in messages:
        if message.role != "assistant":
            continue
        for reply in message.replies():
            usage = reply.usage
            used_in = int(usage.get("input_tokens", 0) or 0)
            used_out = int(usage.get("output_tokens", 0) or 0)
            read = int(usage.get("cache_read_tokens", 0) or 0)
            written = int(usage.get("cache_write_tokens", 0) or 0)
            totals.tokens_in += used_in
            totals.tokens_out += used_out
            totals.cache_read += read
            totals.cache_write += written
            model = str(reply.params.get("model", ""))
            price = catalog.price_for(model, prices)
            if price is None or not (used_in or used_out or read or written):
                continue
            write_price, read_price = catalog.cache_prices(model, price[0])
            cost = used_in * price[0] + used_out * price[1] + written * write_price
            cost += read * read_price
            totals.cost = (totals.cost or 0.0) + cost / 1e6
            # Reading is cheaper than sending, writing dearer: the net of both.
            saved = read * (price[0] - read_price) - written * (write_price - price[0])
            totals.saved += saved / 1e6
    return totals


def usage_words(totals: UsageTotals) -> str:
    if not totals.tokens_in and not totals.tokens_out:
        return ""
    words = f"Σ {_short(totals.tokens_in)} in · {_short(totals.tokens_out)} out"
    cost = totals.cost
    if cost is not None:
        words += f" · ≈${cost:.4f} est." if cost < 0.01 else f" · ≈${cost:.2f} est."
        if totals.saved > 0:
            saved = totals.saved
            shown = f"{saved:.4f}" if saved < 0.01 else f"{saved:.2f}"
            words += f" · cache saved ${shown}"
    return words


@dataclass
class ContextMeter:
    """The context meter under the prompt: the tokens before the draft (`base`, counted once
    per change of the conversation), the line to show and the share of the window used."""

    base: int
    words: str
    share: float


def context_meter(conversation: Conversation, draft: str, base: int | None = None) -> ContextMeter:
    """The conversation's input tokens for the next request (the last reply's own counts,
    plus an estimate for what came since and for the draft) against the model's context
    window, with a warning near the limit. `words` is empty for a model of unknown window."""
    info = catalog.lookup(conversation.params.model)
    if not info.context:
        return ContextMeter(0, "", 0.0)
    if base is None:
        base = context_tokens(conversation, info)
    used = base + estimate_tokens(draft, info)
    share = used / info.context
    words = f"context ≈{_short_count(used)} / {_short_count(info.context)}"
    if share >= 1:
        words += " · over the model's limit: start a new conversation (ctrl+n)"
    elif share >= 0.8:
        words += " · near the limit"
    return ContextMeter(base, words, share)


def context_tokens(conversation: Conversation, info: catalog.ModelInfo) -> int:
    """The input tokens the conversation's history will take in the next request: the last
    reply's own counts (its input, cached or not, and its output), plus an estimate for the
    turns after it; or an estimate of everything when no reply has counts yet."""
    messages = [m for m in conversation.messages if m.status != "streaming"]
    base, after = 0, messages
    for index in range(len(messages) - 1, -1, -1):
        usage = messages[index].usage
        if messages[index].role == "assistant" and usage.get("input_tokens") is not None:
            counted = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens")
            base = sum(int(usage.get(key, 0) or 0) for key in counted)
            after = messages[index + 1 :]
            break
    else:
        base = estimate_tokens(conversation.params.system, info)
    return base + sum(estimate_tokens(m.content, info) for m in after)


def _short_count(tokens: int) -> str:
    if tokens >= 1_000_000:
        return f"{tokens / 1_000_000:.3g}M"
    if tokens >= 1000:
        return f"{tokens / 1000:.1f}k".replace(".0k", "k")
    return str(tokens)


def lifecycle_line(info: catalog.ModelInfo, entry: ModelEntry | None = None) -> str:
    """'Legacy: …' / 'End of life 2026-04-28: …' for the model, or '' while it is active.
    The account's own lifecycle (from ListFoundationModels) wins over the catalogue's."""
    status = entry.lifecycle if entry is not None and entry.lifecycle else info.status
    if status == "active":
        return ""
    words = "End of life" if status == "eol" else "Legacy"
    when = (entry.end_of_life if entry is not None else "") or (
        info.eol.isoformat() if info.eol else ""
    )
    if when:
        words += f" {when}" if status == "eol" else f" (ends {when})"
    replacement = catalog.replacement(info.model_id)
    if replacement:
        words += f"; current: {catalog.display_name(replacement)}"
    return words
