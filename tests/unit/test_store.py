"""SessionStore: the file format, atomic writes, listing, bad files, merging, checkpoints."""

import os
import stat
import subprocess
import sys
import tomllib
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui_chat import files
from tui_chat.attachments import Attachment
from tui_chat.conversation import Conversation, Message
from tui_chat.params import Params
from tui_chat.store import SessionStore, StoreError, index, reading, schema
from tui_chat.store import cache as parsed_copies

PARAMS = Params(model="anthropic.claude-v2", max_tokens_to_sample=1024)


@pytest.fixture
def store(tmp_path):
    return SessionStore(tmp_path / "sessions", cache_dir=tmp_path / "cache", defaults=PARAMS)


def make_conversation(turns=2, text="hello"):
    conversation = Conversation.new(PARAMS)
    for n in range(turns):
        if n % 2 == 0:
            conversation.add_user(f"{text} {n}")
        else:
            conversation.add(
                Message(
                    role="assistant",
                    content=f"reply {n}",
                    status="complete",
                    stop_reason="end_turn",
                    params={"model": "anthropic.claude-v2", "temperature": 0.3},
                    omitted=["top_p"],
                    usage={"input_tokens": 12, "output_tokens": 40, "latency_ms": 900},
                )
            )
    return conversation


def snapshot(directory):
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if not p.is_dir()}


def test_round_trip_keeps_every_field(store):
    conversation = make_conversation(2)
    reply = conversation.messages[1]
    reply.stop_reason = "stop_sequence"
    reply.stop_sequence = "END"
    reply.alternatives = [
        Message(role="assistant", content="other", params={"temperature": 0.9}),
    ]
    reply.chosen = 0
    failed = Message(
        role="assistant",
        content="partial",
        status="error",
        error={"kind": "throttled", "message": "Too many requests"},
    )
    conversation.add_user("again")
    conversation.add(failed)
    store.save(conversation)
    loaded = SessionStore(store.directory, defaults=PARAMS).load(conversation.id)
    assert loaded == conversation


def test_file_matches_the_documented_schema(store):
    conversation = make_conversation(2)
    result = store.save(conversation)
    data = tomllib.loads(result.path.read_text())
    assert data["schema"] == 1
    assert data["id"] == conversation.id
    assert data["title"] == "hello 0"
    assert data["title_custom"] is False
    assert isinstance(data["created"], datetime)
    assert data["params"]["max_tokens_to_sample"] == 1024
    assert data["messages"][0] == {
        "role": "user",
        "content": "hello 0",
        "created": conversation.messages[0].created,
    }
    reply = data["messages"][1]
    assert reply["status"] == "complete"
    assert reply["stop_reason"] == "end_turn"
    assert reply["usage"]["output_tokens"] == 40
    assert reply["omitted"] == ["top_p"]
    assert result.path.name == f"{conversation.id}.toml"


def test_every_key_written_is_declared_in_the_schema(store):
    """store/schema.py declares every saved key, in the order it is written."""
    conversation = make_conversation(2)
    conversation.params = PARAMS.with_changes(effort="low", thinking="adaptive")
    reply = conversation.messages[1]
    reply.stop_sequence = "END"
    reply.omitted_reasons = {"top_p": "the model sets its own"}
    reply.thinking = [
        {"type": "thinking", "text": "hmm", "signature": "sig"},
        {"type": "redacted", "data": "opaque"},
    ]
    reply.error = {"kind": "throttled", "message": "slow down"}
    reply.alternatives = [Message(role="assistant", content="other", usage={"output_tokens": 1})]
    reply.chosen = 0
    conversation.messages[0].attachments = [Attachment("a.png", "image/png", 3, "0" * 64)]
    store.save(conversation)
    data = schema.conversation_to_dict(conversation)  # what is written, in its order

    def in_order(keys, declared):
        assert set(keys) <= set(declared)
        assert sorted(keys, key=declared.index) == list(keys)

    in_order(data, schema.TOP_KEYS)
    assert set(data["params"]) == set(schema.PARAMS_KEYS)
    written = data["messages"][1]
    assert set(written) | set(data["messages"][0]) == set(schema.MESSAGE_KEYS)
    assert list(data["messages"][0]["attachments"][0]) == list(schema.ATTACHMENT_KEYS)
    for message in [*data["messages"], *written["alternatives"]]:
        in_order(message, schema.MESSAGE_KEYS)
    for block in written["thinking"]:
        assert set(block) <= set(schema.THINKING_KEYS)
    assert tomllib.loads(store.path(conversation.id).read_text()) == data

    store.checkpoint(conversation.id, Message(role="assistant", content="so far"))
    sidecar = tomllib.loads(store.partial_path(conversation.id).read_text())
    assert set(sidecar) == set(schema.CHECKPOINT_KEYS)
    assert set(sidecar["message"]) <= set(schema.MESSAGE_KEYS)


