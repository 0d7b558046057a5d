"""The real `tui-chat` executable in a subprocess, against the emulator over loopback.

Every test runs the installed console script with its own HOME and XDG folders (from the
autouse `isolated_environment` fixture) and an environment built here, so nothing of the
machine's AWS configuration is seen.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import stat
import struct
import subprocess
import sys
import termios
import time
import tomllib
from pathlib import Path

import pytest

from tests.cli_result import Result, read_terminal
from tui_chat.bedrock import catalog
from tui_chat.bedrock.errors import BedrockError
from tui_chat.cli.terminal_markdown import TerminalMarkdown as _TerminalMarkdown
from tui_chat.conversation import Conversation, Message
from tui_chat.demo import DEMO_REGION
from tui_chat.emulator import Fault
from tui_chat.export import to_markdown
from tui_chat.params import Params
from tui_chat.store import SessionStore

TUI_CHAT = Path(sys.executable).parent / "tui-chat"
SONNET_45 = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
DEFAULT = "us.anthropic.claude-sonnet-5-5"  # the default in us-east-1: the newest Sonnet
CLAUDE = (
    "us.anthropic.claude-sonnet-4-20250514-v1:0"  # a Claude that takes every sampling parameter
)
BADGE = "*(Demo model — offline, no AWS)*"

SECRETS = {
    "AWS_ACCESS_KEY_ID": "AKIDSTANDARDKEYID1234",
    "AWS_SECRET_ACCESS_KEY": "standard-secret-value-9f8e7d6c5b4a",
    "AWS_SESSION_TOKEN": "session-token-value-0a1b2c3d4e5f",
}
SEED_SECRETS = {
    "AWS_ACCESS_KEY": "AKIDSEEDNAMEKEY5678",
    "AWS_SECRET_KEY": "seed-secret-value-1234abcd5678",
}


def minimal_env(**extra: str) -> dict[str, str]:
    """PATH, HOME and the XDG folders (from isolated_environment), plus `extra`."""
    env = {
        name: os.environ[name]
        for name in (
            "PATH",
            "HOME",
            "XDG_CONFIG_HOME",
            "XDG_DATA_HOME",
            "XDG_CACHE_HOME",
            "XDG_STATE_HOME",
        )
    }
    env["TZ"] = "UTC"
    env.update(extra)
    return env


class Cli:
    """Runs tui-chat against one emulator, and reads what it saved."""

    def __init__(self, emulator, home: Path) -> None:
        self.emulator = emulator
        self.home = home
        self.env = minimal_env(
            AWS_ENDPOINT_URL_BEDROCK_RUNTIME=emulator.url,
            AWS_ENDPOINT_URL_BEDROCK=emulator.url,
            AWS_REGION="us-east-1",
            AWS_EC2_METADATA_DISABLED="true",
            AWS_CONFIG_FILE=str(home / "aws-config"),
            AWS_SHARED_CREDENTIALS_FILE=str(home / "aws-credentials"),
            **SECRETS,
        )
        self.sessions_dir = Path(os.environ["XDG_DATA_HOME"]) / "tui-chat" / "sessions"
        self.log_file = Path(os.environ["XDG_STATE_HOME"]) / "tui-chat" / "tui-chat.log"

    def run(self, *args: str, input: bytes | None = None, env: dict | None = None) -> Result:
        proc = subprocess.run(
            [str(TUI_CHAT), *args],
            input=input if input is not None else b"",
            capture_output=True,
            env=self.env if env is None else env,
            timeout=60,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def popen(self, *args: str, **kwargs) -> subprocess.Popen:
        return subprocess.Popen(
            [str(TUI_CHAT), *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=self.env,
            **kwargs,
        )

    def config(self, text: str) -> None:
        path = self.home / "test-config.toml"
        path.write_text(text, encoding="utf-8")
        self.env["TUI_CHAT_CONFIG"] = str(path)

    def files(self) -> list[Path]:
        if not self.sessions_dir.exists():
            return []
        return sorted(p for p in self.sessions_dir.glob("*.toml"))

    def only_session(self) -> dict:
        (path,) = self.files()
        return tomllib.loads(path.read_text(encoding="utf-8"))

    def store(self) -> SessionStore:
        return SessionStore(self.sessions_dir)


@pytest.fixture
def cli(emulator, isolated_environment) -> Cli:
    return Cli(emulator, isolated_environment)


def assert_one_line_error(result: Result, code: int) -> str:
    return result.one_line_error(code)


def read_some(proc: subprocess.Popen, at_least: int, timeout: float = 15.0) -> bytes:
    """Read from the child's stdout until at least `at_least` bytes arrived."""
    fd = proc.stdout.fileno()
    data = b""
    deadline = time.monotonic() + timeout
    while len(data) < at_least:
        left = deadline - time.monotonic()
        assert left > 0, f"only {data!r} arrived"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 65536)
            assert chunk, f"stdout closed after {data!r}"
            data += chunk
    return data


# ---------------------------------------------------------------------------------------------
# ask: streaming, saving, parameters


