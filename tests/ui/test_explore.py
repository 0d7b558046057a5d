"""Parameter exploration: alternatives, continue, show request, presets, usage and cost,
models from the account, and compare mode."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from tui_chat.ui.widgets.message_view import AssistantTurn

from .conftest import rendered_text, send, wait_for, wait_idle


async def set_field(pilot, selector: str, value: str) -> None:
    pilot.app.query_one(selector, Input).value = value
    await pilot.pause()


async def test_alternatives_create_flip_continue_and_reload(make_app, emulator, sessions):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "Describe the sea")
        await wait_idle(pilot, app)
        first = app.conversation.messages[-1].content
        await set_field(pilot, "#temperature", "0.2")
        await pilot.press("ctrl+r")
        await wait_idle(pilot, app)
        await set_field(pilot, "#temperature", "0.9")
        await pilot.press("ctrl+r")
        await wait_idle(pilot, app)
        reply = app.conversation.messages[-1]
        assert len(app.conversation.messages) == 2
        assert reply.alternative_count() == 3
        turn = app.query(AssistantTurn).last()
        assert "reply 3/3" in rendered_text(turn.query_one(".turn-label"))
        footer = rendered_text(turn.query_one(".reply-footer"))
        assert "temperature 0.9" in footer
        # Flip back to the first reply: it shows its own parameters (none changed then).
        app.query_one("#prompt").focus()
        await pilot.press("alt+left", "alt+left")
        await pilot.pause()
        shown = app.conversation.messages[-1]
        assert shown.content == first
        assert shown.chosen_index() == 0
        turn = app.query(AssistantTurn).last()
        assert "reply 1/3" in rendered_text(turn.query_one(".turn-label"))
        assert "temperature" not in rendered_text(turn.query_one(".reply-footer"))
        # The conversation continues from the reply shown.
        await send(pilot, "And the sky?")
        await wait_idle(pilot, app)
        history = emulator.requests[-1].body["messages"]
        assert history[1]["content"][0]["text"] == first.rstrip()
        conversation_id = app.conversation.id
    saved = sessions.load(conversation_id)
    assert saved.messages[1].content == first
    assert saved.messages[1].alternative_count() == 3
    assert [r.params.get("temperature") for r in saved.messages[1].replies()] == [None, 0.2, 0.9]
    again = make_app()
    async with again.run_test(size=(120, 40)) as pilot:
        await again.open_conversation(conversation_id)
        turns = list(again.query(AssistantTurn))
        assert "reply 1/3" in rendered_text(turns[0].query_one(".turn-label"))
        turns[0].focus()
        await pilot.press("]")
        await pilot.pause()
        assert again.conversation.messages[1].chosen_index() == 1
        assert "temperature 0.2" in rendered_text(
            again.query(AssistantTurn).first().query_one(".reply-footer")
        )


async def test_continue_a_reply_cut_at_max_tokens(make_app, emulator, sessions):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await set_field(pilot, "#max_tokens_to_sample", "12")
        await send(pilot, "Tell me about rivers")
        await wait_idle(pilot, app)
        reply = app.conversation.messages[-1]
        assert reply.stop_reason == "max_tokens"
        before = reply.content
        assert "hit max tokens" in rendered_text(
            app.query(AssistantTurn).last().query_one(".reply-footer")
        )
        await set_field(pilot, "#max_tokens_to_sample", "1024")
        app.query_one("#prompt").focus()
        await pilot.press("ctrl+t")
        await wait_idle(pilot, app)
        continued = app.conversation.messages[-1]
        assert continued is reply and len(app.conversation.messages) == 2
        assert continued.content.startswith(before.rstrip())
        assert len(continued.content) > len(before)
        assert continued.stop_reason == "end_turn"
        assert continued.usage["output_tokens"] > 12
        sent = emulator.requests[-1].body["messages"]
        assert sent[-1]["role"] == "assistant"
        assert sent[-1]["content"][0]["text"] == before.rstrip()
        assert len(app.query(AssistantTurn)) == 1
    saved = sessions.load(app.conversation.id)
    assert saved.messages[-1].content == continued.content


async def test_continue_only_applies_after_max_tokens(make_app, emulator):
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "hello")
        await wait_idle(pilot, app)
        assert app.check_action("continue", ()) is False
        await app.run_action("continue")
        assert len(emulator.requests) == 1


async def test_show_request_has_the_exact_body_and_working_boto3_code(
    make_app, emulator, isolated_environment
):
    import json
    import subprocess
    import sys

    from tui_chat.ui.screens.request import RequestScreen

    from .conftest import wait_for_screen

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await set_field(pilot, "#temperature", "0.3")
        await send(pilot, "Say something")
        await wait_idle(pilot, app)
        app.action_show_request()
        await wait_for_screen(pilot, RequestScreen, "TextArea")
        screen = app.screen
        assert json.loads(screen.json) == emulator.requests[-1].body
        assert "AKID" not in screen.python and "secret" not in screen.python
        await pilot.press("j")
        assert json.loads(app.clipboard) == emulator.requests[-1].body
        await pilot.press("p")
        code = app.clipboard
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(isolated_environment),
        "AWS_ACCESS_KEY_ID": "AKIDSNIPPET",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": emulator.url,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "Say something" in result.stdout
    assert emulator.requests[-1].body == emulator.requests[-2].body


async def test_usage_totals_and_cost_in_the_title_bar(make_app, isolated_environment):
    from tui_chat.ui.app import TitleBar
    from tui_chat.ui.format import conversation_usage

    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await send(pilot, "one")
        await wait_idle(pilot, app)
        await pilot.press("ctrl+r")  # the alternative's tokens count too
        await wait_idle(pilot, app)
        replies = app.conversation.messages[-1].replies()
        tokens_out = sum(r.usage["output_tokens"] for r in replies)
        tokens_in = sum(r.usage["input_tokens"] for r in replies)
        totals = conversation_usage(app.conversation.messages)
        assert (totals.tokens_in, totals.tokens_out) == (tokens_in, tokens_out)
        # Claude Haiku 4.5: $1 in and $5 out per million tokens (catalog estimate).
        assert totals.cost == pytest.approx((tokens_in * 1.0 + tokens_out * 5.0) / 1e6)
        shown = rendered_text(app.query_one(TitleBar).query_one("#usage"))
        assert f"{tokens_out} out" in shown and "est." in shown
    config = isolated_environment / "config" / "tui-chat" / "config.toml"
    config.write_text(
        config.read_text()
        + '\n[prices."anthropic.claude-haiku-4-5-20251001-v1:0"]\ninput = 1000.0\noutput = 0\n'
    )
    again = make_app()
    async with again.run_test(size=(140, 40)):
        await again.open_conversation(app.conversation.id)
        cost = conversation_usage(again.conversation.messages, again.settings.prices).cost
        assert cost == pytest.approx(tokens_in * 1000.0 / 1e6)


async def test_presets_from_the_palette(make_app, emulator):
    from tui_chat.ui.screens.dialogs import AskText

    from .conftest import wait_for_screen

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await set_field(pilot, "#temperature", "0.15")
        await set_field(pilot, "#top_k", "12")
        app.action_save_preset()
        await wait_for_screen(pilot, AskText, "Input")
        app.screen.query_one(Input).value = "careful"
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert app.settings.presets["careful"]["temperature"] == 0.15
        app.query_one("#reset").press()
        await pilot.pause()
        assert app.conversation.params.temperature == 1.0
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Apply preset: careful" in titles
        app.tools.apply_preset("careful")
        assert app.query_one("#temperature", Input).value == "0.15"
        await send(pilot, "hello")
        await wait_idle(pilot, app)
        body = emulator.requests[-1].body
        assert body["temperature"] == 0.15 and body["top_k"] == 12


def forget_model_cache(home) -> None:
    for path in home.glob("cache/tui-chat/models-*.json"):
        path.unlink()


async def test_models_from_the_account_are_offered_and_cached(
    make_app, emulator, isolated_environment
):
    forget_model_cache(isolated_environment)
    from tui_chat.emulator import Fault
    from tui_chat.ui.screens.dialogs import ModelPicker

    from .conftest import wait_for, wait_for_screen

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.account.models is not None)
        ids = {m.model_id: m for m in app.account.models}
        assert ids["us.anthropic.claude-sonnet-4-5-20250929-v1:0"].streams_text
        assert not ids["amazon.titan-embed-text-v2:0"].streams_text
        assert not ids["anthropic.claude-sonnet-4-5-20250929-v1:0"].streams_text  # profile only
        suggester = app.query_one("#model", Input).suggester
        suggestion = await suggester.get_suggestion("us.anthropic.claude-sonnet-4-5")
        assert suggestion == "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
        hint = rendered_text(app.query_one("#hint-model"))
        assert "streams text" in hint
        await set_field(pilot, "#model", "amazon.titan-embed-text-v2:0")
        assert "outputs embedding" in rendered_text(app.query_one("#hint-model"))
        app.action_choose_model()
        await wait_for_screen(pilot, ModelPicker, "OptionList")
        await pilot.press("enter")  # the first offered model streams text
        await pilot.pause()
        assert ids[app.conversation.params.model].streams_text
    operations = [r.operation for r in emulator.requests]
    assert operations.count("ListFoundationModels") == 1
    # A second start within a day uses the cache, even if Bedrock cannot be asked.
    emulator.add_fault(Fault("access_denied", operation="ListFoundationModels", times=None))
    again = make_app()
    async with again.run_test() as pilot:
        await wait_for(pilot, lambda: again.account.models is not None)
    assert [r.operation for r in emulator.requests].count("ListFoundationModels") == 1


async def test_offline_the_catalog_stands_in(make_app, emulator, isolated_environment):
    forget_model_cache(isolated_environment)
    from tui_chat.emulator import Fault
    from tui_chat.ui.screens.dialogs import ModelPicker

    from .conftest import wait_for_screen

    emulator.add_fault(Fault("access_denied", operation="ListFoundationModels", times=None))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(
            pilot, lambda: any(w.name == "_warm_up" and w.is_finished for w in app.workers) or True
        )
        await pilot.pause(0.5)
        assert app.account.models is None
        app.action_choose_model()
        await wait_for_screen(pilot, ModelPicker, "OptionList")
        assert "catalog" in rendered_text(app.screen.query_one(".question"))
