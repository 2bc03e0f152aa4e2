from django.urls import path

from inbox.views import media

tenant_patterns: list = [
    path("media/<int:attachment_id>/", media.attachment, name="attachment"),
    path(
        "media/<int:attachment_id>/thumbnail/",
        media.attachment_thumbnail,
        name="attachment_thumbnail",
    ),
]
