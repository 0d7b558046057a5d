"""Presets: named parameter sets, saved from the sidebar and applied to any conversation.

A new preset is appended to config.toml as a `[presets.NAME]` table, so the file's comments
and layout stay exactly as they were; the app never rewrites what is already there. When that
cannot be done safely (the file does not parse, the name already exists there, or the result
would not parse), the preset goes into state.toml instead, which the app owns. A config.toml
that is a symbolic link (to a dotfiles folder, say) stays one: the file it points to gets the
table; a link to nothing, or a loop, is an OSError and nothing is saved.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import tomli_w

from tui_chat.config import Settings, State
from tui_chat.files import DocumentError, link_target, loads_toml, write_atomic
from tui_chat.params import ParamError, Params

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
SAVED = (
    "model",
    "max_tokens_to_sample",
    "temperature",
    "top_p",
    "top_k",
    "stop_sequences",
    "system",
    "effort",
    "thinking",
    "cache_prompt",
)


def check_name(name: str) -> str:
    name = name.strip()
    if not NAME.match(name):
        raise ParamError("preset name", name, "letters, digits, - or _ (up to 40)")
    return name


def all_presets(settings: Settings, state: State) -> dict[str, dict[str, Any]]:
    """Every preset; one saved in state.toml wins over config.toml's of the same name."""
    return {**settings.presets, **state.presets}


def values_of(params: Params) -> dict[str, Any]:
    data = params.to_dict()
    return {name: data[name] for name in SAVED if name in data}


def save(name: str, params: Params, settings: Settings, state: State) -> str:
    """Save `params` as preset `name`; returns where it went: "config.toml" or "state.toml"."""
    name = check_name(name)
    values = values_of(params)
    if _append_to_config(settings.paths.config_file, name, values):
        settings.presets[name] = values
        state.presets.pop(name, None)
        state.save(settings.paths.state_file)
        return "config.toml"
    state.presets[name] = values
    state.save(settings.paths.state_file)
    return "state.toml"


def _append_to_config(path: Path, name: str, values: dict[str, Any]) -> bool:
    target = link_target(path)  # OSError for a link to nothing or a loop: nothing is saved
    try:
        original = target.read_text(encoding="utf-8") if target.exists() else ""
        current = loads_toml(original)
    except (OSError, UnicodeDecodeError, DocumentError):
        return False
    presets = current.get("presets", {})
    if not isinstance(presets, dict) or name in presets:
        return False
    block = tomli_w.dumps({"presets": {name: values}})
    separator = (
        ""
        if not original or original.endswith("\n\n")
        else ("\n" if original.endswith("\n") else "\n\n")
    )
    updated = f"{original}{separator}{block}"
    try:
        if loads_toml(updated).get("presets", {}).get(name) != values:
            return False
    except DocumentError:
        return False
    mode = 0o600
    if target.exists():
        mode = target.stat().st_mode & 0o777
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, updated, mode=mode, follow_symlinks=True)
    return True


def apply(preset: dict[str, Any], params: Params) -> Params:
    """`params` with the preset's values (a preset may hold only some parameters)."""
    return Params.from_dict(preset, base=params)
