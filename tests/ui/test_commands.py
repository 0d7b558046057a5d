"""The table of commands (ui/commands.py): the app's bindings, the palette and the help screen
come from it, and README's key table lists exactly its keys."""

from __future__ import annotations

import re
from pathlib import Path

from textual.app import App

from tui_chat import presets
from tui_chat.ui import commands
from tui_chat.ui.app import ChatApp

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_keys() -> list[str]:
    """The first column of the table under README's "### Keys"."""
    section = README.read_text(encoding="utf-8").split("\n### Keys\n", 1)[1]
    section = re.split(r"\n#+ ", section, maxsplit=1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    assert rows[:2] == ["| key | does |", "| --- | --- |"]
    return [row.split("|")[1].strip() for row in rows[2:]]


def test_readme_lists_exactly_the_tables_keys():
    listed = readme_keys()
    assert len(listed) == len(set(listed)), "a key is listed twice"
    assert set(listed) == {keys for keys, _ in commands.help_lines()}


def test_every_command_has_one_place_in_each_list():
    table = commands.COMMANDS
    bound = sorted(c.binding for c in table if c.binding)
    assert bound == list(range(1, len(bound) + 1))
    offered = sorted(c.palette for c in table if c.palette)
    assert offered == list(range(1, len(offered) + 1))
    for command in table:
        assert bool(command.bind) == bool(command.binding), command
        assert bool(command.label) == bool(command.bind), command
        assert bool(command.title) == bool(command.palette), command
        assert not command.alias or command.bind, command
        assert not command.footer or command.bind, command
        assert command.when in (commands.ALWAYS, commands.WHILE_STREAMING, commands.EACH_PRESET)
        assert bool(command.keys) == bool(command.does), command
    keys = [keys for keys, _ in commands.help_lines()]
    assert len(keys) == len(set(keys))


def test_every_action_is_the_apps():
    for command in commands.COMMANDS:
        if command.action:
            name = commands.PaletteEntry("", "", command.action).name
            assert callable(getattr(ChatApp, f"action_{name}", None)), command.action


def test_the_app_binds_the_table():
    def described(bindings) -> list[tuple]:
        return [(b.key, b.action, b.description, b.show, b.priority) for b in bindings]

    assert described(ChatApp.BINDINGS) == described(commands.bindings())


async def test_the_palette_offers_the_table(make_app, isolated_environment):
    config = isolated_environment / "config" / "tui-chat" / "config.toml"
    with config.open("a", encoding="utf-8") as file:
        file.write("[presets.brief]\ntemperature = 0.2\n[presets.wild]\ntemperature = 1.0\n")
    app = make_app()
    async with app.run_test():
        assert sorted(presets.all_presets(app.settings, app.state)) == ["brief", "wild"]
        textuals = len(list(App.get_system_commands(app, app.screen)))
        offered = [(c.title, c.help) for c in app.get_system_commands(app.screen)][textuals:]
        expected = []
        for entry in commands.palette():
            if entry.when == commands.EACH_PRESET:
                for name in sorted(presets.all_presets(app.settings, app.state)):
                    expected.append((entry.title.format(name=name), entry.help))
            elif entry.when == commands.ALWAYS and entry.name != "continue":
                expected.append((entry.title, entry.help))
        assert offered == expected
