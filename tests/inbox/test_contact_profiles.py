"""Messenger and Instagram webhooks name a customer only by an id: the worker asks Meta
for their name, username and picture once, after the commit, and the inbox shows them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.utils import timezone

from channels_meta.graph import errors
from channels_meta.graph.calls import customers, sending
from channels_meta.models import ChannelKind, ChannelStatus
from inbox import tasks
from inbox.models import Contact
from inbox.services import profiles
from tests.channels_meta.factories import make_channel

pytestmark = pytest.mark.django_db


def profiles_asked(recording) -> list[tuple[str, str]]:
    """(host, path) of each request Padu sent Meta for someone's profile."""
    return [
        (request.url.host, request.url.path)
        for request in recording.requests
        if request.url.path.count("/") == 2
        and "permalink" not in request.url.params.get("fields", "")  # a post, not a person
    ]


@pytest.fixture
def lookups(monkeypatch) -> list[list[int]]:
    """The contact ids of each round of profile lookups the worker runs."""
    rounds: list[list[int]] = []
    fetch = profiles.contact_profiles_fetch

    def noting(*, contact_ids):
        rounds.append(sorted(contact_ids))
        return fetch(contact_ids=contact_ids)

    monkeypatch.setattr(profiles, "contact_profiles_fetch", noting)
    return rounds


def messenger(meta, world):
    page = meta.assets["pages"][0]
    return make_channel(
        world.org, kind=ChannelKind.MESSENGER, external_id=page["id"], token=page["system_token"]
    )


def instagram(meta, world, *, instagram_login: bool):
    state = meta.state
    if instagram_login:
        linked = {page.instagram_id for page in state.pages.values()}
        account_id = next(a for a in state.instagram_accounts if a not in linked)
        owner = next(iter(state.users))
        token = state.new_token("instagram", owner, subject_id=account_id).value
    else:
        page = meta.assets["pages"][0]
        account_id, token = page["instagram_id"], page["system_token"]
    return make_channel(
        world.org,
        kind=ChannelKind.INSTAGRAM,
        external_id=account_id,
        token=token,
        uses_instagram_login=instagram_login,
    )


def contact_of(customer: dict) -> Contact:
    return Contact.objects.get(external_id=customer["customer_id"])


def test_a_new_messenger_customer_gets_their_name_and_picture(meta, world, recording, worker):
    channel = messenger(meta, world)
    customer = meta.customer_writes(
        kind="messenger", business_id=channel.external_id, text="Merhaba", name="Ayşe Yılmaz"
    )

    worker(meta)

    contact = contact_of(customer)
    assert contact.display_name == "Ayşe Yılmaz"
    assert contact.profile_picture_url == (
        f"https://graph.facebook.com/_sim/pictures/{customer['customer_id']}.png"
    )
    assert contact.profile_checked_at is not None
    assert profiles_asked(recording) == [
        ("graph.facebook.com", f"/v25.0/{customer['customer_id']}")
    ]
    picture = meta.http.get(contact.profile_picture_url)
    assert picture.headers["Content-Type"] == "image/png"
    assert picture.content.startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("instagram_login", "host"),
    [(True, "graph.instagram.com"), (False, "graph.facebook.com")],
)
def test_a_new_instagram_customer_gets_their_name_and_username_from_their_channels_host(
    meta, world, recording, worker, instagram_login, host
):
    channel = instagram(meta, world, instagram_login=instagram_login)
    customer = meta.customer_writes(
        kind="instagram",
        business_id=channel.external_id,
        text="Is the 10% discount still on?",
        name="Zeynep Kaya",
        username="zeynep.bakes",
    )

    worker(meta)

    contact = contact_of(customer)
    assert (contact.name, contact.username) == ("Zeynep Kaya", "zeynep.bakes")
    assert contact.handle == "@zeynep.bakes"
    assert contact.profile_picture_url.startswith(f"https://{host}/_sim/pictures/")
    assert [asked_host for asked_host, _path in profiles_asked(recording)] == [host]


