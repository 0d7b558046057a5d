"""The app, driven like a user would: type, send, watch it stream, cancel, switch, quit."""

from __future__ import annotations

import tomllib

from tui_chat.config import State, load_settings
from tui_chat.emulator import Fault
from tui_chat.ui.app import ChatApp, TitleBar
from tui_chat.ui.widgets.conversation_list import ConversationList
from tui_chat.ui.widgets.message_view import AssistantTurn, MessageView, UserTurn
from tui_chat.ui.widgets.prompt import PromptInput

from .conftest import MODEL, rendered_text, send, wait_for, wait_idle


def reply_text(turn: AssistantTurn) -> str:
    return "".join(rendered_text(chunk) for chunk in turn.body.query(".chunk"))


async def test_send_streams_the_reply_and_saves_it(make_app, sessions, emulator):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.focused is app.query_one("#prompt")
        await send(pilot, "What is good about the colour blue?")
        await wait_idle(pilot, app)
        turns = list(app.query(AssistantTurn))
        assert len(turns) == 1
        assert "colour blue" in reply_text(turns[0])
        footer = rendered_text(turns[0].query_one(".reply-footer"))
        assert "end of turn" in footer and "out" in footer
        assert app.query_one(PromptInput).text == ""
    conversation_id = app.conversation.id
    data = tomllib.loads(sessions.path(conversation_id).read_text())
    user, assistant = data["messages"]
    assert user["content"] == "What is good about the colour blue?"
    assert assistant["status"] == "complete"
    assert assistant["stop_reason"] == "end_turn"
    assert assistant["params"] == {"model": MODEL, "max_tokens_to_sample": 8192}
    assert assistant["usage"]["output_tokens"] > 10
    assert "first_token_ms" in assistant["usage"]
    assert data["title"] == "What is good about the colour blue?"
    assert emulator.requests[-1].body["messages"][-1]["content"][0]["text"] == user["content"]
    assert not sessions.partial_path(conversation_id).exists()


async def test_typing_goes_on_while_a_reply_streams(make_app, emulator):
    hold = Fault("stall", after_tokens=3, seconds=60)  # the reply waits until released
    emulator.add_fault(hold)
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "hello")
        await wait_for(pilot, lambda: bool(app.conversation.messages[-1].content))
        await pilot.press(*"next question")
        assert app.streams, "the reply should still be streaming"
        assert app.query_one(PromptInput).text == "next question"
        await pilot.press("enter")  # refused while streaming: the text stays
        assert app.query_one(PromptInput).text == "next question"
        hold.release()
        await wait_idle(pilot, app, timeout=20)
        await pilot.press("enter")
        await wait_idle(pilot, app, timeout=20)
        users = [t.message.content for t in app.query(UserTurn)]
        assert users == ["hello", "next question"]


async def test_escape_cancels_and_keeps_the_partial_reply(make_app, sessions, emulator):
    emulator.tokens_per_second = 30
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "hello")
        await wait_for(pilot, lambda: len(app.conversation.messages[-1].content.split()) >= 5)
        await pilot.press("escape")
        assert not app.streams
        message = app.conversation.messages[-1]
        partial = message.content
        assert message.status == "cancelled"
        await pilot.pause(0.5)  # nothing arrives after the cancel
        assert app.conversation.messages[-1].content == partial
        footer = rendered_text(app.query(AssistantTurn).last().query_one(".reply-footer"))
        assert "cancelled" in footer
    saved = sessions.load(app.conversation.id)
    assert saved.messages[-1].status == "cancelled"
    assert saved.messages[-1].content == partial
    assert not sessions.partial_path(app.conversation.id).exists()


async def test_switching_while_streaming_has_no_cross_talk(make_app, sessions, emulator):
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "first conversation")
        await wait_idle(pilot, app)
        first = app.conversation
        emulator.tokens_per_second = 40
        hold = Fault("stall", after_tokens=5, seconds=60, times=2)  # both wait until released
        emulator.add_fault(hold)
        await send(pilot, "alpha question")
        await wait_for(pilot, lambda: bool(first.messages[-1].content))
        await pilot.press("ctrl+n")
        await send(pilot, "bravo question")
        second = app.conversation
        assert second is not first
        await wait_for(pilot, lambda: len(app.streams) == 2)
        # Back to the first while both stream, then to the second again.
        await app.open_conversation(first.id)
        await pilot.pause(0.3)
        assert app.query_one(MessageView).streaming_turn is not None
        await app.open_conversation(second.id)
        hold.release()
        await wait_idle(pilot, app, timeout=30)
        shown = reply_text(app.query(AssistantTurn).last())
        assert "bravo question" in shown and "alpha" not in shown
    one, two = sessions.load(first.id), sessions.load(second.id)
    assert "alpha question" in one.messages[-1].content
    assert "bravo" not in one.messages[-1].content
    assert "bravo question" in two.messages[-1].content
    assert "alpha" not in two.messages[-1].content
    assert {m.status for m in one.messages} == {"complete"}
    assert len(two.messages) == 2


