"""Params: the seed parameters, their defaults and ranges, and the one parser for typed values.

The seed documents define `max_tokens_to_sample` (default 256), `stop_sequences` ([]),
`temperature` (1, 0-1), `top_p` (1, 0-1) and `top_k` (250, integer 0-500); the app adds `model`
and `system`, and for today's Claude models `effort` (low ... max, or the model's default),
`thinking` (off, adaptive, or a budget of tokens) and `cache_prompt`. Text typed in the sidebar,
given on the command line or passed to the SDK goes through the same functions here, so every
surface refuses the same values with the same words. Whether a model takes a value is the
catalogue's business (bedrock/catalog.py), not this module's.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

#: Parameters that shape sampling, in the order the sidebar and the CLI show them.
SAMPLING_PARAMS = ("max_tokens_to_sample", "temperature", "top_p", "top_k", "stop_sequences")
#: What today's Claude models take instead of (or besides) sampling parameters.
MODEL_PARAMS = ("effort", "thinking", "cache_prompt")
ALL_PARAMS = ("model", *SAMPLING_PARAMS, "system", *MODEL_PARAMS)
#: Effort levels, least thorough first ("" is the model's own default).
EFFORT_LEVELS = ("low", "medium", "high", "xhigh", "max")
#: The fewest thinking tokens a budget may hold (every model that takes budgets says so).
MIN_THINKING_BUDGET = 1024
THINKING_OFF, THINKING_ADAPTIVE = "off", "adaptive"


class ParamError(ValueError):
    """A parameter value outside its type or range; the message names both."""

    def __init__(self, name: str, value: Any, allowed: str) -> None:
        self.name = name
        self.value = value
        self.allowed = allowed
        super().__init__(f"{name} must be {allowed}; got {_show(value)}")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True)
class Spec:
    """What one numeric parameter accepts."""

    name: str
    kind: type
    default: float | int
    low: float | int
    high: float | int | None
    label: str
    help: str

    def allowed(self, high: float | int | None = None) -> str:
        """The allowed range in words, e.g. 'a number from 0 to 1'."""
        top = self.high if high is None else high
        noun = "a whole number" if self.kind is int else "a number"
        if top is None:
            return f"{noun} of at least {_fmt(self.low)}"
        return f"{noun} from {_fmt(self.low)} to {_fmt(top)}"


def _fmt(number: float | int) -> str:
    if isinstance(number, float) and number.is_integer():
        return str(int(number))
    return f"{number:,}" if isinstance(number, int) and number >= 10_000 else str(number)


SPECS: dict[str, Spec] = {
    spec.name: spec
    for spec in (
        Spec(
            "max_tokens_to_sample",
            int,
            256,
            1,
            None,
            "Max tokens",
            "The most tokens to generate before stopping; the upper bound depends on the model.",
        ),
        Spec("temperature", float, 1.0, 0.0, 1.0, "Temperature", "Amount of randomness."),
        Spec("top_p", float, 1.0, 0.0, 1.0, "Top P", "Nucleus sampling: the probability mass."),
        Spec("top_k", int, 250, 0, 500, "Top K", "Sample only from the K likeliest tokens."),
    )
}


def check_number(name: str, value: Any, max_tokens_limit: int | None = None) -> float | int:
    """Return `value` as the parameter's type, or raise ParamError naming the allowed range."""
    spec = SPECS[name]
    high = max_tokens_limit if name == "max_tokens_to_sample" else spec.high
    allowed = spec.allowed(high)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParamError(name, value, allowed)
    if spec.kind is int:
        if isinstance(value, float):
            if not value.is_integer():
                raise ParamError(name, value, allowed)
            value = int(value)
    else:
        value = float(value)
        if not math.isfinite(value):
            raise ParamError(name, value, allowed)
    if value < spec.low or (high is not None and value > high):
        raise ParamError(name, value, allowed)
    return value


def parse_number(name: str, text: str, max_tokens_limit: int | None = None) -> float | int:
    """Parse a number as typed ("0.7", "250", " 1 ") and check its range."""
    spec = SPECS[name]
    high = max_tokens_limit if name == "max_tokens_to_sample" else spec.high
    stripped = text.strip()
    if not stripped:
        raise ParamError(name, text, spec.allowed(high))
    try:
        value: float | int = int(stripped, 10) if spec.kind is int else float(stripped)
    except ValueError:
        raise ParamError(name, text, spec.allowed(high)) from None
    try:
        return check_number(name, value, max_tokens_limit)
    except ParamError:
        raise ParamError(name, text, spec.allowed(high)) from None


# Stop sequences are typed as one comma-separated line; these escapes reach what a comma,
# a newline or a tab cannot. Spaces around an item are trimmed, so `\s` keeps a real one.
_ESCAPES = {",": ",", "n": "\n", "t": "\t", "\\": "\\", "s": " "}
_ESCAPE_HELP = r"stop sequences separated by commas, with the escapes \, \n \t \s \\"


