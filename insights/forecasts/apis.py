"""Stored forecasts in the REST API: /api/v1/forecasts/."""

from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from insights.forecasts.serializers import StoredForecastSerializer
from insights.models import FORECAST_SCOPES, StoredForecast
from insights.models.forecasts import StoredForecastQuerySet
from portal.core.apis import ScopedAPIMixin
from portal.core.filters import choice_filter, text_filter


class ForecastApi(ScopedAPIMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The latest forecasts, daily (92 days ahead) and monthly (18 months ahead, this month
    first), with 80 % and 95 % intervals and their backtest's error; a series with too
    little history has its reason instead. Team leads read their teams' forecasts; the
    tenant's, billing units' and services' are for admins, finance and reseller admins."""

    model = StoredForecast
    serializer_class = StoredForecastSerializer
    read_roles = StoredForecastQuerySet.readable_by
    query_filters = (
        choice_filter("scope", FORECAST_SCOPES, "Whose cost: the tenant's, or one series'."),
        text_filter("key", "The team's or billing unit's id, or the service's name."),
        text_filter("label", "The team's, billing unit's or service's name."),
        choice_filter("frequency", ("daily", "monthly"), "Daily or monthly forecasts."),
    )

    def get_queryset(self) -> models.QuerySet[Any]:
        return super().get_queryset().select_related("team").order_by("scope", "label", "pk")

    @extend_schema(summary="List stored forecasts")
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)
