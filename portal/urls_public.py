"""The platform operator's site on the public schema (e.g. localhost)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path

from portal.tenants import views as tenant_views
from portal.users import views as user_views

urlpatterns = [
    path("", tenant_views.TenantListView.as_view(), name="dashboard"),
    path("login/", user_views.login_view, name="login"),
    path("logout/", user_views.logout_view, name="logout"),
    path("tenants/new/", tenant_views.TenantCreateView.as_view(), name="tenant-create"),
    path("tenants/<int:pk>/active/", tenant_views.tenant_set_active_view, name="tenant-set-active"),
    path("admin/", admin.site.urls),
]
