"""`--debug` logging: what was asked of Bedrock and how it went, never a secret or a prompt.

Only the `tui_chat` logger writes to the log file, and it does not propagate, so nothing from
botocore, boto3 or urllib3 ever reaches the file (botocore's debug output includes signed
request headers). Those libraries' loggers are also held at WARNING in case anything else in
the process attaches a handler. As a last line of defence, a filter on the file handler
replaces any value of the usual secret environment variables with `[redacted]`.

Per request the log holds the operation, the model, the parameters sent (the system prompt
excepted), the prompt's size in characters and the number of turns, and the outcome: stop
reason, tokens and timings, or the kind of failure.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tui_chat.aws import SECRET_VARIABLES, redact, secret_values

LOGGER_NAME = "tui_chat"
QUIET_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer")
MAX_BYTES = 5 * 1024 * 1024
BACKUPS = 2
_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d]: %(message)s"


class _PrivateFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log file that is created readable by its owner only (0600)."""

    def _open(self) -> Any:
        def opener(path: str, flags: int) -> int:
            return os.open(path, flags, 0o600)

        stream = open(  # noqa: SIM115 - the handler owns and closes the stream
            self.baseFilename, self.mode, encoding=self.encoding, errors=self.errors, opener=opener
        )
        try:
            os.chmod(self.baseFilename, 0o600)
        except OSError:
            pass
        return stream


class RedactSecrets(logging.Filter):
    """Replace known secret values, signatures and quoted auth headers in a record's final
    text (belt and braces)."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        # Longest first, so a value that contains another is replaced whole.
        self.secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message, self.secrets)
        if cleaned != message or record.exc_info:
            if record.exc_info:
                text = logging.Formatter().formatException(record.exc_info)
                cleaned = f"{cleaned}\n{redact(text, self.secrets)}"
                record.exc_info = None
                record.exc_text = None
            record.msg, record.args = cleaned, None
        return True


def setup_logging(path: Path | str, env: Mapping[str, str] | None = None) -> logging.Logger:
    """Send the `tui_chat` logger's DEBUG records to `path` (folders 0700, file 0600).

    Safe to call more than once: an earlier handler this function added is replaced.
    Returns the `tui_chat` logger.
    """
    env = os.environ if env is None else env
    path = Path(path).expanduser()
    _make_private_dirs(path.parent)
    handler = _PrivateFileHandler(
        path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8", errors="replace"
    )
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.addFilter(RedactSecrets(secret_values(env)))
    handler.set_name("tui-chat-debug")
    logger = logging.getLogger(LOGGER_NAME)
    for old in list(logger.handlers):
        if old.get_name() == "tui-chat-debug":
            logger.removeHandler(old)
            old.close()
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    return logger


def _make_private_dirs(directory: Path) -> None:
    missing = []
    current = directory
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
        try:
            os.chmod(folder, 0o700)
        except OSError:
            pass


def request_line(prepared: Any, prompt_chars: int, turns: int) -> str:
    """One line describing a request about to be sent (no prompt text, no system prompt)."""
    sent = {k: v for k, v in prepared.sent.items() if k not in ("system", "model")}
    params = " ".join(f"{name}={value!r}" for name, value in sent.items())
    line = (
        f"request {prepared.operation} model={prepared.model_id} {params} "
        f"system={'yes' if prepared.sent.get('system') else 'no'} "
        f"prompt_chars={prompt_chars} turns={turns}"
    )
    if prepared.omitted:
        line += f" omitted={','.join(prepared.omitted)}"
    return line


def outcome_line(
    *,
    status: str,
    stop: Any = None,
    error: Any = None,
    chars: int = 0,
    elapsed_ms: int | None = None,
) -> str:
    """One line describing how a request ended."""
    parts = [f"outcome status={status}", f"reply_chars={chars}"]
    if stop is not None:
        parts.append(f"stop_reason={stop.reason}")
        usage = stop.usage
        parts.append(f"input_tokens={usage.input_tokens} output_tokens={usage.output_tokens}")
        parts.append(f"latency_ms={usage.latency_ms}")
        if usage.first_token_ms is not None:
            parts.append(f"first_token_ms={usage.first_token_ms}")
    elif elapsed_ms is not None:
        parts.append(f"elapsed_ms={elapsed_ms}")
    if error is not None:
        parts.append(f"error={error.kind}")
        if getattr(error, "code", ""):
            parts.append(f"code={error.code}")
    return " ".join(parts)


__all__ = ["SECRET_VARIABLES", "RedactSecrets", "outcome_line", "request_line", "setup_logging"]
