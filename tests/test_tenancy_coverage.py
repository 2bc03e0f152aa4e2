"""Every route under an organisation, web or API, is checked from one table: another
organisation's member gets 404, an id from another organisation is 404 even for an
owner, agents get 403 where only owners and admins may go, anonymous visitors are sent
to sign in, and a suspended organisation serves nothing but the suspended page.

A new route with an organisation slug and no case here fails
`test_every_organisation_route_has_a_case`; and a view or API module that reads a
tenant-owned model through `Model.objects`, rather than the scoped paths, fails
`test_views_reach_tenant_rows_only_through_the_scoped_paths`."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import URLPattern, URLResolver, get_resolver, include, path, re_path, reverse
from django.urls.resolvers import RoutePattern
from django.utils import timezone

from accounts.api_keys import api_key_create
from accounts.models import ApiKey, Invitation, Membership, Notice, Organization
from accounts.services import invitation_create
from channels_meta.models import Channel, ChannelStatus
from inbox.models import (
    Attachment,
    Conversation,
    EventDelivery,
    Label,
    Message,
    SavedReply,
    WebhookEndpoint,
)
from inbox.services.conversations import conversation_status_set
from inbox.services.endpoints import endpoint_create
from privacy.models import (
    DataRequest,
    Export,
    ExportStatus,
    RequestKind,
    RequestSource,
    RequestStatus,
)
from tests.channels_meta.factories import make_channel
from tests.conftest import World
from tests.inbox.factories import (
    give_avatar,
    make_attachment,
    make_conversation,
    make_message,
)

ROOT = Path(__file__).resolve().parent.parent
APPS = ("accounts", "channels_meta", "inbox", "privacy")
# What every request sends, so that a form that wrongly accepted it would change something.
FORM = {
    "name": "Taken",
    "role": "owner",
    "human_agent_enabled": "on",
    "confirmation": "Acme Coffee",
}


@dataclass
class Rows:
    """One of each row a tenant URL can name, all in one organisation."""

    channel: Channel
    member: Membership
    invitation: Invitation
    notice: Notice
    conversation: Conversation
    message: Message
    label: Label
    saved_reply: SavedReply
    attachment: Attachment
    data_request: DataRequest
    export: Export
    api_key: ApiKey
    endpoint: WebhookEndpoint
    delivery: EventDelivery


@dataclass(frozen=True)
class Case:
    method: str
    args: Callable[[Rows], tuple] = lambda rows: ()
    managers_only: bool = False
    # API views answer an anonymous caller 401 where web pages send them to sign in.
    api: bool = False


CASES: dict[str, list[Case]] = {
    "organization_home": [Case("get")],
    "organization_settings": [Case("get"), Case("post", managers_only=True)],
    "organization_two_factor": [Case("post", managers_only=True)],
    "organization_leave": [Case("get"), Case("post")],
    "audit_log": [Case("get", managers_only=True)],
    "retention_settings": [Case("get", managers_only=True), Case("post", managers_only=True)],
    "notice_dismiss": [Case("post", lambda rows: (rows.notice.pk,), managers_only=True)],
    "members": [Case("get")],
    "invitation_create": [Case("post", managers_only=True)],
    "member_role": [Case("post", lambda rows: (rows.member.pk,), managers_only=True)],
    "member_remove": [
        Case("get", lambda rows: (rows.member.pk,), managers_only=True),
        Case("post", lambda rows: (rows.member.pk,), managers_only=True),
    ],
    "invitation_revoke": [
        Case("get", lambda rows: (rows.invitation.pk,), managers_only=True),
        Case("post", lambda rows: (rows.invitation.pk,), managers_only=True),
    ],
    "channels": [Case("get")],
    "channel_connect": [Case("post", lambda rows: ("facebook",), managers_only=True)],
    "channel_manual_whatsapp": [Case("get", managers_only=True)],
    "channel_whatsapp_signup": [Case("post", managers_only=True)],
    "channel_reconnect": [Case("post", lambda rows: (rows.channel.pk,), managers_only=True)],
    "channel_disconnect": [
        Case("get", lambda rows: (rows.channel.pk,), managers_only=True),
        Case("post", lambda rows: (rows.channel.pk,), managers_only=True),
    ],
    "channel_settings": [Case("post", lambda rows: (rows.channel.pk,), managers_only=True)],
    "channel_templates": [
        Case("get", lambda rows: (rows.channel.pk,)),
        Case("post", lambda rows: (rows.channel.pk,), managers_only=True),
    ],
    "inbox": [Case("get")],
    "inbox_live": [Case("get")],
    "inbox_library": [Case("get"), Case("post", managers_only=True)],
    "label_delete": [Case("post", lambda rows: (rows.label.pk,), managers_only=True)],
    "saved_reply_delete": [
        Case("post", lambda rows: (rows.saved_reply.pk,), managers_only=True),
    ],
    **{
        name: [Case(method, lambda rows: (rows.conversation.pk,))]
        for name, method in (
            ("conversation", "get"),
            ("conversation_reply", "post"),
            ("conversation_template", "post"),
            ("conversation_assign", "post"),
            ("conversation_status", "post"),
            ("conversation_labels", "post"),
            ("conversation_unread", "post"),
            ("conversation_note", "post"),
            ("conversation_contact", "post"),
        )
    },
    "message_retry": [
        Case("post", lambda rows: (rows.conversation.pk, rows.message.pk)),
    ],
    "attachment": [Case("get", lambda rows: (rows.attachment.pk,))],
    "attachment_thumbnail": [Case("get", lambda rows: (rows.attachment.pk,))],
    "contact_avatar": [Case("get", lambda rows: (rows.conversation.contact_id,))],
    "data_requests": [Case("get", managers_only=True)],
    "data_request": [Case("get", lambda rows: (rows.data_request.pk,), managers_only=True)],
    "data_request_approve": [
        Case("post", lambda rows: (rows.data_request.pk,), managers_only=True)
    ],
    "data_request_reject": [Case("post", lambda rows: (rows.data_request.pk,), managers_only=True)],
    "contact_data_request": [
        Case("get", lambda rows: (rows.conversation.contact_id,)),
        Case("post", lambda rows: (rows.conversation.contact_id,)),
    ],
    "organization_export": [Case("get", managers_only=True), Case("post", managers_only=True)],
    "organization_delete": [Case("get", managers_only=True), Case("post", managers_only=True)],
    "organization_export_download": [
        Case("get", lambda rows: (rows.export.pk,), managers_only=True)
    ],
    "contact_restriction_lift": [
        Case("post", lambda rows: (rows.conversation.contact_id,), managers_only=True)
    ],
    "api_keys": [Case("get", managers_only=True), Case("post", managers_only=True)],
    "api_key_revoke": [
        Case("get", lambda rows: (rows.api_key.pk,), managers_only=True),
        Case("post", lambda rows: (rows.api_key.pk,), managers_only=True),
    ],
    "forwarding": [Case("get", managers_only=True), Case("post", managers_only=True)],
    "forwarding_bridge": [Case("post", managers_only=True)],
    "forwarding_endpoint": [
        Case("get", lambda rows: (rows.endpoint.pk,), managers_only=True),
        Case("post", lambda rows: (rows.endpoint.pk,), managers_only=True),
    ],
    "forwarding_secret": [Case("post", lambda rows: (rows.endpoint.pk,), managers_only=True)],
    "forwarding_delete": [
        Case("get", lambda rows: (rows.endpoint.pk,), managers_only=True),
        Case("post", lambda rows: (rows.endpoint.pk,), managers_only=True),
    ],
    "forwarding_redeliver": [
        Case("post", lambda rows: (rows.endpoint.pk, rows.delivery.pk), managers_only=True)
    ],
    # The REST API.
    "api_conversations": [Case("get", api=True)],
    **{
        name: [Case(method, lambda rows: (rows.conversation.pk,), api=True)]
        for name, method in (
            ("api_conversation", "get"),
            ("api_conversation_assign", "post"),
            ("api_conversation_status", "post"),
            ("api_conversation_labels", "put"),
        )
    },
    "api_messages": [
        Case("get", lambda rows: (rows.conversation.pk,), api=True),
        Case("post", lambda rows: (rows.conversation.pk,), api=True),
    ],
    "api_file": [Case("get", lambda rows: (rows.attachment.pk,), api=True)],
    "api_contacts": [Case("get", api=True)],
    "api_contacts_import": [Case("post", api=True)],
    "api_contact": [
        Case("get", lambda rows: (rows.conversation.contact_id,), api=True),
        Case("patch", lambda rows: (rows.conversation.contact_id,), api=True),
    ],
    "api_contact_data_request": [
        Case("post", lambda rows: (rows.conversation.contact_id,), api=True)
    ],
    "api_labels": [Case("get", api=True), Case("post", managers_only=True, api=True)],
    "api_label": [Case("delete", lambda rows: (rows.label.pk,), managers_only=True, api=True)],
    "api_saved_replies": [Case("get", api=True), Case("post", managers_only=True, api=True)],
    "api_saved_reply": [
        Case("delete", lambda rows: (rows.saved_reply.pk,), managers_only=True, api=True)
    ],
    "api_channels": [Case("get", api=True)],
    "api_channel": [Case("get", lambda rows: (rows.channel.pk,), api=True)],
    "api_templates": [Case("get", lambda rows: (rows.channel.pk,), api=True)],
    "api_data_requests": [Case("get", managers_only=True, api=True)],
    "api_data_request": [
        Case("get", lambda rows: (rows.data_request.pk,), managers_only=True, api=True)
    ],
}


def organisation_routes(
    patterns: Iterable, prefix: str = "", in_organisation: bool = False
) -> dict[str, str]:
    """The name and full route of every URL pattern that captures an organisation slug,
    however it is written (`<slug:org_slug>`, `<str:org_slug>`, `(?P<org_slug>…)`)."""
    found: dict[str, str] = {}
    for entry in patterns:
        route = prefix + str(entry.pattern)
        captures = in_organisation or "org_slug" in entry.pattern.regex.groupindex
        if isinstance(entry, URLResolver):
            found.update(organisation_routes(entry.url_patterns, route, captures))
        elif captures:
            found[entry.name or route] = route
    return found


def untested_routes(patterns: Iterable) -> dict[str, str]:
    return {
        name: route for name, route in organisation_routes(patterns).items() if name not in CASES
    }


def test_every_organisation_route_has_a_case():
    missing = untested_routes(get_resolver().url_patterns)

    assert missing == {}, f"Some organisation URLs are untested: add them to CASES: {missing}"


def test_a_new_organisation_route_without_a_case_is_reported():
    forgotten = URLPattern(RoutePattern("o/<slug:org_slug>/forgotten/"), lambda r: None, name="x")
    api = path("api/v1/o/<str:org_slug>/things/", lambda r: None, name="api_things")
    by_regex = re_path(r"^api/v1/(?P<org_slug>[-\w]+)/", include([path("x/", lambda r: None)]))

    missing = untested_routes([*get_resolver().url_patterns, forgotten, api, by_regex])

    assert missing == {
        "x": "o/<slug:org_slug>/forgotten/",
        "api_things": "api/v1/o/<str:org_slug>/things/",
        "^api/v1/(?P<org_slug>[-\\w]+)/x/": "^api/v1/(?P<org_slug>[-\\w]+)/x/",
    }


def _rows(organization: Organization, owner: Membership, member: Membership) -> Rows:
    endpoint, _secret = endpoint_create(
        membership=owner, url="https://crm.example/hook", events=["conversation.updated"]
    )
    external_id = str(1_000_000 + organization.pk)
    channel = make_channel(organization, external_id=external_id)
    conversation = make_conversation(channel)
    give_avatar(conversation.contact)
    message = make_message(conversation)
    conversation_status_set(membership=owner, conversation=conversation, status="pending")
    return Rows(
        endpoint=endpoint,
        delivery=EventDelivery.objects.get(endpoint=endpoint),
        channel=channel,
        conversation=conversation,
        message=message,
        attachment=make_attachment(message),
        label=Label.objects.create(organization=organization, name="VIP"),
        saved_reply=SavedReply.objects.create(organization=organization, shortcut="hi", text="Hi"),
        member=member,
        invitation=invitation_create(
            actor=owner, email=f"new@{organization.slug}.example", role="agent"
        ),
        notice=Notice.objects.create(organization=organization, message="Reconnect a channel."),
        data_request=DataRequest.objects.create(
            organization=organization,
            kind=RequestKind.ERASURE,
            source=RequestSource.STAFF,
            status=RequestStatus.VERIFIED,
        ),
        api_key=api_key_create(membership=owner, name="CRM", scope="write")[0],
        export=Export.objects.create(
            organization=organization,
            requested_by=owner.user,
            status=ExportStatus.READY,
            file=default_storage.save(f"exports/{organization.slug}.zip", ContentFile(b"PK")),
            expires_at=timezone.now() + timedelta(days=7),
        ),
    )


@dataclass
class Tenants:
    world: World
    own: Rows
    foreign: Rows
    cases: dict[str, list[Case]]
    requests: list[tuple[str, str, Case]] = field(default_factory=list)


@pytest.fixture
def tenants(world, settings) -> Tenants:
    """The table's requests, for the first organisation's rows."""
    settings.FORWARDING_ALLOW_PRIVATE_NETWORKS = True  # crm.example resolves nowhere
    cases = CASES
    own = _rows(world.org, world.owner, world.agent)
    foreign = _rows(world.other_org, world.outsider, world.outsider)
    requests = [
        (case.method, reverse(name, args=[world.org.slug, *case.args(own)]), case)
        for name, cases_of_route in cases.items()
        for case in cases_of_route
    ]
    return Tenants(world=world, own=own, foreign=foreign, cases=cases, requests=requests)


def _nothing_changed(tenants: Tenants) -> None:
    world = tenants.world
    world.org.refresh_from_db()
    assert world.org.name == "Acme Coffee"
    assert world.org.deletion_requested_at is None
    assert world.org.memberships.count() == 2
    assert Membership.objects.filter(pk=world.agent.pk, role="agent").exists()
    assert Invitation.objects.for_org(world.org).count() == 1
    for rows in (tenants.own, tenants.foreign):
        assert Channel.objects.get(pk=rows.channel.pk).status == ChannelStatus.ACTIVE
        assert DataRequest.objects.get(pk=rows.data_request.pk).status == RequestStatus.VERIFIED


def _status_codes(client, requests: Iterable[tuple[str, str, Case]]) -> dict[str, int]:
    return {
        f"{method.upper()} {url}": getattr(client, method)(url, FORM).status_code
        for method, url, _case in requests
    }


@pytest.mark.django_db
def test_every_organisation_url_is_404_for_another_organisations_member(client, tenants):
    client.force_login(tenants.world.outsider.user)

    codes = _status_codes(client, tenants.requests)

    assert set(codes.values()) == {404}, codes
    _nothing_changed(tenants)


@pytest.mark.django_db
def test_an_id_from_another_organisation_is_404_even_for_an_owner(client, tenants):
    world = tenants.world
    client.force_login(world.owner.user)
    checked = 0
    for name, cases in tenants.cases.items():
        for case in cases:
            foreign_args = case.args(tenants.foreign)
            if foreign_args == case.args(tenants.own):
                continue
            url = reverse(name, args=[world.org.slug, *foreign_args])
            response = getattr(client, case.method)(url, FORM)
            assert response.status_code == 404, (case.method, url)
            checked += 1
    assert checked >= 9
    assert Membership.objects.filter(pk=world.outsider.pk).exists()
    assert Notice.objects.for_org(world.other_org).unread().count() == 1
    _nothing_changed(tenants)


@pytest.mark.django_db
def test_every_organisation_url_sends_anonymous_visitors_to_sign_in(client, tenants):
    for method, url, case in tenants.requests:
        response = getattr(client, method)(url)
        if case.api:
            assert response.status_code == 401, (method, url)
            continue
        assert response.status_code == 302, (method, url)
        assert response["Location"].startswith(reverse("login")), url


@pytest.mark.django_db
def test_every_page_opens_for_its_own_organisations_owner(client, tenants):
    """The positive control: the table's arguments name real rows of the organisation."""
    client.force_login(tenants.world.owner.user)
    pages = [request for request in tenants.requests if request[0] == "get"]

    codes = _status_codes(client, pages)

    assert len(codes) >= 7
    assert set(codes.values()) == {200}, codes


