"""The endpoint open inbox pages poll every second: a cache read when nothing changed; when
something did, htmx events tell the list and the open conversation to reload, and the
page learns the unread count (for the tab title) and new messages for the member's own
conversations (for browser notifications)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.tenancy import tenant_view
from inbox import live, selectors
from padu.access_log import access_log_exempt

NOTIFY_AT_MOST = 5


def _nanoseconds(stamp: str) -> int:
    return int(stamp) if stamp.isdigit() else 0


@access_log_exempt
@require_GET
@tenant_view()
def inbox_live(request: HttpRequest) -> HttpResponse:
    conversation_id = request.GET.get("conversation", "")
    conversation_id = int(conversation_id) if conversation_id.isdigit() else None
    seen = request.GET.get("seen", "")
    seen_conversation = request.GET.get("seen_conversation", "")
    stamp, conversation_stamp = live.stamps(
        organization_id=request.organization.pk, conversation_id=conversation_id
    )
    context = {
        "organization": request.organization,
        "stamp": stamp,
        "conversation_id": conversation_id,
        "conversation_stamp": conversation_stamp,
    }
    triggers: dict = {}
    if stamp != seen:
        triggers["inbox-list-changed"] = True
        context["unread"] = selectors.open_unread_count(request.organization)
        since = _nanoseconds(seen)
        if since:
            context["notify"] = _new_for_member(request, since)
    if conversation_id and conversation_stamp != seen_conversation:
        triggers["inbox-conversation-changed"] = True
    response = render(request, "inbox/_live.html", context)
    if triggers:
        response["HX-Trigger"] = json.dumps(triggers)
    return response


def _new_for_member(request: HttpRequest, since_ns: int) -> str:
    """Customers' messages recorded since `since_ns` in conversations assigned to the
    member, as JSON for the page's notifications."""
    since = datetime.fromtimestamp(since_ns / 1e9, tz=UTC)
    messages = selectors.new_for_member(request.membership, since, NOTIFY_AT_MOST)
    return json.dumps(
        [
            {
                "conversation": message.conversation_id,
                "title": message.conversation.contact.display_name,
                "body": message.text[:140],
            }
            for message in messages
        ]
    )
