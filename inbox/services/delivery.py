"""Delivering queued replies to Meta. A worker claims the message before calling Meta, so a
delivery that runs twice sends once; Meta's answer makes it `sent` (with Meta's id),
`failed` (with the reason in words), or leaves it queued for a retry (rate limits,
Meta briefly unavailable). A message that must follow another (the caption Messenger
and Instagram take apart from its file) waits until that one is sent, and fails with
it."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from channels_meta.graph.calls import sending
from channels_meta.graph.errors import (
    GraphError,
    OutsideWindow,
    RateLimited,
    TokenInvalid,
    TransientError,
)
from channels_meta.models import Channel, ChannelStatus
from channels_meta.services.tokens import token_refusal_handled
from inbox import live
from inbox.models import STATUS_ORDER, Conversation, EventType, Message, MessageStatus, SendMode
from inbox.services import outbound_media, outbox
from inbox.services.receipts import pending_receipts_apply, watermarks_catch_up

logger = logging.getLogger(__name__)
# Meta starts its messages with the code, "(#100) Param ...": staff get the words.
META_CODE_PREFIX = re.compile(r"^\(#\d+\)\s*")
# A claim this old belongs to a worker that died while calling Meta: whether Meta got the
# message is unknown, so it is not sent again on its own.
CLAIM_TIMEOUT = timedelta(minutes=10)
# Instagram: the comment already has its private reply (sent by Padu or another app).
PRIVATE_REPLY_USED = 2534023


class Retry(Exception):
    """Meta cannot take the message now; deliver it again after `countdown` seconds."""

    def __init__(self, countdown: float) -> None:
        super().__init__(countdown)
        self.countdown = countdown


def _recipient(message: Message) -> str:
    contact = message.conversation.contact
    return contact.external_id


def _send(message: Message, channel: Channel) -> sending.Sent:
    token = channel.get_token()
    conversation = message.conversation
    mode = message.send_mode
    instagram_login = channel.uses_instagram_login
    if mode == SendMode.PUBLIC_REPLY:
        return sending.comment_reply_send(
            comment_id=conversation.comment_id,
            token=token,
            text=message.text,
            instagram_login=instagram_login,
        )
    if mode == SendMode.PRIVATE_REPLY:
        return sending.private_reply_send(
            kind=channel.kind,
            account_id=channel.external_id,
            token=token,
            comment_id=conversation.comment_id,
            text=message.text,
            instagram_login=instagram_login,
        )
    attachment = outbound_media.outbound_attachment(message)
    if attachment is not None:
        return outbound_media.attachment_send(
            message=message,
            attachment=attachment,
            channel=channel,
            token=token,
            recipient_id=_recipient(message),
        )
    if channel.kind == "whatsapp":
        if mode == SendMode.TEMPLATE:
            template = message.extra["template"]
            return sending.whatsapp_template_send(
                phone_number_id=channel.external_id,
                token=token,
                to=_recipient(message),
                name=template["name"],
                language=template["language"],
                components=template["components"],
            )
        return sending.whatsapp_text_send(
            phone_number_id=channel.external_id,
            token=token,
            to=_recipient(message),
            text=message.text,
        )
    return sending.message_send(
        kind=channel.kind,
        account_id=channel.external_id,
        token=token,
        recipient_id=_recipient(message),
        text=message.text,
        instagram_login=instagram_login,
        tag="HUMAN_AGENT" if mode == SendMode.HUMAN_AGENT else "",
    )


def failure_reason(error: GraphError) -> str:
    """What went wrong, in words staff can act on."""
    if isinstance(error, TokenInvalid):
        return _("The channel lost its connection to Meta: reconnect it, then send again.")
    if isinstance(error, OutsideWindow):
        return _("Meta refused it: the customer's messaging window had closed.")
    if error.subcode == PRIVATE_REPLY_USED:
        return _("Meta refused it: this comment already has its private reply.")
    if error.subcode in (2018108, 1545041) or error.code == 551:
        return _("Meta refused it: this person isn't available to receive messages now.")
    if error.subcode == 2018001:
        return _("Meta refused it: the customer could not be found.")
    if error.code == 131048:
        return _("WhatsApp refused it for spam limits: wait before writing to this number.")
    return _("Meta refused the message: %(reason)s") % {
        "reason": META_CODE_PREFIX.sub("", error.message)
    }


def _fail(
    message: Message, reason: str, code: int | None = None, *, private_reply_used: bool = False
) -> None:
    with transaction.atomic():
        failed = Message.objects.filter(pk=message.pk, status=MessageStatus.QUEUED).update(
            status=MessageStatus.FAILED, error_code=code, error_reason=reason[:500]
        )
        if not failed:  # a worker recorded it sent in the meantime
            return
        if message.send_mode == SendMode.PRIVATE_REPLY and not private_reply_used:
            # Meta did not take it, so the one private reply is still there to use.
            Conversation.objects.filter(pk=message.conversation_id).update(private_reply_at=None)
        followers = list(_waiting_for(message.pk).values_list("pk", flat=True))
        Message.objects.filter(pk__in=followers).update(
            status=MessageStatus.FAILED,
            error_reason=_("Not sent, because the file it goes with was not sent."),
        )
        outbox.messages_forward(
            organization_id=message.organization_id,
            message_ids=[message.pk, *followers],
            event_type=EventType.MESSAGE_UPDATED,
        )
        live.changed(
            organization_id=message.organization_id, conversation_ids=[message.conversation_id]
        )


def _claim(message_id: int) -> Message | None:
    claimed = Message.objects.filter(
        pk=message_id, status=MessageStatus.QUEUED, send_claimed_at__isnull=True
    ).update(send_claimed_at=timezone.now())
    if not claimed:
        return None
    return Message.objects.select_related("conversation__contact", "channel").get(pk=message_id)


def message_deliver(*, message_id: int) -> str:
    """Send one queued message to Meta, at most once whatever how often this runs; raise
    Retry when Meta asks to wait or is briefly unavailable. Returns what happened."""
    message = _claim(message_id)
    if message is None:
        return "not queued"
    channel = message.channel
    if channel.status != ChannelStatus.ACTIVE or not channel.has_token:
        _fail(message, _("The channel is not connected to Meta: reconnect it, then send again."))
        return "failed"
    if message.attachments and outbound_media.outbound_attachment(message) is None:
        _fail(message, _("Padu no longer has the file to send."))
        return "failed"
    try:
        with token_refusal_handled(channel):
            sent = _send(message, channel)
    except (RateLimited, TransientError) as error:
        Message.objects.filter(pk=message.pk).update(send_claimed_at=None)
        countdown = error.retry_after if isinstance(error, RateLimited) else 30
        raise Retry(countdown) from error
    except GraphError as error:
        logger.info("Meta refused message %s: %s", message.pk, error)
        used = error.subcode == PRIVATE_REPLY_USED
        _fail(message, failure_reason(error), error.code, private_reply_used=used)
        return "failed"

    _sent_record(message, sent)
    watermarks_catch_up(message=message)
    return "sent"


@transaction.atomic
def _sent_record(message: Message, sent: sending.Sent) -> None:
    sent_fields = {"status": MessageStatus.SENT, "sent_at": timezone.now()}
    if sent.message_id:
        sent_fields.update(_echo_absorb(message, sent.message_id))
    Message.objects.filter(pk=message.pk, status=MessageStatus.QUEUED).update(
        external_id=sent.message_id, **sent_fields
    )
    outbox.messages_forward(
        organization_id=message.organization_id,
        message_ids=[message.pk],
        event_type=EventType.MESSAGE_UPDATED,
    )
    if sent.message_id:
        pending_receipts_apply(channel=message.channel, external_ids=[sent.message_id])
    live.changed(
        organization_id=message.organization_id, conversation_ids=[message.conversation_id]
    )


def _echo_absorb(message: Message, external_id: str) -> dict:
    """Meta's echo of this send may have been recorded before Meta's answer reached the
    worker: that row is the same message, so it goes, leaving what it had learnt (a
    later status) to the message staff sent."""
    echo = (
        Message.objects.select_for_update()
        .filter(channel_id=message.channel_id, external_id=external_id)
        .exclude(pk=message.pk)
        .first()
    )
    if echo is None:
        return {}
    learnt = {}
    if echo.status in STATUS_ORDER and STATUS_ORDER.index(echo.status) > STATUS_ORDER.index(
        MessageStatus.SENT
    ):
        learnt = {
            "status": echo.status,
            "delivered_at": echo.delivered_at,
            "read_at": echo.read_at,
        }
    echo.delete()
    return learnt


def _waiting_for(message_id: int):
    """The queued messages that are sent only after this one."""
    return Message.objects.filter(
        status=MessageStatus.QUEUED, send_claimed_at__isnull=True, extra__follows=message_id
    )


def followers_due(*, message_id: int | None = None) -> list[int]:
    """Queued messages whose delivery waits for another's (a caption after its file),
    that one now sent: those following `message_id`, or all of them (for the sweeper,
    when the delivery that should have enqueued them was lost)."""
    waiting = (
        _waiting_for(message_id)
        if message_id is not None
        else Message.objects.filter(
            status=MessageStatus.QUEUED, send_claimed_at__isnull=True, extra__has_key="follows"
        )
    )
    follows = dict(waiting.values_list("pk", "extra__follows"))
    sent = set(
        Message.objects.filter(
            pk__in=set(follows.values()),
            status__in=[MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ],
        ).values_list("pk", flat=True)
    )
    return sorted(pk for pk, leader in follows.items() if leader in sent)


def message_give_up(*, message_id: int) -> None:
    """Mark a message failed when its retries ran out."""
    message = Message.objects.filter(pk=message_id, status=MessageStatus.QUEUED).first()
    if message is not None:
        _fail(message, _("Meta could not be reached for a long time: send it again."))


def deliveries_interrupted_fail() -> int:
    """Fail messages whose worker died while sending them: Meta may or may not have them,
    so staff decide whether to send again."""
    stale = Message.objects.filter(
        status=MessageStatus.QUEUED, send_claimed_at__lt=timezone.now() - CLAIM_TIMEOUT
    )
    count = 0
    for message in stale:
        _fail(
            message,
            _("Padu could not confirm that Meta got this message: check before sending again."),
        )
        count += 1
    return count
