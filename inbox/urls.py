from django.urls import path

from inbox.views import actions, forwarding, library, live, media, pages

tenant_patterns = [
    path("", pages.inbox, name="inbox"),
    path("live/", live.inbox_live, name="inbox_live"),
    path("library/", library.inbox_library, name="inbox_library"),
    path("library/labels/<int:label_id>/delete/", library.label_delete, name="label_delete"),
    path(
        "library/saved-replies/<int:saved_reply_id>/delete/",
        library.saved_reply_delete,
        name="saved_reply_delete",
    ),
    path("<int:conversation_id>/", pages.conversation, name="conversation"),
    path("<int:conversation_id>/reply/", actions.reply, name="conversation_reply"),
    path("<int:conversation_id>/template/", actions.template, name="conversation_template"),
    path("<int:conversation_id>/assign/", actions.assign, name="conversation_assign"),
    path("<int:conversation_id>/status/", actions.status, name="conversation_status"),
    path("<int:conversation_id>/labels/", actions.labels, name="conversation_labels"),
    path("<int:conversation_id>/unread/", actions.unread, name="conversation_unread"),
    path("<int:conversation_id>/notes/", actions.note, name="conversation_note"),
    path("<int:conversation_id>/contact/", actions.contact, name="conversation_contact"),
    path(
        "<int:conversation_id>/messages/<int:message_id>/retry/",
        actions.retry,
        name="message_retry",
    ),
    path("media/<int:attachment_id>/", media.attachment, name="attachment"),
    path(
        "media/<int:attachment_id>/thumbnail/",
        media.attachment_thumbnail,
        name="attachment_thumbnail",
    ),
    path("contacts/<int:contact_id>/avatar/", media.contact_avatar, name="contact_avatar"),
]

# Outside the organisation's URLs: Meta fetches files staff send to Instagram from here.
public_patterns = [
    path("media/signed/<str:token>/", media.outbound_file, name="outbound_file"),
]

# Under /o/<slug>/settings/forwarding/.
forwarding_patterns = [
    path("", forwarding.forwarding, name="forwarding"),
    path("bridge/", forwarding.forwarding_bridge, name="forwarding_bridge"),
    path("<int:endpoint_id>/", forwarding.forwarding_endpoint, name="forwarding_endpoint"),
    path("<int:endpoint_id>/secret/", forwarding.forwarding_secret, name="forwarding_secret"),
    path("<int:endpoint_id>/delete/", forwarding.forwarding_delete, name="forwarding_delete"),
    path(
        "<int:endpoint_id>/deliveries/<int:delivery_id>/redeliver/",
        forwarding.forwarding_redeliver,
        name="forwarding_redeliver",
    ),
]
