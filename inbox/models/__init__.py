"""The inbox's models, by concept: contacts, conversations (with labels, notes and saved
replies), messages, their attachments, what Meta reported before Padu knew the message,
and the words each conversation holds, for search. Everything is importable from `inbox.models`."""

from inbox.models.attachments import (
    Attachment,
    AttachmentKind,
    AttachmentStatus,
    attachment_upload_to,
    thumbnail_upload_to,
)
from inbox.models.contacts import Contact, avatar_upload_to
from inbox.models.conversations import (
    Conversation,
    ConversationKind,
    ConversationStatus,
    Label,
    Note,
    SavedReply,
)
from inbox.models.forwarding import (
    DeliveryStatus,
    EventDelivery,
    EventType,
    OutboxEvent,
    WebhookEndpoint,
)
from inbox.models.messages import (
    STATUS_ORDER,
    Direction,
    Message,
    MessageKind,
    MessageStatus,
    SendMode,
)
from inbox.models.orders import OrderRecord
from inbox.models.pending import PendingChange, PendingChangeKind, PendingReceipt
from inbox.models.search import ConversationWord

__all__ = [
    "STATUS_ORDER",
    "Attachment",
    "AttachmentKind",
    "AttachmentStatus",
    "Contact",
    "Conversation",
    "ConversationKind",
    "ConversationStatus",
    "ConversationWord",
    "DeliveryStatus",
    "Direction",
    "EventDelivery",
    "EventType",
    "Label",
    "Message",
    "MessageKind",
    "MessageStatus",
    "Note",
    "OrderRecord",
    "OutboxEvent",
    "PendingChange",
    "PendingChangeKind",
    "PendingReceipt",
    "SavedReply",
    "SendMode",
    "WebhookEndpoint",
    "attachment_upload_to",
    "avatar_upload_to",
    "thumbnail_upload_to",
]
