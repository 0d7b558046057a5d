"""The reply core without Textual or a network: a fake engine feeds scripted batches of events,
a recording listener applies them back to the reply as a front end does, and an in-memory
keeper records saves and checkpoints. Time is a fake clock patched into tui_chat.reply."""

import subprocess
import sys
import threading
from types import SimpleNamespace

import pytest

import tui_chat.reply as reply_module
from tui_chat.bedrock.errors import BedrockError
from tui_chat.bedrock.events import (
    Failure,
    RedactedThinking,
    Stop,
    TextDelta,
    ThinkingDelta,
    ThinkingSignature,
    Usage,
)
from tui_chat.conversation import Conversation, Message
from tui_chat.learned import LearnedRules
from tui_chat.params import Params
from tui_chat.reply import CHECKPOINT_SECONDS, Engines, Reply, prepare_request

# A model the catalogue does not know: Converse, sampling taken (a refusal has something to drop).
NEW_MODEL = "acme.new-model-v1"
# A model that takes a prefill: a cut reply is continued from its own text.
CLAUDE_3 = "anthropic.claude-3-haiku-20240307-v1:0"


# -- fakes ---------------------------------------------------------------------------------------


class Clock:
    """time.monotonic for tui_chat.reply, moved on only by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(reply_module, "time", SimpleNamespace(monotonic=fake.monotonic))
    return fake


class FakeHandle:
    """What an engine's `start` returns: scripted batches. A step is a list of events, or
    `(seconds, events)` to move the clock on before the batch arrives, or a callable run at
    that point (to cancel, say). Like StreamHandle it stops once cancelled, unless `stubborn`
    (batches that keep coming whatever happens)."""

    def __init__(self, script, clock=None, stubborn=False):
        self.script = script
        self.clock = clock
        self.stubborn = stubborn
        self.cancelled = False
        self.cancels = 0
        self.waits = []
        self.yielded = 0

    def batches(self, wait=0.05):
        self.waits.append(wait)
        for step in self.script:
            if self.cancelled and not self.stubborn:
                return
            if callable(step):
                step()
                continue
            if isinstance(step, tuple):
                seconds, step = step
                self.clock.advance(seconds)
            self.yielded += 1
            yield list(step)

    def cancel(self):
        self.cancelled = True
        self.cancels += 1


class FakeEngine:
    def __init__(self, handle=None, error=None, on_start=None):
        self.handle = handle
        self.error = error
        self.on_start = on_start
        self.started = []

    def start(self, prepared):
        self.started.append(prepared)
        if self.on_start is not None:
            self.on_start()
        if self.error is not None:
            raise self.error
        return self.handle


class Listener:
    """Records what it is told and applies it to the reply, as a front end does."""

    def __init__(self):
        self.texts = []
        self.thoughts = []
        self.endings = []

    def text(self, reply, text):
        self.texts.append(text)
        reply.add_text(text)

    def thinking(self, reply, text, signature, redacted):
        self.thoughts.append((text, signature, redacted))
        reply.add_thinking(text, signature, redacted)

    def ended(self, reply, stop, error):
        self.endings.append((stop, error))
        reply.end(stop, error)


class Keeper:
    """An in-memory store: every call recorded in order."""

    def __init__(self, saves=True, checkpoint_error=None):
        self.saves = saves
        self.checkpoint_error = checkpoint_error
        self.calls = []
        self.checkpoints = []

    def save(self, conversation):
        self.calls.append("save")
        return self.saves

    def checkpoint(self, conversation_id, message):
        self.calls.append("checkpoint")
        if self.checkpoint_error is not None:
            raise self.checkpoint_error
        self.checkpoints.append((conversation_id, message))

    def clear_checkpoint(self, conversation_id):
        self.calls.append(("clear", conversation_id))


def conversation_with(*messages, params=None):
    conversation = Conversation.new(params or Params())
    conversation.messages.extend(messages)
    return conversation


def user(text="Tell me a story."):
    return Message(role="user", content=text)


def new_reply(conversation, **options):
    prepared = prepare_request(conversation.messages, conversation.params)
    return Reply(conversation, prepared, **options)


def run(reply, script, keeper=None, clock=None, **pump_options):
    handle = FakeHandle(script, clock)
    listener = Listener()
    reply.pump(FakeEngine(handle), listener, keeper, **pump_options)
    return handle, listener


def stop(reason="end_turn", **usage):
    return Stop(reason, usage=Usage(**usage))


# -- a complete reply ----------------------------------------------------------------------------


def test_a_complete_reply_is_coalesced_ended_saved_and_its_checkpoint_cleared(clock):
    conversation = conversation_with(user())
    reply = new_reply(conversation, request_id=7)
    assert conversation.messages[-1] is reply.message
    assert reply.message.status == "streaming"
    keeper = Keeper()
    ending = Stop(
        "stop_sequence",
        stop_sequence="THE END",
        usage=Usage(input_tokens=12, output_tokens=5, latency_ms=800, first_token_ms=90),
    )
    script = [[TextDelta("Once"), TextDelta(" upon"), TextDelta(" a"), TextDelta(" time"), ending]]
    _, listener = run(reply, script, keeper)

    assert listener.texts == ["Once upon a time"]  # four deltas arriving together: one call
    assert listener.endings == [(ending, None)]
    message = reply.message
    assert message.content == "Once upon a time"
    assert message.status == "complete"
    assert (message.stop_reason, message.stop_sequence) == ("stop_sequence", "THE END")
    assert message.usage == {
        "input_tokens": 12,
        "output_tokens": 5,
        "latency_ms": 800,
        "first_token_ms": 90,
    }
    assert message.params == reply.prepared.sent
    assert keeper.calls == []  # nothing was due for a checkpoint, nothing saved yet

    assert reply.finish(keeper) is True
    assert keeper.calls == ["save", ("clear", conversation.id)]
    assert conversation.messages == [conversation.messages[0], message]


def test_text_arriving_in_quick_batches_is_told_once_per_coalescing_interval(clock):
    conversation = conversation_with(user())
    reply = new_reply(conversation)
    step = 0.125  # four batches to each half second
    script = [(step, [TextDelta(letter)]) for letter in "abcdefghij"]
    script.append((step, [stop()]))
    handle, listener = run(reply, script, clock=clock, coalesce=0.5)
    assert handle.waits == [0.5]
    assert listener.texts == ["abcd", "efgh", "ij"]
    assert reply.message.content == "abcdefghij"
    assert reply.message.status == "complete"


def test_thinking_is_told_apart_from_the_text_and_kept_with_its_signature(clock):
    conversation = conversation_with(user())
    reply = new_reply(conversation)
    script = [
        [ThinkingDelta("Let me "), ThinkingDelta("think.")],
        [ThinkingSignature("sig-1"), RedactedThinking("b64data")],
        [TextDelta("Answer."), stop()],
    ]
    _, listener = run(reply, script)
    assert listener.thoughts == [("Let me think.", "", ""), ("", "sig-1", ""), ("", "", "b64data")]
    assert reply.message.thinking == [
        {"type": "thinking", "text": "Let me think.", "signature": "sig-1"},
        {"type": "redacted", "data": "b64data"},
    ]
    assert reply.message.content == "Answer."


# -- checkpoints ---------------------------------------------------------------------------------


def checkpointed_script():
    """Batches a quarter of CHECKPOINT_SECONDS apart: thinking first, then text."""
    step = CHECKPOINT_SECONDS / 4
    script = [(step, [ThinkingDelta("hmm ")]), (step, [ThinkingDelta("yes")])]
    script.append((step, [ThinkingSignature("sig")]))
    script += [(step, [TextDelta(f"w{n} ")]) for n in range(4, 11)]
    script.append((step, [stop(output_tokens=7)]))
    return script


def test_a_checkpoint_of_the_text_and_thinking_so_far_is_written_every_interval(clock):
    conversation = conversation_with(user())
    reply = new_reply(conversation)
    keeper = Keeper()
    _, listener = run(reply, checkpointed_script(), keeper, clock)

    assert keeper.calls == ["checkpoint", "checkpoint"]  # at 4 and 8 quarters: not at the end
    contents = [message.content for _, message in keeper.checkpoints]
    assert contents == ["w4 ", "w4 w5 w6 w7 w8 "]
    for conversation_id, message in keeper.checkpoints:
        assert conversation_id == conversation.id
        assert message is not reply.message
        assert message.status == "streaming"
        assert message.created == reply.message.created
        assert message.params == reply.message.params
        assert message.thinking == [{"type": "thinking", "text": "hmm yes", "signature": "sig"}]
    assert listener.endings and reply.message.status == "complete"
    assert reply.message.content == "w4 w5 w6 w7 w8 w9 w10 "


def test_no_checkpoint_is_written_for_a_reply_without_checkpoints(clock):
    conversation = conversation_with(user())
    reply = new_reply(conversation, checkpoints=False)
    keeper = Keeper()
    _, listener = run(reply, checkpointed_script(), keeper, clock)
    assert keeper.calls == []
    assert reply.message.status == "complete"
    assert listener.texts


def test_a_checkpoint_that_cannot_be_written_does_not_stop_the_reply(clock):
    conversation = conversation_with(user())
    reply = new_reply(conversation)
    keeper = Keeper(checkpoint_error=OSError(28, "No space left on device"))
    _, listener = run(reply, checkpointed_script(), keeper, clock)
    assert keeper.calls == ["checkpoint", "checkpoint"]  # tried, failed, tried again
    assert len(listener.endings) == 1
    assert reply.message.status == "complete"
    assert reply.message.content == "w4 w5 w6 w7 w8 w9 w10 "
    assert reply.finish(keeper) is True


# -- cancel --------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["cancelled", "interrupted"])
def test_cancel_from_another_thread_stops_the_pump_keeping_what_arrived(status):
    conversation = conversation_with(user())
    reply = new_reply(conversation)
    streaming = threading.Event()
    cancelled = threading.Event()
    arrived = 0

    def endless():
        nonlocal arrived
        while True:
            arrived += 1
            if arrived == 3:
                streaming.set()
            if cancelled.is_set():
                break
            yield [TextDelta("x")]
        # A stream that goes on after the cancel: a pump that missed it would end the reply.
        for _ in range(50):
            yield [TextDelta("late ")]
        yield [stop()]

    handle = FakeHandle(endless(), stubborn=True)
    listener = Listener()
    keeper = Keeper()
    worker = threading.Thread(
        target=reply.pump, args=(FakeEngine(handle), listener, keeper), kwargs={"coalesce": 0}
    )
    worker.start()
    assert streaming.wait(5)
    reply.cancel(status)
    cancelled.set()
    worker.join(5)
    assert not worker.is_alive()

    assert listener.endings == []
    assert handle.cancelled
    assert reply.cancelled
    assert reply.message.status == status
    assert reply.message.content == "".join(listener.texts)
    assert reply.message.content.startswith("xxx")
    assert "late" not in reply.message.content
    assert reply.finish(keeper) is True
    assert conversation.messages[-1] is reply.message


def test_a_front_ends_cancel_check_stops_the_pump_too():
    conversation = conversation_with(user())
    reply = new_reply(conversation)
    told = []
    script = [[TextDelta("a")], [TextDelta("b")], [TextDelta("c")], [stop()]]
    handle = FakeHandle(script)
    listener = Listener()
    reply.pump(
        FakeEngine(handle),
        listener,
        is_cancelled=lambda: told.append(1) or len(told) > 2,
        coalesce=0,
    )
    assert listener.endings == []
    assert handle.cancelled
    assert listener.texts == ["a", "b"]


@pytest.mark.parametrize("when", ["before", "while starting"])
def test_cancel_before_the_stream_starts_reads_nothing(when):
    conversation = conversation_with(user())
    reply = new_reply(conversation)
    handle = FakeHandle([[TextDelta("never")], [stop()]])
    engine = FakeEngine(handle, on_start=reply.cancel if when == "while starting" else None)
    if when == "before":
        reply.cancel()
    listener = Listener()
    reply.pump(engine, listener, Keeper())
    assert len(engine.started) == 1
    assert handle.cancelled
    assert handle.waits == []  # not a batch read
    assert listener.endings == [] and listener.texts == []
    assert reply.message.status == "cancelled"
    assert reply.message.content == ""


# -- errors --------------------------------------------------------------------------------------


def test_an_engine_that_cannot_start_ends_the_reply_with_an_error():
    conversation = conversation_with(user())
    reply = new_reply(conversation)
    listener = Listener()
    engine = FakeEngine(error=ValueError("Invalid endpoint: htp:/nowhere"))
    reply.pump(engine, listener, Keeper())  # nothing raised
    assert len(listener.endings) == 1
    stop_event, error = listener.endings[0]
    assert stop_event is None
    assert isinstance(error, BedrockError)
    assert reply.message.status == "error"
    assert reply.message.error == error.as_dict()
    assert reply.message.usage == {}  # nothing arrived: no latency to show


def test_a_stream_that_ends_without_a_stop_is_a_lost_connection(clock):
    conversation = conversation_with(user())
    reply = new_reply(conversation)
    script = [
        (0.5, [ThinkingDelta("so")]),
        (0.25, [TextDelta("half a")]),
        (0.125, [TextDelta(" story")]),
    ]
    _, listener = run(reply, script, clock=clock, coalesce=1.0)
    # What arrived within the last coalescing interval is told before the end, not lost.
    assert listener.texts == ["half a story"]
    assert listener.thoughts == [("so", "", "")]
    assert len(listener.endings) == 1
    assert listener.endings[0][1].kind == "connection_lost"
    assert reply.message.status == "error"
    assert reply.message.error["kind"] == "connection_lost"
    assert reply.message.content == "half a story"
    assert reply.message.thinking_text == "so"
    assert reply.message.usage == {"latency_ms": 875}


def test_a_failure_mid_stream_keeps_the_partial_text_and_its_latency(clock):
    conversation = conversation_with(user())
    reply = new_reply(conversation)
    failure = BedrockError("read_timeout", detail="no data for 60 s")
    script = [(0.25, [TextDelta("part")]), (0.25, [TextDelta("ial"), Failure(failure)])]
    _, listener = run(reply, script, clock=clock, coalesce=1.0)
    assert listener.texts == ["partial"]  # told before the end, though not yet due
    assert listener.endings == [(None, failure)]
    message = reply.message
    assert message.status == "error"
    assert message.content == "partial"
    assert message.error == failure.as_dict()
    assert message.usage == {"latency_ms": 500}


def test_a_refusal_is_learned_and_left_out_of_the_next_request(tmp_path):
    params = Params(model=NEW_MODEL, temperature=0.3)
    conversation = conversation_with(user(), params=params)
    learned = LearnedRules(tmp_path / "learned-rules.json")
    prepared = prepare_request(conversation.messages, params, learned)
    assert prepared.sent["temperature"] == 0.3
    reply = Reply(conversation, prepared, learned=learned)
    refusal = BedrockError(
        "refused", detail="temperature is deprecated for this model", refused=("temperature",)
    )
    run(reply, [[Failure(refusal)]])
    assert reply.message.status == "error"
    assert reply.message.error["kind"] == "refused"
    assert set(learned.for_model(NEW_MODEL)) == {"temperature"}

    conversation.messages.pop()
    for rules in (learned, LearnedRules(tmp_path / "learned-rules.json")):  # and on disk
        again = prepare_request(conversation.messages, params, rules)
        assert "temperature" in again.omitted
        assert "temperature" not in again.body.get("inferenceConfig", {})
        assert "temperature" not in again.sent


# -- continue, regenerate, compare -----------------------------------------------------------------


def test_a_reply_cut_at_max_tokens_is_continued_adding_its_usage(clock):
    cut = Message(
        role="assistant",
        content="Once upon a time \n",
        stop_reason="max_tokens",
        usage={"input_tokens": 10, "output_tokens": 256, "latency_ms": 3000, "first_token_ms": 400},
    )
    conversation = conversation_with(user(), cut, params=Params(model=CLAUDE_3))
    prepared = prepare_request(conversation.messages, conversation.params, continuing=True)
    reply = Reply(conversation, prepared, continuing=cut)
    assert reply.message is cut
    assert cut.status == "streaming"
    assert cut.content == "Once upon a time"  # as sent: the model goes on from here
    keeper = Keeper()
    ending = stop(input_tokens=270, output_tokens=6, latency_ms=700, first_token_ms=90)
    script = [
        (CHECKPOINT_SECONDS, [TextDelta(" there was")]),
        (0.1, [TextDelta(" a fox."), ending]),
    ]
    _, listener = run(reply, script, keeper, clock)

    assert listener.texts == [" there was", " a fox."]
    assert [m.content for _, m in keeper.checkpoints] == ["Once upon a time there was"]
    assert len(conversation.messages) == 2  # the same turn, not a new one
    assert cut.content == "Once upon a time there was a fox."
    assert (cut.status, cut.stop_reason) == ("complete", "end_turn")
    assert cut.usage == {
        "input_tokens": 270,
        "output_tokens": 262,
        "latency_ms": 3700,
        "first_token_ms": 400,
    }
    assert reply.finish(keeper) is True


def test_a_regenerated_reply_keeps_the_previous_one_as_an_alternative():
    first = Message(role="assistant", content="First answer.", stop_reason="end_turn")
    conversation = conversation_with(user(), first)
    previous = conversation.messages.pop()
    reply = new_reply(conversation, previous=previous)
    run(reply, [[TextDelta("Second answer."), stop()]])
    keeper = Keeper()
    assert reply.finish(keeper) is True

    message = reply.message
    assert conversation.messages[-1] is message
    assert len(conversation.messages) == 2
    assert [m.content for m in message.alternatives] == ["First answer."]
    assert message.chosen == 1
    assert [m.content for m in message.replies()] == ["First answer.", "Second answer."]
    assert reply.previous is None
    assert keeper.calls == ["save", ("clear", conversation.id)]


def test_a_failed_empty_previous_reply_is_simply_replaced():
    failed = Message(
        role="assistant", content="", status="error", error={"kind": "throttled", "message": "x"}
    )
    conversation = conversation_with(user(), failed)
    reply = new_reply(conversation, previous=conversation.messages.pop())
    run(reply, [[TextDelta("Now it works."), stop()]])
    reply.finish(Keeper())
    assert reply.message.alternatives == []
    assert reply.message.chosen is None
    assert [m.content for m in conversation.messages[-1].replies()] == ["Now it works."]


def test_compared_replies_are_placed_only_when_one_is_kept():
    conversation = conversation_with(user())
    replies = [new_reply(conversation, placed=False, checkpoints=False) for _ in range(3)]
    assert conversation.messages == [conversation.messages[0]]  # none placed yet

    # Column 0 is cancelled part way, column 1 completes, column 2 fails before any text.
    cut_short = [[TextDelta("Half")], replies[0].cancel, [TextDelta(" more"), stop()]]
    run(replies[0], cut_short, coalesce=0)
    run(replies[1], [[TextDelta("Whole answer."), stop(output_tokens=3)]])
    run(replies[2], [[Failure(BedrockError("throttled"))]])
    statuses = [r.message.status for r in replies]
    assert statuses == ["cancelled", "complete", "error"]
    assert replies[0].message.content == "Half"
    assert len(conversation.messages) == 1

    kept = conversation.keep_compared([r.message for r in replies], 1)
    assert conversation.messages[-1] is kept
    assert len(conversation.messages) == 2
    assert kept.content == "Whole answer."
    assert [m.content for m in kept.alternatives] == ["Half"]  # the empty failure is dropped
    assert kept.chosen == 1
    assert [m.content for m in kept.replies()] == ["Half", "Whole answer."]


def test_a_reply_not_saved_keeps_its_checkpoint():
    conversation = conversation_with(user())
    reply = new_reply(conversation)
    run(reply, [[TextDelta("Kept in memory."), stop()]])
    keeper = Keeper(saves=False)
    assert reply.finish(keeper) is False
    assert keeper.calls == ["save"]  # the checkpoint is all there is on disk: not cleared
    assert reply.finish(None) is False


# -- engines and imports -------------------------------------------------------------------------


class FakeDemo:
    made = 0
    stopped = 0

    @classmethod
    def from_environment(cls):
        cls.made += 1
        return cls()

    def engine(self, settings):
        return SimpleNamespace(settings=settings)

    def stop(self):
        type(self).stopped += 1


def test_the_demo_engine_is_made_once_and_closing_stops_the_demo(monkeypatch):
    import tui_chat.demo

    demo = type("Demo", (FakeDemo,), {"made": 0, "stopped": 0})
    monkeypatch.setattr(tui_chat.demo, "Demo", demo)
    settings = SimpleNamespace(demo=True)
    engines = Engines(settings)
    assert engines.demo is True
    engine = engines.get()
    assert engines.get() is engine
    assert engine.settings is settings
    assert demo.made == 1
    engines.close()
    assert demo.stopped == 1
    engines.close()  # once only
    assert demo.stopped == 1


def test_closing_engines_survives_a_demo_that_fails_to_stop(monkeypatch):
    import tui_chat.demo

    class Broken(FakeDemo):
        def stop(self):
            raise RuntimeError("emulator already gone")

    monkeypatch.setattr(tui_chat.demo, "Demo", Broken)
    engines = Engines(SimpleNamespace(demo=False), demo=True)
    engines.get()
    engines.close()  # nothing raised


def test_importing_the_reply_core_loads_neither_textual_nor_boto3():
    code = (
        "import sys, tui_chat.reply\n"
        "print(sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('textual', 'boto3', 'botocore')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True
    )
    assert result.stdout.strip() == "[]"
