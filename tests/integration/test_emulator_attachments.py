"""Images and documents in the emulator, through real boto3: accepted, described by the demo
model, counted in the usage, recorded as sent, and refused with Bedrock's own errors."""

from __future__ import annotations

import base64
import json
import math
import struct
import zlib

import pytest

from tui_chat.emulator import errors

from .conftest import refused

HAIKU45_US = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
CLAUDE_V2 = "anthropic.claude-v2"
LLAMA = "meta.llama3-1-70b-instruct-v1:0"
MISTRAL = "mistral.mistral-large-2407-v1:0"
NOVA = "amazon.nova-lite-v1:0"
MB = 1024 * 1024


# ---------------------------------------------------------------------------------------------
# Tiny files, written by hand


def png(width: int = 640, height: int = 480) -> bytes:
    """A valid PNG: signature, IHDR, one compressed IDAT (a single grey row), IEND."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    pixels = zlib.compress(b"\x00" + b"\x80" * min(width, 64))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def big_png(size: int) -> bytes:
    """``size`` bytes: a valid PNG header (4x3) followed by zeros."""
    head = png(4, 3)
    return head + b"\x00" * (size - len(head))


def gif(width: int, height: int) -> bytes:
    """A one-colour GIF89a."""
    screen = struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    image = b"," + struct.pack("<HHHHB", 0, 0, width, height, 0) + b"\x02\x02\x44\x01\x00"
    return b"GIF89a" + screen + image + b";"


def jpeg(width: int, height: int) -> bytes:
    """SOI, a JFIF APP0, a baseline SOF0 frame header, EOI: all imagesize reads."""
    app0 = b"\xff\xe0" + struct.pack(">H5sBBBHHBB", 16, b"JFIF\x00", 1, 1, 0, 72, 72, 0, 0)
    components = b"\x01\x11\x00\x02\x11\x01\x03\x11\x01"
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, height, width, 3) + components
    return b"\xff\xd8" + app0 + sof0 + b"\xff\xd9"


def webp(width: int, height: int) -> bytes:
    """An extended (VP8X) WebP header: canvas width-1 and height-1 as 24-bit numbers."""
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00"
    vp8x += (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", 4 + len(vp8x)) + b"WEBP" + vp8x


PDF_TEXT = "Hello from the spec"  # 19 characters: 5 tokens


def pdf(pages: int = 3) -> bytes:
    """A PDF of ``pages`` pages (and one /Pages tree node, which is not a page)."""
    content = f"BT /F1 12 Tf 72 712 Td ({PDF_TEXT}) Tj ET".encode()
    kids = " ".join(f"{3 + n} 0 R" for n in range(pages))
    objects = [
        b"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj",
        f"2 0 obj << /Type /Pages /Kids [{kids}] /Count {pages} >> endobj".encode(),
    ]
    for n in range(pages):
        contents = f" /Contents {3 + pages} 0 R" if n == 0 else ""
        objects.append(f"{3 + n} 0 obj << /Type /Page /Parent 2 0 R{contents} >> endobj".encode())
    objects.append(
        f"{3 + pages} 0 obj << /Length {len(content)} >>\nstream\n".encode()
        + content
        + b"\nendstream\nendobj"
    )
    return b"%PDF-1.4\n" + b"\n".join(objects) + b"\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def compressed_pdf() -> bytes:
    """A PDF 1.5 whose two page objects sit in a compressed object stream, as many real ones do,
    and whose page content is compressed too."""
    pages = b"<< /Type /Page /Parent 2 0 R /Contents 5 0 R >> << /Type /Page /Parent 2 0 R >>"
    objstm = zlib.compress(b"3 0 4 47 " + pages)
    content = zlib.compress(b"BT (Deflated words) Tj ET")
    return (
        b"%PDF-1.5\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >> endobj\n"
        b"6 0 obj << /Type /ObjStm /N 2 /First 9 /Filter /FlateDecode >>\nstream\n"
        + objstm
        + b"\nendstream\nendobj\n5 0 obj << /Filter /FlateDecode >>\nstream\n"
        + content
        + b"\nendstream\nendobj\n%%EOF\n"
    )


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def image_tokens(width: int, height: int) -> int:
    return math.ceil(width * height / 750)


def text_tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


# ---------------------------------------------------------------------------------------------
# Requests


def m_image(data: bytes, media_type: str = "image/png", **extra) -> dict:
    source = {"type": "base64", "media_type": media_type, "data": b64(data)}
    return {"type": "image", "source": source, **extra}


def m_pdf(data: bytes, title: str | None = None) -> dict:
    block = {"type": "document", "source": {"type": "base64", "media_type": "application/pdf"}}
    block["source"]["data"] = b64(data)
    if title is not None:
        block["title"] = title
    return block


def m_text_document(text: str, title: str) -> dict:
    source = {"type": "text", "media_type": "text/plain", "data": text}
    return {"type": "document", "source": source, "title": title}


def messages_body(*blocks: dict, text: str = "What do you see?") -> dict:
    content = [*blocks, {"type": "text", "text": text}]
    return {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 600,
        "messages": [{"role": "user", "content": content}],
    }


def invoke(client, body: dict, model: str = HAIKU45_US) -> dict:
    response = client.invoke_model(modelId=model, body=json.dumps(body))
    return json.loads(response["body"].read())


def invoke_stream_text(client, body: dict, model: str = HAIKU45_US) -> str:
    response = client.invoke_model_with_response_stream(modelId=model, body=json.dumps(body))
    events = [json.loads(event["chunk"]["bytes"]) for event in response["body"]]
    return "".join(e["delta"]["text"] for e in events if e["type"] == "content_block_delta")


def c_image(data: bytes, fmt: str = "png") -> dict:
    return {"image": {"format": fmt, "source": {"bytes": data}}}


def c_document(data: bytes, name: str, fmt: str = "pdf") -> dict:
    return {"document": {"format": fmt, "name": name, "source": {"bytes": data}}}


def converse(client, *blocks: dict, model: str = HAIKU45_US, text: str = "What do you see?"):
    messages = [{"role": "user", "content": [*blocks, {"text": text}]}]
    return client.converse(modelId=model, messages=messages, inferenceConfig={"maxTokens": 600})


def converse_text(response: dict) -> str:
    return "".join(b.get("text", "") for b in response["output"]["message"]["content"])


def converse_stream_text(client, *blocks: dict, model: str = HAIKU45_US) -> str:
    messages = [{"role": "user", "content": [*blocks, {"text": "What do you see?"}]}]
    response = client.converse_stream(modelId=model, messages=messages)
    return "".join(
        e["contentBlockDelta"]["delta"].get("text", "")
        for e in response["stream"]
        if "contentBlockDelta" in e
    )


# ---------------------------------------------------------------------------------------------
# The helpers make what they claim (the tests below rely on them)


def test_the_synthetic_files_are_what_they_claim():
    from tui_chat.emulator import attachments

    for data, fmt, size in [
        (png(640, 480), "png", (640, 480)),
        (png(9000, 10), "png", (9000, 10)),
        (gif(32, 16), "gif", (32, 16)),
        (jpeg(300, 200), "jpeg", (300, 200)),
        (webp(50, 40), "webp", (50, 40)),
        (big_png(int(3.8 * MB)), "png", (4, 3)),
    ]:
        assert attachments.sniff_image(data) == fmt
        assert attachments.image_size(data) == size
    assert attachments.pdf_pages_and_text(pdf(3)) == (3, PDF_TEXT)
    assert attachments.pdf_pages_and_text(pdf(1)) == (1, PDF_TEXT)
    assert attachments.pdf_pages_and_text(compressed_pdf()) == (2, "Deflated words")
    assert attachments.sniff_image(b"\x00" * 64) is None
    assert attachments.image_size(b"\x89PNG\r\n\x1a\n") == (-1, -1)


# ---------------------------------------------------------------------------------------------
# Messages API (InvokeModel, InvokeModelWithResponseStream)


def test_messages_image_pdf_and_text_document_are_described_counted_and_recorded(
    emulator, emulator_runtime
):
    image, document = png(640, 480), pdf(3)
    notes = "Buy milk. Call Ann."
    body = messages_body(
        m_image(image), m_pdf(document, title="spec"), m_text_document(notes, "notes.md")
    )
    reply = invoke(emulator_runtime, body)
    text = reply["content"][0]["text"]
    assert (
        "I was given an image of 640x480 (PNG), a 3-page PDF named spec and a text document "
        "named notes.md." in text
    )
    # The same question without the files: the difference is their tokens, roughly counted.
    plain = invoke(emulator_runtime, messages_body())
    assert "I was given" not in plain["content"][0]["text"]
    extra = reply["usage"]["input_tokens"] - plain["usage"]["input_tokens"]
    assert extra == image_tokens(640, 480) + 3 * 1500 + text_tokens(PDF_TEXT) + text_tokens(notes)

    recorded = emulator.requests[0]
    assert recorded.operation == "InvokeModel"
    sent = recorded.body["messages"][0]["content"]
    assert sent[0] == m_image(image) and base64.b64decode(sent[0]["source"]["data"]) == image
    assert sent[1] == m_pdf(document, title="spec")
    assert sent[2] == m_text_document(notes, "notes.md")

    streamed = invoke_stream_text(emulator_runtime, body)
    assert "I was given an image of 640x480 (PNG), a 3-page PDF named spec" in streamed


@pytest.mark.parametrize(
    ("data", "media_type", "words"),
    [
        (gif(32, 16), "image/gif", "an image of 32x16 (GIF)"),
        (jpeg(300, 200), "image/jpeg", "an image of 300x200 (JPEG)"),
        (webp(50, 40), "image/webp", "an image of 50x40 (WebP)"),
        (png(8000, 1), "image/png", "an image of 8000x1 (PNG)"),  # at the limit: accepted
    ],
    ids=["gif", "jpeg", "webp", "png-8000px"],
)
def test_messages_every_image_format(emulator_runtime, data, media_type, words):
    reply = invoke(emulator_runtime, messages_body(m_image(data, media_type)))
    assert f"I was given {words}." in reply["content"][0]["text"]


def test_messages_blocks_take_cache_control_and_an_untitled_pdf(emulator_runtime):
    cached = {"cache_control": {"type": "ephemeral"}}
    body = messages_body(m_image(png(20, 10), **cached), {**m_pdf(pdf(1)), **cached})
    reply = invoke(emulator_runtime, body)
    assert "I was given an image of 20x10 (PNG) and a 1-page PDF." in reply["content"][0]["text"]


@pytest.mark.parametrize(
    ("blocks", "message"),
    [
        (
            [m_image(png(9000, 10))],
            "messages.0.content.0.image.source.base64.data: At least one of the image "
            "dimensions exceed max allowed size: 8000 pixels",
        ),
        (
            [m_image(png(10, 8001))],
            "messages.0.content.0.image.source.base64.data: At least one of the image "
            "dimensions exceed max allowed size: 8000 pixels",
        ),
        (
            [m_image(big_png(int(3.8 * MB)))],
            "messages.0.content.0.image.source.base64: image exceeds 5 MB maximum: "
            f"{4 * math.ceil(int(3.8 * MB) / 3)} bytes > 5242880 bytes",
        ),
        ([m_image(png(4, 4))] * 21, "messages: too many images: image_count > 20"),
        ([m_pdf(pdf(1), title=f"doc {n}") for n in range(6)], errors.TOO_MANY_DOCUMENTS),
        ([m_pdf(b"%PDF-1.4\n" + b"\x00" * int(4.6 * MB))], errors.DOCUMENT_TOO_BIG),
        (
            [m_image(png(4, 4), "image/jpeg")],
            "messages.0.content.0.image.source.base64: The image was specified using the "
            "image/jpeg media type, but the image appears to be a image/png image",
        ),
        ([m_image(b"not an image at all", "image/gif")], "Could not process image"),
        (
            [{"type": "image", "source": {"type": "base64", "media_type": "image/png"}}],
            "Malformed input request: #/messages/0/content/0/source: required key [data] not "
            "found, please reformat your input and try again.",
        ),
        (
            [m_image(png(4, 4), "image/bmp")],
            "Malformed input request: #/messages/0/content/0/source/media_type: image/bmp is "
            "not a valid enum value, please reformat your input and try again.",
        ),
        (
            [m_pdf(b"just words, no PDF")],
            "messages.0.content.0.document.source.base64.data: The PDF specified was not valid.",
        ),
    ],
    ids=[
        "9000px-wide",
        "8001px-high",
        "3.8MB",
        "21-images",
        "6-documents",
        "4.6MB-document",
        "declared-jpeg-is-png",
        "not-an-image",
        "missing-data",
        "unknown-media-type",
        "not-a-pdf",
    ],
)
def test_messages_limits_and_checks(emulator_runtime, blocks, message):
    assert refused(lambda: invoke(emulator_runtime, messages_body(*blocks))) == message


def test_messages_bad_base64_names_the_field(emulator_runtime):
    block = m_image(png(4, 4))
    block["source"]["data"] = "iVBORw0KGgo*not-base64*"
    second = {**m_pdf(pdf(1)), "source": {**m_pdf(pdf(1))["source"], "data": "%%%"}}
    assert refused(lambda: invoke(emulator_runtime, messages_body(block))) == (
        "messages.0.content.0.image.source.base64.data: invalid base64 data"
    )
    assert refused(lambda: invoke(emulator_runtime, messages_body(m_image(png()), second))) == (
        "messages.0.content.1.document.source.base64.data: invalid base64 data"
    )


def test_messages_limits_refuse_before_any_stream(emulator_runtime):
    body = messages_body(*[m_image(png(4, 4))] * 21)
    message = refused(lambda: invoke_stream_text(emulator_runtime, body))
    assert message == "messages: too many images: image_count > 20"


def test_messages_model_that_takes_no_images_or_documents(emulator_runtime):
    image = messages_body(m_image(png(4, 4)))
    assert refused(lambda: invoke(emulator_runtime, image, CLAUDE_V2)) == (
        "'claude-v2' does not support image input."
    )
    document = messages_body(m_pdf(pdf(1)))
    assert refused(lambda: invoke(emulator_runtime, document, CLAUDE_V2)) == (
        "claude-v2 does not support PDFs."
    )


def test_messages_image_tokens_reach_the_context_window(emulator_runtime):
    """Twenty 8000x8000 images are about 1.7M tokens: more than Haiku 4.5's 200k window."""
    blocks = [m_image(png(8000, 8000))] * 20
    message = refused(lambda: invoke(emulator_runtime, messages_body(*blocks)))
    assert message == errors.INPUT_TOO_LONG


