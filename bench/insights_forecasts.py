"""Forecasts benchmark: the daily and monthly forecasts of 1,000 cost series of 36 months.

    .venv/bin/python -m bench.insights_forecasts [--series 1000] [--workers N] [--seed 1]

Makes (no database) `--series` synthetic daily cost series of 36 months up to 2026-03-31:
each a level between 50 and 50,000 a day, a trend of -30 % to +80 % over the three years,
weekends 0 to 40 % cheaper, a yearly swing of up to 10 %, noise of 2 % to 15 %, and for one
in ten a step (a new workload) in the last year. Then times `insights.forecasts.batch.
outlooks` over them as the nightly computation runs it: per series the daily forecast (92
days ahead, fitted on the last 52 weeks, backtested on the last 28 days held back) and the
monthly one (18 months ahead from the 36 months, backtested on the last 3), over a pool of
one process per core. Prints the seconds, series per second, p50 and p95 of a series'
fitting, the methods chosen and the backtests' median MAPE, and the ratio to the 60 s target
on 2 cores; exits 1 when over.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import numpy as np

from bench.common import percentile
from insights.forecasts import Forecast
from insights.forecasts.batch import SeriesOutlook, outlooks

LAST_DAY = date(2026, 3, 31)
DAYS = (LAST_DAY - date(2023, 4, 1)).days + 1  # 36 months
TARGET_SECONDS = 60.0


def synthetic_series(count: int, seed: int) -> list[list[tuple[date, Decimal]]]:
    rng = np.random.default_rng(seed)
    first = LAST_DAY - timedelta(days=DAYS - 1)
    days = [first + timedelta(days=i) for i in range(DAYS)]
    index = np.arange(DAYS)
    weekend = np.array([day.weekday() >= 5 for day in days])
    yearly = np.sin(2 * np.pi * index / 365.25)
    series = []
    for _ in range(count):
        level = rng.uniform(50, 50_000)
        growth = rng.uniform(-0.3, 0.8)
        cost = level * (1 + growth * index / DAYS)
        cost *= 1 - rng.uniform(0, 0.4) * weekend
        cost *= 1 + rng.uniform(0, 0.1) * yearly
        if rng.random() < 0.1:
            cost[DAYS - rng.integers(30, 365) :] *= 1 + rng.uniform(0.2, 1.0)
        cost *= 1 + rng.normal(0, rng.uniform(0.02, 0.15), DAYS)
        cost = np.maximum(cost, 0).round(2)
        amounts = [Decimal(f"{amount:.2f}") for amount in cost]
        series.append(list(zip(days, amounts, strict=True)))
    return series


def cpu_seconds() -> float:
    """CPU time of this process and its finished workers, user and system."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def report(answers: list[SeriesOutlook], seconds: float, cpu: float, workers: int) -> bool:
    count = len(answers)
    per_series = [answer.seconds for answer in answers]
    print(
        f"{count:,} series of {DAYS:,} days, daily (92 days) and monthly (18 months) "
        f"forecasts with backtests, {workers} worker process(es): {seconds:.2f} s, "
        f"{count / seconds:,.1f} series/s"
    )
    # Other work on the machine stretches the wall time; the CPU time does not grow with it.
    print(
        f"CPU: {cpu:.1f} s (workers' start included), {cpu / count * 1000:.0f} ms a series; "
        f"{cpu / workers:.1f} s over {workers} otherwise idle cores"
    )
    print(
        f"per series (daily + monthly, both backtested, in its worker): "
        f"p50 {percentile(per_series, 0.5) * 1000:.0f} ms, "
        f"p95 {percentile(per_series, 0.95) * 1000:.0f} ms, max {max(per_series) * 1000:.0f} ms"
    )
    for frequency in ("daily", "monthly"):
        outlooks_of = [getattr(answer, frequency) for answer in answers]
        methods = Counter(
            o.result.method if isinstance(o.result, Forecast) else f"none: {o.result.reason}"
            for o in outlooks_of
        )
        mapes = [float(o.backtest.mape) for o in outlooks_of if o.backtest.mape is not None]
        median = f"{statistics.median(mapes):.1f} %" if mapes else "n/a"
        print(f"{frequency}: backtest MAPE median {median} over {len(mapes):,} series; methods:")
        for method, used in methods.most_common():
            print(f"  {used:5,}  {method}")
    print(
        f"target < {TARGET_SECONDS:.0f} s for 1,000 series; "
        f"ratio 60/seconds = {TARGET_SECONDS / seconds:.2f}x"
    )
    forecast_all = all(
        isinstance(a.daily.result, Forecast) and isinstance(a.monthly.result, Forecast)
        for a in answers
    )
    if not forecast_all:
        print("FAILED: some series got no forecast")
    return forecast_all and seconds < TARGET_SECONDS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    started = time.perf_counter()
    many = synthetic_series(args.series, args.seed)
    print(f"made {args.series:,} series in {time.perf_counter() - started:.1f} s", flush=True)
    started, cpu = time.perf_counter(), cpu_seconds()
    answers = outlooks(many, LAST_DAY, workers=args.workers)
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    if not report(answers, seconds, cpu, args.workers):
        print(f"FAILED: over {TARGET_SECONDS:.0f} s" if seconds >= TARGET_SECONDS else "FAILED")
        sys.exit(1)


if __name__ == "__main__":
    main()
