"""Hostile and unusual files of the user's own: config.toml, state.toml and theme files.

- A theme whose [variables] Textual's CSS cannot use (`footer-key-foreground = "banana"`) is
  refused when it is loaded, with the file, the variable and the value, so it is never offered,
  and a state.toml that remembers it does not stop the app from starting.
- Deeply nested TOML (`a = [[[[...]]]]`, about a kilobyte) is reported as "nested too deeply to
  read" like any unreadable file, the built-in values are used, and the file keeps its bytes.
- A config.toml or state.toml that is a symbolic link (kept with the user's dotfiles) stays a
  link: the file it points to is rewritten atomically, with its permissions; a link to nothing,
  or a loop, is a clear error and nothing changes.
"""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path

import pytest
from textual.theme import BUILTIN_THEMES, Theme
from textual.widgets import Input

from tests.ui.conftest import send, wait_for, wait_for_screen, wait_idle
from tui_chat import presets
from tui_chat.config import State, load_settings
from tui_chat.files import TOO_DEEP, link_target, write_atomic
from tui_chat.params import Params
from tui_chat.ui import themes
from tui_chat.ui.themes import ThemeError, ThemeSet, check_variables, load_theme

from .conftest import record_notifications

# ---------------------------------------------------------------------------------------------
# Theme variables Textual cannot use

THEME_HEAD = 'name = "{name}"\nprimary = "#336699"\n\n[variables]\n'

#: variable -> a value Textual's CSS refuses where that variable is used (and why).
BAD_VARIABLES = {
    "footer-key-foreground": "banana",  # not a colour at all
    "footer-background": "auto 50%",  # "auto" is a colour only for text, not for a background
    "border": "initial",  # "initial" only as a whole value, and borders are `tall $border`
    "button-focus-text-style": "blink2",  # not a text style
    "block-cursor-text-style": "#ff0000",  # a colour where a text style goes
    "background-darken-1": "banana",  # parsed by Textual's colour system itself
    "text": "nonsense 87%",  # copied into link-color and others
    "scrollbar": "$primary",  # variables are not expanded inside variables
}
#: Values of the same kinds that Textual does accept there.
GOOD_VARIABLES = {
    "footer-key-foreground": "ansi_bright_red",
    "footer-background": "#112233 50%",
    "link-background": "initial",
    "button-focus-text-style": "b reverse",
    "block-cursor-text-style": "bold not underline",
    "text": "auto 80%",
    "input-selection-background": "#81a1c1 35%",
    "my-own-variable": "anything at all",  # not used by any stylesheet
}


def theme_file(folder: Path, name: str, variables: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    body = "".join(f'"{key}" = "{value}"\n' for key, value in variables.items())
    path.write_text(THEME_HEAD.format(name=name) + body)
    return path


@pytest.mark.parametrize("variable", sorted(BAD_VARIABLES))
def test_a_variable_textual_cannot_use_refuses_the_theme(tmp_path, variable):
    value = BAD_VARIABLES[variable]
    path = theme_file(tmp_path, "fruit", {"footer-foreground": "#eeeeee", variable: value})
    with pytest.raises(ThemeError) as info:
        load_theme(path)
    message = str(info.value)
    assert message.startswith(f"{path}: variables.{variable} = {value!r} is not a ")
    assert ("a text style" if variable.endswith("-style") else "a colour") in message


def test_values_textual_accepts_are_kept(tmp_path):
    path = theme_file(tmp_path, "fine", GOOD_VARIABLES)
    assert load_theme(path).variables == GOOD_VARIABLES


@pytest.mark.parametrize("name", sorted(BUILTIN_THEMES))
def test_every_variable_of_textuals_own_themes_passes(name):
    assert check_variables(BUILTIN_THEMES[name]) is None


def user_themes(home: Path) -> Path:
    return home / "config" / "tui-chat" / "themes"


def state_path(home: Path) -> Path:
    return home / "data" / "tui-chat" / "state.toml"


def remember_theme(home: Path, name: str) -> Path:
    path = state_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'theme = "{name}"\n')
    return path


async def test_a_remembered_theme_with_a_bad_colour_is_never_offered_and_the_app_starts(
    make_app, emulator, isolated_environment
):
    """The report: a bad colour in a user theme crashed the app when the theme was picked, and
    state.toml had remembered it, so every later start crashed too."""
    home = isolated_environment
    path = theme_file(user_themes(home), "fruit", {"footer-key-foreground": "banana"})
    theme_file(user_themes(home), "berry", {"footer-key-foreground": "#aa3366"})
    before = path.read_bytes()
    remember_theme(home, "fruit")
    for _ in range(2):  # and the next start too
        app = make_app()
        said = record_notifications(app)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            reports = [m for m in said if str(path) in m]
            assert len(reports) == 1, said
            assert "variables.footer-key-foreground = 'banana' is not a colour" in reports[0]
            assert "fruit" not in app.available_themes
            assert "berry" in app.available_themes
            assert app.theme == themes.DEFAULT_THEME
            await send(pilot, "still working?")
            await wait_idle(pilot, app)
            assert app.conversation.messages[-1].status == "complete"
            await pilot.press("ctrl+q")
    assert path.read_bytes() == before


