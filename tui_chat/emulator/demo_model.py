"""The demo model: a Markdown reply that visibly reacts to its parameters.

The reply is a function of the model, the whole request content, the sampling parameters and
the request's variant. Wording is picked slot by slot from synonym lists, most plain first:
every slot draws one uniform number from an RNG seeded by the request content and variant (not
by the parameters), and the parameters shape the distribution that number is mapped through.
So temperature 0 always gives the plain wording, raising temperature or top_k spreads the
choice, lowering top_p narrows it, and max tokens and stop sequences only ever cut the same
text.

The variant is how many identical requests the server saw before (``Prompt.variant``, set by
the server): sending the same request again (regenerate) words the reply differently, while a
given sequence of requests always gives the same replies, and variant 0 is what ``generate``
gives for a prompt as parsed.

A request that ends with an assistant turn (a prefill, or a reply cut at max tokens being
continued), or with that turn followed by a user turn asking to "continue it exactly where it
stopped" (models that take no prefill), gets the rest of the reply: the slots the given text
covers take the wording it used, so a partial reply goes on from where it stopped, mid-word if
it was cut there, without repeating anything.

A prompt asking for "N words" (``write 2000 words about X``, ``a 1500-word story``) gets a reply
of about N words (at least 50 asked for), still cut by max tokens.

A token is one word plus the whitespace after it, so ``"".join(tokens)`` is the text and token
counts are exact.

When the request has thinking on, the reply first thinks: a few plain sentences planning the
answer to the last user message (more of them with more effort), which count toward the output
tokens and max tokens like the text does. Effort also changes the length of the reply itself.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace

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
    # The images and documents the request carried, described ("an image of 640x480 (PNG)"),
    # in order, and the input tokens they count for (beyond the text's).
    attachments: list[str] = field(default_factory=list)
    attachment_tokens: int = 0
    # How many identical requests came before this one (set by the server): 0 words the reply
    # as ``generate`` does for the parsed request; each later one words it differently.
    variant: int = 0

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
        return max(1, math.ceil(chars / 4)) + self.attachment_tokens

    def seed(self) -> int:
        parts: list[object] = [self.model_id, self.system, self.messages]
        if self.attachments:
            parts.append(self.attachments)
        if self.variant:
            parts.append(self.variant)
        material = json.dumps(parts, ensure_ascii=False)
        return int.from_bytes(hashlib.sha256(material.encode("utf-8")).digest()[:8], "big")

    def fingerprint(self) -> str:
        """What makes two requests "the same request": everything but the variant."""
        data = asdict(self)
        del data["variant"]
        material = json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)
        return hashlib.sha256(material.encode("utf-8")).hexdigest()


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
    """Picks one of several wordings; the first is the plain one.

    With a ``marker`` it records each slot instead of filling it in: the call returns a
    placeholder (the marker, the slot's number, the marker) and ``slots`` keeps the options and
    the chooser's own pick, so that a continuation can choose the wording a given partial reply
    used (see ``_template``).
    """

    def __init__(self, prompt: Prompt, marker: str | None = None) -> None:
        self._rng = random.Random(prompt.seed())
        self._temperature = 1.0 if prompt.temperature is None else float(prompt.temperature)
        self._top_p = 1.0 if prompt.top_p is None else float(prompt.top_p)
        self._top_k = prompt.top_k or 0
        self._marker = marker
        self.slots: list[_Slot] = []

    def __call__(self, *options: str) -> str:
        u = self._rng.random()  # drawn for every slot, so slots stay aligned across parameters
        choice = self._pick(u, options)
        if self._marker is None:
            return choice
        self.slots.append(_Slot(options, choice))
        return f"{self._marker}{len(self.slots) - 1}{self._marker}"

    def _pick(self, u: float, options: tuple[str, ...]) -> str:
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

    def segments(self, text: str) -> list[str | _Slot]:
        """``text`` (made with this chooser) as literal strings and the slots between them."""
        if self._marker is None:
            return [text]
        marker = re.escape(self._marker)
        pieces = re.split(f"{marker}(\\d+){marker}", text)
        out: list[str | _Slot] = []
        for n, piece in enumerate(pieces):
            out.append(self.slots[int(piece)] if n % 2 else piece)
        return out

    def plain(self, text: str) -> str:
        """``text`` with every slot filled in with the chooser's own pick."""
        return "".join(_default(self.segments(text)))


@dataclass(frozen=True)
class _Slot:
    options: tuple[str, ...]
    choice: str  # the chooser's own pick

    def order(self) -> list[str]:
        """The options, the chooser's pick first."""
        return [self.choice, *(o for o in self.options if o != self.choice)]


def _default(segments: list[str | _Slot]) -> Iterator[str]:
    for segment in segments:
        yield segment if isinstance(segment, str) else segment.choice


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


def compose(prompt: Prompt, limit: int | None = None) -> str:
    """The full demo reply for a prompt, before max tokens and stop sequences cut it.

    A reply of N words (asked for in the prompt) is written up to ``limit`` tokens, by default
    just over the prompt's max tokens: what max tokens would cut is not written."""
    return _compose(prompt, _Chooser(prompt), limit)


def _compose(prompt: Prompt, c: _Chooser, limit: int | None = None) -> str:
    words = words_wanted(prompt.last_user)
    if words is not None:
        cap = prompt.max_tokens + 1 if limit is None else limit
        return _compose_long(prompt, c, words, cap)
    echo = _snippet(prompt.last_user, 60) or "(no text)"
    parts: list[str] = [DEMO_BADGE]

    parts.append(
        f"{c('Hello', 'Hi there', 'Hey', 'Greetings', 'Howdy', 'Good to see you')}! "
        f"You {c('wrote', 'said', 'asked', 'typed', 'sent', 'mentioned')}: “{echo}”"
    )
    if prompt.attachments:
        parts.append(attachments_line(prompt))
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
    parts.append(_connect_line(c))
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
    parts.append(_settings_line(prompt))
    return "\n\n".join(parts)


def attachments_line(prompt: Prompt) -> str:
    """What the request carried besides text: "I was given an image of 640x480 (PNG), a 3-page
    PDF named spec and a text document named notes.md." """
    items = prompt.attachments
    listed = items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
    return f"I was given {listed}."


def _settings_line(prompt: Prompt) -> str:
    return (
        f"*Settings received: temperature {_fmt(prompt.temperature)} · top_p "
        f"{_fmt(prompt.top_p)} · top_k {_fmt(prompt.top_k)} · max tokens "
        f"{_fmt(prompt.max_tokens)} · effort {_effort_setting(prompt)} · thinking "
        f"{_thinking_setting(prompt)}.*"
    )


def _connect_line(c: Callable[..., str]) -> str:
    return (
        f"{c('When', 'Once', 'As soon as')} you connect real AWS credentials, "
        f"{c('answers', 'replies', 'responses')} will come from the real model "
        f"{c('instead', 'in its place', 'rather than from me')}."
    )


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


def compose_thinking(prompt: Prompt, continuing: bool = False) -> str:
    """The thinking before the reply: a plan for answering the last user message (or, when
    ``continuing`` a cut reply, for going on with it: ``prompt`` is then the request without
    the cut reply and the request to continue it).

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
    if continuing:
        plan = [
            "My previous reply was cut off by the output limit, so I carry on exactly where it "
            "stopped.",
            "No repetition and no preamble: the next word follows the last one I wrote, even "
            "in the middle of a word.",
            f"It answers “{echo}”, and the rest keeps to the plan it started with.",
            f"This is still turn {prompt.user_turns} of the conversation.",
            "Last, the line listing every setting received, as before.",
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


# ---------------------------------------------------------------------------------------------
# Long replies on request: "write 2000 words about X", "a 1500-word story"

#: Fewer words asked for than this get the ordinary reply (about 150 words).
MIN_WORDS_WANTED = 50
#: More words asked for than this are written as this many.
MAX_WORDS_WANTED = 200_000

_WORDS = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+)\s*-?\s*words?\b", re.IGNORECASE)
_ABOUT = re.compile(r"\b(?:about|on)\s+(\S.*)", re.IGNORECASE | re.DOTALL)

_PART_TITLES = (
    "Getting started",
    "Going further",
    "A closer look",
    "Details that matter",
    "Odds and ends",
    "Looking back",
)

_LONG_SENTENCES: tuple[Callable[[Callable[..., str], str], str], ...] = (
    lambda c, s: (
        f"There is {c('more', 'plenty more', 'always more')} to say about {s} than "
        f"{c('fits', 'goes', 'belongs')} in one {c('paragraph', 'section', 'page')}."
    ),
    lambda c, s: (
        f"The demo model {c('keeps writing', 'carries on', 'goes on')} so that long replies "
        f"can be {c('tried', 'tested', 'checked')} end to end."
    ),
    lambda c, s: (
        f"Every word {c('arrives', 'comes', 'streams in')} as its own event, "
        f"{c('exactly', 'just', 'much')} as a real model streams its output."
    ),
    lambda c, s: (
        f"Scrolling, rendering and saving should all stay {c('smooth', 'quick', 'fluid')} "
        f"however long this {c('grows', 'gets', 'runs')}."
    ),
    lambda c, s: (
        f"None of this is {c('really', 'truly', 'actually')} about {s}; it only has to be long "
        "and readable."
    ),
    lambda c, s: (
        f"If max tokens cuts the reply short, {c('continue', 'resume')} it and it picks up "
        "exactly where it stopped."
    ),
    lambda c, s: (
        f"A real reply this long would take minutes to read and cost real money to "
        f"{c('produce', 'write', 'generate')}."
    ),
    lambda c, s: (
        f"**Markdown** paragraphs, lists and *emphasis* {c('appear', 'show up', 'turn up')} now "
        "and then along the way."
    ),
)


def words_wanted(text: str) -> int | None:
    """The number of words a prompt asks for ("2000 words", "a 1,500-word story"), when it asks
    for at least ``MIN_WORDS_WANTED``; None otherwise."""
    match = _WORDS.search(text)
    if match is None:
        return None
    words = int(match.group(1).replace(",", ""))
    if words < MIN_WORDS_WANTED:
        return None
    return min(words, MAX_WORDS_WANTED)


def _topic(text: str) -> str:
    """What the words are to be about ("about the sea" after or before "N words"), or ""."""
    match = _WORDS.search(text)
    after = text[match.end() :] if match else text
    found = _ABOUT.search(after) or _ABOUT.search(text)
    if found is None:
        return ""
    return _snippet(found.group(1), 40).rstrip(".!?…;: ")


def _count(text: str) -> int:
    return len(tokenize(text))


def _compose_long(prompt: Prompt, c: _Chooser, words: int, limit: int) -> str:
    """About ``words`` words: a greeting, parts with headings, paragraphs and lists, and the
    closing lines; written up to ``limit`` tokens (beyond it max tokens cuts the reply)."""
    plain = c.plain
    topic = _topic(prompt.last_user)
    subject = topic or "what you asked for"
    head = [
        DEMO_BADGE,
        f"{c('Hello', 'Hi there', 'Hey', 'Greetings')}! You asked for about {words:,} words"
        f"{f' about {topic}' if topic else ''}, "
        f"{c('so here they are', 'and here they come', 'so here goes')}. "
        f"{c('Every one of them', 'Each of them', 'All of them')} comes from the built-in demo "
        "model: they show how a long reply streams, scrolls and continues, and say nothing.",
    ]
    if prompt.attachments:
        head.append(attachments_line(prompt))
    tail = [_connect_line(c), _settings_line(prompt)]
    used = sum(_count(plain(part)) for part in head)
    room = words - used - sum(_count(plain(part)) for part in tail)
    body: list[str] = []
    sentences = (_LONG_SENTENCES[n % len(_LONG_SENTENCES)](c, subject) for n in itertools.count())
    for part in itertools.count(1):
        if used > limit:
            return "\n\n".join([*head, *body])  # max tokens cuts it before the end
        heading = f"## Part {part}: {_PART_TITLES[(part - 1) % len(_PART_TITLES)]}"
        listed = part % 3 == 0
        picked: list[str] = []
        cost = _count(heading)
        for sentence in itertools.islice(sentences, 3 if listed else 4):
            size = _count(plain(sentence)) + (1 if listed else 0)  # "- " is a token too
            if cost + size > room:
                break
            picked.append(sentence)
            cost += size
        if not picked:
            break
        lines = "\n".join(f"- {s}" for s in picked) if listed else " ".join(picked)
        body += [heading, lines]
        used += cost
        room -= cost
    return "\n\n".join([*head, *body, *tail])


# ---------------------------------------------------------------------------------------------
# Continuations: a request that ends with (part of) the reply

#: The user turn a client sends to continue a reply on a model that takes no prefill.
_CONTINUE_REQUEST = re.compile(r"\bcontinue it exactly where it stopped\b", re.IGNORECASE)
#: How many steps the search for the wording of a partial reply may take.
_FIT_STEPS = 100_000


def split_continuation(prompt: Prompt) -> tuple[Prompt, str | None, bool]:
    """(the request the reply answers, the part of the reply already written, whether a user
    turn asked to continue it). The part is None when the request is not a continuation: the
    last turn is a user's (other than a request to continue)."""
    messages = prompt.messages
    if (
        len(messages) >= 3
        and messages[-1][0] == "user"
        and _CONTINUE_REQUEST.search(messages[-1][1])
        and messages[-2][0] == "assistant"
    ):
        return replace(prompt, messages=messages[:-2]), messages[-2][1], True
    if len(messages) >= 2 and messages[-1][0] == "assistant":
        return replace(prompt, messages=messages[:-1]), messages[-1][1], False
    return prompt, None, False


def _marker(prompt: Prompt) -> str:
    """A private-use character found in no text of the prompt (slot placeholders use it)."""
    texts = " ".join(
        [
            prompt.system,
            prompt.model_name,
            *(text for _, text in prompt.messages),
            *prompt.attachments,
        ]
    )
    code = 0xE000
    while chr(code) in texts:
        code += 1
    return chr(code)


def _template(prompt: Prompt, limit: int) -> list[str | _Slot]:
    """The reply to ``prompt`` as literal text and the slots where its wording is chosen."""
    c = _Chooser(prompt, _marker(prompt))
    return c.segments(_compose(prompt, c, limit))


def _agrees(partial: str, at: int, text: str) -> bool:
    """Whether ``text``, placed at ``at``, agrees with ``partial`` where they overlap."""
    return partial.startswith(text[: len(partial) - at], at)


def _fit(segments: list[str | _Slot], partial: str) -> str | None:
    """The reply that begins with ``partial``: each slot ``partial`` covers takes the wording it
    used (the chooser's own pick where both fit), the rest the chooser's picks. None when no
    wording gives a reply that begins with ``partial``."""
    out: list[str] = []  # the text of segments[: len(out)]
    stack: list[tuple[int, int, list[str]]] = []  # (segment, position, other fitting options)
    i = pos = 0
    steps = 0
    while pos < len(partial):
        steps += 1
        if steps > _FIT_STEPS:
            return None
        option: str | None = None
        if i < len(segments):
            segment = segments[i]
            options = [segment] if isinstance(segment, str) else segment.order()
            fitting = [o for o in options if _agrees(partial, pos, o)]
            if fitting:
                option = fitting[0]
                if len(fitting) > 1:
                    stack.append((i, pos, fitting[1:]))
        if option is None:  # back to the last slot with another option that fits
            if not stack:
                return None
            i, pos, others = stack.pop()
            option = others[0]
            if len(others) > 1:
                stack.append((i, pos, others[1:]))
            del out[i:]
        out.append(option)
        pos += len(option)
        i += 1
    return "".join(out) + "".join(_default(segments[i:]))


def _rest_of(segments: list[str | _Slot], partial: str) -> str:
    """What comes after ``partial``: the rest of the reply it begins, or, when it begins none,
    the rest after the place its last words appear in the reply, or else the whole reply after
    a break (a prefill the demo model would never have written)."""
    fitted = _fit(segments, partial)
    if fitted is not None:
        return fitted[len(partial) :]
    full = "".join(_default(segments))
    for size in (48, 32, 20, 12):
        tail = partial[-size:]
        at = full.find(tail) if len(partial) >= size else -1
        if at >= 0:
            return full[at + size :]
    if not partial or partial[-1].isspace():
        return full
    return ("\n\n" if partial[-1] in ".!?:…”)*`" else " ") + full


def generate(
    prompt: Prompt, long_reply_tokens: int | None = None, scripted: str | None = None
) -> Reply:
    """The reply to ``prompt``: thinking first when it thinks, then the text, composed (or the
    scripted text), optionally stretched to exactly N tokens, then cut.

    A continuation (the request ends with part of the reply) gets the text after that part.
    Thinking tokens come out of the same max tokens: when they use it up, the reply ends with
    ``max_tokens`` and no text.
    """
    base, partial, asked = split_continuation(prompt)
    thinking: list[str] = []
    if prompt.thinks:
        thinking = tokenize(compose_thinking(base if asked else prompt, continuing=asked))
    # Write no further than max tokens could reach after the part already written.
    limit = len(tokenize(partial or "")) + prompt.max_tokens + 1
    if scripted is not None or long_reply_tokens:
        if scripted is not None:
            full = scripted
        else:
            full = "".join(_long_text(compose(base, limit), long_reply_tokens or 0))
        text = full
        if partial and full.startswith(partial):
            text = full[len(partial) :]
    elif partial is None:
        text = compose(base, limit)
    else:
        text = _rest_of(_template(base, limit), partial)
    tokens = tokenize(text)
    if len(thinking) >= prompt.max_tokens:
        reply = Reply([], "max_tokens")
        thinking = thinking[: prompt.max_tokens]
    else:
        reply = _cut(tokens, prompt.max_tokens - len(thinking), prompt.stop_sequences)
    reply.thinking = thinking
    reply.show_thinking = prompt.show_thinking
    return reply
