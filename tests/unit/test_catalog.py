"""The catalog: ids, ARNs and profiles map to their family, format and rules."""

import pytest

from tui_chat.bedrock.catalog import (
    CONVERSE,
    MESSAGES,
    TEXT_COMPLETION,
    base_model_id,
    default_model,
    lookup,
    models,
    newest,
    replacement_for,
    sources,
)


@pytest.mark.parametrize(
    ("model_id", "base"),
    [
        ("anthropic.claude-v2", "anthropic.claude-v2"),
        (
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "anthropic.claude-sonnet-4-5-20250929-v1:0",
        ),
        (
            "global.anthropic.claude-haiku-4-5-20251001-v1:0",
            "anthropic.claude-haiku-4-5-20251001-v1:0",
        ),
        ("apac.amazon.nova-pro-v1:0", "amazon.nova-pro-v1:0"),
        (
            "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-v2:1",
            "anthropic.claude-v2:1",
        ),
        (
            "arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.anthropic.claude-3-7-sonnet-20250219-v1:0",
            "anthropic.claude-3-7-sonnet-20250219-v1:0",
        ),
    ],
)
def test_base_model_id(model_id, base):
    assert base_model_id(model_id) == base


@pytest.mark.parametrize(
    ("model_id", "fmt"),
    [
        ("anthropic.claude-v2", TEXT_COMPLETION),
        ("anthropic.claude-v2:1", TEXT_COMPLETION),
        ("anthropic.claude-instant-v1", TEXT_COMPLETION),
        ("anthropic.claude-3-haiku-20240307-v1:0", MESSAGES),
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", MESSAGES),
        ("anthropic.claude-future-9-v1:0", MESSAGES),
        ("meta.llama3-1-70b-instruct-v1:0", CONVERSE),
        ("us.amazon.nova-pro-v1:0", CONVERSE),
        ("somebody.new-model-v1", CONVERSE),
        ("arn:aws:bedrock:us-east-1:1:application-inference-profile/abc123", CONVERSE),
    ],
)
def test_wire_format(model_id, fmt):
    assert lookup(model_id).format == fmt


def test_rules():
    assert lookup("us.anthropic.claude-sonnet-4-5-20250929-v1:0").exclusive_temperature_top_p
    assert lookup("anthropic.claude-opus-4-1-20250805-v1:0").exclusive_temperature_top_p
    assert not lookup("anthropic.claude-sonnet-4-20250514-v1:0").exclusive_temperature_top_p
    assert lookup("anthropic.claude-3-haiku-20240307-v1:0").takes_top_k
    assert not lookup("meta.llama3-1-70b-instruct-v1:0").takes_top_k
    assert lookup("anthropic.claude-3-haiku-20240307-v1:0").max_output == 4096
    assert lookup("unknown.model").max_output is None


def test_todays_models_set_their_own_sampling_and_think():
    sonnet = lookup("us.anthropic.claude-sonnet-5-5")
    assert sonnet.name == "Claude Sonnet 5.5"
    assert not sonnet.takes_sampling and not sonnet.takes_top_k
    assert sonnet.thinking == "always" and sonnet.thinking_display
    assert sonnet.effort_levels == ("low", "medium", "high", "xhigh", "max")
    assert not sonnet.prefill
    opus_47 = lookup("global.anthropic.claude-opus-4-7")
    assert opus_47.thinking == "adaptive-only" and not opus_47.takes_budget
    opus_46 = lookup("anthropic.claude-opus-4-6-v1")
    assert opus_46.thinking == "adaptive" and opus_46.takes_budget and opus_46.takes_adaptive
    assert "xhigh" not in opus_46.effort_levels and "max" in opus_46.effort_levels
    sonnet_45 = lookup("anthropic.claude-sonnet-4-5-20250929-v1:0")
    assert sonnet_45.thinking == "budget" and not sonnet_45.takes_adaptive
    assert sonnet_45.effort_levels == () and sonnet_45.prefill
    assert lookup("anthropic.claude-opus-5-5").effort_default == "medium"


def test_every_rule_names_its_source():
    known = set(sources().values())
    for info in models().values():
        assert info.sources.get("model") in known, info.model_id
        cited = set(info.sources)
        for rule in ("sampling", "thinking", "effort", "prefill", "cache_min_tokens"):
            if info.provider == "Anthropic" and info.format == MESSAGES:
                assert rule in cited, (info.model_id, rule)
        for url in info.sources.values():
            assert url.startswith("https://"), (info.model_id, url)


@pytest.mark.parametrize(
    ("model_id", "like"),
    [
        # Newer than the catalogue: the newest family's rules.
        ("anthropic.claude-sonnet-6", "anthropic.claude-sonnet-5-5"),
        ("us.anthropic.claude-opus-7-1", "anthropic.claude-opus-5-5"),
        # Between known versions: the nearest older model of the same tier.
        ("anthropic.claude-haiku-4-7", "anthropic.claude-haiku-4-5-20251001-v1:0"),
        ("anthropic.claude-opus-4-7-20270101-v1:0", "anthropic.claude-opus-4-7"),
        ("anthropic.claude-sonnet-4-5-20260101-v2:0", "anthropic.claude-sonnet-4-5-20250929-v1:0"),
    ],
)
def test_unknown_claude_ids_take_the_nearest_rules(model_id, like):
    info, model = lookup(model_id), lookup(like)
    assert not info.known and info.max_output is None
    for rule in ("sampling", "thinking", "effort_levels", "prefill", "cache_min_tokens"):
        assert getattr(info, rule) == getattr(model, rule), rule


def test_lifecycle_and_replacements():
    assert lookup("anthropic.claude-3-7-sonnet-20250219-v1:0").status == "eol"
    assert lookup("anthropic.claude-3-7-sonnet-20250219-v1:0").lifecycle_words() == (
        "end of life 2026-04-28"
    )
    assert lookup("anthropic.claude-sonnet-4-5-20250929-v1:0").status == "legacy"
    assert lookup("us.anthropic.claude-sonnet-5-5").lifecycle_words() == ""
    assert replacement_for("us.anthropic.claude-3-7-sonnet-20250219-v1:0") == (
        "us.anthropic.claude-sonnet-5-5"
    )
    assert replacement_for("anthropic.claude-v2") == "global.anthropic.claude-sonnet-5-5"
    assert replacement_for("eu.anthropic.claude-opus-4-5-20251101-v1:0") == (
        "eu.anthropic.claude-opus-5-5"
    )
    assert replacement_for("meta.llama3-1-70b-instruct-v1:0") is None


def test_newest_sonnet_the_account_lists():
    listed = {"anthropic.claude-sonnet-5", "us.anthropic.claude-sonnet-5", "amazon.nova-pro-v1:0"}
    assert newest("sonnet", "us-east-1", available=listed) == "us.anthropic.claude-sonnet-5"
    assert newest("sonnet", "us-east-1", available={"amazon.nova-pro-v1:0"}) is None


@pytest.mark.parametrize(
    ("region", "prefix"),
    [
        ("us-east-1", "us."),
        ("us-west-2", "us."),
        ("eu-central-1", "eu."),
        ("ap-northeast-1", "global."),  # Sonnet 5.5 has no jp. profile
        ("ap-south-1", "global."),
        (None, "global."),
    ],
)
def test_default_model_is_the_newest_active_sonnet_for_the_region(region, prefix):
    assert default_model(region) == prefix + "anthropic.claude-sonnet-5-5"
    assert lookup(default_model(region)).status == "active"
