"""Forecasts of a cost series: pure functions from (date, Decimal) pairs to expected amounts
with 80 % and 95 % prediction intervals, and a backtest that measures how far such a
forecast would have been off. No database: callers load the series and keep the results.

Money is Decimal on the way in and out (rounded to cents, half up); floats live only in the
fitting. Daily forecasts reach up to 92 days ahead, monthly ones up to 18 months, both from
at most the last 36 months of history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from insights.forecasts.fitting import FitError, Fitted, Prediction, fit, model_for
from insights.forecasts.month_starts import month_starts
from insights.forecasts.series import (
    Series,
    covers_a_full_month,
    daily_series,
    monthly_series,
    to_cents,
)

MAX_HORIZON_DAYS = 92
MAX_HORIZON_MONTHS = 18
# Fewer months leave nothing to tell a trend from noise; a daily forecast serves then.
MIN_HISTORY_MONTHS = 3
# Daily models are fitted on the last 52 weeks: older days add little to next quarter's
# days and cost fitting time; the monthly model reads all 36 months.
DAILY_FIT_DAYS = 364
UNFITTABLE = "the cost history could not be fitted to a forecasting model"

Frequency = Literal["daily", "monthly"]
CostSeries = Iterable[tuple[dt.date, Decimal]]


@dataclass(frozen=True)
class Point:
    date: dt.date  # a day, or the first day of a month
    expected: Decimal
    lower80: Decimal
    upper80: Decimal
    lower95: Decimal
    upper95: Decimal


@dataclass(frozen=True)
class Forecast:
    points: list[Point]
    method: str  # the model, in words
    history_from: dt.date
    history_to: dt.date
    # How far the same model was off on the held-back end of the history, in percent.
    mape: Decimal | None = None


@dataclass(frozen=True)
class NoForecast:
    """Why there is no forecast, in words a person can act on."""

    reason: str


@dataclass(frozen=True)
class Backtest:
    mape: Decimal | None  # percent, one decimal; None with a reason
    reason: str | None
    held_back: int
    method: str | None = None


def forecast_daily(
    series: CostSeries, horizon_days: int, *, backtest_days: int | None = None
) -> Forecast | NoForecast:
    """The next `horizon_days` days after the series' last day. Days missing between the
    first and the last given cost nothing; several amounts of one day are summed. With
    `backtest_days`, the forecast's mape is that of `backtest` over as many last days."""
    _check_horizon(horizon_days, "daily")
    history = daily_series(series)
    return _forecast_tested(history, "daily", horizon_days, backtest_days)


def forecast_monthly(
    series: CostSeries, horizon_months: int, *, backtest_months: int | None = None
) -> Forecast | NoForecast:
    """The next `horizon_months` months after the series' last month. Each date stands for
    its month (amounts of one month are summed; missing months cost nothing), and every
    month given should be complete: a month still running reads as a drop in spending."""
    _check_horizon(horizon_months, "monthly")
    history = monthly_series(series)
    return _forecast_tested(history, "monthly", horizon_months, backtest_months)


def backtest(series: CostSeries, held_back: int, *, frequency: Frequency = "monthly") -> Backtest:
    """The mean absolute percentage error of forecasting the last `held_back` months (or
    days) from the history before them. Periods that cost nothing are left out of the mean
    (a percentage of zero is undefined)."""
    _check_horizon(held_back, frequency)
    history = _series(series, frequency)
    return _backtest(history, frequency, held_back)


def forecast_with_backtest(
    series: CostSeries, frequency: Frequency, steps: int, held_back: int
) -> tuple[Forecast | NoForecast, Backtest]:
    """The forecast `steps` ahead with its mape, and the backtest of the last `held_back`
    periods that gave it (whose reason says why there is no mape)."""
    _check_horizon(steps, frequency)
    _check_horizon(held_back, frequency)
    history = _series(series, frequency)
    tested, weights = _run_backtest(history, frequency, held_back)
    return _forecast(history, frequency, steps, tested, weights), tested


def refusal(series: CostSeries, *, frequency: Frequency) -> str | None:
    """Why a series is too short to forecast, or None when it is long enough."""
    return history_refusal(_series(series, frequency), frequency)


def _series(series: CostSeries, frequency: Frequency) -> Series | None:
    return monthly_series(series) if frequency == "monthly" else daily_series(series)


def _check_horizon(steps: int, frequency: Frequency) -> None:
    unit, cap = ("months", MAX_HORIZON_MONTHS)
    if frequency == "daily":
        unit, cap = ("days", MAX_HORIZON_DAYS)
    if isinstance(steps, bool) or not isinstance(steps, int):
        raise TypeError(f"the horizon must be a whole number of {unit}")
    if not 1 <= steps <= cap:
        raise ValueError(f"a {frequency} forecast reaches 1 to {cap} {unit} ahead, not {steps}")


def _plural(number: int, unit: str) -> str:
    return f"1 {unit}" if number == 1 else f"{number} {unit}s"


def _loaded(number: int, unit: str) -> str:
    if number == 0:
        return f"no {unit}s are loaded"
    return f"{_plural(number, unit)} {'is' if number == 1 else 'are'} loaded"


