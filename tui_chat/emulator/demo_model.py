"""The demo model: a deterministic Markdown reply that visibly reacts to its parameters.

The reply is a function of the model, the whole request content and the sampling parameters.
Wording is picked slot by slot from synonym lists, most plain first: every slot draws one
uniform number from an RNG seeded by the request content (not by the parameters), and the
parameters shape the distribution that number is mapped through. So temperature 0 always gives
the plain wording, raising temperature or top_k spreads the choice, lowering top_p narrows it,
and max tokens and stop sequences only ever cut the same text.

A token is one word plus the whitespace after it, so ``"".join(tokens)`` is the text and token
counts are exact.

When the request has thinking on, the reply first thinks: a few plain sentences planning the
answer to the last user message (more of them with more effort), which count toward the output
tokens and max tokens like the text does. Effort also changes the length of the reply itself.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
from dataclasses import dataclass, field

from tui_chat.emulator import signing

_TOKEN = re.compile(r"\s*\S+\s*")
_CODE_WORDS = re.compile(r"\b(code|function|script|program|python|example)s?\b", re.IGNORECASE)

DEMO_BADGE = "*(Demo model — offline, no AWS)*"

# Effort level -> sentences of adaptive thinking (and the scale of budget-mode thinking).
EFFORT_SENTENCES = {"low": 1, "medium": 2, "high": 3, "xhigh": 4, "max": 5}


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
    effort: str | None = None  # as requested (None: the model's default)
    effort_level: str = "high"  # what shapes the reply: the request's, the default, or capped
    effort_capped: bool = False  # xhigh/max asked for without thinking: treated as high
    thinking: str = "off"  # "off" | "adaptive" | "budget"
    budget_tokens: int | None = None  # budget mode only
    show_thinking: bool = True  # False: the thinking text is withheld (display "omitted")
    # The request ends with an assistant turn that already holds its thinking (a continuation):
    # the reply carries on after it without thinking again.
    thinking_done: bool = False

    @property
    def thinks(self) -> bool:
        """Whether the reply starts with a thinking block."""
        return self.thinking != "off" and not self.thinking_done

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
    tokens: list[str]  # the text's tokens
    stop_reason: str  # "end_turn" | "max_tokens" | "stop_sequence"
    stop_sequence: str | None = None
    thinking: list[str] = field(default_factory=list)  # thinking tokens, before the text
    show_thinking: bool = True  # False: the thinking block comes with empty text
    redacted: bool = False  # the thinking block is redacted (the ``redacted_thinking`` fault)

    @property
    def text(self) -> str:
        return "".join(self.tokens)

    @property
    def thinks(self) -> bool:
        return bool(self.thinking)

    @property
    def output_tokens(self) -> int:
        """Tokens billed as output: thinking (shown or not) and text."""
        return len(self.thinking) + len(self.tokens)

    @property
    def thinking_text(self) -> str:
        """The thinking text as the client sees it: empty when withheld."""
        return "".join(self.thinking) if self.show_thinking else ""

    @property
    def signature(self) -> str:
        return signing.sign("".join(self.thinking))

    @property
    def redacted_blob(self) -> bytes:
        return signing.redacted_blob("".join(self.thinking))

    @property
    def text_block(self) -> bool:
        """Whether the reply has a text block: not when max tokens ran out while thinking."""
        return bool(self.tokens) or not self.thinking or self.stop_reason != "max_tokens"


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
    # Every slot draws its number even when effort leaves the part out, so the wording of the
    # rest stays the same across effort levels.
    effort = EFFORT_SENTENCES.get(prompt.effort_level, 3)
    intro = (
        f"{c('Here are', 'These are', 'Below are', 'Listed here are')} a few "
        f"{c('things', 'experiments', 'ideas', 'tweaks', 'knobs')} to try:"
    )
    items = [
        f"- {c('Raise', 'Increase', 'Turn up', 'Bump up')} **temperature** or "
        f"**top_k** to {c('get', 'see', 'enjoy', 'invite')} more varied wording.",
        f"- {c('Lower', 'Reduce', 'Turn down', 'Decrease')} **top_p** to "
        f"{c('narrow', 'tighten', 'focus', 'restrict')} the choices again.",
        f"- Set **max tokens** low to {c('cut', 'clip', 'trim', 'truncate')} the reply "
        f"short, or add a **stop sequence**.",
        f"- {c('Ask', 'Request', 'Look')} for code to see a fenced code block.",
    ]
    if effort >= 2:  # low effort leaves the list out; medium keeps half of it
        parts.append(intro)
        parts.append("\n".join(items if effort >= 3 else items[:2]))
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
    if effort >= 4:
        parts.append(
            f"Because you asked for {prompt.effort_level} effort, this reply goes on a little "
            "longer than usual: a real model would spend the extra effort checking its work "
            "and covering more ground."
        )
    if effort >= 5:
        parts.append(
            "At max effort there is no holding back: every point above would be examined from "
            "several sides before the answer was settled."
        )
    parts.append(
        f"*Settings received: temperature {_fmt(prompt.temperature)} · top_p "
        f"{_fmt(prompt.top_p)} · top_k {_fmt(prompt.top_k)} · max tokens "
        f"{_fmt(prompt.max_tokens)} · effort {_effort_setting(prompt)} · thinking "
        f"{_thinking_setting(prompt)}.*"
    )
    return "\n\n".join(parts)


def _effort_setting(prompt: Prompt) -> str:
    if prompt.effort is None:
        return "default"
    if prompt.effort_capped:
        return f"{prompt.effort} (as high: thinking is off)"
    return prompt.effort


def _thinking_setting(prompt: Prompt) -> str:
    if prompt.thinking == "budget":
        return f"budget {prompt.budget_tokens}"
    return prompt.thinking


_PLAN_CHECKS = (
    "Is there anything in the earlier turns that changes what the answer should say?",
    "The wording should stay plain; nothing here needs jargon.",
    "Markdown will render, so a short list is fine where it helps.",
    "The answer must not claim to be a real model, because it is not one.",
    "Each setting in the request should show up somewhere the user can check it.",
    "If the reply gets cut by max tokens, the first paragraphs must still make sense alone.",
)


def compose_thinking(prompt: Prompt) -> str:
    """The thinking before the reply: a plan for answering the last user message.

    Adaptive thinking writes one sentence per effort step (low 1 ... max 5). Budget mode
    thinks about min(budget, 400) tokens' worth, scaled the same way (high = the whole 400).
    """
    echo = _snippet(prompt.last_user, 60) or "nothing at all"
    code = " with a short code example" if _CODE_WORDS.search(prompt.last_user) else ""
    system = (
        f", keeping to the system prompt (“{_snippet(prompt.system, 40)}”)" if prompt.system else ""
    )
    plan = [
        f"The user wrote “{echo}”, so the answer has to start from exactly that.",
        f"I will greet them, quote their words back and say that this reply comes from the "
        f"demo model{system}.",
        f"Then a short list of settings to try{code}, so each parameter's effect is visible.",
        f"This is turn {prompt.user_turns} of the conversation, and the whole history came "
        "with the request, so I should take it into account.",
        "Last, a line listing every setting received, so the request can be checked against "
        "the reply.",
    ]
    steps = EFFORT_SENTENCES.get(prompt.effort_level, 3)
    if prompt.thinking != "budget":
        return " ".join(plan[:steps])
    target = max(1, round(min(prompt.budget_tokens or 0, 400) * steps / 3))
    tokens = tokenize(" ".join(plan))
    n = 0
    while len(tokens) < target:
        check = _PLAN_CHECKS[n % len(_PLAN_CHECKS)]
        tokens.extend(tokenize(f" Check {n + 1}: {check}"))
        n += 1
    return "".join(tokens[:target]).rstrip()


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
    """The reply to ``prompt``: thinking first when it thinks, then the text, composed (or the
    scripted text), optionally stretched to exactly N tokens, then cut.

    Thinking tokens come out of the same max tokens: when they use it up, the reply ends with
    ``max_tokens`` and no text.
    """
    thinking = tokenize(compose_thinking(prompt)) if prompt.thinks else []
    text = compose(prompt) if scripted is None else scripted
    tokens = _long_text(text, long_reply_tokens) if long_reply_tokens else tokenize(text)
    if len(thinking) >= prompt.max_tokens:
        reply = Reply([], "max_tokens")
        thinking = thinking[: prompt.max_tokens]
    else:
        reply = _cut(tokens, prompt.max_tokens - len(thinking), prompt.stop_sequences)
    reply.thinking = thinking
    reply.show_thinking = prompt.show_thinking
    return reply
