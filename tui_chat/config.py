"""Settings from config.toml and the environment, state.toml, and the platform paths.

config.toml is the user's file and is only ever read here. state.toml is what the app remembers
for itself (last theme, drafts, the open conversation, prompt history) and is rewritten freely.
A bad value in either is reported with the file, the key and the problem, and the built-in
value is used instead: a typo never stops the app from starting.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import platformdirs
import tomli_w

from tui_chat.aws import is_region_name
from tui_chat.bedrock.catalog import default_model, lookup
from tui_chat.bedrock.client import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_READ_TIMEOUT,
    BedrockSettings,
)
from tui_chat.files import DocumentError, link_target, loads_toml, write_atomic
from tui_chat.params import ALL_PARAMS, ParamError, Params, check_value, model_id_problem

APP_NAME = "tui-chat"
#: Built-in defaults for new conversations: the seed values, except a max tokens that leaves
#: room for today's models to think before they answer (thinking counts against it, and a
#: thinking budget must stay below it), lowered to the model's own limit where that is less.
APP_MAX_TOKENS = 8192
#: Prompt history (state.toml) keeps at most this many prompts, none larger than
#: HISTORY_ENTRY_BYTES (a bigger paste stays in its conversation, not in the history), and at
#: most HISTORY_BYTES in all, the oldest dropped first.
HISTORY_LIMIT = 200
HISTORY_ENTRY_BYTES = 16 * 1024
HISTORY_BYTES = 256 * 1024


@dataclass(frozen=True)
class Paths:
    config_file: Path
    data_dir: Path
    sessions_dir: Path
    state_file: Path
    cache_dir: Path
    log_file: Path
    user_themes_dir: Path


def default_paths(env: Mapping[str, str] | None = None) -> Paths:
    """Paths (docs/ARCHITECTURE.md, "Files"); TUI_CHAT_CONFIG and TUI_CHAT_SESSIONS_DIR
    override two of them."""
    env = os.environ if env is None else env
    config_dir = Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))
    data_dir = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    cache_dir = Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))
    state_dir = Path(platformdirs.user_state_dir(APP_NAME, appauthor=False))
    config_file = Path(env.get("TUI_CHAT_CONFIG") or config_dir / "config.toml").expanduser()
    sessions = Path(env.get("TUI_CHAT_SESSIONS_DIR") or data_dir / "sessions").expanduser()
    return Paths(
        config_file=config_file,
        data_dir=data_dir,
        sessions_dir=sessions,
        state_file=data_dir / "state.toml",
        cache_dir=cache_dir,
        log_file=state_dir / "tui-chat.log",
        user_themes_dir=config_dir / "themes",
    )


@dataclass
class Settings:
    """Everything the app, the CLI and the engine need to know before they start."""

    paths: Paths
    defaults: Params
    bedrock: BedrockSettings = field(default_factory=BedrockSettings)
    theme: str | None = None
    mouse: bool = True
    presets: dict[str, dict[str, Any]] = field(default_factory=dict)
    prices: dict[str, tuple[float, float]] = field(default_factory=dict)
    demo: bool = False
    debug: bool = False
    #: One line per problem found in config.toml, naming the file and the key.
    problems: list[str] = field(default_factory=list)
    #: True when config.toml's [defaults] names a model (else the region decides).
    model_from_config: bool = False
    #: True when the theme came from the command line (it then beats the last choice).
    theme_from_cli: bool = False

    @property
    def region(self) -> str | None:
        return self.bedrock.region


class _Report:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[str] = []

    def add(self, key: str, problem: str) -> None:
        self.problems.append(f"{self.path}: {key}: {problem}")


def _read_toml(path: Path, problems: list[str]) -> dict[str, Any]:
    """config.toml, read and never written; {} (the built-in settings) if it cannot be used."""
    try:
        link_target(path)  # a link to nothing is a problem, not a missing file
    except OSError as error:
        problems.append(f"{error}; using the built-in settings")
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except IsADirectoryError:
        problems.append(f"{path}: is a directory, not a file; using the built-in settings")
        return {}
    except (OSError, UnicodeDecodeError) as error:
        problems.append(f"{path}: cannot be read ({error}); using the built-in settings")
        return {}
    try:
        return loads_toml(text)
    except DocumentError as error:
        problems.append(f"{path}: {error.reason}; using the built-in settings")
        return {}


def _table(data: dict[str, Any], name: str, report: _Report) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        report.add(f"[{name}]", f"should be a table, not {type(value).__name__}; ignored")
        return {}
    return value


def _number(
    table: dict[str, Any],
    key: str,
    where: str,
    report: _Report,
    default: float,
    low: float,
    high: float,
    integer: bool = False,
) -> Any:
    if key not in table:
        return default
    value = table[key]
    ok_type = isinstance(value, int) if integer else isinstance(value, int | float)
    if isinstance(value, bool) or not ok_type or not (low <= value <= high):
        noun = "a whole number" if integer else "a number"
        report.add(
            f"{where}.{key}",
            f"must be {noun} from {low:g} to {high:g}, got {value!r}; using {default:g}",
        )
        return default
    return value


def _string(table: dict[str, Any], key: str, where: str, report: _Report) -> str | None:
    if key not in table:
        return None
    value = table[key]
    if not isinstance(value, str) or not value.strip():
        report.add(f"{where}.{key}", f"must be a non-empty string, got {value!r}; ignored")
        return None
    return value.strip()


def _unknown(table: dict[str, Any], known: set[str], where: str, report: _Report) -> None:
    for key in table:
        if key not in known:
            report.add(f"{where}.{key}", "is not a known setting; ignored")


def parse_param_table(
    table: dict[str, Any], where: str, report: _Report, base: Params
) -> tuple[Params, dict[str, Any]]:
    """Check a [defaults] or [presets.NAME] table value by value; bad values are reported and
    skipped. Returns the resulting Params and the valid values that were given."""
    given: dict[str, Any] = {}
    for key, value in table.items():
        if key not in ALL_PARAMS:
            report.add(f"{where}.{key}", f"is not a parameter ({', '.join(ALL_PARAMS)}); ignored")
            continue
        try:
            checked = check_value(key, value)
        except ParamError as error:
            report.add(f"{where}.{key}", f"{error}; using the default")
            continue
        problem = model_id_problem(checked) if key == "model" else None
        if problem is not None:
            report.add(f"{where}.{key}", f"{problem}; got {value!r}; using the default")
            continue
        given[key] = checked
    return Params.from_dict(given, base=base), given


def load_settings(
    *,
    config_file: Path | None = None,
    sessions_dir: Path | None = None,
    region: str | None = None,
    profile: str | None = None,
    model: str | None = None,
    theme: str | None = None,
    mouse: bool | None = None,
    demo: bool = False,
    debug: bool = False,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Read config.toml and the environment; arguments (from the command line) win."""
    env = os.environ if env is None else env
    paths = default_paths(env)
    if config_file is not None:
        paths = _replace_paths(paths, config_file=Path(config_file).expanduser())
    if sessions_dir is not None:
        paths = _replace_paths(paths, sessions_dir=Path(sessions_dir).expanduser())

    problems: list[str] = []
    data = _read_toml(paths.config_file, problems)
    report = _Report(paths.config_file)
    _unknown(data, {"defaults", "ui", "bedrock", "presets", "prices"}, "", report)

    bedrock_table = _table(data, "bedrock", report)
    _unknown(
        bedrock_table,
        {"region", "profile", "read_timeout", "connect_timeout", "max_attempts"},
        "[bedrock]",
        report,
    )
    config_region = _string(bedrock_table, "region", "[bedrock]", report)
    if config_region is not None and not is_region_name(config_region):
        report.add(
            "[bedrock].region",
            f"must be an AWS region name such as us-east-1, got {config_region!r}; ignored",
        )
        config_region = None
    bedrock = BedrockSettings(
        region=region or config_region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION"),
        profile=profile or _string(bedrock_table, "profile", "[bedrock]", report),
        read_timeout=float(
            _number(
                bedrock_table, "read_timeout", "[bedrock]", report, DEFAULT_READ_TIMEOUT, 1, 3600
            )
        ),
        connect_timeout=float(
            _number(
                bedrock_table,
                "connect_timeout",
                "[bedrock]",
                report,
                DEFAULT_CONNECT_TIMEOUT,
                1,
                300,
            )
        ),
        max_attempts=int(
            _number(
                bedrock_table,
                "max_attempts",
                "[bedrock]",
                report,
                DEFAULT_MAX_ATTEMPTS,
                1,
                10,
                integer=True,
            )
        ),
    )

    base = Params(
        model=default_model(bedrock.region), max_tokens_to_sample=APP_MAX_TOKENS, cache_prompt=True
    )
    defaults, given = parse_param_table(
        _table(data, "defaults", report), "[defaults]", report, base
    )
    model_from_config = "model" in given
    if model:
        defaults = defaults.with_changes(model=model)
        model_from_config = True
    if "max_tokens_to_sample" not in given:
        defaults = defaults.with_changes(
            max_tokens_to_sample=app_max_tokens(defaults.model, APP_MAX_TOKENS)
        )

    ui = _table(data, "ui", report)
    _unknown(ui, {"theme", "mouse"}, "[ui]", report)
    config_theme = _string(ui, "theme", "[ui]", report)
    config_mouse = ui.get("mouse", True)
    if not isinstance(config_mouse, bool):
        report.add("[ui].mouse", f"must be true or false, got {config_mouse!r}; using true")
        config_mouse = True

    presets: dict[str, dict[str, Any]] = {}
    for name, table in _table(data, "presets", report).items():
        if not isinstance(table, dict):
            report.add(f"[presets.{name}]", "should be a table of parameters; ignored")
            continue
        _params, preset = parse_param_table(table, f"[presets.{name}]", report, defaults)
        presets[name] = preset

    prices: dict[str, tuple[float, float]] = {}
    for model_id, table in _table(data, "prices", report).items():
        where = f'[prices."{model_id}"]'
        if not isinstance(table, dict):
            report.add(where, "should be a table with input and output; ignored")
            continue
        values = [table.get("input"), table.get("output")]
        if any(isinstance(v, bool) or not isinstance(v, int | float) or v < 0 for v in values):
            report.add(
                where,
                "needs input and output prices per million tokens (numbers, 0 or more); ignored",
            )
            continue
        prices[model_id] = (float(values[0]), float(values[1]))

    return Settings(
        paths=paths,
        defaults=defaults,
        bedrock=bedrock,
        theme=theme or config_theme,
        mouse=config_mouse if mouse is None else mouse,
        presets=presets,
        prices=prices,
        demo=demo or env.get("TUI_CHAT_DEMO", "") not in ("", "0", "false", "no"),
        debug=debug,
        problems=problems + report.problems,
        model_from_config=model_from_config,
        theme_from_cli=theme is not None,
    )


