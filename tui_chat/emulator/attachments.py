"""Images and documents in a request: decoded, checked against Bedrock's limits, measured.

Both APIs carry them in user turns. The Messages API (InvokeModel, Claude) takes Anthropic
blocks::

    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "..."}}
    {"type": "document", "source": {"type": "base64", "media_type": "application/pdf",
                                    "data": "..."}, "title": "spec"}
    {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "..."}}

Converse (and Nova's own InvokeModel body) takes ``{"image": {"format", "source": {"bytes"}}}``
and ``{"document": {"format", "name", "source": {"bytes"}}}``, the bytes base64 text on the
wire.

Checks come in two steps, as on Bedrock: each block as it is read (shape, base64, whether the
model takes the kind at all, a document's name and size), then the request as a whole (how
many of each, and the checks Claude itself makes of an image: size, real format, dimensions).
Claude's messages name the block by its path and, on Converse, carry the "model returned the
following errors" prefix; other models get Bedrock's own words. ``errors`` says which messages
were seen on Bedrock and which are written in their style.

Measuring: an image's real format is read from its first bytes (``imagesize`` gives no
format), its size with ``imagesize``; a PDF has as many pages as ``/Type /Page`` objects (not
``/Pages``), in the file or in its compressed object streams, and its text is what its content
streams show. Tokens, roughly: width*height/750 an image (Anthropic's estimate), 1,500 a PDF
page plus its text, a text document like text (four characters a token).
"""

from __future__ import annotations

import io
import math
import re
import zlib
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

import imagesize

from tui_chat.emulator import catalog, errors, signing
from tui_chat.emulator.catalog import ModelInfo
from tui_chat.emulator.errors import ApiError, json_type, malformed, validation

IMAGE = "image"
DOCUMENT = "document"

MB = 1024 * 1024
IMAGE_MAX_BYTES = int(3.75 * MB)  # 3,932,160: 5 MB once base64-encoded, what Claude checks
IMAGE_MAX_SIDE = 8000
MAX_IMAGES = 20
DOCUMENT_MAX_BYTES = int(4.5 * MB)
MAX_DOCUMENTS = 5
PIXELS_PER_TOKEN = 750
PDF_PAGE_TOKENS = 1500
DOCUMENT_NAME_MAX = 200

IMAGE_FORMATS = ("png", "jpeg", "gif", "webp")
DOCUMENT_FORMATS = ("pdf", "csv", "doc", "docx", "xls", "xlsx", "html", "txt", "md")
IMAGE_MEDIA_TYPES = {f"image/{fmt}": fmt for fmt in IMAGE_FORMATS}
_TEXT_FORMATS = ("csv", "html", "txt", "md")
_IMAGE_WORDS = {"png": "PNG", "jpeg": "JPEG", "gif": "GIF", "webp": "WebP"}
_DOCUMENT_WORDS = {
    "csv": "a CSV document",
    "doc": "a Word document",
    "docx": "a Word document",
    "xls": "an Excel spreadsheet",
    "xlsx": "an Excel spreadsheet",
    "html": "an HTML document",
    "txt": "a text document",
    "md": "a Markdown document",
}

# Bedrock's rule for a Converse document name: alphanumerics, whitespace (not two in a row),
# hyphens, parentheses, square brackets. Underscores are let through: they are not in the
# documented list, but Bedrock accepts them (checked live in vercel/ai#20366 and
# aws-samples/generative-ai-use-cases#1671). Whitespace is ASCII only: a full-width space is
# refused even alone (#1671).
_NAME = re.compile(r"[A-Za-z0-9 \t\n\r\f\v\-()\[\]_]+")
_TWO_SPACES = re.compile(r"[ \t\n\r\f\v]{2}")

