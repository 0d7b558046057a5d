"""The Markdown export: exact text for a fixture conversation, fences, determinism."""

from __future__ import annotations

from datetime import UTC, datetime

from tui_chat.conversation import Conversation, Message
from tui_chat.export import iso_utc, open_fence, to_markdown
from tui_chat.params import Params

MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
T0 = datetime(2026, 11, 22, 1, 23, 45, tzinfo=UTC)


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(T0.timestamp() + seconds, UTC)


CODE_REPLY = (
    "Here you go — 你好 means *hello*:\n"
    "\n"
    "```python\n"
    "def greet(name: str) -> str:\n"
    '    return f"こんにちは, {name}! 👋"\n'
    "```\n"
    "\n"
    "Café written with a combining accent: Cafe\u0301. Z\u0324\u0354\u0367 too.\n"
)


def fixture_conversation() -> Conversation:
    reply = Message(
        role="assistant",
        content=CODE_REPLY,
        created=at(2),
        stop_reason="end_turn",
        params={"model": MODEL, "max_tokens_to_sample": 1024, "temperature": 0.3},
        omitted=["top_p"],
        usage={"input_tokens": 21, "output_tokens": 1234, "latency_ms": 900},
    )
    reply.alternatives = [
        Message(
            role="assistant",
            content="Hello 🌍",
            created=at(3),
            stop_reason="stop_sequence",
            stop_sequence="\n\nHuman:",
            params={"model": "anthropic.claude-3-haiku-20240307-v1:0"},
            usage={"input_tokens": 21, "output_tokens": 4},
        ),
        # Cancelled inside a code block: the export closes the fence for it.
        Message(
            role="assistant",
            content="Sure:\n\n~~~js\nconsole.log('👋')",
            created=at(4),
            status="cancelled",
        ),
    ]
    return Conversation(
        id="20261122T012345Z-3f9a1c",
        params=Params(
            model=MODEL, max_tokens_to_sample=1024, system="Be brief.\n\nUse *Markdown*."
        ),
        title="Greetings 👋 in 日本語",
        title_custom=True,
        created=T0,
        updated=at(60),
        messages=[
            Message(
                role="user", content="Greet me in Python, please 🙂 (日本語 ok)", created=at(1)
            ),
            reply,
            Message(role="user", content="Merci ! n\u0303 and 🇫🇷", created=at(10)),
            Message(
                role="assistant",
                content="",
                created=at(11),
                status="error",
                params={"model": MODEL},
                error={
                    "kind": "throttled",
                    "message": "Bedrock is throttling requests: wait a moment and retry.",
                },
            ),
        ],
    )


EXPECTED = (
    "# Greetings 👋 in 日本語\n"
    "\n"
    "- **Model:** `us.anthropic.claude-sonnet-4-5-20250929-v1:0`\n"
    "- **Created:** 2026-11-22T01:23:45Z\n"
    "- **Updated:** 2026-11-22T01:24:45Z\n"
    "- **Conversation:** `20261122T012345Z-3f9a1c`\n"
    "\n"
    "## You\n"
    "\n"
    "Greet me in Python, please 🙂 (日本語 ok)\n"
    "\n"
    "## Assistant · reply 3 of 3, the one the chat goes on from\n"
    "\n"
    "Here you go — 你好 means *hello*:\n"
    "\n"
    "```python\n"
    "def greet(name: str) -> str:\n"
    '    return f"こんにちは, {name}! 👋"\n'
    "```\n"
    "\n"
    "Café written with a combining accent: Café. Z̤͔ͧ too.\n"
    "\n"
    "*end_turn · 21 input tokens · 1,234 output tokens · max tokens 1,024 · temperature 0.3"
    " · not sent: top_p*\n"
    "\n"
    "### Alternative: reply 1 of 3\n"
    "\n"
    "Hello 🌍\n"
    "\n"
    "*stop sequence `\\n\\nHuman:` · 21 input tokens · 4 output tokens"
    " · `anthropic.claude-3-haiku-20240307-v1:0`*\n"
    "\n"
    "### Alternative: reply 2 of 3 (cancelled)\n"
    "\n"
    "Sure:\n"
    "\n"
    "~~~js\n"
    "console.log('👋')\n"
    "~~~\n"
    "\n"
    "## You\n"
    "\n"
    "Merci ! ñ and 🇫🇷\n"
    "\n"
    "## Assistant (error)\n"
    "\n"
    "*(no text)*\n"
    "\n"
    "*error: Bedrock is throttling requests: wait a moment and retry.*\n"
)