# ---------------------------------------------------------------------------------------------
# Converse, ConverseStream


def test_converse_image_and_documents_are_described_counted_and_recorded(
    emulator, emulator_runtime
):
    image, document = png(640, 480), pdf(3)
    notes = b"# Notes\nBuy milk."
    response = converse(
        emulator_runtime,
        c_image(image),
        c_document(document, "spec"),
        c_document(notes, "notes (draft)", "md"),
    )
    text = converse_text(response)
    assert (
        "I was given an image of 640x480 (PNG), a 3-page PDF named spec and a Markdown document "
        "named notes (draft)." in text
    )
    plain = converse(emulator_runtime)
    extra = response["usage"]["inputTokens"] - plain["usage"]["inputTokens"]
    assert extra == (
        image_tokens(640, 480) + 3 * 1500 + text_tokens(PDF_TEXT) + text_tokens(notes.decode())
    )

    recorded = emulator.requests[0]
    assert recorded.operation == "Converse"
    sent = recorded.body["messages"][0]["content"]
    assert sent[0] == {"image": {"format": "png", "source": {"bytes": b64(image)}}}
    assert sent[1]["document"] == {
        "format": "pdf",
        "name": "spec",
        "source": {"bytes": b64(document)},
    }
    assert base64.b64decode(sent[2]["document"]["source"]["bytes"]) == notes

    streamed = converse_stream_text(emulator_runtime, c_image(image), c_document(document, "spec"))
    assert "I was given an image of 640x480 (PNG) and a 3-page PDF named spec." in streamed


