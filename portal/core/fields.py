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