def test_whatsapp_customers_are_never_looked_up(meta, world, recording, worker, lookups):
    number = meta.assets["whatsapp_numbers"][0]
    make_channel(
        world.org,
        kind=ChannelKind.WHATSAPP,
        external_id=number["id"],
        waba_id=number["waba_id"],
        token=number["system_token"],
    )
    customer = meta.customer_writes(
        kind="whatsapp", business_id=number["id"], text="Merhaba", name="Mehmet Demir"
    )

    worker(meta)
    Contact.objects.update(created_at=timezone.now() - timedelta(hours=1))
    swept = tasks.contact_profiles_sweep.delay().get()

    contact = contact_of(customer)
    assert contact.name == "Mehmet Demir"
    assert contact.profile_checked_at is None
    assert (swept, lookups) == (0, [])
    assert recording.requests == []


def test_the_name_the_team_gave_a_customer_stays(meta, world, recording, worker):
    channel = messenger(meta, world)
    customer = meta.customer_writes(
        kind="messenger", business_id=channel.external_id, text="Hi", name="Emily Clarke"
    )
    worker(meta, lost=True)
    Contact.objects.update(custom_name="Emily (wholesale)")

    tasks.contact_profiles_fetch.delay([contact_of(customer).pk]).get()

    contact = contact_of(customer)
    assert (contact.custom_name, contact.name) == ("Emily (wholesale)", "Emily Clarke")
    assert contact.display_name == "Emily (wholesale)"


@pytest.mark.parametrize(
    ("picture", "kept"),
    [
        ("https://scontent.xx.fbcdn.net/v/t1.30497-1/p.jpg?oh=00_AfA&oe=67A1", True),
        ("https://platform-lookaside.fbsbx.com/platform/profilepic/?psid=1&width=1024", True),
        ("https://scontent-ist1-1.cdninstagram.com/v/t51.2885-19/p.jpg", True),
        ("http://scontent.xx.fbcdn.net/v/p.jpg", False),
        ("https://evil.example/p.jpg", False),
        ("https://fbcdn.net.evil.example/p.jpg", False),
        ("https://scontent.xx.fbcdn.net:8443/v/p.jpg", False),
        ("javascript:alert(1)", False),
    ],
)
def test_only_pictures_on_metas_content_hosts_are_kept(meta, world, worker, picture, kept):
    channel = messenger(meta, world)
    customer = meta.customer_writes(
        kind="messenger",
        business_id=channel.external_id,
        text="Hi",
        name="João Silva",
        picture_url=picture,
    )

    worker(meta)

    contact = contact_of(customer)
    assert (contact.name, contact.profile_picture_url) == ("João Silva", picture if kept else "")
    assert contact.profile_checked_at is not None


def test_a_refused_token_marks_the_channel_for_reconnecting_and_stops(
    meta, world, recording, worker
):
    channel = messenger(meta, world)
    first = meta.customer_writes(kind="messenger", business_id=channel.external_id, text="Hi")
    second = meta.customer_writes(kind="messenger", business_id=channel.external_id, text="Hey")
    meta.http.post("/_sim/expire_token", json={"subject_id": channel.external_id})

    worker(meta)

    channel.refresh_from_db()
    assert channel.status == ChannelStatus.NEEDS_REAUTH
    assert len(profiles_asked(recording)) == 1
    # Nothing noted: once the channel is reconnected, the sweep asks again.
    assert contact_of(first).profile_checked_at is None
    assert contact_of(second).profile_checked_at is None
    assert {contact_of(first).name, contact_of(second).name} == {""}


