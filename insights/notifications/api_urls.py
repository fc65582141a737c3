"""The notifications' REST API, mounted under /api/v1/."""

from __future__ import annotations

from rest_framework.routers import DefaultRouter

from insights.notifications.apis import NotificationDeliveryApi, NotificationEndpointApi

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register(
    "notification-endpoints", NotificationEndpointApi, basename="notification-endpoint-api"
)
router.register(
    "notification-deliveries", NotificationDeliveryApi, basename="notification-delivery-api"
)

urlpatterns = router.urls
