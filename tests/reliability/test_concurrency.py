"""Concurrency: replies streaming into three conversations at once, with switching and one
cancelled, each end complete in its own file with no cross-talk; and `tui-chat ask --session X`
while the app has X open (idle, or streaming into it) loses neither side's messages.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import UTC, datetime

from tests.ui.conftest import rendered_text, send, wait_for, wait_idle
from tui_chat.conversation import Conversation, Message
from tui_chat.emulator import Fault
from tui_chat.emulator import catalog as emulator_catalog
from tui_chat.emulator.demo_model import generate
from tui_chat.emulator.parsing import parse_invoke
from tui_chat.params import Params
from tui_chat.store import SessionStore
from tui_chat.ui.widgets.message_view import AssistantTurn, UserTurn

from .conftest import MODEL, write_config


def expected_reply(request) -> str:
    """The whole reply the emulator streamed for a recorded request (it is deterministic)."""
    model = emulator_catalog.resolve(request.model_id).model
    job = parse_invoke(model, json.dumps(request.body).encode(), streaming=True)
    return generate(job.prompt).text


def last_turn(request) -> str:
    return request.body["messages"][-1]["content"][0]["text"]


def reply_text(turn: AssistantTurn) -> str:
    return "".join(rendered_text(chunk) for chunk in turn.body.query(".chunk"))


async def test_three_streams_with_switching_and_a_cancel_end_in_their_own_files(
    make_app, sessions, emulator, isolated_environment
):
    # Each reply pauses mid-stream until released, so all three are streaming at once however
    # long the app takes to start them.
    write_config(
        isolated_environment,
        f'[defaults]\nmodel = "{MODEL}"\n[bedrock]\nmax_attempts = 1\nread_timeout = 30\n',
    )
    holds = [Fault("stall", after_tokens=15, seconds=25) for _ in range(3)]
    for hold in holds:
        emulator.add_fault(hold)
    words = ("alpha", "bravo", "charlie")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        ids = []
        for word in words:
            if ids:
                await pilot.press("ctrl+n")
            await send(pilot, f"{word} question")
            await wait_for(pilot, lambda: app.conversation.id in app.streams)
            ids.append(app.conversation.id)
        assert len(app.streams) == 3
        # Switch around while all three stream; cancel bravo's while it is shown.
        for conversation_id in (ids[0], ids[1]):
            await app.open_conversation(conversation_id)
            await pilot.pause(0.2)
        assert app.conversation.id == ids[1]
        await wait_for(pilot, lambda: len(app.conversation.messages[-1].content) > 30)
        await pilot.press("escape")
        cancelled = app.conversation.messages[-1]
        assert cancelled.status == "cancelled"
        for conversation_id in (ids[2], ids[0]):
            await app.open_conversation(conversation_id)
            await pilot.pause(0.2)
        for hold in holds:
            hold.release()
        await wait_idle(pilot, app, timeout=30)
        # What is on screen is alpha's own reply, whole.
        shown = " ".join(reply_text(app.query(AssistantTurn).last()).split())
        assert "alpha question" in shown
        assert "bravo" not in shown and "charlie" not in shown
        assert [t.message.content for t in app.query(UserTurn)] == ["alpha question"]

    requests = {r.body["messages"][0]["content"][0]["text"]: r for r in emulator.requests}
    assert sorted(requests) == [f"{word} question" for word in words]
    for word, conversation_id in zip(words, ids, strict=True):
        saved = sessions.load(conversation_id).messages
        assert [m.role for m in saved] == ["user", "assistant"]
        assert saved[0].content == f"{word} question"
        full = expected_reply(requests[f"{word} question"])
        reply = saved[1]
        if word == "bravo":
            assert reply.status == "cancelled"
            assert reply.content == cancelled.content
            assert full.startswith(reply.content) and len(reply.content) < len(full)
        else:
            assert reply.status == "complete"
            assert reply.content == full  # every word, and only its own
        assert not sessions.partial_path(conversation_id).exists()
    assert len(sessions.list().conversations) == 3


async def test_ask_into_the_conversation_the_app_has_open(make_app, sessions, cli, emulator):
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "from the app, first")
        await wait_idle(pilot, app)
        conversation_id = app.conversation.id
        result = await asyncio.to_thread(
            cli.run, "ask", "--session", conversation_id, "from the command line"
        )
        assert result.code == 0, result.stderr
        await send(pilot, "from the app, second")
        await wait_idle(pilot, app)
        # The app took in the other process's turns, and sent them with its own.
        users = [m.content for m in app.conversation.messages if m.role == "user"]
        assert users == ["from the app, first", "from the command line", "from the app, second"]
        sent = [m["content"][0]["text"] for m in emulator.requests[-1].body["messages"]]
        assert sent[2] == "from the command line" and len(sent) == 5
        await pilot.pause(0.2)
        assert [t.message.content for t in app.query(UserTurn)] == users
    saved = sessions.load(conversation_id).messages
    assert [(m.role, m.content) for m in saved if m.role == "user"] == [
        ("user", text) for text in users
    ]
    assert [m.status for m in saved if m.role == "assistant"] == ["complete"] * 3
    assert saved[3].content == result.stdout


async def test_ask_while_the_app_streams_into_the_same_conversation(
    make_app, sessions, cli, emulator
):
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "first from the app")
        await wait_idle(pilot, app)
        conversation = app.conversation
        hold = Fault("stall", after_tokens=8, seconds=60, times=1)  # held until released
        emulator.add_fault(hold)
        await send(pilot, "second from the app")
        await wait_for(pilot, lambda: len(conversation.messages[-1].content) > 20)
        result = await asyncio.to_thread(
            cli.run, "ask", "--session", conversation.id, "meanwhile from the command line"
        )
        assert result.code == 0, result.stderr
        assert conversation.id in app.streams, "the app's reply should still be streaming"
        hold.release()
        await wait_idle(pilot, app, timeout=30)
    saved = sessions.load(conversation.id).messages
    # Both sides' turns, each reply after the turn it answers.
    assert [(m.role, m.content if m.role == "user" else m.status) for m in saved] == [
        ("user", "first from the app"),
        ("assistant", "complete"),
        ("user", "second from the app"),
        ("assistant", "complete"),
        ("user", "meanwhile from the command line"),
        ("assistant", "complete"),
    ]
    app_request = next(r for r in emulator.requests if last_turn(r) == "second from the app")
    assert saved[3].content == expected_reply(app_request)  # the app's reply, whole
    assert saved[5].content == result.stdout  # the command line's
    assert [(m.role, m.content) for m in conversation.messages] == [
        (m.role, m.content) for m in saved
    ]
    assert not sessions.partial_path(conversation.id).exists()


OTHER_PROCESS = """
import sys, time
from datetime import UTC, datetime
from tui_chat.conversation import Message
from tui_chat.store import SessionStore

