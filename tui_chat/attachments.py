"""Files attached to a prompt: what they are, Bedrock's limits, and how each is sent.

Images (PNG, JPEG, GIF, WebP) go as image blocks; the documents Bedrock takes (PDF, CSV, DOC,
DOCX, XLS, XLSX, HTML, TXT, MD) as document blocks; any other text file (source code, logs,
JSON, YAML...) as text in the prompt, fenced, under its name. Everything is checked before
anything is sent, and a problem is an AttachmentError naming the file and the limit.

Bedrock's limits (bedrock/catalog.toml cites the pages): in one request at most 20 images, each
at most 3.75 MB and 8,000 px a side, and at most 5 documents, each at most 4.5 MB; a document's
name holds only letters, digits, single spaces, hyphens, parentheses and square brackets.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

from tui_chat.files import Unreadable, decode_utf8, read_regular
from tui_chat.params import ParamError

IMAGE = "image"
DOCUMENT = "document"
TEXT = "text"

MB = 1024 * 1024
IMAGE_MAX_BYTES = int(3.75 * MB)
IMAGE_MAX_SIDE = 8000
MAX_IMAGES = 20
DOCUMENT_MAX_BYTES = int(4.5 * MB)
MAX_DOCUMENTS = 5
#: A text file is sent in the prompt itself: more than this is not a prompt any more.
TEXT_MAX_BYTES = 1 * MB
DOCUMENT_NAME_MAX = 200

#: Suffix -> (kind, the Converse API's format, media type).
TYPES: dict[str, tuple[str, str, str]] = {
    ".png": (IMAGE, "png", "image/png"),
    ".jpg": (IMAGE, "jpeg", "image/jpeg"),
    ".jpeg": (IMAGE, "jpeg", "image/jpeg"),
    ".gif": (IMAGE, "gif", "image/gif"),
    ".webp": (IMAGE, "webp", "image/webp"),
    ".pdf": (DOCUMENT, "pdf", "application/pdf"),
    ".csv": (DOCUMENT, "csv", "text/csv"),
    ".doc": (DOCUMENT, "doc", "application/msword"),
    ".docx": (
        DOCUMENT,
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ".xls": (DOCUMENT, "xls", "application/vnd.ms-excel"),
    ".xlsx": (
        DOCUMENT,
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ".html": (DOCUMENT, "html", "text/html"),
    ".htm": (DOCUMENT, "html", "text/html"),
    ".txt": (DOCUMENT, "txt", "text/plain"),
    ".md": (DOCUMENT, "md", "text/markdown"),
}
#: What `imagesize` calls each image format it reads.
_IMAGE_FORMATS = {"png": "PNG", "jpeg": "JPEG", "gif": "GIF", "webp": "WEBP"}
_NAME_CHARACTER = re.compile(r"[^A-Za-z0-9\s\-()\[\]]")


def _type(name: str) -> tuple[str, str, str]:
    """(kind, Converse format, media type) by a file's name; any other file is text."""
    return TYPES.get(Path(name).suffix.lower(), (TEXT, "", "text/plain"))


class AttachmentError(ParamError):
    """A file that cannot be attached, or attachments a request cannot carry; the message
    names the file and the limit. A ParamError, so a request that cannot be sent because of
    it is refused where any bad parameter is."""

    def __init__(self, message: str) -> None:
        ValueError.__init__(self, message)
        self.name, self.value, self.allowed = "attachments", None, message


@dataclass(frozen=True)
class Attachment:
    """A file attached to a prompt, as the session file records it; its bytes are kept next
    to the session file (`stored_name`, in `<id>.files/`)."""

    name: str
    media_type: str
    size: int
    sha256: str

    @property
    def kind(self) -> str:
        """IMAGE, DOCUMENT or TEXT, by the file's name (as it was checked when attached)."""
        return _type(self.name)[0]

    @property
    def format(self) -> str:
        """The Converse API's name for its format ("png", "pdf"...; "" for a text file)."""
        return _type(self.name)[1]

    @property
    def stored_name(self) -> str:
        """The stored copy's file name: its digest (so two files of one name do not clash)
        and a name safe in any folder."""
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", self.name).strip("._") or "file"
        return f"{self.sha256[:16]}-{safe[:80]}"

    @property
    def document_name(self) -> str:
        """The name Bedrock is given for a document, from the file's name: characters it does
        not allow become spaces, runs of spaces one."""
        stem = Path(self.name).stem or self.name
        name = " ".join(_NAME_CHARACTER.sub(" ", stem).split())
        return name[:DOCUMENT_NAME_MAX].strip() or "document"

    def read_by(self, model) -> bool:
        """Whether a model (a catalog ModelInfo, with its `images` and `documents`) reads this
        file; a text file goes in the prompt, which every model reads."""
        return {IMAGE: model.images, DOCUMENT: model.documents}.get(self.kind, True)

    def describe(self) -> str:
        """'notes.md · Markdown · 12 KB' (for chips and messages)."""
        kind = self.format.upper() if self.format else "text"
        return f"{self.name} · {kind} · {size_words(self.size)}"


