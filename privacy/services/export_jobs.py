"""Exports people download: asked for in the app, built by a worker into a ZIP kept with
the media for EXPORT_KEPT, then deleted. A full disk or any failure marks the export
failed with the reason, and it can be tried again."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from accounts.errors import RuleError
from accounts.models import Organization, User
from accounts.services import audit_record
from padu.mail import email_on_commit
from privacy import exports
from privacy.models import Export, ExportStatus

logger = logging.getLogger(__name__)

EXPORT_KEPT = timedelta(days=7)
# Longer than the task's time limit: an export claimed this long ago was cut off.
CLAIM_LASTS = timedelta(hours=2, minutes=5)


@transaction.atomic
def export_ask(
    *, user: User, organization: Organization | None, build: Callable[[int], None]
) -> Export:
    """Queue an export of the organisation (its owner asks) or of the user's own data;
    `build` hands it to a worker once this commits. One at a time per subject."""
    mine = Export.objects.select_for_update().filter(
        organization=organization,
        data_request__isnull=True,
        status__in=(ExportStatus.QUEUED, ExportStatus.RUNNING),
    )
    if organization is None:
        mine = mine.filter(requested_by=user)
    if mine.exists():
        raise RuleError(gettext_lazy("An export is already being prepared."))
    export = Export.objects.create(organization=organization, requested_by=user)
    audit_record(
        action="export.requested", organization=organization, actor=user, target=str(export)
    )
    transaction.on_commit(lambda: build(export.pk), robust=True)
    return export


@transaction.atomic
def export_retry(*, export: Export, build: Callable[[int], None]) -> None:
    """Ask again for an export that failed."""
    retried = Export.objects.filter(pk=export.pk, status=ExportStatus.FAILED).update(
        status=ExportStatus.QUEUED, reason="", progress=0, claimed_at=None
    )
    if retried:
        transaction.on_commit(lambda: build(export.pk), robust=True)


def _buildable() -> Q:
    """Queued, or cut off (or queued so long ago that its task was surely lost)."""
    stale = timezone.now() - CLAIM_LASTS
    return Q(status=ExportStatus.QUEUED, claimed_at__isnull=True) | Q(
        status__in=(ExportStatus.QUEUED, ExportStatus.RUNNING), claimed_at__lt=stale
    )


def exports_to_build() -> list[int]:
    """Exports a worker should take up: cut off, or queued for more than ten minutes."""
    waited = timezone.now() - timedelta(minutes=10)
    return list(
        Export.objects.filter(_buildable())
        .filter(Q(claimed_at__isnull=False) | Q(created_at__lt=waited))
        .values_list("pk", flat=True)
    )


def _claim(export_id: int) -> Export | None:
    with transaction.atomic():
        export = (
            Export.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(_buildable(), pk=export_id)
            .select_related("organization", "requested_by", "data_request")
            .first()
        )
        if export is not None:
            export.status, export.claimed_at = ExportStatus.RUNNING, timezone.now()
            export.save(update_fields=["status", "claimed_at"])
        return export


def _write(export: Export, out) -> None:
    def progress(done: int, total: int) -> None:
        Export.objects.filter(pk=export.pk).update(progress=100 * done // total)

    if export.data_request is not None:
        parts = exports.customer_parts(export.data_request.contacts.all())
        subject, kind = f"{export.organization.slug}: {export.data_request}", "customer"
    elif export.organization is not None:
        parts = exports.organization_parts(export.organization)
        subject, kind = export.organization.slug, "organization"
    else:
        parts = exports.user_parts(export.requested_by)
        subject, kind = export.requested_by.email, "user"
    exports.export_write(out, kind=kind, subject=subject, parts=parts, on_part=progress)


def _page(export: Export) -> str:
    if export.organization is not None:
        return reverse("organization_export", args=[export.organization.slug])
    return reverse("my_data")


def export_build(*, export_id: int) -> str:
    """Build a queued export (another worker's, or one cut off, is left alone or taken
    up); returns its new status, or "skipped"."""
    export = _claim(export_id)
    if export is None:
        return "skipped"
    work_dir = settings.EXPORTS_WORK_DIR
    work_dir.mkdir(parents=True, exist_ok=True)
    work_file = work_dir / f"{export.pk}.zip"
    try:
        with work_file.open("wb") as out:
            _write(export, out)
        with work_file.open("rb") as built:
            name = default_storage.save(
                f"exports/{secrets.token_urlsafe(18)}/padu-export-{export.pk}.zip", File(built)
            )
        export.size = work_file.stat().st_size
    except OSError as error:
        logger.error("Export %s failed: %s", export.pk, error.strerror)
        return _failed(export, error.strerror or type(error).__name__)
    except Exception as error:
        logger.error("Export %s failed: %s", export.pk, type(error).__name__)
        return _failed(export, type(error).__name__)
    finally:
        work_file.unlink(missing_ok=True)
    now = timezone.now()
    export.file.name, export.status, export.progress = name, ExportStatus.READY, 100
    export.finished_at, export.expires_at = now, now + EXPORT_KEPT
    recorded = Export.objects.filter(pk=export.pk, status=ExportStatus.RUNNING).update(
        file=name, size=export.size, status=ExportStatus.READY, progress=100,
        finished_at=now, expires_at=export.expires_at,
    )  # fmt: skip
    if not recorded:  # deleted meanwhile (its account or organisation with it)
        default_storage.delete(name)
        return "skipped"
    if export.requested_by is None:
        return ExportStatus.READY  # a customer's: their data request's outcome tells them
    email_on_commit(
        subject=gettext_lazy("Your Padu export is ready"),
        template="privacy/email/export_ready.txt",
        context={"export": export, "link": settings.SITE_URL + _page(export)},
        to=export.requested_by.email,
        language=export.requested_by.language,
    )
    return ExportStatus.READY


def _failed(export: Export, reason: str) -> str:
    export.status, export.reason = ExportStatus.FAILED, reason[:200]
    export.finished_at = timezone.now()
    export.save(update_fields=["status", "reason", "finished_at"])
    return ExportStatus.FAILED


def exports_purge(*, now: datetime | None = None) -> int:
    """Delete the files of exports past their expiry; returns how many."""
    expired = Export.objects.filter(status=ExportStatus.READY, expires_at__lt=now or timezone.now())
    count = 0
    for export in expired.iterator():
        default_storage.delete(export.file.name)
        export.file.name, export.status = "", ExportStatus.EXPIRED
        export.save(update_fields=["file", "status"])
        count += 1
    return count


CUSTOMER_LINK_SALT = "privacy.customer-export"


def customer_download_url(export: Export) -> str:
    """The link a customer downloads their export with, without an account: signed,
    and good for as long as the file is kept."""
    token = signing.dumps(export.pk, salt=CUSTOMER_LINK_SALT)
    return settings.SITE_URL + reverse("customer_export_download", args=[token])


def customer_export_for_token(token: str) -> Export | None:
    """The ready, unexpired customer export a link names; None for a forged, old or
    spent link."""
    try:
        export_id = signing.loads(token, salt=CUSTOMER_LINK_SALT, max_age=EXPORT_KEPT)
    except signing.BadSignature:
        return None
    return (
        Export.objects.filter(
            pk=export_id,
            data_request__isnull=False,
            status=ExportStatus.READY,
            expires_at__gt=timezone.now(),
        )
        .select_related("organization")
        .first()
    )
