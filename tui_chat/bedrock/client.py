"""boto3 clients: credentials, region, endpoints, retries and timeouts, created once and shared.

boto3 is imported only when a client is first needed, so the UI's first frame never waits for
it. Clients are thread-safe once made; making them is not, so one lock guards the cache.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui_chat.aws import SECRET_VARIABLES, is_region_name
from tui_chat.bedrock.errors import BedrockError

DEMO_REGION = "us-east-1"
POOL_CONNECTIONS = 32
DEFAULT_READ_TIMEOUT = 120.0
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class BedrockSettings:
    """What Bedrock's clients are made with, from config.toml's [bedrock] and the command
    line (tui_chat/config.py reads them); the environment fills in the rest."""

    region: str | None = None
    profile: str | None = None
    read_timeout: float = DEFAULT_READ_TIMEOUT
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    max_attempts: int = DEFAULT_MAX_ATTEMPTS


@dataclass(frozen=True)
class Connection:
    """Everything that identifies a pair of clients. Secrets never appear in its repr."""

    region: str
    profile: str | None = None
    endpoint_runtime: str | None = None
    endpoint_control: str | None = None
    read_timeout: float = DEFAULT_READ_TIMEOUT
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    access_key: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)

    @property
    def is_custom_endpoint(self) -> bool:
        return bool(self.endpoint_runtime)


def resolve(
    bedrock: BedrockSettings | None = None,
    *,
    access_key: str | None = None,
    secret_key: str | None = None,
    region: str | None = None,
    profile: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Connection:
    """Work out region, profile, keys and endpoints; raise BedrockError if there is no region.

    Explicit keys (the SDK constructor) win; then the seeds' AWS_ACCESS_KEY / AWS_SECRET_KEY
    when the standard AWS_ACCESS_KEY_ID is not set; otherwise boto3's own chain decides.
    """
    env = os.environ if env is None else env
    bedrock = bedrock or BedrockSettings()
    check_credential_text(env)
    if access_key is None and secret_key is None and not env.get("AWS_ACCESS_KEY_ID"):
        access_key = env.get("AWS_ACCESS_KEY") or None
        secret_key = env.get("AWS_SECRET_KEY") or None
    if (access_key is None) != (secret_key is None):
        raise BedrockError(
            "no_credentials",
            detail="an access key was given without its secret key, or the other way round",
        )
    profile = profile or bedrock.profile or None
    region = (
        region
        or bedrock.region
        or env.get("AWS_REGION")
        or env.get("AWS_DEFAULT_REGION")
        or _profile_region(profile)
    )
    if not region:
        raise BedrockError("no_region")
    if not is_region_name(region):
        raise BedrockError("bad_region", detail=f"{region!r} is not a region name")
    return Connection(
        region=region,
        profile=profile,
        endpoint_runtime=env.get("AWS_ENDPOINT_URL_BEDROCK_RUNTIME") or None,
        endpoint_control=env.get("AWS_ENDPOINT_URL_BEDROCK") or None,
        read_timeout=bedrock.read_timeout,
        connect_timeout=bedrock.connect_timeout,
        max_attempts=bedrock.max_attempts,
        access_key=access_key,
        secret_key=secret_key,
        session_token=(env.get("AWS_SESSION_TOKEN") or None) if access_key else None,
    )


def check_credential_text(env: Mapping[str, str]) -> None:
    """Refuse a credential variable holding whitespace or control characters (a key pasted with
    its line break, a CRLF .env file): sent as is, the request fails with a message that quotes
    the header, credential and all. Raises BedrockError("bad_credentials") naming the variable,
    never its value."""
    for name in SECRET_VARIABLES:
        value = env.get(name) or ""
        if any(char.isspace() or not char.isprintable() for char in value):
            raise BedrockError(
                "bad_credentials",
                detail=f"{name} contains a space, line break or control character",
            )


def _profile_region(profile: str | None) -> str | None:
    """The region in ~/.aws/config for the profile, read through botocore."""
    try:
        session = _session(profile)
    except BedrockError:
        return None
    return session.region_name


def likely_has_credentials(env: Mapping[str, str] | None = None) -> bool:
    """A quick look, without boto3, for any sign of credentials (used to pick demo mode at
    start-up without waiting): keys, a token, a profile, or an AWS config file."""
    env = os.environ if env is None else env
    names = (
        "AWS_ACCESS_KEY_ID",
        "AWS_ACCESS_KEY",
        "AWS_BEARER_TOKEN_BEDROCK",
        "AWS_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    )
    if any(env.get(name) for name in names):
        return True
    home = Path(env.get("HOME", "~")).expanduser()
    for variable, default in (
        ("AWS_SHARED_CREDENTIALS_FILE", home / ".aws" / "credentials"),
        ("AWS_CONFIG_FILE", home / ".aws" / "config"),
    ):
        path = Path(env.get(variable) or default).expanduser()
        try:
            if path.is_file() and path.stat().st_size > 0:
                return True
        except OSError:
            continue
    return False


def check_credentials(connection: Connection, env: Mapping[str, str] | None = None) -> None:
    """Raise BedrockError("no_credentials") unless some credential source answers."""
    env = os.environ if env is None else env
    if connection.access_key or env.get("AWS_BEARER_TOKEN_BEDROCK"):
        return
    session = _session(connection.profile)
    try:
        credentials = session.get_credentials()
    except Exception as error:  # botocore raises a variety here (SSO expired, bad config...)
        raise BedrockError("no_credentials", detail=str(error)) from None
    if credentials is None:
        raise BedrockError("no_credentials")


def _session(profile: str | None) -> Any:
    import boto3.session
    import botocore.exceptions

    try:
        return boto3.session.Session(profile_name=profile)
    except botocore.exceptions.ProfileNotFound:
        raise BedrockError(
            "no_credentials", detail=f"the AWS profile {profile!r} does not exist"
        ) from None


_lock = threading.Lock()
_clients: dict[tuple[str, Connection], Any] = {}


def client(connection: Connection, service: str = "bedrock-runtime") -> Any:
    """The shared boto3 client for a connection ("bedrock-runtime" or "bedrock")."""
    key = (service, connection)
    found = _clients.get(key)
    if found is not None:
        return found
    with _lock:
        found = _clients.get(key)
        if found is None:
            found = _make_client(connection, service)
            _clients[key] = found
        return found


def _make_client(connection: Connection, service: str) -> Any:
    import boto3.session
    from botocore.config import Config

    if connection.access_key:
        session = boto3.session.Session(
            aws_access_key_id=connection.access_key,
            aws_secret_access_key=connection.secret_key,
            aws_session_token=connection.session_token,
            region_name=connection.region,
        )
    else:
        session = _session(connection.profile)
    options: dict[str, Any] = {}
    if connection.access_key:
        # Keys given explicitly win over AWS_BEARER_TOKEN_BEDROCK, which botocore would
        # otherwise prefer whenever it is set (and which it refuses to send over plain HTTP).
        options["signature_version"] = "v4"
    config = Config(
        region_name=connection.region,
        read_timeout=connection.read_timeout,
        connect_timeout=connection.connect_timeout,
        # Retries happen only before a stream starts: botocore never retries after a 200.
        # botocore's `max_attempts` counts retries; `total_max_attempts` counts every attempt.
        retries={"mode": "standard", "total_max_attempts": connection.max_attempts},
        max_pool_connections=POOL_CONNECTIONS,
        tcp_keepalive=True,
        user_agent_extra="tui-chat",
        **options,
    )
    endpoint = (
        connection.endpoint_runtime if service == "bedrock-runtime" else connection.endpoint_control
    )
    return session.client(service, endpoint_url=endpoint, config=config)


def reset_clients() -> None:
    """Forget every client (tests, or after the user changed credentials)."""
    with _lock:
        _clients.clear()
