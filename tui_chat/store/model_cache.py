"""The account's model list, cached for a day in the cache folder as plain data.

`<cache>/models-<region>.json` (`models-<region>-custom.json` for another endpoint) holds
{"fetched": <epoch seconds>, "models": [<one table per model>]}. This module reads and writes
that file and knows nothing of what a model entry holds: tui_chat/model_list.py turns the
tables into bedrock.models.ModelEntry and back. Only a cache: a file that is missing, old,
unreadable or of the wrong shape is simply not used, and the list is fetched again.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

from tui_chat.files import DocumentError, loads_json, write_atomic

#: How long a fetched list is used before it is fetched again.
CACHE_SECONDS = 24 * 3600


def cache_path(cache_dir: Path, region: str, endpoint: str | None) -> Path:
    suffix = "" if not endpoint else "-custom"
    return cache_dir / f"models-{region}{suffix}.json"


def read_models(path: Path, max_age: float = CACHE_SECONDS) -> list[dict[str, Any]] | None:
    """The cached tables, one per model, if the file is younger than `max_age` seconds and
    readable, else None (whatever the file holds)."""
    try:
        data = loads_json(path.read_bytes())
    except (OSError, DocumentError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("models"), list):
        return None
    fetched = data.get("fetched")
    if isinstance(fetched, bool) or not isinstance(fetched, int | float):
        return None
    if not math.isfinite(fetched) or time.time() - fetched > max_age:
        return None
    tables = data["models"]
    return tables if all(isinstance(item, dict) for item in tables) else None


def write_models(path: Path, tables: list[dict[str, Any]]) -> None:
    """Keep `tables` (one per model, JSON-able) as fetched now."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    payload = {"fetched": time.time(), "models": tables}
    write_atomic(path, json.dumps(payload))
