"""Cost series as the forecasting engine reads them: Decimal amounts per day or per month,
summed per date, gaps filled with zero, history capped at 36 months."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
MAX_HISTORY_MONTHS = 36


@dataclass(frozen=True)
class Series:
    """A gap-free series: one amount per day (or per month, dated on its first day)."""

    start: date
    amounts: tuple[Decimal, ...]
    monthly: bool

    @property
    def end(self) -> date:
        return self.date_at(len(self.amounts) - 1)

    def date_at(self, index: int) -> date:
        if self.monthly:
            return add_months(self.start, index)
        return self.start + timedelta(days=index)

    def floats(self) -> list[float]:
        return [float(amount) for amount in self.amounts]

    def never_negative(self) -> bool:
        return all(amount >= 0 for amount in self.amounts)

    def head(self, length: int) -> Series:
        return Series(start=self.start, amounts=self.amounts[:length], monthly=self.monthly)

    def tail(self, length: int) -> Series:
        """The last `length` periods (all of them when there are fewer)."""
        skipped = max(0, len(self.amounts) - length)
        return Series(
            start=self.date_at(skipped), amounts=self.amounts[skipped:], monthly=self.monthly
        )


def add_months(day: date, months: int) -> date:
    """The same day of the month `months` later (or earlier), kept within the month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, _days_in_month(year, month)))


def _days_in_month(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


def to_cents(value: float) -> Decimal:
    # repr keeps the float's shortest exact form, so 0.125 rounds up to 0.13 as expected.
    return Decimal(repr(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def _summed(series: Iterable[tuple[date, Decimal]], monthly: bool) -> dict[date, Decimal]:
    totals: dict[date, Decimal] = {}
    for day, amount in series:
        if not isinstance(day, date):
            raise TypeError(f"a series' dates must be dates, not {type(day).__name__}")
        if not isinstance(amount, Decimal | int):
            raise TypeError(f"a series' amounts must be Decimal, not {type(amount).__name__}")
        amount = Decimal(amount)
        if not amount.is_finite():
            raise ValueError(f"the amount of {day.isoformat()} is not a number: {amount}")
        key = day.replace(day=1) if monthly else day
        totals[key] = totals.get(key, Decimal(0)) + amount
    return totals


def daily_series(series: Iterable[tuple[date, Decimal]]) -> Series | None:
    """Days from the first to the last given (missing days cost nothing), the last 36 months."""
    totals = _summed(series, monthly=False)
    if not totals:
        return None
    last = max(totals)
    first = max(min(totals), add_months(last, -MAX_HISTORY_MONTHS) + timedelta(days=1))
    length = (last - first).days + 1
    amounts = tuple(totals.get(first + timedelta(days=i), Decimal(0)) for i in range(length))
    return Series(start=first, amounts=amounts, monthly=False)


def monthly_series(series: Iterable[tuple[date, Decimal]]) -> Series | None:
    """Months (any day of a month stands for that month) from the first to the last given,
    missing months cost nothing, the last 36 months."""
    totals = _summed(series, monthly=True)
    if not totals:
        return None
    last = max(totals)
    first = max(min(totals), add_months(last, -(MAX_HISTORY_MONTHS - 1)))
    length = (last.year - first.year) * 12 + last.month - first.month + 1
    amounts = tuple(totals.get(add_months(first, i), Decimal(0)) for i in range(length))
    return Series(start=first, amounts=amounts, monthly=True)


def covers_a_full_month(series: Series) -> bool:
    """Daily history reaches from some day to the day before the same date a month later
    (January 15 to February 14, February 1 to February 28)."""
    return series.end >= add_months(series.start, 1) - timedelta(days=1)
