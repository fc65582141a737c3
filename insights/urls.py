"""The cost explorer's pages, mounted under /costs/."""

from __future__ import annotations

from django.urls import path

from insights.views.explorer import CostExplorerView
from insights.views.metrics import BusinessMetricUploadView

urlpatterns = [
    path("", CostExplorerView.as_view(), name="cost-explorer"),
    path("teams/<int:pk>/metrics/", BusinessMetricUploadView.as_view(), name="team-metrics-upload"),
]
