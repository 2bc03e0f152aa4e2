"""Managing the organisation's labels and saved replies (owners and admins)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.errors import RuleError
from accounts.tenancy import get_for_member, require_manager, tenant_view
from inbox import selectors
from inbox.forms import LabelForm, SavedReplyForm
from inbox.models import Label, SavedReply
from inbox.services import library


def _back(request: HttpRequest) -> HttpResponse:
    return redirect("inbox_library", request.organization.slug)


@tenant_view()
def inbox_library(request: HttpRequest) -> HttpResponse:
    label_form = LabelForm(prefix="label")
    saved_form = SavedReplyForm(prefix="saved")
    if request.method == "POST":
        require_manager(request.membership)
        label_form = LabelForm(request.POST, prefix="label")
        saved_form = SavedReplyForm(request.POST, prefix="saved")
        form = label_form if "label-name" in request.POST else saved_form
        if form.is_valid():
            try:
                if form is label_form:
                    library.label_create(membership=request.membership, **form.cleaned_data)
                else:
                    library.saved_reply_create(membership=request.membership, **form.cleaned_data)
            except RuleError as refusal:
                messages.error(request, str(refusal))
            else:
                return _back(request)
    context = {
        "labels": selectors.labels_of(request.organization),
        "saved_replies": selectors.saved_replies(request.organization),
        "label_form": label_form,
        "saved_form": saved_form,
    }
    return render(request, "inbox/library.html", context)


@require_POST
@tenant_view(managers_only=True)
def label_delete(request: HttpRequest, label_id: int) -> HttpResponse:
    label = get_for_member(Label.objects, request.membership, label_id)
    library.label_delete(membership=request.membership, label=label)
    return _back(request)


@require_POST
@tenant_view(managers_only=True)
def saved_reply_delete(request: HttpRequest, saved_reply_id: int) -> HttpResponse:
    saved_reply = get_for_member(SavedReply.objects, request.membership, saved_reply_id)
    library.saved_reply_delete(membership=request.membership, saved_reply=saved_reply)
    return _back(request)