def test_ask_streams_the_reply_and_saves_a_new_session(cli):
    result = cli.run(
        "ask", "--model", SONNET_45, "--temperature", "0.2", "--top-p", "0.5", "Hello from the CLI"
    )
    assert result.code == 0, result.stderr
    assert result.err == b""  # stderr is not a terminal: no "saved as" note
    assert result.stdout.startswith(BADGE)
    assert "Hello from the CLI" in result.stdout

    (request,) = cli.emulator.requests
    assert request.model_id == SONNET_45
    assert request.body["temperature"] == 0.2
    assert "top_p" not in request.body  # Sonnet 4.5 refuses both; the model's rule applied

    (path,) = cli.files()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    session = cli.only_session()
    assert session["title"] == "Hello from the CLI"
    assert session["params"]["temperature"] == 0.2
    assert session["params"]["top_p"] == 0.5
    user, reply = session["messages"]
    assert (user["role"], user["content"]) == ("user", "Hello from the CLI")
    assert reply["role"] == "assistant"
    assert reply["status"] == "complete"
    assert reply["stop_reason"] == "end_turn"
    # Piped output is the reply exactly: nothing added, not even a final newline.
    assert reply["content"] == result.stdout
    assert not result.stdout.endswith("\n")
    assert reply["params"] == {
        "model": SONNET_45,
        "max_tokens_to_sample": 8192,
        "temperature": 0.2,
    }
    assert reply["omitted"] == ["top_p"]
    assert reply["omitted_reasons"] == {"top_p": "this model takes temperature or top_p"}
    assert reply["usage"]["input_tokens"] > 0
    assert reply["usage"]["output_tokens"] > 10
    assert reply["usage"]["latency_ms"] >= 0
    assert not (cli.sessions_dir / f"{session['id']}.partial.toml").exists()


def test_prompt_from_stdin_with_dash_and_when_piped(cli):
    result = cli.run("ask", "--max-tokens", "5", "-", input=b"line one\nline two\n\n")
    assert result.code == 0, result.stderr
    result = cli.run("ask", "--max-tokens", "5", input="piped ünïcode\n".encode())
    assert result.code == 0, result.stderr
    prompts = [r.body["messages"][-1]["content"][0]["text"] for r in cli.emulator.requests]
    # Exactly one trailing newline is removed.
    assert prompts == ["line one\nline two\n", "piped ünïcode"]
    contents = sorted(tomllib.loads(p.read_text())["messages"][0]["content"] for p in cli.files())
    assert contents == ["line one\nline two\n", "piped ünïcode"]


def test_missing_or_empty_prompt_is_a_usage_error(cli):
    primary, secondary = pty.openpty()
    try:
        proc = subprocess.run(
            [str(TUI_CHAT), "ask"],
            stdin=secondary,
            capture_output=True,
            env=cli.env,
            timeout=30,
        )
    finally:
        os.close(primary)
        os.close(secondary)
    line = assert_one_line_error(Result(proc.returncode, proc.stdout, proc.stderr), 2)
    assert "no prompt given" in line

    for args, stdin in ((["ask", "   "], b""), (["ask"], b""), (["ask", "-"], b"\n")):
        line = assert_one_line_error(cli.run(*args, input=stdin), 2)
        assert "prompt is empty" in line
    assert cli.emulator.requests == []
    assert cli.files() == []


def test_every_parameter_flag_reaches_the_request_body(cli):
    result = cli.run(
        "ask",
        "--model",
        CLAUDE,
        "--temperature",
        "0.3",
        "--top-p",
        "0.8",
        "--top-k",
        "40",
        "--max-tokens",
        "300",
        "--stop",
        "never-in-reply",
        "--stop",
        "two\\nlines, with a comma",
        "--system",
        "Answer like a pirate.",
        "Hi",
    )
    assert result.code == 0, result.stderr
    (request,) = cli.emulator.requests
    assert request.model_id == CLAUDE
    body = request.body
    assert body["temperature"] == 0.3
    assert body["top_p"] == 0.8
    assert body["top_k"] == 40
    assert body["max_tokens"] == 300
    assert body["stop_sequences"] == ["never-in-reply", "two\nlines, with a comma"]
    assert body["system"] == "Answer like a pirate."
    session = cli.only_session()
    assert session["params"] == {
        "model": CLAUDE,
        "max_tokens_to_sample": 300,
        "temperature": 0.3,
        "top_p": 0.8,
        "top_k": 40,
        "stop_sequences": ["never-in-reply", "two\nlines, with a comma"],
        "system": "Answer like a pirate.",
        "cache_prompt": True,
    }
    assert session["messages"][1]["params"]["system"] == "Answer like a pirate."


def test_repeated_stop_sequences_are_sent_and_honoured(cli):
    result = cli.run("ask", "--stop", "built-in", "--stop", "absent\\tseq", "Tell me more")
    assert result.code == 0, result.stderr
    (request,) = cli.emulator.requests
    assert request.body["stop_sequences"] == ["built-in", "absent\tseq"]
    assert "built-in" not in result.stdout
    reply = cli.only_session()["messages"][1]
    assert reply["stop_reason"] == "stop_sequence"
    assert reply["stop_sequence"] == "built-in"
    assert reply["content"] == result.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--temperature", "1.5"], "--temperature: temperature must be a number from 0 to 1"),
        (["--temperature", "warm"], "--temperature: temperature must be a number from 0 to 1"),
        (["--top-p", "-0.1"], "--top-p: top_p must be a number from 0 to 1"),
        (["--top-k", "501"], "--top-k: top_k must be a whole number from 0 to 500"),
        (["--top-k", "2.5"], "--top-k: top_k must be a whole number from 0 to 500"),
        (
            ["--max-tokens", "0"],
            "--max-tokens: max_tokens_to_sample must be a whole number "
            f"from 1 to 128,000 for {DEFAULT}",
        ),
        (
            ["--model", CLAUDE, "--max-tokens", "65000"],
            "--max-tokens: max_tokens_to_sample "
            f"must be a whole number from 1 to 64,000 for {CLAUDE}",
        ),
        (["--effort", "extreme"], "--effort: effort must be one of low, medium, high, xhigh, max"),
        (["--thinking", "10"], "--thinking: thinking must be off, adaptive, or a budget"),
        (
            ["--model", CLAUDE, "--thinking", "9000"],
            "thinking must be a budget from 1,024 to 8,191 (below max tokens, 8,192)",
        ),
        (
            ["--model", "us.anthropic.claude-opus-4-7", "--thinking", "4096"],
            "thinking must be off or adaptive for Claude Opus 4.7",
        ),
        (["--stop", ""], "--stop: stop_sequences must be a non-empty stop sequence"),
        (["--stop", "ok", "--stop", "bad\\q"], "--stop: stop_sequences must be"),
        (["--model", " "], "--model: model must be a model id"),
    ],
)
def test_bad_parameter_values_exit_2_before_any_request(cli, args, expected):
    result = cli.run("ask", *args, "Hello")
    line = assert_one_line_error(result, 2)
    assert line.startswith(f"tui-chat: {expected}"), line
    assert "got " in line
    assert result.out == b""
    assert cli.emulator.requests == []
    assert cli.files() == []


