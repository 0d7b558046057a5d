"""Parameters given as command-line flags (`tui-chat ask --temperature 0.2 ...`), parsed and
checked with the same rules as the sidebar and the config file (tui_chat/params.py), before
anything is read, sent or saved."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tui_chat.bedrock.catalog import lookup
from tui_chat.params import ParamError, Params, check_number, parse_stop_sequence, parse_value

#: The parameter flags -> the parameter each sets (params.py names).
PARAM_FLAGS = {
    "--model": "model",
    "--temperature": "temperature",
    "--top-p": "top_p",
    "--top-k": "top_k",
    "--max-tokens": "max_tokens_to_sample",
    "--stop": "stop_sequences",
    "--system": "system",
    "--effort": "effort",
    "--thinking": "thinking",
}


class FlagError(ValueError):
    """A flag's value no request could use; the message names the flag and what it takes."""


def flag_values(raw: Mapping[str, Any], no_cache: bool = False) -> dict[str, Any]:
    """The parameters given as flags (`raw`: flag -> the text typed, or a list for --stop),
    parsed. Max tokens is left out: its range depends on the model (`with_flags` checks it)."""
    given: dict[str, Any] = {}
    for flag, name in PARAM_FLAGS.items():
        value = raw.get(flag)
        if value is None or name == "max_tokens_to_sample":
            continue
        try:
            if name == "stop_sequences":
                given[name] = [parse_stop_sequence(item) for item in value]
            else:
                given[name] = parse_value(name, value)
        except ParamError as error:
            raise FlagError(f"{flag}: {error}") from None
    if no_cache:
        given["cache_prompt"] = False
    return given


def with_flags(
    base: Params, given: dict[str, Any], max_tokens: str | None
) -> tuple[Params, list[str]]:
    """`base` with the flags applied, and notes on what was adjusted; max tokens is checked
    against the model's own limit (a saved or configured value above it is lowered to it)."""
    model = given.get("model", base.model)
    limit = lookup(model).max_output
    changes = dict(given)
    notes: list[str] = []
    if max_tokens is not None:
        try:
            changes["max_tokens_to_sample"] = parse_value("max_tokens_to_sample", max_tokens, limit)
        except ParamError as error:
            where = f" for {model}" if limit else ""
            shown = max_tokens if len(max_tokens) <= 40 else max_tokens[:37] + "..."
            raise FlagError(
                f"--max-tokens: {error.name} must be {error.allowed}{where}; got {shown!r}"
            ) from None
    try:
        params = Params.from_dict(changes, base=base)
        if limit and max_tokens is None and params.max_tokens_to_sample > limit:
            notes.append(f"max tokens lowered to {limit:,}, the most {model} writes")
            params = params.with_changes(max_tokens_to_sample=limit)
        if limit and max_tokens is None:
            check_number("max_tokens_to_sample", params.max_tokens_to_sample, limit)
    except ParamError as error:
        raise FlagError(
            f"{error} for {model} (from the saved or configured parameters); pass --max-tokens N"
        ) from None
    return params, notes
