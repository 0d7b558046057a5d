"""Shared fixtures for the benchmarks: folders full of realistic saved conversations."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import tomli_w

from tui_chat.conversation import Conversation, Message, new_id
from tui_chat.params import Params
from tui_chat.store import conversation_to_dict

WORDS = [
    *[
        "the",
        "model",
        "streams",
        "a",
        "reply",
        "about",
        "parameters",
        "temperature",
        "sampling",
        "tokens",
        "terminal",
    ],
    *[
        "session",
        "markdown",
        "code",
        "block",
        "list",
        "paragraph",
        "quickly",
        "carefully",
        "because",
        "while",
    ],
]


def conversation(n_messages: int, rng: random.Random, when: datetime) -> Conversation:
    conv = Conversation(id=new_id(when), params=Params(model="anthropic.claude-v2"))
    conv.created = conv.updated = when
    for n in range(n_messages):
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 120)))
        role = "user" if n % 2 == 0 else "assistant"
        message = Message(role=role, content=words, created=when + timedelta(seconds=n))
        if role == "assistant":
            message.stop_reason = "end_turn"
            message.usage = {"input_tokens": 100, "output_tokens": 80, "latency_ms": 900}
            message.params = {"model": "anthropic.claude-v2"}
        conv.messages.append(message)
    conv.refresh_title()
    return conv


def make_sessions(directory: Path, count: int, n_messages: int, seed: int = 1) -> None:
    """Write `count` conversations straight to disk (no fsync: this is set-up, not a test)."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(count):
        conv = conversation(n_messages, rng, start + timedelta(minutes=n))
        path = directory / f"{conv.id}.toml"
        path.write_text(tomli_w.dumps(conversation_to_dict(conv)), encoding="utf-8")
        path.chmod(0o600)


# -- the fixed streamed reply ---------------------------------------------------------------------

#: Marker words (ZQ001, ZQ002, ...) are planted in plain prose about every MARKER_EVERY tokens
#: of the fixed reply, so the pty benchmarks can see when each reaches the screen.
MARKER_EVERY = 25
REPLY_CHARS = 8192

_PROSE_TEXT = (
    "Streaming a reply well means the terminal sees a steady trickle of small updates rather "
    "than a flood of full redraws, and the person reading never waits for the text to catch "
    "up with the model. The cheapest frame is the one never drawn: coalesce what arrives, "
    "render only the block that changed, and let settled text stay settled while the rest of "
    "the screen keeps still."
)
_PROSE = _PROSE_TEXT.split()

_CODE = '''```python
def coalesce(deltas, window=0.05):
    """Join text deltas that arrive within one window."""
    pending, started = [], None
    for delta in deltas:
        pending.append(delta.text)
        if started is None:
            started = delta.time
        if delta.time - started >= window:
            yield "".join(pending)
            pending, started = [], None
    if pending:
        yield "".join(pending)
```'''


def streamed_reply(chars: int = REPLY_CHARS) -> str:
    """A fixed Markdown reply of about `chars` characters: headings, prose with emphasis and
    inline code, lists, a table-free mix of code blocks, with numbered marker words."""
    marker = 0
    words_since = MARKER_EVERY  # the first paragraph starts with a marker

    def prose(count: int, start: int) -> str:
        nonlocal marker, words_since
        out = []
        for n in range(count):
            if words_since >= MARKER_EVERY:
                marker += 1
                out.append(f"ZQ{marker:03d}")
                words_since = 0
            word = _PROSE[(start + n) % len(_PROSE)]
            if n % 29 == 7:
                word = f"**{word}**"
            elif n % 31 == 11:
                word = f"`{word}`"
            out.append(word)
            words_since += 1
        return " ".join(out)

    blocks: list[str] = []
    section = 0
    while sum(len(b) + 2 for b in blocks) < chars:
        section += 1
        blocks.append(f"## {section}. Streaming, part {section}")
        blocks.append(prose(60, section * 7))
        blocks.append("\n".join(f"- {prose(14, section * 3 + i)}" for i in range(3)))
        if section % 2:
            blocks.append(_CODE)
            words_since += 40  # a code block reads like about 40 tokens of text
        blocks.append(prose(45, section * 11))
    kept: list[str] = []
    for block in blocks:
        if sum(len(b) + 2 for b in kept) + len(block) > chars and kept:
            break
        kept.append(block)
    while kept[-1].startswith("#"):
        kept.pop()
    return "\n\n".join(kept) + "\n"


def marker_words(text: str) -> list[str]:
    return re.findall(r"\bZQ\d{3}\b", text)


# -- a long conversation --------------------------------------------------------------------------

LONG_CHAT_END = "ZZLASTMESSAGEZZ"


def long_chat(n_messages: int = 2000, seed: int = 7) -> Conversation:
    """A conversation of realistic Markdown turns; its last reply ends with LONG_CHAT_END."""
    rng = random.Random(seed)
    when = datetime(2026, 6, 1, tzinfo=UTC)
    conv = Conversation(id=new_id(when), params=Params(model="anthropic.claude-v2"))
    conv.created = when
    for n in range(n_messages):
        if n % 2 == 0:
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 40)))
            message = Message(role="user", content=words.capitalize() + "?")
        else:
            paragraphs = [
                " ".join(rng.choice(WORDS) for _ in range(rng.randint(30, 90))) + "."
                for _ in range(rng.randint(1, 3))
            ]
            parts = [paragraphs[0]]
            if n % 3 == 1:
                items = [f"- **{rng.choice(WORDS)}**: {rng.choice(WORDS)}" for _ in range(4)]
                parts.append("\n".join(items))
            if n % 5 == 1:
                parts.append("```python\ndef answer(x):\n    return x * 2  # doubled\n```")
            parts.extend(paragraphs[1:])
            content = "\n\n".join(parts)
            if n == n_messages - 1:
                content += f"\n\n{LONG_CHAT_END}"
            message = Message(role="assistant", content=content)
            message.stop_reason = "end_turn"
            message.usage = {"input_tokens": 100 + n, "output_tokens": 180, "latency_ms": 900}
            message.params = {"model": "anthropic.claude-v2"}
        message.created = when + timedelta(seconds=30 * n)
        conv.messages.append(message)
    conv.updated = when + timedelta(seconds=30 * n_messages)
    conv.refresh_title()
    return conv


def write_conversation(directory: Path, conv: Conversation) -> Path:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / f"{conv.id}.toml"
    path.write_text(tomli_w.dumps(conversation_to_dict(conv)), encoding="utf-8")
    path.chmod(0o600)
    return path
