"""The forecasts' REST API, mounted under /api/v1/."""

from __future__ import annotations

from django.urls import path

from insights.forecasts.apis import ForecastApi

urlpatterns = [
    path("forecasts/", ForecastApi.as_view({"get": "list"}), name="forecast-api"),
]