def test_unknown_flag_or_command_is_one_line_and_exit_2(cli):
    line = assert_one_line_error(cli.run("ask", "--frobnicate", "Hello"), 2)
    assert "--frobnicate" in line and "tui-chat ask --help" in line
    line = assert_one_line_error(cli.run("frobnicate"), 2)
    assert "frobnicate" in line
    line = assert_one_line_error(cli.run("export"), 2)
    assert "ID" in line
    assert cli.emulator.requests == []


# ---------------------------------------------------------------------------------------------
# ask --session


def test_a_conversation_continued_across_three_session_calls(cli):
    prompts = ["First question", "Second question", "Third question"]
    outputs = []
    for n, prompt in enumerate(prompts):
        extra = ["--model", CLAUDE, "--temperature", "0.4"] if n == 0 else []
        result = cli.run("ask", "--session", "Project X", *extra, prompt)
        assert result.code == 0, result.stderr
        outputs.append(result.stdout)

    assert len(cli.emulator.requests) == 3
    third = cli.emulator.requests[-1].body
    turns = [(m["role"], m["content"][0]["text"]) for m in third["messages"]]
    assert turns == [
        ("user", prompts[0]),
        ("assistant", outputs[0].rstrip()),
        ("user", prompts[1]),
        ("assistant", outputs[1].rstrip()),
        ("user", prompts[2]),
    ]
    assert len(third["messages"]) == 5
    # The conversation's own parameters are the base for later calls.
    assert all(r.body.get("temperature") == 0.4 for r in cli.emulator.requests)
    assert "3 turns into this conversation" in outputs[2]

    session = cli.only_session()
    assert session["title"] == "Project X"
    assert session["title_custom"] is True
    assert session["params"]["temperature"] == 0.4
    messages = session["messages"]
    assert len(messages) == 6
    assert [m["role"] for m in messages] == ["user", "assistant"] * 3
    assert [m["content"] for m in messages[1::2]] == outputs
    assert all(m["status"] == "complete" for m in messages[1::2])


def test_session_by_id_and_an_ambiguous_title(cli):
    for _ in range(2):
        assert cli.run("ask", "--model", CLAUDE, "--max-tokens", "5", "Same prompt").code == 0
    ids = sorted(p.stem for p in cli.files())
    assert len(ids) == 2
    cli.emulator.requests.clear()

    line = assert_one_line_error(cli.run("ask", "--session", "Same prompt", "Next"), 2)
    assert all(i in line for i in ids), line
    # Titles are stored with single spaces, so a title typed with extra spaces still matches.
    line = assert_one_line_error(cli.run("export", " Same   prompt"), 2)
    assert all(i in line for i in ids), line
    assert cli.emulator.requests == []

    result = cli.run("ask", "--session", ids[0], "--max-tokens", "5", "Next")
    assert result.code == 0, result.stderr
    counts = {p.stem: len(tomllib.loads(p.read_text())["messages"]) for p in cli.files()}
    assert counts == {ids[0]: 4, ids[1]: 2}
    assert len(cli.emulator.requests[0].body["messages"]) == 3


# ---------------------------------------------------------------------------------------------
# Failures


FAILURES = [
    pytest.param(Fault("throttling", times=None), "throttled", 2, id="throttling"),
    pytest.param(Fault("access_denied"), "access_denied", 1, id="access_denied"),
    pytest.param(Fault("not_found"), "not_found", 1, id="not_found"),
    pytest.param(Fault("validation"), "validation", 1, id="validation"),
    pytest.param(Fault("context_too_long"), "context_too_long", 1, id="context_too_long"),
    pytest.param(Fault("stream_model_error", after_tokens=6), "overloaded", 1, id="model_error"),
    pytest.param(Fault("stream_throttling", after_tokens=6), "throttled", 1, id="stream_throttle"),
    pytest.param(Fault("stream_unavailable", after_tokens=6), "overloaded", 1, id="unavailable"),
    pytest.param(Fault("cut", after_tokens=6), "connection_lost", 1, id="cut"),
    pytest.param(Fault("stall", after_tokens=6, seconds=3), "read_timeout", 1, id="stall"),
]


