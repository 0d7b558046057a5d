"""Conversation and Message: plain data mirroring the session file, with no I/O.

Every field of the session schema (docs/ARCHITECTURE.md, "Session files"; the keys are declared
in store/schema.py) has a home here; keys a newer build wrote that
this one does not know are carried in `extra` so a rewrite keeps them.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from tui_chat.attachments import Attachment
from tui_chat.params import Params

SCHEMA = 1
STATUSES = ("complete", "cancelled", "error", "interrupted", "streaming")
UNTITLED = "New conversation"
TITLE_LENGTH = 60


def now() -> datetime:
    """The current UTC time to the second (what the session file stores)."""
    return datetime.now(UTC).replace(microsecond=0)


def new_id(when: datetime | None = None) -> str:
    """A sortable conversation id, e.g. 20261122T012345Z-3f9a1c."""
    stamp = (when or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{secrets.token_hex(3)}"


ID_PATTERN = re.compile(r"^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}$")


def is_valid_id(text: str) -> bool:
    return bool(ID_PATTERN.match(text))


@dataclass
class Message:
    """One turn. Assistant turns carry how they ended and what produced them."""

    role: str  # "user" | "assistant"
    content: str
    created: datetime = field(default_factory=now)
    status: str = "complete"
    stop_reason: str = ""
    stop_sequence: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    omitted: list[str] = field(default_factory=list)
    #: Why each omitted parameter was left out (the model's rules, or Bedrock's refusal).
    omitted_reasons: dict[str, str] = field(default_factory=dict)
    #: The model's thinking before this reply, apart from the answer: blocks of
    #: {"type": "thinking", "text", "signature"} or {"type": "redacted", "data"}.
    thinking: list[dict[str, str]] = field(default_factory=list)
    usage: dict[str, int] = field(default_factory=dict)
    error: dict[str, str] = field(default_factory=dict)
    alternatives: list[Message] = field(default_factory=list)
    #: Where this reply sits among its replies in display order (None: after the others).
    chosen: int | None = None
    #: Files attached to a prompt (their bytes are kept beside the session file).
    attachments: list[Attachment] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_assistant(self) -> bool:
        return self.role == "assistant"

    def fingerprint(self) -> tuple[str, str, str]:
        """What identifies a message across two copies of a file (for merging)."""
        return (self.role, self.created.isoformat(), self.content)

    @property
    def thinking_text(self) -> str:
        """The readable thinking (redacted blocks have none)."""
        return "".join(b.get("text", "") for b in self.thinking if b.get("type") != "redacted")

    @property
    def thinking_redacted(self) -> bool:
        return any(b.get("type") == "redacted" for b in self.thinking)

    def add_thinking(self, text: str = "", signature: str = "", redacted: str = "") -> None:
        """Append streamed thinking: text joins the open block, a signature closes it, a
        redacted block stands alone."""
        if redacted:
            self.thinking.append({"type": "redacted", "data": redacted})
            return
        block = self.thinking[-1] if self.thinking else None
        if block is None or block.get("type") != "thinking" or block.get("signature"):
            block = {"type": "thinking", "text": ""}
            self.thinking.append(block)
        block["text"] = block.get("text", "") + text
        if signature:
            block["signature"] = signature

    def alternative_count(self) -> int:
        return 1 + len(self.alternatives)

    # Replies to one turn (regenerated or compared) are the message itself, the one shown
    # and continued from, plus its alternatives. Their order for display ("2/3") is the
    # alternatives with the chosen one at index `chosen` (last when None).

    def chosen_index(self) -> int:
        index = self.chosen
        if not isinstance(index, int) or isinstance(index, bool):
            return len(self.alternatives)
        return max(0, min(index, len(self.alternatives)))

    def replies(self) -> list[Message]:
        """Every reply to this turn in display order (the alternatives carry none)."""
        index = self.chosen_index()
        bare = replace(self, alternatives=[], chosen=None)
        return [*self.alternatives[:index], bare, *self.alternatives[index:]]

    def choose(self, index: int) -> Message:
        """The same replies with the one at `index` shown (a new Message to put in place)."""
        replies = self.replies()
        index %= len(replies)
        others = [r for n, r in enumerate(replies) if n != index]
        return replace(replies[index], alternatives=others, chosen=index if others else None)

    def with_new_reply(self, reply: Message) -> Message:
        """`reply` shown as the newest reply to this turn, this message's replies kept (a
        failed empty one is simply replaced)."""
        replies = [r for r in self.replies() if r.content or r.status == "complete"]
        return replace(reply, alternatives=replies, chosen=len(replies) if replies else None)


@dataclass
class Conversation:
    """A conversation: its parameters and its turns, oldest first."""

    id: str
    params: Params
    title: str = UNTITLED
    title_custom: bool = False
    created: datetime = field(default_factory=now)
    updated: datetime = field(default_factory=now)
    messages: list[Message] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    params_extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def new(cls, params: Params) -> Conversation:
        when = now()
        return cls(id=new_id(when), params=params, created=when, updated=when)

    def touch(self) -> None:
        self.updated = now()

    def add(self, message: Message) -> Message:
        """Append a turn, update the timestamp and the derived title."""
        self.messages.append(message)
        self.touch()
        self.refresh_title()
        return message

    def keep_compared(self, replies: list[Message], index: int) -> Message:
        """Add the reply at `index` of replies compared side by side as this turn's reply, the
        others that hold anything as its alternatives, in the order they were shown."""
        worth = [
            n
            for n, reply in enumerate(replies)
            if n != index and (reply.content or reply.status == "complete")
        ]
        kept = replace(
            replies[index],
            alternatives=[replies[n] for n in worth],
            chosen=sum(1 for n in worth if n < index) if worth else None,
        )
        return self.add(kept)

    def add_user(self, text: str) -> Message:
        return self.add(Message(role="user", content=text))

    def rename(self, title: str) -> None:
        """A user-chosen title; from now on it is never derived again."""
        cleaned = " ".join(title.split())
        if not cleaned:
            self.title_custom = False
            self.refresh_title()
        else:
            self.title = cleaned
            self.title_custom = True
        self.touch()

    def refresh_title(self) -> None:
        if not self.title_custom:
            self.title = derive_title(self.messages)

    def last_assistant(self) -> Message | None:
        for message in reversed(self.messages):
            if message.is_assistant:
                return message
        return None


def derive_title(messages: list[Message]) -> str:
    """The first user message, on one line, cut to a readable length."""
    for message in messages:
        if message.role == "user":
            words = " ".join(message.content.split())
            if words:
                if len(words) <= TITLE_LENGTH:
                    return words
                cut = words[: TITLE_LENGTH - 1]
                if " " in cut[TITLE_LENGTH // 2 :]:
                    cut = cut.rsplit(" ", 1)[0]
                return cut.rstrip() + "…"
    return UNTITLED
