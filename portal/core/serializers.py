"""Serializer pieces the apps share."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from portal.core.fields import ExactNumericField, checked_decimal


class ExactDecimalField(serializers.Field):
    """An exact amount as text, every digit kept (JSON numbers would pass through float).

    Always in fixed point: a sum of amounts can be a zero like 0E-10, which str() prints.
    Input is refused unless finite and within `max_digits` and `decimal_places` (those of
    the column it ends in), so NaN, 1e400 or thirty digits never reach the database.
    """

    def __init__(
        self, *, max_digits: int | None = None, decimal_places: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.max_digits = max_digits
        self.decimal_places = decimal_places

    def to_representation(self, value: Decimal) -> str:
        return format(value, "f")

    def to_internal_value(self, data: Any) -> Decimal:
        try:
            return checked_decimal(
                data, max_digits=self.max_digits, decimal_places=self.decimal_places
            )
        except ValueError as exc:
            raise serializers.ValidationError(str(exc), code="invalid_number") from None


class ExactModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer that renders ExactNumericField as ExactDecimalField."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        ExactNumericField: ExactDecimalField,
    }
