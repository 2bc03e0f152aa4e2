from __future__ import annotations

import ipaddress
import json
import socket
from dataclasses import dataclass

import httpx
import pytest
from celery.app.task import Task
from django.core.cache import cache
from django.utils import timezone

from accounts.models import Membership, Organization, Role, User
from channels_meta.graph import client as graph_client
from padu.celery import app as celery_app

PASSWORD = "correct horse battery staple"


def make_user(
    email: str, *, password: str | None = None, full_name: str = "", confirmed: bool = True
) -> User:
    """A user, with a confirmed address unless told otherwise; without a password none is
    usable (hashing with bcrypt is slow on purpose)."""
    return User.objects.create_user(
        email=email,
        password=password,
        full_name=full_name,
        email_confirmed_at=timezone.now() if confirmed else None,
    )


def make_member(organization: Organization, email: str, role: str = Role.AGENT) -> Membership:
    user = make_user(email, full_name=email.split("@")[0].title())
    return Membership.objects.create(user=user, organization=organization, role=role)


@dataclass
class World:
    """Two organisations: an owner and an agent in the first, and a member of the
    second who must see nothing of the first."""

    org: Organization
    owner: Membership
    agent: Membership
    other_org: Organization
    outsider: Membership


@pytest.fixture
def world(db) -> World:
    org = Organization.objects.create(name="Acme Coffee", slug="acme")
    other_org = Organization.objects.create(name="Other Shop", slug="other")
    return World(
        org=org,
        owner=make_member(org, "owner@acme.example", Role.OWNER),
        agent=make_member(org, "agent@acme.example", Role.AGENT),
        other_org=other_org,
        outsider=make_member(other_org, "outsider@other.example", Role.OWNER),
    )


class InternetGuardError(AssertionError):
    """A test tried to reach a host that is not this machine."""


def _refuse_meta(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError(f"Tests do not reach Meta ({request.url.host}): use `meta`.")


def _loopback_only(method, address_at: int):
    """`method` of a socket, refusing an internet address (its argument `address_at`)."""

    def guarded(sock: socket.socket, *args):
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            host = str(args[address_at][0])
            try:
                local = ipaddress.ip_address(host.split("%")[0]).is_loopback
            except ValueError:
                local = host == "localhost"
            if not local:
                raise InternetGuardError(f"A test tried to connect to {host}.")
        return method(sock, *args)

    return guarded


@pytest.fixture(autouse=True)
def _no_internet(monkeypatch):
    """Tests never leave this machine: Graph calls fail unless a test puts the simulator
    where Meta would be (the `meta` fixture), and any socket opened to a host other than
    loopback fails the test."""
    graph_client.use_transport(httpx.MockTransport(_refuse_meta))
    for name, address_at in (("connect", 0), ("connect_ex", 0), ("sendto", -1)):
        monkeypatch.setattr(
            socket.socket, name, _loopback_only(getattr(socket.socket, name), address_at)
        )
    yield
    graph_client.use_transport(None)


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _media_storage(settings, tmp_path):
    """Files the test stores (customers' attachments) go to its own folder."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture(autouse=True)
def _enqueue_webhooks_at_once(settings):
    """Tests see each stored delivery enqueued at once (the batching dispatcher has
    tests of its own)."""
    settings.WEBHOOK_ENQUEUE_BATCH_SECONDS = 0


@pytest.fixture
def celery_eager(monkeypatch):
    """Run tasks in-process, their arguments round-tripped through JSON as the broker
    would carry them."""
    enqueue = Task.apply_async

    def apply_async(self, args=None, kwargs=None, **options):
        args = json.loads(json.dumps(list(args or ())))
        kwargs = json.loads(json.dumps(kwargs or {}))
        return enqueue(self, args, kwargs, **options)

    monkeypatch.setattr(Task, "apply_async", apply_async)
    celery_app.conf.update(task_always_eager=True)
    yield celery_app
    celery_app.conf.update(task_always_eager=False)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed(): ...` runs what was deferred to the commit (e-mails, tasks) once
    the block ends, as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _use_broker(url: str) -> None:
    # Drop the app's references to its broker pools; kombu keeps one pool per URL.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    celery_app.conf.broker_url = url


@pytest.fixture
def broker_down():
    """Point Celery at a port where no broker listens."""
    working = celery_app.conf.broker_url
    _use_broker("redis://127.0.0.1:1/0")
    yield
    _use_broker(working)