_PDF_PAGE = re.compile(rb"/Type\s*/Page(?![A-Za-z0-9_])")
_PDF_STREAM = re.compile(rb"(?<![A-Za-z])stream\r?\n(.*?)endstream", re.DOTALL)
# A text object (BT ... ET), bounded so that a BT with no ET after it costs little; the literal
# strings in it, with one level of nested parentheses.
_PDF_TEXT_OBJECT = re.compile(rb"\bBT\b(.{0,262144}?)\bET\b", re.DOTALL)
_PDF_STRING = re.compile(rb"\(((?:\\.|[^\\()]|\((?:\\.|[^\\()])*\))*)\)", re.DOTALL)
_PDF_ESCAPE = re.compile(rb"\\([0-7]{1,3}|.)", re.DOTALL)
_PDF_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}
_INFLATE_BUDGET = 32 * MB  # at most this much inflated from one PDF's streams


@dataclass
class Attachment:
    """One image or document of a request, decoded and measured."""

    kind: str  # IMAGE | DOCUMENT
    format: str  # as declared: png, jpeg... / pdf, txt, md...
    data: bytes = field(repr=False)
    at: str  # where Claude says it is: "messages.0.content.1" (its own block numbering)
    name: str = ""  # a document's name (Converse) or title (Messages); "" when none
    width: int = -1
    height: int = -1
    pages: int = 0  # a PDF's
    text: str = field(default="", repr=False)  # a document's text, as far as it is read

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def tokens(self) -> int:
        if self.kind == IMAGE:
            return max(1, math.ceil(max(self.width, 1) * max(self.height, 1) / PIXELS_PER_TOKEN))
        text_tokens = math.ceil(len(self.text) / 4)
        if self.format == "pdf":
            return PDF_PAGE_TOKENS * max(1, self.pages) + text_tokens
        if self.format in _TEXT_FORMATS:
            return max(1, text_tokens)
        return max(1, math.ceil(self.size / 4))  # Word and Excel files: their bytes, roughly

    def describe(self) -> str:
        """'an image of 640x480 (PNG)', 'a 3-page PDF named spec', 'a text document'."""
        if self.kind == IMAGE:
            return f"an image of {self.width}x{self.height} ({_IMAGE_WORDS[self.format]})"
        if self.format == "pdf":
            what = f"a {self.pages}-page PDF" if self.pages else "a PDF"
        else:
            what = _DOCUMENT_WORDS.get(self.format, "a document")
        return f"{what} named {self.name}" if self.name else what


# ---------------------------------------------------------------------------------------------
# Measuring


def sniff_image(data: bytes) -> str | None:
    """The image format the bytes really are (of those Bedrock takes), or None.

    ``imagesize`` reads the sizes but gives no format: the signatures are checked here.
    """
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def image_size(data: bytes) -> tuple[int, int]:
    """(width, height) from the image's header; -1 each when ``imagesize`` cannot tell.

    The bytes go in a BytesIO: ``imagesize.get`` takes plain bytes for a file path.
    """
    width, height = imagesize.get(io.BytesIO(data))
    return int(width), int(height)


def _inflated_streams(data: bytes) -> list[bytes]:
    """The PDF's streams that inflate (FlateDecode), within a budget."""
    out: list[bytes] = []
    budget = _INFLATE_BUDGET
    for match in _PDF_STREAM.finditer(data):
        if budget <= 0:
            break
        inflater = zlib.decompressobj()
        try:
            inflated = inflater.decompress(match.group(1), budget)
        except zlib.error:
            continue
        budget -= len(inflated)
        out.append(inflated)
    return out


def _unescape(literal: bytes) -> bytes:
    def one(match: re.Match[bytes]) -> bytes:
        code = match.group(1)
        if code[:1].isdigit():
            return bytes([int(code, 8) & 0xFF])
        return _PDF_ESCAPES.get(code, code if code not in (b"\n", b"\r") else b"")

    return _PDF_ESCAPE.sub(one, literal)


