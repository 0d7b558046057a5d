"""Known models: how an id maps to a model, its wire format, limits, prices, lifecycle and rules.

The facts live in `catalog.toml` beside this file, each with its source; this module reads
them (once, on first use) and answers questions about any id. Any model id is accepted: ARNs
and cross-region inference-profile ids (`us.`, `eu.`, `apac.`, `global.`...) resolve to their
base model. A Claude id the catalogue does not know takes the rules of the nearest known
version of its tier, or, when it is newer than every model here, the newest model's rules;
any other unknown id goes through ConverseStream with no limits assumed.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from tui_chat.params import (
    SEED_DEFAULTS,
    Params,
)
from tui_chat.params import (
    THINKING_ADAPTIVE as PARAM_ADAPTIVE,
)
from tui_chat.params import (
    THINKING_OFF as PARAM_OFF,
)

TEXT_COMPLETION = "text-completion"
MESSAGES = "messages"
CONVERSE = "converse"

#: Thinking modes (see catalog.toml).
THINKING_NONE, THINKING_BUDGET, THINKING_ADAPTIVE = "none", "budget", "adaptive"
THINKING_ADAPTIVE_ONLY, THINKING_ALWAYS = "adaptive-only", "always"
#: Sampling rules.
SAMPLING_ALL, SAMPLING_ONE_OF, SAMPLING_NONE = "all", "one-of", "none"
#: The smallest thinking budget any model takes.
MIN_THINKING_BUDGET = 1024

_CATALOG_FILE = Path(__file__).with_name("catalog.toml")
_PROFILE_PREFIXES = ("us-gov", "us", "eu", "apac", "global", "jp", "au", "ca")
_PROFILE_RE = re.compile(r"^(?:" + "|".join(_PROFILE_PREFIXES) + r")\.(?=[a-z0-9-]+\.)")
_ARN_RE = re.compile(
    r"^arn:aws[a-z-]*:bedrock:[a-z0-9-]*:\d*:"
    r"(?:foundation-model|inference-profile|provisioned-model|custom-model)/(.+)$"
)
# anthropic.claude-sonnet-4-5-20250929-v1:0, anthropic.claude-opus-5-5, anthropic.claude-fable-5
_NEW_STYLE = re.compile(
    r"^anthropic\.claude-(?P<tier>[a-z]+)-(?P<major>\d+)(?:-(?P<minor>\d{1,2})(?!\d))?(?:-|:|$)"
)
# anthropic.claude-3-5-haiku-20241022-v1:0, anthropic.claude-3-opus-20240229-v1:0
_OLD_STYLE = re.compile(
    r"^anthropic\.claude-(?P<major>\d+)(?:-(?P<minor>\d{1,2})(?!\d))?-(?P<tier>[a-z]+)(?:-|:|$)"
)
_LEGACY_TEXT = re.compile(r"^anthropic\.claude-(v\d|instant)")


@dataclass(frozen=True)
class ModelInfo:
    """What the app knows of a model: format, limits, prices, lifecycle and its rules."""

    model_id: str
    name: str
    provider: str
    format: str
    max_output: int | None = None
    context: int | None = None
    tier: str = ""
    version: tuple[int, int] = (0, 0)
    profiles: tuple[str, ...] = ()
    sampling: str = SAMPLING_ALL
    top_k: bool = False
    thinking: str = THINKING_NONE
    thinking_display: bool = False
    effort_levels: tuple[str, ...] = ()
    effort_default: str = ""
    prefill: bool = True
    cache_min_tokens: int = 0
    tokenizer: float = 1.0
    #: Whether the model reads images, and documents (PDF, DOCX...), in a user turn.
    images: bool = False
    documents: bool = False
    # The model's own defaults: a parameter equal to its default is not sent.
    defaults: Mapping[str, float | int] = field(default_factory=dict)
    price_in: float | None = None
    price_out: float | None = None
    price_cache_write: float | None = None
    price_cache_read: float | None = None
    status: str = "active"  # active | legacy | eol
    eol: date | None = None
    note: str = ""
    #: Rule name -> the URL it comes from (catalog.toml's [sources]).
    sources: Mapping[str, str] = field(default_factory=dict)
    known: bool = True

    @property
    def takes_top_k(self) -> bool:
        return self.top_k and self.sampling != SAMPLING_NONE

    @property
    def exclusive_temperature_top_p(self) -> bool:
        """Claude 4.5-class models refuse requests that set both temperature and top_p."""
        return self.sampling == SAMPLING_ONE_OF

    @property
    def takes_sampling(self) -> bool:
        return self.sampling != SAMPLING_NONE

    @property
    def takes_budget(self) -> bool:
        return self.thinking in (THINKING_BUDGET, THINKING_ADAPTIVE)

    @property
    def takes_adaptive(self) -> bool:
        return self.thinking in (THINKING_ADAPTIVE, THINKING_ADAPTIVE_ONLY, THINKING_ALWAYS)

    @property
    def legacy(self) -> bool:
        return self.status in ("legacy", "eol")

    def lifecycle_words(self) -> str:
        """'legacy', 'legacy: end of life 2026-04-28'... or '' for an active model."""
        if self.status == "active":
            return ""
        words = "end of life" if self.status == "eol" else "legacy"
        if self.eol is not None:
            words += f" {self.eol.isoformat()}" if self.status == "eol" else f", ends {self.eol}"
        return words


_ANTHROPIC_DEFAULTS = {"temperature": 1.0, "top_p": 1.0, "top_k": 250}
_RULE_KEYS = {
    "format": "format",
    "sampling": "sampling",
    "top_k": "top_k",
    "thinking": "thinking",
    "thinking_display": "thinking_display",
    "effort": "effort_levels",
    "effort_default": "effort_default",
    "prefill": "prefill",
    "cache_min_tokens": "cache_min_tokens",
    "tokenizer": "tokenizer",
    "images": "images",
    "documents": "documents",
}


class CatalogError(Exception):
    """catalog.toml is broken: a bug in the package, reported with the model and key."""


def _model_from_toml(entry: dict[str, Any], data: dict[str, Any]) -> ModelInfo:
    sources = data.get("sources", {})
    rules_name = entry.get("rules", "")
    rules = data.get("rules", {}).get(rules_name)
    if rules is None:
        raise CatalogError(f"{entry.get('id')}: unknown rules {rules_name!r}")
    anthropic = entry["id"].startswith("anthropic.")
    values: dict[str, Any] = {"format": MESSAGES, "top_k": anthropic}
    for layer in (rules, entry):
        for key, attribute in _RULE_KEYS.items():
            if key in layer:
                values[attribute] = layer[key]
    # Each rule's source, then the model's own: where its id, limits and prices come from.
    cited = {key: sources.get(name, name) for key, name in rules.get("source", {}).items()}
    for key, rule in (("source", "model"), ("id_source", "id"), ("price_source", "price")):
        if key in entry:
            cited[rule] = sources.get(entry[key], entry[key])
    values["effort_levels"] = tuple(values.get("effort_levels", ()))
    price = entry.get("price") or (None, None)
    cache_price = entry.get("cache_price") or (None, None)
    version = tuple(entry.get("version", (0, 0)))
    return ModelInfo(
        model_id=entry["id"],
        name=entry["name"],
        provider=entry.get("provider", "Anthropic" if anthropic else ""),
        max_output=entry.get("max_output"),
        context=entry.get("context"),
        tier=entry.get("tier", ""),
        version=(int(version[0]), int(version[1])) if len(version) == 2 else (0, 0),
        profiles=tuple(entry.get("profiles", ())),
        defaults=dict(entry.get("defaults") or (_ANTHROPIC_DEFAULTS if anthropic else {})),
        price_in=price[0],
        price_out=price[1],
        price_cache_write=cache_price[0],
        price_cache_read=cache_price[1],
        status=entry.get("status", "active"),
        eol=entry.get("eol"),
        note=entry.get("note", ""),
        sources=cited,
        **values,
    )


@functools.cache
def _catalog() -> tuple[dict[str, ModelInfo], dict[str, Any]]:
    with _CATALOG_FILE.open("rb") as handle:
        data = tomllib.load(handle)
    models = {m["id"]: _model_from_toml(m, data) for m in data.get("models", [])}
    return models, data


def models() -> dict[str, ModelInfo]:
    """Every model the catalogue knows, by base id, in the file's order (oldest first)."""
    return _catalog()[0]


