from django.urls import path

from privacy.views import deletion, exports, meta, policy, public, queue, retention

tenant_patterns = [
    path("delete/", deletion.organization_delete, name="organization_delete"),
    path("export/", exports.organization_export, name="organization_export"),
    path(
        "export/<int:export_id>/download/",
        exports.organization_export_download,
        name="organization_export_download",
    ),
    path("retention/", retention.retention_settings, name="retention_settings"),
    path("requests/", queue.data_requests, name="data_requests"),
    path("requests/<int:data_request_id>/", queue.data_request, name="data_request"),
    path(
        "requests/<int:data_request_id>/approve/",
        queue.data_request_approve,
        name="data_request_approve",
    ),
    path(
        "requests/<int:data_request_id>/reject/",
        queue.data_request_reject,
        name="data_request_reject",
    ),
    path(
        "contacts/<int:contact_id>/request/",
        queue.contact_data_request,
        name="contact_data_request",
    ),
    path(
        "contacts/<int:contact_id>/restriction/lift/",
        queue.contact_restriction_lift,
        name="contact_restriction_lift",
    ),
]

urlpatterns = [
    path("privacy-policy/", policy.privacy_policy, name="privacy_policy"),
    path("privacy-policy/seen/", policy.policy_notice_dismiss, name="policy_notice_dismiss"),
    path("cookies/", policy.cookies, name="cookies"),
    path("sub-processors/", policy.sub_processors, name="sub_processors"),
    path("account/delete/", deletion.account_delete, name="account_delete"),
    path("account/data/", exports.my_data, name="my_data"),
    path(
        "account/data/<int:export_id>/download/", exports.my_data_download, name="my_data_download"
    ),
    path("webhooks/meta/data-deletion/", meta.meta_data_deletion, name="meta_data_deletion"),
    path("webhooks/meta/deauthorize/", meta.meta_deauthorize, name="meta_deauthorize"),
    # An organisation's public page first: its slug may be any word.
    path("privacy/<slug:slug>/request/", public.customer_request, name="privacy_request"),
    path(
        "privacy/<slug:slug>/request/sent/",
        public.customer_request_sent,
        name="privacy_request_sent",
    ),
    path(
        "privacy/<slug:slug>/request/confirm/<str:token>/",
        public.customer_request_confirm,
        name="privacy_request_confirm",
    ),
    path(
        "privacy/exports/<str:token>/",
        exports.customer_export_download,
        name="customer_export_download",
    ),
    path("privacy/deletion/<str:code>/", meta.request_status, name="privacy_deletion_status"),
    path("privacy/requests/<str:code>/", meta.request_status, name="privacy_request_status"),
]
