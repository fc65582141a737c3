"""The anomalies' REST API, mounted under /api/v1/."""

from __future__ import annotations

from django.urls import path

from insights.anomalies.apis import AnomalyApi, AnomalyMonitorApi

urlpatterns = [
    path("anomalies/", AnomalyApi.as_view({"get": "list"}), name="anomaly-api"),
    path(
        "anomalies/<int:pk>/",
        AnomalyApi.as_view({"get": "retrieve", "patch": "partial_update"}),
        name="anomaly-api-detail",
    ),
    path("anomaly-monitor/", AnomalyMonitorApi.as_view(), name="anomaly-monitor-api"),
]
