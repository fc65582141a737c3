"""The REST API of a tenant, under /api/v1/: its resources, its schema and its docs."""

from __future__ import annotations

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from portal.api_root import ApiRootApi
from portal.audit.apis import AuditEntryApi
from portal.users.apis import TokenObtainApi, UserApi

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("users", UserApi, basename="user-api")
router.register("audit", AuditEntryApi, basename="audit-entry")

urlpatterns = [
    path("", ApiRootApi.as_view(), name="api-root"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("auth/token/", TokenObtainApi.as_view(), name="api-token"),
    path("", include("billing.api_urls")),
    path("", include("allocation.api_urls")),
    path("", include("invoices.api_urls")),
    path("", include("insights.api_urls")),
    path("", include(router.urls)),
]
