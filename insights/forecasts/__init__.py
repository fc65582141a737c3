"""Cost forecasts: pure functions over (date, Decimal) series, no database."""

from insights.forecasts.engine import (
    MAX_HORIZON_DAYS,
    MAX_HORIZON_MONTHS,
    Backtest,
    Forecast,
    NoForecast,
    Point,
    backtest,
    forecast_daily,
    forecast_monthly,
    forecast_with_backtest,
    refusal,
)
from insights.forecasts.totals import TotalForecast, forecast_total

__all__ = [
    "MAX_HORIZON_DAYS",
    "MAX_HORIZON_MONTHS",
    "Backtest",
    "Forecast",
    "NoForecast",
    "Point",
    "TotalForecast",
    "backtest",
    "forecast_daily",
    "forecast_monthly",
    "forecast_total",
    "forecast_with_backtest",
    "refusal",
]
