from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.forms import AuthenticationForm, SetPasswordMixin
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts import selectors, throttle
from accounts.models import ApiKey, ApiKeyScope, Role, User
from accounts.validators import validate_single_line


class SignInForm(AuthenticationForm):
    """Django's sign-in form, refusing attempts while the e-mail or address is locked."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "locked": _(
            "Too many failed sign-in attempts. For your security, signing in is paused "
            "for %(minutes)d minutes. You can reset your password meanwhile."
        ),
    }

    def __init__(self, request=None, *args, client_ip: str | None = None, **kwargs) -> None:
        super().__init__(request, *args, **kwargs)
        self.client_ip = client_ip
        self.fields["username"].label = _("E-mail address")
        self.fields["username"].widget.attrs["autocomplete"] = "email"
        self.locked_now = False

    def _locked_error(self) -> ValidationError:
        return ValidationError(
            self.error_messages["locked"],
            code="locked",
            params={"minutes": settings.LOGIN_LOCKOUT_SECONDS // 60},
        )

    def clean(self):
        username = self.cleaned_data.get("username", "")
        account = selectors.user_for_email(username) if username else None
        attempt = throttle.sign_in_begin(
            account=f"user:{account.pk}" if account else f"address:{username.strip().lower()}",
            ip=self.client_ip,
        )
        if not attempt.allowed:
            raise self._locked_error()
        try:
            cleaned = super().clean()
        except ValidationError:
            self.locked_now = attempt.spends_account_budget
            if self.locked_now:
                raise self._locked_error() from None
            raise
        throttle.sign_in_succeeded(attempt)
        return cleaned


class NewPasswordFields(SetPasswordMixin, forms.Form):
    """Password and confirmation, checked by Django's password validators."""

    password1, password2 = SetPasswordMixin.create_password_fields()

    def clean(self):
        cleaned = super().clean()
        self.validate_passwords()
        return cleaned

    def _post_clean(self) -> None:
        super()._post_clean()
        if self.cleaned_data.get("password2"):
            self.validate_password_for_user(self._password_user())

    def _password_user(self) -> User:
        return User(email=self.cleaned_data.get("email", ""))


def _terms_label():
    return format_html(
        _(
            'I accept the <a href="{terms}">terms of service</a> and the '
            '<a href="{privacy}">privacy policy</a>'
        ),
        terms=reverse("terms"),
        privacy=reverse("privacy_policy"),
    )


class AgreementFields(forms.Form):
    confirm_adult = forms.BooleanField(
        label=_("I am 18 years old or older"),
        error_messages={"required": _("You must be 18 or older to use Padu.")},
    )
    accept_terms = forms.BooleanField(
        error_messages={
            "required": _("Please accept the terms of service and the privacy policy.")
        },
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["accept_terms"].label = _terms_label()


def name_field(label: str, max_length: int, **kwargs) -> forms.CharField:
    return forms.CharField(
        label=label, max_length=max_length, validators=[validate_single_line], **kwargs
    )


class SignUpForm(NewPasswordFields, AgreementFields):
    full_name = name_field(_("Your name"), 150)
    email = forms.EmailField(
        label=_("E-mail address"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    organization_name = name_field(
        _("Organisation name"),
        120,
        help_text=_("Your business or team. You can invite colleagues next."),
    )
    field_order = [
        "full_name",
        "email",
        "organization_name",
        "password1",
        "password2",
        "confirm_adult",
        "accept_terms",
    ]

    def clean_email(self) -> str:
        return User.objects.normalize_email(self.cleaned_data["email"]).lower()

    def _password_user(self) -> User:
        return User(
            email=self.cleaned_data.get("email", ""),
            full_name=self.cleaned_data.get("full_name", ""),
        )


class InvitedSignUpForm(NewPasswordFields, AgreementFields):
    full_name = name_field(_("Your name"), 150)
    field_order = ["full_name", "password1", "password2", "confirm_adult", "accept_terms"]

    def __init__(self, *args, email: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def _password_user(self) -> User:
        return User(email=self.email, full_name=self.cleaned_data.get("full_name", ""))


class ProfileForm(forms.ModelForm):
    current_password = forms.CharField(
        label=_("Current password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("Needed only to change your e-mail address."),
    )

    class Meta:
        model = User
        fields = ["full_name", "email", "language", "time_zone"]

    def clean_email(self) -> str:
        email = User.objects.normalize_email(self.cleaned_data["email"]).lower()
        taken = User.objects.with_email(email).exclude(pk=self.instance.pk).exists()
        if taken:
            raise ValidationError(_("Another account uses this e-mail address."))
        return email

    def clean(self):
        cleaned = super().clean()
        if "email" in self.changed_data and not self.instance.check_password(
            cleaned.get("current_password") or ""
        ):
            self.add_error(
                "current_password", _("Enter your current password to change your e-mail.")
            )
        return cleaned


class OrganizationForm(forms.Form):
    name = name_field(_("Organisation name"), 120)


class EmailConfirmForm(forms.Form):
    """Confirming an address: with the account's password, unless the browser already
    holds the account."""

    password = forms.CharField(
        label=_("Password of the account"),
        strip=False,
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, user: User, needs_password: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.needs_password = needs_password
        if not needs_password:
            del self.fields["password"]

    def clean(self):
        cleaned = super().clean()
        if not self.needs_password:
            return cleaned
        attempt = throttle.sign_in_begin(account=f"user:{self.user.pk}", ip=None)
        if not attempt.allowed or not self.user.check_password(cleaned.get("password") or ""):
            raise ValidationError(
                _(
                    "That is not the account's password. If the address is yours but you "
                    "did not sign up, choose a new password with “Forgot your password?”."
                ),
                code="wrong_password",
            )
        throttle.sign_in_succeeded(attempt)
        return cleaned


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's reset form, also for active accounts that have no password yet (people an
    operator added): the e-mailed link is how they choose their first one."""

    def get_users(self, email: str):
        return User.objects.with_email(email).filter(is_active=True)


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.AGENT)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class ApiKeyForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ["name", "scope"]
        help_texts = {
            "name": _("What uses the key, e.g. “CRM sync”."),
            "scope": _("A read key can only read; a read and write key can also answer customers."),
        }
        widgets = {"scope": forms.RadioSelect}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scope"].choices = ApiKeyScope.choices
        self.fields["scope"].initial = ApiKeyScope.READ
