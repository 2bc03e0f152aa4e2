from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class ManualWhatsAppForm(forms.Form):
    phone_number_id = forms.RegexField(
        label=_("Phone number ID"),
        regex=r"^\d{5,30}$",
        help_text=_("In Meta's WhatsApp Manager: API Setup, under the phone number."),
    )
    waba_id = forms.RegexField(label=_("WhatsApp Business Account ID"), regex=r"^\d{5,30}$")
    token = forms.CharField(
        label=_("System-user access token"),
        strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        help_text=_("It is checked with Meta, then stored encrypted. Padu never shows it again."),
    )


class ChannelSettingsForm(forms.Form):
    human_agent_enabled = forms.BooleanField(
        label=_("Allow human agent replies (24 hours to 7 days)"), required=False
    )


class EmbeddedSignupForm(forms.Form):
    pin = forms.RegexField(
        label=_("Two-step verification PIN"),
        regex=r"^\d{6}$",
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
        help_text=_(
            "Six digits. Meta needs it to register the number for the Cloud API; if the "
            "number already has one, enter that one."
        ),
        error_messages={"invalid": _("The PIN is six digits.")},
    )


class EmbeddedSignupFinishForm(forms.Form):
    """What the channels page posts when Embedded Signup's popup is done. The ids are
    what the browser says the business chose: Padu checks them with Meta before use."""

    code = forms.CharField(max_length=2048, strip=True)
    waba_id = forms.RegexField(
        regex=r"^\d{1,30}$",
        error_messages={"required": _("Meta did not say which WhatsApp account you chose.")},
    )
    phone_number_id = forms.RegexField(
        regex=r"^\d{1,30}$",
        error_messages={"required": _("Meta did not say which WhatsApp number you chose.")},
    )
    pin = EmbeddedSignupForm.base_fields["pin"]
