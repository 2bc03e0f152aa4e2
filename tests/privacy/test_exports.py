"""Exports as `manage.py export_data` writes them: an organisation's everything (its
stored files included, Meta's tokens never), a user's own data, every model and field
accounted for, and a full disk or an unknown name failing clearly."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from django.apps import apps
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import models

from accounts.models import AuditEvent, Organization
from channels_meta.models import ChannelKind
from inbox.models import Direction, Label, Note
from privacy import exports
from privacy.models import DataRequest
from tests.channels_meta.factories import make_channel
from tests.inbox.factories import give_avatar, make_attachment, make_conversation, make_message

TOKEN = "EAAG-test-token-0001"


@pytest.fixture
def held(world):
    """An organisation's conversation with a label, a photo, a picture, a note that
    mentions a member and a reply by its agent; another organisation's message."""
    channel = make_channel(world.org, kind=ChannelKind.INSTAGRAM, token=TOKEN)
    conversation = make_conversation(channel, name="Zeynep Kaya")
    give_avatar(conversation.contact)
    photo = make_attachment(make_message(conversation, text="Here is the receipt"))
    make_message(conversation, text="Thanks, on its way", direction=Direction.OUTBOUND,
                 author=world.agent.user)  # fmt: skip
    conversation.labels.add(Label.objects.create(organization=world.org, name="VIP"))
    note = Note.objects.create(
        organization=world.org, conversation=conversation, author=world.agent.user, text="Gold"
    )
    note.mentions.add(world.owner.user)
    AuditEvent.objects.create(organization=world.org, actor=world.owner.user, action="x.y")
    data_request = DataRequest.objects.create(
        organization=world.org, kind="objection", source="staff", status="completed"
    )
    data_request.contacts.add(conversation.contact)
    theirs = make_channel(world.other_org, external_id="2000002")
    make_message(make_conversation(theirs, name="Someone Else"), text="Not yours")
    return photo, conversation.contact


def _export(tmp_path: Path, **subject) -> zipfile.ZipFile:
    output = tmp_path / "export.zip"
    call_command("export_data", output=str(output), **subject)
    return zipfile.ZipFile(output)


def _rows(archive: zipfile.ZipFile, name: str) -> list[dict]:
    return json.loads(archive.read(name))


def test_an_organisations_export_holds_everything_it_keeps_and_no_token(world, held, tmp_path):
    photo, contact = held

    archive = _export(tmp_path, org="acme")

    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["format"] == 1
    assert (manifest["kind"], manifest["subject"]) == ("organization", "acme")
    assert manifest["files"]["messages.json"] == 2
    assert manifest["files"]["conversation_labels.json"] == 1
    assert manifest["stored_files"] == 3
    assert manifest["missing_files"] == []
    assert set(manifest["files"]) | {"manifest.json"} <= set(archive.namelist())
    texts = {row["text"] for row in _rows(archive, "messages.json")}
    assert texts == {"Here is the receipt", "Thanks, on its way"}
    rows = _rows(archive, "messages.json")
    reply = next(row for row in rows if row["direction"] == Direction.OUTBOUND)
    assert reply["author__email"] == "agent@acme.example"
    assert _rows(archive, "note_mentions.json") == [
        {"note_id": Note.objects.get().pk, "user__email": "owner@acme.example"}
    ]
    assert _rows(archive, "data_request_contacts.json")[0]["contact_id"] == contact.pk
    with default_storage.open(photo.file.name) as stored:
        assert archive.read(f"files/{photo.file.name}") == stored.read()
    assert f"files/{contact.avatar.name}" in archive.namelist()
    everything = b"".join(archive.read(name) for name in archive.namelist())
    assert TOKEN.encode() not in everything
    assert b"token_ciphertext" not in everything
    assert b"Not yours" not in everything
    assert b"Someone Else" not in everything


def _tenant_models() -> set[type[models.Model]]:
    return {
        model
        for model in apps.get_models()
        if any(
            isinstance(field, models.ForeignKey) and field.related_model is Organization
            for field in model._meta.concrete_fields
        )
    }


def _covered(field: models.Field, lookups: tuple[str, ...]) -> bool:
    """The export is the organisation's; a many-to-many row's own id means nothing."""
    if field.name == "organization" or (field.primary_key and field.model._meta.auto_created):
        return True
    return any(
        lookup in (field.name, field.attname) or lookup.startswith(f"{field.name}__")
        for lookup in lookups
    )


def test_every_model_and_field_of_an_organisation_is_exported_or_left_out_for_a_reason(world):
    parts = exports.organization_parts(world.org)
    exported = {part.model: part.fields for part in parts}
    through = {part.model for part in parts}
    omitted_models = {apps.get_model(label) for label in exports.ORGANIZATION_OMITTED_MODELS}

    assert _tenant_models() - {Organization} <= set(exported) | omitted_models
    for model, lookups in exported.items():
        left_out = exports.ORGANIZATION_OMITTED.get(model, {})
        missing = [
            field.name
            for field in model._meta.concrete_fields
            if not _covered(field, lookups) and field.name not in left_out
        ]
        assert missing == [], model
        for relation in model._meta.many_to_many:
            assert relation.remote_field.through in through or relation.name in left_out, (
                model,
                relation.name,
            )


def test_a_users_export_holds_their_account_and_what_they_wrote(world, held, tmp_path):
    archive = _export(tmp_path, user="agent@acme.example")

    manifest = json.loads(archive.read("manifest.json"))
    assert (manifest["kind"], manifest["subject"]) == ("user", "agent@acme.example")
    profile = _rows(archive, "profile.json")
    assert [row["email"] for row in profile] == ["agent@acme.example"]
    assert "password" not in profile[0]
    assert _rows(archive, "memberships.json")[0]["organization__slug"] == "acme"
    assert [row["text"] for row in _rows(archive, "messages_sent.json")] == ["Thanks, on its way"]
    assert [row["text"] for row in _rows(archive, "notes_written.json")] == ["Gold"]
    everything = b"".join(archive.read(name) for name in archive.namelist())
    assert b"Here is the receipt" not in everything  # the customer's, not the agent's
    assert world.agent.user.password.encode() not in everything


def test_a_full_disk_fails_with_a_clear_error(world, held):
    with pytest.raises(CommandError, match="No space left on device"):
        call_command("export_data", org="acme", output="/dev/full")
    assert Path("/dev/full").exists()


def test_an_export_that_cannot_be_written_says_why(world, held, tmp_path):
    output = tmp_path / "no such folder" / "export.zip"
    with pytest.raises(CommandError, match="No such file or directory"):
        call_command("export_data", org="acme", output=str(output))


def test_stored_files_gone_missing_are_listed_and_the_export_completes(world, held, tmp_path):
    photo, contact = held
    for name in (photo.file.name, photo.thumbnail.name, contact.avatar.name):
        default_storage.delete(name)
    output = tmp_path / "export.zip"

    call_command("export_data", org="acme", output=str(output))

    manifest = json.loads(zipfile.ZipFile(output).read("manifest.json"))
    assert manifest["stored_files"] == 0
    assert len(manifest["missing_files"]) == 3


def test_an_unknown_organisation_or_user_is_an_error(world, tmp_path):
    output = tmp_path / "export.zip"
    with pytest.raises(CommandError, match="No organisation has the slug 'nobody'"):
        call_command("export_data", org="nobody", output=str(output))
    with pytest.raises(CommandError, match="No account has that e-mail address"):
        call_command("export_data", user="nobody@example.com", output=str(output))
    assert not output.exists()
