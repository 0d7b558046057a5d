"""Presets: appended to config.toml keeping its text, or kept in state.toml when that is not
safe; applied over any conversation's parameters."""

import tomllib

import pytest

from tui_chat import presets
from tui_chat.config import State, load_settings
from tui_chat.params import ParamError, Params

CONFIG = """# my settings, hand-written
[defaults]
temperature = 0.7   # a comment that must survive

[presets.old]
top_k = 5
"""


def setup(isolated_environment, text=CONFIG):
    path = isolated_environment / "config" / "tui-chat" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o640)
    return path


def test_a_new_preset_is_appended_and_the_file_kept(isolated_environment):
    path = setup(isolated_environment)
    settings, state = load_settings(), State()
    params = Params(model="m", temperature=0.2, top_k=40, stop_sequences=("END",))
    assert presets.save("precise", params, settings, state) == "config.toml"
    text = path.read_text()
    assert text.startswith(CONFIG)
    assert "# a comment that must survive" in text
    data = tomllib.loads(text)
    assert data["presets"]["precise"]["temperature"] == 0.2
    assert data["presets"]["precise"]["stop_sequences"] == ["END"]
    assert data["presets"]["old"] == {"top_k": 5}
    assert oct(path.stat().st_mode & 0o777) == oct(0o640)
    assert load_settings().presets["precise"]["top_k"] == 40


def test_an_existing_name_or_broken_file_goes_to_state(isolated_environment):
    path = setup(isolated_environment)
    settings, state = load_settings(), State()
    assert presets.save("old", Params(top_k=9), settings, state) == "state.toml"
    assert path.read_text() == CONFIG
    assert State.load(settings.paths.state_file).presets["old"]["top_k"] == 9
    assert presets.all_presets(settings, State.load(settings.paths.state_file))["old"]["top_k"] == 9
    setup(isolated_environment, "this is [not toml")
    settings = load_settings()
    assert presets.save("other", Params(), settings, State()) == "state.toml"


def test_a_missing_config_file_is_created_with_the_preset(isolated_environment):
    settings = load_settings()
    assert not settings.paths.config_file.exists()
    assert presets.save("first", Params(temperature=0.5), settings, State()) == "config.toml"
    assert (
        tomllib.loads(settings.paths.config_file.read_text())["presets"]["first"]["temperature"]
        == 0.5
    )


@pytest.mark.parametrize("name", ["", "with space", "x" * 41, "../evil"])
def test_bad_names_are_refused(isolated_environment, name):
    with pytest.raises(ParamError):
        presets.save(name, Params(), load_settings(), State())


def test_apply_keeps_what_the_preset_does_not_set():
    params = Params(model="m", temperature=0.9, top_k=7)
    applied = presets.apply({"temperature": 0.1}, params)
    assert applied.temperature == 0.1 and applied.top_k == 7 and applied.model == "m"