def sources() -> dict[str, str]:
    """catalog.toml's [sources]: name -> URL."""
    return dict(_catalog()[1].get("sources", {}))


def checked() -> date | None:
    """When the catalogue's facts were last checked."""
    return _catalog()[1].get("checked")


def base_model_id(model_id: str) -> str:
    """The foundation model behind an ARN or a cross-region inference profile id."""
    text = model_id.strip()
    match = _ARN_RE.match(text)
    if match:
        text = match.group(1)
    return _PROFILE_RE.sub("", text, count=1)


def claude_version(base: str) -> tuple[str, tuple[int, int]] | None:
    """(tier, (major, minor)) read from a Claude id's shape, e.g. ('sonnet', (4, 5))."""
    match = _NEW_STYLE.match(base) or _OLD_STYLE.match(base)
    if not match:
        return None
    tier = match.group("tier")
    if tier in ("v1", "v2", "instant"):
        return None
    return tier, (int(match.group("major")), int(match.group("minor") or 0))


def _family_rules(base: str) -> ModelInfo:
    """Rules for an id that is not in the catalogue, from its shape alone."""
    if not base.startswith("anthropic."):
        provider = base.split(".", 1)[0] if "." in base else ""
        return ModelInfo(model_id=base, name=base, provider=provider, format=CONVERSE, known=False)
    known = list(models().values())
    if _LEGACY_TEXT.match(base):
        like = next(m for m in known if m.format == TEXT_COMPLETION)
        return _unknown_like(base, like)
    parsed = claude_version(base)
    claude = [m for m in known if m.provider == "Anthropic" and m.format == MESSAGES]
    if parsed is None:
        return _unknown_like(base, max(claude, key=lambda m: m.version))
    tier, version = parsed
    newest = max(claude, key=lambda m: m.version)
    if version > newest.version:
        # Newer than the catalogue: the newest model's rules (of the same tier if it has one
        # at that version).
        same = [m for m in claude if m.tier == tier and m.version == newest.version]
        return _unknown_like(base, same[0] if same else newest)
    older = [m for m in claude if m.version <= version]
    same_tier = [m for m in older if m.tier == tier]
    like = max(same_tier or older or claude, key=lambda m: m.version)
    return _unknown_like(base, like)


