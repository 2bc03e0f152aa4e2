"""What Padu does with the files it downloads from Meta, customers' attachments and
profile pictures alike: a spool to download into, why a refusal leaves the file out (in
words staff read), and keeping files through Django's storage API so that none is left
in storage that no row names.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Callable, Iterable
from typing import IO, TypeVar

from django.core.files import File
from django.db.models.fields.files import FieldFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from channels_meta.graph.errors import (
    GraphError,
    MediaTooLarge,
    RateLimited,
    TokenInvalid,
    TransientError,
    UnsafeRequest,
)

Item = TypeVar("Item")


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


def unreachable_reason(attempts: int, error: GraphError) -> str:
    """Why a file is given up on after Meta failed `attempts` times."""
    return _("Meta could not be reached after %(count)s tries: %(error)s") % {
        "count": attempts,
        "error": error,
    }


def each_fetched(fetch: Callable[[Item], str], items: Iterable[Item]) -> dict[str, int]:
    """`fetch` each item in turn; how many had each outcome. When Meta asks to slow
    down the rest waits; when it fails the others are still tried; either error is
    raised at the end, so that a retry fetches what is left."""
    outcomes: Counter[str] = Counter()
    retry: GraphError | None = None
    for item in items:
        try:
            outcomes[fetch(item)] += 1
        except RateLimited as error:
            retry = error
            break
        except TransientError as error:
            retry = retry or error
    if retry is not None:
        raise retry
    return dict(outcomes)


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
