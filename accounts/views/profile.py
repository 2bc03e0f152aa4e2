from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from accounts import onboarding, selectors
from accounts.forms import ProfileForm
from accounts.middleware import LANGUAGE_SESSION_KEY
from accounts.net import client_ip, safe_next_url


@login_required
@sensitive_post_parameters("current_password")
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        changed = [name for name in form.changed_data if name != "current_password"]
        onboarding.user_update_profile(
            user=form.save(commit=False), changed_fields=changed, ip=client_ip(request)
        )
        if request.user.language:
            translation.activate(request.user.language)
        messages.success(request, _("Your profile has been saved."))
        return redirect("profile")
    context = {"form": form, "sign_ins": selectors.recent_sign_ins(request.user)}
    return render(request, "accounts/profile.html", context)


@require_POST
def language_choose(request: HttpRequest) -> HttpResponse:
    """The footer's language menu, for people signed out: the choice is kept in the
    session (signed-in people choose on their profile)."""
    language = request.POST.get("language", "")
    if language in dict(settings.LANGUAGES):
        request.session[LANGUAGE_SESSION_KEY] = language
    return redirect(safe_next_url(request, request.POST.get("next")) or "home")
