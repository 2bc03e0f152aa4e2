from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsMetaConfig(AppConfig):
    name = "channels_meta"
    verbose_name = _("Meta channels")
