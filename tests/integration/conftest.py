"""Emulator fixtures: a local Bedrock on loopback, reached through real boto3 clients only."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tui_chat.emulator import Emulator

EMULATOR_REGION = "us-east-1"
EMULATOR_CREDENTIALS = {"aws_access_key_id": "AKIDEXAMPLE", "aws_secret_access_key": "dummy"}


@pytest.fixture(scope="session")
def emulator_server():
    """One full-speed emulator for the whole run (use ``emulator`` in tests)."""
    with Emulator(tokens_per_second=None, first_token_delay=0.0) as emu:
        yield emu


@pytest.fixture
def emulator(emulator_server):
    """The shared full-speed emulator with no faults armed and an empty request log."""
    emulator_server.clear_faults()
    emulator_server.requests.clear()
    yield emulator_server
    emulator_server.clear_faults()


@pytest.fixture(scope="session")
def emulator_boto_session():
    """A boto3 session with dummy keys (sessions cache the service models: clients are cheap)."""
    return boto3.Session(region_name=EMULATOR_REGION, **EMULATOR_CREDENTIALS)


def emulator_config(**overrides) -> Config:
    """No retries (a fault is seen once) and short timeouts, unless overridden.

    botocore's ``max_attempts`` counts retries; ``total_max_attempts`` counts attempts.
    """
    settings = {"retries": {"total_max_attempts": 1}, "read_timeout": 10, "connect_timeout": 5}
    settings.update(overrides)
    return Config(**settings)


@pytest.fixture(scope="session")
def emulator_client(emulator_boto_session):
    """Factory: ``emulator_client(url, service="bedrock-runtime", region_name=None, **config)``.

    ``config`` overrides the botocore ``Config`` settings (e.g. ``read_timeout=0.5``).
    """

    def make(url, service="bedrock-runtime", region_name=None, **config):
        return emulator_boto_session.client(
            service, endpoint_url=url, region_name=region_name, config=emulator_config(**config)
        )

    return make


@pytest.fixture
def emulator_runtime(emulator, emulator_boto_session):
    """A bedrock-runtime client pointed at the shared emulator."""
    return emulator_boto_session.client(
        "bedrock-runtime", endpoint_url=emulator.url, config=emulator_config()
    )


@pytest.fixture
def emulator_control(emulator, emulator_boto_session):
    """A bedrock (control plane) client pointed at the shared emulator."""
    return emulator_boto_session.client(
        "bedrock", endpoint_url=emulator.url, config=emulator_config()
    )


@pytest.fixture
def emulator_env(emulator, monkeypatch):
    """Point boto3 at the emulator through the environment, as demo mode does."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", emulator.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK", emulator.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", EMULATOR_CREDENTIALS["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", EMULATOR_CREDENTIALS["aws_secret_access_key"])
    monkeypatch.setenv("AWS_DEFAULT_REGION", EMULATOR_REGION)
    monkeypatch.delenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", raising=False)
    return emulator


@pytest.fixture(scope="module")
def paced_emulator():
    """An emulator streaming at 20 tokens per second (for timing tests; keep replies short)."""
    with Emulator(tokens_per_second=20.0, first_token_delay=0.1) as emu:
        yield emu


def refused(call) -> str:
    """The message of the ValidationException (HTTP 400) that ``call`` raises."""
    with pytest.raises(ClientError) as info:
        call()
    error = info.value.response["Error"]
    assert error["Code"] == "ValidationException", error
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return error["Message"]
