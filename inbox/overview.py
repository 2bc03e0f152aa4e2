"""The organisation's overview (`/o/<slug>/`): open conversations by channel, who is
waiting longest for a reply, the channels someone must see to, and the first step for an
organisation with no channel yet.

It lives in the inbox because it reads the inbox and the channels, and `accounts`, the
ground floor, imports neither; the team figures come from accounts' selectors."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts import selectors as account_selectors
from accounts.tenancy import tenant_view
from inbox import selectors


@require_GET
@tenant_view()
def organization_home(request: HttpRequest) -> HttpResponse:
    organization = request.organization
    workload = selectors.workload_for_org(organization)
    members = list(account_selectors.members_for_org(organization))
    context = {
        "organization": organization,
        "workload": workload,
        "waiting": selectors.conversations_waiting_longest(organization),
        "members": members,
        "managers": [membership for membership in members if membership.is_manager],
        "pending_invitations": account_selectors.pending_invitations_for_org(organization),
        # The page shows each channel's problems in place: no banner or notice repeats them.
        "announced_topics": {channel.notice_topic for channel in workload.needing_attention},
    }
    return render(request, "inbox/overview.html", context)
