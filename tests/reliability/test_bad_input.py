"""Bad input everywhere a user types or edits: the sidebar, the prompt, every command-line flag,
config.toml, state.toml and theme files. Each gives a clear error naming what is wrong, and
nothing is sent or saved wrongly.

(tests/ui/test_sidebar.py and tests/integration/test_cli.py cover out-of-range values; these add
the values people paste by accident: nan, inf, hex, huge numbers, stray escapes, blank prompts,
flags no request could work with, and broken files.)
"""

from __future__ import annotations

import tomllib

import pytest
from textual.widgets import Input

from tests.ui.conftest import rendered_text, send, wait_idle
from tui_chat.config import load_settings
from tui_chat.ui.widgets.prompt import PromptInput
from tui_chat.ui.widgets.sidebar import ParamSidebar

from .conftest import MODEL, record_notifications, write_config

DEFAULT_US = "us.anthropic.claude-sonnet-5-5"  # the built-in default in us-east-1

SIDEBAR_CASES = [
    ("temperature", "nan", "must be 0–1; got"),
    ("temperature", "inf", "must be 0–1; got"),
    ("top_p", "1e309", "must be 0–1; got"),
    ("top_p", "", "must be 0–1; got"),
    ("top_k", "0x10", "must be whole 0–500; got"),
    ("top_k", "-1", "must be whole 0–500; got"),
    ("max_tokens_to_sample", "1e3", "must be whole 1–64,000; got"),
    ("max_tokens_to_sample", "99999999999999999999", "must be whole 1–64,000; got"),
    ("stop_sequences", "END, bad\\", "a lone \\ at the end"),
]


async def test_pasted_nonsense_in_the_sidebar_is_refused_and_never_sent(make_app, emulator):
    app = make_app()
    async with app.run_test(size=(120, 50)) as pilot:
        sidebar = app.query_one(ParamSidebar)
        for name, text, allowed in SIDEBAR_CASES:
            field = app.query_one(f"#{name}", Input)
            good = field.value
            field.value = text
            await pilot.pause()
            assert app.query_one(f"#field-{name}").has_class("-invalid"), (name, text)
            problem = rendered_text(app.query_one(f"#problem-{name}"), width=300)
            assert allowed in problem, (name, text)
            assert [p.split(":")[0] for p in sidebar.problems()] == [name]
            await send(pilot, "hello")
            await pilot.pause(0.1)
            assert emulator.requests == [], (name, text)
            assert app.conversation.messages == []
            assert app.query_one(PromptInput).text == "hello"  # the prompt is kept
            field.value = good
            await pilot.pause()
            assert sidebar.problems() == []
        # A blank prompt is not a message.
        prompt = app.query_one(PromptInput)
        prompt.load_text("   \n\t\n  ")
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert emulator.requests == [] and app.conversation.messages == []
        # With the values fixed, the same prompt goes, with the defaults.
        await send(pilot, "hello")
        await wait_idle(pilot, app)
        assert len(emulator.requests) == 1
        body = emulator.requests[0].body
        assert body["max_tokens"] == 8192
        assert not {"temperature", "top_p", "top_k", "stop_sequences"} & set(body)


FLAG_CASES = [
    (["ask", "--region", "us east 1", "hi"], 2, "--region: must be an AWS region name"),
    (["ask", "--model", "claude\tv2\x1b[31m", "hi"], 2, "--model: model must be a model id"),
    (["ask", "--temperature", "nan", "hi"], 2, "--temperature: temperature must be a number"),
    (["ask", "--top-p", "inf", "hi"], 2, "--top-p: top_p must be a number from 0 to 1"),
    (["ask", "--top-k", "1e2", "hi"], 2, "--top-k: top_k must be a whole number"),
    (["ask", "--max-tokens", "99999999999999999999", "hi"], 2, "--max-tokens: max_tokens"),
    (["ask", "--stop", "END\\", "hi"], 2, "--stop: stop_sequences must be"),
    (["ask", "--session", " ", "hi"], 2, "--session: give a conversation id or title"),
    (["ask", "--profile", "nobody", "hi"], 1, "the AWS profile 'nobody' does not exist"),
    (["--region", "bad region", "sessions"], 2, "--region: must be an AWS region name"),
    (["--model", "a model"], 2, "--model: model must be a model id, without"),  # the app
]


@pytest.mark.parametrize(("args", "code", "expected"), FLAG_CASES)
def test_bad_flags_are_one_clear_line_and_nothing_is_sent_or_saved(cli, args, code, expected):
    line = cli.run(*args).one_line_error(code)
    assert expected in line, line
    assert "\x1b" not in line  # a pasted escape is shown, not obeyed
    assert cli.emulator.requests == []
    assert cli.files() == []


def test_a_sessions_folder_that_is_a_file(cli, tmp_path):
    target = tmp_path / "not-a-folder"
    target.write_text("just a file")
    for args in (["ask", "hi"], ["sessions"], ["export", "x"]):
        line = cli.run("--sessions-dir", str(target), *args).one_line_error(2)
        assert line == f"tui-chat: --sessions-dir: {target} is not a folder"
    env = dict(cli.env, TUI_CHAT_SESSIONS_DIR=str(target))
    line = cli.run("ask", "hi", env=env).one_line_error(1)
    assert line == f"tui-chat: the sessions folder: {target} is not a folder"
    assert target.read_text() == "just a file"
    assert cli.emulator.requests == []


