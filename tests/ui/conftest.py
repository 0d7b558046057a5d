"""Driving the real app with Pilot against the emulator, through real boto3."""

from __future__ import annotations

import io
import time
from collections.abc import Callable

import boto3
import pytest
from rich.console import Console

from tui_chat import model_list
from tui_chat.bedrock import client as clients
from tui_chat.config import load_settings
from tui_chat.emulator import Emulator
from tui_chat.store import SessionStore
from tui_chat.ui.app import ChatApp
from tui_chat.ui.widgets.prompt import PromptInput

MODEL = "us.anthropic.claude-haiku-4-5-20251001-v1:0"


@pytest.fixture(scope="session")
def ui_emulator():
    with Emulator(tokens_per_second=None, first_token_delay=0.0) as emu:
        yield emu


@pytest.fixture
def emulator(ui_emulator):
    ui_emulator.clear_faults()
    ui_emulator.requests.clear()
    ui_emulator.tokens_per_second = None
    yield ui_emulator
    ui_emulator.clear_faults()
    ui_emulator.tokens_per_second = None


@pytest.fixture
def app_env(emulator, monkeypatch, isolated_environment):
    """The environment of a user with credentials whose Bedrock is the emulator."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", emulator.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK", emulator.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDUITESTS")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "ui-test-secret")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    config = isolated_environment / "config" / "tui-chat" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        f'[defaults]\nmodel = "{MODEL}"\n[bedrock]\nmax_attempts = 1\nread_timeout = 5\n'
    )
    clients.reset_clients()
    # A model list fetched earlier today, as on any launch but the first: the app then makes
    # no control-plane calls, and `emulator.requests` holds only what a test sends.
    settings = load_settings()
    control = boto3.client(
        "bedrock",
        endpoint_url=emulator.url,
        region_name="us-east-1",
        aws_access_key_id="AKIDUITESTS",
        aws_secret_access_key="ui-test-secret",
    )
    model_list.save_cache(
        model_list.cache_path(settings.paths.cache_dir, "us-east-1", emulator.url),
        model_list.fetch(control),
    )
    emulator.requests.clear()
    yield emulator
    clients.reset_clients()


@pytest.fixture
def make_app(app_env) -> Callable[..., ChatApp]:
    def make(**settings) -> ChatApp:
        return ChatApp(load_settings(**settings))

    return make


@pytest.fixture
def sessions(app_env) -> SessionStore:
    settings = load_settings()
    return SessionStore(settings.paths.sessions_dir, defaults=settings.defaults)


async def wait_for(pilot, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the app")
        await pilot.pause(0.02)


async def wait_for_screen(pilot, screen_type: type, widget: str = "*") -> None:
    """Until a screen of that type is showing and composed."""
    await wait_for(
        pilot,
        lambda: isinstance(pilot.app.screen, screen_type) and bool(pilot.app.screen.query(widget)),
    )


async def wait_idle(pilot, app: ChatApp, timeout: float = 10.0) -> None:
    """Until no reply is streaming and the last one is on screen."""
    await wait_for(pilot, lambda: not app.streams, timeout)
    await pilot.pause(0.05)


async def send(pilot, text: str) -> None:
    prompt = pilot.app.query_one(PromptInput)
    prompt.focus()
    prompt.load_text(text)
    await pilot.pause()
    await pilot.press("enter")
    await pilot.pause()


def rendered_text(widget, width: int = 100) -> str:
    """What a widget's content looks like as plain text (as the terminal would show it)."""
    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    console.print(widget.content)
    return console.export_text()
