"""The statistics behind the forecasts: exponential smoothing state space models (statsmodels'
ETSModel, additive errors) fitted by maximum likelihood, with analytic prediction intervals.
Floats live only in this module.

ETS(A,A,N) is the local linear trend model with one source of noise, and ETS(A,A,A) adds a
seasonal pattern; both forecast in milliseconds where the unobserved components model of
the same structure took a second, which is what forecasting every team nightly needs."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import NormalDist
from typing import Any

import numpy as np
from statsmodels.tools.sm_exceptions import ConvergenceWarning
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

from insights.forecasts.month_starts import MonthStarts

# The two-sided prediction intervals reported with every point.
LEVELS = (0.80, 0.95)
SIMULATED_PATHS = 2000
# The optimizer's cap: smoothing weights settle long before it on cost series.
MAX_ITERATIONS = 200
# The heuristic start (a decomposition of the first cycles) needs this many observations;
# shorter series have their initial states estimated with the weights.
HEURISTIC_MIN = 10


class FitError(Exception):
    """The model could not be fitted to the history (the optimizer produced no finite answer)."""


@dataclass(frozen=True)
class Model:
    name: str
    seasonal_periods: int | None


def model_for(length: int, *, monthly: bool) -> Model:
    # An additive trend lets the level and the slope drift, so a change of spending moves
    # the forecast instead of being averaged away; when the history is a straight line the
    # smoothing weights shrink and it becomes a fitted linear trend.
    if monthly:
        if length >= 24:
            return Model("local linear trend with yearly seasonality (ETS A,A,A)", 12)
        return Model("local linear trend (ETS A,A,N)", None)
    if length >= 21:
        return Model("local linear trend with weekly seasonality (ETS A,A,A)", 7)
    return Model("local linear trend (ETS A,A,N)", None)


@dataclass(frozen=True)
class Prediction:
    expected: list[float]
    # Half-widths of the intervals per level, never narrower than at an earlier step.
    half_widths: dict[float, list[float]]


class Fitted:
    def __init__(
        self, results: Any, scale: float, method: str, weights: _Weights | None = None
    ) -> None:
        self._results = results
        self._scale = scale
        self.method = method  # the model, in words
        self.weights = weights
        self._charges: MonthStarts | None = None
        self._next_day: date | None = None  # the first day ahead, for a daily series

    def add_month_starts(self, charges: MonthStarts | None, next_day: date) -> None:
        """Each 1st ahead brings `charges` on top of what the model expects."""
        self._charges, self._next_day = charges, next_day
        if charges is not None:
            self.method += "; each month's 1st adds its recurring charges"

    def _extras(self, steps: int) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        charges, first = self._charges, self._next_day
        if charges is None or first is None:
            return np.zeros(steps), np.zeros(steps)
        days = [first + timedelta(days=step) for step in range(steps)]
        extra = np.array([charges.on(day) for day in days])
        return extra, np.where(extra != 0, charges.spread, 0.0)

    def predict(self, steps: int) -> Prediction:
        with _quiet():
            mean, variance = self._results.forecast_with_variance(steps)
        mean = np.asarray(mean, dtype=float) * self._scale
        sd = np.sqrt(np.asarray(variance, dtype=float)) * self._scale
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(sd))):
            raise FitError("the forecast is not finite")
        # A later step is never better known than an earlier one.
        sd = np.maximum.accumulate(sd)
        normal = NormalDist()
        extra, spread = self._extras(steps)
        half_widths = {
            level: (sd * normal.inv_cdf(0.5 + level / 2) + spread).tolist() for level in LEVELS
        }
        return Prediction(expected=(mean + extra).tolist(), half_widths=half_widths)

    def simulate(self, steps: int, seed: int = 0) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Simulated future paths, one row per step and one column per path."""
        with _quiet():
            paths = self._results.simulate_paths(steps, SIMULATED_PATHS, seed)
        values = np.asarray(paths, dtype=float).reshape(steps, SIMULATED_PATHS) * self._scale
        values += self._extras(steps)[0][:, None]
        if not np.all(np.isfinite(values)):
            raise FitError("the simulated paths are not finite")
        return values


