"""What a downloaded attachment or picture is, judged by its bytes rather than by what
Meta or the customer said; the name it is served under; and a thumbnail for images.

Padu keeps images (verified by Pillow), video, audio, PDF, office documents and plain
text. Anything that could run or render active content is refused: programs (Windows,
Linux, macOS, Android, Java), scripts, HTML, XML and SVG, macro-enabled office documents
and other archives. The extension a file is served with comes from what it was found to
be, so a program renamed `photo.jpg`, or a script sent as `notes.txt`, is never handed
out under a name that would run it.
"""

from __future__ import annotations

import io
import re
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass
from typing import BinaryIO

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

HEAD_BYTES = 8192
THUMBNAIL_QUALITY = 80


@dataclass(frozen=True)
class FileType:
    mime_type: str
    extension: str
    family: str  # image | video | audio | document


class Refused(Exception):
    """The file is not kept; the message says why, in words staff can read."""


IMAGE_FORMATS = {
    "JPEG": FileType("image/jpeg", "jpg", "image"),
    "PNG": FileType("image/png", "png", "image"),
    "GIF": FileType("image/gif", "gif", "image"),
    "WEBP": FileType("image/webp", "webp", "image"),
}
# What runs: Windows programs (MZ), ELF, Mach-O, Java classes and fat binaries, Android's
# dex. `#!` starts a script, except the AMR voice format's own `#!AMR`.
PROGRAM_MAGIC = (
    b"MZ",
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
    b"dex\n",
)
MARKUP = re.compile(rb"<\s*(?:!doctype|html|head|body|script|svg|iframe|\?xml|object|embed)", re.I)
OFFICE = {
    "word/document.xml": FileType(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "docx",
        "document",
    ),
    "xl/workbook.xml": FileType(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx", "document"
    ),
    "ppt/presentation.xml": FileType(
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "pptx",
        "document",
    ),
}
OPEN_DOCUMENT = {
    b"application/vnd.oasis.opendocument.text": "odt",
    b"application/vnd.oasis.opendocument.spreadsheet": "ods",
    b"application/vnd.oasis.opendocument.presentation": "odp",
}
# Legacy office files share one container format (which installers use too): they are
# kept under the office type they were sent as, with that type's extension.
LEGACY_OFFICE = {
    "application/msword": "doc",
    "application/vnd.ms-excel": "xls",
    "application/vnd.ms-powerpoint": "ppt",
}
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Bytes plain text does not contain (tabs, line and page breaks aside).
CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def _refused_as_active() -> Refused:
    return Refused(_("Padu does not keep programs, scripts, web pages or SVG images."))


def _refused_as_unknown() -> Refused:
    return Refused(
        _(
            "Padu keeps images, videos, audio, PDF and office documents and plain text; "
            "this file is none of them."
        )
    )


def identify(file: BinaryIO, *, declared_type: str = "") -> FileType:
    """What `file` is, by its content, or Refused with the reason it is not kept.
    `declared_type` (what Meta said) only tells legacy office formats apart."""
    file.seek(0)
    head = file.read(HEAD_BYTES)
    if not head:
        raise Refused(_("The file is empty."))
    if head.startswith(b"#!AMR"):
        return FileType("audio/amr", "amr", "audio")
    if head.startswith((*PROGRAM_MAGIC, b"#!")):
        raise _refused_as_active()
    found = _media_type(head) or _document_type(file, head, declared_type)
    if found is None:
        raise _refused_as_unknown()
    if found.family == "image":
        _verify_image(file, found)
    return found


def _media_type(head: bytes) -> FileType | None:
    """Images, video and audio, by their signatures."""
    if head.startswith(b"\xff\xd8\xff"):
        return IMAGE_FORMATS["JPEG"]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return IMAGE_FORMATS["PNG"]
    if head.startswith((b"GIF87a", b"GIF89a")):
        return IMAGE_FORMATS["GIF"]
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return IMAGE_FORMATS["WEBP"]
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return FileType("audio/wav", "wav", "audio")
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand.startswith((b"M4A", b"M4B")):
            return FileType("audio/mp4", "m4a", "audio")
        if brand.startswith(b"3g"):
            return FileType("video/3gpp", "3gp", "video")
        if brand == b"qt  ":
            return FileType("video/quicktime", "mov", "video")
        return FileType("video/mp4", "mp4", "video")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        if b"webm" in head[:64]:
            return FileType("video/webm", "webm", "video")
        return FileType("video/x-matroska", "mkv", "video")
    if head.startswith(b"OggS"):
        return FileType("audio/ogg", "ogg", "audio")
    if head.startswith(b"fLaC"):
        return FileType("audio/flac", "flac", "audio")
    if len(head) > 1 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:
        return FileType("audio/aac", "aac", "audio")
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return FileType("audio/mpeg", "mp3", "audio")
    return None


