"""Owners and admins keep the organisation's labels and saved replies."""

from __future__ import annotations

from django.urls import reverse

from inbox import live
from inbox.models import Label, SavedReply
from tests.channels_meta.factories import make_channel
from tests.inbox.factories import make_conversation


def library(world):
    return reverse("inbox_library", args=[world.org.slug])


def test_an_admin_adds_a_label_and_a_saved_reply(client, world):
    client.force_login(world.owner.user)

    client.post(library(world), {"label-name": "VIP", "label-colour": "purple"})
    client.post(library(world), {"saved-shortcut": "hours", "saved-text": "Hi {first_name}!"})

    assert list(Label.objects.for_org(world.org).values_list("name", "colour")) == [
        ("VIP", "purple")
    ]
    saved = SavedReply.objects.for_org(world.org).get()
    assert (saved.shortcut, saved.text, saved.created_by) == (
        "hours",
        "Hi {first_name}!",
        world.owner.user,
    )


def test_a_second_label_of_the_same_name_is_refused_in_words(client, world):
    client.force_login(world.owner.user)
    Label.objects.create(organization=world.org, name="VIP")

    page = client.post(library(world), {"label-name": "VIP", "label-colour": "red"}, follow=True)

    assert "There is already a label with that name." in page.content.decode()
    assert Label.objects.for_org(world.org).count() == 1


def test_the_same_label_name_is_free_in_another_organisation(client, world):
    Label.objects.create(organization=world.other_org, name="VIP")
    client.force_login(world.owner.user)

    client.post(library(world), {"label-name": "VIP", "label-colour": "red"})

    assert Label.objects.for_org(world.org).count() == 1


def test_agents_see_the_library_but_change_nothing(client, world):
    client.force_login(world.agent.user)

    page = client.get(library(world))
    refused = client.post(library(world), {"label-name": "VIP", "label-colour": "red"})

    assert page.status_code == 200
    assert "Owners and admins manage labels" in page.content.decode()
    assert refused.status_code == 403
    assert not Label.objects.exists()


def test_deleting_a_label_takes_it_off_conversations_and_open_lists(client, world, committed):
    label = Label.objects.create(organization=world.org, name="VIP")
    conversation = make_conversation(make_channel(world.org))
    conversation.labels.add(label)
    client.force_login(world.owner.user)
    before, _conversation = live.stamps(organization_id=world.org.pk)

    with committed():
        client.post(reverse("label_delete", args=[world.org.slug, label.pk]))

    assert not conversation.labels.exists()
    assert not Label.objects.exists()
    assert live.stamps(organization_id=world.org.pk)[0] != before
