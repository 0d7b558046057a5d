"""What the app knows about AWS without boto3: which environment variables hold credentials
(never shown, saved or logged), how to take them out of any text, and what a region name looks
like. Used by the Bedrock client, the config file's checks and the debug log."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping

#: Environment variables whose values are credentials: never shown, saved or logged.
SECRET_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ACCESS_KEY",
    "AWS_SECRET_KEY",
    "AWS_BEARER_TOKEN_BEDROCK",
)
REDACTED = "[redacted]"
# What signed requests carry in headers; a library's message can quote a header whole (e.g.
# "Invalid header value b'AWS4-HMAC-SHA256 Credential=...'").
_HEADER_SECRETS = re.compile(
    r"(Credential=|Signature=|X-Amz-Security-Token[:=] ?)[^\s,'\"]+"
    r"|(Bearer )[A-Za-z0-9._~+/=-]{20,}",
    re.IGNORECASE,
)
_HEADER_VALUE = re.compile(r"(Invalid header value )b?(['\"]).*?(?<!\\)\2", re.IGNORECASE)


def secret_values(env: Mapping[str, str] | None = None) -> list[str]:
    """The values of the credential variables, in every form a message may quote them
    (as set, trimmed, and escaped as in a repr), longest first."""
    env = os.environ if env is None else env
    found: set[str] = set()
    for name in SECRET_VARIABLES:
        value = env.get(name) or ""
        for form in (value, value.strip(), value.encode("unicode_escape").decode("ascii")):
            if len(form) >= 4:
                found.add(form)
    return sorted(found, key=len, reverse=True)


def redact(text: str, secrets: Iterable[str] | None = None) -> str:
    """`text` with every credential value, signature and quoted auth header replaced."""
    if not text:
        return text
    for secret in secret_values() if secrets is None else secrets:
        text = text.replace(secret, REDACTED)
    text = _HEADER_VALUE.sub(lambda m: f"{m.group(1)}({REDACTED})", text)
    return _HEADER_SECRETS.sub(lambda m: f"{m.group(1) or m.group(2)}{REDACTED}", text)


#: What botocore accepts as a region name (a DNS label); anything else fails every request.
REGION_NAME = re.compile(r"^(?![0-9]+$)(?!-)[a-zA-Z0-9-]{1,63}(?<!-)$")


def is_region_name(text: str) -> bool:
    return bool(REGION_NAME.match(text))