text_without_surrogates = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    content=text_without_surrogates, title=text_without_surrogates, system=text_without_surrogates
)
def test_any_text_round_trips_exactly(tmp_path, content, title, system):
    store = SessionStore(tmp_path / "prop", defaults=PARAMS)
    conversation = Conversation.new(PARAMS.with_changes(system=system))
    conversation.add_user(content)
    conversation.add(Message(role="assistant", content=content + "\r\n" + content))
    conversation.title = title
    conversation.title_custom = True
    store.save(conversation)
    loaded = SessionStore(store.directory, defaults=PARAMS).load(conversation.id)
    assert loaded.messages[0].content == content
    assert loaded.messages[1].content == content + "\r\n" + content
    assert loaded.title == title
    assert loaded.params.system == system


def test_special_text_round_trips(store):
    special = 'quote " backslash \\ nul \x00 esc \x1b[31m bell \x07 del \x7f """ \'\'\' [x] = #'
    long_line = "x" * 200_000
    conversation = Conversation.new(PARAMS)
    conversation.add_user(special)
    conversation.add(Message(role="assistant", content="a\r\nb\rc\n" + long_line))
    store.save(conversation)
    loaded = SessionStore(store.directory, defaults=PARAMS).load(conversation.id)
    assert loaded.messages[0].content == special
    assert loaded.messages[1].content == "a\r\nb\rc\n" + long_line


