"""Rounding half-up to the currency's minor unit; tax per rate on the rounded lines."""

from __future__ import annotations

from decimal import Decimal

import pytest

from invoices.models import PriceRule
from invoices.money import round_money, taxes
from portal.core.money import minor_unit

D = Decimal


@pytest.mark.parametrize(
    ("amount", "currency", "rounded"),
    [
        ("2.345", "USD", "2.35"),
        ("2.3449999", "USD", "2.34"),
        ("-2.345", "USD", "-2.35"),
        ("1234.5", "JPY", "1235"),
        ("1.2345", "KWD", "1.235"),
        ("0.005", "eur", "0.01"),
    ],
)
def test_half_up_to_the_minor_unit(amount: str, currency: str, rounded: str) -> None:
    assert round_money(D(amount), currency) == D(rounded)
    assert (
        round_money(D(amount), currency).as_tuple().exponent
        == minor_unit(currency).as_tuple().exponent
    )


def test_tax_is_per_rate_on_the_sum_of_rounded_lines() -> None:
    lines = [(D("0.05"), D("19")), (D("0.05"), D("19")), (D("10.00"), D("7")), (D("3"), D("0"))]

    result = taxes(lines, "EUR")

    # 19 % of 0.10 is 0.019 -> 0.02, where per-line tax would give 0.01 + 0.01.
    assert [(t.rate, t.base, t.tax) for t in result] == [
        (D("0"), D("3"), D("0.00")),
        (D("7"), D("10.00"), D("0.70")),
        (D("19"), D("0.10"), D("0.02")),
    ]


def test_rates_print_as_written() -> None:
    (tax,) = taxes([(D("100.00"), D("20.0000"))], "USD")

    assert tax.as_json() == {"rate": "20", "base": "100.00", "tax": "20.00"}


@pytest.mark.parametrize(
    ("percent", "text"),
    [
        ("10.0000", "+10% on all services"),
        ("2.5000", "+2.5% on all services"),
        ("-0.2500", "-0.25% on all services"),
        ("0", "+0% on all services"),
    ],
)
def test_a_price_rule_reads_as_its_percentage_without_trailing_zeros(
    percent: str, text: str
) -> None:
    assert str(PriceRule(scope="global", percent=Decimal(percent))) == text
