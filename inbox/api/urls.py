from django.urls import path

from inbox.api import contacts, conversations, files, library, messages

api_patterns = [
    path("conversations/", conversations.ConversationList.as_view(), name="api_conversations"),
    path(
        "conversations/<int:conversation_id>/",
        conversations.ConversationDetail.as_view(),
        name="api_conversation",
    ),
    path(
        "conversations/<int:conversation_id>/assign/",
        conversations.ConversationAssign.as_view(),
        name="api_conversation_assign",
    ),
    path(
        "conversations/<int:conversation_id>/status/",
        conversations.ConversationStatusSet.as_view(),
        name="api_conversation_status",
    ),
    path(
        "conversations/<int:conversation_id>/labels/",
        conversations.ConversationLabels.as_view(),
        name="api_conversation_labels",
    ),
    path(
        "conversations/<int:conversation_id>/messages/",
        messages.MessageList.as_view(),
        name="api_messages",
    ),
    path("files/<int:file_id>/", files.FileDownload.as_view(), name="api_file"),
    path("contacts/", contacts.ContactList.as_view(), name="api_contacts"),
    path("contacts/import", contacts.ContactImportView.as_view(), name="api_contacts_import"),
    path("contacts/<int:contact_id>/", contacts.ContactDetail.as_view(), name="api_contact"),
    path("labels/", library.LabelList.as_view(), name="api_labels"),
    path("labels/<int:label_id>/", library.LabelDetail.as_view(), name="api_label"),
    path("saved-replies/", library.SavedReplyList.as_view(), name="api_saved_replies"),
    path(
        "saved-replies/<int:saved_reply_id>/",
        library.SavedReplyDetail.as_view(),
        name="api_saved_reply",
    ),
]
