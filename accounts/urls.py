from django.contrib.auth import views as auth_views
from django.urls import include, path, reverse_lazy
from django.views.generic import TemplateView

from accounts.views import auth, members, organizations, profile

tenant_patterns = [
    path("", organizations.organization_home, name="organization_home"),
    path("settings/", organizations.organization_settings, name="organization_settings"),
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
    path(
        "",
        auth_views.PasswordResetView.as_view(
            template_name="accounts/password_reset.html",
            email_template_name="accounts/email/password_reset.txt",
            subject_template_name="accounts/email/password_reset_subject.txt",
        ),
        name="password_reset",
    ),
    path(
        "sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_sent.html"),
        name="password_reset_done",
    ),
    path(
        "<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="accounts/password_reset_confirm.html",
            success_url=reverse_lazy("password_reset_complete"),
        ),
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
    path("sign-up/", auth.sign_up, name="sign_up"),
    path("sign-in/", auth.SignInView.as_view(), name="login"),
    path("sign-out/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", include(password_reset_patterns)),
    path("account/", profile.profile, name="profile"),
    path("account/password/", auth.PasswordChangeView.as_view(), name="password_change"),
    path("organizations/new/", profile.organization_new, name="organization_new"),
    path("invitations/<str:token>/", members.invitation_accept, name="invitation_accept"),
    path("terms/", TemplateView.as_view(template_name="legal/terms.html"), name="terms"),
    path(
        "privacy-policy/",
        TemplateView.as_view(template_name="legal/privacy_policy.html"),
        name="privacy_policy",
    ),
    path("o/<slug:org_slug>/", include(tenant_patterns)),
]