def test_converse_nova_takes_images_and_documents(emulator_runtime):
    response = converse(
        emulator_runtime, c_image(jpeg(120, 90), "jpeg"), c_document(pdf(2), "plan"), model=NOVA
    )
    text = converse_text(response)
    assert "I was given an image of 120x90 (JPEG) and a 2-page PDF named plan." in text


def test_nova_native_body_takes_images(emulator_runtime):
    content = [{"image": {"format": "gif", "source": {"bytes": b64(gif(7, 5))}}}, {"text": "Hi"}]
    body = {"messages": [{"role": "user", "content": content}], "inferenceConfig": {}}
    response = emulator_runtime.invoke_model(modelId=NOVA, body=json.dumps(body))
    reply = json.loads(response["body"].read())
    text = reply["output"]["message"]["content"][0]["text"]
    assert "I was given an image of 7x5 (GIF)." in text


@pytest.mark.parametrize(
    ("blocks", "message"),
    [
        (
            [c_image(png(9000, 10))],
            errors.MODEL_ERRORS + "messages.0.content.0.image.source.bytes: At least one of the "
            "image dimensions exceed max allowed size: 8000 pixels",
        ),
        (
            [c_image(big_png(int(3.8 * MB)))],
            errors.MODEL_ERRORS + "messages.0.content.0.image.source.bytes: image exceeds 5 MB "
            f"maximum: {4 * math.ceil(int(3.8 * MB) / 3)} bytes > 5242880 bytes",
        ),
        (
            [c_image(png(4, 4))] * 21,
            errors.MODEL_ERRORS + "messages: too many images: image_count > 20",
        ),
        ([c_document(pdf(1), f"doc {n}") for n in range(6)], errors.TOO_MANY_DOCUMENTS),
        ([c_document(b"%PDF-1.4\n" + b"\x00" * int(4.6 * MB), "big")], errors.DOCUMENT_TOO_BIG),
        ([c_document(pdf(1), "two  spaces")], errors.DOCUMENT_NAME),
        ([c_document(pdf(1), "a/b")], errors.DOCUMENT_NAME),
        ([c_document(pdf(1), "notes.md")], errors.DOCUMENT_NAME),
        ([c_document(pdf(1), "spec"), c_document(pdf(2), "spec")], errors.DUPLICATE_DOCUMENT_NAMES),
        (
            [c_image(png(4, 4)), c_image(gif(4, 4), "jpeg")],
            errors.MODEL_ERRORS + "messages.0.content.1.image.source.bytes: The image was "
            "specified using the image/jpeg media type, but the image appears to be a image/gif "
            "image",
        ),
        (
            [c_image(png(4, 4), "bmp")],
            "1 validation error detected: Value 'bmp' at 'messages.1.member.content.1.member."
            "image.format' failed to satisfy constraint: Member must satisfy enum value set: "
            "[png, jpeg, gif, webp]",
        ),
    ],
    ids=[
        "9000px-wide",
        "3.8MB",
        "21-images",
        "6-documents",
        "4.6MB-document",
        "two-spaces",
        "slash",
        "dot",
        "duplicate-names",
        "declared-jpeg-is-gif",
        "unknown-format",
    ],
)
def test_converse_limits_and_checks(emulator_runtime, blocks, message):
    assert refused(lambda: converse(emulator_runtime, *blocks)) == message


