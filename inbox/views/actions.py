"""What staff do in a conversation: each form posts here, a service decides, and the page
comes back (the conversation pane alone for htmx, a redirect otherwise)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.errors import RuleError
from accounts.tenancy import get_for_member, tenant_view
from inbox import selectors
from inbox.forms import (
    AssignForm,
    ContactForm,
    LabelsForm,
    NoteForm,
    ReplyForm,
    StatusForm,
    TemplateForm,
)
from inbox.models import Message
from inbox.services import conversations, replies
from inbox.views.pages import _page, conversation_for_member


def _back(request: HttpRequest, conversation) -> HttpResponse:
    if request.headers.get("HX-Request"):
        request.GET = request.GET.copy()
        request.GET["pane"] = "conversation"
        # Read again: the action may have changed it, or added its first note.
        return _page(request, conversation_for_member(request, conversation.pk))
    url = reverse("conversation", args=[request.organization.slug, conversation.pk])
    query = request.GET.urlencode()
    return redirect(f"{url}?{query}" if query else url)


def _invalid(request: HttpRequest, form) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


def _act(
    request: HttpRequest, conversation, action: Callable[[], object], done: str = ""
) -> HttpResponse:
    try:
        action()
    except RuleError as refusal:
        messages.error(request, str(refusal))
    else:
        if done:
            messages.success(request, done)
    return _back(request, conversation)


def _submit(
    request: HttpRequest,
    conversation,
    form,
    action: Callable[[dict], object],
    done: str = "",
) -> HttpResponse:
    """Validate `form` and, when it is valid, call `action` (a service) with its data."""
    if not form.is_valid():
        _invalid(request, form)
        return _back(request, conversation)
    return _act(request, conversation, lambda: action(form.cleaned_data), done)


@require_POST
@tenant_view()
def reply(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = conversation_for_member(request, conversation_id)
    form = ReplyForm(request.POST, request.FILES)

    def send(reply: dict) -> object:
        given = {
            "membership": request.membership,
            "conversation": conversation,
            "mode": reply["mode"],
        }
        if reply["file"]:
            return replies.attachment_reply_send(
                upload=reply["file"], caption=reply["text"], **given
            )
        return replies.reply_send(text=reply["text"], **given)

    return _submit(request, conversation, form, send)


@require_POST
@tenant_view()
def template(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = conversation_for_member(request, conversation_id)
    form = TemplateForm(request.POST, channel=conversation.channel)
    return _submit(
        request,
        conversation,
        form,
        lambda data: replies.template_send(
            membership=request.membership,
            conversation=conversation,
            template=data["template"],
            parameters=form.parameter_values(),
        ),
    )


@require_POST
@tenant_view()
def retry(request: HttpRequest, conversation_id: int, message_id: int) -> HttpResponse:
    conversation = conversation_for_member(request, conversation_id)
    message = get_for_member(
        Message.objects.filter(conversation=conversation), request.membership, message_id
    )
    return _act(
        request,
        conversation,
        lambda: replies.message_retry(membership=request.membership, message=message),
    )


@require_POST
@tenant_view()
def assign(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = conversation_for_member(request, conversation_id)
    members = selectors.Choices(request.organization).members
    data = request.POST.copy()
    if data.get("assignee") == "me":
        data["assignee"] = str(request.user.pk)
    form = AssignForm(data, members=members)
    return _submit(
        request,
        conversation,
        form,
        lambda data: conversations.conversation_assign(
            membership=request.membership,
            conversation=conversation,
            assignee=form.assignee_user(members),
        ),
    )


@require_POST
@tenant_view()
def status(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = conversation_for_member(request, conversation_id)
    form = StatusForm(request.POST)
    return _submit(
        request,
        conversation,
        form,
        lambda data: conversations.conversation_status_set(
            membership=request.membership,
            conversation=conversation,
            status=data["status"],
            snoozed_until=data["snoozed_until"],
        ),
    )


@require_POST
@tenant_view()
def labels(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = conversation_for_member(request, conversation_id)
    form = LabelsForm(request.POST, labels=selectors.labels_of(request.organization))
    return _submit(
        request,
        conversation,
        form,
        lambda data: conversations.conversation_labels_set(
            membership=request.membership,
            conversation=conversation,
            labels=data["labels"],
        ),
    )


@require_POST
@tenant_view()
def unread(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = conversation_for_member(request, conversation_id)
    conversations.conversation_mark_unread(membership=request.membership, conversation=conversation)
    # Back to the list, not the conversation: opening it would mark it read again. htmx
    # would follow a redirect inside the pane, so it is told to load the list itself.
    url = reverse("inbox", args=[request.organization.slug])
    if request.headers.get("HX-Request"):
        return HttpResponse(headers={"HX-Redirect": url})
    return redirect(url)


@require_POST
@tenant_view()
def note(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = conversation_for_member(request, conversation_id)
    form = NoteForm(request.POST)
    return _submit(
        request,
        conversation,
        form,
        lambda data: conversations.note_add(
            membership=request.membership, conversation=conversation, text=data["text"]
        ),
    )


@require_POST
@tenant_view()
def contact(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = conversation_for_member(request, conversation_id)
    form = ContactForm(request.POST, instance=conversation.contact)
    return _submit(
        request,
        conversation,
        form,
        lambda data: conversations.contact_update(
            membership=request.membership,
            contact=conversation.contact,
            custom_name=data["custom_name"],
            email=data["email"],
            notes=data["notes"],
        ),
        _("Contact saved."),
    )
