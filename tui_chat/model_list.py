"""The account's model list, cached for a day: glue between Bedrock and the cache folder.

bedrock/models.py fetches and reads the list and writes no files; store/model_cache.py keeps
plain tables in the cache folder and knows nothing of Bedrock. This module joins the two under
the names the app and the CLI use: `cache_path`, `load_cache`, `save_cache`, `fetch` and
`ModelEntry`.
"""

from __future__ import annotations

from pathlib import Path

from tui_chat.bedrock.models import ModelEntry, fetch, from_tables, to_tables
from tui_chat.store.model_cache import CACHE_SECONDS, cache_path, read_models, write_models


def load_cache(path: Path, max_age: float = CACHE_SECONDS) -> list[ModelEntry] | None:
    """The cached list if it is younger than `max_age` seconds and readable. Only a cache:
    anything wrong with it (whatever the file holds) and the list is fetched again."""
    tables = read_models(path, max_age)
    return None if tables is None else from_tables(tables)


def save_cache(path: Path, models: list[ModelEntry]) -> None:
    write_models(path, to_tables(models))


__all__ = ["CACHE_SECONDS", "ModelEntry", "cache_path", "fetch", "load_cache", "save_cache"]
