"""Today's Claude models in the app: the sidebar follows the model, thinking streams and is kept,
Bedrock's refusals are learned, retired models are replaced, and the prompt cache pays off."""

from __future__ import annotations

import json
import tomllib
from dataclasses import replace

from textual.widgets import Checkbox, Input, Select

from tui_chat.config import load_settings
from tui_chat.learned import FILE_NAME
from tui_chat.ui.app import TitleBar
from tui_chat.ui.format import conversation_usage
from tui_chat.ui.widgets.message_view import AssistantTurn
from tui_chat.ui.widgets.sidebar import ParamSidebar

from .conftest import rendered_text, send, wait_for, wait_idle

SONNET_55 = "us.anthropic.claude-sonnet-5-5"
SONNET_4 = "us.anthropic.claude-sonnet-4-20250514-v1:0"
OPUS_47 = "us.anthropic.claude-opus-4-7"
OPUS_46 = "us.anthropic.claude-opus-4-6-v1"
STRICT = "emulator.strict-sampler-v1:0"
RETIRED = "us.anthropic.claude-3-7-sonnet-20250219-v1:0"


def use_model(isolated_environment, model: str, extra: str = "") -> None:
    config = isolated_environment / "config" / "tui-chat" / "config.toml"
    text = config.read_text().replace("[defaults]\n", "")
    lines = [line for line in text.splitlines() if not line.startswith("model =")]
    config.write_text(f'[defaults]\nmodel = "{model}"\n{extra}' + "\n".join(lines) + "\n")


def footer(app) -> str:
    return rendered_text(app.query(AssistantTurn).last().query_one(".reply-footer"))


async def set_field(pilot, selector: str, text: str) -> None:
    field = pilot.app.query_one(selector, Input)
    field.value = text
    await pilot.pause()


async def test_a_current_model_sends_no_sampling_and_explains_why(
    make_app, emulator, isolated_environment
):
    use_model(isolated_environment, SONNET_55, "temperature = 0.3\n")
    app = make_app()
    async with app.run_test(size=(130, 50)) as pilot:
        for key in ("temperature", "top_p", "top_k"):
            assert app.query_one(f"#{key}", Input).disabled
        note = rendered_text(app.query_one("#sampling-note"))
        assert "Claude Sonnet 5.5 sets its own sampling; tune effort" in note
        effort = app.query_one("#effort", Select)
        assert app.query_one("#field-effort").display
        effort.value = "low"
        await pilot.pause()
        thinking = app.query_one("#thinking", Input)
        assert thinking.disabled and thinking.value == "adaptive"
        assert "always on" in rendered_text(app.query_one("#label-thinking"))
        await send(pilot, "hello")
        await wait_idle(pilot, app)
        body = emulator.requests[-1].body
        assert "temperature" not in body and "top_p" not in body
        assert body["output_config"] == {"effort": "low"}
        assert body["thinking"] == {"type": "adaptive", "display": "summarized"}
        reply = app.conversation.messages[-1]
        assert reply.omitted == ["temperature"]
        assert "left out temperature: Claude Sonnet 5.5 sets its own sampling" in footer(app)
        assert "effort low" in footer(app)


async def test_adaptive_thinking_streams_collapses_expands_and_is_kept(
    make_app, emulator, sessions, isolated_environment
):
    use_model(isolated_environment, OPUS_47)
    app = make_app()
    async with app.run_test(size=(130, 50)) as pilot:
        assert app.query_one("#field-thinking").display
        await set_field(pilot, "#thinking", "adaptive")
        await send(pilot, "Why is the sky blue?")
        await wait_idle(pilot, app)
        reply = app.conversation.messages[-1]
        assert reply.thinking and reply.thinking[0]["signature"]
        assert reply.thinking_text and reply.thinking_text not in reply.content
        turn = app.query(AssistantTurn).last()
        collapsed = rendered_text(turn.thinking)
        assert collapsed.startswith("▸ thinking") and "tokens" in collapsed
        assert reply.thinking_text[:40] not in collapsed
        await pilot.press("ctrl+g")
        assert reply.thinking_text[:40] in rendered_text(turn.thinking)
        await pilot.press("ctrl+g")
        assert reply.thinking_text[:40] not in rendered_text(turn.thinking)
    data = tomllib.loads(sessions.path(app.conversation.id).read_text())
    saved = data["messages"][-1]
    assert saved["thinking"][0]["type"] == "thinking"
    assert saved["thinking"][0]["text"] == reply.thinking_text
    assert saved["params"]["thinking"] == "adaptive"
    again = make_app()
    async with again.run_test(size=(130, 50)) as pilot:
        await again.open_conversation(app.conversation.id)
        await pilot.pause()
        turn = again.query(AssistantTurn).last()
        assert turn.thinking.display
        assert "thinking" in rendered_text(turn.thinking)


