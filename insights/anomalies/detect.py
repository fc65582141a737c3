"""Finding anomalous days in daily cost series: pure functions, no database.

For each series and each checked day, the expected cost is the median of the previous
`baseline_days` days, or of the same weekdays among them when the series has three weeks of
history and its weekdays differ clearly, or of the earlier months' first days for a month's
first day (when monthly fees and taxes are billed; not judged without one); the spread is
the scaled median absolute deviation around it, with a floor so that flat series do not
flag cents. A day is anomalous when its
cost exceeds expected by more than `sensitivity` spreads and by a material amount; runs of
anomalous days are one anomaly each.

`judge` does this over many series at once in floats (NumPy); `measure` gives one found
anomaly's figures exactly (Decimal) from the same days' amounts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import numpy as np

MAD_SCALE = 1.4826  # a normal distribution's standard deviation per MAD
SPREAD_FLOOR_SHARE = 0.05  # of expected
SPREAD_FLOOR = 0.25  # currency units
MATERIAL_EXCESS = 1.0  # currency units over expected, on the day
MIN_HISTORY_DAYS = 14  # since the series' first cost, before a day is judged
WEEKLY_MIN_WEEKS = 3
WEEKLY_MIN_SHARE = 0.1  # weekday medians differ by at least this share of the median
WEEKLY_MIN_SPREADS = 4  # ... and by this many spreads about them
CHART_DAYS_BEFORE = 14
CHUNK = 1024  # series judged at once (bounds memory: chunk x days x baseline floats)
PERCENT = Decimal("0.1")
PLACES = Decimal("0.0001")  # the anomaly's amount columns: 24 digits, 4 of them places
MAX_AMOUNT = Decimal(10) ** 20
# The percent column holds 11 digits before its place; past this, the expected cost is
# about zero and a percent says nothing.
MAX_PERCENT = Decimal(10) ** 10
# What a day's expected cost is the median of: the baseline's days, its same weekdays, or
# the earlier months' first days.
ALL_DAYS, WEEKDAY, MONTH_FIRSTS = 0, 1, 2


@dataclass(frozen=True)
class Judgement:
    """Per series (rows) and checked day (columns, from `first`): the expected cost,
    what it is the median of, and whether the day is anomalous."""

    first: int
    expected: np.ndarray
    basis: np.ndarray  # ALL_DAYS, WEEKDAY or MONTH_FIRSTS
    anomalous: np.ndarray

    def spans(self, row: int) -> list[tuple[int, int]]:
        """The runs of anomalous days of series `row`: (first, last) day indexes."""
        flags = self.anomalous[row]
        found: list[tuple[int, int]] = []
        start = None
        for offset, flagged in enumerate(flags):
            if flagged and start is None:
                start = offset
            if not flagged and start is not None:
                found.append((self.first + start, self.first + offset - 1))
                start = None
        if start is not None:
            found.append((self.first + start, self.first + len(flags) - 1))
        return found

    def flagged_rows(self) -> list[int]:
        return [int(row) for row in np.flatnonzero(self.anomalous.any(axis=1))]


@dataclass(frozen=True)
class DayPoint:
    day: date
    expected: Decimal | None
    actual: Decimal


@dataclass(frozen=True)
class Found:
    """One anomaly: days `start` to `end` (inclusive) of series `key`."""

    key: str
    start: date
    end: date
    expected: Decimal
    actual: Decimal
    impact: Decimal
    impact_percent: Decimal | None  # None when the expected cost is about zero
    daily: tuple[DayPoint, ...]
    # Each anomalous day with the baseline days whose median it was expected to cost.
    baselines: tuple[tuple[date, tuple[date, ...]], ...] = ()

    @property
    def fits(self) -> bool:
        """Whether its amounts fit the anomaly's columns (not so with garbage bills)."""
        return all(abs(a) < MAX_AMOUNT for a in (self.expected, self.actual, self.impact))


def judge(
    values: np.ndarray, *, start: date, baseline_days: int, sensitivity: float, first: int
) -> Judgement:
    """Judge days `first`.. of each series (rows of `values`, one column per day from
    `start`); each checked day needs its `baseline_days` before it, so `first` >=
    `baseline_days`."""
    if first < baseline_days:
        raise ValueError(f"day {first} has no {baseline_days} days of baseline before it")
    firsts = month_firsts(start, values.shape[1])
    parts = [
        _judge_chunk(values[i : i + CHUNK], baseline_days, sensitivity, first, firsts)
        for i in range(0, max(len(values), 1), CHUNK)
    ]
    return Judgement(
        first=first,
        expected=np.concatenate([p[0] for p in parts]),
        basis=np.concatenate([p[1] for p in parts]),
        anomalous=np.concatenate([p[2] for p in parts]),
    )


