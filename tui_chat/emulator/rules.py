"""A model's own rules, checked the same way for the Messages body and for Converse.

Sampling parameters, extended thinking, effort and prefill differ from one Claude model to the
next (see ``ModelInfo``). Both wire formats funnel into ``check``, which either refuses the
request with the model's message or says how the demo model should think and how hard it
should try.

Converse puts "The model returned the following errors: " before every message the model
reports; the Messages API gives the message bare. A few messages carry that prefix on both
APIs (the sampling rules of the newest models and of the strict sampler), as Bedrock words them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tui_chat.emulator import catalog, errors
from tui_chat.emulator.catalog import ModelInfo
from tui_chat.emulator.errors import ApiError, validation

_THINKING_TYPES = ("enabled", "adaptive", "disabled")
_DISPLAYS = ("summarized", "omitted")


@dataclass
class Settings:
    """What the checks decided, for the demo model (see ``Prompt``)."""

    thinking: str = "off"  # "off" | "adaptive" | "budget"
    budget_tokens: int | None = None
    show_thinking: bool = True
    effort: str | None = None
    effort_level: str = "high"
    effort_capped: bool = False


@dataclass
class Request:
    """The parts of a request the rules look at, whichever API it came through."""

    temperature: float | None
    top_p: float | None
    top_k: int | None
    max_tokens: int
    thinking: Any = None  # the ``thinking`` object as sent (None: not sent)
    output_config: Any = None  # ``output_config`` / ``outputConfig`` as sent
    ends_with_assistant: bool = False


class Refuser:
    """Builds the ValidationException for one API: bare (Messages) or prefixed (Converse)."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix

    def __call__(self, message: str) -> ApiError:
        return validation(self.prefix + message)

    @staticmethod
    def model(message: str) -> ApiError:
        """A message Bedrock prefixes on both APIs."""
        return validation(errors.MODEL_ERRORS + message)


def _options(values: tuple[str, ...]) -> str:
    quoted = [f"'{v}'" for v in values]
    if len(quoted) == 1:
        return quoted[0]
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]


def check_sampling(model: ModelInfo, request: Request, refuse: Refuser) -> None:
    """The model's sampling rule (``ModelInfo.sampling``)."""
    temperature, top_p, top_k = request.temperature, request.top_p, request.top_k
    rule = model.sampling
    if rule == catalog.SAMPLING_ONE_OF:
        if temperature is not None and top_p is not None:
            raise refuse(errors.TEMPERATURE_TOP_P)
    elif rule == catalog.SAMPLING_NONE:
        # The defaults are accepted: a client that always sends them still works.
        for name, value, default in (("temperature", temperature, 1.0), ("top_p", top_p, 1.0)):
            if value is not None and value != default:
                raise refuse.model(f"{name} is deprecated for this model.")
        if top_k is not None:
            raise refuse.model("top_k is deprecated for this model.")
    elif rule == catalog.SAMPLING_FABLE:
        if temperature is not None and temperature != 1.0:
            raise refuse.model("temperature must be 1.0 or unset for this model.")
        if top_p is not None and not 0.99 <= top_p < 1.0:
            raise refuse.model("top_p must be at least 0.99 and less than 1.0 for this model.")
        if top_k is not None:
            raise refuse.model("top_k is not supported for this model.")
    elif rule == catalog.SAMPLING_NO_TEMPERATURE and temperature is not None:
        raise refuse.model("temperature is not supported by this model.")


