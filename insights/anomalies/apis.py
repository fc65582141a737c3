"""The anomaly monitor in the REST API: anomalies (list, one, feedback) and the monitor's
settings."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import models
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from insights.anomalies.feedback import (
    FEEDBACK_ROLES,
    MONITOR_READERS,
    anomaly_feedback_set,
    monitor_get,
    monitor_update,
)
from insights.anomalies.serializers import (
    AnomalyFeedbackSerializer,
    AnomalyMonitorInputSerializer,
    AnomalyMonitorSerializer,
    AnomalySerializer,
    anomalies_filtered,
)
from insights.models import Anomaly, AnomalyMonitor
from insights.models.anomalies import ANOMALY_DIMENSIONS, AnomalyQuerySet
from portal.api_schema import NOT_JSON
from portal.core.apis import ScopedAPIMixin
from portal.core.errors import ApplicationError
from portal.core.filters import choice_filter
from portal.core.parsers import BoundedJSONParser
from portal.core.permissions import ADMIN_ONLY

DATE_PARAMETERS = [
    OpenApiParameter(
        "start", OpenApiTypes.DATE, description="Only anomalies with a day on or after it."
    ),
    OpenApiParameter(
        "end", OpenApiTypes.DATE, description="Only anomalies with a day on or before it."
    ),
]


def _date_param(request: Request, name: str) -> date | None:
    text = request.query_params.get(name, "").strip()
    if not text:
        return None
    if len(text) == 10:
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise ApplicationError(
        f"{name} is a date as YYYY-MM-DD, not {text[:40]!r}.", code=f"invalid_{name}", field=name
    )


class AnomalyApi(ScopedAPIMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Anomalies the monitor found, newest first: a team lead's are their teams' only.
    Admins, finance, reseller admins and a team's leads mark them expected or not."""

    model = Anomaly
    serializer_class = AnomalySerializer
    input_serializer_class = AnomalyFeedbackSerializer
    read_roles = AnomalyQuerySet.readable_by
    write_roles = FEEDBACK_ROLES
    parser_classes = [BoundedJSONParser]
    query_filters = (
        choice_filter("dimension", ANOMALY_DIMENSIONS, "Only anomalies of this dimension."),
        choice_filter("feedback", Anomaly.Feedback.values, "Only anomalies with this feedback."),
    )

    def get_queryset(self) -> models.QuerySet[Any]:
        anomalies = (
            super()
            .get_queryset()
            .select_related("team", "feedback_by")
            .order_by("-start_date", "-impact", "-pk")
        )
        if getattr(self, "action", None) != "list":
            return anomalies
        return anomalies_filtered(
            anomalies,
            start=_date_param(self.request, "start"),
            end=_date_param(self.request, "end"),
        )

    @extend_schema(parameters=DATE_PARAMETERS, summary="List anomalies")
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="One anomaly, with its root causes and days")
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        request=AnomalyFeedbackSerializer,
        responses={200: AnomalySerializer, 415: NOT_JSON},
        summary="Mark an anomaly expected, not expected, or open again",
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        anomaly = self.get_object()
        given = AnomalyFeedbackSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        anomaly = anomaly_feedback_set(
            actor=request.user, anomaly=anomaly, feedback=given.validated_data["feedback"]
        )
        return Response(self.get_serializer(anomaly).data)


class AnomalyMonitorApi(ScopedAPIMixin, APIView):
    """The tenant's one anomaly monitor: it watches every team, billing unit, account and
    service daily, with no set-up. Admins change its settings."""

    model = AnomalyMonitor
    read_roles = MONITOR_READERS
    write_roles = ADMIN_ONLY
    parser_classes = [BoundedJSONParser]

    def get_queryset(self) -> models.QuerySet[Any]:
        # One tenant-wide row, no one's own: `read_roles` decides who reads it.
        return AnomalyMonitor.objects.all()

    @extend_schema(responses=AnomalyMonitorSerializer, summary="The anomaly monitor's settings")
    def get(self, request: Request) -> Response:
        return Response(AnomalyMonitorSerializer(monitor_get()).data)

    @extend_schema(
        request=AnomalyMonitorInputSerializer,
        responses={200: AnomalyMonitorSerializer, 415: NOT_JSON},
        summary="Change the anomaly monitor's settings",
    )
    def patch(self, request: Request) -> Response:
        given = AnomalyMonitorInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        monitor = monitor_update(actor=request.user, monitor=monitor_get(), **given.validated_data)
        return Response(AnomalyMonitorSerializer(monitor).data)
