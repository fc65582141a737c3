"""The cost explorer's REST API, mounted under /api/v1/."""

from __future__ import annotations

from django.urls import include, path

from insights.apis import (
    CostApi,
    CostCsvApi,
    CostOptionsApi,
    CostValuesApi,
    TeamRecommendationApi,
    TeamScoreApi,
)
from insights.metric_apis import BusinessMetricApi
from insights.settings_apis import ScoreSettingsApi

urlpatterns = [
    path("costs/", CostApi.as_view(), name="cost-api"),
    path("costs.csv", CostCsvApi.as_view(), name="cost-csv"),
    path("costs/options/", CostOptionsApi.as_view(), name="cost-options"),
    path("costs/values/", CostValuesApi.as_view(), name="cost-values"),
    path("scores/settings/", ScoreSettingsApi.as_view(), name="score-settings-api"),
    path("teams/<int:pk>/scores/", TeamScoreApi.as_view(), name="team-scores-api"),
    path(
        "teams/<int:pk>/recommendations/",
        TeamRecommendationApi.as_view(),
        name="team-recommendations-api",
    ),
    path(
        "business-metrics/",
        BusinessMetricApi.as_view({"get": "list", "post": "create"}),
        name="business-metric-api",
    ),
    path("", include("insights.budgets.api_urls")),
    path("", include("insights.anomalies.api_urls")),
    path("", include("insights.forecasts.api_urls")),
    path("", include("insights.notifications.api_urls")),
]
