"""The public privacy policy, cookie and sub-processor pages, and dismissing the notice
of a new policy."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.net import safe_next_url
from privacy.policy import policy_facts
from privacy.services import policy


def _page(template: str):
    @require_GET
    def view(request: HttpRequest) -> HttpResponse:
        return render(request, template, {"policy": policy_facts()})

    return view


privacy_policy = _page("legal/privacy_policy.html")
cookies = _page("legal/cookies.html")
sub_processors = _page("legal/sub_processors.html")


@login_required
@require_POST
def policy_notice_dismiss(request: HttpRequest) -> HttpResponse:
    policy.policy_notice_dismiss(user=request.user)
    return redirect(safe_next_url(request, request.POST.get("next")) or "home")