async def test_throttling_error_block_then_retry(make_app, sessions, emulator):
    emulator.add_fault(Fault("throttling", times=None))
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "hello")
        await wait_idle(pilot, app)
        turn = app.query(AssistantTurn).last()
        block = turn.query_one(".error-block")
        assert block.display
        assert "throttl" in rendered_text(block).lower()
        assert "ctrl+r" in rendered_text(block)
        assert sessions.load(app.conversation.id).messages[-1].status == "error"
        emulator.clear_faults()
        await pilot.press("ctrl+r")
        await wait_idle(pilot, app)
        messages = app.conversation.messages
        assert [m.role for m in messages] == ["user", "assistant"]
        assert messages[-1].status == "complete"
        assert messages[-1].alternatives == []  # the empty failure is replaced, not kept
        assert not app.query(AssistantTurn).last().query_one(".error-block").display
    saved = sessions.load(app.conversation.id)
    assert [m.status for m in saved.messages] == ["complete", "complete"]
    # The retry re-sent the same turn.
    assert emulator.requests[-1].body["messages"] == emulator.requests[0].body["messages"]


async def test_dropped_connection_keeps_the_partial_reply(make_app, sessions, emulator):
    emulator.add_fault(Fault("cut", after_tokens=8))
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "hello")
        await wait_idle(pilot, app)
        message = app.conversation.messages[-1]
        assert message.status == "error"
        assert message.error["kind"] == "connection_lost"
        assert len(message.content.split()) >= 6
        turn = app.query(AssistantTurn).last()
        assert "dropped" in rendered_text(turn.query_one(".error-block"))
        assert message.content.split()[2] in reply_text(turn)
        await pilot.press("ctrl+r")
        await wait_idle(pilot, app)
        retried = app.conversation.messages[-1]
        assert retried.status == "complete"
        # The partial reply is kept as an alternative of the turn.
        assert [a.content for a in retried.alternatives] == [message.content]
    saved = sessions.load(app.conversation.id)
    assert saved.messages[-1].alternatives[0].status == "error"


async def test_markup_and_escape_sequences_are_shown_literally(make_app, emulator):
    hostile = (
        "[bold]bold?[/bold] [link=https://evil.example]link[/link] "
        "[@click=app.quit]quit[/] \x1b[31mred\x1b[0m \x1b]52;c;SGVsbG8=\x07 bell\x07 back\x08"
    )
    emulator.add_fault(Fault("scripted_reply", text=hostile))
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "[@click=app.quit]title[/]")
        await wait_idle(pilot, app)
        shown = reply_text(app.query(AssistantTurn).last())
        assert "[bold]bold?[/bold]" in shown
        assert "[@click=app.quit]quit[/]" in shown
        assert "␛[31mred␛[0m" in shown
        assert "␛]52;c;SGVsbG8=␇" in shown
        assert "\x1b" not in shown and "\x07" not in shown and "\x08" not in shown
        entry = app.query_one(ConversationList).get_option(app.conversation.id)
        assert "[@click=app.quit]title[/]" in entry.prompt.plain
        title = rendered_text(app.query_one(TitleBar).query_one("#title"))
        assert "[@click=app.quit]title[/]" in title
        assert app.is_running  # nothing was clicked into quitting


async def test_restart_finds_everything_including_the_draft(make_app, sessions):
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "remember me")
        await wait_idle(pilot, app)
        conversation_id = app.conversation.id
        app.query_one(PromptInput).load_text("an unsent thought\nover two lines")
        await pilot.press("ctrl+q")
    again = make_app()
    async with again.run_test() as pilot:
        await pilot.pause(0.2)
        assert again.conversation.id == conversation_id
        assert [t.message.content for t in again.query(UserTurn)] == ["remember me"]
        assert len(again.query(AssistantTurn)) == 1
        assert again.query_one(PromptInput).text == "an unsent thought\nover two lines"
        assert again.query_one(ConversationList).current_id == conversation_id


async def test_a_draft_in_a_new_conversation_survives_a_restart(make_app):
    app = make_app()
    async with app.run_test() as pilot:
        app.query_one(PromptInput).load_text("not sent yet")
        await pilot.press("ctrl+q")
    again = make_app()
    async with again.run_test() as pilot:
        await pilot.pause(0.2)
        assert again.query_one(PromptInput).text == "not sent yet"


