"""One way to page every list of the API: `?limit=` and `?offset=`, both bounded."""

from __future__ import annotations

from typing import Any

from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request

from portal.core.errors import ApplicationError

MAX_LIMIT = 1000
# Far beyond any list a tenant has; keeps OFFSET well inside PostgreSQL's bigint.
MAX_OFFSET = 10**9


def bounded_int(text: str, name: str, lowest: int, highest: int) -> int:
    """A whole number from `lowest` to `highest` given as text, or a 400 naming `name`."""
    text = text.strip()
    if text.isascii() and text.isdigit() and len(text) <= len(str(highest)):
        number = int(text)
        if lowest <= number <= highest:
            return number
    raise ApplicationError(
        f"{name} is a whole number from {lowest} to {highest}, not {text!r}.",
        code=f"invalid_{name}",
        field=name,
    )


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    """DRF's limit and offset paging, refusing (400) what it would silently replace:
    a limit of 0, above MAX_LIMIT or not a number, a negative or huge offset."""

    max_limit = MAX_LIMIT

    def get_limit(self, request: Request) -> int:
        text = request.query_params.get(self.limit_query_param, "")
        if not text:
            return int(self.default_limit or MAX_LIMIT)
        return bounded_int(text, self.limit_query_param, 1, MAX_LIMIT)

    def get_offset(self, request: Request) -> int:
        text = request.query_params.get(self.offset_query_param, "")
        return bounded_int(text, self.offset_query_param, 0, MAX_OFFSET) if text else 0

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        bounds = {
            self.limit_query_param: {"minimum": 1, "maximum": MAX_LIMIT},
            self.offset_query_param: {"minimum": 0, "maximum": MAX_OFFSET},
        }
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"] = {**parameter["schema"], **bounds.get(parameter["name"], {})}
        return parameters
