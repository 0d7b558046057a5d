"""Themes: every shipped one loads and renders, bad user files are reported and skipped, and
the choice persists."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_chat.config import State, load_settings
from tui_chat.ui.themes import ThemeError, load_theme, shipped_folder

from .conftest import send, wait_for, wait_idle

SHIPPED = sorted(shipped_folder().glob("*.toml"))


def test_at_least_four_themes_ship_including_a_16_colour_one():
    themes = [load_theme(path) for path in SHIPPED]
    assert len(themes) >= 4
    assert any(t.ansi and t.dark for t in themes)
    assert any(not t.dark for t in themes)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
async def test_every_shipped_theme_renders(make_app, path: Path):
    theme = load_theme(path)
    app = make_app(theme=theme.name)
    async with app.run_test(size=(100, 30)) as pilot:
        assert app.theme == theme.name
        await send(pilot, "write a python function")
        await wait_idle(pilot, app)
        await pilot.press("ctrl+o")
        await pilot.pause()
        svg = app.export_screenshot()
        assert "def" in svg and "Temperature" in svg
        code_theme, background = app.query_one("#messages").code_style
        if theme.ansi:
            assert code_theme.startswith("ansi_") and background == "default"
        else:
            assert code_theme == ("monokai" if theme.dark else "default")
            shade = "surface-lighten-1" if theme.dark else "surface-darken-1"
            assert background == app.theme_variables[shade]


BAD_THEMES = {
    "broken.toml": ('name = "broken"\nprimary = ', "not valid TOML"),
    "nocolour.toml": ('name = "nocolour"\nprimary = "not-a-colour"\n', "is not a colour"),
    "typo.toml": ('name = "typo"\nprimary = "#112233"\nbackgroud = "#000000"\n', "unknown key"),
    "noname.toml": ('primary = "#112233"\n', "name must be"),
    "dark.toml": ('name = "dk"\nprimary = "#112233"\ndark = "yes"\n', "dark must be true"),
}


@pytest.mark.parametrize("name", sorted(BAD_THEMES))
def test_bad_theme_files_say_what_is_wrong(tmp_path, name):
    text, reason = BAD_THEMES[name]
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ThemeError) as info:
        load_theme(path)
    assert reason in info.value.reason
    assert str(path) in str(info.value)


async def test_a_broken_user_theme_is_reported_and_skipped(make_app, isolated_environment):
    folder = isolated_environment / "config" / "tui-chat" / "themes"
    folder.mkdir(parents=True)
    (folder / "broken.toml").write_text('name = "broken"\nprimary = "nope"\n')
    (folder / "mine.toml").write_text('name = "mine"\nprimary = "#884488"\ndark = true\n')
    app = make_app(theme="broken")
    async with app.run_test() as pilot:
        await pilot.pause()
        messages = [str(n.message) for n in app._notifications]
        assert sum("broken.toml" in m and "is not a colour" in m for m in messages) == 1
        assert any("Unknown theme “broken”" in m for m in messages)
        assert "mine" in app.available_themes
        assert app.theme != "broken"


async def test_the_last_choice_is_remembered(make_app):
    app = make_app()
    async with app.run_test() as pilot:
        app.theme = "paper"
        await pilot.pause()
    assert State.load(load_settings().paths.state_file).theme == "paper"
    again = make_app()
    async with again.run_test():
        assert again.theme == "paper"
    explicit = make_app(theme="ember")  # --theme beats the remembered choice
    async with explicit.run_test() as pilot:
        assert explicit.theme == "ember"
        await pilot.press("ctrl+q")
    # ... for that run only: the choice made in the app is still the one remembered.
    assert State.load(load_settings().paths.state_file).theme == "paper"
    after = make_app()
    async with after.run_test():
        assert after.theme == "paper"


async def test_config_theme_is_used_when_nothing_was_chosen(make_app, isolated_environment):
    config = isolated_environment / "config" / "tui-chat" / "config.toml"
    config.write_text(config.read_text() + '\n[ui]\ntheme = "harbor"\n')
    app = make_app()
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.theme == "harbor")
