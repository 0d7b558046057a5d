"""Compare mode: one prompt to two or three configurations, side by side or stacked; keep one,
the others become its alternatives, with the differences shown when flipping later."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from tui_chat.emulator import Fault
from tui_chat.ui.format import differing
from tui_chat.ui.screens.compare import CompareScreen
from tui_chat.ui.widgets.message_view import AssistantTurn

from .conftest import rendered_text, send, wait_for, wait_for_screen, wait_idle


async def open_compare(pilot, prompt: str, columns: list[str]) -> CompareScreen:
    app = pilot.app
    await pilot.press("f3")
    await wait_for_screen(pilot, CompareScreen, "#compare-prompt")
    screen = app.screen
    for index in range(3):
        screen.query_one(f"#config-{index}", Input).value = ([*columns, "", "", ""])[index]
    screen.query_one("#compare-prompt", Input).value = prompt
    screen.query_one("#compare-prompt").focus()
    await pilot.press("enter")
    await wait_for(pilot, lambda: len(screen.columns) == len(columns))
    await wait_for(pilot, lambda: all(c.done for c in screen.columns), timeout=20)
    return screen


@pytest.mark.parametrize(("width", "stacked"), [(140, False), (80, True)])
async def test_two_columns_then_keep_one(make_app, emulator, sessions, width, stacked):
    app = make_app()
    async with app.run_test(size=(width, 40)) as pilot:
        screen = await open_compare(
            pilot, "Describe a lighthouse", ["temperature=0.2", "temperature=0.9"]
        )
        assert screen.has_class("-stacked") is stacked
        bodies = [
            r.body
            for r in emulator.requests
            if r.operation != "ListFoundationModels" and "messages" in (r.body or {})
        ]
        assert sorted(b["temperature"] for b in bodies[-2:]) == [0.2, 0.9]
        texts = [c.message.content for c in screen.columns]
        assert all("lighthouse" in t for t in texts) and texts[0] != texts[1]
        head = rendered_text(screen.columns[1].query_one(".column-head"))
        assert "temperature 0.9" in head
        foot = rendered_text(screen.columns[0].query_one(".column-foot"))
        assert "out" in foot and "first token" in foot
        await pilot.press("2")
        await wait_for(pilot, lambda: not isinstance(app.screen, CompareScreen))
        reply = app.conversation.messages[-1]
        assert reply.content == texts[1]
        assert [r.content for r in reply.replies()] == texts
        assert reply.chosen_index() == 1
        assert differing(reply.replies()) == {"temperature"}
        turn = app.query(AssistantTurn).last()
        assert "reply 2/2" in rendered_text(turn.query_one(".turn-label"))
        # Flipping later shows the other reply with the same highlighted difference.
        app.query_one("#prompt").focus()
        await pilot.press("alt+left")
        await pilot.pause()
        assert app.conversation.messages[-1].content == texts[0]
        footer = app.query(AssistantTurn).last().query_one(".reply-footer").content
        assert any(
            "reverse" in str(span.style)
            and "temperature 0.2" in footer.plain[span.start : span.end]
            for span in footer.spans
        )
    saved = sessions.load(app.conversation.id)
    assert [m.role for m in saved.messages] == ["user", "assistant"]
    assert saved.messages[-1].alternative_count() == 2


async def test_three_columns_with_two_models(make_app, emulator):
    app = make_app()
    async with app.run_test(size=(150, 40)) as pilot:
        screen = await open_compare(
            pilot,
            "Hello",
            ["temperature=0.2", "model=meta.llama3-1-70b-instruct-v1:0", "top_k=5 max_tokens=20"],
        )
        assert len(screen.columns) == 3
        assert screen.columns[2].message.stop_reason == "max_tokens"
        assert screen.columns[1].message.params["model"] == "meta.llama3-1-70b-instruct-v1:0"
        assert "model" in differing([c.message for c in screen.columns])
        await pilot.press("3")
        await wait_for(pilot, lambda: not isinstance(app.screen, CompareScreen))
        reply = app.conversation.messages[-1]
        assert reply.alternative_count() == 3 and reply.chosen_index() == 2


async def test_a_bad_column_setting_is_named_and_nothing_is_sent(make_app, emulator):
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("f3")
        await wait_for_screen(pilot, CompareScreen, "#compare-prompt")
        screen = app.screen
        screen.query_one("#config-1", Input).value = "temperature=7"
        screen.query_one("#compare-prompt", Input).value = "hi"
        screen.query_one("#compare-prompt").focus()
        await pilot.press("enter")
        await pilot.pause()
        problem = rendered_text(screen.query_one("#problem"))
        assert "column B" in problem and "from 0 to 1" in problem
        assert not [r for r in emulator.requests if "messages" in (r.body or {})]
        assert app.conversation.messages == []
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, CompareScreen))


async def test_a_failing_column_and_leaving_keeps_what_arrived(make_app, emulator, sessions):
    emulator.add_fault(Fault("throttling", times=1))
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await send(pilot, "first turn")
        await wait_idle(pilot, app)
        screen = await open_compare(pilot, "again", ["", "temperature=0.5"])
        failed = [c for c in screen.columns if c.message.status == "error"]
        assert len(failed) <= 1  # the fault hits one request (whichever came first)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, CompareScreen))
        kept = app.conversation.messages[-1]
        assert kept.role == "assistant" and kept.content
    saved = sessions.load(app.conversation.id)
    assert saved.messages[-2].content == "again"
