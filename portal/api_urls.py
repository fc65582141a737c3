"""The REST API of a tenant, under /api/v1/."""

from __future__ import annotations

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from portal.audit.apis import AuditEntryApi
from portal.users.apis import TokenObtainApi, UserApi

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("users", UserApi, basename="user")
router.register("audit", AuditEntryApi, basename="audit-entry")

urlpatterns = [
    path("auth/token/", TokenObtainApi.as_view(), name="api-token"),
    path("", include("billing.api_urls")),
    path("", include("allocation.api_urls")),
    path("", include("invoices.api_urls")),
    path("", include(router.urls)),
]