async def test_quit_while_streaming_saves_what_arrived(make_app, sessions, emulator):
    emulator.tokens_per_second = 30
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "hello")
        await wait_for(pilot, lambda: len(app.conversation.messages[-1].content.split()) >= 4)
        await pilot.press("ctrl+q")
        partial = app.conversation.messages[-1].content
    saved = sessions.load(app.conversation.id)
    assert saved.messages[-1].status == "interrupted"
    assert saved.messages[-1].content.startswith(partial[:10])
    assert len(saved.messages[-1].content) >= len(partial)


async def test_up_recalls_earlier_prompts(make_app):
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "first prompt")
        await wait_idle(pilot, app)
        await send(pilot, "second prompt")
        await wait_idle(pilot, app)
        prompt = app.query_one(PromptInput)
        prompt.focus()
        await pilot.press("up")
        assert prompt.text == "second prompt"
        await pilot.press("up")
        assert prompt.text == "first prompt"
        await pilot.press("down")
        assert prompt.text == "second prompt"
        await pilot.press("down")
        assert prompt.text == ""


async def test_ctrl_j_inserts_a_newline(make_app):
    app = make_app()
    async with app.run_test() as pilot:
        await pilot.press(*"one", "ctrl+j", *"two")
        assert app.query_one(PromptInput).text == "one\ntwo"
        assert not app.conversation.messages


async def test_list_shows_most_recent_first_and_opens_on_select(make_app):
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "older one")
        await wait_idle(pilot, app)
        older = app.conversation.id
        await pilot.pause(1.1)  # times are kept to the second: make "newer" really newer
        await pilot.press("ctrl+n")
        await send(pilot, "newer one")
        await wait_idle(pilot, app)
        listing = app.query_one(ConversationList)
        ids = [listing.get_option_at_index(i).id for i in range(listing.option_count)]
        assert ids[0] == app.conversation.id and older in ids
        listing.focus()
        listing.highlighted = ids.index(older)
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert app.conversation.id == older
        assert [t.message.content for t in app.query(UserTurn)] == ["older one"]


async def test_demo_mode_without_credentials(monkeypatch, isolated_environment):
    monkeypatch.setenv("TUI_CHAT_DEMO_TPS", "0")
    app = ChatApp(load_settings())
    async with app.run_test() as pilot:
        assert app.demo_mode
        assert app.query_one(TitleBar).has_class("-demo")
        assert app.query_one("#badge").display
        await send(pilot, "hello demo")
        await wait_idle(pilot, app, timeout=20)
        assert "Demo" in app.conversation.messages[-1].content
        assert app.conversation.messages[-1].status == "complete"
    state = State.load(load_settings().paths.state_file)
    assert state.open_conversation == app.conversation.id


async def test_a_long_reply_is_checkpointed_to_its_sidecar(make_app, sessions, emulator):
    emulator.tokens_per_second = 25
    emulator.add_fault(Fault("long_reply", tokens=200))
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "a long one please")
        sidecar = sessions.partial_path(app.conversation.id)
        await wait_for(pilot, sidecar.exists, timeout=10)
        data = tomllib.loads(sidecar.read_text())
        assert data["message"]["status"] == "streaming"
        checkpointed = data["message"]["content"]
        reply = app.conversation.messages[-1]
        await wait_for(pilot, lambda: len(reply.content) >= len(checkpointed))
        assert reply.content.startswith(checkpointed) and len(checkpointed) > 20
        # The conversation file holds the prompt but never the half reply.
        saved = tomllib.loads(sessions.path(app.conversation.id).read_text())
        assert [m["role"] for m in saved["messages"]] == ["user"]
        await pilot.press("escape")
        assert not sidecar.exists()


async def test_the_conversation_open_at_quit_opens_at_start_with_its_draft(make_app, sessions):
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "one")
        await wait_idle(pilot, app)
        await pilot.press("ctrl+n")
        await send(pilot, "two")
        await wait_idle(pilot, app)
        newest = app.conversation.id
        # Both may be saved in the same second: the listing's order cannot tell them apart.
        ids = [c.id for c in sessions.list().conversations]
        assert newest in ids and len(ids) == 2
        older = next(i for i in ids if i != newest)
        await app.open_conversation(older)
        await pilot.pause()
        app.query_one(PromptInput).load_text("half-typed")
        await pilot.pause()
        await pilot.press("ctrl+q")
    again = make_app()
    async with again.run_test() as pilot:
        await pilot.pause(0.1)
        assert again.conversation.id == older  # not the most recently updated
        assert again.query_one(PromptInput).text == "half-typed"