def test_converse_limits_refuse_before_any_stream(emulator_runtime):
    message = refused(lambda: converse_stream_text(emulator_runtime, c_image(png(9000, 10))))
    assert "At least one of the image dimensions exceed max allowed size" in message


def test_converse_document_names_bedrock_accepts(emulator_runtime):
    names = ["Q3 report (final) [v2]", "with-hyphens", "under_score", "x"]
    blocks = [c_document(pdf(1), name) for name in names]
    text = converse_text(converse(emulator_runtime, *blocks))
    assert (
        "I was given a 1-page PDF named Q3 report (final) [v2], a 1-page PDF named with-hyphens, "
        "a 1-page PDF named under_score and a 1-page PDF named x." in text
    )


def test_converse_other_models_use_bedrocks_own_words(emulator_runtime):
    def nova(*blocks):
        return refused(lambda: converse(emulator_runtime, *blocks, model=NOVA))

    assert nova(c_image(png(9000, 10))) == errors.IMAGE_TOO_WIDE
    assert nova(c_image(big_png(int(3.8 * MB)))) == errors.IMAGE_TOO_BIG
    assert nova(*[c_image(png(4, 4))] * 21) == errors.TOO_MANY_IMAGES
    assert nova(c_image(png(4, 4), "webp")) == errors.MODEL_ERRORS + errors.IMAGE_MISMATCH


