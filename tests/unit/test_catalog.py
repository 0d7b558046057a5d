"""The catalog: ids, ARNs and profiles map to their family, format and rules."""

import pytest

from tui_chat.bedrock.catalog import (
    CONVERSE,
    MESSAGES,
    TEXT_COMPLETION,
    base_model_id,
    default_model,
    lookup,
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
    assert lookup("anthropic.claude-opus-4-7-20270101-v1:0").exclusive_temperature_top_p
    assert not lookup("anthropic.claude-sonnet-4-20250514-v1:0").exclusive_temperature_top_p
    assert lookup("anthropic.claude-3-haiku-20240307-v1:0").takes_top_k
    assert not lookup("meta.llama3-1-70b-instruct-v1:0").takes_top_k
    assert lookup("anthropic.claude-3-haiku-20240307-v1:0").max_output == 4096
    assert lookup("unknown.model").max_output is None


@pytest.mark.parametrize(
    ("region", "prefix"),
    [
        ("us-east-1", "us."),
        ("us-west-2", "us."),
        ("eu-central-1", "eu."),
        ("ap-northeast-1", "jp."),
        ("ap-south-1", "apac."),
        (None, "global."),
    ],
)
def test_default_model_fits_the_region(region, prefix):
    assert default_model(region) == prefix + "anthropic.claude-sonnet-4-5-20250929-v1:0"
