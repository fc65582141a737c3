"""Rounding to a currency's minor unit, and taxes: the one place invoices round.

Lines are rounded half-up to the currency's minor unit; tax is computed per rate on the
sum of the rounded lines of that rate and rounded the same way; totals are sums of
rounded figures, so they always equal what an invoice prints.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from portal.core.money import minor_unit

HUNDRED = Decimal(100)


def round_money(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


def percent_of(amount: Decimal, percent: Decimal, currency: str) -> Decimal:
    return round_money(amount * percent / HUNDRED, currency)


@dataclass(frozen=True)
class TaxLine:
    rate: Decimal
    base: Decimal
    tax: Decimal

    def as_json(self) -> dict[str, str]:
        return {"rate": f"{self.rate.normalize():f}", "base": str(self.base), "tax": str(self.tax)}


def taxes(lines: Iterable[tuple[Decimal, Decimal]], currency: str) -> list[TaxLine]:
    """Tax per rate of (rounded amount, rate) pairs, by rate ascending."""
    bases: dict[Decimal, Decimal] = defaultdict(Decimal)
    for amount, rate in lines:
        bases[rate] += amount  # 19 and 19.0000 are one rate
    return [
        TaxLine(rate=rate, base=base, tax=percent_of(base, rate, currency))
        for rate, base in sorted(bases.items())
    ]
