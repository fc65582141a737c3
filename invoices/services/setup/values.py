"""Reading numbers and months people type, with refusals naming the field."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from portal.core.errors import ApplicationError


def decimal_value(value: Any, field: str, label: str) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ApplicationError(
            f"{label}: {value!r} is not a number.", code="invalid_number", field=field
        ) from None
    if not number.is_finite():
        raise ApplicationError(
            f"{label}: {value!r} is not a number.", code="invalid_number", field=field
        )
    if number.as_tuple().exponent < -4:  # type: ignore[operator]
        raise ApplicationError(
            f"{label}: {value} has more than 4 decimal places.", code="too_precise", field=field
        )
    return number


def month_value(value: Any, field: str, label: str, *, required: bool) -> date | None:
    if value in (None, ""):
        if required:
            raise ApplicationError(
                f"{label}: give a month (YYYY-MM).", code="required", field=field
            )
        return None
    if isinstance(value, date):
        month = value
    else:
        text = str(value).strip()
        try:
            month = date.fromisoformat(f"{text}-01" if len(text) == 7 else text)
        except ValueError:
            raise ApplicationError(
                f"{label}: {value!r} is not a month (YYYY-MM).", code="invalid_month", field=field
            ) from None
    if month.day != 1:
        raise ApplicationError(
            f"{label}: charges run by whole months; give {month:%Y-%m} rather than {month}.",
            code="invalid_month",
            field=field,
        )
    return month
