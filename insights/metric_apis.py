"""Teams' business metrics in the REST API: POST values (JSON or CSV), GET them back."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import UnsupportedMediaType
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from billing.models import Team
from insights.metric_rows import DATE_PATTERN, MAX_LISTED
from insights.metrics import METRIC_WRITERS, business_metrics_for, business_metrics_import
from insights.models import BusinessMetric
from portal.api_schema import ERROR_DESCRIPTIONS, ErrorSerializer
from portal.core.apis import ScopedAPIMixin
from portal.core.errors import ApplicationError
from portal.core.filters import id_filter, id_param, text_filter
from portal.core.parsers import BoundedJSONParser, bounded_body
from portal.users.roles import Role

READERS = frozenset({Role.ADMIN, Role.FINANCE, Role.RESELLER_ADMIN, Role.TEAM_LEAD})


class CsvBodyParser(BaseParser):
    """A text/csv body as bytes, refused (413) past PORTAL_MAX_UPLOAD_BYTES."""

    media_type = "text/csv"

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        return bounded_body(stream, parser_context)


class BusinessMetricSerializer(serializers.ModelSerializer[BusinessMetric]):
    team_name = serializers.CharField(source="team.name", read_only=True)
    date = serializers.DateField(source="day", read_only=True)
    value = serializers.SerializerMethodField(method_name="value_text")

    class Meta:
        model = BusinessMetric
        fields = ["id", "team", "team_name", "metric", "date", "value", "updated_at"]

    def value_text(self, row: BusinessMetric) -> str:
        """Exact, without trailing zeros: "1520", "0.25"."""
        return format(row.value.normalize(), "f") if row.value else "0"


ITEM = {
    "type": "object",
    "properties": {
        "date": {"type": "string", "format": "date", "example": "2026-03-01"},
        "team": {
            "oneOf": [{"type": "integer"}, {"type": "string"}],
            "description": "The team's id, or its name (any case).",
            "example": "Web",
        },
        "metric": {
            "type": "string",
            "pattern": r"^[A-Za-z0-9_\- ]{1,64}$",
            "example": "orders",
        },
        "value": {
            "oneOf": [{"type": "string"}, {"type": "number", "minimum": 0}],
            "description": "At least 0, up to 6 decimal places; as text to keep every digit.",
            "example": "1520",
        },
    },
    "required": ["date", "team", "metric", "value"],
    "additionalProperties": False,
}
COUNTS = {
    "type": "object",
    "properties": {
        "created": {"type": "integer", "description": "Values new to the team, metric and day."},
        "replaced": {"type": "integer", "description": "Values that replaced a stored one."},
    },
    "required": ["created", "replaced"],
}
ROW_ERRORS = {
    "type": "object",
    "properties": {
        "code": {"type": "string", "example": "invalid_rows"},
        "message": {"type": "string"},
        "field": {"type": "string"},
        "errors": {
            "type": "array",
            "description": f"The rows at fault, the first {MAX_LISTED}.",
            "items": {
                "type": "object",
                "properties": {
                    "line": {"type": "integer", "description": "CSV line (1: the header) or item."},
                    "field": {"type": "string", "nullable": True},
                    "message": {"type": "string"},
                },
            },
        },
        "error_count": {"type": "integer", "description": "How many problems in all."},
    },
    "required": ["code", "message"],
}


class BusinessMetricApi(ScopedAPIMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Teams' business metrics: a value per team, metric and day. Team leads write and
    read the teams they lead (read: also those they belong to); admins any team."""

    model = BusinessMetric
    write_roles = METRIC_WRITERS
    read_roles = READERS
    serializer_class = BusinessMetricSerializer
    parser_classes = [BoundedJSONParser, MultiPartParser, CsvBodyParser]
    finds_row_by_query = True  # ?team=<id>: 404 when not a team this user may see
    query_filters = (
        id_filter("team", "Only this team's values (404 when not a team you see)."),
        text_filter("metric", "Only this metric's values, e.g. orders."),
    )

    def get_queryset(self) -> Any:
        params, user = self.request.query_params, self.request.user
        team = None
        if params.get("team", "").strip():
            pk = id_param(params["team"], "team")
            team = get_object_or_404(Team.objects.visible_to(user), pk=pk)
        return business_metrics_for(
            user=user,
            team=team,
            start=_date_param(self.request, "start"),
            end=_date_param(self.request, "end"),
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATE, description="First day."),
            OpenApiParameter("end", OpenApiTypes.DATE, description="Exclusive."),
        ],
        summary="List business metric values",
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request={
            "application/json": {"oneOf": [ITEM, {"type": "array", "items": ITEM}]},
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            },
            "text/csv": {"type": "string", "example": "date,team,metric,value\n"},
        },
        responses={
            201: COUNTS,
            400: OpenApiResponse(ROW_ERRORS, description=ERROR_DESCRIPTIONS["400"]),
            415: OpenApiResponse(
                ErrorSerializer, description="A body neither JSON, multipart nor text/csv."
            ),
        },
        summary="Store business metric values, all or nothing",
        description=(
            "JSON (one item or a list), a CSV file (multipart field `file`) or a text/csv "
            "body with the header date,team,metric,value. A value replaces the stored one of "
            "its team, metric and day. If any row is refused, nothing is stored and every "
            "row at fault is named by its line (CSV) or item (JSON), from 1."
        ),
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        result = business_metrics_import(actor=request.user, rows_or_file=_upload(request))
        return Response(
            {"created": result.created, "replaced": result.replaced},
            status=status.HTTP_201_CREATED,
        )


def _upload(request: Request) -> Any:
    media_type = (request.content_type or "").split(";")[0].strip().lower()
    if media_type == "multipart/form-data":
        upload = request.FILES.get("file")
        if upload is None:
            raise ApplicationError(
                "Send the CSV file in the multipart field file.", code="required", field="file"
            )
        return upload
    if media_type in ("application/json", "text/csv"):
        return request.data
    if not media_type:
        raise ApplicationError(
            "Send JSON items, a CSV file (multipart field file) or a text/csv body.",
            code="required",
        )
    raise UnsupportedMediaType(media_type)


def _date_param(request: Request, name: str) -> date | None:
    text = request.query_params.get(name, "").strip()
    if not text:
        return None
    if DATE_PATTERN.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise ApplicationError(
        f"{name} is a date as YYYY-MM-DD, not {text[:40]!r}.", code=f"invalid_{name}", field=name
    )
