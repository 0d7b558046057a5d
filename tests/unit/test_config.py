"""Settings: paths, environment, config.toml tables, bad values reported, state.toml."""

import os
import stat
import tomllib

import tomli_w

from tui_chat.config import (
    APP_MAX_TOKENS,
    HISTORY_BYTES,
    HISTORY_ENTRY_BYTES,
    HISTORY_LIMIT,
    State,
    load_settings,
)


def write_config(home, text):
    path = home / "config" / "tui-chat" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_paths_follow_xdg(isolated_environment):
    home = isolated_environment
    settings = load_settings()
    assert settings.paths.config_file == home / "config" / "tui-chat" / "config.toml"
    assert settings.paths.sessions_dir == home / "data" / "tui-chat" / "sessions"
    assert settings.paths.state_file == home / "data" / "tui-chat" / "state.toml"
    assert settings.paths.cache_dir == home / "cache" / "tui-chat"
    assert settings.paths.log_file == home / "state" / "tui-chat" / "tui-chat.log"
    assert settings.problems == []


def test_environment_overrides(isolated_environment, monkeypatch, tmp_path):
    config = tmp_path / "elsewhere.toml"
    config.write_text('[ui]\ntheme = "nord"\n')
    monkeypatch.setenv("TUI_CHAT_CONFIG", str(config))
    monkeypatch.setenv("TUI_CHAT_SESSIONS_DIR", str(tmp_path / "chats"))
    monkeypatch.setenv("TUI_CHAT_DEMO", "1")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    settings = load_settings()
    assert settings.theme == "nord"
    assert settings.paths.sessions_dir == tmp_path / "chats"
    assert settings.demo is True
    assert settings.region == "eu-west-1"
    assert settings.defaults.model == "eu.anthropic.claude-sonnet-5-5"


def test_built_in_defaults_are_the_seed_values_with_room_to_think():
    defaults = load_settings(region="us-east-1").defaults
    assert defaults.max_tokens_to_sample == APP_MAX_TOKENS == 8192
    assert (defaults.temperature, defaults.top_p, defaults.top_k) == (1.0, 1.0, 250)
    assert defaults.stop_sequences == ()
    assert defaults.model == "us.anthropic.claude-sonnet-5-5"
    assert defaults.cache_prompt is True
    assert (defaults.effort, defaults.thinking) == ("", "")


def test_max_tokens_default_fits_a_smaller_model(isolated_environment):
    write_config(isolated_environment, '[defaults]\nmodel = "meta.llama3-1-70b-instruct-v1:0"\n')
    assert load_settings().defaults.max_tokens_to_sample == 2048


def test_effort_thinking_and_caching_in_defaults_and_presets(isolated_environment):
    write_config(
        isolated_environment,
        '[defaults]\neffort = "low"\nthinking = 4096\ncache_prompt = false\n'
        '[presets.deep]\neffort = "max"\nthinking = "adaptive"\n'
        '[presets.bad]\neffort = "extreme"\nthinking = 10\n',
    )
    settings = load_settings()
    assert (settings.defaults.effort, settings.defaults.thinking) == ("low", 4096)
    assert settings.defaults.cache_prompt is False
    assert settings.presets["deep"] == {"effort": "max", "thinking": "adaptive"}
    assert settings.presets["bad"] == {}
    problems = "\n".join(settings.problems)
    assert "[presets.bad].effort: effort must be one of low, medium, high, xhigh, max" in problems
    assert "[presets.bad].thinking: thinking must be off, adaptive, or a budget" in problems


def test_every_table_is_read(isolated_environment):
    write_config(
        isolated_environment,
        """
[defaults]
model = "anthropic.claude-v2"
temperature = 0.4
stop_sequences = ["END"]

[ui]
theme = "ansi-dark"
mouse = false

[bedrock]
region = "us-west-2"
profile = "work"
read_timeout = 60
connect_timeout = 5
max_attempts = 2

[presets.precise]
temperature = 0.0
top_k = 10

[prices."anthropic.claude-v2"]
input = 8.0
output = 24
""",
    )
    settings = load_settings()
    assert settings.problems == []
    assert settings.defaults.model == "anthropic.claude-v2"
    assert settings.defaults.temperature == 0.4
    assert settings.defaults.stop_sequences == ("END",)
    assert settings.theme == "ansi-dark"
    assert settings.mouse is False
    assert settings.bedrock.region == "us-west-2"
    assert settings.bedrock.profile == "work"
    assert settings.bedrock.read_timeout == 60.0
    assert settings.bedrock.max_attempts == 2
    assert settings.presets == {"precise": {"temperature": 0.0, "top_k": 10}}
    assert settings.prices == {"anthropic.claude-v2": (8.0, 24.0)}
    assert settings.model_from_config


