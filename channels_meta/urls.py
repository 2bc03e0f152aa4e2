from django.urls import path

from channels_meta import views
from channels_meta.webhooks import endpoint

tenant_patterns = [
    path("", views.channels, name="channels"),
    path("connect/<slug:flow>/", views.connect_start, name="channel_connect"),
    path("whatsapp/signup/", views.whatsapp_signup, name="channel_whatsapp_signup"),
    path("whatsapp/manual/", views.manual_whatsapp, name="channel_manual_whatsapp"),
    path("<int:channel_id>/reconnect/", views.reconnect, name="channel_reconnect"),
    path("<int:channel_id>/disconnect/", views.disconnect, name="channel_disconnect"),
    path("<int:channel_id>/settings/", views.channel_settings, name="channel_settings"),
    path("<int:channel_id>/templates/", views.templates, name="channel_templates"),
]

urlpatterns = [
    path("webhooks/meta/", endpoint.meta_webhook, name="meta_webhook"),
    path("meta/oauth/callback/", views.oauth_callback, name="meta_oauth_callback"),
]
