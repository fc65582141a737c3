"""A budget's filters and monthly amounts as a form or a request gives them, checked before
they reach the budget services: a refusal names the input at fault."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from insights.budgets.spend import tenant_reader
from insights.models import Budget
from insights.query import dimension_label
from insights.selectors import explorer_options
from portal.core.errors import ApplicationError
from portal.core.fields import checked_decimal

# A new budget's thresholds unless told otherwise.
DEFAULT_THRESHOLDS = [
    {"kind": "percent", "value": "90", "basis": "actual"},
    {"kind": "percent", "value": "100", "basis": "forecast"},
]
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
MAX_FILTERS = 10
MAX_VALUES = 50
MAX_VALUE_LENGTH = 200


def filter_dimensions() -> list[tuple[str, str]]:
    """The dimensions a budget may filter on: the explorer's, as the whole tenant has them."""
    options = explorer_options(user=tenant_reader())
    return [(item["key"], item["label"]) for item in options["dimensions"]]


def clean_filters(
    rows: Iterable[tuple[str, Iterable[str]]], known: Iterable[str] | None = None
) -> list[list[Any]]:
    """[(dimension, values)] as the budget keeps them: [[dimension, [values]], ...], one
    entry per dimension (values of one dimension are ORed, dimensions ANDed)."""
    allowed = set(known if known is not None else (key for key, _ in filter_dimensions()))
    merged: dict[str, list[str]] = {}
    for dimension, values in rows:
        if dimension not in allowed:
            raise ApplicationError(
                f"filters: {str(dimension)[:60]!r} is not a dimension of this tenant's cost; "
                f"use one of {', '.join(sorted(allowed))}.",
                code="invalid",
                field="filters",
            )
        kept = merged.setdefault(dimension, [])
        for value in values:
            text = str(value).strip()
            if not text or len(text) > MAX_VALUE_LENGTH:
                raise ApplicationError(
                    f"filters: a value of {dimension_label(dimension)} is 1 to "
                    f"{MAX_VALUE_LENGTH} characters.",
                    code="invalid",
                    field="filters",
                )
            if text not in kept:
                kept.append(text)
        if not kept:
            raise ApplicationError(
                f"filters: {dimension_label(dimension)} needs at least one value.",
                code="invalid",
                field="filters",
            )
    if len(merged) > MAX_FILTERS or any(len(v) > MAX_VALUES for v in merged.values()):
        raise ApplicationError(
            f"filters: at most {MAX_FILTERS} dimensions of {MAX_VALUES} values each.",
            code="invalid",
            field="filters",
        )
    return [[dimension, values] for dimension, values in merged.items()]


def clean_monthly_amounts(amounts: Mapping[str, Any]) -> dict[str, str]:
    """{"YYYY-MM": amount}: real months, amounts of zero or more with at most cents."""
    cleaned: dict[str, str] = {}
    for month, amount in amounts.items():
        if not MONTH.match(str(month)):
            raise ApplicationError(
                f"monthly_amounts: {str(month)[:20]!r} is not a month as YYYY-MM.",
                code="invalid",
                field="monthly_amounts",
            )
        try:
            number = checked_decimal(amount, max_digits=18, decimal_places=2)
        except ValueError as refused:
            raise ApplicationError(
                f"monthly_amounts: {month}: {refused}",
                code="invalid",
                field="monthly_amounts",
            ) from None
        if number < 0:
            raise ApplicationError(
                f"monthly_amounts: {month}: an amount is zero or more.",
                code="invalid",
                field="monthly_amounts",
            )
        cleaned[str(month)] = format(number, "f")
    return dict(sorted(cleaned.items()))


def monthly_amounts_text(amounts: Mapping[str, Any]) -> str:
    """The form's text of a budget's own month amounts: one "YYYY-MM amount" a line."""
    return "\n".join(f"{month} {Decimal(str(amount)):f}" for month, amount in amounts.items())


def parse_monthly_amounts(text: str) -> dict[str, str]:
    """The form's lines back: "2026-03 1500" (or "2026-03: 1500", "2026-03 = 1500")."""
    amounts: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        parts = re.split(r"[\s:=;,]+", line, maxsplit=1)
        if len(parts) != 2:
            raise ApplicationError(
                f"Line {number}: write a month and its amount, e.g. 2026-03 1500.",
                code="invalid",
                field="monthly_amounts",
            )
        amounts[parts[0]] = parts[1].replace(",", "").strip()
    return clean_monthly_amounts(amounts)


SCOPE_ROWS = {
    Budget.Scope.TEAM: ("team",),
    Budget.Scope.BILLING_UNIT: ("billing_unit",),
    Budget.Scope.CATEGORY_VALUE: ("category", "value"),
    Budget.Scope.TENANT: (),
}


def only_the_scopes_rows(fields: dict[str, Any], scope: str, period: str) -> dict[str, Any]:
    """`fields` without what the scope and period do not use: a tenant budget names no team
    (else that team's lead would see it), a quarterly one keeps no month amounts."""
    kept = dict(fields)
    own = SCOPE_ROWS.get(Budget.Scope(scope), ())
    for name, empty in (("team", None), ("billing_unit", None), ("category", None), ("value", "")):
        if name not in own:
            kept[name] = empty
    if period != Budget.Period.MONTHLY:
        kept["monthly_amounts"] = {}
    return kept