async def test_a_budget_model_refuses_an_invalid_budget_before_sending(
    make_app, emulator, isolated_environment
):
    use_model(isolated_environment, SONNET_4)
    app = make_app()
    async with app.run_test(size=(130, 50)) as pilot:
        await set_field(pilot, "#thinking", "9000")
        assert app.query_one("#field-thinking").has_class("-invalid")
        problem = rendered_text(app.query_one("#problem-thinking"))
        assert "a budget from 1,024 to 8,191" in problem
        await send(pilot, "hello")
        await pilot.pause(0.2)
        assert emulator.requests == [] and app.conversation.messages == []
        await set_field(pilot, "#thinking", "2048")
        assert not app.query_one("#field-thinking").has_class("-invalid")
        app.query_one("#prompt").focus()
        await pilot.press("enter")
        await wait_idle(pilot, app)
        assert emulator.requests[-1].body["thinking"] == {"type": "enabled", "budget_tokens": 2048}
        assert app.conversation.messages[-1].thinking


async def test_a_refusal_is_explained_remembered_and_fixed_with_one_key(
    make_app, emulator, isolated_environment
):
    use_model(isolated_environment, STRICT, "temperature = 0.3\nmax_tokens_to_sample = 1000\n")
    app = make_app()
    async with app.run_test(size=(130, 50)) as pilot:
        await send(pilot, "hello")
        await wait_idle(pilot, app)
        failed = app.conversation.messages[-1]
        assert failed.status == "error" and failed.error["kind"] == "refused"
        error = rendered_text(app.query(AssistantTurn).last().query_one(".error-block"))
        assert "Bedrock refused temperature for this model" in error
        assert "ctrl+r resends without it" in error
        assert app.query_one("#temperature", Input).disabled
        learned = json.loads((load_settings().paths.cache_dir / FILE_NAME).read_text())
        assert "temperature" in learned["models"][STRICT]
        await pilot.press("ctrl+r")
        await wait_idle(pilot, app)
        reply = app.conversation.messages[-1]
        assert reply.status == "complete"
        assert "temperature" not in emulator.requests[-1].body["inferenceConfig"]
        assert reply.omitted == ["temperature"]
        assert "Bedrock refused it on" in reply.omitted_reasons["temperature"]
    # A later run leaves it out from the start.
    emulator.requests.clear()
    again = make_app()
    async with again.run_test(size=(130, 50)) as pilot:
        await send(pilot, "hello again")
        await wait_idle(pilot, again)
        assert again.conversation.messages[-1].status == "complete"
        assert len(emulator.requests) == 1


async def test_a_retired_model_offers_its_replacement(make_app, emulator, isolated_environment):
    use_model(isolated_environment, RETIRED)
    app = make_app()
    async with app.run_test(size=(130, 50)) as pilot:
        await send(pilot, "hello")
        await wait_idle(pilot, app)
        failed = app.conversation.messages[-1]
        assert failed.error["kind"] == "end_of_life"
        error = rendered_text(app.query(AssistantTurn).last().query_one(".error-block"))
        assert "Claude 3.7 Sonnet has reached the end of its life" in error
        assert "ctrl+r switches this conversation to Claude Sonnet 5.5" in error
        await pilot.press("ctrl+r")
        await wait_idle(pilot, app)
        assert app.conversation.params.model == SONNET_55
        assert app.query_one("#model", Input).value == SONNET_55
        assert app.conversation.messages[-1].status == "complete"
        assert emulator.requests[-1].model_id == SONNET_55


async def test_a_second_message_reads_the_cache_and_costs_less(
    make_app, emulator, isolated_environment
):
    emulator.clear_cache()
    use_model(isolated_environment, SONNET_55)
    app = make_app()
    async with app.run_test(size=(130, 50)) as pilot:
        assert app.query_one("#cache", Checkbox).value
        long_question = "Please read this carefully. " * 300  # ~2,000 tokens
        await send(pilot, long_question)
        await wait_idle(pilot, app)
        first = app.conversation.messages[-1].usage
        assert first.get("cache_write_tokens", 0) > 1000
        assert "cache" in footer(app) and "written" in footer(app)
        await send(pilot, "And a follow-up.")
        await wait_idle(pilot, app)
        second = app.conversation.messages[-1].usage
        assert second.get("cache_read_tokens", 0) >= first["cache_write_tokens"]
        assert "read" in footer(app)
        # The second reply cost less than the same tokens sent uncached.
        reply = app.conversation.messages[-1]
        cached = conversation_usage([reply]).cost
        uncached_usage = {
            "input_tokens": second["input_tokens"]
            + second["cache_read_tokens"]
            + second.get("cache_write_tokens", 0),
            "output_tokens": second["output_tokens"],
        }
        uncached = conversation_usage([replace(reply, usage=uncached_usage)]).cost
        assert cached < uncached
        title = rendered_text(app.query_one(TitleBar).query_one("#usage"))
        assert "cache saved $" in title
        # Off: no cache point at all.
        app.query_one("#cache", Checkbox).value = False
        await pilot.pause()
        await send(pilot, "Once more.")
        await wait_idle(pilot, app)
        assert "cache_control" not in json.dumps(emulator.requests[-1].body)


