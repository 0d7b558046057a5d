"""Demo mode: the built-in emulator started in this process, and an Engine pointed at it.

Used when no AWS credentials are found (the app) or when `--demo` is given. The app reaches the
emulator through boto3 over HTTP on loopback exactly as it reaches AWS; only the endpoint and
the dummy keys differ. The dummy keys are not secrets and are never written anywhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui_chat.bedrock.engine import Engine

if TYPE_CHECKING:
    from tui_chat.config import Settings
    from tui_chat.emulator import Emulator

DEMO_REGION = "us-east-1"
DEMO_KEY_ID = "AKIDTUICHATDEMO"


class Demo:
    """The emulator for one process's lifetime."""

    def __init__(self, tokens_per_second: float | None = 40.0, first_token_delay: float = 0.4):
        self.tokens_per_second = tokens_per_second
        self.first_token_delay = first_token_delay
        self._emulator: Emulator | None = None

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
        return Engine(settings, env=env, region=DEMO_REGION)
