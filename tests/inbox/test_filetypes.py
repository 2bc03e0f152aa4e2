"""What a downloaded file is, by its bytes: what Padu keeps, what it refuses, and the name
a kept file is served under."""

from __future__ import annotations

import io
import zipfile

import pytest
from PIL import Image

from inbox import filetypes
from tests.inbox.factories import png

ACTIVE = "Padu does not keep programs, scripts, web pages or SVG images."


def identify(content: bytes, declared_type: str = "") -> filetypes.FileType:
    return filetypes.identify(io.BytesIO(content), declared_type=declared_type)


def image(image_format: str, size=(30, 20), mode="RGB") -> bytes:
    output = io.BytesIO()
    Image.new(mode, size, "orange").save(output, image_format)
    return output.getvalue()


def zipped(*names: str, mimetype: bytes = b"") -> bytes:
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as archive:
        if mimetype:
            archive.writestr("mimetype", mimetype)
        for name in names:
            archive.writestr(name, "<x/>")
    return output.getvalue()


@pytest.mark.parametrize(
    ("content", "declared", "mime_type", "extension"),
    [
        (image("JPEG"), "image/png", "image/jpeg", "jpg"),
        (image("PNG"), "", "image/png", "png"),
        (image("GIF"), "", "image/gif", "gif"),
        (image("WEBP"), "image/webp", "image/webp", "webp"),
        (b"\x00\x00\x00\x18ftypmp42" + bytes(20), "video/mp4", "video/mp4", "mp4"),
        (b"\x00\x00\x00\x14ftyp3gp4" + bytes(20), "", "video/3gpp", "3gp"),
        (b"\x00\x00\x00\x20ftypM4A " + bytes(20), "", "audio/mp4", "m4a"),
        (b"OggS\x00\x02" + bytes(30), "audio/ogg; codecs=opus", "audio/ogg", "ogg"),
        (b"ID3\x03\x00" + bytes(30), "", "audio/mpeg", "mp3"),
        (b"\xff\xf1\x50\x80" + bytes(30), "", "audio/aac", "aac"),
        (b"#!AMR\n" + bytes(30), "audio/amr", "audio/amr", "amr"),
        (b"%PDF-1.7\n...", "application/octet-stream", "application/pdf", "pdf"),
        (
            zipped("[Content_Types].xml", "word/document.xml"),
            "",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "docx",
        ),
        (
            zipped("xl/workbook.xml"),
            "",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        (
            zipped("content.xml", mimetype=b"application/vnd.oasis.opendocument.text"),
            "",
            "application/vnd.oasis.opendocument.text",
            "odt",
        ),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(50),
            "application/msword",
            "application/msword",
            "doc",
        ),
        ("Sipariş: 2 latte, 1 çay\n".encode(), "text/plain", "text/plain", "txt"),
        (b"name,qty\nlatte,2\n", "text/csv", "text/csv", "csv"),
    ],
)
def test_what_padu_keeps_is_told_by_the_content(content, declared, mime_type, extension):
    found = identify(content, declared)

    assert (found.mime_type, found.extension) == (mime_type, extension)


@pytest.mark.parametrize(
    ("content", "declared", "reason"),
    [
        (b"MZ\x90\x00" + bytes(60), "image/jpeg", ACTIVE),
        (b"\x7fELF\x02\x01\x01" + bytes(60), "", ACTIVE),
        (b"\xcf\xfa\xed\xfe" + bytes(60), "", ACTIVE),
        (b"\xca\xfe\xba\xbe" + bytes(60), "", ACTIVE),
        (b"dex\n035\x00" + bytes(60), "", ACTIVE),
        (b"#!/usr/bin/env python\nimport os\n", "text/plain", ACTIVE),
        (b"<!doctype html><p>hi", "text/plain", ACTIVE),
        (b"\xef\xbb\xbf  <HTML>", "text/html", ACTIVE),
        (b'<svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml", ACTIVE),
        (b'<?xml version="1.0"?><note/>', "application/xml", ACTIVE),
        (b"Dear shop, see <script>alert(1)</script>", "text/plain", ACTIVE),
        (
            zipped("word/document.xml", "word/vbaProject.bin"),
            "",
            "Padu does not keep office documents with macros.",
        ),
        (zipped("setup.exe"), "application/zip", "Padu does not keep archives."),
        (zipped("AndroidManifest.xml", "classes.dex"), "", "Padu does not keep archives."),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(50), "application/x-msi", None),
        (b"text\x00with\x01controls", "text/plain", None),
        (bytes(range(128, 256)) * 4, "application/octet-stream", None),
        (b"", "image/jpeg", "The file is empty."),
        (
            b"\x89PNG\r\n\x1a\n" + b"garbage" * 10,
            "image/png",
            "The image cannot be read; it may be damaged.",
        ),
    ],
)
def test_what_could_run_or_is_unknown_is_refused(content, declared, reason):
    with pytest.raises(filetypes.Refused) as refused:
        identify(content, declared)

    unknown = (
        "Padu keeps images, videos, audio, PDF and office documents and plain text; "
        "this file is none of them."
    )
    assert str(refused.value) == (reason or unknown)


def test_an_image_with_too_many_pixels_is_refused(settings):
    settings.MEDIA_MAX_IMAGE_PIXELS = 100

    with pytest.raises(filetypes.Refused) as refused:
        identify(png(20, 20))

    assert str(refused.value) == "The image has more than 100 pixels."


def test_a_thumbnail_is_an_upright_jpeg_no_larger_than_the_limit(settings):
    settings.MEDIA_THUMBNAIL_PIXELS = 50
    photo = Image.new("RGBA", (400, 100), (255, 0, 0, 0))
    exif = photo.getexif()
    exif[0x0112] = 6  # taken with the phone on its side: shown turned a quarter
    output = io.BytesIO()
    photo.convert("RGB").save(output, "JPEG", exif=exif)

    with Image.open(io.BytesIO(filetypes.thumbnail(output))) as thumbnail:
        assert (thumbnail.format, thumbnail.height) == ("JPEG", 50)
        assert thumbnail.width < 15  # upright: taller than wide


def test_a_transparent_image_gets_a_white_background():
    with Image.open(
        io.BytesIO(filetypes.thumbnail(io.BytesIO(image("PNG", mode="RGBA"))))
    ) as thumbnail:
        assert thumbnail.mode == "RGB"


@pytest.mark.parametrize(
    ("given", "served"),
    [
        ("Fatura Şubat.exe", "Fatura Şubat.pdf"),
        ("../../etc/passwd", "passwd.pdf"),
        ("C:\\Users\\ayşe\\rapor.docx", "rapor.pdf"),
        ('a"b<c>d|e?.pdf', "abcde.pdf"),
        ("line\r\nbreak\x00.pdf", "line break.pdf"),
        (".bashrc", "bashrc.pdf"),
        ("...", "document.pdf"),
        ("", "document.pdf"),
        ("x" * 300 + ".pdf", "x" * 100 + ".pdf"),
    ],
)
def test_a_kept_file_is_served_under_a_safe_name_with_its_true_extension(given, served):
    assert filetypes.display_name(given, extension="pdf", default="document") == served