async def test_switching_model_keeps_what_applies_and_says_what_was_dropped(
    make_app, emulator, isolated_environment
):
    use_model(isolated_environment, SONNET_4)
    app = make_app()
    async with app.run_test(size=(130, 50)) as pilot:
        await set_field(pilot, "#thinking", "4096")
        await set_field(pilot, "#model", OPUS_47)
        await pilot.pause()
        assert app.conversation.params.thinking == "adaptive"
        assert app.query_one("#thinking", Input).value == "adaptive"
        said = " ".join(str(n.message) for n in app._notifications)
        assert "thinking budget 4,096 became adaptive" in said
        app.query_one("#effort", Select).value = "xhigh"
        await pilot.pause()
        await set_field(pilot, "#model", OPUS_46)
        await pilot.pause()
        assert app.conversation.params.effort == ""
        said = " ".join(str(n.message) for n in app._notifications)
        assert "effort xhigh dropped: Claude Opus 4.6 offers low, medium, high, max" in said


async def test_continue_on_a_model_without_prefill_appends_to_the_same_reply(
    make_app, emulator, isolated_environment
):
    use_model(isolated_environment, SONNET_55, "max_tokens_to_sample = 60\n")
    app = make_app()
    async with app.run_test(size=(130, 50)) as pilot:
        await send(pilot, "Tell me a long story")
        await wait_idle(pilot, app)
        cut = app.conversation.messages[-1]
        assert cut.stop_reason == "max_tokens"
        before = cut.content
        await pilot.press("ctrl+t")
        await wait_idle(pilot, app)
        body = emulator.requests[-1].body
        assert body["messages"][-1]["role"] == "user"
        assert "Continue it exactly where it stopped" in body["messages"][-1]["content"][0]["text"]
        assert app.conversation.messages[-1] is cut
        assert cut.content.startswith(before.rstrip()) and len(cut.content) > len(before)


async def test_legacy_models_are_marked(make_app, emulator, isolated_environment):
    use_model(isolated_environment, "us.anthropic.claude-sonnet-4-5-20250929-v1:0")
    app = make_app()
    async with app.run_test(size=(130, 50)) as pilot:
        hint = rendered_text(app.query_one("#hint-lifecycle"))
        assert hint.startswith("Legacy") and "current: Claude Sonnet 5.5" in hint
        await send(pilot, "hello")
        await wait_idle(pilot, app)
        await app.open_conversation(app.conversation.id)
        await app.open_conversation(app.conversation.id)
        await pilot.pause()
        said = [str(n.message) for n in app._notifications if "Legacy" in str(n.message)]
        assert len(said) == 1  # once per conversation


async def test_the_newest_sonnet_in_the_account_becomes_the_default(
    make_app, emulator, isolated_environment
):
    config = isolated_environment / "config" / "tui-chat" / "config.toml"
    config.write_text("[bedrock]\nmax_attempts = 1\nread_timeout = 5\n")
    app = make_app()
    async with app.run_test(size=(130, 50)) as pilot:
        await wait_for(pilot, lambda: app.account.checked, timeout=20)
        assert app.state.default_model == SONNET_55
        assert app.conversation.params.model == SONNET_55
        assert isinstance(app.query_one(ParamSidebar), ParamSidebar)


async def test_an_unknown_claude_newer_than_the_catalogue_gets_the_newest_rules(
    make_app, emulator, isolated_environment
):
    use_model(isolated_environment, "us.anthropic.claude-sonnet-7", "temperature = 0.5\n")
    app = make_app()
    async with app.run_test(size=(130, 50)):
        assert app.query_one("#temperature", Input).disabled
        assert app.query_one("#field-effort").display


async def test_the_model_picker_marks_legacy_models(make_app, emulator):
    from textual.widgets import OptionList

    from tui_chat.ui.screens.dialogs import ModelPicker

    from .conftest import wait_for_screen

    app = make_app()
    async with app.run_test(size=(130, 50)) as pilot:
        await wait_for(pilot, lambda: app.account.checked, timeout=20)
        app.action_choose_model()
        await wait_for_screen(pilot, ModelPicker, "OptionList")
        options = app.screen.query_one(OptionList)
        labels = {
            options.get_option_at_index(n).id: str(options.get_option_at_index(n).prompt)
            for n in range(options.option_count)
        }
        assert "legacy" in labels["anthropic.claude-sonnet-4-5-20250929-v1:0"]
        assert "legacy" not in labels["anthropic.claude-sonnet-5-5"]