def test_a_rate_limited_lookup_is_retried_once_meta_allows(meta, world, worker):
    channel = instagram(meta, world, instagram_login=True)
    customer = meta.customer_writes(
        kind="instagram", business_id=channel.external_id, text="Hi", name="Fatima Zahra"
    )
    worker(meta, lost=True)
    # Meta has counted 100 calls of the account this second: it answers code 4.
    meta.state.calls[channel.external_id] = [meta.state.clock()] * 100

    with pytest.raises(Retry) as retried:
        tasks.contact_profiles_fetch.delay([contact_of(customer).pk]).get()

    assert isinstance(retried.value.exc, errors.RateLimited)
    assert retried.value.when == retried.value.exc.retry_after > 0
    assert contact_of(customer).profile_checked_at is None

    meta.state.calls.clear()
    tasks.contact_profiles_fetch.delay([contact_of(customer).pk]).get()

    assert contact_of(customer).name == "Fatima Zahra"


def test_meta_failing_is_retried_with_backoff(meta, world, worker, monkeypatch):
    channel = messenger(meta, world)
    meta.customer_writes(kind="messenger", business_id=channel.external_id, text="Hi")
    worker(meta, lost=True)

    def down(**kwargs):
        raise errors.TransientError("Meta did not answer in time.")

    monkeypatch.setattr(customers, "user_profile_get", down)

    with pytest.raises(Retry) as retried:
        tasks.contact_profiles_fetch.delay([Contact.objects.get().pk]).get()

    assert isinstance(retried.value.exc, errors.TransientError)
    assert 0 <= retried.value.when <= 30  # the first of a backoff from 30 s
    assert tasks.contact_profiles_fetch.max_retries == 5
    assert Contact.objects.get().profile_checked_at is None


def test_a_customer_meta_shows_no_profile_of_is_noted_and_not_asked_again(
    meta, world, recording, worker
):
    channel = messenger(meta, world)
    customer = meta.customer_writes(
        kind="messenger", business_id=channel.external_id, text="Hi", no_profile=True
    )

    worker(meta)
    Contact.objects.update(created_at=timezone.now() - timedelta(hours=1))
    swept = tasks.contact_profiles_sweep.delay().get()
    again = tasks.contact_profiles_fetch.delay([contact_of(customer).pk]).get()

    contact = contact_of(customer)
    assert contact.profile_checked_at is not None
    assert contact.display_name == customer["customer_id"]
    assert (swept, again) == (0, {"skipped": 1})
    assert len(profiles_asked(recording)) == 1
    channel.refresh_from_db()
    assert channel.status == ChannelStatus.ACTIVE


def test_an_instagram_commenter_is_not_looked_up_until_they_write(meta, world, recording, worker):
    channel = instagram(meta, world, instagram_login=False)
    comment = meta.http.post(
        "/_sim/comment", json={"instagram_id": channel.external_id, "text": "Price?"}
    ).json()
    worker(meta)
    commenter = Contact.objects.get(external_id=comment["customer_id"])

    # Asked anyway, Meta answers that the person has not consented (error 230): that is
    # no profile, not a permission the channel lacks.
    outcome = profiles.contact_profile_fetch(contact_id=commenter.pk)
    commenter.refresh_from_db()
    channel.refresh_from_db()

    assert profiles_asked(recording) == [("graph.facebook.com", f"/v25.0/{commenter.external_id}")]
    assert outcome == "unavailable"
    assert commenter.profile_checked_at is not None
    assert commenter.username  # from the comment's webhook
    assert channel.status == ChannelStatus.ACTIVE


def test_the_sweep_looks_up_customers_the_worker_missed(meta, world, recording, worker):
    channel = messenger(meta, world)
    missed = meta.customer_writes(
        kind="messenger", business_id=channel.external_id, text="Hi", name="Oleg Smirnov"
    )
    worker(meta, lost=True)
    Contact.objects.update(created_at=timezone.now() - timedelta(minutes=10))
    recent = meta.customer_writes(kind="messenger", business_id=channel.external_id, text="Hey")
    worker(meta, lost=True)

    swept = tasks.contact_profiles_sweep.delay().get()

    assert swept == 1
    assert contact_of(missed).name == "Oleg Smirnov"
    assert contact_of(recent).profile_checked_at is None


