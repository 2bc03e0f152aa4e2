from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from inbox.models import Contact
from privacy.models import CUSTOMER_KINDS, RetentionPolicy

KIND_CHOICES = [(kind.value, kind.label) for kind in CUSTOMER_KINDS]


class RetentionPolicyForm(forms.ModelForm):
    class Meta:
        model = RetentionPolicy
        fields = ["conversation_days", "disconnected_channel_days", "order_record_years"]


class CustomerRequestForm(forms.Form):
    """What a business's customer asks on its public privacy page."""

    kind = forms.ChoiceField(
        label=_("What would you like?"), choices=KIND_CHOICES, widget=forms.RadioSelect
    )
    identifier = forms.CharField(
        label=_("How the business knows you"),
        max_length=200,
        help_text=_("Your Instagram or Facebook name or @handle, or your WhatsApp number."),
    )
    requester_email = forms.EmailField(
        label=_("Your e-mail address"),
        max_length=254,
        help_text=_("We send a link to confirm the request here, and then its outcome."),
    )
    details = forms.CharField(
        label=_("Anything else we should know (optional)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class ContactRequestForm(forms.Form):
    """What a member records for a customer who asked them."""

    kind = forms.ChoiceField(label=_("The customer asks for"), choices=KIND_CHOICES)
    requester_email = forms.EmailField(
        label=_("Their e-mail address (optional)"),
        max_length=254,
        required=False,
        help_text=_("They will be e-mailed the outcome."),
    )
    details = forms.CharField(
        label=_("Details"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ContactChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, contact: Contact) -> str:
        handle = f" ({contact.handle})" if contact.handle else ""
        return f"{contact.display_name}{handle} · {contact.channel.name}"


class ApproveForm(forms.Form):
    contacts = ContactChoice(
        queryset=Contact.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("The contacts this person is"),
    )

    def __init__(self, *args, candidates, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contacts"].queryset = candidates


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Why (the person is told)"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class AccountDeleteForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class OrganizationDeleteForm(AccountDeleteForm):
    confirmation = forms.CharField(
        label=_("The organisation's name"),
        max_length=120,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    field_order = ["confirmation", "password"]
