"""The parameter sidebar: each field reaches the next request, bad values never do."""

from __future__ import annotations

import pytest
from textual.widgets import Input, TextArea

from tui_chat.ui.widgets.message_view import AssistantTurn
from tui_chat.ui.widgets.sidebar import ParamSidebar

from .conftest import MODEL, rendered_text, send, wait_idle

SONNET_45 = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"


async def type_into(pilot, selector: str, text: str) -> None:
    """Focus a field, clear it, and type like a user."""
    widget = pilot.app.query_one(selector)
    widget.focus()
    await pilot.pause()
    if isinstance(widget, TextArea):
        widget.select_all()
        await pilot.press("backspace")
    else:
        widget.value = ""
    for char in text:
        await pilot.press(char if char != " " else "space")
    await pilot.pause()


SONNET_4 = "us.anthropic.claude-sonnet-4-20250514-v1:0"  # takes every sampling parameter


async def test_every_field_reaches_the_next_request(make_app, emulator):
    app = make_app()
    async with app.run_test(size=(120, 50)) as pilot:
        await type_into(pilot, "#model", SONNET_4)
        await type_into(pilot, "#temperature", "0.3")
        await type_into(pilot, "#top_p", "0.8")
        await type_into(pilot, "#top_k", "40")
        await type_into(pilot, "#max_tokens_to_sample", "300")
        await type_into(pilot, "#stop_sequences", "END, \\n\\nObserver:")
        await type_into(pilot, "#system", "Be terse.")
        await send(pilot, "hello")
        await wait_idle(pilot, app)
    body = emulator.requests[-1].body
    assert body["temperature"] == 0.3
    assert body["top_p"] == 0.8
    assert body["top_k"] == 40
    assert body["max_tokens"] == 300
    assert body["stop_sequences"] == ["END", "\n\nObserver:"]
    assert body["system"] == "Be terse."
    sent = app.conversation.messages[-1].params
    assert sent["temperature"] == 0.3 and sent["top_k"] == 40


async def test_stop_sequences_are_honoured(make_app, emulator):
    app = make_app()
    async with app.run_test(size=(120, 50)) as pilot:
        await send(pilot, "hello")
        await wait_idle(pilot, app)
        word = app.conversation.messages[-1].content.split()[10]
        await type_into(pilot, "#stop_sequences", word)
        await pilot.press("ctrl+r")
        await wait_idle(pilot, app)
        reply = app.conversation.messages[-1]
        assert reply.stop_reason == "stop_sequence"
        assert reply.stop_sequence == word
        assert word not in reply.content
        footer = rendered_text(app.query(AssistantTurn).last().query_one(".reply-footer"))
        assert f"stopped at “{word}”" in footer


@pytest.mark.parametrize(
    ("field", "text", "allowed"),
    [
        ("#temperature", "1.5", "must be 0–1; got"),
        ("#temperature", "hot", "must be 0–1; got"),
        ("#top_p", "-0.1", "must be 0–1; got"),
        ("#top_k", "501", "must be whole 0–500; got"),
        ("#top_k", "2.5", "must be whole 0–500; got"),
        ("#max_tokens_to_sample", "0", "must be whole 1–64,000; got"),
        ("#max_tokens_to_sample", "65000", "must be whole 1–64,000; got"),
        ("#stop_sequences", "bad\\q", "unknown escape"),
        ("#model", " ", "a model id"),
    ],
)
async def test_invalid_values_are_refused_where_typed_and_never_sent(
    make_app, emulator, field, text, allowed
):
    app = make_app()
    async with app.run_test(size=(120, 50)) as pilot:
        await type_into(pilot, field, text)
        name = field[1:]
        sidebar = app.query_one(ParamSidebar)
        assert app.query_one(f"#field-{name}").has_class("-invalid")
        assert allowed in rendered_text(app.query_one(f"#problem-{name}"), width=300)
        await send(pilot, "hello")
        await pilot.pause(0.2)
        assert emulator.requests == []
        assert app.conversation.messages == []
        assert name in sidebar.problems()[0]
        # Fixing the value lets the same prompt go.
        valid = {"model": MODEL, "stop_sequences": ""}
        await type_into(pilot, field, valid.get(name, "1"))
        assert not app.query_one(f"#field-{name}").has_class("-invalid")
        app.query_one("#prompt").focus()
        await pilot.press("enter")
        await wait_idle(pilot, app)
        assert len(emulator.requests) == 1


async def test_values_are_saved_per_conversation_and_restored(make_app, sessions):
    app = make_app()
    async with app.run_test(size=(120, 50)) as pilot:
        await send(pilot, "first")
        await wait_idle(pilot, app)
        first = app.conversation.id
        await type_into(pilot, "#temperature", "0.2")
        await pilot.pause(0.7)  # parameter saves are debounced
        await pilot.press("ctrl+n")  # a new conversation starts from the open one's values
        assert app.query_one("#temperature", Input).value == "0.2"
        await pilot.press("f5")  # one key back to the defaults
        await pilot.pause()
        assert app.query_one("#temperature", Input).value == "1"
        assert app.conversation.params == app.settings.defaults
        await send(pilot, "second")
        await wait_idle(pilot, app)
        second = app.conversation.id
        await app.open_conversation(first)
        assert app.query_one("#temperature", Input).value == "0.2"
        await app.open_conversation(second)
        assert app.query_one("#temperature", Input).value == "1"
        await pilot.press("ctrl+q")
    assert sessions.load(first).params.temperature == 0.2
    again = make_app()
    async with again.run_test(size=(120, 50)):
        await again.open_conversation(first)
        assert again.query_one("#temperature", Input).value == "0.2"


async def test_model_rules_are_shown_and_applied(make_app, emulator):
    app = make_app()
    async with app.run_test(size=(120, 50)) as pilot:
        await type_into(pilot, "#model", SONNET_45)
        await type_into(pilot, "#temperature", "0.5")
        await type_into(pilot, "#top_p", "0.9")
        rules = app.query_one("#rules")
        assert rules.display
        assert "top_p will be left out" in rendered_text(rules)
        assert "64,000" in rendered_text(app.query_one("#label-max_tokens_to_sample"))
        await send(pilot, "hello")
        await wait_idle(pilot, app)
        body = emulator.requests[-1].body
        assert body["temperature"] == 0.5 and "top_p" not in body
        reply = app.conversation.messages[-1]
        assert reply.status == "complete"
        assert reply.omitted == ["top_p"]
        footer = rendered_text(app.query(AssistantTurn).last().query_one(".reply-footer"))
        assert "left out top_p" in footer
        await type_into(pilot, "#model", "meta.llama3-1-70b-instruct-v1:0")
        assert app.query_one("#top_k", Input).disabled
        assert "not sent" in rendered_text(app.query_one("#label-top_k"))


async def test_reset_to_defaults(make_app):
    app = make_app()
    async with app.run_test(size=(120, 50)) as pilot:
        await type_into(pilot, "#top_k", "7")
        assert app.conversation.params.top_k == 7
        app.query_one("#reset").focus()
        await pilot.press("enter")
        await pilot.pause()
        assert app.conversation.params == app.settings.defaults
        assert app.query_one("#top_k", Input).value == "250"
