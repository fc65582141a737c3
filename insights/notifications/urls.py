"""The notifications' pages, under /settings/notifications/."""

from __future__ import annotations

from django.urls import path

from insights.notifications import views

urlpatterns = [
    path("", views.EndpointListView.as_view(), name="notification-endpoints"),
    path("new/", views.EndpointCreateView.as_view(), name="notification-endpoint-create"),
    path("<int:pk>/", views.EndpointUpdateView.as_view(), name="notification-endpoint-update"),
    path(
        "<int:pk>/delete/", views.EndpointDeleteView.as_view(), name="notification-endpoint-delete"
    ),
    path(
        "<int:pk>/rotate-secret/",
        views.EndpointRotateView.as_view(),
        name="notification-endpoint-rotate",
    ),
    path("<int:pk>/test/", views.EndpointTestView.as_view(), name="notification-endpoint-test"),
    path("deliveries/", views.DeliveryListView.as_view(), name="notification-deliveries"),
]