def test_a_user_theme_named_like_ours_or_textuals_is_checked_all_the_same(tmp_path):
    """Our themes and Textual's are checked by the tests above, not at each start; a user's
    file that takes one of their names is checked like any other, and is no longer trusted."""
    ours = themes.load_theme(sorted(themes.shipped_folder().glob("*.toml"))[0]).name
    theme_file(tmp_path, ours, {"footer-key-foreground": "banana"})
    theme_file(tmp_path, "textual-light", {"footer-key-foreground": "#aa3366"})
    found = themes.load_all(tmp_path)
    assert [p.path.name for p in found.problems] == [f"{ours}.toml"]
    assert "textual-light" not in found.trusted  # the user's replaces Textual's
    assert ours in found.trusted  # the user's was refused: ours is the one registered
    assert "textual-dark" in found.trusted


async def test_at_start_only_the_users_themes_are_checked(
    make_app, emulator, isolated_environment, monkeypatch
):
    import tui_chat.ui.theming as theming

    checked: list[str] = []
    original = themes.check_variables

    def counting(theme):
        checked.append(theme.name)
        return original(theme)

    monkeypatch.setattr(themes, "check_variables", counting)
    monkeypatch.setattr(theming, "check_variables", counting)
    theme_file(user_themes(isolated_environment), "berry", {"footer-key-foreground": "#aa3366"})
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert "berry" in app.available_themes
    assert set(checked) == {"berry"}, checked


BANANA = Theme(name="banana", primary="#336699", variables={"footer-key-foreground": "banana"})


async def test_a_theme_whose_use_fails_does_not_stop_the_app(
    make_app, emulator, isolated_environment, monkeypatch
):
    """The loader refuses such files; this is the app's own safety net for anything else."""
    import tui_chat.ui.theming as theming

    def load_all_and_a_bad_one(folder):
        found = themes.load_all(folder)
        return ThemeSet([*found.themes, BANANA], found.problems)

    monkeypatch.setattr(theming, "load_all", load_all_and_a_bad_one)
    remember_theme(isolated_environment, "banana")
    for _ in range(2):  # remembered in state.toml: every start must still work
        app = make_app()
        said = record_notifications(app)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            assert app.is_running and app.theme == themes.DEFAULT_THEME
            assert any("banana" in m and "footer-key-foreground" in m for m in said), said
            assert "banana" not in app.available_themes  # never offered
            app.register_theme(BANANA)  # registered some other way: still never applied
            app.theme = "banana"  # as the theme picker would
            await pilot.pause()
            assert app.is_running and app.theme == themes.DEFAULT_THEME
            await pilot.press("ctrl+q")


# ---------------------------------------------------------------------------------------------
# Deeply nested TOML

DEEP = {
    # A kilobyte or so that Python's TOML parser cannot read without running out of stack.
    "array": "a = " + "[" * 600 + "]" * 600 + "\n",
    "inline-table": "a = " + "{b = " * 600 + "1" + "}" * 600 + "\n",
    # Readable, but deeper than any file of ours: tomli-w could not write it back.
    "past-the-limit": "a = " + "[" * 100 + "]" * 100 + "\n",
}


def deep(kind: str, valid_start: str = "") -> bytes:
    return (valid_start + DEEP[kind]).encode()


@pytest.mark.parametrize("kind", sorted(DEEP))
def test_deep_config_toml_gives_the_built_in_settings(isolated_environment, kind):
    path = isolated_environment / "config" / "tui-chat" / "config.toml"
    path.parent.mkdir(parents=True)
    data = deep(kind, "[defaults]\ntemperature = 0.5\n")
    path.write_bytes(data)
    settings = load_settings()
    assert settings.problems == [f"{path}: {TOO_DEEP}; using the built-in settings"]
    assert settings.defaults.temperature == 1.0
    # Saving a preset cannot append to it safely: it goes to state.toml, config.toml is kept.
    state = State.load(settings.paths.state_file)
    assert presets.save("calm", Params(temperature=0.2), settings, state) == "state.toml"
    assert path.read_bytes() == data