def _thinking(model: ModelInfo, request: Request, refuse: Refuser, settings: Settings) -> None:
    """Validate ``thinking`` against the model; fill in the thinking part of ``settings``."""
    thinking = request.thinking
    if thinking is None:
        if model.thinking == catalog.THINKING_ALWAYS:
            settings.thinking = "adaptive"
        settings.show_thinking = not model.thinking_display
        return
    if model.thinking == catalog.THINKING_NONE:
        raise refuse(errors.THINKING_UNSUPPORTED)
    if not isinstance(thinking, dict):
        raise refuse("thinking: Input should be a valid dictionary or object")
    kind = thinking.get("type")
    if kind is None:
        raise refuse("thinking: Unable to extract tag using discriminator 'type'")
    if kind not in _THINKING_TYPES:
        raise refuse(
            f"thinking: Input tag '{kind}' found using 'type' does not match any of the "
            f"expected tags: {_options(_THINKING_TYPES)}"
        )
    allowed = {"type"}
    if kind == "enabled":
        allowed.add("budget_tokens")
    if model.thinking_display and kind != "disabled":
        allowed.add("display")  # a field only from Opus 4.7 on
    for key in thinking:
        if key not in allowed:
            raise refuse(f"thinking.{key}: Extra inputs are not permitted")

    if model.thinking == catalog.THINKING_BUDGET and kind == "adaptive":
        raise refuse(errors.THINKING_ADAPTIVE_UNSUPPORTED)
    if model.thinking in (catalog.THINKING_ADAPTIVE_ONLY, catalog.THINKING_ALWAYS):
        if kind == "enabled":
            raise refuse(errors.THINKING_ENABLED_UNSUPPORTED)
        if kind == "disabled":
            raise refuse(errors.THINKING_DISABLED_UNSUPPORTED)

    display = thinking.get("display", "omitted")
    if display not in _DISPLAYS:
        raise refuse(f"thinking.display: Input should be {_options(_DISPLAYS)}")
    settings.show_thinking = not model.thinking_display or display == "summarized"

    if kind == "enabled":
        budget = thinking.get("budget_tokens")
        if budget is None:
            raise refuse("thinking.enabled.budget_tokens: Field required")
        if isinstance(budget, bool) or not isinstance(budget, int | float):
            raise refuse("thinking.enabled.budget_tokens: Input should be a valid integer")
        if isinstance(budget, float) and not budget.is_integer():
            raise refuse(
                "thinking.enabled.budget_tokens: Input should be a valid integer, got a number "
                "with a fractional part"
            )
        if budget < 1024:
            raise refuse(errors.BUDGET_TOO_SMALL)
        if budget >= request.max_tokens:
            raise refuse(errors.BUDGET_NOT_BELOW_MAX_TOKENS)
        settings.thinking = "budget"
        settings.budget_tokens = int(budget)
    elif kind == "adaptive":
        settings.thinking = "adaptive"
    else:
        settings.thinking = "off"


def _sampling_while_thinking(request: Request, refuse: Refuser) -> None:
    if request.temperature is not None and request.temperature != 1.0:
        raise refuse(errors.THINKING_TEMPERATURE)
    if request.top_k is not None:
        raise refuse(errors.THINKING_TOP_K)
    if request.top_p is not None and request.top_p < 0.95:
        raise refuse(errors.THINKING_TOP_P)


def _effort(
    model: ModelInfo, request: Request, refuse: Refuser, settings: Settings, *, api_key: str
) -> None:
    config = request.output_config
    effort = None
    if config is not None:
        if not isinstance(config, dict):
            raise refuse(f"{api_key}: Input should be a valid dictionary or object")
        effort = config.get("effort")
    if effort is not None:
        if not model.effort_levels:
            raise refuse(errors.EFFORT_UNSUPPORTED)
        if effort not in model.effort_levels:
            raise refuse(f"output_config.effort: Input should be {_options(model.effort_levels)}")
        settings.effort = effort
    level = effort or (model.effort_default if model.effort_levels else "high")
    if settings.thinking == "off" and level in ("xhigh", "max"):
        # AWS: "When extended thinking is disabled, the effort level is capped at high".
        level = "high"
        settings.effort_capped = True
    settings.effort_level = level


def check(model: ModelInfo, request: Request, refuse: Refuser, *, api_key: str) -> Settings:
    """Every model rule, in the order the checks run; the settings for the demo model.

    ``api_key`` names the output-config field as the API spells it (for shape errors).
    """
    settings = Settings()
    check_sampling(model, request, refuse)
    _thinking(model, request, refuse, settings)
    if settings.thinking != "off":
        _sampling_while_thinking(request, refuse)
    _effort(model, request, refuse, settings, api_key=api_key)
    if request.ends_with_assistant and not model.prefill:
        raise refuse(errors.PREFILL)
    return settings