@pytest.mark.parametrize(("fault", "kind", "attempts"), FAILURES)
def test_each_failure_is_one_line_exit_1_and_the_partial_reply_is_kept(cli, fault, kind, attempts):
    # Two attempts show that throttling is retried before the stream (and then given up on).
    read_timeout = 1 if fault.kind == "stall" else 30
    cli.config(
        f'[defaults]\nmodel = "{CLAUDE}"\n'
        f"[bedrock]\nread_timeout = {read_timeout}\nmax_attempts = {attempts}\n"
    )
    cli.emulator.add_fault(fault)
    result = cli.run("ask", "Hello there")
    line = assert_one_line_error(result, 1)
    assert len(cli.emulator.requests) == attempts

    reply = cli.only_session()["messages"][1]
    assert reply["status"] == "error"
    assert reply["error"]["kind"] == kind
    assert line == f"tui-chat: {reply['error']['message']}"
    assert BedrockError(kind).advice in line  # what to do, not only what happened
    assert reply["content"] == result.stdout
    if fault.after_tokens:
        assert result.stdout.startswith(BADGE)
        assert len(result.stdout.split()) >= 5
    else:
        assert result.out == b""


def test_failure_messages_say_what_to_do(cli):
    cli.emulator.add_fault(Fault("access_denied"))
    line = assert_one_line_error(cli.run("ask", "Hello"), 1)
    assert "Model access" in line and DEFAULT in line


def test_no_credentials_without_demo_explains_how_and_mentions_demo(cli, isolated_environment):
    home = isolated_environment
    for region in ({"AWS_REGION": "us-east-1"}, {}):
        env = minimal_env(
            AWS_CONFIG_FILE=str(home / "missing-config"),
            AWS_SHARED_CREDENTIALS_FILE=str(home / "missing-credentials"),
            AWS_EC2_METADATA_DISABLED="true",
            AWS_ENDPOINT_URL_BEDROCK_RUNTIME=cli.emulator.url,
            **region,
        )
        line = assert_one_line_error(cli.run("ask", "Hello", env=env), 1)
        assert "No AWS credentials were found" in line
        assert "AWS_ACCESS_KEY_ID" in line and "AWS_PROFILE" in line
        assert "--demo" in line
    assert cli.emulator.requests == []
    assert cli.files() == []


def test_demo_works_on_a_fresh_machine_with_no_aws_configuration(cli):
    env = minimal_env()
    assert not any(name.startswith("AWS_") for name in env)
    result = cli.run("ask", "--demo", "hello", env=env)
    assert result.code == 0, result.stderr
    assert result.err == b""
    assert result.stdout.startswith(BADGE)
    assert "“hello”" in result.stdout
    session = cli.only_session()
    reply = session["messages"][1]
    assert reply["status"] == "complete"
    assert reply["content"] == result.stdout
    assert cli.emulator.requests == []  # the demo runs its own emulator in the process
    # The model the app uses in demo mode (the demo region's default), not a global. profile.
    assert session["params"]["model"] == DEFAULT == catalog.default_model(DEMO_REGION)
    assert reply["params"]["model"] == DEFAULT


def test_global_options_are_accepted_after_the_subcommand(cli, tmp_path):
    folder = tmp_path / "elsewhere"
    result = cli.run(
        "ask",
        "--demo",
        "--region",
        "us-west-2",
        "--sessions-dir",
        str(folder),
        "--max-tokens",
        "5",
        "hi",
        env=minimal_env(),
    )
    assert result.code == 0, result.stderr
    (path,) = folder.glob("*.toml")
    saved = tomllib.loads(path.read_text())
    assert saved["params"]["model"] == DEFAULT  # the us. profile for us-west-2
    assert cli.files() == []
    # Before and after the subcommand; a value given before is not lost to a default.
    for args in (
        ["sessions", "--sessions-dir", str(folder)],
        ["--sessions-dir", str(folder), "sessions"],
        ["--sessions-dir", str(folder), "sessions", "--debug"],
    ):
        listed = cli.run(*args)
        assert listed.code == 0, listed.stderr
        assert listed.stdout.startswith(path.stem), args


def test_demo_pace_follows_tui_chat_demo_tps(cli):
    # 10 tokens at 5 a second take 2 s (at the default 40 a second, a quarter of that).
    started = time.monotonic()
    slow = cli.run(
        "ask",
        "--demo",
        "--model",
        CLAUDE,
        "--max-tokens",
        "10",
        "hi",
        env=minimal_env(TUI_CHAT_DEMO_TPS="5"),
    )
    assert slow.code == 0, slow.stderr
    assert time.monotonic() - started >= 1.8
    # 0 is full speed: 3000 words (75 s at 40 a second) in a moment.
    started = time.monotonic()
    fast = cli.run(
        "ask",
        "--demo",
        "--model",
        CLAUDE,
        "Write 3000 words about the sea",
        env=minimal_env(TUI_CHAT_DEMO_TPS="0"),
    )
    assert fast.code == 0, fast.stderr
    assert time.monotonic() - started < 20
    assert 2900 <= len(fast.stdout.split()) <= 3030  # a long reply, as asked
    assert "## Part 1: " in fast.stdout


# ---------------------------------------------------------------------------------------------
# ask -c/--continue and --no-save


def test_continue_adds_to_the_most_recently_updated_conversation(cli):
    line = assert_one_line_error(cli.run("ask", "-c", "Hello"), 2)
    assert "--continue: there is no conversation to continue" in line
    assert cli.emulator.requests == [] and cli.files() == []

    store = cli.store()
    older = _conversation(store, "Older", 1, "old question", "old answer")
    newer = _conversation(store, "Newer", 2, "new question", "new answer")
    for n, flag in enumerate(("-c", "--continue")):
        result = cli.run("ask", flag, "--max-tokens", "5", f"Follow-up {n}")
        assert result.code == 0, result.stderr
    first, second = cli.emulator.requests
    turns = [(m["role"], m["content"][0]["text"]) for m in first.body["messages"]]
    assert turns == [
        ("user", "new question"),
        ("assistant", "new answer"),
        ("user", "Follow-up 0"),
    ]
    assert len(second.body["messages"]) == 5
    assert len(store.load(newer).messages) == 6
    assert len(store.load(older).messages) == 2
    assert len(cli.files()) == 2

    line = assert_one_line_error(cli.run("ask", "-c", "--session", "Older", "Hi"), 2)
    assert "--continue and --session cannot be used together" in line
    assert len(cli.emulator.requests) == 2


