"""The statistics behind the forecasts: structural time series models (statsmodels'
unobserved components) fitted by maximum likelihood. Floats live only in this module."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
from statsmodels.tools.sm_exceptions import ConvergenceWarning
from statsmodels.tsa.statespace.structural import UnobservedComponents

# The two-sided prediction intervals reported with every point.
LEVELS = (0.80, 0.95)
SIMULATED_PATHS = 2000


class FitError(Exception):
    """The model could not be fitted to the history (the optimizer produced no finite answer)."""


@dataclass(frozen=True)
class Model:
    name: str
    seasonal_periods: int | None


def model_for(length: int, *, monthly: bool) -> Model:
    # A local linear trend lets the level and the slope drift, so a change of spending
    # moves the forecast instead of being averaged away; when the history is a straight
    # line the estimated drifts shrink to zero and it becomes a fitted linear trend.
    if monthly:
        if length >= 24:
            return Model("local linear trend with yearly seasonality", 12)
        return Model("local linear trend", None)
    if length >= 21:
        return Model("local linear trend with weekly seasonality", 7)
    return Model("local linear trend", None)


@dataclass(frozen=True)
class Prediction:
    expected: list[float]
    # Half-widths of the intervals per level, never narrower than at an earlier step.
    half_widths: dict[float, list[float]]


class Fitted:
    def __init__(self, results: Any, scale: float, method: str) -> None:
        self._results = results
        self._scale = scale
        self.method = method  # the model, in words

    def predict(self, steps: int) -> Prediction:
        with _quiet():
            forecast = self._results.get_forecast(steps)
            mean = np.asarray(forecast.predicted_mean, dtype=float) * self._scale
            sd = np.sqrt(np.asarray(forecast.var_pred_mean, dtype=float)) * self._scale
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(sd))):
            raise FitError("the forecast is not finite")
        # The model's variance can dip for a day of the week whose seasonal effect is
        # better known; a later day is never better known than an earlier one.
        sd = np.maximum.accumulate(sd)
        normal = NormalDist()
        half_widths = {level: (sd * normal.inv_cdf(0.5 + level / 2)).tolist() for level in LEVELS}
        return Prediction(expected=mean.tolist(), half_widths=half_widths)

    def simulate(self, steps: int, seed: int = 0) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Simulated future paths, one row per step and one column per path."""
        with _quiet():
            paths = self._results.simulate(
                nsimulations=steps,
                repetitions=SIMULATED_PATHS,
                anchor="end",
                rng=np.random.default_rng(seed),
            )
        values = np.asarray(paths, dtype=float).reshape(steps, SIMULATED_PATHS) * self._scale
        if not np.all(np.isfinite(values)):
            raise FitError("the simulated paths are not finite")
        return values


def fit(values: list[float], model: Model) -> Fitted:
    data = np.asarray(values, dtype=float)
    # The optimizer works on amounts of about one, whatever the currency and size of the bill.
    scale = float(np.mean(np.abs(data))) or 1.0
    if np.ptp(data) == 0:
        return Fitted(_ConstantResults(data[-1] / scale), scale, "unchanged amount")
    with _quiet():
        results = UnobservedComponents(
            data / scale,
            level="local linear trend",
            seasonal=model.seasonal_periods,
        ).fit(disp=False)
    if not np.all(np.isfinite(results.params)):
        raise FitError("the likelihood could not be maximized")
    return Fitted(results, scale, model.name)


class _ConstantResults:
    """A history that never changed: the same amount ahead, with nothing to be unsure of."""

    def __init__(self, value: float) -> None:
        self._value = value

    def get_forecast(self, steps: int) -> Any:
        return _ConstantForecast(np.full(steps, self._value), np.zeros(steps))

    def simulate(self, nsimulations: int, repetitions: int, **_: Any) -> Any:
        return np.full((nsimulations, repetitions), self._value)


@dataclass(frozen=True)
class _ConstantForecast:
    predicted_mean: np.ndarray[Any, np.dtype[np.float64]]
    var_pred_mean: np.ndarray[Any, np.dtype[np.float64]]


@contextmanager
def _quiet() -> Iterator[None]:
    """Silences the optimizer's convergence notes and NumPy's warnings inside statsmodels
    (a straight or flat stretch of history makes some variances zero); the results are
    checked for finite numbers instead."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        yield
