"""Forecasts of many cost series at once: each series' daily forecast (92 days ahead, the
last 28 days held back to measure it) and monthly one (18 months ahead, 3 months held back),
over a pool of processes when there are many. No database: callers read the daily costs
and keep the answers."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from multiprocessing import get_context

from insights.forecasts.engine import (
    DAILY_FIT_DAYS,
    Backtest,
    Forecast,
    Frequency,
    NoForecast,
    forecast_with_backtest,
)
from insights.forecasts.series import add_months

DAILY_STEPS, DAILY_HELD_BACK = 92, 28
MONTHLY_STEPS, MONTHLY_HELD_BACK = 18, 3
# Fewer series than this are forecast in this process: starting workers costs more.
POOL_MIN = 40
# Series handed to a worker at a time: few enough round trips, even enough shares.
CHUNKS_PER_WORKER = 8
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

DailyCosts = Sequence[tuple[date, Decimal]]


@dataclass(frozen=True)
class Outlook:
    frequency: Frequency
    result: Forecast | NoForecast
    backtest: Backtest

    @property
    def note(self) -> str:
        """How the backtest measured the forecast, or why it could not."""
        if self.backtest.mape is not None:
            unit = "days" if self.frequency == "daily" else "months"
            return f"forecast of the last {self.backtest.held_back} {unit} from the ones before"
        return self.backtest.reason or ""


@dataclass(frozen=True)
class SeriesOutlook:
    daily: Outlook
    monthly: Outlook
    seconds: float  # what fitting both took


def outlook(days: DailyCosts, last_day: date) -> SeriesOutlook:
    """The daily and monthly forecasts of a series of daily costs loaded up to `last_day`
    (days after it are left out; days up to it without a cost cost nothing). The monthly
    one reads whole months only: from the first month the series has from its first day
    to the last month that ended by `last_day`."""
    started = time.perf_counter()
    loaded = [(day, amount) for day, amount in days if day <= last_day]
    # What the daily model and its backtest read; the rest only counts by month.
    first_read = last_day - timedelta(days=DAILY_FIT_DAYS + DAILY_HELD_BACK - 1)
    daily_costs = [(day, amount) for day, amount in loaded if day >= first_read]
    if loaded:
        daily_costs.append((last_day, Decimal(0)))
    daily, daily_test = forecast_with_backtest(daily_costs, "daily", DAILY_STEPS, DAILY_HELD_BACK)
    monthly, monthly_test = forecast_with_backtest(
        whole_months(loaded, last_day), "monthly", MONTHLY_STEPS, MONTHLY_HELD_BACK
    )
    return SeriesOutlook(
        daily=Outlook("daily", daily, daily_test),
        monthly=Outlook("monthly", monthly, monthly_test),
        seconds=time.perf_counter() - started,
    )


def whole_months(days: DailyCosts, last_day: date) -> list[tuple[date, Decimal]]:
    """The cost of each month a series covers entirely up to `last_day` (a month without
    cost costs zero), dated on its first day."""
    if not days:
        return []
    first = min(day for day, _ in days)
    start = first if first.day == 1 else add_months(first.replace(day=1), 1)
    end = add_months(last_day.replace(day=1), 1 if (last_day + timedelta(days=1)).day == 1 else 0)
    if start >= end:
        return []
    months: dict[date, Decimal] = {}
    for day, amount in days:
        if start <= day < end:
            month = day.replace(day=1)
            months[month] = months.get(month, Decimal(0)) + amount
    months.setdefault(add_months(end, -1), Decimal(0))
    return sorted(months.items())


def outlooks(
    many: Sequence[DailyCosts], last_day: date | Sequence[date], *, workers: int | None = None
) -> list[SeriesOutlook]:
    """`outlook` of each series, in order, loaded up to `last_day` (one for all, or one
    per series); in `workers` processes (by default one per core) when there are at least
    POOL_MIN series."""
    last_days = [last_day] * len(many) if isinstance(last_day, date) else list(last_day)
    if len(last_days) != len(many):
        raise ValueError(f"{len(many)} series and {len(last_days)} last days")
    count = workers if workers is not None else (os.cpu_count() or 1)
    if count <= 1 or len(many) < POOL_MIN:
        return [outlook(days, last) for days, last in zip(many, last_days, strict=True)]
    size = max(1, len(many) // (count * CHUNKS_PER_WORKER))
    chunks = [
        list(zip(many[i : i + size], last_days[i : i + size], strict=True))
        for i in range(0, len(many), size)
    ]
    try:
        # Spawned, not forked: the parent may hold database connections and threads.
        with (
            _single_threaded_blas(),
            ProcessPoolExecutor(max_workers=count, mp_context=get_context("spawn")) as pool,
        ):
            return [found for chunk in pool.map(_outlook_chunk, chunks) for found in chunk]
    except (AssertionError, BrokenProcessPool, OSError):
        # A process that may not start others (a daemonic one) forecasts them itself.
        return [outlook(days, last) for days, last in zip(many, last_days, strict=True)]


@contextmanager
def _single_threaded_blas() -> Iterator[None]:
    """Workers started meanwhile run BLAS on one thread: the optimizer's many tiny vector
    operations took twice as long when each woke threads competing with the other workers."""
    saved = {name: os.environ.get(name) for name in BLAS_THREADS}
    os.environ.update(dict.fromkeys(BLAS_THREADS, "1"))
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _outlook_chunk(chunk: list[tuple[DailyCosts, date]]) -> list[SeriesOutlook]:
    return [outlook(days, last_day) for days, last_day in chunk]