def test_no_save_writes_nothing(cli):
    result = cli.run("ask", "--no-save", "--model", CLAUDE, "--max-tokens", "8", "Hello")
    assert result.code == 0, result.stderr
    assert result.stdout.startswith(BADGE)
    assert not cli.sessions_dir.exists() or not any(cli.sessions_dir.iterdir())
    for flags in (["--session", "Notes"], ["-c"], ["--continue"]):
        line = assert_one_line_error(cli.run("ask", "--no-save", *flags, "Hello"), 2)
        assert line.startswith("tui-chat: --no-save cannot be used with --"), line
    assert len(cli.emulator.requests) == 1


def test_no_save_writes_no_checkpoint_and_saves_no_interrupted_reply(
    paced_emulator, isolated_environment
):
    cli = Cli(paced_emulator, isolated_environment)
    paced_emulator.add_fault(Fault("long_reply", tokens=400))  # 20 s at 20 a second
    proc = cli.popen("ask", "--no-save", "--model", CLAUDE, "Tell me a long story")
    try:
        read_some(proc, 40)
        time.sleep(2.5)  # past a checkpoint (every 2 s)
        assert not cli.sessions_dir.exists() or not any(cli.sessions_dir.iterdir())
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=15)
    finally:
        paced_emulator.clear_faults()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert err == b""
    assert not cli.sessions_dir.exists() or not any(cli.sessions_dir.iterdir())


# ---------------------------------------------------------------------------------------------
# Interruptions


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupt_keeps_and_saves_the_partial_reply(
    paced_emulator, isolated_environment, signum, code
):
    cli = Cli(paced_emulator, isolated_environment)
    # 400 tokens at 20 a second: far longer than the test waits.
    paced_emulator.add_fault(Fault("long_reply", tokens=400))
    proc = cli.popen("ask", "Tell me a long story")
    try:
        first = read_some(proc, 40)
        if signum == signal.SIGINT:
            # Let it stream past a checkpoint: the sidecar holds the partial reply meanwhile.
            deadline = time.monotonic() + 10
            while not list(cli.sessions_dir.glob("*.partial.toml")):
                assert time.monotonic() < deadline, "no checkpoint was written"
                time.sleep(0.1)
        proc.send_signal(signum)
        rest, err = proc.communicate(timeout=15)
    finally:
        paced_emulator.clear_faults()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, err
    assert b"Traceback" not in err
    assert err == b""
    out = (first + rest).decode("utf-8")
    assert out.startswith(BADGE)
    session = cli.only_session()
    reply = session["messages"][1]
    assert reply["status"] == "cancelled"
    assert reply["stop_reason"] == ""
    assert len(out.split()) < 400
    assert reply["content"] == out
    assert not list(cli.sessions_dir.glob("*.partial.toml"))


def test_a_closed_pipe_cancels_quietly_and_saves(paced_emulator, isolated_environment):
    cli = Cli(paced_emulator, isolated_environment)
    proc = cli.popen("ask", "Tell me a long story")
    try:
        read_some(proc, 10)
        proc.stdout.close()  # like `| head -c 10`
        proc.wait(timeout=15)
        err = proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stderr.close()
    assert proc.returncode == 141
    assert err == b""
    reply = cli.only_session()["messages"][1]
    assert reply["status"] == "cancelled"
    assert reply["content"].startswith("*(Demo model")  # what arrived before the reader left


# ---------------------------------------------------------------------------------------------
# Terminal output


ESCAPES = "\x1b[31mRED\x1b[0m\x07"


def test_piped_output_is_exact(cli):
    result = cli.run("ask", "--model", CLAUDE, "--max-tokens", "12", f"Say {ESCAPES}")
    assert result.code == 0, result.stderr
    assert ESCAPES.encode() in result.out
    assert cli.only_session()["messages"][1]["content"] == result.stdout


def test_terminal_output_neutralises_escape_sequences(cli):
    primary, secondary = pty.openpty()
    try:
        proc = subprocess.Popen(
            [
                str(TUI_CHAT),
                "ask",
                "--raw",  # the text as it streamed, without Markdown rendering
                "--model",
                CLAUDE,
                "--max-tokens",
                "12",
                f"Say {ESCAPES}",
            ],
            stdin=subprocess.DEVNULL,
            stdout=secondary,
            stderr=subprocess.PIPE,
            env=cli.env,
        )
        os.close(secondary)
        data = read_terminal(primary)
        proc.wait(timeout=30)
        proc.stderr.close()
    finally:
        os.close(primary)
    assert proc.returncode == 0
    shown = data.decode("utf-8").replace("\r\n", "\n")
    assert "\x1b" not in shown and "\x07" not in shown
    assert "␛[31mRED␛[0m␇" in shown
    # On a terminal the last line is finished with a newline.
    assert shown.endswith("\n")
    saved = cli.only_session()["messages"][1]["content"]
    assert ESCAPES in saved  # the session keeps the exact text
    assert shown == saved.replace("\x1b", "␛").replace("\x07", "␇") + "\n"


