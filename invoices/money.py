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

# ISO 4217 minor units where they are not 2.
MINOR_UNITS = {
    "BHD": 3, "CLP": 0, "IQD": 3, "ISK": 0, "JOD": 3, "JPY": 0, "KRW": 0, "KWD": 3,
    "LYD": 3, "OMR": 3, "PYG": 0, "TND": 3, "UGX": 0, "VND": 0, "XAF": 0, "XOF": 0,
}  # fmt: skip
HUNDRED = Decimal(100)


def minor_unit(currency: str) -> Decimal:
    """The smallest amount of `currency`: Decimal('0.01') for USD, Decimal('1') for JPY."""
    return Decimal(1).scaleb(-MINOR_UNITS.get(currency.upper(), 2))


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
