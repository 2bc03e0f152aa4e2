from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


def _code_field(*, label: str, help_text: str = "", numeric: bool = False) -> forms.CharField:
    attrs = {"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"}
    if numeric:
        attrs["inputmode"] = "numeric"
    return forms.CharField(
        label=label,
        max_length=32,
        help_text=help_text,
        widget=forms.TextInput(attrs=attrs),
    )


class SetUpForm(forms.Form):
    code = _code_field(label=_("Code from the app"), numeric=True)


def _any_code_field() -> forms.CharField:
    return _code_field(
        label=_("Code"),
        help_text=_("The 6-digit code from your authenticator app, or a recovery code."),
    )


class CodeForm(forms.Form):
    code = _any_code_field()


class DisableForm(forms.Form):
    password = forms.CharField(
        label=_("Current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    code = _any_code_field()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, auto_id="disable_%s", **kwargs)


class ReplaceRecoveryCodesForm(CodeForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, auto_id="replace_%s", **kwargs)


class RequirementForm(forms.Form):
    require_two_factor = forms.BooleanField(
        label=_("Require two-factor authentication of every member"),
        required=False,
        help_text=_(
            "Members who have not turned it on are asked to set it up before they see "
            "anything of this organisation."
        ),
    )
