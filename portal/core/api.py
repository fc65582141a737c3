"""Turning application errors into API answers."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from portal.core.errors import ApplicationError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        return Response(exc.as_dict(), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        field, messages = next(iter(errors.items()))
        body = {"code": "invalid", "message": "; ".join(messages), "errors": errors}
        if field != "__all__":
            body["field"] = field
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ApiValidationError) and isinstance(exc.detail, dict):
        return Response(_invalid(exc.detail), status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)


def _invalid(errors: dict[str, Any]) -> dict[str, Any]:
    """DRF's per-field errors with a code, the first field and a readable message."""
    field, messages = next(iter(errors.items()))
    text = "; ".join(str(m) for m in messages) if isinstance(messages, list) else str(messages)
    body: dict[str, Any] = {"code": "invalid", "message": f"{field}: {text}", "errors": errors}
    if field != "non_field_errors":
        body["field"] = field
    return body
