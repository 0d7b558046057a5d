"""Hostile files in the sessions folder: the app and `tui-chat sessions` start, list the good
conversations, report each bad file once with the reason, and leave every one of them exactly
as it was (bytes, links, folders).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.ui.conftest import send, wait_for, wait_idle
from tui_chat.conversation import Conversation, Message
from tui_chat.params import Params
from tui_chat.store import SessionStore
from tui_chat.ui.widgets.conversation_list import ConversationList

from .conftest import MODEL, record_notifications

BIG = 50 * 1024 * 1024
#: Nested deeper than Python's TOML parser can follow (RecursionError), about a kilobyte.
TOO_DEEP_FOR_THE_PARSER = b"[" * 600 + b"]" * 600
#: Readable, but deeper than any session file (tomli-w could not write it back).
DEEPER_THAN_ANY_SESSION = b"{b = " * 100 + b"1" + b"}" * 100

# file name -> (what to put there, a words of the reason it must be reported with)
HOSTILE: dict[str, tuple[bytes, str]] = {
    "20260102T000000Z-00bad1.toml": (b'schema = 1\ntitle = "unterminated\n', "not valid TOML"),
    "20260102T000000Z-00bad2.toml": (b"schema = 1\ntitle = 42\n", "title should be a string"),
    "20260102T000000Z-00bad3.toml": (
        b'schema = 1\ntitle = "body"\n\n[[messages]]\nrole = 5\ncontent = "x"\n',
        "messages[0].role should be a string",
    ),
    "20260102T000000Z-00bad4.toml": (b'schema = 99\ntitle = "from the future"\n', "newer"),
    "20260102T000000Z-00bad5.toml": (b"", "is empty"),
    "20260102T000000Z-00bad6.toml": (bytes(range(256)) * 16, "binary"),
    "20260102T000000Z-00bad7.toml": (b'schema = 1\ntitle = "\xff\xfe"\n', "not UTF-8"),
    "20260102T000000Z-00bad8.toml": (b"", "too large"),  # 50 MB, written below
    # Deeply nested: in the header the listing reads, and in a turn only a full read sees.
    "20260102T000000Z-00badb.toml": (
        b'schema = 1\ntitle = "deep"\nnested = ' + TOO_DEEP_FOR_THE_PARSER + b"\n",
        "is nested too deeply to read",
    ),
    "20260102T000000Z-00badc.toml": (
        b'schema = 1\ntitle = "deep turn"\n\n[[messages]]\nrole = "user"\ncontent = "x"\n'
        b"nested = " + TOO_DEEP_FOR_THE_PARSER + b"\n",
        "is nested too deeply to read",
    ),
    "20260102T000000Z-00badd.toml": (
        b'schema = 1\ntitle = "deep turn"\n\n[[messages]]\nrole = "user"\ncontent = "x"\n'
        b"nested = " + DEEPER_THAN_ANY_SESSION + b"\n",
        "is nested too deeply to read",
    ),
}
SYMLINK = "20260102T000000Z-00bad9.toml"
DIRECTORY = "x.toml"
FIFO = "20260102T000000Z-0badaa.toml"
REASONS = {**{name: reason for name, (_, reason) in HOSTILE.items()}}
REASONS[SYMLINK] = "symbolic link"
REASONS[DIRECTORY] = "is a directory"
REASONS[FIFO] = "not a regular file"


@dataclass
class Folder:
    """A sessions folder with two good conversations and every kind of bad file."""

    directory: Path
    outside: Path
    good: list[str]

    def fingerprint(self) -> dict[str, object]:
        """Everything about the bad files that must never change."""
        found: dict[str, object] = {}
        for name in [*HOSTILE, SYMLINK, DIRECTORY, FIFO]:
            path = self.directory / name
            info = os.lstat(path)
            entry: dict[str, object] = {"mode": info.st_mode, "mtime": info.st_mtime_ns}
            if stat.S_ISREG(info.st_mode):
                entry["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
            elif stat.S_ISLNK(info.st_mode):
                entry["target"] = os.readlink(path)
            elif stat.S_ISDIR(info.st_mode):
                entry["inside"] = sorted(os.listdir(path))
            found[name] = entry
        found["outside"] = hashlib.sha256(self.outside.read_bytes()).hexdigest()
        found["outside-mtime"] = self.outside.stat().st_mtime_ns
        found["sidecar"] = (self.directory / f"{self.good[0]}.partial.toml").read_bytes()
        return found


def make_folder(directory: Path, outside_dir: Path) -> Folder:
    store = SessionStore(directory)
    good = []
    for n, title in enumerate(["older good one", "newest good one"]):
        conversation = Conversation.new(Params(model=MODEL))
        conversation.id = f"20260101T00000{n}Z-00900{n}"
        conversation.add(Message(role="user", content=title))
        conversation.add(Message(role="assistant", content=f"reply to {title}"))
        store.save(conversation)
        good.append(conversation.id)
    for name, (data, _reason) in HOSTILE.items():
        (directory / name).write_bytes(data)
    with (directory / "20260102T000000Z-00bad8.toml").open("wb") as big:
        big.write(b'schema = 1\ntitle = "big"\n')
        big.write((b"# " + b"x" * 1022 + b"\n") * (BIG // 1024))
    # A link to a perfectly good session file elsewhere: never followed, never written.
    outside_dir.mkdir(parents=True, exist_ok=True)
    outside = outside_dir / "elsewhere.toml"
    outside.write_bytes(b'schema = 1\ntitle = "outside the folder"\n')
    os.symlink(outside, directory / SYMLINK)
    (directory / DIRECTORY).mkdir()
    (directory / DIRECTORY / "inside.txt").write_text("keep me")
    os.mkfifo(directory / FIFO)
    # A checkpoint that is not ours to read: the conversation still opens, the file is kept.
    (directory / f"{good[0]}.partial.toml").write_bytes(b"\x00\x01 not toml")
    return Folder(directory, outside, good)


@pytest.fixture
def folder(sessions, tmp_path) -> Folder:
    sessions.ensure_directory()
    return make_folder(sessions.directory, tmp_path / "outside")


def test_sessions_lists_the_good_reports_each_bad_once_and_touches_nothing(cli, folder):
    before = folder.fingerprint()
    for _ in range(2):  # the second run answers from the listing index
        result = cli.run("sessions")
        assert result.code == 0, result.stderr
        listed = [line.split()[0] for line in result.stdout.splitlines()]
        assert listed == folder.good[::-1]
        assert "Traceback" not in result.stderr
        lines = result.err_lines
        assert len(lines) == len(REASONS), result.stderr
        for name, reason in REASONS.items():
            (line,) = [line for line in lines if f"/{name}: " in line]
            assert line.startswith("tui-chat: skipped "), line
            assert reason in line, line
        assert folder.fingerprint() == before
    # Opening a bad one names the file and the reason; nothing is written.
    export = cli.run("export", "20260102T000000Z-00bad4")
    assert "newer" in export.one_line_error(1)
    result = cli.run("ask", "--session", "20260102T000000Z-00bad3", "hello")
    assert "messages[0].role" in result.one_line_error(1)
    for deep in ("20260102T000000Z-00badc", "20260102T000000Z-00badd"):
        result = cli.run("ask", "--session", deep, "hello")
        assert "is nested too deeply to read" in result.one_line_error(1)
    assert folder.fingerprint() == before
    assert cli.emulator.requests == []


async def test_app_starts_lists_the_good_reports_each_bad_once_and_touches_nothing(
    make_app, sessions, folder
):
    before = folder.fingerprint()
    app = make_app()
    said = record_notifications(app)

    def reports(name: str) -> list[str]:
        return [m for m in said if name in m and "unreadable" in m]

    async with app.run_test(size=(120, 40)) as pilot:
        # Every bad file is reported with its reason (some only once the app has looked
        # inside them), and the newest good conversation is open.
        with contextlib.suppress(AssertionError):
            await wait_for(pilot, lambda: all(reports(name) for name in REASONS), timeout=10)
        unreported = {name: REASONS[name] for name in REASONS if not reports(name)}
        assert unreported == {}, f"bad files the app never reported: {unreported}"
        assert app.conversation.id == folder.good[1]
        listing = app.query_one(ConversationList)
        good = [e.id for e in listing.entries.values() if not e.problem]
        assert sorted(good) == sorted(folder.good)
        bad = {e.title: e.problem for e in listing.entries.values() if e.problem}
        assert set(bad) == set(REASONS)
        for name, reason in REASONS.items():
            assert reason in bad[name], (name, bad[name])
            (report,) = reports(name)
            assert reason in report

        # The app works as usual, in the good conversations.
        await send(pilot, "still working?")
        await wait_idle(pilot, app)
        assert app.conversation.messages[-1].status == "complete"
        await app.open_conversation(folder.good[0])
        assert [m.content for m in app.conversation.messages][:1] == ["older good one"]
        # Listing again reports nothing twice.
        app.listing.load()
        await pilot.pause()
        for name in REASONS:
            assert len(reports(name)) == 1, reports(name)
        await pilot.press("ctrl+q")
    assert folder.fingerprint() == before
    assert sessions.load(folder.good[1]).messages[-1].status == "complete"


# ---------------------------------------------------------------------------------------------
# The caches: the listing index, parsed copies of big files, the model list, learned rules.
# Each is only a cache: whatever it holds (nested too deeply for the JSON parser, or entries of
# the wrong shape), it is read as missing and rebuilt, and nothing fails.

DEEP_JSON = b"[" * 100_000 + b"]" * 100_000


def mangled_index(directory: Path, good: list[str]) -> bytes:
    entry = {"key": [0, 0], "id": good[0], "title": "t", "count": 1}
    files = {
        f"{good[0]}.toml": {**entry, "created": "2026-01-01T00:00:00", "updated": "x"},
        f"{good[1]}.toml": 5,
        "20260102T000000Z-00bad1.toml": {"key": "no", "problem": ["not", "text"]},
    }
    return json.dumps({"version": 2, "directory": str(directory), "files": files}).encode()


@pytest.mark.parametrize("index", ["deep", "mangled"])
async def test_broken_caches_are_rebuilt(cli, make_app, sessions, isolated_environment, index):
    cache = isolated_environment / "cache" / "tui-chat"
    store = SessionStore(sessions.directory, cache_dir=cache)
    big = Conversation.new(Params(model=MODEL))
    big.id = "20260103T000000Z-00b1b1"
    big.add(Message(role="user", content="a big one " + "x" * 300_000))
    big.add(Message(role="assistant", content="its reply"))
    big.updated = datetime(2026, 1, 3, tzinfo=UTC)  # the newest: the app opens it
    sessions.save(big)
    good = ["20260101T000000Z-009000", "20260101T000001Z-009001"]
    for n, conversation_id in enumerate(good):
        conversation = Conversation.new(Params(model=MODEL))
        conversation.id = conversation_id
        conversation.add(Message(role="user", content=f"good {n}"))
        conversation.updated = datetime(2026, 1, 1, n, tzinfo=UTC)
        sessions.save(conversation)
    model_cache = next(cache.glob("models-*.json"))
    listed = json.loads(model_cache.read_text())

    def break_caches() -> None:
        index_bytes = DEEP_JSON if index == "deep" else mangled_index(sessions.directory, good)
        store.index_path.write_bytes(index_bytes)
        (cache / "parsed").mkdir(parents=True, exist_ok=True)
        (cache / "parsed" / f"{big.id}.json").write_bytes(b'{"digest": ' + DEEP_JSON + b"}")
        if index == "deep":
            model_cache.write_bytes(DEEP_JSON)
        else:  # today's list, with one id that is not text
            models = [dict(entry) for entry in listed["models"]]
            models[0]["model_id"] = 5
            model_cache.write_text(json.dumps({"fetched": time.time(), "models": models}))
        (cache / "learned-rules.json").write_bytes(b'{"models": ' + DEEP_JSON + b"}")

    break_caches()
    result = cli.run("sessions")
    assert result.code == 0, result.stderr
    assert result.stderr == ""
    assert [line.split()[0] for line in result.stdout.splitlines()] == [big.id, *good[::-1]]
    export = cli.run("export", big.id)
    assert export.code == 0, export.stderr
    assert "its reply" in export.stdout

    break_caches()
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.account.models is not None)
        assert app.conversation.id == big.id
        assert app.conversation.messages[-1].content == "its reply"
        assert all(isinstance(m.model_id, str) for m in app.account.models)
        await send(pilot, "still working?")
        await wait_idle(pilot, app)
        assert app.conversation.messages[-1].status == "complete"
        await pilot.press("ctrl+q")
    # Rebuilt, and readable again.
    assert json.loads(store.index_path.read_text())["version"] == 2
