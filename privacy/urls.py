from django.urls import path

from privacy import views

tenant_patterns = [
    path("retention/", views.retention_settings, name="retention_settings"),
]

urlpatterns = [
    path("webhooks/meta/data-deletion/", views.meta_data_deletion, name="meta_data_deletion"),
    path("webhooks/meta/deauthorize/", views.meta_deauthorize, name="meta_deauthorize"),
    path("privacy/deletion/<str:code>/", views.deletion_status, name="privacy_deletion_status"),
]
