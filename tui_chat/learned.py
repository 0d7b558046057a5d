"""Rules learned from Bedrock: what it refused for a model, remembered so it is not sent again.

When Bedrock refuses a parameter the catalogue did not predict (bedrock/refusals.py reads the
refusal), the rule is kept here, per base model id, with the date and Bedrock's own words, in
`learned-rules.json` in the cache folder. The next request to that model leaves the parameter
out before sending (bedrock/formats.choose_params takes these as `refused`), and the sidebar
marks the field. Deleting the file forgets them all; a catalogue update makes most of them
unnecessary but harmless.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tui_chat.bedrock.catalog import base_model_id
from tui_chat.files import DocumentError, loads_json, write_atomic

FILE_NAME = "learned-rules.json"


class LearnedRules:
    """The learned rules of every model; safe to use from several threads."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._rules: dict[str, dict[str, dict[str, str]]] | None = None

    @classmethod
    def in_folder(cls, cache_dir: Path | None) -> LearnedRules:
        return cls(cache_dir / FILE_NAME if cache_dir is not None else None)

    def _load(self) -> dict[str, dict[str, dict[str, str]]]:
        if self._rules is None:
            self._rules = {}
            if self.path is not None:
                try:
                    data = loads_json(self.path.read_bytes())
                except (OSError, DocumentError):
                    data = {}  # a cache: a broken one is simply started afresh
                if isinstance(data, dict):
                    self._rules = _checked(data.get("models", {}))
        return self._rules

    def for_model(self, model_id: str) -> dict[str, str]:
        """Rule -> the reason to give ("Bedrock refused it on 2026-11-30: ...")."""
        with self._lock:
            rules = self._load().get(base_model_id(model_id), {})
            return {
                name: f"Bedrock refused it on {rule.get('date', '?')}"
                for name, rule in rules.items()
            }

    def details(self, model_id: str) -> dict[str, dict[str, str]]:
        """Rule -> {"date", "message"} for one model."""
        with self._lock:
            return {k: dict(v) for k, v in self._load().get(base_model_id(model_id), {}).items()}

    def learn(self, model_id: str, rules: list[str] | tuple[str, ...], message: str) -> list[str]:
        """Remember `rules` for the model; returns those that are new. Saving is best effort:
        a cache that cannot be written still holds the rules for this run."""
        today = datetime.now(UTC).date().isoformat()
        with self._lock:
            known = self._load().setdefault(base_model_id(model_id), {})
            new = [rule for rule in rules if rule not in known]
            for rule in new:
                known[rule] = {"date": today, "message": message[:500]}
            if new:
                self._save()
            return new

    def forget(self, model_id: str) -> bool:
        with self._lock:
            found = self._load().pop(base_model_id(model_id), None) is not None
            if found:
                self._save()
            return found

    def _save(self) -> None:
        if self.path is None or self._rules is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_atomic(self.path, json.dumps({"schema": 1, "models": self._rules}, indent=1))
        except OSError:
            pass


def _checked(models: Any) -> dict[str, dict[str, dict[str, str]]]:
    out: dict[str, dict[str, dict[str, str]]] = {}
    if not isinstance(models, dict):
        return out
    for model, rules in models.items():
        if not isinstance(model, str) or not isinstance(rules, dict):
            continue
        kept = {
            name: {k: str(v) for k, v in rule.items() if k in ("date", "message")}
            for name, rule in rules.items()
            if isinstance(name, str) and isinstance(rule, dict)
        }
        if kept:
            out[model] = kept
    return out