@dataclass(frozen=True)
class _Weights:
    """A fitted model's smoothing weights, which a model of the same kind can apply."""

    model: Model
    params: tuple[float, ...]


def fit(values: list[float], model: Model, *, weights_of: Fitted | None = None) -> Fitted:
    """The model fitted to `values`; with `weights_of` (a fit of the same model to an earlier
    part of the same series), its smoothing weights applied instead of estimated again, when
    they fit this model: the forecast is then the very one its backtest measured."""
    data = np.asarray(values, dtype=float)
    # The optimizer works on amounts of about one, whatever the currency and size of the bill.
    scale = float(np.mean(np.abs(data))) or 1.0
    if np.ptp(data) == 0:
        return Fitted(_ConstantResults(data[-1] / scale), scale, "unchanged amount")
    ets = _ets(data / scale, model)
    known = weights_of.weights if weights_of is not None else None
    with _quiet():
        try:
            if known is not None and known.model == model and _heuristic(len(data)):
                raw = ets.smooth(np.asarray(known.params))
            else:
                raw = ets.fit(disp=False, maxiter=MAX_ITERATIONS)
        except (ValueError, np.linalg.LinAlgError) as error:
            raise FitError(str(error)) from error
    results = _ETSResults(raw)
    if not (np.all(np.isfinite(results.params)) and np.isfinite(results.mse)):
        raise FitError("the likelihood could not be maximized")
    # Weights alone (no estimated initial states) carry over to a longer history.
    reusable = _Weights(model, tuple(results.params)) if _heuristic(len(data)) else None
    return Fitted(results, scale, model.name, reusable)


def _heuristic(length: int) -> bool:
    return length >= HEURISTIC_MIN


def _ets(data: np.ndarray[Any, np.dtype[np.float64]], model: Model) -> ETSModel:
    seasonal = model.seasonal_periods
    return ETSModel(
        data,
        error="add",
        trend="add",
        seasonal="add" if seasonal else None,
        seasonal_periods=seasonal,
        initialization_method="heuristic" if _heuristic(len(data)) else "estimated",
    )


class _ETSResults:
    """The fitted model's forecasts as plain arrays."""

    def __init__(self, results: Any) -> None:
        self._results = results
        self.params = np.asarray(results.params, dtype=float)
        self.mse = float(results.mse)

    def forecast_with_variance(self, steps: int) -> tuple[Any, Any]:
        # The analytic variance of ETS models with additive errors (Hyndman et al.), which
        # statsmodels' prediction results compute the same way; called directly, as those
        # need a pandas index and cost more than the fit.
        horizons = np.arange(1, steps + 1)
        variance = self._results.mse * self._results._relative_forecast_variance(horizons)
        return self._results.forecast(steps), variance

    def simulate_paths(self, steps: int, paths: int, seed: int) -> Any:
        return self._results.simulate(
            steps, anchor="end", repetitions=paths, rng=np.random.default_rng(seed)
        )


class _ConstantResults:
    """A history that never changed: the same amount ahead, with nothing to be unsure of."""

    def __init__(self, value: float) -> None:
        self._value = value

    def forecast_with_variance(self, steps: int) -> tuple[Any, Any]:
        return np.full(steps, self._value), np.zeros(steps)

    def simulate_paths(self, steps: int, paths: int, seed: int) -> Any:
        return np.full((steps, paths), self._value)


@contextmanager
def _quiet() -> Iterator[None]:
    """Silences the optimizer's convergence notes and NumPy's warnings inside statsmodels
    (a straight or flat stretch of history makes some variances zero); the results are
    checked for finite numbers instead."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", UserWarning)
        yield
