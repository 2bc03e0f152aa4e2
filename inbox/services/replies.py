"""Staff answering customers: every rule of Meta's (windows, tags, the one private reply
to a comment, templates outside WhatsApp's window, lengths, the files each channel
takes) is checked here, before a message is stored `queued`; a worker then delivers it
(`inbox.services.delivery`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.errors import RuleError
from accounts.models import Membership
from channels_meta.models import ChannelKind, ChannelStatus, MessageTemplate, TemplateStatus
from inbox import live, policy
from inbox.models import (
    Attachment,
    Conversation,
    ConversationKind,
    Direction,
    Message,
    MessageStatus,
    SendMode,
)
from inbox.services import outbound_media, outbox
from inbox.services.downloads import files_delete

TEMPLATE_PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")
MAX_PARAMETER_LENGTH = 1024


class ReplyRefused(RuleError):
    """The reply breaks one of Meta's rules; the message says which, in words."""


def _enqueue_delivery(message: Message) -> None:
    from inbox.tasks import message_deliver

    transaction.on_commit(lambda: message_deliver.delay(message.pk))


def _locked(conversation: Conversation) -> Conversation:
    return (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("channel")
        .get(pk=conversation.pk)
    )


def _earlier_send(conversation: Conversation, idempotency_key: str) -> Message | None:
    """The message an earlier request with this key sent, marked `replayed`; the key is
    the organisation's, so it may not name a send to another conversation."""
    if not idempotency_key:
        return None
    earlier = (
        Message.objects.for_org(conversation.organization)
        .filter(idempotency_key=idempotency_key)
        .first()
    )
    if earlier is not None:
        if earlier.conversation_id != conversation.pk:
            raise ReplyRefused(_("This Idempotency-Key was used for another conversation."))
        earlier.replayed = True
    return earlier


def _check_text(text: str, channel_kind: str, mode: str) -> str:
    text = text.strip()
    if not text:
        raise ReplyRefused(_("Write a message first."))
    _check_length(text, policy.max_length(channel_kind, mode))
    return text


def _check_length(text: str, limit: int) -> None:
    if len(text) > limit:
        raise ReplyRefused(
            _("This channel takes at most %(limit)d characters; the message has %(length)d.")
            % {"limit": limit, "length": len(text)}
        )


def _check_mode(options: policy.ReplyOptions, mode: str) -> str:
    mode = mode or (options.modes[0] if options.modes else "")
    if options.closed:
        raise ReplyRefused(options.reason)
    if not options.allows(mode):
        if mode == SendMode.PRIVATE_REPLY:
            raise ReplyRefused(
                _("This comment already has its private reply, or is more than 7 days old.")
            )
        raise ReplyRefused(options.reason or _("That kind of reply is not possible here."))
    return mode


def _free_form_mode(options: policy.ReplyOptions, mode: str) -> str:
    """The mode a message of the member's own (not a template) goes in now."""
    if mode == SendMode.TEMPLATE:
        raise ReplyRefused(_("Choose a template to send a template message."))
    mode = _check_mode(options, mode)
    if mode == SendMode.TEMPLATE:
        # Only a template may go now (WhatsApp after 24 hours), and this is not one.
        raise ReplyRefused(options.reason)
    return mode


@transaction.atomic
def reply_send(
    *,
    membership: Membership,
    conversation: Conversation,
    text: str,
    mode: str = "",
    idempotency_key: str = "",
    now: datetime | None = None,
) -> Message:
    """Store a member's text reply as `queued` and deliver it after commit, if Meta's
    rules allow that `mode` (by default the first the conversation allows) now. With an
    `idempotency_key` already used, the message sent then is returned instead."""
    now = now or timezone.now()
    conversation = _locked(conversation)
    if earlier := _earlier_send(conversation, idempotency_key):
        return earlier
    mode = _free_form_mode(policy.conversation_reply_options(conversation, now), mode)
    text = _check_text(text, conversation.channel.kind, mode)
    if mode == SendMode.PRIVATE_REPLY:
        conversation.private_reply_at = now
        conversation.save(update_fields=["private_reply_at"])
    return _queue(
        membership, conversation, text=text, mode=mode, now=now, idempotency_key=idempotency_key
    )


def _queue(
    membership: Membership,
    conversation: Conversation,
    *,
    text: str,
    mode: str,
    now: datetime,
    extra: dict | None = None,
    attachments: list[dict] | None = None,
    deliver: bool = True,
    idempotency_key: str = "",
) -> Message:
    """Store the outbound message `queued`; its delivery is enqueued after commit unless
    another message's delivery enqueues it (`deliver=False`)."""
    message = Message.objects.create(
        organization_id=conversation.organization_id,
        channel_id=conversation.channel_id,
        conversation=conversation,
        direction=Direction.OUTBOUND,
        text=text,
        attachments=attachments or [],
        extra=extra or {},
        status=MessageStatus.QUEUED,
        send_mode=mode,
        author=membership.user,
        sent_at=now,
        idempotency_key=idempotency_key,
    )
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=now)
    outbox.messages_forward(organization_id=conversation.organization_id, message_ids=[message.pk])
    if deliver:
        _enqueue_delivery(message)
    live.changed(organization_id=conversation.organization_id, conversation_ids=[conversation.pk])
    return message


