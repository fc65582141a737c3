"""Amounts in the API: exact text, never scientific notation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from portal.core.serializers import ExactDecimalField


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (Decimal("0E-10"), "0.0000000000"),
        (Decimal("-1E-7"), "-0.0000001"),
        (Decimal("3.1000000001"), "3.1000000001"),
        (Decimal("1E+3"), "1000"),
    ],
)
def test_amounts_are_written_in_fixed_point_with_every_digit(amount: Decimal, text: str) -> None:
    assert ExactDecimalField().to_representation(amount) == text
