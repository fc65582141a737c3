"""Model fields the project shares."""

from __future__ import annotations

import decimal
from typing import Any

from django.db import models


class ExactNumericField(models.DecimalField):
    """PostgreSQL `numeric` without precision or scale: keeps every digit a bill had.

    Bill amounts carry up to 10 or more decimal places and are summed exactly; rounding
    happens once, on invoice lines, which use a fixed-scale DecimalField.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", None)
        kwargs.setdefault("decimal_places", None)
        super().__init__(*args, **kwargs)

    def check(self, **kwargs: Any) -> list[Any]:
        return models.Field.check(self, **kwargs)

    @property
    def context(self) -> decimal.Context:
        return decimal.Context(prec=60)

    def db_type(self, connection: Any) -> str:
        return "numeric"

    def to_python(self, value: Any) -> Any:
        if value is None or isinstance(value, decimal.Decimal):
            return value
        return decimal.Decimal(str(value))


# An amount given without its own bounds may have at most this many digits.
MAX_INPUT_DIGITS = 40


def checked_decimal(
    value: Any, *, max_digits: int | None = None, decimal_places: int | None = None
) -> decimal.Decimal:
    """An amount or percentage as a person or program gave it, as an exact Decimal.

    Refused with a ValueError whose message says why: not a number, NaN or infinite, or
    more digits (in all, or after the point) than the column that keeps it takes.
    """
    try:
        number = decimal.Decimal(str(value).strip())
    except (ArithmeticError, ValueError):
        raise ValueError(f"{value!r} is not a decimal number.") from None
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite number.")
    exponent = int(number.as_tuple().exponent)
    digits = len(number.as_tuple().digits)
    places = max(0, -exponent)
    whole = max(0, digits + exponent) if exponent < 0 else digits + exponent
    if decimal_places is not None and places > decimal_places:
        raise ValueError(f"{value} has more than {decimal_places} decimal places.")
    limit = max_digits or MAX_INPUT_DIGITS
    whole_limit = limit - (decimal_places or 0)
    if whole > whole_limit or whole + places > limit:
        raise ValueError(
            f"{value} has too many digits: at most {whole_limit} before the decimal point"
            + (f" and {decimal_places} after it." if decimal_places is not None else ".")
        )
    return number