MARKDOWN_REPLY = (
    "# Plan for today\n"
    "\n"
    "Some **bold** words, *emphasis* and `code`.\n"
    "\n"
    "- first item\n"
    "- second item\n"
    "\n"
    "```python\n"
    "def greet(name):\n"
    '    """Say hello\n'
    '    politely."""\n'
    "    return name\n"
    "```\n"
    "\n"
    "Literal [bold]markup[/bold] :smile: stays, a [link](https://evil.example/x) shows its "
    f"address, and {ESCAPES} is shown, not obeyed.\n"
    "\n"
    "| Name | Value |\n"
    "|------|-------|\n"
    "| alpha | 1 |\n"
    "\n"
    "The end."
)


def screen(data: bytes, columns: int) -> list[str]:
    """What a terminal `columns` wide shows (scrollback included) after `data`: text, CR, LF,
    wrapping at the margin, cursor up (CSI A) and erase below (CSI J); colours (CSI m) are
    ignored. Any other control sequence or control character fails the test."""
    lines: list[list[str]] = [[]]
    row = col = 0
    for match in re.finditer(r"\x1b\[([0-9;?]*)([A-Za-z])|(.)", data.decode("utf-8"), re.S):
        params, command, char = match.groups()
        if command == "A":
            row = max(0, row - int(params or 1))
        elif command == "J":
            assert params in ("", "0"), match.group()
            del lines[row + 1 :]
            del lines[row][col:]
        elif command:
            assert command == "m", match.group()
        elif char == "\r":
            col = 0
        elif char == "\n":
            row += 1
        else:
            assert ord(char) >= 0x20 and char != "\x7f", repr(char)
            if col >= columns:
                row, col = row + 1, 0
            while len(lines) <= row:
                lines.append([])
            line = lines[row]
            line.extend(" " * (col - len(line)))
            line[col : col + 1] = [char]
            col += 1
        while len(lines) <= row:
            lines.append([])
    return ["".join(line).rstrip() for line in lines]


def run_on_terminal(cli: Cli, *args: str, columns: int = 80, rows: int = 200) -> Result:
    """tui-chat with stdout on a pseudo-terminal of that size (stderr piped)."""
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    try:
        proc = subprocess.Popen(
            [str(TUI_CHAT), *args],
            stdin=subprocess.DEVNULL,
            stdout=secondary,
            stderr=subprocess.PIPE,
            env=dict(cli.env, TERM="xterm-256color"),
        )
        os.close(secondary)
        secondary = -1
        data = read_terminal(primary)
        _, err = proc.communicate(timeout=30)
    finally:
        os.close(primary)
        if secondary >= 0:
            os.close(secondary)
    return Result(proc.returncode, data, err)


def test_a_reply_on_a_terminal_is_rendered_as_markdown(cli):
    cli.emulator.add_fault(Fault("scripted_reply", text=MARKDOWN_REPLY))
    result = run_on_terminal(cli, "ask", "--model", CLAUDE, "Plan my day")
    assert result.code == 0, result.stderr
    shown = screen(result.out, 80)
    flat = "\n".join(shown)
    assert "Plan for today" in shown  # a heading, without its "#"
    assert not any(line.lstrip().startswith(("#", "```", "|--")) for line in shown), flat
    assert "Some bold words, emphasis and code." in shown
    assert " • first item" in shown and " • second item" in shown
    assert any(line.strip() == "def greet(name):" for line in shown), flat
    assert "**" not in flat
    # Model text is never markup, and a link is never a terminal hyperlink.
    assert "[bold]markup[/bold] :smile:" in flat
    assert "link (https://evil.example/x)" in flat
    assert b"\x1b]" not in result.out
    assert "␛[31mRED␛[0m␇" in flat  # control characters neutralised as before
    assert any("Name" in line and "Value" in line for line in shown)
    assert any(set(line.strip()) == {"─"} for line in shown)  # the table's rule
    assert shown[-2:] == ["The end.", ""]  # the cursor ends on a line of its own
    # Colours and styles come from the renderer: the code is highlighted, the heading bold.
    assert re.search(rb"\x1b\[[0-9;]*m\s*def", result.out)
    assert re.search(rb"\x1b\[[0-9;]*1[0-9;]*mPlan for today", result.out)
    # The session keeps the exact text, and piped output is the text, byte for byte.
    assert cli.only_session()["messages"][1]["content"] == MARKDOWN_REPLY
    cli.emulator.add_fault(Fault("scripted_reply", text=MARKDOWN_REPLY))
    piped = cli.run("ask", "--model", CLAUDE, "Plan my day")
    assert piped.code == 0 and piped.out == MARKDOWN_REPLY.encode("utf-8")


def test_markdown_replaces_each_line_as_it_completes_while_streaming(
    paced_emulator, isolated_environment
):
    # At 20 tokens a second each line is first shown word by word, then replaced by its
    # rendering; on a narrow terminal the raw line wraps and all its rows are replaced.
    cli = Cli(paced_emulator, isolated_environment)
    paced_emulator.add_fault(Fault("scripted_reply", text=MARKDOWN_REPLY))
    try:
        result = run_on_terminal(cli, "ask", "--model", CLAUDE, "Plan my day", columns=40)
    finally:
        paced_emulator.clear_faults()
    assert result.code == 0, result.stderr
    assert b"Some **bold** words," in result.out  # what a person saw arrive
    # ... then replaced in place: back over the rows the raw line wrapped onto, erased below.
    assert re.search(rb"\r\x1b\[[2-9]A\x1b\[J", result.out)
    shown = screen(result.out, 40)
    flat = " ".join(shown)
    assert "**" not in flat and "Plan for today" in shown
    assert flat.count("markup[/bold]") == 1 and flat.count("The end.") == 1
    assert "Literal [bold]markup[/bold] :smile:" in shown  # wrapped at words, 40 wide
    assert all(len(line) <= 40 for line in shown)


