"""Query parameters of list endpoints, declared once per view and read alike everywhere.

A view lists its filters in `query_filters`; `DeclaredFilterBackend` (the API's default
filter backend) narrows a list by those given, refuses an unreadable value with a 400
naming the parameter, and describes them in the API schema. Rows stay those the view's
`visible_to` scope allows: a filter only narrows them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import QuerySet
from rest_framework.filters import BaseFilterBackend
from rest_framework.request import Request

from portal.core.errors import ApplicationError

MAX_ID = 2**63 - 1  # ids are PostgreSQL bigint
MAX_TEXT = 200
FIRST_MONTH = date(2000, 1, 1)


def id_param(text: str, name: str) -> int:
    """A row id given as text; anything else is refused naming the parameter."""
    text = text.strip()
    if not (text.isascii() and text.isdigit() and 0 < int(text) <= MAX_ID):
        raise ApplicationError(
            f"{name} is an id (a whole number from 1), not {text!r}.",
            code=f"invalid_{name}",
            field=name,
        )
    return int(text)


def text_param(text: str, name: str) -> str:
    """Free text as PostgreSQL can compare it: no NUL character, not overly long."""
    if "\x00" in text or len(text) > MAX_TEXT:
        raise ApplicationError(
            f"{name} is text of at most {MAX_TEXT} characters without NUL characters.",
            code=f"invalid_{name}",
            field=name,
        )
    return text


def month_param(text: str, name: str) -> date:
    """A month as YYYY-MM (a full date names its month)."""
    text = text.strip()
    try:
        month = date.fromisoformat(f"{text}-01" if len(text) == 7 else text).replace(day=1)
    except ValueError:
        raise ApplicationError(
            f"{name} is a month as YYYY-MM, not {text!r}.", code=f"invalid_{name}", field=name
        ) from None
    if month < FIRST_MONTH:
        raise ApplicationError(
            f"{name}: {text} is before {FIRST_MONTH:%Y-%m}, the first month the portal reads.",
            code=f"invalid_{name}",
            field=name,
        )
    return month


@dataclass(frozen=True)
class QueryFilter:
    """`?<name>=<value>` narrows the list to rows whose `lookup` equals the value.

    `kind` is how the value reads: "id", "month", "text" or "choice" (one of `choices`).
    """

    name: str
    lookup: str
    kind: str = "id"
    choices: tuple[str, ...] = ()
    description: str = ""

    def value(self, text: str) -> Any:
        if self.kind == "id":
            return id_param(text, self.name)
        if self.kind == "month":
            return month_param(text, self.name)
        if self.kind == "choice" and text not in self.choices:
            raise ApplicationError(
                f"{self.name} is one of {', '.join(self.choices)}, not {text!r}.",
                code=f"invalid_{self.name}",
                field=self.name,
            )
        return text_param(text, self.name)

    def schema(self) -> dict[str, Any]:
        if self.kind == "id":
            return {"type": "integer", "minimum": 1, "maximum": MAX_ID}
        if self.kind == "month":
            return {"type": "string", "pattern": r"^\d{4}-\d{2}$", "example": "2026-01"}
        if self.kind == "choice":
            return {"type": "string", "enum": list(self.choices)}
        return {"type": "string", "maxLength": MAX_TEXT}


def id_filter(name: str, description: str = "") -> QueryFilter:
    return QueryFilter(name, f"{name}_id", "id", description=description)


def month_filter(name: str = "period", description: str = "") -> QueryFilter:
    return QueryFilter(name, name, "month", description=description or "A month, YYYY-MM.")


def choice_filter(name: str, choices: Iterable[str], description: str = "") -> QueryFilter:
    return QueryFilter(name, name, "choice", tuple(choices), description)


def text_filter(name: str, description: str = "") -> QueryFilter:
    return QueryFilter(name, name, "text", description=description)


class DeclaredFilterBackend(BaseFilterBackend):
    """Applies a list view's `query_filters`; an empty parameter is no filter."""

    def filter_queryset(self, request: Request, queryset: QuerySet[Any], view: Any) -> Any:
        if getattr(view, "action", "list") != "list":
            return queryset
        for query_filter in getattr(view, "query_filters", ()):
            text = request.query_params.get(query_filter.name, "")
            if text.strip():
                queryset = queryset.filter(**{query_filter.lookup: query_filter.value(text)})
        return queryset

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": f.name,
                "in": "query",
                "required": False,
                "description": f.description,
                "schema": f.schema(),
            }
            for f in getattr(view, "query_filters", ())
        ]