@pytest.mark.parametrize("kind", sorted(DEEP))
def test_deep_state_and_theme_files_are_reported(tmp_path, kind):
    state = tmp_path / "state.toml"
    state.write_bytes(deep(kind, 'theme = "paper"\n'))
    loaded = State.load(state)
    assert loaded.problems == [f"{state}: {TOO_DEEP}; starting afresh"]
    assert loaded.theme is None
    theme = tmp_path / "deep.toml"
    theme.write_bytes(deep(kind, 'name = "deep"\nprimary = "#123456"\n'))
    with pytest.raises(ThemeError) as info:
        load_theme(theme)
    assert str(info.value) == f"{theme}: {TOO_DEEP}"


def test_the_command_line_reports_a_deep_config_and_carries_on(cli):
    data = deep("array")
    path = cli.config(data.decode())
    result = cli.run("sessions")
    assert result.code == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert result.err_lines == [
        f"tui-chat: warning: {path}: {TOO_DEEP}; using the built-in settings"
    ]
    assert path.read_bytes() == data


async def test_the_app_starts_with_deep_config_state_and_theme_files(
    make_app, emulator, isolated_environment
):
    home = isolated_environment
    config = home / "config" / "tui-chat" / "config.toml"
    config_bytes = deep("array")
    config.write_bytes(config_bytes)
    state = state_path(home)
    state.parent.mkdir(parents=True, exist_ok=True)
    state_bytes = deep("inline-table", 'theme = "paper"\n')
    state.write_bytes(state_bytes)
    theme = user_themes(home) / "deep.toml"
    theme.parent.mkdir(parents=True)
    theme_bytes = deep("array", 'name = "deep"\nprimary = "#123456"\n')
    theme.write_bytes(theme_bytes)
    app = make_app()
    said = record_notifications(app)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.2)
        for path in (config, state, theme):
            reports = [m for m in said if str(path) in m]
            assert len(reports) == 1, (path, said)
            assert TOO_DEEP in reports[0]
        assert app.theme == themes.DEFAULT_THEME
        assert config.read_bytes() == config_bytes
        assert state.read_bytes() == state_bytes
        await send(pilot, "hello")
        await wait_idle(pilot, app)
        assert app.conversation.messages[-1].status == "complete"
        await pilot.press("ctrl+q")
    assert config.read_bytes() == config_bytes
    assert theme.read_bytes() == theme_bytes
    # state.toml is the app's own: like any unreadable one it is kept aside, byte for byte,
    # and rewritten.
    assert (state.parent / "state.toml.bad").read_bytes() == state_bytes
    assert tomllib.loads(state.read_text())["history"] == ["hello"]


# ---------------------------------------------------------------------------------------------
# config.toml and state.toml as symbolic links