def pdf_pages_and_text(data: bytes) -> tuple[int, str]:
    """How many pages a PDF has (``/Type /Page`` objects, not ``/Pages``) and the text its
    content streams show (literal strings inside BT ... ET), both roughly."""
    streams = _inflated_streams(data)
    pages = len(_PDF_PAGE.findall(data)) + sum(len(_PDF_PAGE.findall(s)) for s in streams)
    shown: list[str] = []
    for content in [data, *streams]:
        for text_object in _PDF_TEXT_OBJECT.finditer(content):
            for literal in _PDF_STRING.findall(text_object.group(1)):
                shown.append(_unescape(literal).decode("latin-1"))
    return pages, " ".join(" ".join(shown).split())


def _measure(attachment: Attachment) -> Attachment:
    if attachment.kind == IMAGE:
        attachment.width, attachment.height = image_size(attachment.data)
    elif attachment.format == "pdf":
        attachment.pages, attachment.text = pdf_pages_and_text(attachment.data)
    elif attachment.format in _TEXT_FORMATS:
        attachment.text = attachment.data.decode("utf-8", errors="replace")
    return attachment


# ---------------------------------------------------------------------------------------------
# Messages API (InvokeModel, Anthropic body)

_IMAGE_KEYS = {"type", "source", "cache_control"}
_DOCUMENT_KEYS = {"type", "source", "title", "context", "citations", "cache_control"}
_SOURCE_KEYS = ("type", "media_type", "data")  # all required, checked in this order


def _enum(value: object, allowed: tuple[str, ...], pointer: str) -> None:
    if value not in allowed:
        raise malformed(f"{pointer}: {value} is not a valid enum value")


def _object(value: object, pointer: str) -> dict:
    if not isinstance(value, dict):
        raise malformed(f"{pointer}: expected type: JSONObject, found: {json_type(value)}")
    return value


def _string(value: object, pointer: str) -> str:
    if not isinstance(value, str):
        raise malformed(f"{pointer}: expected type: String, found: {json_type(value)}")
    return value


def _keys(block: dict, allowed: Collection[str], required: Iterable[str], pointer: str) -> None:
    for key in block:
        if key not in allowed:
            raise malformed(f"{pointer}: extraneous key [{key}] is not permitted")
    for key in required:
        if key not in block:
            raise malformed(f"{pointer}: required key [{key}] not found")


def messages_block(model: ModelInfo, block: dict, i: int, j: int) -> Attachment:
    """An ``image`` or ``document`` block of the Messages API, checked as it is read."""
    pointer = f"#/messages/{i}/content/{j}"
    at = f"messages.{i}.content.{j}"
    kind = block["type"]
    if kind == IMAGE:
        _keys(block, _IMAGE_KEYS, ("source",), pointer)
        source = _object(block["source"], f"{pointer}/source")
        _keys(source, _SOURCE_KEYS, _SOURCE_KEYS, f"{pointer}/source")
        _enum(source["type"], ("base64",), f"{pointer}/source/type")
        _enum(source["media_type"], tuple(IMAGE_MEDIA_TYPES), f"{pointer}/source/media_type")
        encoded = _string(source["data"], f"{pointer}/source/data")
        if not model.images:
            raise validation(errors.IMAGE_INPUT_UNSUPPORTED.format(name=model.anthropic_name))
        data = signing.decode_base64(encoded)
        if data is None:
            raise validation(errors.CLAUDE_BAD_BASE64.format(at=f"{at}.image.source.base64.data"))
        return _measure(Attachment(IMAGE, IMAGE_MEDIA_TYPES[source["media_type"]], data, at))

    _keys(block, _DOCUMENT_KEYS, ("source",), pointer)
    title = block.get("title")
    if title is not None:
        _string(title, f"{pointer}/title")
    source = _object(block["source"], f"{pointer}/source")
    _keys(source, _SOURCE_KEYS, _SOURCE_KEYS, f"{pointer}/source")
    _enum(source["type"], ("base64", "text"), f"{pointer}/source/type")
    media = "application/pdf" if source["type"] == "base64" else "text/plain"
    _enum(source["media_type"], (media,), f"{pointer}/source/media_type")
    encoded = _string(source["data"], f"{pointer}/source/data")
    if not model.documents:
        pdf = media == "application/pdf"
        words = errors.PDF_INPUT_UNSUPPORTED if pdf else errors.DOCUMENT_INPUT_UNSUPPORTED
        raise validation(words.format(name=model.anthropic_name))
    if source["type"] == "text":
        data = encoded.encode("utf-8")
        fmt = "txt"
    else:
        decoded = signing.decode_base64(encoded)
        if decoded is None:
            raise validation(
                errors.CLAUDE_BAD_BASE64.format(at=f"{at}.document.source.base64.data")
            )
        data, fmt = decoded, "pdf"
    if len(data) > DOCUMENT_MAX_BYTES:
        raise validation(errors.DOCUMENT_TOO_BIG)
    if fmt == "pdf" and not data.startswith(b"%PDF-"):
        raise validation(errors.CLAUDE_BAD_PDF.format(at=f"{at}.document.source.base64.data"))
    return _measure(Attachment(DOCUMENT, fmt, data, at, name=title or ""))