def test_a_line_taller_than_the_screen_stays_raw(paced_emulator, isolated_environment):
    # Its first rows have scrolled out of reach: it is left as it streamed, whole and once.
    cli = Cli(paced_emulator, isolated_environment)
    paragraph = " ".join(f"word{n:02}" for n in range(24))  # 8 rows of 20 on a 4-row screen
    paced_emulator.add_fault(Fault("scripted_reply", text=f"# Title\n\n{paragraph}\n\n*end*"))
    try:
        result = run_on_terminal(cli, "ask", "--model", CLAUDE, "Hi", columns=20, rows=4)
    finally:
        paced_emulator.clear_faults()
    assert result.code == 0, result.stderr
    shown = screen(result.out, 20)
    assert shown[:2] == ["Title", ""]
    assert "".join(shown).replace(" ", "").count(paragraph.replace(" ", "")) == 1
    assert shown[-2:] == ["end", ""]
    # Never a move above the top of the screen, and the paragraph was written only once.
    assert all(int(n) < 4 for n in re.findall(rb"\x1b\[(\d+)A", result.out))
    assert result.out.count(b"word23") == 1


def test_raw_rows_are_counted_as_the_terminal_wraps_them():
    rows = _TerminalMarkdown.rows
    assert rows("", 80) == 1
    assert rows("a" * 80, 80) == 1  # the cursor waits at the margin
    assert rows("a" * 81, 80) == 2
    assert rows("你" * 40, 80) == 1 and rows("你" * 41, 80) == 2
    assert rows("a" * 79 + "你", 80) == 2  # a wide character does not split at the margin
    assert rows("\t" * 20, 80) == 1  # tabs stop at the margin


# ---------------------------------------------------------------------------------------------
# sessions and export


def _conversation(store: SessionStore, title: str, updated_minute: int, *texts: str) -> str:
    from datetime import UTC, datetime

    conversation = Conversation.new(Params(model=SONNET_45))
    conversation.id = f"2026010{updated_minute}T000000Z-00000{updated_minute}"
    for n, text in enumerate(texts):
        conversation.add(Message(role="user" if n % 2 == 0 else "assistant", content=text))
    conversation.rename(title)
    conversation.updated = datetime(2026, 1, 2, 3, updated_minute, tzinfo=UTC)
    store.save(conversation)
    return conversation.id


def test_sessions_lists_most_recent_first_and_greps_content(cli):
    store = cli.store()
    old = _conversation(store, "Old one", 1, "apples", "Pears are nice")
    new = _conversation(store, "Newest", 3, "bananas")
    mid = _conversation(store, "Middle\x1b[2J title", 2, "cherries", "also PEARS", "ok", "done")
    bad = cli.sessions_dir / "20260105T000000Z-badbad.toml"
    bad.write_bytes(b"schema = 1\nthis is not toml [[[\n")
    before = bad.read_bytes()

    result = cli.run("sessions")
    assert result.code == 0
    assert result.stdout.splitlines() == [
        f"{new}  2026-01-02 03:03    1 msg   Newest",
        f"{mid}  2026-01-02 03:02    4 msgs  Middle␛[2J title",
        f"{old}  2026-01-02 03:01    2 msgs  Old one",
    ]
    (line,) = result.err_lines
    assert line.startswith(f"tui-chat: skipped {bad}: ")
    assert "not valid TOML" in line
    assert bad.read_bytes() == before

    grep = cli.run("sessions", "--grep", "pears")
    assert grep.code == 0
    assert [line.split()[0] for line in grep.stdout.splitlines()] == [mid, old]
    by_title = cli.run("sessions", "--grep", "NEWEST")
    assert [line.split()[0] for line in by_title.stdout.splitlines()] == [new]
    assert cli.run("sessions", "--grep", "zzz").out == b""


def test_sessions_on_an_empty_folder_prints_nothing(cli):
    result = cli.run("sessions")
    assert (result.code, result.out, result.err) == (0, b"", b"")


def test_export_to_stdout_and_to_a_file(cli, tmp_path):
    from tests.unit.test_export import EXPECTED, fixture_conversation

    store = cli.store()
    conversation = fixture_conversation()
    store.save(conversation)
    expected = to_markdown(store.load(conversation.id))
    assert expected == EXPECTED

    env = dict(cli.env, PYTHONIOENCODING="ascii")  # UTF-8 whatever the locale says
    result = cli.run("export", conversation.id, env=env)
    assert result.code == 0, result.stderr
    assert result.out == expected.encode("utf-8")

    target = tmp_path / "out.md"
    result = cli.run("export", "Greetings 👋 in 日本語", "--output", str(target))
    assert (result.code, result.out, result.err) == (0, b"", b"")
    assert target.read_bytes() == expected.encode("utf-8")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600

    line = assert_one_line_error(cli.run("export", "20990101T000000Z-ffffff"), 1)
    assert "no conversation" in line
    line = assert_one_line_error(
        cli.run("export", conversation.id, "--output", str(tmp_path / "no" / "dir.md")), 1
    )
    assert "cannot write" in line


def test_export_of_a_session_made_by_ask(cli):
    assert cli.run("ask", "--session", "Exported", "--max-tokens", "8", "Hi").code == 0
    result = cli.run("export", "Exported")
    assert result.code == 0
    session = cli.only_session()
    assert result.stdout.startswith("# Exported\n")
    assert session["messages"][1]["content"].rstrip("\n") in result.stdout
    assert "*max_tokens · " in result.stdout