@pytest.mark.django_db
def test_agents_are_refused_what_only_owners_and_admins_may_do(client, tenants):
    client.force_login(tenants.world.agent.user)
    managers_only = [request for request in tenants.requests if request[2].managers_only]

    codes = _status_codes(client, managers_only)

    assert len(codes) >= 14
    assert set(codes.values()) == {403}, codes
    _nothing_changed(tenants)


@pytest.mark.django_db
def test_a_suspended_organisation_shows_only_the_suspended_page(client, tenants):
    world = tenants.world
    Organization.objects.filter(pk=world.org.pk).update(is_suspended=True)
    client.force_login(world.owner.user)
    deletion = reverse("organization_delete", args=[world.org.slug])
    for method, url, _case in tenants.requests:
        response = getattr(client, method)(url, FORM)
        if url == deletion:  # its owner may still delete it (not with this form)
            assert response.status_code == 200, method
            continue
        assert response.status_code == 403, (method, url)
        assert b"This organisation is suspended" in response.content
    _nothing_changed(tenants)


@pytest.mark.django_db
def test_suspension_does_not_touch_the_members_other_organisations(client, world):
    Organization.objects.filter(pk=world.org.pk).update(is_suspended=True)
    client.force_login(world.outsider.user)
    assert client.get(reverse("organization_home", args=["other"])).status_code == 200


