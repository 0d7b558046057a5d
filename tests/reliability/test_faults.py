"""The fault matrix: every way Bedrock can fail, through the emulator, for the app and for
`tui-chat ask`.

For each fault: a clear message saying what happened and what to do; the partial reply kept
and saved with its status; the app stays usable, a retry the user asks for re-sends the same
turn, and the next request works. Retries happen only before the stream: a failure after the
HTTP 200 is never retried behind the user's back.
"""

from __future__ import annotations

import pytest

from tests.ui.conftest import rendered_text, send, wait_idle
from tui_chat.bedrock.errors import BedrockError
from tui_chat.emulator import Fault
from tui_chat.ui.widgets.message_view import AssistantTurn

from .conftest import MODEL, write_config

#: Retries allowed before the stream; a read timeout short enough to see a stall.
CONFIG = '[defaults]\nmodel = "{model}"\n[bedrock]\nmax_attempts = 2\nread_timeout = 1\n'

# id, fault (as keyword arguments: Fault objects count their uses), kind, attempts made.
# Throttling and unavailability are retried by the client before the stream (both attempts
# fail here); nothing after the HTTP 200 is retried.
MATRIX = [
    ("throttling", {"kind": "throttling", "times": 2}, "throttled", 2),
    ("access_denied", {"kind": "access_denied"}, "access_denied", 1),
    ("not_found", {"kind": "not_found"}, "not_found", 1),
    ("validation", {"kind": "validation"}, "validation", 1),
    ("context_too_long", {"kind": "context_too_long"}, "context_too_long", 1),
    ("model_timeout", {"kind": "model_timeout"}, "timeout", 1),
    ("service_unavailable", {"kind": "service_unavailable", "times": 2}, "overloaded", 2),
    ("stream_model_error", {"kind": "stream_model_error", "after_tokens": 8}, "overloaded", 1),
    ("stream_throttling", {"kind": "stream_throttling", "after_tokens": 8}, "throttled", 1),
    ("stream_unavailable", {"kind": "stream_unavailable", "after_tokens": 8}, "overloaded", 1),
    ("cut", {"kind": "cut", "after_tokens": 8}, "connection_lost", 1),
    ("stall", {"kind": "stall", "after_tokens": 8, "seconds": 4}, "read_timeout", 1),
    ("malformed_chunk", {"kind": "malformed_chunk", "after_tokens": 8}, "bad_response", 1),
    ("bad_json_chunk", {"kind": "bad_json_chunk", "after_tokens": 8}, "bad_response", 1),
]
CASES = [pytest.param(spec, kind, attempts, id=name) for name, spec, kind, attempts in MATRIX]
# tests/integration/test_cli.py checks one failing `ask` for most kinds; here, every kind it
# lacks, and one of each sort it has (retried, refused, in-stream, cut, stalled), each followed
# by the next `ask` in the same conversation.
ASK_KINDS = (
    "throttling",
    "access_denied",
    "model_timeout",
    "service_unavailable",
    "stream_model_error",
    "cut",
    "stall",
    "malformed_chunk",
    "bad_json_chunk",
)
ASK_CASES = [case for case in CASES if case.id in ASK_KINDS]


def flat(text: str) -> str:
    return " ".join(text.split())


def reply_text(turn: AssistantTurn) -> str:
    return "".join(rendered_text(chunk) for chunk in turn.body.query(".chunk"))


def turns_sent(request) -> list[tuple[str, str]]:
    """(role, text) of each turn in a recorded Messages API request."""
    return [
        (m["role"], "".join(block.get("text", "") for block in m["content"]))
        for m in request.body["messages"]
    ]


async def fault_then_retry_then_next(pilot, app, sessions, emulator, spec, kind, attempts):
    """In a new conversation: the fault's message, the partial reply kept and saved, ctrl+r
    re-sending the same turn, and the next request working."""
    emulator.add_fault(Fault(**spec))
    partial = spec.get("after_tokens", 0) > 0
    first = len(emulator.requests)
    await send(pilot, "hello there")
    await wait_idle(pilot, app, timeout=20)
    conversation = app.conversation
    failed = conversation.messages[-1]

    # What happened and what to do, in place, with the way to retry.
    assert (failed.role, failed.status) == ("assistant", "error"), kind
    assert failed.error["kind"] == kind
    block = flat(rendered_text(app.query(AssistantTurn).last().query_one(".error-block")))
    assert flat(failed.error["message"]) in block, kind
    assert flat(BedrockError(kind).advice) in block, kind
    assert "ctrl+r retries" in block
    # Retried only before the stream.
    assert len(emulator.requests) - first == attempts, kind

    # The partial reply is kept, shown and saved with its status.
    if partial:
        assert len(failed.content.split()) >= spec["after_tokens"] - 1
        shown = flat(reply_text(app.query(AssistantTurn).last()))
        # The words after the demo badge, as rendered (Markdown markers aside).
        assert " ".join(failed.content.split()[6:8]) in shown
        assert "partial reply above is kept" in block
    else:
        assert failed.content == ""
    saved = sessions.load(conversation.id).messages
    assert [m.role for m in saved] == ["user", "assistant"]
    assert (saved[-1].status, saved[-1].content) == ("error", failed.content)
    assert saved[-1].error == failed.error
    assert not sessions.partial_path(conversation.id).exists()

    # ctrl+r re-sends the same turn; the failed partial reply stays as an alternative.
    first_turns = turns_sent(emulator.requests[first])
    await pilot.press("ctrl+r")
    await wait_idle(pilot, app, timeout=20)
    assert turns_sent(emulator.requests[-1]) == first_turns == [("user", "hello there")]
    retried = conversation.messages[-1]
    assert retried.status == "complete", retried.error
    assert [a.content for a in retried.alternatives] == ([failed.content] if partial else [])

    # The app is still usable: the next request works and carries the history.
    await send(pilot, "and the next one")
    await wait_idle(pilot, app, timeout=20)
    assert conversation.messages[-1].status == "complete"
    assert turns_sent(emulator.requests[-1])[-1] == ("user", "and the next one")
    saved = sessions.load(conversation.id).messages
    assert [(m.role, m.status) for m in saved] == [
        ("user", "complete"),
        ("assistant", "complete"),
        ("user", "complete"),
        ("assistant", "complete"),
    ]
    if partial:
        assert saved[1].alternatives[0].status == "error"
        assert saved[1].alternatives[0].content == failed.content


