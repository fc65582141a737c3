"""Serializer pieces the apps share."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from portal.core.fields import ExactNumericField


class ExactDecimalField(serializers.Field):
    """An exact amount as text, every digit kept (JSON numbers would pass through float).

    Always in fixed point: a sum of amounts can be a zero like 0E-10, which str() prints.
    """

    def to_representation(self, value: Decimal) -> str:
        return format(value, "f")

    def to_internal_value(self, data: Any) -> Decimal:
        try:
            return Decimal(str(data))
        except ArithmeticError as exc:
            raise serializers.ValidationError(f"{data!r} is not a decimal number.") from exc


class ExactModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer that renders ExactNumericField as ExactDecimalField."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        ExactNumericField: ExactDecimalField,
    }