def _judge_chunk(
    values: np.ndarray, baseline: int, sensitivity: float, first: int, firsts: list[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    count, days = values.shape
    checked = days - first
    if count == 0 or checked <= 0:
        empty = np.zeros((count, max(checked, 0)))
        return empty, empty.astype(bool), empty.astype(bool)
    # Days before a series' first cost are not its history: NaN.
    nonzero = values != 0
    first_cost = np.where(nonzero.any(axis=1), nonzero.argmax(axis=1), days)
    history = np.where(np.arange(days) >= first_cost[:, None], values, np.nan)
    # windows[s, t, j]: day first + t - baseline + j of series s.
    windows = np.lib.stride_tricks.sliding_window_view(history, baseline, axis=1)
    windows = windows[:, first - baseline : first - baseline + checked]
    overall = _nanmedian(windows)
    overall_mad = _nanmedian(np.abs(windows - overall[..., None]))
    weekly_series, series_mad = _weekday_pattern(history)
    # The baseline's days on the checked day's weekday.
    same_day_values = windows[..., np.arange(baseline)[(np.arange(baseline) - baseline) % 7 == 0]]
    same_day = np.sum(~np.isnan(same_day_values), axis=-1)
    weekly = weekly_series[:, None] & (same_day >= WEEKLY_MIN_WEEKS)
    residuals = np.abs(same_day_values - _nanmedian(same_day_values)[..., None])
    # Residuals about a median of the same few days understate the spread: n / (n - 1).
    weekday_mad = np.maximum(
        _nanmedian(residuals) * same_day / np.maximum(same_day - 1, 1), series_mad[:, None]
    )
    expected = np.where(weekly, _nanmedian(same_day_values), overall)
    mad = np.where(weekly, weekday_mad, overall_mad)
    basis = np.where(weekly, WEEKDAY, ALL_DAYS).astype(np.int8)
    judged = (first + np.arange(checked))[None, :] - first_cost[:, None] >= MIN_HISTORY_DAYS
    # A month's first day (fees, taxes) also against the earlier first days, the higher
    # expectation counting; not judged without an earlier first day.
    for day in (d for d in firsts if d >= first):
        earlier = history[:, [d for d in firsts if d < day]]
        column = day - first
        if earlier.shape[1] == 0:  # no earlier first day in the window: not judged
            judged[:, column] = False
            continue
        monthly = _nanmedian(earlier)
        higher = monthly > expected[:, column]
        expected[higher, column] = monthly[higher]
        mad[higher, column] = _nanmedian(np.abs(earlier - monthly[:, None]))[higher]
        basis[higher, column] = MONTH_FIRSTS
        judged[:, column] &= ~np.isnan(monthly)
    spread = np.maximum(MAD_SCALE * mad, np.maximum(SPREAD_FLOOR_SHARE * expected, SPREAD_FLOOR))
    actual = values[:, first:]
    excess = actual - expected
    anomalous = judged & (excess > sensitivity * spread) & (excess >= MATERIAL_EXCESS)
    return np.nan_to_num(expected), basis, anomalous


def _weekday_pattern(history: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per series, over all its days: whether its weekdays' medians differ clearly (by a
    share of its median and by several spreads about them), and that spread (MAD)."""
    medians = np.stack([_nanmedian(history[:, g::7]) for g in range(7)], axis=-1)
    residuals = np.empty_like(history)
    for g in range(7):
        residuals[:, g::7] = np.abs(history[:, g::7] - medians[:, g : g + 1])
    mad = np.nan_to_num(_nanmedian(residuals))
    complete = ~np.isnan(medians).any(axis=-1)
    known = np.nan_to_num(medians)
    span = known.max(axis=-1) - known.min(axis=-1)
    overall = np.abs(np.nan_to_num(_nanmedian(history)))
    limit = np.maximum(WEEKLY_MIN_SPREADS * MAD_SCALE * mad, WEEKLY_MIN_SHARE * overall)
    return complete & (span > limit), mad


def _nanmedian(windows: np.ndarray) -> np.ndarray:
    """The median along the last axis ignoring NaN (NaN where all are), by one sort."""
    ordered = np.sort(windows, axis=-1)  # NaN last
    counts = np.sum(~np.isnan(ordered), axis=-1)
    low = np.maximum((counts - 1) // 2, 0)
    high = np.maximum(counts // 2, 0)
    lower = np.take_along_axis(ordered, low[..., None], axis=-1)[..., 0]
    upper = np.take_along_axis(ordered, high[..., None], axis=-1)[..., 0]
    return np.where(counts > 0, (lower + upper) / 2, np.nan)


def month_firsts(start: date, days: int) -> list[int]:
    """The indexes of the months' first days among `days` days from `start`."""
    return [n for n in range(days) if (start + timedelta(days=n)).day == 1]


def baseline_indexes(
    day: int, first_cost: int, baseline: int, basis: int, firsts: Sequence[int] = ()
) -> list[int]:
    """The days whose median is day `day`'s expected cost, on `basis`."""
    if basis == MONTH_FIRSTS:
        return [d for d in firsts if first_cost <= d < day]
    earliest = max(day - baseline, first_cost, 0)
    if basis == WEEKDAY:
        return [d for d in range(day - 7, earliest - 1, -7)]
    return list(range(earliest, day))


def median(amounts: Sequence[Decimal]) -> Decimal:
    ordered = sorted(amounts)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def places(amount: Decimal) -> Decimal:
    """`amount` to the anomaly columns' places (as is when far too large to fit them)."""
    return amount.quantize(PLACES, ROUND_HALF_UP) if abs(amount) < MAX_AMOUNT else amount


def measure(
    key: str,
    amounts: Sequence[Decimal],
    *,
    start: date,
    span: tuple[int, int],
    basis: Sequence[int],
    first: int,
    baseline_days: int,
) -> Found:
    """The exact figures of the anomaly of days `span` (indexes into `amounts`, which
    start on `start`), judged on `basis` from day `first` on, and its chart: the
    `CHART_DAYS_BEFORE` days before it through its end."""
    first_cost = next((i for i, a in enumerate(amounts) if a != 0), len(amounts))
    firsts = month_firsts(start, len(amounts))

    def indexes(day: int) -> list[int]:
        used = int(basis[day - first]) if day >= first else ALL_DAYS
        return baseline_indexes(day, first_cost, baseline_days, used, firsts)

    def expected_on(day: int) -> Decimal | None:
        found = indexes(day)
        return places(median([amounts[i] for i in found])) if found else None

    begin, end = span
    # Each day to the columns' places, so that the chart's days add up to the figures.
    daily = tuple(
        DayPoint(start + timedelta(days=d), expected_on(d), places(amounts[d]))
        for d in range(max(begin - CHART_DAYS_BEFORE, 0), end + 1)
    )
    days = [p for p in daily if p.day >= start + timedelta(days=begin)]
    expected = sum((p.expected or Decimal(0) for p in days), Decimal(0))
    actual = sum((p.actual for p in days), Decimal(0))
    impact = actual - expected
    percent = None
    if expected > 0 and abs(impact) * 100 < MAX_PERCENT * expected:
        percent = (impact * 100 / expected).quantize(PERCENT, ROUND_HALF_UP)
    return Found(
        key=key,
        start=days[0].day,
        end=days[-1].day,
        expected=expected,
        actual=actual,
        impact=impact,
        impact_percent=percent,
        daily=daily,
        baselines=tuple(
            (start + timedelta(days=d), tuple(start + timedelta(days=i) for i in indexes(d)))
            for d in range(begin, end + 1)
        ),
    )


def detect(
    series: Mapping[str, Sequence[Decimal]],
    *,
    start: date,
    baseline_days: int = 28,
    sensitivity: float = 4.0,
    first: int | None = None,
) -> list[Found]:
    """The anomalies of each series (equally long, from `start`), judging every day
    that has a full baseline before it (or days `first`..)."""
    keys = list(series)
    if not keys:
        return []
    values = np.array([[float(a) for a in series[k]] for k in keys], dtype=float)
    first = baseline_days if first is None else first
    judgement = judge(
        values, start=start, baseline_days=baseline_days, sensitivity=sensitivity, first=first
    )
    found = []
    for row in judgement.flagged_rows():
        for span in judgement.spans(row):
            found.append(
                measure(
                    keys[row],
                    series[keys[row]],
                    start=start,
                    span=span,
                    basis=judgement.basis[row].tolist(),
                    first=first,
                    baseline_days=baseline_days,
                )
            )
    return found
