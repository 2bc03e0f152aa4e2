"""What Padu does with the files it downloads from Meta, customers' attachments and
profile pictures alike: a spool to download into, why a refusal leaves the file out (in
words staff read), and keeping files through Django's storage API so that none is left
in storage that no row names.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from typing import IO

from django.core.files import File
from django.db.models.fields.files import FieldFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from channels_meta.graph.errors import GraphError, MediaTooLarge, TokenInvalid, UnsafeRequest


def spool() -> IO[bytes]:
    """A temporary file to download into, gone once closed."""
    return tempfile.TemporaryFile(prefix="padu-media-")


def refusal_reason(error: GraphError) -> str:
    """Why a download Meta, or Padu's Graph layer, refused leaves the file out."""
    if isinstance(error, MediaTooLarge):
        return _("The file is larger than the %(limit)s Padu keeps.") % {
            "limit": filesizeformat(error.limit)
        }
    if isinstance(error, UnsafeRequest):
        return _("Meta's link for the file is not on its media hosts, so Padu did not follow it.")
    if isinstance(error, TokenInvalid):
        return _("Meta refused the channel's token; reconnect the channel. (%(error)s)") % {
            "error": error
        }
    # A CDN link past its `oe`, or (subcode 33) a WhatsApp media id Meta no longer has.
    if error.status in (403, 404, 410) or error.subcode == 33:
        return _("Meta no longer has the file: its link expired or was removed.")
    return _("Meta refused the file: %(error)s") % {"error": error}


def files_delete(*stored: FieldFile) -> None:
    """Delete these files from their storage (not the rows naming them)."""
    for field_file in stored:
        if field_file.name:
            field_file.storage.delete(field_file.name)


def files_store(record: Callable[[], int], *files: tuple[FieldFile, str, File]) -> bool:
    """Save each (field, name, content) through its field's storage, then `record` them
    (an update that returns how many rows it changed). When it changes none (the row is
    no longer the caller's to change) or anything fails, the saved files are deleted
    again. Whether they were kept."""
    fields = [field_file for field_file, _name, _content in files]
    try:
        for field_file, name, content in files:
            field_file.save(name, content, save=False)
        recorded = record()
    except BaseException:
        files_delete(*fields)
        raise
    if not recorded:
        files_delete(*fields)
    return bool(recorded)