def test_command_line_wins_over_config(isolated_environment):
    write_config(isolated_environment, '[ui]\ntheme = "nord"\n[bedrock]\nregion = "eu-west-1"\n')
    settings = load_settings(theme="gruvbox", region="us-east-2", mouse=False, model="x.y")
    assert (settings.theme, settings.region, settings.mouse) == ("gruvbox", "us-east-2", False)
    assert settings.defaults.model == "x.y"


def test_bad_values_name_file_key_and_problem(isolated_environment):
    path = write_config(
        isolated_environment,
        """
[defaults]
temperature = 3
top_k = "many"
colour = "blue"

[ui]
mouse = "yes"

[bedrock]
read_timeout = -1

[prices."x"]
input = "cheap"
""",
    )
    settings = load_settings()
    text = "\n".join(settings.problems)
    assert f"{path}: [defaults].temperature: temperature must be a number from 0 to 1" in text
    assert "[defaults].top_k" in text
    assert "[defaults].colour: is not a parameter" in text
    assert "[ui].mouse: must be true or false" in text
    assert "[bedrock].read_timeout: must be a number from 1 to 3600" in text
    assert '[prices."x"]' in text
    assert settings.defaults.temperature == 1.0
    assert settings.mouse is True
    assert settings.bedrock.read_timeout == 120.0


def test_invalid_toml_gives_built_in_settings(isolated_environment):
    path = write_config(isolated_environment, "[defaults\ntemperature = 0.1")
    settings = load_settings()
    assert len(settings.problems) == 1
    assert str(path) in settings.problems[0] and "not valid TOML" in settings.problems[0]
    assert settings.defaults.temperature == 1.0


def test_state_round_trip_and_permissions(tmp_path):
    path = tmp_path / "data" / "state.toml"
    state = State(theme="nord", open_conversation="20260101T000000Z-abcdef")
    state.drafts = {"20260101T000000Z-abcdef": "half a thought\nsecond line"}
    state.remember_prompt("first")
    state.remember_prompt("second")
    state.remember_prompt("first")
    state.save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    loaded = State.load(path)
    assert loaded.theme == "nord"
    assert loaded.drafts == state.drafts
    assert loaded.history == ["second", "first"]
    assert loaded.problems == []


def test_bad_state_is_reported_and_kept_aside(tmp_path):
    path = tmp_path / "state.toml"
    path.write_bytes(b"theme = [unclosed")
    state = State.load(path)
    assert "not valid TOML" in state.problems[0] and str(path) in state.problems[0]
    state.theme = "nord"
    state.save(path)
    assert (tmp_path / "state.toml.bad").read_bytes() == b"theme = [unclosed"
    assert State.load(path).theme == "nord"


def test_wrong_types_in_state_are_dropped(tmp_path):
    path = tmp_path / "state.toml"
    path.write_text('theme = 3\ndrafts = "x"\nhistory = [1, "ok"]\n')
    state = State.load(path)
    assert state.theme is None
    assert state.history == ["ok"]
    assert len(state.problems) == 2


def test_history_keeps_no_huge_paste_and_stays_under_its_total(tmp_path):
    state = State()
    state.remember_prompt("before")
    state.remember_prompt("p" * (1024 * 1024))  # a 1 MB paste: in its conversation, not here
    state.remember_prompt("é" * (HISTORY_ENTRY_BYTES // 2 + 1))  # 16 KB and a bit, as UTF-8
    assert state.history == ["before"]
    entries = [f"{n:03d}" + "x" * (HISTORY_ENTRY_BYTES - 3) for n in range(20)]
    for entry in entries:
        state.remember_prompt(entry)
    kept = HISTORY_BYTES // HISTORY_ENTRY_BYTES
    assert state.history == entries[-kept:]  # the oldest went first
    assert sum(len(h.encode()) for h in state.history) <= HISTORY_BYTES
    state.remember_prompt("after")
    assert state.history[-1] == "after" and state.history[0] == entries[-kept + 1]
    for n in range(HISTORY_LIMIT + 5):
        state.remember_prompt(f"short {n}")
    assert len(state.history) == HISTORY_LIMIT
    assert state.history[-1] == f"short {HISTORY_LIMIT + 4}"


def test_a_state_toml_grown_by_pastes_is_bounded_when_read_and_written(tmp_path):
    path = tmp_path / "state.toml"
    pastes = ["z" * (1024 * 1024), "y" * (1024 * 1024)]
    history = ["first", pastes[0], "second", pastes[1], "third"]
    path.write_text(tomli_w.dumps({"history": history}))
    assert path.stat().st_size > 2_000_000
    state = State.load(path)
    assert state.history == ["first", "second", "third"]
    state.history.append("w" * (HISTORY_ENTRY_BYTES + 1))  # however it got there
    state.save(path)
    assert tomllib.loads(path.read_text())["history"] == ["first", "second", "third"]
    assert path.stat().st_size < 1024
