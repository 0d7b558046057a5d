"""The demo model: a deterministic Markdown reply that visibly reacts to its parameters.

The reply is a function of the model, the whole request content and the sampling parameters.
Wording is picked slot by slot from synonym lists, most plain first: every slot draws one
uniform number from an RNG seeded by the request content (not by the parameters), and the
parameters shape the distribution that number is mapped through. So temperature 0 always gives
the plain wording, raising temperature or top_k spreads the choice, lowering top_p narrows it,
and max tokens and stop sequences only ever cut the same text.

A token is one word plus the whitespace after it, so ``"".join(tokens)`` is the text and token
counts are exact.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
from dataclasses import dataclass, field

_TOKEN = re.compile(r"\s*\S+\s*")
_CODE_WORDS = re.compile(r"\b(code|function|script|program|python|example)s?\b", re.IGNORECASE)

DEMO_BADGE = "*(Demo model — offline, no AWS)*"


def tokenize(text: str) -> list[str]:
    """Split text into tokens: leading whitespace goes with the first word."""
    return _TOKEN.findall(text)


def estimate_tokens(text: str) -> int:
    """Input token estimate: one token per four characters."""
    return math.ceil(len(text) / 4)


@dataclass
class Prompt:
    """What the demo model sees of a request, whichever wire format it came in."""

    model_id: str
    model_name: str
    messages: list[tuple[str, str]]  # (role, text), in order
    system: str = ""
    max_tokens: int = 1024
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    stop_sequences: list[str] = field(default_factory=list)

    @property
    def last_user(self) -> str:
        for role, text in reversed(self.messages):
            if role == "user":
                return text
        return ""

    @property
    def user_turns(self) -> int:
        return sum(1 for role, _ in self.messages if role == "user")

    @property
    def input_tokens(self) -> int:
        chars = len(self.system) + sum(len(text) for _, text in self.messages)
        return max(1, math.ceil(chars / 4))

    def seed(self) -> int:
        material = json.dumps([self.model_id, self.system, self.messages], ensure_ascii=False)
        return int.from_bytes(hashlib.sha256(material.encode("utf-8")).digest()[:8], "big")


@dataclass
class Reply:
    tokens: list[str]
    stop_reason: str  # "end_turn" | "max_tokens" | "stop_sequence"
    stop_sequence: str | None = None

    @property
    def text(self) -> str:
        return "".join(self.tokens)


class _Chooser:
    """Picks one of several wordings; the first is the plain one."""

    def __init__(self, prompt: Prompt) -> None:
        self._rng = random.Random(prompt.seed())
        self._temperature = 1.0 if prompt.temperature is None else float(prompt.temperature)
        self._top_p = 1.0 if prompt.top_p is None else float(prompt.top_p)
        self._top_k = prompt.top_k or 0

    def __call__(self, *options: str) -> str:
        u = self._rng.random()  # drawn for every slot, so slots stay aligned across parameters
        if self._temperature <= 0:
            return options[0]
        weights = [math.exp(-i / (1.5 * self._temperature)) for i in range(len(options))]
        if self._top_k > 0:
            weights = weights[: self._top_k]
        total = sum(weights)
        kept: list[float] = []
        cumulative = 0.0
        for w in weights:
            kept.append(w)
            cumulative += w / total
            if cumulative >= self._top_p - 1e-9:
                break
        target = u * sum(kept)
        for i, w in enumerate(kept):
            target -= w
            if target < 0:
                return options[i]
        return options[len(kept) - 1]


def _snippet(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0] or flat[:limit]
    return cut + "…"


def _fmt(value: float | int | None) -> str:
    if value is None:
        return "default"
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".") or "0"
    return str(value)


def compose(prompt: Prompt) -> str:
    """The full demo reply for a prompt, before max tokens and stop sequences cut it."""
    c = _Chooser(prompt)
    echo = _snippet(prompt.last_user, 60) or "(no text)"
    parts: list[str] = [DEMO_BADGE]

    parts.append(
        f"{c('Hello', 'Hi there', 'Hey', 'Greetings', 'Howdy', 'Good to see you')}! "
        f"You {c('wrote', 'said', 'asked', 'typed', 'sent', 'mentioned')}: “{echo}”"
    )
    if prompt.system:
        parts.append(
            f"{c('I am following', 'I am keeping to', 'I am respecting', 'I have noted')} "
            f"your system prompt: “{_snippet(prompt.system, 60)}”"
        )
    parts.append(
        f"{c('This is', 'Here is', 'What you are reading is', 'You are looking at')} a "
        f"{c('canned', 'prepared', 'scripted', 'placeholder', 'sample', 'stand-in')} reply from "
        f"the built-in demo model, {c('so', 'which means', 'and so', 'meaning')} "
        f"{c('nothing here', 'none of this', 'no part of it', 'not a word of this')} comes from "
        f"a real language model. It {c('streams', 'arrives', 'flows in', 'trickles in')} one "
        f"word at a time, {c('just like', 'much like', 'the same way as', 'as')} "
        f"{prompt.model_name} {c('would', 'does', 'will')} on Amazon Bedrock."
    )
    if prompt.user_turns > 1:
        parts.append(
            f"We are {prompt.user_turns} turns into this conversation, and the "
            f"{c('whole', 'entire', 'full', 'complete')} history "
            f"{c('arrived', 'came along', 'was sent', 'travelled')} with your message."
        )
    parts.append(
        f"{c('Here are', 'These are', 'Below are', 'Listed here are')} a few "
        f"{c('things', 'experiments', 'ideas', 'tweaks', 'knobs')} to try:"
    )
    parts.append(
        "\n".join(
            [
                f"- {c('Raise', 'Increase', 'Turn up', 'Bump up')} **temperature** or "
                f"**top_k** to {c('get', 'see', 'enjoy', 'invite')} more varied wording.",
                f"- {c('Lower', 'Reduce', 'Turn down', 'Decrease')} **top_p** to "
                f"{c('narrow', 'tighten', 'focus', 'restrict')} the choices again.",
                f"- Set **max tokens** low to {c('cut', 'clip', 'trim', 'truncate')} the reply "
                f"short, or add a **stop sequence**.",
                f"- {c('Ask', 'Request', 'Look')} for code to see a fenced code block.",
            ]
        )
    )
    if _CODE_WORDS.search(prompt.last_user):
        fname = c("greet", "welcome", "say_hello", "hello", "salute")
        word = c("world", "Bedrock", "friend", "terminal", "reader")
        parts.append(
            f"{c('Here is', 'This is', 'Take', 'Try')} a small Python example:\n\n"
            "```python\n"
            f"def {fname}(name: str) -> str:\n"
            '    """Return a friendly greeting."""\n'
            '    return f"Hello, {name}!"\n'
            "\n\n"
            'if __name__ == "__main__":\n'
            f'    print({fname}("{word}"))\n'
            "```"
        )
    parts.append(
        f"{c('When', 'Once', 'As soon as')} you connect real AWS credentials, "
        f"{c('answers', 'replies', 'responses')} will come from the real model "
        f"{c('instead', 'in its place', 'rather than from me')}."
    )
    parts.append(
        f"*Settings received: temperature {_fmt(prompt.temperature)} · top_p "
        f"{_fmt(prompt.top_p)} · top_k {_fmt(prompt.top_k)} · max tokens "
        f"{_fmt(prompt.max_tokens)}.*"
    )
    return "\n\n".join(parts)


_FILLER = (
    "The demo model keeps writing so that long replies can be tested end to end.",
    "Every word arrives as its own event, exactly as a real model streams its output.",
    "Scrolling, rendering and saving should all stay smooth however long this grows.",
    "Nothing in this text means anything; it only has to be long and readable.",
    "A real reply this long would take minutes to read and cost real money to produce.",
    "Markdown paragraphs, lists and emphasis all appear now and then along the way.",
)


def _long_text(base: str, tokens: int) -> list[str]:
    out = tokenize(base)
    part = 1
    while len(out) < tokens:
        sentences = [_FILLER[(part + i) % len(_FILLER)] for i in range(3)]
        if part % 5 == 0:
            para = f"\n\n**Part {part}.**\n\n" + "\n".join(f"- {s}" for s in sentences)
        else:
            para = f"\n\n**Part {part}.** " + " ".join(sentences)
        out.extend(tokenize(para))
        part += 1
    return out[:tokens]


def _cut(tokens: list[str], max_tokens: int, stop_sequences: list[str]) -> Reply:
    limited = tokens[:max_tokens]
    text = "".join(limited)
    best: tuple[int, str] | None = None
    for seq in stop_sequences:
        if not seq:
            continue
        at = text.find(seq)
        if at >= 0 and (best is None or at < best[0]):
            best = (at, seq)
    if best is not None:
        at, seq = best
        kept: list[str] = []
        length = 0
        for tok in limited:
            if length + len(tok) >= at:
                if at > length:
                    kept.append(tok[: at - length])
                break
            kept.append(tok)
            length += len(tok)
        return Reply(kept, "stop_sequence", seq)
    if len(tokens) > max_tokens:
        return Reply(limited, "max_tokens")
    return Reply(limited, "end_turn")


def generate(
    prompt: Prompt, long_reply_tokens: int | None = None, scripted: str | None = None
) -> Reply:
    """The reply to ``prompt``: composed (or the scripted text), optionally stretched to
    exactly N tokens, then cut."""
    text = compose(prompt) if scripted is None else scripted
    tokens = _long_text(text, long_reply_tokens) if long_reply_tokens else tokenize(text)
    return _cut(tokens, prompt.max_tokens, prompt.stop_sequences)
