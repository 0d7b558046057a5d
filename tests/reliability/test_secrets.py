"""Secrets: after runs with known dummy credentials under every name tui-chat reads (the
standard and the seed SDK's variables, a session token, a bearer token), no file it wrote
(sessions, checkpoints, state, caches, the --debug log, exports) holds any of them, and the
conversations are private: files 0600 in a 0700 folder.
"""

from __future__ import annotations

import stat
from pathlib import Path

from tui_chat.bedrock.errors import BedrockError, from_exception
from tui_chat.emulator import Fault
from tui_chat.store import SessionStore

from .conftest import (
    ALL_SECRET_VALUES,
    BEARER,
    SECRETS,
    SEED_SECRETS,
    emulator_env,
    sessions_dir,
)


def written_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def assert_no_secret(label: str, data: bytes) -> None:
    for secret in ALL_SECRET_VALUES:
        assert secret.encode() not in data, f"{secret!r} found in {label}"


def test_no_credential_in_any_file_and_private_modes(
    pty_apps, cli, app_env, isolated_environment, tmp_path
):
    home = isolated_environment
    store = SessionStore(sessions_dir(home))
    standard = emulator_env(home, app_env, **SECRETS)
    seed_and_bearer = {
        **{k: v for k, v in standard.items() if k not in ("AWS_ACCESS_KEY_ID", *SECRETS)},
        **SEED_SECRETS,
        **BEARER,
    }
    everything = {**standard, **SEED_SECRETS, **BEARER}
    shown: list[tuple[str, bytes]] = []

    # The app with --debug: a reply, and a failure.
    app = pty_apps(standard, "--debug")
    app.wait_for_text("Type a message")
    app.type("first question")
    app.wait_for(lambda: _statuses(store) == ["complete"], what="the reply")
    app_env.add_fault(Fault("access_denied"))
    app.type("second question")
    app.wait_for(lambda: _statuses(store) == ["complete", "error"], what="the failure")
    assert app.quit() == 0
    shown.append(("the app's terminal", app.output))

    # ask --debug under every set of names; a bearer token over plain HTTP fails, and a
    # token with a stray line break is refused before anything is sent.
    runs = [
        (standard, 0),
        (seed_and_bearer, 0),
        (everything, 1),
        ({**standard, "AWS_SESSION_TOKEN": SECRETS["AWS_SESSION_TOKEN"] + "\r\n"}, 1),
    ]
    for n, (env, code) in enumerate(runs):
        result = cli.run("ask", "--debug", "--session", "Secrets", f"question {n}", env=env)
        assert result.code == code, result.stderr
        shown.append((f"ask run {n}", result.out + result.err))
    assert "credential in the environment is malformed" in result.stderr
    assert "AWS_SESSION_TOKEN" in result.stderr

    # Exports to files and to stdout, and the listing.
    exports = home / "exports"
    exports.mkdir()
    listing = cli.run("sessions", env=everything)
    assert listing.code == 0
    shown.append(("sessions", listing.out + listing.err))
    for path in sorted(sessions_dir(home).glob("*.toml")):
        target = exports / f"{path.stem}.md"
        saved = cli.run("--debug", "export", path.stem, "--output", str(target), env=everything)
        assert saved.code == 0, saved.stderr
        result = cli.run("export", path.stem, env=everything)
        assert result.code == 0
        shown.append((f"export {path.stem}", result.out + result.err))
    assert len(list(exports.iterdir())) == 2

    # What the runs wrote.
    log = home / "state" / "tui-chat" / "tui-chat.log"
    text = log.read_text(encoding="utf-8")
    assert "outcome status=complete" in text and "failure access_denied" in text
    assert "error=bad_endpoint" in text
    files = written_files(tmp_path)
    names = {p.name for p in files}
    assert {"tui-chat.log", "state.toml"} <= names
    assert any(name.startswith("index-") for name in names)
    for path in files:
        assert_no_secret(str(path), path.read_bytes())
    for label, data in shown:
        assert_no_secret(label, data)

    # Private: the folder 0700, every conversation, the log, the state and exports 0600.
    folder = sessions_dir(home)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    private = [
        *folder.iterdir(),
        log,
        home / "data" / "tui-chat" / "state.toml",
        *exports.iterdir(),
    ]
    assert len(list(folder.iterdir())) == 2
    for path in private:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(log.parent.stat().st_mode) == 0o700


def test_errors_that_quote_credentials_are_redacted(monkeypatch):
    """A library error can quote a request header whole (botocore's "Invalid header value
    b'...'"); what is shown, saved or logged has the credential replaced."""
    for name, value in {**SECRETS, **SEED_SECRETS, **BEARER}.items():
        monkeypatch.setenv(name, value)
    token = SECRETS["AWS_SESSION_TOKEN"]
    key = SECRETS["AWS_ACCESS_KEY_ID"]
    header = (
        f"AWS4-HMAC-SHA256 Credential={key}\\n/20260101/us-east-1/bedrock/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=0123456789abcdef0123456789abcdef"
    )
    errors = [
        ValueError(f"Invalid header value b'{header}'"),
        ValueError(f"Invalid header value b'{token}\\r\\n'"),
        RuntimeError(f"refused Bearer {BEARER['AWS_BEARER_TOKEN_BEDROCK']} for x"),
        RuntimeError(f"keys {SEED_SECRETS['AWS_ACCESS_KEY']} {SEED_SECRETS['AWS_SECRET_KEY']}"),
    ]
    for error in errors:
        mapped = from_exception(error)
        for text in (mapped.user_message, str(mapped), repr(mapped), str(mapped.as_dict())):
            assert_no_secret(f"{type(error).__name__}: {text}", text.encode())
            assert "0123456789abcdef" not in text
        assert "[redacted]" in mapped.user_message
    # Messages without credentials are left alone.
    plain = BedrockError("bad_endpoint", detail="Bearer authorization requires an HTTPS endpoint")
    assert "Bearer authorization requires an HTTPS endpoint" in plain.user_message


def test_the_debug_log_redacts_what_a_library_quotes(cli, app_env, isolated_environment):
    """Even an unexpected error's traceback in the --debug log has no credential in it."""
    env = emulator_env(isolated_environment, app_env, **SECRETS)
    app_env.add_fault(Fault("access_denied", message=f"key {SECRETS['AWS_ACCESS_KEY_ID']} denied"))
    result = cli.run("ask", "--debug", "hello", env=env)
    assert result.code == 1
    assert_no_secret("stderr", result.err)
    for path in written_files(isolated_environment):
        assert_no_secret(str(path), path.read_bytes())


def _statuses(store: SessionStore) -> list[str]:
    listing = store.list()
    if not listing.conversations:
        return []
    try:
        conversation = store.load(listing.conversations[0].id, recover=False)
    except Exception:
        return []
    return [m.status for m in conversation.messages if m.role == "assistant"]