def test_permissions(store):
    result = store.save(make_conversation())
    assert stat.S_IMODE(os.stat(result.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(store.directory).st_mode) == 0o700


def test_crash_between_write_and_rename_keeps_the_old_file(store, monkeypatch):
    conversation = make_conversation(2)
    result = store.save(conversation)
    before = result.path.read_bytes()

    def crash(src, dst):
        raise OSError("simulated crash before rename")

    monkeypatch.setattr(files.os, "replace", crash)
    conversation.add_user("this never reaches the disk")
    with pytest.raises(OSError):
        store.save(conversation)
    assert result.path.read_bytes() == before
    assert [p.name for p in store.directory.iterdir()] == [result.path.name]


def test_killed_writer_leaves_old_file_or_new_file(tmp_path):
    """A real process killed while saving in a loop never leaves a half-written file."""
    directory = tmp_path / "s"
    script = f"""
import sys
from tui_chat.conversation import Conversation
from tui_chat.params import Params
from tui_chat.store import SessionStore
store = SessionStore({str(directory)!r})
c = Conversation.new(Params())
c.id = "20260101T000000Z-aaaaaa"
store.save(c)
print("ready", flush=True)
n = 0
while True:
    n += 1
    c.add_user("x" * 5000 + str(n))
    store.save(c)
"""
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    import time

    time.sleep(0.3)
    proc.kill()
    proc.wait()
    loaded = SessionStore(directory).load("20260101T000000Z-aaaaaa")
    assert all(m.content.startswith("x" * 5000) for m in loaded.messages)


def test_listing_reads_headers_and_sorts_by_update(store):
    older = make_conversation(4, "older")
    older.updated = datetime(2026, 1, 1, tzinfo=UTC)
    newer = make_conversation(6, "newer")
    store.save(older)
    store.save(newer)
    listing = store.list()
    assert [s.id for s in listing.conversations] == [newer.id, older.id]
    assert [s.message_count for s in listing.conversations] == [6, 4]
    assert listing.conversations[0].title == "newer 0"
    assert listing.problems == []


def test_listing_uses_the_index_until_a_file_changes(store, monkeypatch):
    conversations = [make_conversation(2, f"c{n}") for n in range(5)]
    for conversation in conversations:
        store.save(conversation)
    store.list()
    calls = []
    real = index.header_summary
    monkeypatch.setattr(index, "header_summary", lambda *a: calls.append(a[1]) or real(*a))
    fresh = SessionStore(store.directory, cache_dir=store.cache_dir, defaults=PARAMS)
    assert len(fresh.list().conversations) == 5
    assert calls == []
    conversations[2].add_user("changed")
    store.save(conversations[2])
    listing = fresh.list()
    assert calls == [conversations[2].id]
    assert {s.id: s.message_count for s in listing.conversations}[conversations[2].id] == 3


BAD_FILES = {
    "20260101T000000Z-000001.toml": (b"this is [not toml", "not valid TOML"),
    "20260101T000000Z-000002.toml": (b"schema = 1\ntitle = 5\n", "title should be a string"),
    "20260101T000000Z-000003.toml": (b'schema = 7\ntitle = "future"\n', "newer tui-chat"),
    "20260101T000000Z-000004.toml": (b"", "empty"),
    "20260101T000000Z-000005.toml": (b"\x00\x01\xff\xfe junk", "binary"),
    "20260101T000000Z-000006.toml": (b'title = "no schema"\n', "missing key 'schema'"),
    "20260101T000000Z-000007.toml": (b"\xff\xfe bad utf8", "not UTF-8"),
}


def make_bad_files(directory, tmp_path):
    directory.mkdir(parents=True, exist_ok=True)
    for name, (data, _reason) in BAD_FILES.items():
        (directory / name).write_bytes(data)
    outside = tmp_path / "outside.toml"
    outside.write_text('schema = 1\ntitle = "outside"\n')
    (directory / "20260101T000000Z-000008.toml").symlink_to(outside)
    (directory / "20260101T000000Z-000009.toml").mkdir()
    return {
        **{name: reason for name, (_data, reason) in BAD_FILES.items()},
        "20260101T000000Z-000008.toml": "symbolic link",
        "20260101T000000Z-000009.toml": "directory",
    }


def test_bad_files_are_reported_once_and_left_untouched(store, tmp_path):
    good = make_conversation()
    store.save(good)
    expected = make_bad_files(store.directory, tmp_path)
    before = snapshot(store.directory)
    for verify in (False, True):
        listing = store.list(verify=verify)
        assert [s.id for s in listing.conversations] == [good.id]
        reasons = {p.path.name: p.reason for p in listing.problems}
        assert set(reasons) == set(expected)
        for name, reason in expected.items():
            assert reason in reasons[name], (name, reasons[name])
    for name in expected:
        with pytest.raises(StoreError):
            store.load(name.removesuffix(".toml"))
    assert snapshot(store.directory) == before


def test_body_problems_found_on_verify_and_load(store):
    store.ensure_directory()
    path = store.directory / "20260101T000000Z-00000a.toml"
    path.write_text(
        'schema = 1\ntitle = "ok header"\n[params]\ntemperature = 9\n[[messages]]\nrole = "user"\n'
    )
    assert [s.title for s in store.list().conversations] == ["ok header"]
    listing = store.list(verify=True)
    assert listing.conversations == []
    assert "temperature must be a number from 0 to 1" in listing.problems[0].reason
    with pytest.raises(StoreError, match="temperature"):
        store.load(path.stem)


def test_too_large_file_is_refused(store, monkeypatch):
    monkeypatch.setattr(reading, "MAX_FILE_BYTES", 1000)
    store.ensure_directory()
    path = store.directory / "20260101T000000Z-00000b.toml"
    path.write_text('schema = 1\ntitle = "big"\n# ' + "x" * 2000 + "\n")
    listing = store.list()
    assert "too large" in listing.problems[0].reason


def test_unknown_keys_are_kept_on_rewrite(store):
    store.ensure_directory()
    path = store.directory / "20260101T000000Z-00000c.toml"
    path.write_text(
        """schema = 1
id = "20260101T000000Z-00000c"
title = "from the future"
future_top = "keep me"
created = 2026-01-01T00:00:00Z
updated = 2026-01-01T00:00:00Z

[params]
model = "anthropic.claude-v2"
future_param = 3

[future_table]
answer = 42

[[messages]]
role = "user"
content = "hi"
created = 2026-01-01T00:00:00Z
future_message_key = [1, 2]
"""
    )
    conversation = store.load(path.stem)
    conversation.add_user("more")
    store.save(conversation)
    data = tomllib.loads(path.read_text())
    assert data["future_top"] == "keep me"
    assert data["future_table"] == {"answer": 42}
    assert data["params"]["future_param"] == 3
    assert data["messages"][0]["future_message_key"] == [1, 2]
    assert len(data["messages"]) == 2


def test_turns_appended_by_another_process_are_merged(tmp_path):
    directory = tmp_path / "s"
    ours = SessionStore(directory, defaults=PARAMS)
    theirs = SessionStore(directory, defaults=PARAMS)
    conversation = make_conversation(2)
    ours.save(conversation)
    other = theirs.load(conversation.id)
    other.add_user("from the other process")
    other.add(Message(role="assistant", content="their reply"))
    theirs.save(other)
    conversation.add_user("from us")
    result = ours.save(conversation)
    assert result.outcome == "merged"
    contents = [m.content for m in ours.load(conversation.id).messages]
    assert contents == ["hello 0", "reply 1", "from the other process", "their reply", "from us"]
    assert [m.content for m in conversation.messages] == contents


def test_a_rewritten_history_is_never_overwritten(tmp_path):
    directory = tmp_path / "s"
    ours = SessionStore(directory, defaults=PARAMS)
    theirs = SessionStore(directory, defaults=PARAMS)
    conversation = make_conversation(2)
    ours.save(conversation)
    original_id = conversation.id
    other = theirs.load(original_id)
    other.messages[0].content = "edited elsewhere"
    theirs.save(other)
    on_disk = (directory / f"{original_id}.toml").read_bytes()
    conversation.add_user("ours")
    result = ours.save(conversation)
    assert result.outcome == "copied"
    assert result.original_id == original_id
    assert conversation.id != original_id
    assert (directory / f"{original_id}.toml").read_bytes() == on_disk
    assert ours.load(conversation.id).messages[-1].content == "ours"


def test_unreadable_file_on_disk_is_not_overwritten_by_save(store):
    conversation = make_conversation()
    store.save(conversation)
    path = store.path(conversation.id)
    path.write_bytes(b"garbage [[[")
    conversation.add_user("still mine")
    result = store.save(conversation)
    assert result.outcome == "copied"
    assert path.read_bytes() == b"garbage [[["


def test_checkpoint_is_recovered_as_interrupted(store):
    conversation = make_conversation(1)
    store.save(conversation)
    partial = Message(role="assistant", content="half a repl", status="streaming")
    store.checkpoint(conversation.id, partial)
    sidecar = store.partial_path(conversation.id)
    data = tomllib.loads(sidecar.read_text())
    data["pid"] = 2**22 + 12345  # a process that does not exist
    import tomli_w

    sidecar.write_text(tomli_w.dumps(data))
    assert stat.S_IMODE(os.stat(sidecar).st_mode) == 0o600
    loaded = SessionStore(store.directory, defaults=PARAMS).load(conversation.id)
    assert loaded.messages[-1].content == "half a repl"
    assert loaded.messages[-1].status == "interrupted"
    assert not sidecar.exists()
    again = SessionStore(store.directory, defaults=PARAMS).load(conversation.id)
    assert len(again.messages) == 2


def test_own_live_checkpoint_is_not_recovered(store):
    conversation = make_conversation(1)
    store.save(conversation)
    store.checkpoint(conversation.id, Message(role="assistant", content="streaming"))
    assert len(store.load(conversation.id).messages) == 1
    assert store.partial_path(conversation.id).exists()


def test_stale_checkpoint_after_final_save_is_dropped(store):
    conversation = make_conversation(1)
    reply = Message(role="assistant", content="par", status="streaming")
    store.checkpoint(conversation.id, reply)
    reply.content, reply.status = "partial and then complete", "complete"
    conversation.add(reply)
    store.save(conversation)
    sidecar = store.partial_path(conversation.id)
    text = sidecar.read_text().replace(f"pid = {os.getpid()}", "pid = 4206969")
    sidecar.write_text(text)
    loaded = SessionStore(store.directory, defaults=PARAMS).load(conversation.id)
    assert [m.content for m in loaded.messages][-1] == "partial and then complete"
    assert len(loaded.messages) == 2
    assert not sidecar.exists()


def test_delete_removes_file_and_sidecar(store):
    conversation = make_conversation()
    store.save(conversation)
    store.checkpoint(conversation.id, Message(role="assistant", content="x"))
    store.delete(conversation.id)
    assert list(store.directory.iterdir()) == []


def test_search_matches_titles_and_content(store):
    a = make_conversation(2, "apples")
    b = make_conversation(2, "bananas")
    b.add_user("tell me about Kiwis")
    store.save(a)
    store.save(b)
    assert store.search("APPLES") == [a.id]
    assert store.search("kiwi") == [b.id]
    assert sorted(store.search("reply")) == sorted([a.id, b.id])


def test_invalid_ids_are_refused(store):
    for bad in ("../etc/passwd", "a/b", ""):
        with pytest.raises(StoreError):
            store.path(bad)


def test_a_streaming_reply_is_never_written_to_the_conversation_file(store):
    conversation = make_conversation(1)
    conversation.messages.append(Message(role="assistant", content="half", status="streaming"))
    store.save(conversation)
    data = tomllib.loads(store.path(conversation.id).read_text())
    assert [m["role"] for m in data["messages"]] == ["user"]


def test_search_handles_special_characters_and_changes(store):
    conversation = make_conversation(0)
    conversation.add_user('He said "hi"\nthen left — 東京 🚀 C:\\path')
    store.save(conversation)
    for needle in ['said "hi"', 'hi"\nthen', "東京 🚀", "c:\\path", "HE SAID"]:
        assert store.search(needle) == [conversation.id], needle
    assert store.search("content") == []  # keys and metadata are not searched
    assert store.search("user") == []
    conversation.add_user("a brand new word: zebra")
    store.save(conversation)
    assert store.search("zebra") == [conversation.id]


def test_a_continued_reply_is_recovered_with_its_longer_text(store):
    conversation = make_conversation(1)
    reply = Message(role="assistant", content="cut at max", stop_reason="max_tokens")
    conversation.add(reply)
    store.save(conversation)
    store.checkpoint(conversation.id, replace(reply, content="cut at max tokens and more"))
    sidecar = store.partial_path(conversation.id)
    sidecar.write_text(sidecar.read_text().replace(f"pid = {os.getpid()}", "pid = 4206969"))
    loaded = SessionStore(store.directory, defaults=PARAMS).load(conversation.id)
    assert loaded.messages[-1].content == "cut at max tokens and more"
    assert loaded.messages[-1].status == "interrupted"
    assert len(loaded.messages) == 2


def test_a_big_file_keeps_a_parsed_copy_that_matches_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(parsed_copies, "PARSED_COPY_MIN_BYTES", 1)
    cache = tmp_path / "cache"
    writer = SessionStore(tmp_path / "sessions", cache_dir=cache)
    conversation = make_conversation(turns=6, text="line one\nline two with “quotes”")
    writer.save(conversation)
    copy = cache / "parsed" / f"{conversation.id}.json"
    writer.list(verify=True)
    assert not copy.exists()  # only opening a conversation keeps a copy, not listing it
    first = SessionStore(tmp_path / "sessions", cache_dir=cache).load(conversation.id)
    assert copy.exists() and stat.S_IMODE(copy.stat().st_mode) == 0o600

    parsed: list[str] = []
    real_parse = parsed_copies.parse_toml
    monkeypatch.setattr(
        parsed_copies,
        "parse_toml",
        lambda path, text: parsed.append(path) or real_parse(path, text),
    )
    again = SessionStore(tmp_path / "sessions", cache_dir=cache).load(conversation.id)
    assert parsed == []  # read from the copy
    assert again == first == SessionStore(tmp_path / "sessions").load(conversation.id)

    # The file changes: the copy no longer matches its bytes and is not used.
    again.add(Message(role="user", content="one more"))
    writer.save(again)
    parsed.clear()
    changed = SessionStore(tmp_path / "sessions", cache_dir=cache).load(conversation.id)
    assert len(parsed) == 1 and changed.messages[-1].content == "one more"

    # A damaged copy is ignored; deleting the conversation deletes its copy.
    copy.write_text("{not json")
    assert SessionStore(tmp_path / "sessions", cache_dir=cache).load(conversation.id) == changed
    writer.delete(conversation.id)
    assert not copy.exists()


def test_a_file_deleted_while_the_folder_is_listed_is_not_a_problem(store, monkeypatch):
    kept, deleted = make_conversation(), make_conversation(text="bye")
    store.save(kept)
    store.save(deleted)
    real_read = index.read_bytes

    def read(path):
        if path.name == f"{deleted.id}.toml":
            path.unlink()  # another process deletes it between the listing and the read
        return real_read(path)

    monkeypatch.setattr(index, "read_bytes", read)
    listing = store.list(verify=True)
    assert [s.id for s in listing.conversations] == [kept.id]
    assert listing.problems == []


def test_a_chosen_that_is_not_a_number_is_carried_not_read(store):
    conversation = make_conversation(2)
    path = store.save(conversation).path
    text = path.read_text().replace('role = "assistant"', 'role = "assistant"\nchosen = "x"', 1)
    path.write_text(text)
    loaded = SessionStore(store.directory, defaults=PARAMS).load(conversation.id)
    assert loaded.messages[1].chosen is None and loaded.messages[1].extra == {"chosen": "x"}