@pytest.mark.parametrize(
    ("model", "block", "message"),
    [
        (LLAMA, c_image(png(4, 4)), errors.IMAGE_BLOCK_UNSUPPORTED),
        (MISTRAL, c_image(png(4, 4)), errors.IMAGE_BLOCK_UNSUPPORTED),
        (MISTRAL, c_document(pdf(1), "spec"), errors.DOCUMENT_BLOCK_UNSUPPORTED),
        (CLAUDE_V2, c_image(png(4, 4)), errors.IMAGE_BLOCK_UNSUPPORTED),
        (CLAUDE_V2, c_document(pdf(1), "spec"), errors.DOCUMENT_BLOCK_UNSUPPORTED),
    ],
)
def test_converse_models_that_take_no_images_or_documents(emulator_runtime, model, block, message):
    assert message.startswith("This model doesn't support the ")
    assert refused(lambda: converse(emulator_runtime, block, model=model)) == message


def test_converse_bad_base64_is_refused(emulator_runtime):
    """boto3 always encodes blobs well: the body is spoilt after it is built."""

    def spoil(request, **_):
        body = json.loads(request.data)
        body["messages"][0]["content"][0]["image"]["source"]["bytes"] = "iVBOR*w0KGgo="
        request.data = json.dumps(body).encode()

    emulator_runtime.meta.events.register("before-sign.bedrock-runtime.Converse", spoil)
    message = refused(lambda: converse(emulator_runtime, c_image(png(4, 4))))
    assert message == "The value at messages.0.content.0.image.source.bytes is not valid base64."
