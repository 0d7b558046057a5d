"""Attached files: what they are, Bedrock's limits checked before sending, how each kind is
sent in each API, and how they are kept with the conversation."""

from __future__ import annotations

import json
import os
import stat
import struct
import zlib
from pathlib import Path

import pytest

from tui_chat import attachments
from tui_chat.attachments import Attachment, AttachmentError
from tui_chat.bedrock.formats import prepare, request_json
from tui_chat.conversation import Conversation, Message
from tui_chat.params import ParamError, Params
from tui_chat.store import SessionStore
from tui_chat.store.schema import conversation_from_dict, conversation_to_dict

SONNET = "us.anthropic.claude-sonnet-5-5"


def png(width: int = 4, height: int = 3, padding: int = 0) -> bytes:
    """A real PNG header (and a tiny image); `padding` bytes of ancillary data make it big."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\x00" * 4)
    extra = chunk(b"tEXt", b"x" * padding) if padding else b""
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + extra
        + chunk(b"IDAT", rows)
        + chunk(b"IEND", b"")
    )


PDF = b"%PDF-1.4\n1 0 obj << /Type /Page >> endobj\ntrailer << >>\n%%EOF\n"


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


# -- reading and checking ---------------------------------------------------------------------


def test_an_image_is_read_with_its_type_size_and_digest(tmp_path):
    attachment, data = attachments.read(write(tmp_path, "Photo.PNG", png()))
    assert attachment.kind == attachments.IMAGE and attachment.format == "png"
    assert attachment.media_type == "image/png" and attachment.size == len(data)
    assert len(attachment.sha256) == 64 and attachment.stored_name.endswith("-Photo.PNG")


def test_a_path_is_relative_to_the_base_folder_and_a_link_is_followed(tmp_path):
    write(tmp_path, "notes.md", b"# hi\n")
    (tmp_path / "link.md").symlink_to(tmp_path / "notes.md")
    attachment, _ = attachments.read("link.md", base=tmp_path)
    assert attachment.name == "notes.md" and attachment.kind == attachments.DOCUMENT


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("big.png", png(padding=4 * 1024 * 1024), "Bedrock takes an image of at most 3.8 MB"),
        ("wide.png", png(width=9000, height=10), "9000x10 px; Bedrock takes images of at most"),
        ("fake.png", b"GIF89a" + b"\x00" * 20, "is not a PNG image"),
        ("big.pdf", b"%PDF" + b"\x00" * (5 * 1024 * 1024), "a document of at most 4.5 MB"),
        ("blob.bin", b"\x00\x01\x02binary", "is binary"),
        ("empty.txt", b"", "is empty"),
    ],
)
def test_a_file_over_a_limit_or_of_an_unknown_kind_is_refused_by_name(tmp_path, name, data, words):
    with pytest.raises(AttachmentError) as caught:
        attachments.read(write(tmp_path, name, data))
    assert name in str(caught.value) and words in str(caught.value)
    assert isinstance(caught.value, ParamError)  # refused where any bad parameter is


def test_a_folder_a_fifo_and_a_missing_file_are_refused(tmp_path):
    (tmp_path / "folder").mkdir()
    os.mkfifo(tmp_path / "pipe")
    for name, words in (("folder", "is a directory"), ("pipe", "not a regular file")):
        with pytest.raises(AttachmentError, match=words):
            attachments.read(tmp_path / name)
    with pytest.raises(AttachmentError, match=r"gone\.txt: no such file"):
        attachments.read(tmp_path / "gone.txt")


def test_a_request_carries_at_most_20_images_and_5_documents():
    image = Attachment("a.png", "image/png", 10, "0" * 64)
    document = Attachment("a.pdf", "application/pdf", 10, "1" * 64)
    attachments.check_request([image] * 20 + [document] * 5)
    with pytest.raises(AttachmentError, match="21 images attached; Bedrock takes at most 20"):
        attachments.check_request([image] * 21)
    with pytest.raises(AttachmentError, match="6 documents attached; Bedrock takes at most 5"):
        attachments.check_request([document] * 6)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("spec v2 (final).pdf", "spec v2 (final)"),
        ("my_report..2026.docx", "my report 2026"),
        ("b\\c  d.txt", "b c d"),
        ("日本.md", "document"),  # letters beyond ASCII may be refused: none are sent
        ("___.pdf", "document"),
    ],
)
def test_a_documents_name_holds_only_what_bedrock_allows(name, expected):
    named = Attachment(name, "application/pdf", 1, "0" * 64).document_name
    assert named == expected
    assert "  " not in named and len(named) <= 200


def test_a_text_file_is_fenced_under_its_name_past_any_backticks_inside():
    attachment = Attachment("run.py", "text/plain", 10, "0" * 64)
    text = attachments.fenced(attachment, b"print('```')\n")
    assert text.startswith("run.py:\n````py\n") and text.endswith("\n````")


# -- the session file and the store --------------------------------------------------------------


def test_attachments_are_saved_in_the_session_file_and_read_back():
    conversation = Conversation.new(Params(model=SONNET))
    attachment = Attachment("a.png", "image/png", 12, "ab" * 32)
    conversation.add(Message(role="user", content="look", attachments=[attachment]))
    data = conversation_to_dict(conversation)
    assert data["messages"][0]["attachments"] == [
        {"name": "a.png", "media_type": "image/png", "size": 12, "sha256": "ab" * 32}
    ]
    again = conversation_from_dict(data, conversation.id, Params(model=SONNET))
    assert again.messages[0].attachments == [attachment]


def test_the_store_keeps_a_copy_0600_reads_it_back_and_deletes_it_with_the_conversation(
    tmp_path,
):
    store = SessionStore(tmp_path / "sessions")
    attachment, data = attachments.read(write(tmp_path, "a.png", png()))
    conversation = Conversation.new(Params(model=SONNET))
    conversation.add(Message(role="user", content="look", attachments=[attachment]))
    path = store.keep_file(conversation.id, attachment, data)
    store.save(conversation)
    assert path.parent == store.files_dir(conversation.id)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert store.read_file(conversation.id, attachment) == data
    path.write_bytes(b"changed")  # not the file that was attached any more
    assert store.read_file(conversation.id, attachment) is None
    store.delete(conversation.id)
    assert not store.files_dir(conversation.id).exists()
    assert store.list().conversations == []


# -- requests ----------------------------------------------------------------------------------


def turn_with(*files: tuple[Attachment, bytes], text: str = "What is this?") -> list[Message]:
    return [Message(role="user", content=text, attachments=[a for a, _ in files])]


def loader(*files: tuple[Attachment, bytes]):
    kept = {a.sha256: data for a, data in files}
    return lambda attachment: kept.get(attachment.sha256)


def test_an_image_goes_as_a_base64_block_in_the_messages_api(tmp_path):
    image = attachments.read(write(tmp_path, "a.png", png()))
    prepared = prepare(turn_with(image), Params(model=SONNET), load=loader(image))
    assert prepared.operation == "InvokeModelWithResponseStream"
    content = prepared.body["messages"][0]["content"]
    assert content[0]["type"] == "image"
    assert content[0]["source"]["media_type"] == "image/png"
    assert content[-1] == {"type": "text", "text": "What is this?"}
    shown = json.loads(request_json(prepared))
    assert "of base64, abbreviated" in shown["messages"][0]["content"][0]["source"]["data"]


def test_a_document_sends_a_claude_request_through_converse_with_its_name(tmp_path):
    pdf = attachments.read(write(tmp_path, "Spec 2.pdf", PDF))
    text = attachments.read(write(tmp_path, "tool.py", b"print(1)\n"))
    prepared = prepare(turn_with(pdf, text), Params(model=SONNET), load=loader(pdf, text))
    assert prepared.operation == "ConverseStream"
    assert any("ConverseStream" in note for note in prepared.notes)
    content = prepared.body["messages"][0]["content"]
    document = content[0]["document"]
    assert (document["format"], document["name"]) == ("pdf", "Spec 2")
    assert content[-1]["text"].startswith("tool.py:\n```py\nprint(1)\n```\n\nWhat is this?")
    call, kwargs = prepared.boto3_call()
    assert call == "converse_stream"
    assert kwargs["messages"][0]["content"][0]["document"]["source"]["bytes"] == PDF


def test_a_model_that_reads_no_images_refuses_one_before_sending(tmp_path):
    image = attachments.read(write(tmp_path, "a.png", png()))
    with pytest.raises(AttachmentError, match=r"a\.png: Claude 2 reads no images"):
        prepare(turn_with(image), Params(model="anthropic.claude-v2"), load=loader(image))


def test_a_missing_stored_copy_is_left_out_and_said(tmp_path):
    image = attachments.read(write(tmp_path, "a.png", png()))
    prepared = prepare(turn_with(image), Params(model=SONNET), load=lambda a: None)
    assert prepared.body["messages"][0]["content"] == [{"type": "text", "text": "What is this?"}]
    assert "a.png was left out: its stored copy is missing" in prepared.notes
