"""The demo model on its own: continuing a cut reply, a new wording per identical request, long
replies on request; and the demo-mode helpers the app and `tui-chat ask` share."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tui_chat.bedrock import catalog
from tui_chat.bedrock.formats import CONTINUE_PROMPT
from tui_chat.config import load_settings
from tui_chat.demo import DEMO_REGION, Demo, demo_defaults, demo_tokens_per_second
from tui_chat.emulator.demo_model import (
    DEMO_BADGE,
    Prompt,
    compose,
    generate,
    split_continuation,
    tokenize,
    words_wanted,
)

ASK = "Tell me about the sea, with a code example"


def prompt(text: str = ASK, **changes) -> Prompt:
    base = Prompt(
        model_id="anthropic.claude-haiku-4-5-20251001-v1:0",
        model_name="Claude Haiku 4.5",
        messages=[("user", "First question"), ("assistant", "First answer"), ("user", text)],
        max_tokens=4096,
    )
    return replace(base, **changes)


def continued(original: Prompt, partial: str, by_request: bool = False, **changes) -> Prompt:
    """The request a client sends to continue `partial`: as a prefill, or (a model that takes
    no prefill) followed by the user turn asking to continue."""
    turns = [*original.messages, ("assistant", partial)]
    if by_request:
        turns.append(("user", CONTINUE_PROMPT))
    return replace(original, messages=turns, **changes)


# ---------------------------------------------------------------------------------------------
# Continue


@pytest.mark.parametrize("by_request", [False, True], ids=["prefill", "continue-turn"])
@pytest.mark.parametrize("cut", [1, 6, 25, 60, 90, 140])
def test_a_reply_cut_at_max_tokens_goes_on_where_it_stopped(cut, by_request):
    full = generate(prompt()).text
    first = generate(prompt(max_tokens=cut))
    assert first.stop_reason == "max_tokens"
    partial = first.text.rstrip()  # as the client sends it back
    rest = generate(continued(prompt(), partial, by_request))
    assert rest.stop_reason == "end_turn"
    # No repetition, nothing glued on: the two parts are the whole reply.
    assert partial + rest.text == full
    assert DEMO_BADGE not in rest.text


def test_a_cut_word_is_completed():
    full = generate(prompt()).text
    at = full.index("demo model") + len("demo mo")
    rest = generate(continued(prompt(), full[:at])).text
    assert rest.startswith("del")
    assert full[:at] + rest == full


def test_a_reply_worded_by_a_later_request_is_continued_in_its_own_wording():
    # The second identical request words the reply differently; its continuation keeps the
    # wording the partial reply used and goes on from there.
    second = generate(prompt(variant=1, max_tokens=45)).text.rstrip()
    assert not generate(prompt()).text.startswith(second)
    rest = generate(continued(prompt(), second)).text
    whole = second + rest
    assert whole.startswith(DEMO_BADGE) and whole.count(DEMO_BADGE) == 1
    assert whole.count("You wrote") + whole.count("You said") + whole.count("You asked") <= 1
    assert whole.endswith("thinking off.*")


def test_the_continuation_is_itself_cut_by_max_tokens_and_can_be_continued_again():
    full = compose(prompt(max_tokens=20))  # the whole reply, uncut ("max tokens 20" in it)
    text = generate(prompt(max_tokens=20)).text.rstrip()
    while True:
        reply = generate(continued(prompt(), text, max_tokens=20))
        text = (text + reply.text).rstrip() if reply.stop_reason == "max_tokens" else text
        if reply.stop_reason != "max_tokens":
            text += reply.text
            break
        assert len(reply.tokens) == 20
    assert text == full


def test_a_prefill_the_model_would_not_write_is_followed_by_its_reply():
    rest = generate(continued(prompt(), "Well,")).text
    assert rest.startswith(" " + DEMO_BADGE)
    assert "“Tell me about the sea, with a code example”" in rest


def test_a_partial_reply_is_found_by_its_last_words_when_its_start_differs():
    full = generate(prompt()).text
    at = full.index("It streams") if "It streams" in full else len(full) // 3
    partial = "Something else entirely. " + full[at - 40 : at]
    assert generate(continued(prompt(), partial)).text == full[at:]


def test_a_scripted_reply_continues_exactly_or_is_sent_whole():
    script = "One two three four five six"
    assert generate(continued(prompt(), "One two thr"), scripted=script).text == "ee four five six"
    assert generate(continued(prompt(), "Other"), scripted=script).text == script


def test_split_continuation():
    plain = prompt()
    assert split_continuation(plain) == (plain, None, False)
    base, partial, asked = split_continuation(continued(plain, "Part"))
    assert (base.messages, partial, asked) == (plain.messages, "Part", False)
    base, partial, asked = split_continuation(continued(plain, "Part", by_request=True))
    assert (base.messages, partial, asked) == (plain.messages, "Part", True)


def test_thinking_before_a_continuation_plans_to_carry_on():
    thinking = prompt(thinking="adaptive")
    partial = generate(replace(thinking, thinking="off", max_tokens=30)).text.rstrip()
    reply = generate(continued(thinking, partial, by_request=True))
    plan = "".join(reply.thinking)
    assert "carry on exactly where it stopped" in plan
    assert partial + reply.text == compose(thinking)


# ---------------------------------------------------------------------------------------------
# Regenerate: a new wording per identical request


def test_each_identical_request_is_worded_differently_and_deterministically():
    texts = [generate(prompt(variant=n)).text for n in range(4)]
    assert len(set(texts)) == 4
    assert texts == [generate(prompt(variant=n)).text for n in range(4)]
    # Variant 0 is what the model always wrote for this request.
    assert texts[0] == compose(prompt())
    # Only the wording changes: the same parts, the same echo.
    for text in texts:
        assert text.startswith(DEMO_BADGE)
        assert "“Tell me about the sea, with a code example”" in text
        assert "```python" in text


def test_temperature_zero_is_the_plain_wording_for_every_request():
    plain = {generate(prompt(temperature=0.0, variant=n)).text for n in range(5)}
    assert len(plain) == 1
    assert "Hello! You wrote:" in plain.pop()


def test_temperature_changes_the_wording():
    low = generate(prompt(temperature=0.1)).text
    high = generate(prompt(temperature=1.0)).text
    assert low != high
    assert generate(prompt(temperature=0.0)).text == generate(prompt(temperature=0.0)).text


def test_fingerprint_is_the_request_without_its_variant():
    assert prompt().fingerprint() == prompt(variant=3).fingerprint()
    assert prompt().fingerprint() != prompt(temperature=0.5).fingerprint()
    assert prompt().fingerprint() != prompt("Another question").fingerprint()
    assert prompt().seed() != prompt(variant=1).seed()


# ---------------------------------------------------------------------------------------------
# Long replies on request


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("write 2000 words about X", 2000),
        ("A 1500-word story, please", 1500),
        ("Give me 1,200 words on tea", 1200),
        ("about 300 WORDS", 300),
        ("a 60 word poem", 60),
        ("three words", None),
        ("give me 5 words", None),  # fewer than 50: the ordinary reply
        ("write 2000 characters", None),
        ("version 1.500 words", None),
    ],
)
def test_words_wanted(text, words):
    assert words_wanted(text) == words


@pytest.mark.parametrize("words", [300, 2000, 5000])
def test_a_prompt_asking_for_n_words_gets_about_n_words(words):
    reply = generate(prompt(f"Write {words} words about the sea", max_tokens=64_000))
    count = len(reply.text.split())
    assert reply.stop_reason == "end_turn"
    assert words * 0.97 <= count <= words * 1.01, count
    assert count == len(reply.tokens)
    text = reply.text
    assert text.startswith(DEMO_BADGE)
    assert f"about {words:,} words about the sea" in text
    assert "## Part 1: " in text and "\n- " in text  # headings and lists to scroll through
    assert text.endswith("thinking off.*")


def test_a_long_reply_is_cut_by_max_tokens_and_continues():
    asked = prompt("Write a 3000-word story about dragons", max_tokens=1000)
    first = generate(asked)
    assert (first.stop_reason, len(first.tokens)) == ("max_tokens", 1000)
    rest = generate(continued(asked, first.text.rstrip(), max_tokens=8000))
    assert rest.stop_reason == "end_turn"
    whole = first.text.rstrip() + rest.text
    assert whole == generate(replace(asked, max_tokens=8000)).text
    assert 2900 <= len(whole.split()) <= 3030


def test_a_huge_request_is_written_only_as_far_as_max_tokens_reaches():
    reply = generate(prompt("Write 10000000 words", max_tokens=2000))
    assert (reply.stop_reason, len(reply.tokens)) == ("max_tokens", 2000)


def test_long_replies_vary_with_temperature_and_request():
    ask = "Write 400 words about rivers"
    texts = {
        generate(prompt(ask, temperature=1.0)).text,
        generate(prompt(ask, temperature=1.0, variant=1)).text,
        generate(prompt(ask, temperature=0.0)).text,
    }
    assert len(texts) == 3


def test_tokens_are_words():
    assert tokenize("  a b\n\nc ") == ["  a ", "b\n\n", "c "]


# ---------------------------------------------------------------------------------------------
# Demo mode helpers shared by the app and `tui-chat ask`


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, 40.0),
        ("", 40.0),
        ("0", None),
        ("0.0", None),
        ("250", 250.0),
        ("7.5", 7.5),
        ("fast", 40.0),
        ("-3", 40.0),
        ("nan", 40.0),
    ],
)
def test_demo_tokens_per_second(value, expected):
    environ = {} if value is None else {"TUI_CHAT_DEMO_TPS": value}
    assert demo_tokens_per_second(environ) == expected
    assert Demo.from_environment(environ).tokens_per_second == expected


def test_demo_tokens_per_second_reads_the_environment(monkeypatch):
    monkeypatch.setenv("TUI_CHAT_DEMO_TPS", "0")
    assert demo_tokens_per_second() is None
    assert Demo.from_environment().tokens_per_second is None


def test_demo_defaults_use_the_demo_regions_model(tmp_path):
    settings = load_settings(demo=True)
    assert settings.region is None
    assert demo_defaults(settings).model == catalog.default_model(DEMO_REGION)
    assert demo_defaults(settings).model == "us.anthropic.claude-sonnet-5-5"
    # A region, or a model in config.toml, decides instead.
    assert demo_defaults(load_settings(demo=True, region="eu-west-1")).model.startswith("eu.")
    config = tmp_path / "config.toml"
    config.write_text('[defaults]\nmodel = "us.anthropic.claude-opus-4-7"\n', encoding="utf-8")
    configured = load_settings(demo=True, config_file=config)
    assert demo_defaults(configured).model == "us.anthropic.claude-opus-4-7"
