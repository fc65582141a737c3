"""The forecasting engine on planted series: intervals that hold the true trend and widen
with the horizon, weekly seasonality, backtest errors, refusals with reasons, Decimal money,
the 36-month history cap (52 weeks for daily models) and the horizon caps."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

import numpy as np
import pytest

from insights.forecasts import (
    Forecast,
    NoForecast,
    TotalForecast,
    backtest,
    forecast_daily,
    forecast_monthly,
    forecast_total,
)
from insights.forecasts.series import add_months

D = Decimal
Series = list[tuple[date, Decimal]]
START = date(2025, 1, 1)


def daily(days: int, cost: Callable[[int, date], float], start: date = START) -> Series:
    series = []
    for index in range(days):
        day = start + timedelta(days=index)
        series.append((day, D(str(round(cost(index, day), 2)))))
    return series


def monthly(months: int, cost: Callable[[int], float], start: date = START) -> Series:
    return [(add_months(start, index), D(str(round(cost(index), 2)))) for index in range(months)]


def noise(seed: int, size: int, sd: float) -> list[float]:
    return [float(value) for value in np.random.default_rng(seed).normal(0, sd, size)]


def a_forecast(result: Forecast | NoForecast) -> Forecast:
    assert isinstance(result, Forecast), result
    return result


def trend(index: int) -> float:
    return 500 + 2 * index


def test_intervals_hold_a_planted_trend_and_widen_with_the_horizon() -> None:
    # Given 120 days of a rising cost with noise (sd 20 a day)
    jitter = noise(7, 120, 20)
    history = daily(120, lambda i, _: trend(i) + jitter[i])

    # When the next 92 days are forecast
    forecast = a_forecast(forecast_daily(history, 92))

    # Then the days follow the history, and the intervals hold the true trend
    assert [point.date for point in forecast.points] == [
        date(2025, 5, 1) + timedelta(days=i) for i in range(92)
    ]
    truth = [D(trend(120 + step)) for step in range(92)]
    inside80 = sum(p.lower80 <= t <= p.upper80 for p, t in zip(forecast.points, truth, strict=True))
    inside95 = sum(p.lower95 <= t <= p.upper95 for p, t in zip(forecast.points, truth, strict=True))
    assert inside80 >= 0.8 * 92
    assert inside95 >= 0.95 * 92
    for point in forecast.points:
        assert point.lower95 <= point.lower80 <= point.expected <= point.upper80 <= point.upper95
    # and they never narrow, and the last day's is clearly wider than the first day's
    for width in (lambda p: p.upper80 - p.lower80, lambda p: p.upper95 - p.lower95):
        widths = [width(point) for point in forecast.points]
        assert all(later >= earlier - D("0.02") for earlier, later in pairwise(widths))
        assert widths[-1] > widths[0] * D("1.05")
    assert forecast.history_from == START
    assert forecast.history_to == date(2025, 4, 30)
    assert "local linear trend" in forecast.method
    assert forecast.mape is None


def test_monthly_intervals_hold_a_planted_trend_and_widen() -> None:
    jitter = noise(11, 20, 40)
    history = monthly(20, lambda i: 2000 + 50 * i + jitter[i])

    forecast = a_forecast(forecast_monthly(history, 18))

    assert forecast.points[0].date == date(2026, 9, 1)
    assert forecast.points[-1].date == date(2028, 2, 1)
    truth = [D(2000 + 50 * (20 + step)) for step in range(18)]
    inside95 = sum(p.lower95 <= t <= p.upper95 for p, t in zip(forecast.points, truth, strict=True))
    assert inside95 >= 16
    widths = [point.upper95 - point.lower95 for point in forecast.points]
    assert widths == sorted(widths)
    assert widths[-1] > widths[0]


def test_weekly_seasonality_is_picked_up() -> None:
    # Weekends cost 300 less than the 1,000 of a working day
    jitter = noise(3, 84, 15)
    history = daily(84, lambda i, day: (700 if day.weekday() >= 5 else 1000) + jitter[i])

    forecast = a_forecast(forecast_daily(history, 28))

    assert "weekly seasonality" in forecast.method
    weekend = [p.expected for p in forecast.points if p.date.weekday() >= 5]
    weekday = [p.expected for p in forecast.points if p.date.weekday() < 5]
    assert max(weekend) < min(weekday)
    gap = sum(weekday, D(0)) / len(weekday) - sum(weekend, D(0)) / len(weekend)
    assert gap == pytest.approx(D(300), abs=D(30))
    saturday = next(p for p in forecast.points if p.date.weekday() == 5)
    assert saturday.upper95 < 1000


def test_a_perfect_line_backtests_to_no_error() -> None:
    line = daily(90, lambda i, _: 100 + 3 * i)
    result = backtest(line, 14, frequency="daily")
    assert result.mape is not None and result.mape <= D("0.1")
    assert result.reason is None
    assert result.held_back == 14

    months = monthly(24, lambda i: 5000 + 250 * i)
    assert backtest(months, 6).mape == D("0.0")


def test_backtest_of_known_noise_is_in_its_range() -> None:
    # A flat 1,000 a day with noise of sd 50: an absolute error averages about 4 %
    jitter = noise(5, 150, 50)
    history = daily(150, lambda i, _: 1000 + jitter[i])

    result = backtest(history, 30, frequency="daily")

    assert result.mape is not None
    assert D("2") <= result.mape <= D("8")
    assert result.mape == result.mape.quantize(D("0.1"))
    assert result.method is not None
    # The forecast can carry the same figure
    forecast = a_forecast(forecast_daily(history, 30, backtest_days=30))
    assert forecast.mape == result.mape


def test_backtest_without_enough_history_gives_a_reason() -> None:
    history = daily(45, lambda i, _: 100.0 + i)

    result = backtest(history, 30, frequency="daily")
    assert result.mape is None
    assert result.reason == (
        "holding back the last 30 days leaves too little history:"
        " needs at least one full month of history; 15 days are loaded"
    )

    short = backtest(monthly(2, lambda i: 100.0), 6)
    assert short.mape is None
    assert short.reason == "holding back 6 months needs a longer history; 2 months are loaded"

    free = backtest(daily(60, lambda i, _: 100.0 if i < 50 else 0.0), 10, frequency="daily")
    assert free.mape is None
    assert free.reason == "every held-back day cost nothing, so a percentage error is undefined"


def test_less_than_a_full_month_of_history_gives_the_reason() -> None:
    result = forecast_daily(daily(12, lambda i, _: 100.0), 30)
    assert result == NoForecast("needs at least one full month of history; 12 days are loaded")

    assert forecast_daily([], 30) == NoForecast(
        "needs at least one full month of history; no days are loaded"
    )
    # January 15 to February 13 is a day short of a month; to February 14 is a full month
    assert isinstance(
        forecast_daily(daily(30, lambda i, _: 100.0 + i, date(2025, 1, 15)), 7), NoForecast
    )
    assert isinstance(
        forecast_daily(daily(31, lambda i, _: 100.0 + i, date(2025, 1, 15)), 7), Forecast
    )

    assert forecast_monthly([(date(2025, 1, 1), D("1200.00"))], 6) == NoForecast(
        "a monthly forecast needs at least 3 full months of history; 1 month is loaded"
    )
    assert forecast_monthly([], 6) == NoForecast(
        "needs at least one full month of history; no months are loaded"
    )


def test_money_is_decimal_in_cents_in_and_out() -> None:
    history = daily(60, lambda i, _: 1234.5678 + i)  # rounded to cents by the helper
    history[-1] = (history[-1][0], D("1300.123456"))  # and one amount with more digits

    forecast = a_forecast(forecast_daily(history, 7))

    for point in forecast.points:
        for amount in (
            point.expected,
            point.lower80,
            point.upper80,
            point.lower95,
            point.upper95,
        ):
            assert isinstance(amount, Decimal)
            assert amount.as_tuple().exponent == -2
    with pytest.raises(TypeError, match="Decimal"):
        forecast_daily([(START, 12.5)], 7)  # type: ignore[list-item]


def test_missing_days_cost_nothing_and_amounts_of_a_day_add_up() -> None:
    history = daily(60, lambda i, _: 100.0)
    del history[30]  # no cost on January 31
    history.append((date(2025, 3, 1), D("50.00")))  # a second row for March 1
    constant = daily(60, lambda i, _: 100.0)
    constant[30] = (constant[30][0], D(0))
    constant[-1] = (constant[-1][0], D("150.00"))

    assert forecast_daily(history, 14) == forecast_daily(constant, 14)


def test_never_negative_costs_are_not_forecast_below_zero() -> None:
    # Small costs that fall: the intervals would reach below zero
    jitter = noise(13, 60, 3)
    falling = daily(60, lambda i, _: max(0.0, 40 - 0.5 * i + jitter[i]))
    forecast = a_forecast(forecast_daily(falling, 60))
    assert min(point.lower95 for point in forecast.points) == D("0.00")
    assert all(point.expected >= 0 for point in forecast.points)

    # A series with credits (negative days) may be forecast below zero
    with_credits = daily(60, lambda i, _: -20 + 0.1 * i + jitter[i])
    credits = a_forecast(forecast_daily(with_credits, 30))
    assert min(point.lower95 for point in credits.points) < 0


def test_history_older_than_36_months_is_ignored() -> None:
    # 40 months of days whose first 4 months cost a thousand times more
    start = date(2022, 1, 1)
    last = date(2025, 4, 30)
    days = (last - start).days + 1
    cutoff = date(2022, 5, 1)
    jitter = noise(17, days, 10)

    def cost(index: int, day: date) -> float:
        return (100_000.0 if day < cutoff else 100.0 + 0.05 * index) + jitter[index]

    history = daily(days, cost, start)
    forecast = a_forecast(forecast_daily(history, 14))

    # A daily model reads the last 52 weeks of it
    assert forecast.history_from == last - timedelta(days=363)
    assert forecast.history_to == last
    kept = [(day, amount) for day, amount in history if day >= cutoff]
    assert forecast == forecast_daily(kept, 14)
    assert all(point.upper95 < 1000 for point in forecast.points)

    months = monthly(48, lambda i: 1_000_000.0 if i < 12 else 1000.0 + 10 * i)
    by_month = a_forecast(forecast_monthly(months, 6))
    assert by_month.history_from == date(2026, 1, 1)
    assert by_month.history_to == date(2028, 12, 1)
    assert by_month == forecast_monthly(months[12:], 6)


def test_horizons_past_their_caps_are_refused() -> None:
    history = daily(60, lambda i, _: 100.0 + i)
    with pytest.raises(ValueError, match="a daily forecast reaches 1 to 92 days ahead, not 93"):
        forecast_daily(history, 93)
    with pytest.raises(ValueError, match="not 0"):
        forecast_daily(history, 0)
    months = monthly(12, lambda i: 100.0 + i)
    with pytest.raises(ValueError, match="a monthly forecast reaches 1 to 18 months ahead, not 19"):
        forecast_monthly(months, 19)
    with pytest.raises(ValueError, match="1 to 18 months"):
        backtest(months, 24)
    assert len(a_forecast(forecast_daily(history, 92)).points) == 92
    assert len(a_forecast(forecast_monthly(months, 18)).points) == 18


def test_a_flat_history_forecasts_the_same_amount_for_sure() -> None:
    forecast = a_forecast(forecast_daily(daily(40, lambda i, _: 250.0), 10))
    assert {point.expected for point in forecast.points} == {D("250.00")}
    assert {point.lower95 for point in forecast.points} == {D("250.00")}
    assert {point.upper95 for point in forecast.points} == {D("250.00")}
    assert forecast.method == "unchanged amount"


def test_a_month_begun_is_forecast_to_its_end() -> None:
    # May 1 to 15 are loaded at about 100 a day; May has 16 days to go
    jitter = noise(19, 135, 10)
    history = daily(135, lambda i, _: 100 + jitter[i])

    total = forecast_total(history, date(2025, 5, 1), date(2025, 5, 31))

    assert isinstance(total, TotalForecast)
    assert total.history_to == date(2025, 5, 15)
    assert total.actual == sum(amount for day, amount in history if day >= date(2025, 5, 1))
    assert total.expected - total.actual == pytest.approx(D(1600), abs=D(60))
    assert total.lower95 <= total.lower80 < total.expected < total.upper80 <= total.upper95
    assert total.lower95 <= D(3100) <= total.upper95
    # The month's interval is narrower than adding up the days' intervals
    days = a_forecast(forecast_daily(history, 16)).points
    assert total.upper95 - total.lower95 < sum(p.upper95 - p.lower95 for p in days)
    assert total.expected == total.actual + sum(p.expected for p in days)

    # A stretch already behind us is what it cost
    april = forecast_total(history, date(2025, 4, 1), date(2025, 4, 30))
    assert isinstance(april, TotalForecast)
    assert april.expected == april.actual == april.lower95 == april.upper95
    # and one too far ahead is refused
    with pytest.raises(ValueError, match="93 days after the last day with cost"):
        forecast_total(history, date(2025, 8, 1), date(2025, 8, 16))
    assert forecast_total(history[:10], date(2025, 1, 1), date(2025, 1, 31)) == NoForecast(
        "needs at least one full month of history; 10 days are loaded"
    )


def test_a_charge_on_every_months_first_day_comes_back_on_the_first_days_ahead() -> None:
    # About 100 a day, and a support fee of 500 on each 1st
    jitter = noise(23, 151, 5)
    history = daily(151, lambda i, day: 100 + jitter[i] + (500 if day.day == 1 else 0))

    forecast = a_forecast(forecast_daily(history, 40, backtest_days=28))

    assert forecast.method.endswith("each month's 1st adds its recurring charges")
    by_day = {point.date: point for point in forecast.points}
    first = by_day[date(2025, 6, 1)]
    assert first.expected == pytest.approx(D(600), abs=D(25))
    assert first.lower95 <= 600 <= first.upper95
    # The days after a 1st are not lifted by it
    others = [p.expected for p in forecast.points if p.date.day != 1]
    assert all(D(85) < amount < D(115) for amount in others)
    assert forecast.mape is not None and forecast.mape < D(6)

    # Without such charges nothing is added
    plain = a_forecast(forecast_daily(daily(151, lambda i, _: 100 + jitter[i]), 40))
    assert "1st" not in plain.method
