"""The anomalies' pages."""

from __future__ import annotations

from django.urls import path

from insights.anomalies.views import (
    AnomalyDetailView,
    AnomalyFeedbackView,
    AnomalyListView,
    MonitorView,
)

urlpatterns = [
    path("", AnomalyListView.as_view(), name="anomaly-list"),
    path("<int:pk>/", AnomalyDetailView.as_view(), name="anomaly-detail"),
    path("<int:pk>/feedback/", AnomalyFeedbackView.as_view(), name="anomaly-feedback"),
    path("monitor/", MonitorView.as_view(), name="anomaly-monitor"),
]
