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
    "global": ("Global", ()),
}

# Families: how a model's native (InvokeModel) body looks and which extra fields it takes.
ANTHROPIC = "anthropic"
META = "meta"
MISTRAL = "mistral"
NOVA = "nova"
TITAN_EMBED = "titan-embed"


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
    exclusive_temperature_top_p: bool = False  # rejects temperature together with top_p
    release: str = "2024-01-01T00:00:00Z"

    @property
    def is_text(self) -> bool:
        return "TEXT" in self.output_modalities

    @property
    def on_demand(self) -> bool:
        return "ON_DEMAND" in self.inference_types

    @property
    def anthropic_name(self) -> str:
        """The name Anthropic's API uses for this model (``message.model`` in responses)."""
        return re.sub(r"-v\d+:\d+$", "", self.model_id.split(".", 1)[1])

    def arn(self, region: str) -> str:
        return f"arn:aws:bedrock:{region}::foundation-model/{self.model_id}"


_ALL_GEOS = ("us", "eu", "apac")

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
    ModelInfo(
        "anthropic.claude-3-haiku-20240307-v1:0",
        "Claude 3 Haiku",
        "Anthropic",
        ANTHROPIC,
        max_output=4096,
        context_window=200_000,
        input_modalities=("TEXT", "IMAGE"),
        customizations=("FINE_TUNING",),
        release="2024-03-13T00:00:00Z",
    ),
    ModelInfo(
        "anthropic.claude-3-5-sonnet-20240620-v1:0",
        "Claude 3.5 Sonnet",
        "Anthropic",
        ANTHROPIC,
        max_output=8192,
        context_window=200_000,
        input_modalities=("TEXT", "IMAGE"),
        profiles=_ALL_GEOS,
        release="2024-06-20T00:00:00Z",
    ),
    ModelInfo(
        "anthropic.claude-3-5-haiku-20241022-v1:0",
        "Claude 3.5 Haiku",
        "Anthropic",
        ANTHROPIC,
        max_output=8192,
        context_window=200_000,
        inference_types=("INFERENCE_PROFILE",),
        profiles=_ALL_GEOS,
        release="2024-11-04T00:00:00Z",
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
        profiles=_ALL_GEOS,
        release="2025-02-24T00:00:00Z",
    ),
    ModelInfo(
        "anthropic.claude-sonnet-4-20250514-v1:0",
        "Claude Sonnet 4",
        "Anthropic",
        ANTHROPIC,
        max_output=64_000,
        context_window=200_000,
        input_modalities=("TEXT", "IMAGE"),
        inference_types=("INFERENCE_PROFILE",),
        profiles=_ALL_GEOS,
        release="2025-05-22T00:00:00Z",
    ),
    ModelInfo(
        "anthropic.claude-sonnet-4-5-20250929-v1:0",
        "Claude Sonnet 4.5",
        "Anthropic",
        ANTHROPIC,
        max_output=64_000,
        context_window=200_000,
        input_modalities=("TEXT", "IMAGE"),
        inference_types=("INFERENCE_PROFILE",),
        profiles=(*_ALL_GEOS, "global"),
        exclusive_temperature_top_p=True,
        release="2025-09-29T00:00:00Z",
    ),
    ModelInfo(
        "anthropic.claude-haiku-4-5-20251001-v1:0",
        "Claude Haiku 4.5",
        "Anthropic",
        ANTHROPIC,
        max_output=64_000,
        context_window=200_000,
        input_modalities=("TEXT", "IMAGE"),
        inference_types=("INFERENCE_PROFILE",),
        profiles=(*_ALL_GEOS, "global"),
        exclusive_temperature_top_p=True,
        release="2025-10-15T00:00:00Z",
    ),
    ModelInfo(
        "anthropic.claude-opus-4-1-20250805-v1:0",
        "Claude Opus 4.1",
        "Anthropic",
        ANTHROPIC,
        max_output=32_000,
        context_window=200_000,
        input_modalities=("TEXT", "IMAGE"),
        inference_types=("INFERENCE_PROFILE",),
        profiles=_ALL_GEOS,
        exclusive_temperature_top_p=True,
        release="2025-08-05T00:00:00Z",
    ),
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
    InferenceProfile(f"{geo}.{m.model_id}", geo, m) for m in MODELS for geo in m.profiles
)
PROFILES_BY_ID: dict[str, InferenceProfile] = {p.profile_id: p for p in PROFILES}


def geographies_for_region(region: str) -> tuple[str, ...]:
    """The profile geographies a region lists (the real service lists only its own + global)."""
    if region.startswith("us-"):
        return ("us", "global")
    if region.startswith("eu-"):
        return ("eu", "global")
    if region.startswith("ap-"):
        return ("apac", "global")
    return tuple(GEOGRAPHIES)


@dataclass(frozen=True)
class Resolved:
    model: ModelInfo
    profile: InferenceProfile | None  # set when the id named an inference profile


_ARN = re.compile(r"^arn:aws(?:-[a-z-]+)?:bedrock:([a-z0-9-]*):(\d{12})?:([a-z-]+)/(.+)$")


def resolve(model_id: str) -> Resolved | None:
    """Map a model id, profile id or ARN to its base model; None when it names nothing known."""
    arn = _ARN.match(model_id)
    if arn:
        kind, ident = arn.group(3), arn.group(4)
        if kind == "foundation-model" and arn.group(2) is None and ident in BY_ID:
            return Resolved(BY_ID[ident], None)
        if kind == "inference-profile" and arn.group(2) and ident in PROFILES_BY_ID:
            profile = PROFILES_BY_ID[ident]
            return Resolved(profile.model, profile)
        return None
    if model_id in BY_ID:
        return Resolved(BY_ID[model_id], None)
    if model_id in PROFILES_BY_ID:
        profile = PROFILES_BY_ID[model_id]
        return Resolved(profile.model, profile)
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
        "modelLifecycle": {"status": model.lifecycle},
    }


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