store = SessionStore(sys.argv[1])
reply = Message(
    role="assistant",
    content="the other process's partial reply",
    created=datetime(2026, 3, 1, 0, 0, 5, tzinfo=UTC),
    status="streaming",
)
store.checkpoint(sys.argv[2], reply)
print("checkpointed", flush=True)
time.sleep(60)
"""


def test_two_processes_streaming_into_one_conversation_keep_both_replies(tmp_path):
    """Each process checkpoints its own reply; finishing one never removes the other's
    checkpoint; when the other dies, its reply is recovered as `interrupted`."""
    folder = tmp_path / "sessions"
    store = SessionStore(folder)
    conversation = Conversation.new(Params(model=MODEL))
    conversation.add_user("one question, two answers")
    store.save(conversation)
    other = subprocess.Popen(
        [sys.executable, "-c", OTHER_PROCESS, str(folder), conversation.id],
        stdout=subprocess.PIPE,
    )
    try:
        assert other.stdout.readline() == b"checkpointed\n"
        # This process streams its own reply meanwhile, checkpoints it, and finishes it.
        mine = Message(
            role="assistant",
            content="my partial reply",
            created=datetime(2026, 3, 1, 0, 0, 6, tzinfo=UTC),
            status="streaming",
        )
        store.checkpoint(conversation.id, mine)
        assert len(list(folder.glob("*.partial.toml"))) == 2
        mine.content, mine.status = "my whole reply", "complete"
        conversation.messages.append(mine)
        store.save(conversation)
        store.clear_checkpoint(conversation.id)
        # Loading while the other still streams leaves its checkpoint alone.
        assert len(SessionStore(folder).load(conversation.id).messages) == 2
        assert len(list(folder.glob("*.partial.toml"))) == 1
    finally:
        other.kill()
        other.wait(timeout=10)
        other.stdout.close()
    recovered = SessionStore(folder).load(conversation.id)
    assert [(m.status, m.content) for m in recovered.messages[1:]] == [
        ("complete", "my whole reply"),
        ("interrupted", "the other process's partial reply"),
    ]
    assert not list(folder.glob("*.partial.toml"))
