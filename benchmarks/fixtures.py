"""Shared fixtures for the benchmarks: folders full of realistic saved conversations."""

from __future__ import annotations

import random
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
