"""Conversation management, help, small terminals and long chats."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta

from textual.widgets import Input

from tui_chat.conversation import Conversation, Message
from tui_chat.params import Params
from tui_chat.ui import commands
from tui_chat.ui.app import TitleBar
from tui_chat.ui.screens.dialogs import AskText, Confirm
from tui_chat.ui.screens.help import HelpScreen
from tui_chat.ui.widgets.conversation_list import MORE_ID, PAGE, ConversationList
from tui_chat.ui.widgets.message_view import AssistantTurn, MessageView, UserTurn

from .conftest import MODEL, rendered_text, send, wait_for, wait_for_screen, wait_idle


def visible_ids(app) -> list[str]:
    listing = app.query_one(ConversationList)
    return [listing.get_option_at_index(i).id for i in range(listing.option_count)]


def seed(sessions, titles: list[str], messages: int = 2) -> list[str]:
    ids = []
    start = datetime(2026, 3, 1, tzinfo=UTC)
    for n, title in enumerate(titles):
        conversation = Conversation.new(Params(model=MODEL))
        conversation.id = f"20260301T0000{n:02d}Z-{n:06x}"
        for k in range(messages):
            role = "user" if k % 2 == 0 else "assistant"
            text = title if k == 0 else f"reply {k} to {title}"
            conversation.messages.append(
                Message(role=role, content=text, created=start + timedelta(seconds=k))
            )
        conversation.refresh_title()
        conversation.created = conversation.updated = start + timedelta(minutes=n)
        sessions.save(conversation)
        ids.append(conversation.id)
    return ids


async def test_rename_makes_the_title_custom(make_app, sessions):
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "what about blue")
        await wait_idle(pilot, app)
        await pilot.press("f2")
        await wait_for_screen(pilot, AskText, "Input")
        app.screen.query_one(Input).value = "Colour chat"
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.conversation.title == "Colour chat")
        assert "Colour chat" in rendered_text(app.query_one(TitleBar).query_one("#title"))
        option = app.query_one(ConversationList).get_option(app.conversation.id)
        assert "Colour chat" in option.prompt.plain
        await send(pilot, "and green?")
        await wait_idle(pilot, app)
    data = tomllib.loads(sessions.path(app.conversation.id).read_text())
    assert data["title"] == "Colour chat" and data["title_custom"] is True


async def test_delete_asks_first_and_removes_the_file(make_app, sessions):
    ids = seed(sessions, ["keep me", "delete me"])
    app = make_app()
    async with app.run_test() as pilot:
        assert app.conversation.id == ids[1]
        app.action_delete()
        await wait_for_screen(pilot, Confirm, "Button")
        await pilot.press("n")
        await pilot.pause()
        assert sessions.path(ids[1]).exists()
        app.action_delete()
        await wait_for_screen(pilot, Confirm, "Button")
        await pilot.press("y")
        await wait_for(pilot, lambda: app.conversation.id == ids[0])
        assert not sessions.path(ids[1]).exists()
        assert visible_ids(app) == [ids[0]]


async def test_delete_key_in_the_list(make_app, sessions):
    ids = seed(sessions, ["one", "two", "three"])
    app = make_app()
    async with app.run_test() as pilot:
        listing = app.query_one(ConversationList)
        listing.focus()
        listing.highlighted = visible_ids(app).index(ids[0])
        await pilot.press("delete")
        await wait_for_screen(pilot, Confirm, "Button")
        assert app.conversation.id == ids[0]
        await pilot.press("y")
        await wait_for(pilot, lambda: not sessions.path(ids[0]).exists())
        assert sorted(visible_ids(app)) == sorted(ids[1:])


async def test_filter_by_typing(make_app, sessions):
    ids = seed(sessions, ["apples and pears", "bananas", "Pear tart"])
    app = make_app()
    async with app.run_test() as pilot:
        await pilot.press("ctrl+f")
        assert app.focused is app.query_one("#filter")
        await pilot.press(*"pear")
        await pilot.pause()
        assert sorted(visible_ids(app)) == sorted([ids[0], ids[2]])
        first = visible_ids(app)[0]
        await pilot.press("enter")  # opens the first match
        await pilot.pause()
        assert app.conversation.id == first
        assert app.focused is app.query_one("#prompt")
        assert app.query_one(ConversationList).highlighted_option.id == first
        await pilot.press("escape")
        await pilot.pause()
        assert sorted(visible_ids(app)) == sorted(ids)
        assert app.focused is app.query_one("#prompt")


async def test_help_lists_every_key(make_app):
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = "".join(rendered_text(s) for s in app.screen.query("Static"))
        lines = [" ".join(line.split()) for line in text.splitlines()]
        for keys, does in commands.help_lines():  # the table of commands, ui/commands.py
            assert any(line.startswith(f"{keys} {does[:20]}") for line in lines), keys
        assert "set-clipboard" in text
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


async def test_palette_offers_the_actions(make_app):
    app = make_app()
    async with app.run_test() as pilot:
        titles = [command.title for command in app.get_system_commands(app.screen)]
        for title in (
            "New conversation",
            "Retry / regenerate",
            "Toggle parameter sidebar",
            "Filter conversations",
            "Copy last reply",
            "Help",
            "Rename conversation",
            "Delete conversation",
        ):
            assert title in titles
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"rename conv")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause(0.2)
        # A new conversation cannot be renamed yet; the palette ran the action and said so.
        assert any("Send a message first" in str(n.message) for n in app._notifications)


async def test_80x24_keyboard_only(make_app, emulator):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        sidebar = app.query_one("#sidebar")
        assert not sidebar.display  # no room beside the list and 50 columns of messages
        assert app.query_one("#list-pane").display  # the list shows from 74 columns
        await pilot.press("ctrl+o")
        assert sidebar.display
        assert not app.query_one("#list-pane").display  # made room for the sidebar
        assert app.query_one("#main").region.width >= 50
        assert app.focused is app.query_one("#temperature")
        await pilot.press("ctrl+a", "ctrl+k", *"0.4")
        # Tab reaches every field in turn, and each can be edited.
        order = []
        for _ in range(4):
            await pilot.press("tab")
            order.append(app.focused.id)
        assert order == ["top_p", "top_k", "stop_sequences", "system"]
        await pilot.press("B", "e", "space", *"brief")
        for _ in range(8):
            await pilot.press("shift+tab")
            if app.focused.id == "model":
                break
        assert app.focused.id == "model"
        assert app.focused.region.y >= 0 and app.focused.region.bottom <= 24
        await pilot.press("ctrl+o")
        assert not sidebar.display
        assert app.query_one("#list-pane").display  # back when the sidebar goes
        assert app.focused is app.query_one("#prompt")
        await pilot.press("ctrl+l")
        assert not app.query_one("#list-pane").display
        await pilot.press(*"hi", "enter")
        await wait_idle(pilot, app)
        body = emulator.requests[-1].body
        assert body["temperature"] == 0.4
        assert body["system"] == "Be brief"


async def test_under_70_columns_the_list_starts_hidden(make_app):
    app = make_app()
    async with app.run_test(size=(64, 24)) as pilot:
        assert not app.query_one("#list-pane").display
        await pilot.press("ctrl+l")
        assert app.query_one("#list-pane").display


async def test_a_2000_message_conversation_opens_quickly(make_app, sessions):
    conversation = Conversation.new(Params(model=MODEL))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(2000):
        role = "user" if n % 2 == 0 else "assistant"
        text = f"message {n}: " + ("a **bold** point and `code`\n\n- item\n- item\n" * 2)
        conversation.messages.append(
            Message(role=role, content=text, created=start + timedelta(seconds=n))
        )
    conversation.refresh_title()
    sessions.save(conversation)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        view = app.query_one(MessageView)
        turns = list(view.query(UserTurn)) + list(view.query(AssistantTurn))
        assert 0 < len(turns) < 100  # only the last turns are mounted
        assert "message 1999" in rendered_text(turns[-1].body.query(".chunk").first())
        before = len(turns)
        view.scroll_home(animate=False)
        await wait_for(pilot, lambda: len(view.query(UserTurn)) * 2 > before)
        assert len(view.query(UserTurn)) + len(view.query(AssistantTurn)) > before


async def test_thousands_of_conversations_list_and_filter(make_app, sessions):
    directory = sessions.directory
    directory.mkdir(parents=True, exist_ok=True)
    template = (
        'schema = 1\ntitle = "{title}"\ncreated = 2026-01-01T00:00:00Z\n'
        'updated = 2026-01-{day:02d}T00:00:00Z\n\n[[messages]]\nrole = "user"\n'
        'content = "{title}"\ncreated = 2026-01-01T00:00:00Z\n'
    )
    for n in range(3000):
        path = directory / f"20260101T000000Z-{n:06x}.toml"
        path.write_text(template.format(title=f"topic {n}", day=1 + n % 28))
    app = make_app()
    async with app.run_test() as pilot:
        listing = app.query_one(ConversationList)
        # The most recent PAGE rows, then one that says how many more there are.
        assert listing.option_count == PAGE + 1
        assert listing.entries.keys() >= {f"20260101T000000Z-{n:06x}" for n in range(3000)}
        more = listing.get_option_at_index(PAGE)
        assert more.id == MORE_ID and f"{3000 - PAGE:,} more" in str(more.prompt)
        listing.focus()
        listing.highlighted = PAGE
        await pilot.press("enter")
        assert listing.option_count == 2 * PAGE + 1
        assert listing.highlighted == PAGE  # on the first of the rows just added
        # The filter searches all 3,000, not only the rows shown.
        await pilot.press("ctrl+f", *"topic", "space", *"29")
        await pilot.pause()
        # 111 match (29, 290-299, 2900-2999): a page of them, then the rest on request.
        assert len(visible_ids(app)) == PAGE + 1
        assert f"{111 - PAGE} more" in str(listing.get_option_at_index(PAGE).prompt)
        listing.focus()
        listing.highlighted = PAGE
        await pilot.press("enter")
        shown = visible_ids(app)
        assert len(shown) == 111
        assert {listing.entries[i].title for i in shown} == {
            f"topic {n}" for n in (29, *range(290, 300), *range(2900, 3000))
        }
