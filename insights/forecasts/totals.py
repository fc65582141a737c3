"""The total cost of a stretch of days that has begun but not ended (this month, this
quarter): what the history already holds plus the forecast of the days still to come, with
80 % and 95 % intervals of the sum. A budget compares its limit with these."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np

from insights.forecasts.engine import (
    MAX_HORIZON_DAYS,
    UNFITTABLE,
    CostSeries,
    NoForecast,
    fit_history,
    history_refusal,
    points,
)
from insights.forecasts.fitting import FitError
from insights.forecasts.series import CENT, daily_series, to_cents


@dataclass(frozen=True)
class TotalForecast:
    start: dt.date
    end: dt.date
    actual: Decimal  # the days of the stretch up to history_to
    expected: Decimal  # actual plus the expected cost of the days after history_to
    lower80: Decimal
    upper80: Decimal
    lower95: Decimal
    upper95: Decimal
    method: str
    history_to: dt.date


def forecast_total(series: CostSeries, start: dt.date, end: dt.date) -> TotalForecast | NoForecast:
    """The cost of the days from `start` to `end` (both included) of a daily series: days up to
    its last day as they are, later days forecast (at most 92 days after the last day)."""
    if end < start:
        raise ValueError(f"the stretch ends ({end.isoformat()}) before it starts")
    history = daily_series(series)
    reason = history_refusal(history, "daily")
    if reason is not None or history is None:
        return NoForecast(reason or "")
    ahead = (end - history.end).days
    if ahead > MAX_HORIZON_DAYS:
        raise ValueError(
            f"a daily forecast reaches 1 to {MAX_HORIZON_DAYS} days ahead;"
            f" {end.isoformat()} is {ahead} days after the last day with cost"
        )
    actual = sum(
        (
            amount
            for index, amount in enumerate(history.amounts)
            if start <= history.date_at(index) <= end
        ),
        Decimal(0),
    ).quantize(CENT, rounding=ROUND_HALF_UP)
    if ahead <= 0:
        # Nothing left to forecast: the stretch cost what the history says.
        return TotalForecast(
            start, end, actual, actual, actual, actual, actual, actual, "actual cost", history.end
        )
    # The days of the stretch after the history: from its first day ahead (0 is the day
    # after the history) to its last.
    first = max(0, (start - history.end).days - 1)
    try:
        fitted = fit_history(history)
        expected = points(history, fitted.predict(ahead))[first:]
        paths = fitted.simulate(ahead)[first:]
    except FitError:
        return NoForecast(UNFITTABLE)
    if history.never_negative():
        paths = np.maximum(paths, 0.0)
    # Days are not independent (a level that drifts up stays up), so the interval of the
    # sum comes from simulated paths, not from adding the days' intervals.
    sums = paths.sum(axis=0)
    low95, low80, high80, high95 = np.quantile(sums, [0.025, 0.10, 0.90, 0.975]).tolist()
    future = sum((point.expected for point in expected), Decimal(0))
    total = actual + future
    return TotalForecast(
        start=start,
        end=end,
        actual=actual,
        expected=total,
        lower80=min(total, actual + to_cents(low80)),
        upper80=max(total, actual + to_cents(high80)),
        lower95=min(total, actual + to_cents(low95)),
        upper95=max(total, actual + to_cents(high95)),
        method=fitted.method,
        history_to=history.end,
    )