def _unknown_like(base: str, like: ModelInfo) -> ModelInfo:
    """An unknown model with `like`'s rules but none of its limits, prices or lifecycle."""
    return replace(
        like,
        model_id=base,
        name=base,
        max_output=None,
        context=None,
        profiles=(),
        price_in=None,
        price_out=None,
        price_cache_write=None,
        price_cache_read=None,
        status="active",
        eol=None,
        note=f"not in the catalogue; rules of {like.name}",
        known=False,
    )


@functools.cache
def _lookup_base(base: str) -> ModelInfo:
    return models().get(base) or _family_rules(base)


def lookup(model_id: str) -> ModelInfo:
    """What we know about any model id (never fails)."""
    return _lookup_base(base_model_id(model_id))


def display_name(model_id: str) -> str:
    """The model's name ('Claude Sonnet 5.5'), or the id itself when it is not known."""
    info = lookup(model_id)
    return info.name if info.known else model_id


def wire_format(model_id: str) -> str:
    return lookup(model_id).format


def geography(region: str | None) -> str:
    """The inference-profile geography of a region: us, eu, jp, au, apac... or global."""
    region = (region or "").lower()
    if region.startswith("us-gov-"):
        return "us-gov"
    if region.startswith(("us-", "ca-")):
        return "us"
    if region.startswith("eu-"):
        return "eu"
    if region in ("ap-northeast-1", "ap-northeast-3"):
        return "jp"
    if region in ("ap-southeast-2", "ap-southeast-4"):
        return "au"
    if region.startswith("ap-"):
        return "apac"
    return "global"


def profile_id(info: ModelInfo, region: str | None) -> str:
    """The id to call `info` by in `region`: its profile for the region's geography, else its
    global profile, else the base id."""
    wanted = geography(region)
    for prefix in (wanted, "global"):
        if prefix in info.profiles:
            return f"{prefix}.{info.model_id}"
    return info.model_id


def newest(tier: str, region: str | None = None, available: set[str] | None = None) -> str | None:
    """The newest active model of a tier, called by the id that fits the region. With
    `available` (ids the account lists), only models among them count."""
    candidates = [
        m
        for m in models().values()
        if m.tier == tier and m.status == "active" and m.format == MESSAGES
    ]
    candidates.sort(key=lambda m: m.version, reverse=True)
    for info in candidates:
        if available is None:
            return profile_id(info, region)
        wanted = geography(region)
        for prefix in (wanted, "global", ""):
            model_id = f"{prefix}.{info.model_id}" if prefix else info.model_id
            if model_id in available:
                return model_id
    return None


