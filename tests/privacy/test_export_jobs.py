"""Exports asked for in the app: a person's own data from their profile and an
organisation's from its settings (owners only), built by the worker, announced by
e-mail, downloadable for 7 days by whoever may, then deleted; a full disk fails the
export with the reason, and it can be tried again."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import timedelta

import pytest
from django.core import mail
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, Role
from privacy import tasks
from privacy.models import Export, ExportStatus
from privacy.services import export_jobs
from privacy.services.retention import platform_retention_enforce
from tests.channels_meta.factories import make_channel
from tests.conftest import make_member
from tests.inbox.factories import make_conversation, make_message
from tests.privacy.scan import stored_files


@pytest.fixture(autouse=True)
def _work_dir(settings, tmp_path):
    settings.EXPORTS_WORK_DIR = tmp_path / "exports"
    settings.SITE_URL = "https://padu.example"


def _zip(response) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_a_person_downloads_their_own_data_once_the_worker_has_prepared_it(
    client, world, celery_eager, committed
):
    client.force_login(world.agent.user)
    assert "Your data: download it" in client.get(reverse("profile")).text

    with committed():
        response = client.post(reverse("my_data"))

    assert response["Location"] == reverse("my_data")
    export = Export.objects.get()
    assert (export.status, export.progress, export.organization) == (ExportStatus.READY, 100, None)
    assert export.expires_at - export.finished_at == timedelta(days=7)
    assert mail.outbox[-1].to == ["agent@acme.example"]
    assert "https://padu.example/account/data/" in mail.outbox[-1].body
    page = client.get(reverse("my_data")).text
    download = reverse("my_data_download", args=[export.pk])
    assert download in page
    archive = _zip(client.get(download))
    assert json.loads(archive.read("profile.json"))[0]["email"] == "agent@acme.example"
    assert AuditEvent.objects.filter(action="export.downloaded", actor=world.agent.user).exists()
    client.force_login(world.owner.user)
    assert client.get(download).status_code == 404  # not theirs


def test_one_export_at_a_time(world):
    queued = export_jobs.export_ask(user=world.agent.user, organization=None, build=lambda _: None)

    with pytest.raises(Exception, match="already being prepared"):
        export_jobs.export_ask(user=world.agent.user, organization=None, build=lambda _: None)

    assert Export.objects.get() == queued
    other = export_jobs.export_ask(user=world.owner.user, organization=None, build=lambda _: None)
    assert other != queued


def test_an_owner_exports_the_organisation_and_admins_cannot(
    client, world, celery_eager, committed
):
    make_message(make_conversation(make_channel(world.org)), text="Kept by Acme")
    admin = make_member(world.org, "admin@acme.example", Role.ADMIN)
    client.force_login(admin.user)
    assert client.get(reverse("organization_export", args=["acme"])).status_code == 403
    assert client.post(reverse("organization_export", args=["acme"])).status_code == 403
    assert (
        "Export the organisation"
        not in client.get(reverse("organization_settings", args=["acme"])).text
    )
    client.force_login(world.owner.user)
    assert (
        "Export the organisation"
        in client.get(reverse("organization_settings", args=["acme"])).text
    )

    with committed():
        client.post(reverse("organization_export", args=["acme"]))

    export = Export.objects.get()
    assert (export.status, export.organization) == (ExportStatus.READY, world.org)
    assert "https://padu.example/o/acme/privacy/export/" in mail.outbox[-1].body
    download = reverse("organization_export_download", args=["acme", export.pk])
    archive = _zip(client.get(download))
    assert [row["text"] for row in json.loads(archive.read("messages.json"))] == ["Kept by Acme"]
    client.force_login(admin.user)
    assert client.get(download).status_code == 403


def test_a_full_disk_fails_the_export_with_the_reason_and_it_can_be_tried_again(
    client, world, settings, celery_eager, committed
):
    export = export_jobs.export_ask(user=world.agent.user, organization=None, build=lambda _: None)
    settings.EXPORTS_WORK_DIR.mkdir(parents=True)
    (settings.EXPORTS_WORK_DIR / f"{export.pk}.zip").symlink_to("/dev/full")
    files_before = stored_files()

    assert tasks.export_build.delay(export.pk).get() == ExportStatus.FAILED

    export.refresh_from_db()
    assert (export.status, export.reason, export.file.name) == (
        ExportStatus.FAILED,
        "No space left on device",
        "",
    )
    assert not (settings.EXPORTS_WORK_DIR / f"{export.pk}.zip").exists()
    assert stored_files() == files_before
    client.force_login(world.agent.user)
    page = client.get(reverse("my_data")).text
    assert "No space left on device" in page
    assert "Try again" in page

    with committed():
        client.post(reverse("my_data"), {"retry": str(export.pk)})

    export.refresh_from_db()
    assert (export.status, export.reason) == (ExportStatus.READY, "")


def test_a_retry_names_only_the_persons_own_exports(client, world):
    theirs = export_jobs.export_ask(user=world.owner.user, organization=None, build=lambda _: None)
    Export.objects.filter(pk=theirs.pk).update(status=ExportStatus.FAILED)
    client.force_login(world.agent.user)

    assert client.post(reverse("my_data"), {"retry": str(theirs.pk)}).status_code == 404
    assert client.post(reverse("my_data"), {"retry": "x"}).status_code == 404
    assert Export.objects.get(pk=theirs.pk).status == ExportStatus.FAILED


def test_an_expired_export_is_not_served_and_the_nightly_purge_deletes_its_file(
    client, world, celery_eager, committed
):
    client.force_login(world.agent.user)
    with committed():
        client.post(reverse("my_data"))
    export = Export.objects.get()
    name = export.file.name
    Export.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    assert client.get(reverse("my_data_download", args=[export.pk])).status_code == 404
    assert platform_retention_enforce()["export files"] == 1

    export.refresh_from_db()
    assert (export.status, export.file.name) == (ExportStatus.EXPIRED, "")
    assert not default_storage.exists(name)


def test_the_sweeper_takes_up_exports_whose_task_was_lost_or_cut_off(world):
    def asked(minutes: int, **fields) -> Export:
        export = Export.objects.create(requested_by=world.agent.user, **fields)
        Export.objects.filter(pk=export.pk).update(
            created_at=timezone.now() - timedelta(minutes=minutes)
        )
        return export

    lost = asked(11)
    cut_off = asked(
        200, status=ExportStatus.RUNNING, claimed_at=timezone.now() - timedelta(hours=3)
    )
    asked(1)  # its task is on its way
    asked(30, status=ExportStatus.RUNNING, claimed_at=timezone.now())  # being built

    assert sorted(export_jobs.exports_to_build()) == sorted([lost.pk, cut_off.pk])


def test_the_ready_e_mail_has_a_link_and_no_file(world, celery_eager, committed):
    with committed():
        export_jobs.export_ask(user=world.agent.user, organization=None, build=tasks.build_later)

    body = mail.outbox[-1].body
    assert re.findall(r"https://\S+", body) == ["https://padu.example/account/data/"]
    assert not mail.outbox[-1].attachments