def size_words(size: int) -> str:
    if size >= MB:
        return f"{size / MB:.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} bytes"


def read(path: str | Path, base: Path | None = None) -> tuple[Attachment, bytes]:
    """The file at `path` (`~` expanded, relative to `base`, a symbolic link followed), checked
    against Bedrock's limits for its kind. AttachmentError says what is wrong with which file."""
    given = Path(path).expanduser()
    full = given if given.is_absolute() or base is None else base / given
    shown = str(path)
    try:
        target = full.resolve(strict=True)
    except FileNotFoundError:
        raise AttachmentError(f"{shown}: no such file") from None
    except (OSError, RuntimeError) as error:
        raise AttachmentError(f"{shown}: cannot be read ({error})") from None
    kind, fmt, media_type = _type(target.name)
    limit = {IMAGE: IMAGE_MAX_BYTES, DOCUMENT: DOCUMENT_MAX_BYTES}.get(kind, TEXT_MAX_BYTES)
    if target.is_file() and (size := target.stat().st_size) > limit:
        what = {IMAGE: "an image", DOCUMENT: "a document"}.get(kind, "a text file")
        raise AttachmentError(
            f"{shown} is {size_words(size)}; Bedrock takes {what} of at most {size_words(limit)}"
        )
    try:
        data, _ = read_regular(target, max_bytes=limit, kind="file")
        if kind == TEXT:
            decode_utf8(data, "UTF-8")
    except Unreadable as error:
        reason = error.reason
        if kind == TEXT and ("binary" in reason or "UTF-8" in reason):
            known = ", ".join(sorted({s.lstrip(".") for s in TYPES}))
            reason = f"{reason}: attach images and documents ({known}) or UTF-8 text files"
        raise AttachmentError(f"{shown} {reason}") from None
    if kind == IMAGE:
        _check_image(shown, data, fmt)
    digest = hashlib.sha256(data).hexdigest()
    return Attachment(target.name, media_type, len(data), digest), data


def _check_image(shown: str, data: bytes, fmt: str) -> None:
    width, height = image_size(data)
    if _image_format(data) != fmt or width <= 0 or height <= 0:
        raise AttachmentError(f"{shown} is not a {fmt.upper()} image its name says it is")
    if max(width, height) > IMAGE_MAX_SIDE:
        raise AttachmentError(
            f"{shown} is {width}x{height} px; Bedrock takes images of at most "
            f"{IMAGE_MAX_SIDE:,} px a side"
        )


def image_size(data: bytes) -> tuple[int, int]:
    """(width, height) of an image's bytes; (-1, -1) when they are not one."""
    import imagesize

    width, height = imagesize.get(io.BytesIO(data))
    return int(width), int(height)


def _image_format(data: bytes) -> str:
    """The image format the bytes start with ("" when none of those Bedrock takes)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return ""


def check_request(attachments: list[Attachment]) -> None:
    """The attachments one request carries, against Bedrock's counts per request."""
    images = sum(1 for a in attachments if a.kind == IMAGE)
    documents = sum(1 for a in attachments if a.kind == DOCUMENT)
    if images > MAX_IMAGES:
        raise AttachmentError(
            f"{images} images attached; Bedrock takes at most {MAX_IMAGES} in one request"
        )
    if documents > MAX_DOCUMENTS:
        raise AttachmentError(
            f"{documents} documents attached; Bedrock takes at most {MAX_DOCUMENTS} in one request"
        )


def fenced(attachment: Attachment, data: bytes) -> str:
    """A text file as it goes into the prompt: its name, then its text in a fence longer than
    any run of backticks inside it."""
    text = data.decode("utf-8", errors="replace")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    language = Path(attachment.name).suffix.lstrip(".")
    return f"{attachment.name}:\n{fence}{language}\n{text.rstrip(chr(10))}\n{fence}"