def default_model(region: str | None) -> str:
    """The newest active Claude Sonnet through the inference profile that fits the region."""
    return newest("sonnet", region) or "anthropic.claude-sonnet-4-5-20250929-v1:0"


def replacement(model_id: str, region: str | None = None) -> str | None:
    """A current model to move a legacy or retired one to: the newest active model of the
    same tier (Sonnet for the Claude 2 and Instant models)."""
    info = lookup(model_id)
    if info.provider != "Anthropic":
        return None
    tier = info.tier if info.tier in ("haiku", "sonnet", "opus", "fable", "mythos") else "sonnet"
    found = newest(tier, region)
    if found is not None and base_model_id(found) == info.model_id:
        return None
    return found


def replacement_for(model_id: str) -> str | None:
    """`replacement` called the way `model_id` was: through the same profile geography."""
    base = base_model_id(model_id)
    prefix = model_id[: -len(base)].rstrip(".") if model_id.endswith(base) else ""
    region = {"us": "us-east-1", "eu": "eu-west-1", "jp": "ap-northeast-1"}.get(prefix)
    region = region or {"au": "ap-southeast-2", "apac": "ap-south-1"}.get(prefix)
    return replacement(base, region)


def suggestions(region: str | None = None) -> list[str]:
    """Model ids to offer in the model field: current models through the profile that fits
    the region first (newest first), then every id the catalogue knows."""
    current = [m for m in models().values() if m.status == "active" and m.format != TEXT_COMPLETION]
    anthropic = sorted(
        (m for m in current if m.provider == "Anthropic"), key=lambda m: m.version, reverse=True
    )
    others = [m for m in current if m.provider != "Anthropic"]
    out = [profile_id(m, region) for m in (*anthropic, *others)]
    out.extend(m for m in models() if m not in out)
    return list(dict.fromkeys(out))


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


def cache_prices(model_id: str, price_in: float) -> tuple[float, float]:
    """(cache write, cache read) USD per million tokens: the catalogue's, or the usual
    multiples of the input price (1.25x to write for five minutes, 0.1x to read)."""
    info = lookup(model_id)
    write = info.price_cache_write if info.price_cache_write is not None else price_in * 1.25
    read = info.price_cache_read if info.price_cache_read is not None else price_in * 0.1
    return write, read


def model_change_notes(old: Params, new_model: str) -> tuple[dict[str, Any], list[str]]:
    """What switching `old`'s conversation to `new_model` changes, and the words for it: the
    values that no longer apply are dropped (or fitted to the model), the rest kept."""
    info = lookup(new_model)
    name = info.name if info.known else "this model"
    changes: dict[str, Any] = {}
    notes: list[str] = []
    limit = info.max_output
    if limit and old.max_tokens_to_sample > limit:
        changes["max_tokens_to_sample"] = limit
        notes.append(f"max tokens lowered to {limit:,}, the most {name} writes")
    if old.effort and old.effort not in info.effort_levels:
        changes["effort"] = ""
        if info.effort_levels:
            offered = ", ".join(info.effort_levels)
            notes.append(f"effort {old.effort} dropped: {name} offers {offered}")
        else:
            notes.append(f"effort {old.effort} dropped: {name} takes no effort setting")
    thinking = old.thinking
    if thinking not in ("", PARAM_OFF):
        if info.thinking == THINKING_NONE:
            changes["thinking"] = ""
            notes.append(f"thinking dropped: {name} does not think before answering")
        elif isinstance(thinking, int) and not info.takes_budget:
            changes["thinking"] = PARAM_ADAPTIVE
            notes.append(f"thinking budget {thinking:,} became adaptive: {name} takes no budget")
        elif thinking == PARAM_ADAPTIVE and not info.takes_adaptive:
            changes["thinking"] = ""
            notes.append(f"adaptive thinking dropped: {name} takes a budget (or off)")
    if not info.takes_sampling:
        changed = [
            k
            for k in ("temperature", "top_p", "top_k")
            if getattr(old, k) != getattr(SEED_DEFAULTS, k)
        ]
        if changed:
            notes.append(f"{', '.join(changed)} kept but not sent: {name} sets its own sampling")
    return changes, notes
