"""Models from the account: foundation models and inference profiles.

The list comes from the Bedrock control plane (ListFoundationModels, ListInferenceProfiles)
and says which ids stream text here: a foundation model whose output is text and that
supports streaming, callable on demand; and every inference profile over such a model.
Offline, or before the first fetch, the catalog's suggestions stand in. This module writes no
files: tui_chat/model_list.py keeps the list for a day in the cache folder (as the tables of
`to_tables`), through tui_chat/store/model_cache.py.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from tui_chat.bedrock.catalog import base_model_id


@dataclass(frozen=True)
class ModelEntry:
    model_id: str
    name: str
    provider: str
    kind: str  # "foundation" | "profile"
    streams_text: bool
    note: str = ""  # why it does not stream text here, when it does not
    #: Bedrock's lifecycle for a foundation model: "active", "legacy" ("" when not said),
    #: and its end-of-life date (YYYY-MM-DD) when published.
    lifecycle: str = ""
    end_of_life: str = ""

    def label(self) -> str:
        mark = "streams text" if self.streams_text else self.note or "does not stream text"
        return f"{self.name} · {mark}"


def _foundation(summary: dict[str, Any]) -> ModelEntry:
    outputs = summary.get("outputModalities") or []
    streaming = bool(summary.get("responseStreamingSupported"))
    on_demand = "ON_DEMAND" in (summary.get("inferenceTypesSupported") or [])
    note = ""
    if "TEXT" not in outputs:
        note = f"outputs {', '.join(outputs).lower() or 'no text'}"
    elif not streaming:
        note = "no streaming"
    elif not on_demand:
        note = "use an inference profile"
    lifecycle = summary.get("modelLifecycle") or {}
    end = lifecycle.get("endOfLifeTime")
    return ModelEntry(
        model_id=summary.get("modelId", ""),
        name=summary.get("modelName", summary.get("modelId", "")),
        provider=summary.get("providerName", ""),
        kind="foundation",
        streams_text=not note,
        note=note,
        lifecycle=str(lifecycle.get("status", "")).lower(),
        end_of_life=_day(end),
    )


def _day(value: Any) -> str:
    """YYYY-MM-DD of a timestamp boto3 parsed (a datetime) or left as text."""
    if value is None:
        return ""
    if hasattr(value, "date"):
        return value.date().isoformat()
    return str(value)[:10]


def fetch(control: Any) -> list[ModelEntry]:
    """Ask Bedrock (a boto3 `bedrock` client) for the models this account can see."""
    summaries = control.list_foundation_models().get("modelSummaries", [])
    foundations = [_foundation(s) for s in summaries]
    text_models = {
        e.model_id
        for e, s in zip(foundations, summaries, strict=True)
        if "TEXT" in (s.get("outputModalities") or []) and s.get("responseStreamingSupported")
    }
    by_id = {entry.model_id: entry for entry in foundations}
    profiles: list[ModelEntry] = []
    token = None
    while True:
        kwargs = {"nextToken": token} if token else {}
        page = control.list_inference_profiles(**kwargs)
        for profile in page.get("inferenceProfileSummaries", []):
            if profile.get("status", "ACTIVE") != "ACTIVE":
                continue
            profile_id = profile.get("inferenceProfileId", "")
            bases = {base_model_id(m.get("modelArn", "")) for m in profile.get("models", []) or []}
            streams = bool(bases & text_models) or base_model_id(profile_id) in text_models
            base = by_id.get(base_model_id(profile_id))
            profiles.append(
                ModelEntry(
                    model_id=profile_id,
                    name=profile.get("inferenceProfileName", profile_id),
                    provider="",
                    kind="profile",
                    streams_text=streams,
                    note="" if streams else "does not stream text",
                    lifecycle=base.lifecycle if base else "",
                    end_of_life=base.end_of_life if base else "",
                )
            )
        token = page.get("nextToken")
        if not token:
            break
    return profiles + foundations


def to_tables(models: list[ModelEntry]) -> list[dict[str, Any]]:
    """The entries as plain tables (what the model-list cache keeps)."""
    return [asdict(m) for m in models]


def from_tables(tables: list[Any]) -> list[ModelEntry] | None:
    """Entries from tables `to_tables` made, or None if any table is not one: it has only
    ModelEntry's fields, each of its type (text, or true/false), and all it needs."""
    types = {f.name: bool if f.name == "streams_text" else str for f in fields(ModelEntry)}
    entries = []
    for item in tables:
        if not isinstance(item, dict) or any(
            type(value) is not types.get(name) for name, value in item.items()
        ):
            return None
        try:
            entries.append(ModelEntry(**item))
        except TypeError:  # a field without a default is missing
            return None
    return entries