def test_exact_markdown_for_a_conversation_with_code_and_unicode():
    assert to_markdown(fixture_conversation()) == EXPECTED


def test_unicode_is_kept_exactly_not_normalised():
    text = to_markdown(fixture_conversation())
    # The decomposed "e + U+0301" stays decomposed; nothing is NFC-normalised.
    assert "Cafe\u0301" in text
    assert "Caf\u00e9 written" in text
    assert "Z\u0324\u0354\u0367" in text


def test_export_is_deterministic():
    assert to_markdown(fixture_conversation()) == to_markdown(fixture_conversation())


def test_empty_conversation_and_no_system_prompt():
    conversation = Conversation(
        id="20261122T012345Z-000000",
        params=Params(model="anthropic.claude-v2"),
        created=T0,
        updated=T0,
    )
    assert to_markdown(conversation) == (
        "# New conversation\n"
        "\n"
        "- **Model:** `anthropic.claude-v2`\n"
        "- **Created:** 2026-11-22T01:23:45Z\n"
        "- **Updated:** 2026-11-22T01:23:45Z\n"
        "- **Conversation:** `20261122T012345Z-000000`\n"
    )


def test_interrupted_reply_and_markdown_in_footer_text_is_escaped():
    conversation = Conversation(
        id="20261122T012345Z-000001",
        params=Params(),
        title="line one\nline two",
        created=T0,
        updated=T0,
        messages=[
            Message(role="user", content="hi", created=T0),
            Message(
                role="assistant",
                content="partial",
                created=T0,
                status="error",
                error={"kind": "unknown", "message": "bad *thing* [x]"},
            ),
            Message(role="assistant", content="more\n\n\n", created=T0, status="interrupted"),
        ],
    )
    text = to_markdown(conversation)
    assert text.startswith("# line one line two\n")
    assert "*error: bad \\*thing\\* \\[x\\]*" in text
    assert "## Assistant (interrupted)\n\nmore\n" in text
    assert text.endswith("more\n")


def test_open_fence():
    assert open_fence("text") is None
    assert open_fence("```py\ncode\n```") is None
    assert open_fence("```py\ncode") == "```"
    assert open_fence("````\n```\nstill code") == "````"
    assert open_fence("~~~\n```\n~~~") is None
    assert open_fence("``` inline ``` not a fence") is None
    assert open_fence("    ```indented code, not a fence") is None


def test_iso_utc_accepts_other_offsets_and_naive_times():
    from datetime import timedelta, timezone

    assert iso_utc(datetime(2026, 1, 1, 2, 0, tzinfo=timezone(timedelta(hours=2)))) == (
        "2026-01-01T00:00:00Z"
    )
    assert iso_utc(datetime(2026, 1, 1, 2, 0)) == "2026-01-01T02:00:00Z"


def test_each_reply_shows_the_system_prompt_and_parameters_that_produced_it():
    def reply(text, seconds, **params):
        return Message(
            role="assistant",
            content=text,
            created=at(seconds),
            stop_reason="end_turn",
            params={"model": MODEL, **params},
        )

    conversation = Conversation(
        id="20261122T012345Z-3f9a1c",
        params=Params(model=MODEL, system="Now a pirate."),  # the current one, not the past
        title="Prompts",
        created=T0,
        updated=at(60),
        messages=[
            Message(role="user", content="one", created=at(1)),
            reply("plain", 2, max_tokens_to_sample=300),
            Message(role="user", content="two", created=at(3)),
            reply("arr", 4, system="Now a pirate.", temperature=0.9),
            Message(role="user", content="three", created=at(5)),
            reply("still arr", 6, system="Now a pirate.", effort="low", thinking="adaptive"),
        ],
    )
    text = to_markdown(conversation)
    first, second, third = text.split("## Assistant")[1:]
    assert "System prompt" not in first and "max tokens 300" in first
    assert "> **System prompt** (sent with this reply)\n>\n> Now a pirate." in second
    assert "temperature 0.9" in second
    assert "System prompt" not in third  # unchanged since the reply before: written once
    assert "effort low · thinking adaptive" in third
    assert text.count("Now a pirate.") == 1
