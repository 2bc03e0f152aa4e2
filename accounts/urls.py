from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import TemplateView

from accounts.views import (
    api_keys,
    auth,
    members,
    onboarding,
    organizations,
    profile,
    two_factor,
)

tenant_patterns = [
    path("settings/", organizations.organization_settings, name="organization_settings"),
    path(
        "settings/two-factor/",
        organizations.organization_two_factor,
        name="organization_two_factor",
    ),
    path("settings/api-keys/", api_keys.api_key_list, name="api_keys"),
    path("settings/api-keys/<int:key_id>/revoke/", api_keys.api_key_revoke, name="api_key_revoke"),
    path("leave/", organizations.organization_leave, name="organization_leave"),
    path("audit/", organizations.audit_log, name="audit_log"),
    path("notices/<int:notice_id>/dismiss/", organizations.notice_dismiss, name="notice_dismiss"),
    path("members/", members.members, name="members"),
    path("members/invite/", members.invitation_create, name="invitation_create"),
    path("members/<int:membership_id>/role/", members.member_change_role, name="member_role"),
    path("members/<int:membership_id>/remove/", members.member_remove, name="member_remove"),
    path(
        "invitations/<int:invitation_id>/revoke/",
        members.invitation_revoke,
        name="invitation_revoke",
    ),
]

password_reset_patterns = [
    path("", onboarding.PasswordResetView.as_view(), name="password_reset"),
    path(
        "sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_sent.html"),
        name="password_reset_done",
    ),
    path(
        "<uidb64>/<token>/",
        onboarding.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="accounts/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
]

urlpatterns = [
    path("", organizations.home, name="home"),
    path("healthz", organizations.healthz, name="healthz"),
    path("sign-up/", onboarding.sign_up, name="sign_up"),
    path("sign-up/sent/", onboarding.sign_up_sent, name="sign_up_sent"),
    path("account/confirm/<str:token>/", onboarding.email_confirm, name="email_confirm"),
    path("account/confirm-again/", onboarding.email_confirm_resend, name="email_confirm_resend"),
    path("sign-in/", auth.SignInView.as_view(), name="login"),
    path("sign-in/code/", two_factor.sign_in_code, name="sign_in_code"),
    path("sign-out/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", include(password_reset_patterns)),
    path("account/", profile.profile, name="profile"),
    path("account/password/", auth.PasswordChangeView.as_view(), name="password_change"),
    path("account/two-factor/", two_factor.two_factor, name="two_factor"),
    path("account/two-factor/set-up/", two_factor.two_factor_set_up, name="two_factor_set_up"),
    path(
        "account/two-factor/recovery-codes/",
        two_factor.two_factor_recovery_codes,
        name="two_factor_recovery_codes",
    ),
    path("account/two-factor/turn-off/", two_factor.two_factor_disable, name="two_factor_disable"),
    path("organizations/new/", organizations.organization_new, name="organization_new"),
    path("invitations/<str:token>/", members.invitation_accept, name="invitation_accept"),
    path("terms/", TemplateView.as_view(template_name="legal/terms.html"), name="terms"),
    path("language/", profile.language_choose, name="language_choose"),
]