def check_messages_request(found: list[Attachment]) -> None:
    """The request's images and documents together (after every block was read)."""
    _check_document_count(found)
    _check_image_count(found, claude=True, converse=False)
    for attachment in found:
        if attachment.kind == IMAGE:
            _check_claude_image(attachment, converse=False)


# ---------------------------------------------------------------------------------------------
# Converse (and Nova's InvokeModel body, which has Converse's blocks)


def _coral(value: object, at: str, constraint: str) -> ApiError:
    """A request-shape error in the words of AWS's front end (list members numbered from 1)."""
    shown = "null" if value is None else f"'{value}'"
    return validation(
        f"1 validation error detected: Value {shown} at '{at}' failed to satisfy constraint: "
        f"{constraint}"
    )


def converse_block(
    model: ModelInfo, kind: str, value: object, i: int, j: int, claude_j: int
) -> Attachment:
    """A Converse ``image`` or ``document`` block, checked as it is read.

    ``j`` numbers the block among the message's content as sent, ``claude_j`` as Claude sees
    it (cache points are not blocks there).
    """
    if kind == IMAGE and not model.images:
        raise validation(errors.IMAGE_BLOCK_UNSUPPORTED)
    if kind == DOCUMENT and not model.documents:
        raise validation(errors.DOCUMENT_BLOCK_UNSUPPORTED)
    member = f"messages.{i + 1}.member.content.{j + 1}.member.{kind}"
    if not isinstance(value, dict):
        raise validation(f"The ContentBlock object at messages.{i}.content.{j} is invalid.")
    allowed = IMAGE_FORMATS if kind == IMAGE else DOCUMENT_FORMATS
    fmt = value.get("format")
    if fmt is None and kind == IMAGE:
        raise _coral(None, f"{member}.format", "Member must not be null")
    if fmt is not None and fmt not in allowed:
        raise _coral(
            fmt, f"{member}.format", f"Member must satisfy enum value set: [{', '.join(allowed)}]"
        )
    name = ""
    if kind == DOCUMENT:
        name = value.get("name")
        if not isinstance(name, str):
            raise _coral(None, f"{member}.name", "Member must not be null")
        if not 1 <= len(name) <= DOCUMENT_NAME_MAX:
            bound = "greater than or equal to 1" if not name else "less than or equal to 200"
            raise _coral(name, f"{member}.name", f"Member must have length {bound}")
        if not _NAME.fullmatch(name) or _TWO_SPACES.search(name):
            raise validation(errors.DOCUMENT_NAME)
    source = value.get("source")
    if not isinstance(source, dict) or "bytes" not in source:
        what = "source" if not isinstance(source, dict) else "source.bytes"
        raise _coral(None, f"{member}.{what}", "Member must not be null")
    encoded = source["bytes"]
    data = signing.decode_base64(encoded) if isinstance(encoded, str) else None
    if data is None:
        raise validation(
            errors.BLOB_NOT_BASE64.format(at=f"messages.{i}.content.{j}.{kind}.source.bytes")
        )
    if not data:
        at_least_one = "Member must have length greater than or equal to 1"
        raise _coral("", f"{member}.source.bytes", at_least_one)
    if kind == DOCUMENT:
        if len(data) > DOCUMENT_MAX_BYTES:
            raise validation(errors.DOCUMENT_TOO_BIG)
        fmt = fmt or ("pdf" if data.startswith(b"%PDF-") else "txt")
    return _measure(Attachment(kind, str(fmt), data, f"messages.{i}.content.{claude_j}", name))