def _unescape(text: str, split: bool) -> list[str]:
    items: list[str] = []
    current: list[str] = []
    # Track which characters came from escapes so trimming never eats an escaped space.
    literal: list[bool] = []
    i = 0

    def finish() -> None:
        start, end = 0, len(current)
        while start < end and current[start] == " " and literal[start]:
            start += 1
        while end > start and current[end - 1] == " " and literal[end - 1]:
            end -= 1
        items.append("".join(current[start:end]))
        current.clear()
        literal.clear()

    while i < len(text):
        char = text[i]
        if char == "\\":
            if i + 1 >= len(text):
                raise ParamError("stop_sequences", text, _ESCAPE_HELP + " (a lone \\ at the end)")
            code = text[i + 1]
            if code not in _ESCAPES:
                raise ParamError(
                    "stop_sequences", text, _ESCAPE_HELP + f" (unknown escape \\{code})"
                )
            current.append(_ESCAPES[code])
            literal.append(False)
            i += 2
            continue
        if char == "," and split:
            finish()
        else:
            current.append(char)
            literal.append(True)
        i += 1
    finish()
    return items


def parse_stop_sequences(text: str) -> list[str]:
    """Parse the sidebar's comma-separated stop sequences; empty items are dropped."""
    return [item for item in _unescape(text, split=True) if item]


def parse_stop_sequence(text: str) -> str:
    """Parse one `--stop` value: the same escapes, but a comma is just a comma."""
    (item,) = _unescape(text, split=False)
    if not item:
        raise ParamError("stop_sequences", text, "a non-empty stop sequence")
    return item


def format_stop_sequences(sequences: Iterable[str]) -> str:
    """The inverse of parse_stop_sequences: a line a user can read and edit."""
    out = []
    for sequence in sequences:
        text = (
            sequence.replace("\\", "\\\\")
            .replace(",", "\\,")
            .replace("\n", "\\n")
            .replace("\t", "\\t")
        )
        stripped = text.lstrip(" ")
        text = "\\s" * (len(text) - len(stripped)) + stripped
        stripped = text.rstrip(" ")
        text = stripped + "\\s" * (len(text) - len(stripped))
        out.append(text)
    return ", ".join(out)


def check_stop_sequences(value: Any) -> list[str]:
    """Check a list of stop sequences given as data (the SDK, a session file)."""
    allowed = "a list of non-empty strings"
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise ParamError("stop_sequences", value, allowed)
    for item in value:
        if not isinstance(item, str) or not item:
            raise ParamError("stop_sequences", value, allowed)
    return list(value)


#: Longer than any Bedrock model id or ARN.
MAX_MODEL_ID = 2048


def model_id_allowed(model_id: str) -> str | None:
    """What a model id must be, when `model_id` (already stripped) is not one; else None.
    Ids and ARNs never hold spaces or control characters, which would otherwise reach an
    error message or a terminal as they are."""
    if not model_id:
        return "a model id, e.g. anthropic.claude-v2"
    if len(model_id) > MAX_MODEL_ID:
        return f"a model id of at most {MAX_MODEL_ID} characters"
    if any(char.isspace() or not char.isprintable() for char in model_id):
        return "a model id, without spaces or control characters"
    return None


def model_id_problem(model_id: str) -> str | None:
    """Why `model_id` cannot be a Bedrock model id, as one line (None when it can be one):
    `model_id_allowed` worded for a config file or a command-line flag."""
    allowed = model_id_allowed(model_id.strip())
    return None if allowed is None else f"model must be {allowed}"


def check_effort(value: Any) -> str:
    """An effort level, or "" for the model's default."""
    allowed = "one of " + ", ".join(EFFORT_LEVELS) + " (or empty: the model's default)"
    if not isinstance(value, str):
        raise ParamError("effort", value, allowed)
    level = value.strip().lower()
    if level in ("", "default"):
        return ""
    if level not in EFFORT_LEVELS:
        raise ParamError("effort", value, allowed)
    return level


_THINKING_ALLOWED = (
    f"off, adaptive, or a budget of at least {MIN_THINKING_BUDGET:,} tokens "
    "(or empty: the model's default)"
)


def check_thinking(value: Any) -> str | int:
    """ "off", "adaptive", a budget of tokens (an int), or "" for the model's default. Text
    such as "4096" or "4,096" becomes the number."""
    if isinstance(value, bool):
        raise ParamError("thinking", value, _THINKING_ALLOWED)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in ("", "default"):
            return ""
        if word in (THINKING_OFF, THINKING_ADAPTIVE):
            return word
        digits = word.replace(",", "").replace("_", "")
        if not digits.isdigit():
            raise ParamError("thinking", value, _THINKING_ALLOWED)
        value = int(digits)
    if not isinstance(value, int) or value < MIN_THINKING_BUDGET:
        raise ParamError("thinking", value, _THINKING_ALLOWED)
    return value