def test_the_sweep_hands_out_bounded_batches(meta, world, worker, lookups, monkeypatch):
    channel = messenger(meta, world)
    for _ in range(5):
        meta.customer_writes(kind="messenger", business_id=channel.external_id, text="Hi")
    worker(meta, lost=True)
    Contact.objects.update(created_at=timezone.now() - timedelta(minutes=10))
    monkeypatch.setattr(tasks, "SWEEP_BATCH", 2)

    assert len(profiles.contacts_profile_due(limit=4)) == 4
    assert tasks.contact_profiles_sweep.delay().get() == 5
    assert [len(ids) for ids in lookups] == [2, 2, 1]
    assert not Contact.objects.filter(profile_checked_at__isnull=True).exists()


def test_the_sweep_leaves_channels_that_need_reconnecting(meta, world, recording, worker):
    channel = messenger(meta, world)
    meta.customer_writes(kind="messenger", business_id=channel.external_id, text="Hi")
    worker(meta, lost=True)
    Contact.objects.update(created_at=timezone.now() - timedelta(minutes=10))
    channel.status = ChannelStatus.NEEDS_REAUTH
    channel.save(update_fields=["status"])

    assert tasks.contact_profiles_sweep.delay().get() == 0
    assert profiles_asked(recording) == []


def test_one_task_looks_up_every_new_customer_of_a_batch(meta, world, worker, lookups):
    channel = messenger(meta, world)
    known = meta.customer_writes(kind="messenger", business_id=channel.external_id, text="Hi")
    worker(meta)
    lookups.clear()
    newcomers = [
        meta.customer_writes(kind="messenger", business_id=channel.external_id, text="Hello")
    ]
    # Something other than a message between them: the batch is recorded in two runs.
    meta.http.post(
        "/_sim/reaction",
        json={
            "kind": "messenger",
            "business_id": channel.external_id,
            "customer_id": known["customer_id"],
            "mid": known["mid"],
        },
    )
    newcomers += [
        meta.customer_writes(kind="messenger", business_id=channel.external_id, text="Hello")
        for _ in range(2)
    ]
    for customer in [known, *newcomers]:
        meta.customer_writes(
            kind="messenger",
            business_id=channel.external_id,
            customer_id=customer["customer_id"],
            text="Are you there?",
        )

    worker(meta)

    assert lookups == [sorted(contact_of(customer).pk for customer in newcomers)]
    assert all(contact_of(customer).name for customer in newcomers)


def test_a_customer_only_the_business_wrote_to_is_not_looked_up_yet(meta, world, recording, worker):
    channel = messenger(meta, world)
    customer = meta.customer_writes(kind="messenger", business_id=channel.external_id, text="Hi")
    meta.sender.flush_all()
    meta.receiver.bodies.clear()  # Padu never heard the customer; it sees only the echo.
    sending.message_send(
        kind="messenger",
        account_id=channel.external_id,
        token=channel.get_token(),
        recipient_id=customer["customer_id"],
        text="Hello from another app",
    )
    recording.requests.clear()

    worker(meta)

    assert contact_of(customer).profile_checked_at is None
    assert profiles_asked(recording) == []


def test_meta_answers_its_documented_error_for_an_unknown_user(meta, world):
    page = meta.assets["pages"][0]

    with pytest.raises(errors.ProfileUnavailable) as raised:
        customers.user_profile_get(
            kind="messenger",
            account_id=page["id"],
            user_id="1234567890123456",
            token=page["system_token"],
        )

    assert (raised.value.code, raised.value.subcode) == (100, 33)


def test_an_id_that_is_not_metas_never_reaches_meta(meta, recording):
    page = meta.assets["pages"][0]

    with pytest.raises(errors.UnsafeRequest):
        customers.user_profile_get(
            kind="messenger", account_id=page["id"], user_id="../me", token=page["system_token"]
        )

    assert recording.requests == []