# Reading tenant rows in views: only through selectors, or `get_for_member(queryset, …)`.


def _tenant_model_names() -> set[str]:
    return {
        model.__name__
        for model in apps.get_models()
        if any(
            getattr(model_field, "related_model", None) is Organization
            and model_field.name == "organization"
            for model_field in model._meta.get_fields()
        )
    }


def _terminal_name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def unscoped_queries(source: str, tenant_models: set[str]) -> list[str]:
    """`Model.objects` uses on tenant models in `source`, except as the queryset given
    to `get_for_member` (which scopes it to the member's organisation)."""
    tree = ast.parse(source)
    scoped = {
        id(node)
        for call in ast.walk(tree)
        if isinstance(call, ast.Call)
        and _terminal_name(call.func) == "get_for_member"
        and call.args
        for node in ast.walk(call.args[0])
    }
    unscoped = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr == "objects"
        and _terminal_name(node.value) in tenant_models
        and id(node) not in scoped
    ]
    return [
        f"line {node.lineno}: {_terminal_name(node.value)}.objects"
        for node in sorted(unscoped, key=lambda node: node.lineno)
    ]


def _view_modules() -> list[Path]:
    """Modules named views or api (or under such a folder), and any other module with a
    view wrapped in `tenant_view` (the overview, which lives in `inbox.overview`)."""
    return [
        module
        for app in APPS
        for module in (ROOT / app).rglob("*.py")
        if {"views", "api"} & {module.stem, *module.parent.relative_to(ROOT).parts}
        or "@tenant_view(" in module.read_text()
    ]


def test_views_reach_tenant_rows_only_through_the_scoped_paths():
    tenant_models = _tenant_model_names()
    modules = _view_modules()
    offenders = {
        str(module.relative_to(ROOT)): found
        for module in modules
        if (found := unscoped_queries(module.read_text(), tenant_models))
    }

    assert {"Channel", "Membership", "Invitation", "Notice", "AuditEvent"} <= tenant_models
    assert ROOT / "inbox" / "overview.py" in modules
    assert len(modules) >= 8
    assert offenders == {}


def test_an_unscoped_query_in_a_view_is_reported():
    bad_view = (
        "from channels_meta.models import Channel\n"
        "from accounts import models\n"
        "def view(request, channel_id):\n"
        "    allowed = get_for_member(Channel.objects.filter(kind='x'), request.membership, 1)\n"
        "    channel = Channel.objects.get(pk=channel_id)\n"
        "    return models.Membership.objects.all(), allowed, channel\n"
    )

    found = unscoped_queries(bad_view, _tenant_model_names())

    assert found == ["line 5: Channel.objects", "line 6: Membership.objects"]
