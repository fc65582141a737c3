"""How the REST API describes itself in its OpenAPI schema (drf-spectacular).

Every operation lists the errors it can answer, in the one error shape of
`portal.core.api`: 400 when it reads a body or parameters, 401 and 403 when it needs a
signed-in user, 404 when it names a row in its path (or, on views that say so, in its query).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension, OpenApiViewExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny

ERROR_DESCRIPTIONS = {
    "400": "The request was refused: `code` says why, `field` names the input at fault.",
    "401": "No valid token or session: sign in first.",
    "403": "The user's role may not do this.",
    "404": "No such row, or not one this user may see.",
}


class ErrorSerializer(serializers.Serializer[Any]):
    """The one shape of every error the API answers."""

    code = serializers.CharField(help_text="A stable code, e.g. `invalid` or `not_found`.")
    message = serializers.CharField(help_text="What went wrong, for a person to act on.")
    field = serializers.CharField(required=False, help_text="The input at fault, when one is.")
    # The metaclass takes declared fields off the class: `errors` shadows nothing at run time.
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.JSONField(),
        required=False,
        help_text="Every input at fault, with its messages.",
    )


# The 415 of operations that read a JSON body only.
NOT_JSON = OpenApiResponse(ErrorSerializer, description="A body that is not JSON.")


class ExactDecimalFieldSchema(OpenApiSerializerFieldExtension):
    """An exact amount travels as decimal text, never as a JSON number."""

    target_class = "portal.core.serializers.ExactDecimalField"

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> Any:
        return {
            "type": "string",
            "format": "decimal",
            "pattern": r"^-?\d+(\.\d+)?$",
            "description": "An exact decimal amount as text, e.g. `12.3400`.",
        }


class PeriodFieldSchema(OpenApiSerializerFieldExtension):
    """A billing period: answered as YYYY-MM; read as YYYY-MM or as a day of the month."""

    target_class = "allocation.serializers.PeriodField"

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> Any:
        if direction == "response":
            return {"type": "string", "pattern": r"^\d{4}-\d{2}$", "example": "2026-01"}
        return {"type": "string", "pattern": r"^\d{4}-\d{2}(-\d{2})?$", "example": "2026-01"}


class PortalAutoSchema(AutoSchema):
    """drf-spectacular's schema of a view, plus the error answers it can give.

    A write of a `ServiceViewSet` reads its `input_serializer_class` (or a `BillingApi`'s
    `update_input_serializer_class`) and answers with its `serializer_class`.
    """

    def is_excluded(self) -> bool:
        """A `ServiceViewSet` without a create or update service answers 405: no operation."""
        action = getattr(self.view, "action", None)
        service = {
            "create": "create_service",
            "update": "update_service",
            "partial_update": "update_service",
        }.get(action or "")
        if service and hasattr(self.view, service) and getattr(self.view, service) is None:
            return True
        return super().is_excluded()

    def _get_paginator(self) -> Any:
        # DRF pages a viewset's `list`; other actions page only where the view says so.
        paged = getattr(self.view, "paged_actions", ("list",))
        return super()._get_paginator() if getattr(self.view, "action", None) in paged else None

    def get_request_serializer(self) -> Any:
        action = getattr(self.view, "action", None)
        updating = action in ("update", "partial_update")
        changes = getattr(self.view, "update_input_serializer_class", None)
        if updating and changes is not None:
            return changes
        entry = getattr(self.view, "input_serializer_class", None)
        if entry is not None and (updating or action == "create"):
            return entry
        return super().get_request_serializer()

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation["responses"]
        for code in self._error_codes(operation):
            if code not in responses:
                error = OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code])
                responses[code] = self._get_response_for_code(error, code)
        return operation

    def _error_codes(self, operation: dict[str, Any]) -> list[str]:
        codes = []
        parameters = operation.get("parameters", [])
        if "requestBody" in operation or any(p["in"] == "query" for p in parameters):
            codes.append("400")
        if not self._is_public():
            codes += ["401", "403"]
        if any(p["in"] == "path" for p in parameters) or getattr(
            self.view, "finds_row_by_query", False
        ):
            codes.append("404")
        return codes

    def _is_public(self) -> bool:
        permissions = getattr(self.view, "permission_classes", [])
        return any(permission is AllowAny for permission in permissions)


class _DownloadSchema(OpenApiViewExtension):
    """A download answers with its file; a refusal (e.g. a draft's PDF) in the error shape."""

    media_type = ""

    def view_replacement(self) -> Any:
        refused = OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS["400"])
        answers = {(200, self.media_type): OpenApiTypes.BINARY, 400: refused}
        return extend_schema(responses=answers)(type(self.target.__name__, (self.target,), {}))


class InvoicePdfSchema(_DownloadSchema):
    target_class = "invoices.downloads.InvoicePdfApi"
    media_type = "application/pdf"


class InvoiceCsvSchema(_DownloadSchema):
    target_class = "invoices.downloads.InvoiceCsvApi"
    media_type = "text/csv"


class RunZipSchema(_DownloadSchema):
    target_class = "invoices.downloads.RunZipApi"
    media_type = "application/zip"
