"""What a newcomer meets in the first hour: keys that go somewhere, the list, the footer and the
palette that show what applies, the title that stays readable, the demo notice once a day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from textual import events

from tui_chat.config import State, load_settings
from tui_chat.conversation import Conversation, Message
from tui_chat.emulator import Fault
from tui_chat.params import Params
from tui_chat.ui.app import ChatApp, TitleBar
from tui_chat.ui.widgets.conversation_list import ConversationList
from tui_chat.ui.widgets.message_view import AssistantTurn
from tui_chat.ui.widgets.prompt import PromptInput

from .conftest import MODEL, rendered_text, send, wait_for, wait_idle


def footer_keys(app) -> set[str]:
    return {
        b.binding.key for b in app.screen.active_bindings.values() if b.enabled and b.binding.show
    }


async def test_a_key_typed_on_a_focused_message_goes_to_the_prompt(make_app):
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "first")
        await wait_idle(pilot, app)
        app.query(AssistantTurn).last().focus()
        await pilot.press("w", "h", "a", "t")
        assert app.focused is app.query_one(PromptInput)
        assert app.query_one(PromptInput).text == "what"
        # Keys the message binds still do their job there (y copies it).
        app.query(AssistantTurn).last().focus()
        await pilot.press("y")
        await pilot.pause()
        assert any("Copied the message" in str(n.message) for n in app._notifications)
        # And from the list too.
        app.query_one(ConversationList).focus()
        await pilot.press("s")
        assert app.query_one(PromptInput).text == "whats"
        # Text Textual does not call printable (a zero-width joiner, a no-break space) too.
        app.query_one(ConversationList).focus()
        for key, character in (("zero_width_joiner", "\u200d"), ("no_break_space", "\xa0")):
            app.post_message(events.Key(key, character))
            await pilot.pause()
        assert app.query_one(PromptInput).text == "whats\u200d\xa0"


async def test_the_lists_cursor_survives_a_refresh_from_another_stream(make_app, emulator):
    hold = Fault("stall", after_tokens=3, seconds=60)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "one")
        await wait_idle(pilot, app)
        await pilot.press("ctrl+n")
        await send(pilot, "two")
        await wait_idle(pilot, app)
        emulator.add_fault(hold)
        await send(pilot, "three")  # streams in "two"'s conversation
        await wait_for(pilot, lambda: bool(app.conversation.messages[-1].content))
        listing = app.query_one(ConversationList)
        listing.focus()
        await pilot.press("down")
        mine = listing.highlighted_option.id
        hold.release()  # the stream ends: the list refreshes
        await wait_idle(pilot, app)
        assert listing.highlighted_option is not None
        assert listing.highlighted_option.id == mine


async def test_an_empty_list_says_so(make_app):
    app = make_app()
    async with app.run_test():
        listing = app.query_one(ConversationList)
        assert listing.option_count == 1
        assert "No conversations yet" in str(listing.get_option_at_index(0).prompt)


async def test_continue_shows_only_where_it_applies(make_app, emulator):
    app = make_app()
    async with app.run_test(size=(140, 30)) as pilot:
        await send(pilot, "hello")
        await wait_idle(pilot, app)
        assert "ctrl+t" not in footer_keys(app)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Continue the reply" not in titles and "Cancel reply" not in titles
        app.query_one("#max_tokens_to_sample").value = "10"
        await pilot.pause()
        await send(pilot, "again")
        await wait_idle(pilot, app)
        assert app.conversation.messages[-1].stop_reason == "max_tokens"
        assert "ctrl+t" in footer_keys(app)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Continue the reply" in titles
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert "ctrl+t" not in footer_keys(app)


async def test_the_title_wins_over_the_usage_and_the_region(make_app, emulator):
    app = make_app()
    title = "A long conversation title that people want to read in full"
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, title)
        await wait_idle(pilot, app)
        bar = app.query_one(TitleBar)
        assert bar.query_one("#title").region.width >= 32
        assert rendered_text(bar.query_one("#title")).startswith("tui-chat · A long conv")
        await pilot.resize_terminal(160, 30)
        await pilot.pause()
        assert "out" in rendered_text(bar.query_one("#usage"))
        assert "us-east-1" in rendered_text(bar.query_one("#status"))


async def test_the_demo_notice_shows_once_a_day(isolated_environment):
    settings = load_settings(demo=False)
    seen = []
    for _ in range(2):
        app = ChatApp(settings)
        app.demo_mode = True
        async with app.run_test() as pilot:
            await pilot.pause(0.2)
            seen.append(any("offline demo" in str(n.message) for n in app._notifications))
            await pilot.press("ctrl+q")
    assert seen == [True, False]
    today = datetime.now(UTC).date().isoformat()
    assert State.load(settings.paths.state_file).demo_notice == today


async def test_a_new_conversation_keeps_the_open_ones_parameters(make_app, sessions):
    conversation = Conversation.new(Params(model=MODEL, temperature=0.3))
    when = datetime(2026, 3, 1, tzinfo=UTC)
    conversation.messages = [
        Message(role="user", content="hi", created=when),
        Message(role="assistant", content="hello", created=when + timedelta(seconds=1)),
    ]
    sessions.save(conversation)
    app = make_app()
    async with app.run_test() as pilot:
        await app.open_conversation(conversation.id)
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.conversation.id != conversation.id
        assert app.conversation.params.temperature == 0.3


async def test_editing_an_earlier_prompt_resends_it_in_a_copy(make_app, sessions, emulator):
    from tui_chat.ui.widgets.message_view import UserTurn

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "first question")
        await wait_idle(pilot, app)
        await send(pilot, "second question")
        await wait_idle(pilot, app)
        original = app.conversation
        before = [m.content for m in original.messages]
        app.query(UserTurn).first().focus()
        await pilot.press("e")
        prompt = app.query_one(PromptInput)
        assert prompt.text == "first question" and app.focused is prompt
        prompt.load_text("first question, edited")
        await pilot.press("enter")
        await wait_idle(pilot, app)
        fork = app.conversation
        assert fork.id != original.id
        assert fork.messages[0].content == "first question, edited"
        assert len(fork.messages) == 2
        assert fork.title.endswith("(edited)")
        # The version before the edit is never lost.
        assert [m.content for m in sessions.load(original.id).messages] == before
        assert emulator.requests[-1].body["messages"][-1]["content"][0]["text"] == (
            "first question, edited"
        )


async def test_deleting_one_message_asks_and_saves(make_app, sessions):
    from tui_chat.ui.screens.dialogs import Confirm
    from tui_chat.ui.widgets.message_view import UserTurn

    from .conftest import wait_for_screen

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "keep me")
        await wait_idle(pilot, app)
        await send(pilot, "delete me")
        await wait_idle(pilot, app)
        list(app.query(UserTurn))[1].focus()
        await pilot.press("delete")
        await wait_for_screen(pilot, Confirm)
        await pilot.press("y")
        await pilot.pause(0.2)
        contents = [m.content for m in sessions.load(app.conversation.id).messages]
        assert "delete me" not in contents and "keep me" in contents
        assert len(contents) == 3


async def test_the_context_meter_counts_against_the_models_window(
    make_app, emulator, isolated_environment
):
    config = isolated_environment / "config" / "tui-chat" / "config.toml"
    config.write_text(config.read_text().replace(MODEL, "meta.llama3-1-70b-instruct-v1:0"))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        prompt = app.query_one(PromptInput)
        assert str(prompt.border_subtitle).startswith("context ≈0 / 128k")
        prompt.load_text("x" * 4000)
        await pilot.pause()
        assert str(prompt.border_subtitle).startswith("context ≈1k / 128k")
        prompt.load_text("x" * 420_000)  # ~105k tokens of a 128k window
        await pilot.pause()
        assert "near the limit" in str(prompt.border_subtitle)
        assert prompt.has_class("-context-near")
        prompt.load_text("x" * 600_000)
        await pilot.pause()
        assert "over the model's limit" in str(prompt.border_subtitle)


async def test_a_refused_value_does_not_move_the_sidebar(make_app):
    app = make_app()
    async with app.run_test(size=(130, 50)) as pilot:
        below = app.query_one("#field-top_p")
        before = below.region.y
        app.query_one("#temperature").value = "1.7"
        await pilot.pause()
        assert app.query_one("#field-temperature").has_class("-invalid")
        assert "got '1.7'" in rendered_text(app.query_one("#problem-temperature"))
        assert below.region.y == before
        app.query_one("#temperature").value = "0.5"
        await pilot.pause()
        assert below.region.y == before


async def test_the_demo_shows_no_cost_and_no_account_models(isolated_environment):
    app = ChatApp(load_settings(demo=True))
    async with app.run_test(size=(140, 40)) as pilot:
        await send(pilot, "hello")
        await wait_idle(pilot, app)
        await wait_for(pilot, lambda: app.account.checked, timeout=20)
        usage = rendered_text(app.query_one(TitleBar).query_one("#usage"))
        assert "out" in usage and "$" not in usage
        assert app.account.models is None  # the demo's emulator is not your account
        assert "account" not in rendered_text(app.query_one("#hint-model"))


async def test_compare_at_80x24_keeps_every_keep_button_on_screen(make_app, emulator):
    from textual.widgets import Button, Input

    from tui_chat.ui.screens.compare import CompareScreen

    from .conftest import wait_for_screen

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f3")
        await wait_for_screen(pilot, CompareScreen, "#compare-prompt")
        screen = app.screen
        screen.query_one("#config-2", Input).value = "temperature=0.5"
        screen.query_one("#compare-prompt", Input).value = "Name three uses for a lighthouse"
        screen.query_one("#compare-prompt").focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.columns and all(c.done for c in screen.columns))
        await pilot.pause(0.2)
        assert not screen.query_one("#setup").display
        for button in screen.query(Button):
            region = button.region
            assert region.height >= 1 and region.bottom <= 24 - 1, button.id
