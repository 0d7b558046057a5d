"""Known models: how an id maps to a family and wire format, each family's limits and rules.

Any model id is accepted: ARNs and cross-region inference-profile ids (`us.`, `eu.`, `apac.`,
`global.`...) resolve to their base model; an id we have never heard of still works through
ConverseStream, with no limits assumed. Prices are per million tokens in USD, estimates only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tui_chat.params import model_id_allowed

TEXT_COMPLETION = "text-completion"
MESSAGES = "messages"
CONVERSE = "converse"

_PROFILE_PREFIXES = ("us-gov", "us", "eu", "apac", "global", "jp", "au", "ca")
_PROFILE_RE = re.compile(r"^(?:" + "|".join(_PROFILE_PREFIXES) + r")\.(?=[a-z0-9-]+\.)")
_ARN_RE = re.compile(
    r"^arn:aws[a-z-]*:bedrock:[a-z0-9-]*:\d*:"
    r"(?:foundation-model|inference-profile|provisioned-model|custom-model)/(.+)$"
)


@dataclass(frozen=True)
class ModelInfo:
    """What the app knows of a model family: format, limits, defaults and rules."""

    model_id: str
    name: str
    provider: str
    format: str
    max_output: int | None = None
    context: int | None = None
    takes_top_k: bool = False
    # Claude 4.5-class models refuse requests that set both temperature and top_p.
    exclusive_temperature_top_p: bool = False
    # The model's own defaults: a parameter equal to its default is not sent.
    defaults: dict[str, float | int] = field(default_factory=dict)
    price_in: float | None = None
    price_out: float | None = None
    known: bool = True
    legacy: bool = False


_ANTHROPIC_DEFAULTS = {"temperature": 1.0, "top_p": 1.0, "top_k": 250}


def _claude(
    model_id: str,
    name: str,
    max_output: int,
    context: int,
    price: tuple[float, float],
    fmt: str = MESSAGES,
    exclusive: bool = False,
    legacy: bool = False,
) -> ModelInfo:
    return ModelInfo(
        model_id=model_id,
        name=name,
        provider="Anthropic",
        format=fmt,
        max_output=max_output,
        context=context,
        takes_top_k=True,
        exclusive_temperature_top_p=exclusive,
        defaults=_ANTHROPIC_DEFAULTS,
        price_in=price[0],
        price_out=price[1],
        legacy=legacy,
    )


MODELS: dict[str, ModelInfo] = {
    m.model_id: m
    for m in (
        _claude(
            "anthropic.claude-sonnet-4-5-20250929-v1:0",
            "Claude Sonnet 4.5",
            64000,
            200000,
            (3.0, 15.0),
            exclusive=True,
        ),
        _claude(
            "anthropic.claude-haiku-4-5-20251001-v1:0",
            "Claude Haiku 4.5",
            64000,
            200000,
            (1.0, 5.0),
            exclusive=True,
        ),
        _claude(
            "anthropic.claude-opus-4-1-20250805-v1:0",
            "Claude Opus 4.1",
            32000,
            200000,
            (15.0, 75.0),
            exclusive=True,
        ),
        _claude(
            "anthropic.claude-sonnet-4-20250514-v1:0", "Claude Sonnet 4", 64000, 200000, (3.0, 15.0)
        ),
        _claude(
            "anthropic.claude-3-7-sonnet-20250219-v1:0",
            "Claude 3.7 Sonnet",
            64000,
            200000,
            (3.0, 15.0),
        ),
        _claude(
            "anthropic.claude-3-5-sonnet-20240620-v1:0",
            "Claude 3.5 Sonnet",
            8192,
            200000,
            (3.0, 15.0),
        ),
        _claude(
            "anthropic.claude-3-5-haiku-20241022-v1:0",
            "Claude 3.5 Haiku",
            8192,
            200000,
            (0.8, 4.0),
        ),
        _claude(
            "anthropic.claude-3-haiku-20240307-v1:0",
            "Claude 3 Haiku",
            4096,
            200000,
            (0.25, 1.25),
        ),
        _claude(
            "anthropic.claude-v2:1",
            "Claude 2.1",
            4096,
            200000,
            (8.0, 24.0),
            fmt=TEXT_COMPLETION,
            legacy=True,
        ),
        _claude(
            "anthropic.claude-v2",
            "Claude 2",
            4096,
            100000,
            (8.0, 24.0),
            fmt=TEXT_COMPLETION,
            legacy=True,
        ),
        _claude(
            "anthropic.claude-instant-v1",
            "Claude Instant",
            4096,
            100000,
            (0.8, 2.4),
            fmt=TEXT_COMPLETION,
            legacy=True,
        ),
        ModelInfo(
            "meta.llama3-1-70b-instruct-v1:0",
            "Llama 3.1 70B Instruct",
            "Meta",
            CONVERSE,
            max_output=2048,
            context=128000,
            defaults={"temperature": 0.5, "top_p": 0.9},
            price_in=0.72,
            price_out=0.72,
        ),
        ModelInfo(
            "mistral.mistral-large-2407-v1:0",
            "Mistral Large (24.07)",
            "Mistral AI",
            CONVERSE,
            max_output=8192,
            context=128000,
            defaults={"temperature": 0.7, "top_p": 1.0},
            price_in=2.0,
            price_out=6.0,
        ),
        ModelInfo(
            "amazon.nova-pro-v1:0",
            "Amazon Nova Pro",
            "Amazon",
            CONVERSE,
            max_output=10000,
            context=300000,
            defaults={"temperature": 0.7, "top_p": 0.9},
            price_in=0.8,
            price_out=3.2,
        ),
        ModelInfo(
            "amazon.nova-lite-v1:0",
            "Amazon Nova Lite",
            "Amazon",
            CONVERSE,
            max_output=10000,
            context=300000,
            defaults={"temperature": 0.7, "top_p": 0.9},
            price_in=0.06,
            price_out=0.24,
        ),
    )
}


def base_model_id(model_id: str) -> str:
    """The foundation model behind an ARN or a cross-region inference profile id."""
    text = model_id.strip()
    match = _ARN_RE.match(text)
    if match:
        text = match.group(1)
    return _PROFILE_RE.sub("", text, count=1)


def _family_rules(base: str) -> ModelInfo:
    """Rules for an id that is not in MODELS, from its shape alone."""
    if base.startswith("anthropic."):
        legacy = bool(re.match(r"^anthropic\.claude-(v\d|instant)", base))
        exclusive = bool(re.search(r"claude-(opus|sonnet|haiku)-(4-[1-9]|[5-9])", base))
        return ModelInfo(
            model_id=base,
            name=base,
            provider="Anthropic",
            format=TEXT_COMPLETION if legacy else MESSAGES,
            takes_top_k=True,
            exclusive_temperature_top_p=exclusive,
            defaults=_ANTHROPIC_DEFAULTS,
            known=False,
            legacy=legacy,
        )
    provider = base.split(".", 1)[0] if "." in base else ""
    return ModelInfo(model_id=base, name=base, provider=provider, format=CONVERSE, known=False)


def lookup(model_id: str) -> ModelInfo:
    """What we know about any model id (never fails)."""
    base = base_model_id(model_id)
    return MODELS.get(base) or _family_rules(base)


def wire_format(model_id: str) -> str:
    return lookup(model_id).format


def default_model(region: str | None) -> str:
    """Claude Sonnet 4.5 through the cross-region inference profile that fits the region."""
    base = "anthropic.claude-sonnet-4-5-20250929-v1:0"
    region = (region or "").lower()
    if region.startswith("us-gov-"):
        prefix = "us-gov"
    elif region.startswith(("us-", "ca-")):
        prefix = "us"
    elif region.startswith("eu-"):
        prefix = "eu"
    elif region in ("ap-northeast-1", "ap-northeast-3"):
        prefix = "jp"
    elif region in ("ap-southeast-2", "ap-southeast-4"):
        prefix = "au"
    elif region.startswith("ap-"):
        prefix = "apac"
    else:
        prefix = "global"
    return f"{prefix}.{base}"


def suggestions(region: str | None = None) -> list[str]:
    """Model ids to offer in the model field: profiles for the region first, then bases."""
    out: list[str] = []
    prefix = default_model(region).split(".", 1)[0]
    for model_id, info in MODELS.items():
        if info.format != TEXT_COMPLETION and not model_id.startswith(("meta.", "mistral.")):
            out.append(f"{prefix}.{model_id}")
    out.extend(MODELS)
    return out


def price_for(
    model_id: str, overrides: dict[str, tuple[float, float]] | None = None
) -> tuple[float, float] | None:
    """(input, output) USD per million tokens: config.toml's [prices] for the id or its base
    model first, then the catalog; None when unknown. Always an estimate."""
    overrides = overrides or {}
    base = base_model_id(model_id)
    for key in (model_id, base):
        if key in overrides:
            return overrides[key]
    info = lookup(model_id)
    if info.price_in is None or info.price_out is None:
        return None
    return (info.price_in, info.price_out)


def model_id_problem(model_id: str) -> str | None:
    """Why `model_id` cannot be a Bedrock model id, as one line (None when it can be one)."""
    allowed = model_id_allowed(model_id.strip())
    return None if allowed is None else f"model must be {allowed}"