@transaction.atomic
def attachment_reply_send(
    *,
    membership: Membership,
    conversation: Conversation,
    upload: UploadedFile,
    caption: str = "",
    mode: str = "",
    idempotency_key: str = "",
    now: datetime | None = None,
) -> Message:
    """Store a member's image or document as a `queued` message and deliver it after
    commit, if the channel takes that file and Meta's rules allow a reply now (as for a
    text; never to a comment). A caption goes with the file on WhatsApp; Messenger and
    Instagram take none, so there it is a text message sent once the file is."""
    now = now or timezone.now()
    conversation = _locked(conversation)
    if earlier := _earlier_send(conversation, idempotency_key):
        return earlier
    if conversation.kind == ConversationKind.COMMENT or mode in (
        SendMode.PUBLIC_REPLY,
        SendMode.PRIVATE_REPLY,
    ):
        raise ReplyRefused(_("Replies to comments cannot carry files: answer in words."))
    mode = _free_form_mode(policy.conversation_reply_options(conversation, now), mode)
    channel_kind = conversation.channel.kind
    caption = caption.strip()
    _check_length(caption, policy.caption_max_length(channel_kind))
    checked = outbound_media.file_check(upload=upload, channel_kind=channel_kind)
    separate = bool(caption) and channel_kind != ChannelKind.WHATSAPP
    message = _queue(
        membership,
        conversation,
        text="" if separate else caption,
        mode=mode,
        now=now,
        attachments=[checked.item()],
        idempotency_key=idempotency_key,
    )
    attachment = outbound_media.attachment_store(message=message, checked=checked)
    try:
        if separate:
            # Sent by the file's delivery once the file is sent (see delivery).
            _queue(
                membership,
                conversation,
                text=caption,
                mode=mode,
                now=now,
                extra={"follows": message.pk},
                deliver=False,
            )
    except BaseException:
        files_delete(attachment.file, attachment.thumbnail)
        raise
    return message


def template_body(template: MessageTemplate) -> str:
    """The text of a template's body, with its {{n}} placeholders."""
    for component in template.components or []:
        if str(component.get("type", "")).upper() == "BODY":
            return str(component.get("text", ""))
    return ""


def template_placeholders(template: MessageTemplate) -> list[int]:
    """The numbers of the body's placeholders, in order, each once."""
    return sorted({int(n) for n in TEMPLATE_PLACEHOLDER.findall(template_body(template))})


def template_render(template: MessageTemplate, parameters: Sequence[str]) -> str:
    """The body as the customer will read it."""
    values = dict(zip(template_placeholders(template), parameters, strict=False))
    return TEMPLATE_PLACEHOLDER.sub(
        lambda match: values.get(int(match.group(1)), match.group(0)), template_body(template)
    )


@transaction.atomic
def template_send(
    *,
    membership: Membership,
    conversation: Conversation,
    template: MessageTemplate,
    parameters: Sequence[str] = (),
    idempotency_key: str = "",
    now: datetime | None = None,
) -> Message:
    """Store an approved WhatsApp template, its placeholders filled in, as `queued` and
    deliver it after commit: allowed at any time in a WhatsApp conversation."""
    now = now or timezone.now()
    conversation = _locked(conversation)
    if earlier := _earlier_send(conversation, idempotency_key):
        return earlier
    _check_mode(policy.conversation_reply_options(conversation, now), SendMode.TEMPLATE)
    if template.channel_id != conversation.channel_id or template.status != TemplateStatus.APPROVED:
        raise ReplyRefused(_("Only the channel's approved templates can be sent."))
    wanted = template_placeholders(template)
    values = [value.strip() for value in parameters]
    if len(values) != len(wanted) or not all(values):
        raise ReplyRefused(
            _("Fill in every placeholder of the template (%(count)d).") % {"count": len(wanted)}
        )
    if any(len(value) > MAX_PARAMETER_LENGTH for value in values):
        raise ReplyRefused(_("A placeholder's text is too long."))
    components = (
        [{"type": "body", "parameters": [{"type": "text", "text": v} for v in values]}]
        if values
        else []
    )
    extra = {
        "template": {
            "id": template.pk,
            "name": template.name,
            "language": template.language,
            "components": components,
        }
    }
    return _queue(
        membership,
        conversation,
        text=template_render(template, values),
        mode=SendMode.TEMPLATE,
        now=now,
        extra=extra,
        idempotency_key=idempotency_key,
    )


@transaction.atomic
def message_retry(
    *, membership: Membership, message: Message, now: datetime | None = None
) -> Message:
    """Send a failed message again, if Meta's rules still allow it."""
    now = now or timezone.now()
    conversation = _locked(message.conversation)
    if message.status != MessageStatus.FAILED or not message.send_mode:
        raise ReplyRefused(_("Only a message that failed can be sent again."))
    if conversation.channel.status != ChannelStatus.ACTIVE:
        raise ReplyRefused(_("Reconnect the channel before sending again."))
    _check_mode(policy.conversation_reply_options(conversation, now), message.send_mode)
    if message.send_mode == SendMode.PRIVATE_REPLY:
        conversation.private_reply_at = now
        conversation.save(update_fields=["private_reply_at"])
    claimed = Message.objects.filter(pk=message.pk, status=MessageStatus.FAILED).update(
        status=MessageStatus.QUEUED,
        error_code=None,
        error_reason="",
        send_claimed_at=None,
        sent_at=now,
        author=membership.user,
    )
    message.refresh_from_db()
    if claimed:
        # Meta keeps an uploaded file for weeks, not for ever: a retry uploads it again.
        Attachment.objects.filter(message=message).update(source="")
        _enqueue_delivery(message)
        live.changed(organization_id=message.organization_id, conversation_ids=[conversation.pk])
    return message