def history_refusal(history: Series | None, frequency: Frequency) -> str | None:
    if frequency == "daily":
        if history is None or not covers_a_full_month(history):
            loaded = _loaded(_length(history), "day")
            return f"needs at least one full month of history; {loaded}"
        return None
    if history is None:
        return "needs at least one full month of history; no months are loaded"
    if len(history.amounts) < MIN_HISTORY_MONTHS:
        loaded = _loaded(len(history.amounts), "month")
        return (
            f"a monthly forecast needs at least {MIN_HISTORY_MONTHS} full months of history;"
            f" {loaded}"
        )
    return None


def _length(history: Series | None) -> int:
    return 0 if history is None else len(history.amounts)


def _forecast_tested(
    history: Series | None, frequency: Frequency, steps: int, backtest_steps: int | None
) -> Forecast | NoForecast:
    if backtest_steps is None:
        return _forecast(history, frequency, steps, None, None)
    _check_horizon(backtest_steps, frequency)
    tested, weights = _run_backtest(history, frequency, backtest_steps)
    return _forecast(history, frequency, steps, tested, weights)


def _forecast(
    history: Series | None,
    frequency: Frequency,
    steps: int,
    tested: Backtest | None,
    weights_of: Fitted | None,
) -> Forecast | NoForecast:
    """With `weights_of`, the backtest's model: its smoothing weights are applied to the
    whole history, so that the backtest measured the forecast given."""
    reason = history_refusal(history, frequency)
    if reason is not None or history is None:
        return NoForecast(reason or "")
    mape = None if tested is None else tested.mape
    history = fitted_part(history)
    try:
        fitted = fit_history(history, weights_of)
        prediction = fitted.predict(steps)
    except FitError:
        return NoForecast(UNFITTABLE)
    return Forecast(
        points=points(history, prediction),
        method=fitted.method,
        history_from=history.start,
        history_to=history.end,
        mape=mape,
    )


def fitted_part(history: Series) -> Series:
    """The part of the history a model is fitted on."""
    return history if history.monthly else history.tail(DAILY_FIT_DAYS)


def fit_history(history: Series, weights_of: Fitted | None = None) -> Fitted:
    history = fitted_part(history)
    model = model_for(len(history.amounts), monthly=history.monthly)
    if history.monthly:
        return fit(history.floats(), model, weights_of=weights_of)
    values, charges = month_starts(history.start, history.floats())
    fitted = fit(values, model, weights_of=weights_of)
    fitted.add_month_starts(charges, history.end + timedelta(days=1))
    return fitted


def points(history: Series, prediction: Prediction) -> list[Point]:
    """Points after the history; a cost series that was never negative (no credits or
    refunds) is not forecast below zero either."""
    floor = 0.0 if history.never_negative() else None
    last = len(history.amounts) - 1
    result = []
    for step, expected in enumerate(prediction.expected):
        half80 = prediction.half_widths[0.80][step]
        half95 = prediction.half_widths[0.95][step]
        values = [expected, expected - half80, expected + half80]
        values += [expected - half95, expected + half95]
        if floor is not None:
            values = [max(floor, value) for value in values]
        amounts = [to_cents(value) for value in values]
        result.append(Point(history.date_at(last + 1 + step), *amounts))
    return result


def _backtest(history: Series | None, frequency: Frequency, held_back: int) -> Backtest:
    return _run_backtest(history, frequency, held_back)[0]


def _run_backtest(
    history: Series | None, frequency: Frequency, held_back: int
) -> tuple[Backtest, Fitted | None]:
    """The backtest, and the model fitted to the history before the held-back periods."""
    unit = "month" if frequency == "monthly" else "day"
    held = _plural(held_back, unit)
    if history is None or len(history.amounts) <= held_back:
        reason = f"holding back {held} needs a longer history; {_loaded(_length(history), unit)}"
        return Backtest(mape=None, reason=reason, held_back=held_back), None
    kept = len(history.amounts) - held_back
    training = history.head(kept)
    too_short = history_refusal(training, frequency)
    if too_short is not None:
        reason = f"holding back the last {held} leaves too little history: {too_short}"
        return Backtest(mape=None, reason=reason, held_back=held_back), None
    try:
        fitted = fit_history(training)
        forecast = points(training, fitted.predict(held_back))
    except FitError:
        return Backtest(mape=None, reason=UNFITTABLE, held_back=held_back), None
    mape = mean_absolute_percentage_error(
        history.amounts[kept:], [point.expected for point in forecast]
    )
    if mape is None:
        reason = f"every held-back {unit} cost nothing, so a percentage error is undefined"
        tested = Backtest(mape=None, reason=reason, held_back=held_back, method=fitted.method)
        return tested, fitted
    return Backtest(mape=mape, reason=None, held_back=held_back, method=fitted.method), fitted


def mean_absolute_percentage_error(
    actual: Sequence[Decimal], expected: Sequence[Decimal]
) -> Decimal | None:
    """In percent, rounded to 0.1; periods that cost nothing are left out."""
    errors = [abs(a - e) / abs(a) for a, e in zip(actual, expected, strict=True) if a != 0]
    if not errors:
        return None
    mean = sum(errors, Decimal(0)) / len(errors) * 100
    return mean.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
