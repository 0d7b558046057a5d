"""The emulator's model catalogue: a small, real-looking slice of Bedrock's.

Everything the emulator knows about a model lives here: what ListFoundationModels and
ListInferenceProfiles return, which ids and ARNs resolve to it, its limits and its rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"

# Geography prefix of a cross-region inference profile -> (display prefix, source regions).
GEOGRAPHIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "us": ("US", ("us-east-1", "us-east-2", "us-west-2")),
    "eu": ("EU", ("eu-central-1", "eu-west-1", "eu-west-3")),
    "apac": ("APAC", ("ap-northeast-1", "ap-southeast-1", "ap-southeast-2")),
    "jp": ("JP", ("ap-northeast-1", "ap-northeast-3")),
    "au": ("AU", ("ap-southeast-2", "ap-southeast-4")),
    "global": ("Global", ()),
}

# Families: how a model's native (InvokeModel) body looks and which extra fields it takes.
ANTHROPIC = "anthropic"
META = "meta"
MISTRAL = "mistral"
NOVA = "nova"
TITAN_EMBED = "titan-embed"
STRICT = "emulator"  # the emulator's own test model: Converse-shaped bodies, like Nova's

# Sampling rules (ModelInfo.sampling): which of temperature / top_p / top_k a model accepts.
SAMPLING_ALL = "all"  # any of them, together
SAMPLING_ONE_OF = "one-of"  # temperature or top_p, not both
SAMPLING_NONE = "none"  # only their default values (1.0 / 1.0 / no top_k)
SAMPLING_FABLE = "fable"  # temperature 1.0, top_p in [0.99, 1.0), no top_k
SAMPLING_NO_TEMPERATURE = "no-temperature"  # any temperature at all is refused

# Extended thinking (ModelInfo.thinking): which ``thinking`` requests a model takes.
THINKING_NONE = "none"  # no thinking; any ``thinking`` field is refused
THINKING_BUDGET = "budget"  # {type: enabled, budget_tokens} (or disabled)
THINKING_ADAPTIVE = "adaptive"  # adaptive; enabled is deprecated but accepted; or disabled
THINKING_ADAPTIVE_ONLY = "adaptive-only"  # adaptive or nothing; enabled/disabled refused
THINKING_ALWAYS = "always"  # thinks on every request; adaptive accepted, enabled/disabled refused

EFFORT_LEVELS = ("low", "medium", "high", "xhigh", "max")


@dataclass(frozen=True)
class ModelInfo:
    model_id: str
    name: str
    provider: str
    family: str
    max_output: int
    context_window: int
    input_modalities: tuple[str, ...] = ("TEXT",)
    output_modalities: tuple[str, ...] = ("TEXT",)
    streaming: bool = True
    inference_types: tuple[str, ...] = ("ON_DEMAND",)
    lifecycle: str = "ACTIVE"
    customizations: tuple[str, ...] = ()
    profiles: tuple[str, ...] = ()
    legacy_text: bool = False  # also accepts the legacy text-completion body (prompt=...)
    release: str = "2024-01-01T00:00:00Z"  # also ListFoundationModels' startOfLifeTime
    sampling: str = SAMPLING_ALL
    thinking: str = THINKING_NONE
    # From Opus 4.7 on, thinking text comes back empty unless thinking.display is "summarized";
    # on older models ``display`` is not a field of ``thinking`` at all.
    thinking_display: bool = False
    effort_levels: tuple[str, ...] = ()  # output_config.effort values; () when not supported
    effort_default: str = "high"
    prefill: bool = True  # a final assistant turn is accepted (False from the 4.6 models on)
    # Image and document content blocks in user turns. Claude 3 and later take both (3.5 Haiku
    # reads no images on Bedrock), Claude 2 and Instant neither, Nova Pro and Lite both; Nova
    # Micro would take neither and Llama 3.2 11B/90B images only; the rest take neither.
    images: bool = False
    documents: bool = False
    cache_min_tokens: int | None = None  # None: no prompt caching, cache points are ignored
    # End of life: not listed and no profiles, but the runtime still knows the id and answers
    # every request with a 404, as Bedrock does for a retired model version.
    eol: bool = False
    legacy_time: str | None = None
    end_of_life: str | None = None

    @property
    def is_text(self) -> bool:
        return "TEXT" in self.output_modalities

    @property
    def on_demand(self) -> bool:
        return "ON_DEMAND" in self.inference_types

    @property
    def start_of_life(self) -> str:
        return self.release

    @property
    def anthropic_name(self) -> str:
        """The name Anthropic's API uses for this model (``message.model`` in responses).

        ``claude-3-haiku-20240307-v1:0`` -> ``claude-3-haiku-20240307``; the dateless ids of
        the newer models lose a bare ``-v1`` too (``claude-opus-4-6-v1`` -> ``claude-opus-4-6``),
        but ``claude-v2`` and ``claude-instant-v1`` keep theirs: it is their version.
        """
        name = re.sub(r"-v\d+:\d+$", "", self.model_id.split(".", 1)[1])
        return re.sub(r"(?<=\d)-v\d+$", "", name)

    def arn(self, region: str) -> str:
        return f"arn:aws:bedrock:{region}::foundation-model/{self.model_id}"


_ALL_GEOS = ("us", "eu", "apac")
_FIVE_EFFORTS = EFFORT_LEVELS


def _claude(
    model_id: str,
    name: str,
    *,
    release: str,
    context_window: int = 200_000,
    max_output: int = 64_000,
    **rules: object,
) -> ModelInfo:
    """A current-generation Claude model: text, images and documents in, inference profiles
    only."""
    rules.setdefault("inference_types", ("INFERENCE_PROFILE",))
    rules.setdefault("images", True)
    rules.setdefault("documents", True)
    return ModelInfo(
        model_id,
        name,
        "Anthropic",
        ANTHROPIC,
        max_output=max_output,
        context_window=context_window,
        input_modalities=("TEXT", "IMAGE"),
        release=release,
        **rules,  # type: ignore[arg-type]
    )


# The 4.6 generation on: 1M context, 128k output, no prefill, effort levels.
_NEW = {"context_window": 1_000_000, "max_output": 128_000, "prefill": False}
# Models from Opus 4.7 on: no sampling parameters, adaptive thinking with hidden text by default.
_DISPLAY = {**_NEW, "sampling": SAMPLING_NONE, "thinking_display": True}

MODELS: tuple[ModelInfo, ...] = (
    ModelInfo(
        "anthropic.claude-v2",
        "Claude",
        "Anthropic",
        ANTHROPIC,
        max_output=4096,
        context_window=100_000,
        lifecycle="LEGACY",
        legacy_text=True,
        release="2023-07-11T00:00:00Z",
    ),
    ModelInfo(
        "anthropic.claude-v2:1",
        "Claude",
        "Anthropic",
        ANTHROPIC,
        max_output=4096,
        context_window=200_000,
        lifecycle="LEGACY",
        legacy_text=True,
        release="2023-11-21T00:00:00Z",
    ),
    ModelInfo(
        "anthropic.claude-instant-v1",
        "Claude Instant",
        "Anthropic",
        ANTHROPIC,
        max_output=4096,
        context_window=100_000,
        lifecycle="LEGACY",
        legacy_text=True,
        release="2023-08-09T00:00:00Z",
    ),
    # -- end of life: the runtime answers 404 (see resolve() and the server)
    ModelInfo(
        "anthropic.claude-3-haiku-20240307-v1:0",
        "Claude 3 Haiku",
        "Anthropic",
        ANTHROPIC,
        max_output=4096,
        context_window=200_000,
        input_modalities=("TEXT", "IMAGE"),
        customizations=("FINE_TUNING",),
        lifecycle="LEGACY",
        eol=True,
        end_of_life="2026-09-10T00:00:00Z",
        release="2024-03-13T00:00:00Z",
        images=True,
        documents=True,
    ),
    ModelInfo(
        "anthropic.claude-3-5-sonnet-20240620-v1:0",
        "Claude 3.5 Sonnet",
        "Anthropic",
        ANTHROPIC,
        max_output=8192,
        context_window=200_000,
        input_modalities=("TEXT", "IMAGE"),
        lifecycle="LEGACY",
        eol=True,
        end_of_life="2026-03-01T00:00:00Z",
        release="2024-06-20T00:00:00Z",
        images=True,
        documents=True,
    ),
    ModelInfo(
        "anthropic.claude-3-5-haiku-20241022-v1:0",
        "Claude 3.5 Haiku",
        "Anthropic",
        ANTHROPIC,
        max_output=8192,
        context_window=200_000,
        inference_types=("INFERENCE_PROFILE",),
        lifecycle="LEGACY",
        eol=True,
        end_of_life="2026-06-19T00:00:00Z",
        cache_min_tokens=2048,
        release="2024-11-04T00:00:00Z",
        documents=True,
    ),
    ModelInfo(
        "anthropic.claude-3-7-sonnet-20250219-v1:0",
        "Claude 3.7 Sonnet",
        "Anthropic",
        ANTHROPIC,
        max_output=64_000,
        context_window=200_000,
        input_modalities=("TEXT", "IMAGE"),
        inference_types=("INFERENCE_PROFILE",),
        lifecycle="LEGACY",
        eol=True,
        end_of_life="2026-04-28T00:00:00Z",
        thinking=THINKING_BUDGET,
        cache_min_tokens=1024,
        release="2025-02-24T00:00:00Z",
        images=True,
        documents=True,
    ),
    # -- Claude 4 and later: inference profiles only. AWS has published no legacy or
    #    end-of-life dates for the LEGACY ones, so none are given; the release dates from
    #    Opus 4.7 on are approximate.
    _claude(
        "anthropic.claude-sonnet-4-20250514-v1:0",
        "Claude Sonnet 4",
        release="2025-05-22T00:00:00Z",
        lifecycle="LEGACY",
        profiles=(*_ALL_GEOS, "global"),
        thinking=THINKING_BUDGET,
        cache_min_tokens=1024,
    ),
    _claude(
        "anthropic.claude-opus-4-1-20250805-v1:0",
        "Claude Opus 4.1",
        release="2025-08-05T00:00:00Z",
        max_output=32_000,
        lifecycle="LEGACY",
        profiles=("us",),
        sampling=SAMPLING_ONE_OF,
        thinking=THINKING_BUDGET,
        cache_min_tokens=1024,
    ),
    _claude(
        "anthropic.claude-sonnet-4-5-20250929-v1:0",
        "Claude Sonnet 4.5",
        release="2025-09-29T00:00:00Z",
        lifecycle="LEGACY",
        profiles=("us", "eu", "jp", "global"),
        sampling=SAMPLING_ONE_OF,
        thinking=THINKING_BUDGET,
        cache_min_tokens=1024,
    ),
    _claude(
        "anthropic.claude-haiku-4-5-20251001-v1:0",
        "Claude Haiku 4.5",
        release="2025-10-15T00:00:00Z",
        profiles=("us", "global"),
        sampling=SAMPLING_ONE_OF,
        thinking=THINKING_BUDGET,
        cache_min_tokens=4096,
    ),
    _claude(
        "anthropic.claude-opus-4-5-20251101-v1:0",
        "Claude Opus 4.5",
        release="2025-11-24T00:00:00Z",
        lifecycle="LEGACY",
        profiles=("us", "eu", "global"),
        sampling=SAMPLING_ONE_OF,
        thinking=THINKING_BUDGET,
        effort_levels=("low", "medium", "high"),
        cache_min_tokens=4096,
    ),
    _claude(
        "anthropic.claude-opus-4-6-v1",
        "Claude Opus 4.6",
        release="2026-02-05T00:00:00Z",
        profiles=("us", "eu", "jp", "apac", "global"),
        sampling=SAMPLING_ONE_OF,
        thinking=THINKING_ADAPTIVE,
        effort_levels=("low", "medium", "high", "max"),
        cache_min_tokens=4096,
        **_NEW,
    ),
    _claude(
        "anthropic.claude-sonnet-4-6",
        "Claude Sonnet 4.6",
        release="2026-02-17T00:00:00Z",
        profiles=("us", "eu", "jp", "global"),
        sampling=SAMPLING_ONE_OF,
        thinking=THINKING_ADAPTIVE,
        effort_levels=("low", "medium", "high", "max"),
        cache_min_tokens=2048,
        **_NEW,
    ),
    _claude(
        "anthropic.claude-opus-4-7",
        "Claude Opus 4.7",
        release="2026-04-16T00:00:00Z",
        profiles=("us", "eu", "global"),
        thinking=THINKING_ADAPTIVE_ONLY,
        effort_levels=_FIVE_EFFORTS,
        cache_min_tokens=4096,
        **_DISPLAY,
    ),
    _claude(
        "anthropic.claude-opus-4-8",
        "Claude Opus 4.8",
        release="2026-06-04T00:00:00Z",
        profiles=("us", "au", "global"),
        thinking=THINKING_ADAPTIVE_ONLY,
        effort_levels=_FIVE_EFFORTS,
        cache_min_tokens=1024,
        **_DISPLAY,
    ),
    _claude(
        "anthropic.claude-sonnet-5",
        "Claude Sonnet 5",
        release="2026-07-15T00:00:00Z",
        profiles=("us", "eu", "global"),
        thinking=THINKING_ALWAYS,
        effort_levels=_FIVE_EFFORTS,
        cache_min_tokens=1024,
        **_DISPLAY,
    ),
    _claude(
        "anthropic.claude-opus-5",
        "Claude Opus 5",
        release="2026-08-19T00:00:00Z",
        profiles=("us", "eu", "jp", "au", "global"),
        thinking=THINKING_ADAPTIVE_ONLY,
        effort_levels=_FIVE_EFFORTS,
        cache_min_tokens=1024,
        **_DISPLAY,
    ),
    _claude(
        "anthropic.claude-fable-5",
        "Claude Fable 5",
        release="2026-09-23T00:00:00Z",
        profiles=("us", "global"),
        thinking=THINKING_ALWAYS,
        effort_levels=_FIVE_EFFORTS,
        cache_min_tokens=1024,
        **{**_DISPLAY, "sampling": SAMPLING_FABLE},
    ),
    _claude(
        "anthropic.claude-sonnet-5-5",
        "Claude Sonnet 5.5",
        release="2026-10-21T00:00:00Z",
        profiles=("us", "eu", "global"),
        thinking=THINKING_ALWAYS,
        effort_levels=_FIVE_EFFORTS,
        cache_min_tokens=1024,
        **_DISPLAY,
    ),
    _claude(
        "anthropic.claude-opus-5-5",
        "Claude Opus 5.5",
        release="2026-11-04T00:00:00Z",
        profiles=("us", "eu", "global"),
        thinking=THINKING_ALWAYS,
        effort_levels=_FIVE_EFFORTS,
        effort_default="medium",
        cache_min_tokens=1024,
        **_DISPLAY,
    ),
    _claude(
        "anthropic.claude-haiku-5-5",
        "Claude Haiku 5.5",
        release="2026-11-18T00:00:00Z",
        profiles=("us", "global"),
        thinking=THINKING_ALWAYS,
        effort_levels=_FIVE_EFFORTS,
        effort_default="medium",
        cache_min_tokens=1024,
        **_DISPLAY,
    ),
    # -- other providers
    ModelInfo(
        "meta.llama3-1-70b-instruct-v1:0",
        "Llama 3.1 70B Instruct",
        "Meta",
        META,
        max_output=2048,
        context_window=128_000,
        customizations=("FINE_TUNING", "DISTILLATION"),
        release="2024-07-23T00:00:00Z",
    ),
    ModelInfo(
        "mistral.mistral-large-2407-v1:0",
        "Mistral Large (24.07)",
        "Mistral AI",
        MISTRAL,
        max_output=8192,
        context_window=128_000,
        release="2024-07-24T00:00:00Z",
    ),
    ModelInfo(
        "amazon.nova-pro-v1:0",
        "Nova Pro",
        "Amazon",
        NOVA,
        max_output=10_000,
        context_window=300_000,
        input_modalities=("TEXT", "IMAGE", "VIDEO"),
        customizations=("FINE_TUNING", "DISTILLATION"),
        profiles=_ALL_GEOS,
        release="2024-12-03T00:00:00Z",
        images=True,
        documents=True,
    ),
    ModelInfo(
        "amazon.nova-lite-v1:0",
        "Nova Lite",
        "Amazon",
        NOVA,
        max_output=10_000,
        context_window=300_000,
        input_modalities=("TEXT", "IMAGE", "VIDEO"),
        customizations=("FINE_TUNING",),
        profiles=_ALL_GEOS,
        release="2024-12-03T00:00:00Z",
        images=True,
        documents=True,
    ),
    ModelInfo(
        "amazon.titan-embed-text-v2:0",
        "Titan Text Embeddings V2",
        "Amazon",
        TITAN_EMBED,
        max_output=0,
        context_window=8192,
        output_modalities=("EMBEDDING",),
        streaming=False,
        release="2024-04-30T00:00:00Z",
    ),
    # A model the app's own catalogue cannot know, with a sampling rule it can only learn from
    # Bedrock's refusal: any temperature at all is refused.
    ModelInfo(
        "emulator.strict-sampler-v1:0",
        "Strict sampler (emulator test model)",
        "Emulator",
        STRICT,
        max_output=4096,
        context_window=32_000,
        sampling=SAMPLING_NO_TEMPERATURE,
        release="2026-01-01T00:00:00Z",
    ),
)

BY_ID: dict[str, ModelInfo] = {m.model_id: m for m in MODELS}


@dataclass(frozen=True)
class InferenceProfile:
    profile_id: str
    geography: str
    model: ModelInfo

    @property
    def name(self) -> str:
        return f"{GEOGRAPHIES[self.geography][0]} {self.model.provider} {self.model.name}"

    def arn(self, region: str) -> str:
        return f"arn:aws:bedrock:{region}:{ACCOUNT_ID}:inference-profile/{self.profile_id}"

    def description(self) -> str:
        regions = GEOGRAPHIES[self.geography][1]
        if not regions:
            return f"Routes requests to {self.model.provider} {self.model.name} globally."
        where = ", ".join(regions[:-1]) + f" and {regions[-1]}"
        return f"Routes requests to {self.model.provider} {self.model.name} in {where}."

    def model_arns(self) -> list[str]:
        regions = GEOGRAPHIES[self.geography][1]
        if not regions:
            return [f"arn:aws:bedrock:::foundation-model/{self.model.model_id}"]
        return [self.model.arn(r) for r in regions]


PROFILES: tuple[InferenceProfile, ...] = tuple(
    InferenceProfile(f"{geo}.{m.model_id}", geo, m)
    for m in MODELS
    if not m.eol
    for geo in m.profiles
)
PROFILES_BY_ID: dict[str, InferenceProfile] = {p.profile_id: p for p in PROFILES}


def geographies_for_region(region: str) -> tuple[str, ...]:
    """The profile geographies a region lists (the real service lists only its own + global)."""
    if region.startswith("us-"):
        return ("us", "global")
    if region.startswith("eu-"):
        return ("eu", "global")
    if region in ("ap-northeast-1", "ap-northeast-3"):
        return ("jp", "global")
    if region in ("ap-southeast-2", "ap-southeast-4"):
        return ("au", "global")
    if region.startswith("ap-"):
        return ("apac", "global")
    return tuple(GEOGRAPHIES)


@dataclass(frozen=True)
class Resolved:
    model: ModelInfo
    profile: InferenceProfile | None  # set when the id named an inference profile


_ARN = re.compile(r"^arn:aws(?:-[a-z-]+)?:bedrock:([a-z0-9-]*):(\d{12})?:([a-z-]+)/(.+)$")


def _retired_profile(ident: str) -> ModelInfo | None:
    """The end-of-life model behind a profile id such as ``us.<id>``, or None.

    Retired models have no profiles any more, but the runtime still recognises the ids clients
    have stored (so that they get the end-of-life 404, not "invalid model identifier").
    """
    geography, _, base = ident.partition(".")
    model = BY_ID.get(base)
    if geography in GEOGRAPHIES and model is not None and model.eol:
        return model
    return None


def resolve(model_id: str) -> Resolved | None:
    """Map a model id, profile id or ARN to its base model; None when it names nothing known.

    End-of-life models resolve too (``Resolved.model.eol``): the runtime answers them with 404.
    """
    arn = _ARN.match(model_id)
    if arn:
        kind, ident = arn.group(3), arn.group(4)
        if kind == "foundation-model" and arn.group(2) is None and ident in BY_ID:
            return Resolved(BY_ID[ident], None)
        if kind == "inference-profile" and arn.group(2):
            if ident in PROFILES_BY_ID:
                profile = PROFILES_BY_ID[ident]
                return Resolved(profile.model, profile)
            retired = _retired_profile(ident)
            if retired is not None:
                return Resolved(retired, None)
        return None
    if model_id in BY_ID:
        return Resolved(BY_ID[model_id], None)
    if model_id in PROFILES_BY_ID:
        profile = PROFILES_BY_ID[model_id]
        return Resolved(profile.model, profile)
    retired = _retired_profile(model_id)
    if retired is not None:
        return Resolved(retired, None)
    return None


def foundation_model_summary(model: ModelInfo, region: str) -> dict:
    return {
        "modelArn": model.arn(region),
        "modelId": model.model_id,
        "modelName": model.name,
        "providerName": model.provider,
        "inputModalities": list(model.input_modalities),
        "outputModalities": list(model.output_modalities),
        "responseStreamingSupported": model.streaming,
        "customizationsSupported": list(model.customizations),
        "inferenceTypesSupported": list(model.inference_types),
        "modelLifecycle": model_lifecycle(model),
    }


def model_lifecycle(model: ModelInfo) -> dict[str, str]:
    """``modelLifecycle``: the status, and whichever of the dates the catalogue has."""
    lifecycle = {"status": model.lifecycle, "startOfLifeTime": model.start_of_life}
    if model.legacy_time:
        lifecycle["legacyTime"] = model.legacy_time
    if model.end_of_life:
        lifecycle["endOfLifeTime"] = model.end_of_life
    return lifecycle


def inference_profile_summary(profile: InferenceProfile, region: str) -> dict:
    return {
        "inferenceProfileName": profile.name,
        "description": profile.description(),
        "createdAt": profile.model.release,
        "updatedAt": profile.model.release,
        "inferenceProfileArn": profile.arn(region),
        "models": [{"modelArn": arn} for arn in profile.model_arns()],
        "inferenceProfileId": profile.profile_id,
        "status": "ACTIVE",
        "type": "SYSTEM_DEFINED",
    }
