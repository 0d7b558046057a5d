"""Parameters: seed defaults, every bound on both sides, wrong types, typed text, escapes."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui_chat.params import (
    SEED_DEFAULTS,
    SPECS,
    ParamError,
    Params,
    check_value,
    format_stop_sequences,
    parse_stop_sequence,
    parse_stop_sequences,
    parse_value,
)


def test_seed_defaults():
    assert SEED_DEFAULTS.max_tokens_to_sample == 256
    assert SEED_DEFAULTS.temperature == 1.0
    assert SEED_DEFAULTS.top_p == 1.0
    assert SEED_DEFAULTS.top_k == 250
    assert SEED_DEFAULTS.stop_sequences == ()
    assert SEED_DEFAULTS.system == ""


@pytest.mark.parametrize(
    ("name", "good", "bad"),
    [
        ("temperature", [0, 0.0, 0.5, 1, 1.0], [-0.001, 1.001, -1, 2]),
        ("top_p", [0, 0.25, 1], [-0.01, 1.01]),
        ("top_k", [0, 1, 250, 500], [-1, 501, 1000]),
        ("max_tokens_to_sample", [1, 256, 100_000], [0, -5]),
    ],
)
def test_every_bound_on_both_sides(name, good, bad):
    for value in good:
        assert check_value(name, value) == value
    for value in bad:
        with pytest.raises(ParamError) as info:
            check_value(name, value)
        assert info.value.name == name
        assert name in str(info.value)
        assert repr(value) in str(info.value)


def test_error_names_parameter_value_and_range():
    with pytest.raises(ParamError) as info:
        check_value("temperature", 1.5)
    assert str(info.value) == "temperature must be a number from 0 to 1; got 1.5"
    with pytest.raises(ParamError) as info:
        check_value("top_k", 0.7)  # the seed's own typo: top_k is an integer
    assert str(info.value) == "top_k must be a whole number from 0 to 500; got 0.7"


def test_max_tokens_upper_bound_comes_from_the_model():
    assert check_value("max_tokens_to_sample", 4096, max_tokens_limit=4096) == 4096
    with pytest.raises(ParamError, match="from 1 to 4096"):
        check_value("max_tokens_to_sample", 4097, max_tokens_limit=4096)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("temperature", "0.5"),
        ("temperature", True),
        ("temperature", None),
        ("temperature", math.nan),
        ("temperature", math.inf),
        ("top_k", 2.5),
        ("top_k", "250"),
        ("top_k", False),
        ("max_tokens_to_sample", 10.5),
        ("stop_sequences", "END"),
        ("stop_sequences", [""]),
        ("stop_sequences", [1]),
        ("model", ""),
        ("model", 3),
        ("system", None),
    ],
)
def test_wrong_types_are_refused(name, value):
    with pytest.raises(ParamError):
        check_value(name, value)


def test_integral_float_is_accepted_for_integers():
    assert check_value("top_k", 40.0) == 40
    assert isinstance(check_value("top_k", 40.0), int)


def test_param_error_is_a_value_error():
    assert issubclass(ParamError, ValueError)


@pytest.mark.parametrize(
    ("name", "text", "value"),
    [
        ("temperature", "0.7", 0.7),
        ("temperature", " 1 ", 1.0),
        ("temperature", ".25", 0.25),
        ("top_p", "0", 0.0),
        ("top_k", "250", 250),
        ("top_k", "0", 0),
        ("max_tokens_to_sample", "1024", 1024),
    ],
)
def test_parse_typed_text(name, text, value):
    assert parse_value(name, text) == value
    assert type(parse_value(name, text)) is SPECS[name].kind


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("temperature", ""),
        ("temperature", "abc"),
        ("temperature", "1.5"),
        ("temperature", "nan"),
        ("temperature", "inf"),
        ("top_k", "2.5"),
        ("top_k", "-1"),
        ("top_k", "501"),
        ("top_k", "ten"),
        ("max_tokens_to_sample", "0"),
    ],
)
def test_parse_refuses_bad_text_and_quotes_it(name, text):
    with pytest.raises(ParamError) as info:
        parse_value(name, text)
    assert repr(text) in str(info.value)
    assert info.value.name == name


def test_stop_sequences_split_and_escapes():
    assert parse_stop_sequences("") == []
    assert parse_stop_sequences("END") == ["END"]
    assert parse_stop_sequences("END, STOP") == ["END", "STOP"]
    assert parse_stop_sequences("a\\,b,c") == ["a,b", "c"]
    assert parse_stop_sequences("\\n\\nHuman:") == ["\n\nHuman:"]
    assert parse_stop_sequences("tab\\there") == ["tab\there"]
    assert parse_stop_sequences("back\\\\slash") == ["back\\slash"]
    assert parse_stop_sequences("\\sx\\s, y") == [" x ", "y"]
    assert parse_stop_sequences("a,,b,") == ["a", "b"]


@pytest.mark.parametrize("text", ["oops\\", "bad \\q escape"])
def test_stop_sequence_bad_escapes(text):
    with pytest.raises(ParamError) as info:
        parse_stop_sequences(text)
    assert info.value.name == "stop_sequences"


def test_single_stop_sequence_keeps_commas_and_spaces():
    assert parse_stop_sequence("a, b") == "a, b"
    assert parse_stop_sequence("\\n\\nHuman:") == "\n\nHuman:"
    with pytest.raises(ParamError):
        parse_stop_sequence("")


@given(st.lists(st.text(min_size=1), max_size=6))
def test_stop_sequences_round_trip(sequences):
    assert parse_stop_sequences(format_stop_sequences(sequences)) == sequences


def test_params_validate_on_creation_and_change():
    with pytest.raises(ParamError):
        Params(temperature=2)
    params = Params(model="m")
    assert params.with_changes(top_k=5).top_k == 5
    with pytest.raises(ParamError):
        params.with_changes(top_p=-1)
    with pytest.raises(ParamError):
        params.with_changes(stop_sequences="END")


def test_params_from_dict_and_back():
    params = Params.from_dict(
        {"model": "anthropic.claude-v2", "temperature": 0.3, "stop_sequences": ["x"]}
    )
    assert params.temperature == 0.3
    assert params.stop_sequences == ("x",)
    assert Params.from_dict(params.to_dict()) == params
    assert params.differs_from(Params()) == ["temperature", "stop_sequences"]


def test_apply_overrides_for_compare_columns():
    from tui_chat.params import apply_overrides

    base = Params(model="m", temperature=1.0)
    changed = apply_overrides(base, "temperature=0.2 top_k=40 max_tokens=300 stop=END,\\sX")
    assert changed.temperature == 0.2 and changed.top_k == 40
    assert changed.max_tokens_to_sample == 300
    assert changed.stop_sequences == ("END", " X")
    assert apply_overrides(base, "  ") is base
    with pytest.raises(ParamError, match="temperature must be a number from 0 to 1"):
        apply_overrides(base, "temperature=3")
    with pytest.raises(ParamError, match="name=value pairs"):
        apply_overrides(base, "colour=blue")