def check_flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ParamError(name, value, "true or false")
    return value


def parse_flag(name: str, text: str) -> bool:
    word = text.strip().lower()
    if word in ("on", "true", "yes", "1"):
        return True
    if word in ("off", "false", "no", "0"):
        return False
    raise ParamError(name, text, "on or off")


def check_text(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ParamError(name, value, "a string")
    if name == "model" and not value.strip():
        raise ParamError(name, value, model_id_allowed(""))
    return value.strip() if name == "model" else value


def parse_value(name: str, text: str, max_tokens_limit: int | None = None) -> Any:
    """Parse any parameter from text as typed in a form or on the command line."""
    if name in SPECS:
        return parse_number(name, text, max_tokens_limit)
    if name == "stop_sequences":
        return parse_stop_sequences(text)
    if name == "model":
        # Typed ids are held to what an id can be; a saved one is shown safely whatever it is.
        allowed = model_id_allowed(text.strip())
        if allowed is not None:
            raise ParamError(name, text, allowed)
    if name in ("model", "system"):
        return check_text(name, text)
    if name == "effort":
        return check_effort(text)
    if name == "thinking":
        return check_thinking(text)
    if name == "cache_prompt":
        return parse_flag(name, text)
    raise KeyError(name)


def check_value(name: str, value: Any, max_tokens_limit: int | None = None) -> Any:
    """Check a parameter given as data (not text) and return it in its canonical type."""
    if name in SPECS:
        return check_number(name, value, max_tokens_limit)
    if name == "stop_sequences":
        return check_stop_sequences(value)
    if name in ("model", "system"):
        return check_text(name, value)
    if name == "effort":
        return check_effort(value)
    if name == "thinking":
        return check_thinking(value)
    if name == "cache_prompt":
        return check_flag(name, value)
    raise KeyError(name)


@dataclass(frozen=True)
class Params:
    """One full set of request parameters. Instances are always valid (checked on creation)."""

    model: str = "anthropic.claude-v2"
    max_tokens_to_sample: int = 256
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 250
    stop_sequences: tuple[str, ...] = field(default_factory=tuple)
    system: str = ""
    #: "" is the model's default level.
    effort: str = ""
    #: "off", "adaptive", a budget of tokens (int), or "" for the model's default.
    thinking: str | int = ""
    #: Mark the prompt for Bedrock's prompt cache (where the model supports it).
    cache_prompt: bool = False

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            checked = check_value(f.name, list(value) if f.name == "stop_sequences" else value)
            if f.name == "stop_sequences":
                checked = tuple(checked)
            object.__setattr__(self, f.name, checked)

    def with_changes(self, **changes: Any) -> Params:
        """A copy with some values changed (each checked)."""
        if "stop_sequences" in changes:
            changes["stop_sequences"] = tuple(check_stop_sequences(changes["stop_sequences"]))
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The values as a session file or config.toml holds them (TOML has no None, so the
        model-default effort and thinking are left out)."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["stop_sequences"] = list(self.stop_sequences)
        for name in ("effort", "thinking"):
            if data[name] == "":
                del data[name]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], base: Params | None = None) -> Params:
        """Build from a mapping (a session's [params], config [defaults], a preset).

        Missing keys come from `base` (or the seed defaults); unknown keys are ignored here
        (callers that must keep them do so themselves); a bad value raises ParamError.
        """
        start = base or cls()
        changes = {}
        for name in ALL_PARAMS:
            if name in data:
                value = data[name]
                if name == "stop_sequences":
                    value = tuple(check_stop_sequences(value))
                else:
                    value = check_value(name, value)
                changes[name] = value
        return replace(start, **changes)

    def differs_from(self, other: Params) -> list[str]:
        """Names of the parameters whose values differ (model and system included)."""
        return [name for name in ALL_PARAMS if getattr(self, name) != getattr(other, name)]


_ALIASES = {"max_tokens": "max_tokens_to_sample", "stop": "stop_sequences", "cache": "cache_prompt"}


def apply_overrides(base: Params, text: str) -> Params:
    """`base` changed by `name=value` pairs separated by spaces, as typed for a compare
    column, e.g. "temperature=0.2 top_k=40 model=anthropic.claude-v2". Values use the usual
    parsing (stop sequences: commas and escapes, `\\s` for a space)."""
    changes: dict[str, Any] = {}
    for item in text.split():
        name, sep, value = item.partition("=")
        name = _ALIASES.get(name.strip(), name.strip())
        if not sep or name not in ALL_PARAMS or name == "system":
            raise ParamError(
                "compare settings",
                item,
                "name=value pairs of model, temperature, top_p, top_k, max_tokens, stop, "
                "effort, thinking or cache",
            )
        parsed = parse_value(name, value)
        changes[name] = tuple(parsed) if name == "stop_sequences" else parsed
    return base.with_changes(**changes) if changes else base


#: The seed defaults exactly, as the SDK facade uses them.
SEED_DEFAULTS = Params()