def check_converse_request(model: ModelInfo, found: list[Attachment]) -> None:
    """The request's images and documents together: Bedrock's checks, then the model's."""
    _check_document_count(found)
    names = [a.name for a in found if a.kind == DOCUMENT]
    if len(set(names)) < len(names):
        raise validation(errors.DUPLICATE_DOCUMENT_NAMES)
    claude = model.family == catalog.ANTHROPIC
    _check_image_count(found, claude=claude, converse=True)
    for attachment in found:
        if attachment.kind != IMAGE:
            continue
        if claude:
            _check_claude_image(attachment, converse=True)
        else:
            _check_image(attachment)


# ---------------------------------------------------------------------------------------------
# Shared


def _check_document_count(found: list[Attachment]) -> None:
    if sum(1 for a in found if a.kind == DOCUMENT) > MAX_DOCUMENTS:
        raise validation(errors.TOO_MANY_DOCUMENTS)


def _check_image_count(found: list[Attachment], *, claude: bool, converse: bool) -> None:
    if sum(1 for a in found if a.kind == IMAGE) > MAX_IMAGES:
        if not claude:
            raise validation(errors.TOO_MANY_IMAGES)
        prefix = errors.MODEL_ERRORS if converse else ""
        raise validation(prefix + errors.CLAUDE_TOO_MANY_IMAGES)


def _encoded_size(size: int) -> int:
    return 4 * math.ceil(size / 3)


def _check_claude_image(image: Attachment, *, converse: bool) -> None:
    """What Claude checks of an image: its size, that it is what it says, its dimensions."""
    prefix = errors.MODEL_ERRORS if converse else ""
    at = f"{image.at}.image.source." + ("bytes" if converse else "base64")
    if image.size > IMAGE_MAX_BYTES:
        size = _encoded_size(image.size)
        raise validation(prefix + errors.CLAUDE_IMAGE_TOO_BIG.format(at=at, size=size))
    actual = sniff_image(image.data)
    if actual is None or image.width <= 0 or image.height <= 0:
        raise validation(prefix + errors.CLAUDE_IMAGE_UNREADABLE)
    if actual != image.format:
        raise validation(
            prefix
            + errors.CLAUDE_IMAGE_MISMATCH.format(
                at=at, declared=f"image/{image.format}", actual=f"image/{actual}"
            )
        )
    if max(image.width, image.height) > IMAGE_MAX_SIDE:
        where = at if converse else f"{at}.data"
        raise validation(prefix + errors.CLAUDE_IMAGE_TOO_WIDE.format(at=where))


def _check_image(image: Attachment) -> None:
    """Another model's image on Converse."""
    if image.size > IMAGE_MAX_BYTES:
        raise validation(errors.IMAGE_TOO_BIG)
    actual = sniff_image(image.data)
    if actual != image.format or image.width <= 0 or image.height <= 0:
        raise validation(errors.MODEL_ERRORS + errors.IMAGE_MISMATCH)
    if max(image.width, image.height) > IMAGE_MAX_SIDE:
        raise validation(errors.IMAGE_TOO_WIDE)