def app_max_tokens(model: str, wanted: int) -> int:
    """`wanted`, or the model's own output limit where that is less."""
    limit = lookup(model).max_output
    return min(wanted, limit) if limit else wanted


def _replace_paths(paths: Paths, **changes: Path) -> Paths:
    return replace(paths, **changes)


# ---------------------------------------------------------------------------------------------
# state.toml: what the app remembers for itself


@dataclass
class State:
    """The app's own memory between runs. Unknown or bad entries are dropped, not fatal."""

    theme: str | None = None
    open_conversation: str | None = None
    #: The newest active Claude Sonnet the account listed at the first start with credentials
    #: (new conversations use it unless config.toml names a model).
    default_model: str | None = None
    #: The day (YYYY-MM-DD) the demo notice was last shown: it is shown once a day.
    demo_notice: str | None = None
    drafts: dict[str, str] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)
    sidebar: bool | None = None
    conversation_list: bool | None = None
    #: Presets that could not be written into config.toml safely (see presets.py).
    presets: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    #: The bytes of a state file that could not be read, kept aside before it is replaced.
    _unreadable: bytes | None = None

    @classmethod
    def load(cls, path: Path) -> State:
        problems: list[str] = []
        try:
            link_target(path)
        except OSError as error:
            # Saving would fail the same way (see save): say so once, at the start.
            return cls(problems=[f"{error}; starting afresh (nothing is saved until it is fixed)"])
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return cls()
        except OSError as error:
            return cls(problems=[f"{path}: cannot be read ({error.strerror}); starting afresh"])
        try:
            data = loads_toml(raw.decode("utf-8"))
        except UnicodeDecodeError as error:
            reason = f"is not valid TOML ({error})"
        except DocumentError as error:
            reason = error.reason
        else:
            reason = ""
        if reason:
            # Kept aside byte for byte (state.toml.bad) when the state is next saved.
            state = cls(problems=[f"{path}: {reason}; starting afresh"])
            state._unreadable = raw
            return state
        state = cls()
        theme = data.get("theme")
        if theme is not None:
            if isinstance(theme, str):
                state.theme = theme
            else:
                problems.append(f"{path}: theme: must be a string; ignored")
        open_id = data.get("open_conversation")
        if isinstance(open_id, str):
            state.open_conversation = open_id
        if isinstance(data.get("demo_notice"), str):
            state.demo_notice = data["demo_notice"]
        default_model = data.get("default_model")
        if isinstance(default_model, str) and model_id_problem(default_model) is None:
            state.default_model = default_model
        drafts = data.get("drafts", {})
        if isinstance(drafts, dict):
            state.drafts = {k: v for k, v in drafts.items() if isinstance(v, str) and v}
        else:
            problems.append(f"{path}: drafts: must be a table; ignored")
        history = data.get("history", [])
        if isinstance(history, list):
            state.history = bounded_history([h for h in history if isinstance(h, str)])
        else:
            problems.append(f"{path}: history: must be an array of strings; ignored")
        for key in ("sidebar", "conversation_list"):
            value = data.get(key)
            if isinstance(value, bool):
                setattr(state, key, value)
        presets = data.get("presets", {})
        if isinstance(presets, dict):
            report = _Report(path)
            for name, table in presets.items():
                if isinstance(table, dict):
                    _params, given = parse_param_table(table, f"[presets.{name}]", report, Params())
                    state.presets[name] = given
            problems.extend(report.problems)
        else:
            problems.append(f"{path}: presets: must be a table; ignored")
        state.problems = problems
        return state

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self._unreadable is not None:
            # Keep the unreadable file for the user to inspect instead of silently losing it.
            backup = path.with_name(path.name + ".bad")
            if not backup.exists():
                write_atomic(backup, self._unreadable)  # byte for byte
            self._unreadable = None
        data: dict[str, Any] = {}
        if self.theme:
            data["theme"] = self.theme
        if self.open_conversation:
            data["open_conversation"] = self.open_conversation
        if self.default_model:
            data["default_model"] = self.default_model
        if self.demo_notice:
            data["demo_notice"] = self.demo_notice
        for key in ("sidebar", "conversation_list"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        data["history"] = bounded_history(self.history)
        data["drafts"] = {k: v for k, v in self.drafts.items() if v}
        if self.presets:
            data["presets"] = self.presets
        # A state.toml that is a link (kept with dotfiles) stays one: its target is rewritten.
        write_atomic(path, tomli_w.dumps(data), follow_symlinks=True)

    def remember_prompt(self, text: str) -> None:
        """Add a sent prompt to the history (Up recalls it), unless it is blank or too big."""
        if not text.strip() or _size(text) > HISTORY_ENTRY_BYTES:
            return
        if text in self.history:
            self.history.remove(text)
        self.history.append(text)
        self.history[:] = bounded_history(self.history)  # in place: the prompt shares the list


def _size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def bounded_history(history: list[str]) -> list[str]:
    """The newest prompts of `history` that fit its limits (see HISTORY_LIMIT), in order;
    a prompt too big to keep is skipped, not a reason to drop older ones."""
    kept: list[str] = []
    total = 0
    for text in reversed(history):
        size = _size(text)
        if size > HISTORY_ENTRY_BYTES:
            continue
        if len(kept) == HISTORY_LIMIT or total + size > HISTORY_BYTES:
            break
        kept.append(text)
        total += size
    kept.reverse()
    return kept