# ---------------------------------------------------------------------------------------------
# --debug, secrets, --version


def test_debug_log_has_requests_but_no_secrets_or_prompts(cli, tmp_path):
    prompt = "my confidential prompt text"
    system = "confidential system prompt"
    result = cli.run(
        "--debug", "ask", "--model", CLAUDE, "--system", system, "--top-k", "7", prompt
    )
    assert result.code == 0, result.stderr
    cli.emulator.add_fault(Fault("access_denied"))
    assert cli.run("ask", "--debug", "--session", "Second", prompt).code == 1
    # The seeds' own variable names, alone.
    env = {k: v for k, v in cli.env.items() if k not in SECRETS}
    env.update(SEED_SECRETS)
    assert cli.run("ask", "--debug", "--max-tokens", "5", prompt, env=env).code == 0
    assert len(cli.emulator.requests) == 3

    log = cli.log_file.read_text(encoding="utf-8")
    assert stat.S_IMODE(cli.log_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(cli.log_file.parent.stat().st_mode) == 0o700
    requests = [
        line for line in log.splitlines() if "tui_chat.reply [" in line and " request " in line
    ]
    assert len(requests) == 3, log
    assert f"model={CLAUDE}" in requests[0]
    assert "top_k=7" in requests[0] and "system=yes" in requests[0]
    assert f"prompt_chars={len(prompt)}" in requests[0]
    assert "outcome status=complete" in log and "stop_reason=end_turn" in log
    assert "outcome status=error" in log and "error=access_denied" in log
    assert prompt not in log and system not in log

    for target in cli.files():
        assert (
            cli.run("export", target.stem, "--output", str(tmp_path / f"{target.stem}.md")).code
            == 0
        )
    texts = [log]
    texts += [p.read_text(encoding="utf-8") for p in cli.sessions_dir.iterdir() if p.is_file()]
    texts += [p.read_text(encoding="utf-8") for p in tmp_path.glob("*.md")]
    cache = Path(os.environ["XDG_CACHE_HOME"])
    texts += [p.read_text(encoding="utf-8") for p in cache.rglob("*") if p.is_file()]
    for secret in (*SECRETS.values(), *SEED_SECRETS.values()):
        assert all(secret not in text for text in texts), secret


def test_version_and_help(cli):
    result = cli.run("--version")
    assert (result.code, result.stdout) == (0, "tui-chat 0.1.0\n")
    result = cli.run("ask", "--version")
    assert (result.code, result.stdout) == (0, "tui-chat 0.1.0\n")
    result = cli.run("ask", "--help")
    assert result.code == 0
    assert "--stop SEQ" in result.stdout and "--session NAME_OR_ID" in result.stdout
    assert "-c, --continue" in result.stdout and "--no-save" in result.stdout
    assert "--raw" in result.stdout and "TUI_CHAT_DEMO_TPS" in result.stdout
    assert "Exit status" in result.stdout


# ---------------------------------------------------------------------------------------------
# Today's models: thinking, effort, caching, refusals, retired models


def test_thinking_goes_to_stderr_and_the_answer_to_stdout(cli):
    result = cli.run(
        "ask", "--model", "us.anthropic.claude-opus-4-7", "--thinking", "adaptive", "Why blue?"
    )
    assert result.code == 0, result.stderr
    reply = cli.only_session()["messages"][1]
    thinking = reply["thinking"][0]["text"]
    assert thinking and thinking in result.stderr
    assert thinking not in result.stdout
    assert reply["content"] == result.stdout and result.stdout.startswith(BADGE)
    body = cli.emulator.requests[-1].body
    assert body["thinking"] == {"type": "adaptive", "display": "summarized"}


def test_a_model_that_always_thinks_keeps_a_pipe_quiet(cli):
    result = cli.run("ask", "--effort", "low", "--no-cache", "Hello")
    assert result.code == 0, result.stderr
    assert result.err == b""  # thinking was not asked for: a script's log stays clean
    body = cli.emulator.requests[-1].body
    assert body["output_config"] == {"effort": "low"}
    assert cli.only_session()["messages"][1]["thinking"]


def test_max_tokens_spent_thinking_is_said(cli):
    result = cli.run("ask", "--max-tokens", "20", "Hello")
    assert result.code == 0, result.stderr
    assert result.out == b""
    assert "ran out while the model was thinking" in result.stderr


def test_a_refused_parameter_is_remembered_and_left_out_next_time(cli):
    strict = "emulator.strict-sampler-v1:0"
    line = assert_one_line_error(
        cli.run("ask", "--model", strict, "--max-tokens", "500", "--temperature", "0.3", "Hi"), 1
    )
    assert "Bedrock refused temperature" in line and "run the same command again" in line
    result = cli.run("ask", "--model", strict, "--max-tokens", "500", "--temperature", "0.3", "Hi")
    assert result.code == 0, result.stderr
    assert "temperature" not in cli.emulator.requests[-1].body["inferenceConfig"]


def test_a_retired_model_names_its_replacement(cli):
    retired = "us.anthropic.claude-3-7-sonnet-20250219-v1:0"
    line = assert_one_line_error(cli.run("ask", "--model", retired, "Hello"), 1)
    assert "Claude 3.7 Sonnet has reached the end of its life on Bedrock" in line
    assert f"--model {DEFAULT}" in line
    reply = cli.only_session()["messages"][1]
    assert reply["error"]["kind"] == "end_of_life"
    assert reply["error"]["replacement"] == DEFAULT
