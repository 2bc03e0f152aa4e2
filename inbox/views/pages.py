"""The inbox's pages: the conversation list and a conversation, each also served as a
single pane (`?pane=list|timeline|conversation`) for htmx to refresh or page through."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.tenancy import get_for_member, tenant_view
from channels_meta.models import ChannelStatus, TemplateStatus
from inbox import live, policy, selectors
from inbox.forms import (
    AssignForm,
    ContactForm,
    ListFilterForm,
    StatusForm,
    parse_cursor,
)
from inbox.models import Conversation, SendMode
from inbox.services import replies
from inbox.services.conversations import conversation_mark_read


def _list_context(
    request: HttpRequest, choices: selectors.Choices, query: QueryDict, stamp: str
) -> dict:
    form = ListFilterForm(
        request.GET, channels=choices.channels, members=choices.members, labels=choices.labels
    )
    filters = form.filters()
    after = parse_cursor(request.GET.get("after", ""))
    page = selectors.conversation_page(request.membership, filters, choices.labels, after)
    now = timezone.now()
    for conversation in page.conversations:
        options = policy.conversation_reply_options(conversation, now)
        conversation.window_label = policy.window_label(options, now)
    return {
        "filter_form": form,
        "filters": filters,
        "page": page,
        "counts": live.per_change(
            organization_id=request.organization.pk,
            stamp=stamp,
            name=f"tab counts {request.membership.user_id} {filters!r}",
            compute=lambda: selectors.tab_counts(request.membership, filters),
        ),
        "tab_queries": {tab: _with(query, tab=tab) for tab in ("mine", "unassigned", "all")},
    }


def _list_query(request: HttpRequest) -> QueryDict:
    """The list's filters from the URL, which links between the panes keep."""
    query = request.GET.copy()
    query.pop("after", None)
    query.pop("pane", None)
    return query


def _with(query, **changes) -> str:
    changed = query.copy()
    for name, value in changes.items():
        changed[name] = value
    return changed.urlencode()


def _timeline_context(request: HttpRequest, conversation: Conversation) -> dict:
    """What the conversation's timeline and its head show."""
    now = timezone.now()
    options = policy.conversation_reply_options(conversation, now)
    return {
        "conversation": conversation,
        "contact": conversation.contact,
        "timeline": selectors.timeline_page(
            conversation, parse_cursor(request.GET.get("before", ""))
        ),
        "options": options,
        "window_label": policy.window_label(options, now),
    }


def _conversation_context(
    request: HttpRequest,
    conversation: Conversation,
    options: policy.ReplyOptions,
    choices: selectors.Choices,
) -> dict:
    """What the composer, the actions and the contact panel offer, around the timeline."""
    channel = conversation.channel
    templates = []
    if SendMode.TEMPLATE in options.modes:
        templates = [
            {
                "template": template,
                "body": replies.template_body(template),
                "placeholders": replies.template_placeholders(template),
            }
            for template in channel.templates.filter(status=TemplateStatus.APPROVED).order_by(
                "name", "language"
            )
        ]
    text_mode = next((mode for mode in options.modes if mode != SendMode.TEMPLATE), "")
    # Files go in direct messages, when a message of the member's own may go.
    files = text_mode in (SendMode.RESPONSE, SendMode.HUMAN_AGENT)
    return {
        "templates": templates,
        "max_length": policy.max_length(channel.kind, text_mode) if text_mode else 0,
        "attachment_accept": policy.attachment_accept(channel.kind) if files else "",
        "attachment_limits": policy.attachment_limits_text(channel.kind) if files else "",
        "assign_form": AssignForm(
            initial={"assignee": conversation.assignee_id}, members=choices.members
        ),
        "status_form": StatusForm(initial={"status": conversation.status}),
        "contact_form": ContactForm(instance=conversation.contact),
        "earlier": selectors.earlier_conversations(conversation),
        "saved_replies": selectors.saved_replies(request.organization),
        "label_choices": choices.labels,
    }


TEMPLATES = {
    "list": "inbox/_list_body.html",
    "more": "inbox/_rows.html",
    "timeline": "inbox/_timeline_refresh.html",
    "older": "inbox/_timeline_items.html",
    "conversation": "inbox/_conversation.html",
}


def _page(request: HttpRequest, conversation: Conversation | None) -> HttpResponse:
    pane = request.GET.get("pane", "")
    query = _list_query(request)
    # The list marks the open conversation's row, also when it alone is reloaded.
    context: dict = {
        "organization": request.organization,
        "pane": pane,
        "conversation": conversation,
        "query": query.urlencode(),
    }
    with_list = pane in ("", "list", "more")
    with_timeline = conversation is not None and pane not in ("list", "more")
    choices = selectors.Choices(request.organization, conversation)
    if not pane:
        # The banner of channels to reconnect reads them from here, not again.
        context["reauth_channels"] = [
            channel for channel in choices.channels if channel.status == ChannelStatus.NEEDS_REAUTH
        ]
    if with_timeline:
        conversation_mark_read(conversation=conversation)
    # The stamps are read before what the page shows, which is then at least as recent: a
    # change made meanwhile moves them past the page's, and its next poll reloads.
    context["live_stamps"] = live.stamps(
        organization_id=request.organization.pk,
        conversation_id=conversation.pk if conversation else None,
    )
    if with_timeline:
        context.update(_timeline_context(request, conversation))
        if pane in ("", "conversation"):
            options = context["options"]
            context.update(_conversation_context(request, conversation, options, choices))
    if with_list:
        context.update(_list_context(request, choices, query, context["live_stamps"][0]))
    return render(request, TEMPLATES.get(pane, "inbox/inbox.html"), context)


@require_GET
@tenant_view()
def inbox(request: HttpRequest) -> HttpResponse:
    return _page(request, None)


def conversation_for_member(request: HttpRequest, conversation_id: int) -> Conversation:
    return get_for_member(
        selectors.with_page_hints(
            Conversation.objects.select_related("channel", "contact", "assignee")
        ),
        request.membership,
        conversation_id,
    )


@require_GET
@tenant_view()
def conversation(request: HttpRequest, conversation_id: int) -> HttpResponse:
    return _page(request, conversation_for_member(request, conversation_id))