def test_export_to_a_folder_or_nowhere_says_so(cli, tmp_path):
    assert cli.run("ask", "--session", "Kept", "hi").code == 0
    line = cli.run("export", "Kept", "--output", str(tmp_path)).one_line_error(1)
    assert line.startswith(f"tui-chat: cannot write {tmp_path}")
    line = cli.run("export", "Kept", "--output", str(tmp_path / "no" / "x.md")).one_line_error(1)
    assert "cannot write" in line
    assert len(cli.files()) == 1


BAD_CONFIG = f"""
[defaults]
model = "bad model id"
temperature = 3
top_k = "many"
stop_sequences = "END"
max_tokens_to_sample = 0
[bedrock]
region = "moon base"
read_timeout = -1
max_attempts = 0
[ui]
mouse = "yes"
[presets.x]
top_p = 7
[prices."{MODEL}"]
input = "cheap"
[colours]
red = 1
"""
CONFIG_KEYS = [
    "[defaults].model",
    "[defaults].temperature",
    "[defaults].top_k",
    "[defaults].stop_sequences",
    "[defaults].max_tokens_to_sample",
    "[bedrock].region",
    "[bedrock].read_timeout",
    "[bedrock].max_attempts",
    "[ui].mouse",
    "[presets.x].top_p",
    f'[prices."{MODEL}"]',
    ".colours",
]


def test_ask_with_a_bad_config_warns_per_key_and_sends_only_good_values(cli):
    path = cli.config(BAD_CONFIG)
    result = cli.run("ask", "hello")
    assert result.code == 0, result.stderr
    warnings = result.err_lines
    for key in CONFIG_KEYS:
        matching = [w for w in warnings if f"{path}: {key}" in w]
        assert len(matching) == 1, (key, warnings)
        assert matching[0].startswith("tui-chat: warning: ")
    assert len(warnings) == len(CONFIG_KEYS)
    (request,) = cli.emulator.requests
    # The built-in defaults: the model for the region, nothing out of range.
    assert request.model_id == DEFAULT_US
    assert request.body["max_tokens"] == 8192
    assert not {"temperature", "top_k", "top_p", "stop_sequences"} & set(request.body)
    (saved,) = cli.files()
    params = tomllib.loads(saved.read_text())["params"]
    assert (params["model"], params["temperature"], params["top_k"]) == (DEFAULT_US, 1.0, 250)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"[defaults\ntemperature = 0.5\n", "is not valid TOML"),
        (b"\xff\xfe\x00junk", "cannot be read"),
        (None, "is a directory"),
    ],
    ids=["invalid-toml", "binary", "directory"],
)
def test_an_unreadable_config_falls_back_to_the_built_in_settings(cli, content, reason):
    path = cli.config("")
    if content is None:
        path.unlink()
        path.mkdir()
    else:
        path.write_bytes(content)
    result = cli.run("ask", "hello")
    assert result.code == 0, result.stderr
    (line,) = result.err_lines
    assert line.startswith(f"tui-chat: warning: {path}: {reason}")
    assert "using the built-in settings" in line
    assert cli.emulator.requests[0].model_id == DEFAULT_US
    if content is not None:
        assert path.read_bytes() == content  # the user's file is never rewritten


async def test_app_with_bad_config_state_and_theme_files(make_app, emulator, isolated_environment):
    """The app starts, says once what is wrong with each file, works with the good values,
    and keeps an unreadable state.toml aside byte for byte."""
    home = isolated_environment
    config = write_config(home, BAD_CONFIG)
    state = home / "data" / "tui-chat" / "state.toml"
    state.parent.mkdir(parents=True, exist_ok=True)
    junk = b'theme = "paper"\n\xff\xfe [drafts\n'
    state.write_bytes(junk)
    themes = home / "config" / "tui-chat" / "themes"
    themes.mkdir(parents=True)
    (themes / "junk.toml").write_bytes(bytes(range(256)))
    (themes / "folder.toml").mkdir()
    (themes / "markup.toml").write_text('name = "[@click=app.quit]x"\nprimary = "#123456"\n')
    app = make_app()
    said = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.2)
        for key in CONFIG_KEYS:
            assert sum(f"{config}: {key}" in m for m in said) == 1, (key, said)
        assert sum(f"{state}: is not valid TOML" in m for m in said) == 1, said
        for name in ("junk.toml", "folder.toml", "markup.toml"):
            assert sum(str(themes / name) in m for m in said) == 1, (name, said)
        assert app.is_running
        await send(pilot, "hello")
        await wait_idle(pilot, app)
        body = emulator.requests[-1].body
        assert body["max_tokens"] == 8192
        assert not {"temperature", "top_k", "top_p", "stop_sequences"} & set(body)
        await pilot.press("ctrl+q")
    assert (state.parent / "state.toml.bad").read_bytes() == junk
    assert tomllib.loads(state.read_text())["open_conversation"] == app.conversation.id
    assert load_settings().problems  # config.toml itself was left as the user wrote it


async def test_state_with_wrong_types_is_dropped_and_rewritten(make_app, isolated_environment):
    state = isolated_environment / "data" / "tui-chat" / "state.toml"
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(
        'theme = 5\nopen_conversation = "../../etc/passwd"\nhistory = "not a list"\n'
        'drafts = "not a table"\nsidebar = "yes"\n'
    )
    app = make_app()
    async with app.run_test() as pilot:
        await pilot.pause(0.1)
        assert app.query_one(PromptInput).text == ""
        assert app.conversation.messages == []
        await send(pilot, "hello")
        await wait_idle(pilot, app)
        await pilot.press("ctrl+q")
    data = tomllib.loads(state.read_text())
    assert data["history"] == ["hello"]
    assert data["open_conversation"] == app.conversation.id
    assert "theme" not in data  # the bad value is dropped; only a choice made in the app is kept
