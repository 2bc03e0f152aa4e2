"""The inbox's models, by concept: contacts, conversations (with labels, notes and saved
replies), messages, their attachments, and what Meta reported before Padu knew the
message. Everything is importable from `inbox.models`."""

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
from inbox.models.messages import (
    STATUS_ORDER,
    Direction,
    Message,
    MessageKind,
    MessageStatus,
    SendMode,
)
from inbox.models.pending import PendingChange, PendingChangeKind, PendingReceipt

__all__ = [
    "STATUS_ORDER",
    "Attachment",
    "AttachmentKind",
    "AttachmentStatus",
    "Contact",
    "Conversation",
    "ConversationKind",
    "ConversationStatus",
    "Direction",
    "Label",
    "Message",
    "MessageKind",
    "MessageStatus",
    "Note",
    "PendingChange",
    "PendingChangeKind",
    "PendingReceipt",
    "SavedReply",
    "SendMode",
    "attachment_upload_to",
    "avatar_upload_to",
    "thumbnail_upload_to",
]