def dotfiles_link(link: Path, target: Path, text: str, mode: int = 0o640) -> None:
    """`link` made a symbolic link (relative, as dotfiles managers make them) to `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    os.chmod(target, mode)
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.exists() or link.is_symlink():
        link.unlink()
    link.symlink_to(os.path.relpath(target, link.parent))


def leftovers(*folders: Path) -> list[str]:
    return [p.name for folder in folders for p in folder.iterdir() if p.name.endswith(".tmp")]


async def save_preset(pilot, name: str) -> None:
    from tui_chat.ui.screens.dialogs import AskText

    pilot.app.action_save_preset()
    await wait_for_screen(pilot, AskText, "Input")
    pilot.app.screen.query_one(Input).value = name
    await pilot.press("enter")
    await pilot.pause(0.2)


async def test_a_preset_is_written_through_a_symlinked_config(
    make_app, emulator, isolated_environment
):
    home = isolated_environment
    config = home / "config" / "tui-chat" / "config.toml"
    original = config.read_text() + "# kept with my dotfiles\n"
    target = home / "dotfiles" / "tui-chat" / "config.toml"
    dotfiles_link(config, target, original)
    link = os.readlink(config)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        app.query_one("#temperature", Input).value = "0.15"
        await pilot.pause()
        await save_preset(pilot, "careful")
        assert app.settings.presets["careful"]["temperature"] == 0.15
        await pilot.press("ctrl+q")
    assert config.is_symlink() and os.readlink(config) == link
    text = target.read_text()
    assert text.startswith(original)  # appended: the user's comments and layout are kept
    assert tomllib.loads(text)["presets"]["careful"]["temperature"] == 0.15
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert leftovers(config.parent, target.parent) == []
    assert "careful" in load_settings().presets


async def test_state_is_written_through_a_symlinked_state_toml(
    make_app, emulator, isolated_environment
):
    home = isolated_environment
    state = state_path(home)
    target = home / "dotfiles" / "state.toml"
    dotfiles_link(state, target, 'theme = "paper"\n', mode=0o604)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.theme == "paper"
        await send(pilot, "remember me")
        await wait_idle(pilot, app)
        await pilot.press("ctrl+q")
    assert state.is_symlink()
    saved = tomllib.loads(target.read_text())
    assert saved["theme"] == "paper"
    assert saved["history"] == ["remember me"]
    assert saved["open_conversation"] == app.conversation.id
    assert stat.S_IMODE(target.stat().st_mode) == 0o604
    assert leftovers(state.parent, target.parent) == []


async def test_a_preset_into_a_dangling_config_link_is_refused_and_nothing_changes(
    make_app, emulator, isolated_environment
):
    home = isolated_environment
    config = home / "config" / "tui-chat" / "config.toml"
    config.unlink()
    config.symlink_to(home / "dotfiles" / "not-yet.toml")
    app = make_app()
    said = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        gone = f"{config} is a symbolic link to {home / 'dotfiles' / 'not-yet.toml'}"
        assert any(gone in m and "does not exist" in m for m in said), said
        await save_preset(pilot, "careful")
        await wait_for(pilot, lambda: any("Could not save the preset" in m for m in said))
        (refusal,) = [m for m in said if "Could not save the preset" in m]
        assert gone in refusal and "does not exist" in refusal
        assert "careful" not in presets.all_presets(app.settings, app.state)
    assert config.is_symlink() and not (home / "dotfiles").exists()
    assert "careful" not in State.load(state_path(home)).presets


def test_links_to_nothing_and_loops_are_errors_that_change_nothing(tmp_path):
    dangling = tmp_path / "dangling.toml"
    dangling.symlink_to("missing/config.toml")
    loop_a, loop_b = tmp_path / "a.toml", tmp_path / "b.toml"
    loop_a.symlink_to("b.toml")
    loop_b.symlink_to("a.toml")
    folder = tmp_path / "folder.toml"
    (tmp_path / "real-folder").mkdir()
    folder.symlink_to("real-folder")
    cases = {
        dangling: "which does not exist",
        loop_a: "leads round in a loop",
        folder: "which is not a file",
    }
    before = sorted(p.name for p in tmp_path.iterdir())
    for link, reason in cases.items():
        with pytest.raises(OSError, match=reason):
            link_target(link)
        with pytest.raises(OSError, match=reason) as info:
            write_atomic(link, "x = 1\n", follow_symlinks=True)
        assert str(info.value).startswith(f"{link} is a symbolic link")
        # config.toml: reported, the built-in settings are used
        settings = load_settings(config_file=link)
        assert settings.problems == [f"{info.value}; using the built-in settings"]
        # state.toml: reported at the start (saving would fail the same way)
        (problem,) = State.load(link).problems
        assert problem.startswith(str(info.value))
        with pytest.raises(OSError, match=reason):
            presets.save("calm", Params(temperature=0.2), settings, State())
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert os.readlink(dangling) == "missing/config.toml"


def test_write_atomic_follows_a_chain_of_links_only_when_asked(tmp_path):
    target = tmp_path / "dotfiles" / "real.toml"
    target.parent.mkdir()
    target.write_text("old\n")
    os.chmod(target, 0o644)
    middle = tmp_path / "middle.toml"
    middle.symlink_to(target)
    link = tmp_path / "config" / "config.toml"
    link.parent.mkdir()
    link.symlink_to("../middle.toml")
    assert link_target(link).resolve() == target.resolve()
    write_atomic(link, "new\n", follow_symlinks=True)
    assert link.is_symlink() and middle.is_symlink()
    assert target.read_text() == "new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert leftovers(link.parent, target.parent, tmp_path) == []
    # Without the option (session files), the link itself is replaced, as before.
    write_atomic(link, "own\n")
    assert not link.is_symlink() and link.read_text() == "own\n"
    assert target.read_text() == "new\n"
    assert stat.S_IMODE(link.stat().st_mode) == 0o600


# ---------------------------------------------------------------------------------------------
# Prompt history is bounded by size


async def test_a_huge_paste_is_sent_but_not_kept_in_the_history(
    make_app, emulator, isolated_environment
):
    paste = "x" * (40 * 1024)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "small")
        await wait_idle(pilot, app)
        await send(pilot, paste)
        await wait_idle(pilot, app)
        assert app.conversation.messages[-2].content == paste
        await pilot.press("ctrl+q")
    state = state_path(isolated_environment)
    assert tomllib.loads(state.read_text())["history"] == ["small"]
    assert state.stat().st_size < 4096
