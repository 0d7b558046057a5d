"""Demo mode: the built-in emulator started in this process, and an Engine pointed at it.

Used when no AWS credentials are found (the app) or when `--demo` is given. The app reaches the
emulator through boto3 over HTTP on loopback exactly as it reaches AWS; only the endpoint and
the dummy keys differ. The dummy keys are not secrets and are never written anywhere.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from tui_chat.bedrock.engine import Engine

if TYPE_CHECKING:
    from tui_chat.config import Settings
    from tui_chat.emulator import Emulator
    from tui_chat.params import Params

DEMO_REGION = "us-east-1"
DEMO_KEY_ID = "AKIDTUICHATDEMO"
#: The demo's pace when TUI_CHAT_DEMO_TPS is not set: tokens per second.
DEMO_TOKENS_PER_SECOND = 40.0
TPS_VARIABLE = "TUI_CHAT_DEMO_TPS"


def demo_tokens_per_second(environ: Mapping[str, str] | None = None) -> float | None:
    """The demo's tokens per second from TUI_CHAT_DEMO_TPS: None (full speed) for 0, the
    default (40) when it is unset, empty, negative or not a number."""
    raw = (os.environ if environ is None else environ).get(TPS_VARIABLE, "").strip()
    try:
        value = float(raw) if raw else DEMO_TOKENS_PER_SECOND
    except ValueError:
        return DEMO_TOKENS_PER_SECOND
    if value != value or value < 0:  # NaN or negative
        return DEMO_TOKENS_PER_SECOND
    return value or None


def demo_defaults(settings: Settings) -> Params:
    """The parameters new conversations start from in demo mode: the settings' defaults, with
    the default model of the demo's region (DEMO_REGION) unless a region (--region, config,
    AWS_REGION) or config.toml's [defaults] model chose one."""
    from tui_chat.bedrock.catalog import default_model

    defaults = settings.defaults
    if settings.region or settings.model_from_config:
        return defaults
    return defaults.with_changes(model=default_model(DEMO_REGION))


class Demo:
    """The emulator for one process's lifetime. ``Demo.from_environment()`` paces it by
    TUI_CHAT_DEMO_TPS, as the app and `tui-chat ask --demo` both do."""

    def __init__(
        self,
        tokens_per_second: float | None = DEMO_TOKENS_PER_SECOND,
        first_token_delay: float = 0.4,
    ):
        self.tokens_per_second = tokens_per_second
        self.first_token_delay = first_token_delay
        self._emulator: Emulator | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Demo:
        """A Demo paced by TUI_CHAT_DEMO_TPS (see ``demo_tokens_per_second``)."""
        return cls(tokens_per_second=demo_tokens_per_second(environ))

    @property
    def url(self) -> str:
        return self._emulator.url if self._emulator else ""

    def start(self) -> dict[str, str]:
        """Start the emulator; return the environment that points boto3 at it."""
        from tui_chat.emulator import Emulator

        if self._emulator is None:
            self._emulator = Emulator(
                tokens_per_second=self.tokens_per_second,
                first_token_delay=self.first_token_delay,
            )
            self._emulator.start()
        return {
            "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": self._emulator.url,
            "AWS_ENDPOINT_URL_BEDROCK": self._emulator.url,
            "AWS_ACCESS_KEY": DEMO_KEY_ID,
            "AWS_SECRET_KEY": "demo-not-a-secret",
            "AWS_REGION": DEMO_REGION,
        }

    def stop(self) -> None:
        if self._emulator is not None:
            self._emulator.stop()
            self._emulator = None

    def engine(self, settings: Settings | None = None) -> Engine:
        """An Engine that talks to this demo's emulator (started if need be)."""
        env = self.start()
        return Engine(settings.bedrock if settings else None, env=env, region=DEMO_REGION)
