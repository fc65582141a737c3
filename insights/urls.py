"""The cost explorer's pages, mounted under /costs/."""

from __future__ import annotations

from django.urls import path

from insights.views.explorer import CostExplorerView

urlpatterns = [
    path("", CostExplorerView.as_view(), name="cost-explorer"),
]
