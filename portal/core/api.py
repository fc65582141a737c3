"""Turning errors into API answers: always `{"code", "message"}`, with `field` and
`errors` when a request's data was refused."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.exceptions import ErrorDetail
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from portal.core.errors import ApplicationError
from portal.core.sizes import size_text


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Application and validation errors answer 400; DRF's own errors keep their status
    and headers. Anything else is left to Django's 500, which `ApiErrorMiddleware` answers
    in JSON."""
    if isinstance(exc, ApplicationError):
        set_rollback()
        return Response(exc.as_dict(), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, RequestDataTooBig):
        # A form or multipart body past DATA_UPLOAD_MAX_MEMORY_SIZE (JSON has its own parser).
        limit = size_text(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        message = f"A request body larger than {limit} is not accepted."
        return Response(
            {"code": "too_large", "message": message},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, DjangoValidationError):
        set_rollback()
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        field, messages = next(iter(errors.items()))
        body = {"code": "invalid", "message": "; ".join(messages), "errors": errors}
        if field not in ("__all__", "detail"):
            body["field"] = field
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    response = drf_exception_handler(exc, context)
    if response is not None:
        response.data = error_body(response.data)
    return response


def error_body(detail: Any) -> dict[str, Any]:
    """DRF's `detail` (a message, a list of them, or per-field errors) in the API's shape."""
    if isinstance(detail, dict) and set(detail) == {"detail"}:
        detail = detail["detail"]
    if isinstance(detail, dict):
        return _invalid(detail)
    if isinstance(detail, list):
        return _invalid({"non_field_errors": detail})
    code = detail.code if isinstance(detail, ErrorDetail) and detail.code else "error"
    return {"code": str(code), "message": str(detail)}


def _invalid(errors: dict[str, Any]) -> dict[str, Any]:
    """DRF's per-field errors with a code, the first field and a readable message."""
    field, messages = next(iter(errors.items()), ("non_field_errors", []))
    body: dict[str, Any] = {
        "code": "invalid",
        "message": f"{field}: {_first_text(messages)}",
        "errors": errors,
    }
    if field != "non_field_errors":
        body["field"] = field
    return body


def _first_text(messages: Any) -> str:
    """The messages of one field as text; nested errors (a list's items) by their first."""
    if isinstance(messages, dict):
        key, inner = next(iter(messages.items()), ("", ""))
        return f"{key}: {_first_text(inner)}"
    if isinstance(messages, list):
        texts = [_first_text(m) for m in messages if m]
        return "; ".join(texts)
    return str(messages)