def _document_type(file: BinaryIO, head: bytes, declared_type: str) -> FileType | None:
    if head.startswith(b"%PDF-"):
        return FileType("application/pdf", "pdf", "document")
    if head.startswith(b"PK\x03\x04"):
        return _zipped_type(file)
    if head.startswith(OLE_MAGIC):
        declared = declared_type.split(";")[0].strip().lower()
        if declared in LEGACY_OFFICE:
            return FileType(declared, LEGACY_OFFICE[declared], "document")
        return None
    return _text_type(head, declared_type)


def _zipped_type(file: BinaryIO) -> FileType | None:
    """Office Open XML and OpenDocument files (zip archives inside); macro-enabled ones
    and other archives are refused."""
    file.seek(0)
    try:
        with zipfile.ZipFile(file) as archive:
            names = set(archive.namelist())
            if any(name.lower().endswith("vbaproject.bin") for name in names):
                raise Refused(_("Padu does not keep office documents with macros."))
            for member, found in OFFICE.items():
                if member in names:
                    return found
            if "mimetype" in names:
                with archive.open("mimetype") as member:
                    kind = member.read(100).strip()
                if kind in OPEN_DOCUMENT:
                    return FileType(kind.decode(), OPEN_DOCUMENT[kind], "document")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError):
        return None
    raise Refused(_("Padu does not keep archives."))


def _text_type(head: bytes, declared_type: str) -> FileType | None:
    """Plain text (UTF-8 without control bytes); markup of any kind is refused."""
    text = head.removeprefix(b"\xef\xbb\xbf")
    try:
        # The head may end inside a character; what precedes it must decode.
        text.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(text) - 3:
            return None
    if CONTROL_BYTES.search(text):
        return None
    if MARKUP.search(text) or text.lstrip().startswith(b"<"):
        raise _refused_as_active()
    if declared_type.split(";")[0].strip().lower() == "text/csv":
        return FileType("text/csv", "csv", "document")
    return FileType("text/plain", "txt", "document")


def _verify_image(file: BinaryIO, found: FileType) -> None:
    """Pillow reads the image as the format its signature says, within the pixel limit."""
    file.seek(0)
    image_format = next(name for name, value in IMAGE_FORMATS.items() if value == found)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(file, formats=[image_format]) as image:
                if image.width * image.height > settings.MEDIA_MAX_IMAGE_PIXELS:
                    raise _refused_as_too_many_pixels()
                image.verify()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _refused_as_too_many_pixels() from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
            raise Refused(_("The image cannot be read; it may be damaged.")) from None


def _refused_as_too_many_pixels() -> Refused:
    return Refused(
        _("The image has more than %(pixels)s pixels.")
        % {"pixels": f"{settings.MEDIA_MAX_IMAGE_PIXELS:,}"}
    )


def thumbnail(file: BinaryIO, *, size: int = 0, square: bool = False) -> bytes:
    """A JPEG of an image `identify` accepted (the first frame of an animation), turned
    upright: no larger than `size` (MEDIA_THUMBNAIL_PIXELS unless told) on its longest
    side, or, `square`, its middle cut to a square `size` pixels wide."""
    size = size or settings.MEDIA_THUMBNAIL_PIXELS
    file.seek(0)
    try:
        with Image.open(file) as image:
            image.draft("RGB", (size * 2, size * 2))
            upright = ImageOps.exif_transpose(image)
            if square:
                upright = ImageOps.fit(upright, (size, size))
            else:
                upright.thumbnail((size, size))
            if upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info:
                rgba = upright.convert("RGBA")
                flat = Image.new("RGB", rgba.size, "white")
                flat.paste(rgba, mask=rgba.getchannel("A"))
                upright = flat
            output = io.BytesIO()
            upright.convert("RGB").save(output, "JPEG", quality=THUMBNAIL_QUALITY, optimize=True)
    except (OSError, SyntaxError, ValueError, EOFError):
        raise Refused(_("The image cannot be read; it may be damaged.")) from None
    return output.getvalue()


def display_name(name: str, *, extension: str, default: str) -> str:
    """The name a file is shown and served under: the last part of `name` (what Meta or
    the customer called it) without control characters, path separators or characters
    that upset file systems, and the extension of what the file really is."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        " " if unicodedata.category(char).startswith(("C", "Z")) else char
        for char in name
        if char not in '<>:"|?*'
    )
    stem = name.rsplit(".", 1)[0] if "." in name.strip(".") else name
    stem = " ".join(stem.split()).strip(" .-")[:100] or default
    return f"{stem}.{extension}"