#: Refused before the stream and not retried: the same path through the app, so one app run
#: goes through them all, each in a conversation of its own.
REFUSED = ("access_denied", "not_found", "validation", "context_too_long", "model_timeout")


@pytest.mark.parametrize(
    ("spec", "kind", "attempts"), [case for case in CASES if case.id not in REFUSED]
)
async def test_app_fault_message_partial_reply_retry_and_next_request(
    make_app, sessions, emulator, isolated_environment, spec, kind, attempts
):
    write_config(isolated_environment, CONFIG.format(model=MODEL))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await fault_then_retry_then_next(pilot, app, sessions, emulator, spec, kind, attempts)


async def test_app_refusals_before_the_stream(make_app, sessions, emulator, isolated_environment):
    write_config(isolated_environment, CONFIG.format(model=MODEL))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        for case in [case for case in CASES if case.id in REFUSED]:
            spec, kind, attempts = case.values
            await pilot.press("ctrl+n")
            await fault_then_retry_then_next(pilot, app, sessions, emulator, spec, kind, attempts)
        assert len(sessions.list().conversations) == len(REFUSED)


async def test_app_retries_a_throttled_request_before_the_stream_unseen(
    make_app, emulator, isolated_environment
):

    write_config(isolated_environment, CONFIG.format(model=MODEL))
    emulator.add_fault(Fault("throttling", times=1))
    emulator.add_fault(Fault("unknown_event", after_tokens=3))
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "hello there")
        await wait_idle(pilot, app, timeout=20)
        reply = app.conversation.messages[-1]
        # One throttled attempt, retried by the client; unknown events in the stream ignored.
        assert len(emulator.requests) == 2
        assert (reply.status, reply.stop_reason) == ("complete", "end_turn")
        assert "hello there" in reply.content


@pytest.mark.parametrize(("spec", "kind", "attempts"), ASK_CASES)
def test_ask_fault_is_one_clear_line_and_the_next_ask_continues_the_session(
    cli, spec, kind, attempts
):

    cli.config(CONFIG.format(model=MODEL))
    cli.emulator.add_fault(Fault(**spec))
    first = cli.run("ask", "--session", "Faults", "hello there")
    line = first.one_line_error(1)
    assert len(cli.emulator.requests) == attempts
    (path,) = cli.files()
    user, reply = cli.session(path)["messages"]
    assert user["content"] == "hello there"
    assert reply["status"] == "error"
    assert reply["error"]["kind"] == kind
    assert line == f"tui-chat: {reply['error']['message']}"
    assert BedrockError(kind).advice in line
    # What streamed is on stdout and in the session, exactly.
    assert reply["content"] == first.stdout
    assert bool(first.out) == (spec.get("after_tokens", 0) > 0)

    second = cli.run("ask", "--session", "Faults", "and again")
    assert second.code == 0, second.stderr
    assert cli.files() == [path]
    messages = cli.session(path)["messages"]
    assert messages[:2] == [user, reply]
    assert [m["role"] for m in messages[2:]] == ["user", "assistant"]
    assert messages[3]["status"] == "complete"
    assert messages[3]["content"] == second.stdout
    # The failed turn's history went with the next request.
    sent = turns_sent(cli.emulator.requests[-1])
    assert sent[0][1].startswith("hello there")
    assert sent[-1][1].endswith("and again")


def test_ask_ignores_unknown_events(cli):

    cli.config(CONFIG.format(model=MODEL))
    cli.emulator.add_fault(Fault("unknown_event", after_tokens=4))
    result = cli.run("ask", "hello there")
    assert (result.code, result.err) == (0, b"")
    (path,) = cli.files()
    reply = cli.session(path)["messages"][1]
    assert (reply["status"], reply["content"]) == ("complete", result.stdout)
