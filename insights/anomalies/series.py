"""The anomaly monitor's series: daily cost per team, billing unit, account and service.

One SQL statement per dimension reads every series of it at once, as arrays:
- accounts and services from the cost cube's daily grains (the rollup summed per day and
  account, or service), which the ingest rebuilds with each published month;
- teams and billing units from the latest succeeded allocation runs' summaries of their
  category (per value and day), a team being the value its `TeamCostBinding` names and a
  billing unit its category's value.
Detection reads the amounts as floats; the few series found anomalous are read again
exactly (`exact=True`), for amounts in Decimal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
from django.db import connection
from psycopg import sql

from allocation.models import AllocationRun, RunStatus
from billing.models import Account, LoadedPeriod
from insights.models import TeamCostBinding
from insights.query import add_months
from invoices.models import BillingUnit

SERIES_SQL = (Path(__file__).resolve().parent / "sql" / "series.sql").read_text()
CUBE_GRAINS = {
    "account": ("day_account", "sub_account_id"),
    "service": ("day_service", "service_name"),
}
DEFAULT_CURRENCY = "USD"


@dataclass(frozen=True)
class Owner:
    """Who a team or billing unit series is: the category value whose cost it is."""

    key: str
    label: str
    category_id: int
    value: str
    team_id: int | None


@dataclass(frozen=True)
class SeriesSet:
    """The series of one dimension: `values[i]` is `keys[i]`'s cost on each day from
    `start` (zero where it had none)."""

    dimension: str
    start: date
    keys: list[str]
    values: np.ndarray

    @property
    def days(self) -> int:
        return int(self.values.shape[1])


@dataclass(frozen=True)
class Series:
    """One series' exact daily amounts from `start`."""

    dimension: str
    key: str
    start: date
    amounts: list[Decimal]


def owners(dimension: str) -> list[Owner]:
    """The teams (bound to a value) or billing units whose cost is watched."""
    if dimension == "team":
        bindings = TeamCostBinding.objects.select_related("team")
        return [
            Owner(b.team.name, b.team.name, b.category_id, b.value, b.team_id) for b in bindings
        ]
    if dimension == "billing_unit":
        teams = {(b.category_id, b.value): b.team_id for b in TeamCostBinding.objects.all()}
        return [
            Owner(u.name, u.name, u.category_id, u.value, teams.get((u.category_id, u.value)))
            for u in BillingUnit.objects.all()
        ]
    return []


def latest_runs(category_ids: Iterable[int], start: date, end: date) -> dict[int, list[int]]:
    """Per category, its latest succeeded run of each month touching [start, end)."""
    months, month = [], start.replace(day=1)
    while month < end:
        months.append(month)
        month = add_months(month, 1)
    latest: dict[tuple[int, date], int] = {}
    runs = AllocationRun.objects.filter(
        category_id__in=list(category_ids), status=RunStatus.SUCCEEDED, period__in=months
    ).order_by("period", "pk")
    for category_id, period, pk in runs.values_list("category_id", "period", "pk"):
        latest[(category_id, period)] = pk
    found: dict[int, list[int]] = defaultdict(list)
    for (category_id, _), pk in latest.items():
        found[category_id].append(pk)
    return dict(found)


def read_series(
    dimension: str, *, metric: str, start: date, end: date, keys: list[str] | None = None
) -> SeriesSet:
    """Every series of `dimension` (or those of `keys`) over [start, end), as floats."""
    days = (end - start).days
    rows = _rows(dimension, metric, start, end, keys, exact=False)
    found = sorted(rows, key=lambda row: row[0])
    values = np.zeros((len(found), days))
    if found:
        series = np.repeat(np.arange(len(found)), [len(row[1]) for row in found])
        offsets = np.concatenate([row[1] for row in found])
        amounts = np.concatenate([row[2] for row in found])
        np.add.at(values, (series, offsets), amounts)
    return SeriesSet(dimension, start, [row[0] for row in found], values)


def read_exact(
    dimension: str, keys: list[str], *, metric: str, start: date, end: date
) -> dict[str, Series]:
    """The series of `keys` over [start, end) in exact amounts."""
    days = (end - start).days
    found: dict[str, Series] = {}
    for key, offsets, amounts in _rows(dimension, metric, start, end, keys, exact=True):
        daily = [Decimal(0)] * days
        for offset, amount in zip(offsets, amounts, strict=True):
            daily[offset] += amount
        found[key] = Series(dimension, key, start, daily)
    return found


def _rows(
    dimension: str, metric: str, start: date, end: date, keys: list[str] | None, *, exact: bool
) -> list[tuple[Any, ...]]:
    params: dict[str, Any] = {"start": start, "end": end}
    if dimension in CUBE_GRAINS:
        grain, column = CUBE_GRAINS[dimension]
        params["grain"] = grain
        key: sql.Composable = sql.SQL("c.{}").format(sql.Identifier(column))
        table, joins = sql.SQL("billing_costcube"), sql.SQL("")
        where: sql.Composable = sql.SQL("c.grain = %(grain)s")
        if keys is not None:
            params["keys"] = keys
            where = sql.SQL("{} AND {} = ANY(%(keys)s)").format(where, key)
    else:
        chosen = [o for o in owners(dimension) if keys is None or o.key in keys]
        runs = latest_runs({o.category_id for o in chosen}, start, end)
        pairs = [(o, run) for o in chosen for run in runs.get(o.category_id, [])]
        if not pairs:
            return []
        # Each run's rows of the owner's value: the (run, value) pairs join by the index.
        params |= {
            "runs": [run for _, run in pairs],
            "values": [o.value for o, _ in pairs],
            "keys": [o.key for o, _ in pairs],
        }
        key = sql.SQL("o.key")
        table = sql.SQL("allocation_allocationsummary")
        joins = sql.SQL(
            "JOIN unnest(%(runs)s::bigint[], %(values)s::text[], %(keys)s::text[]) "
            "AS o(run_id, value, key) ON o.run_id = c.run_id AND o.value = c.value"
        )
        where = sql.SQL("NOT c.by_service AND c.run_id = ANY(%(runs)s)")
    statement = sql.SQL(SERIES_SQL).format(
        key=key,
        table=table,
        joins=joins,
        where=where,
        amount=sql.SQL("c.{}{}").format(
            sql.Identifier(metric), sql.SQL("" if exact else "::float8")
        ),
        start=sql.SQL("%(start)s::date"),
        end=sql.SQL("%(end)s::date"),
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return list(cursor.fetchall())


def labels(dimension: str, keys: Iterable[str]) -> dict[str, str]:
    """How each key is shown: an account by its name and id, a team or unit by its name."""
    wanted = list(keys)
    if dimension != "account":
        return {key: key for key in wanted}
    names = dict(
        Account.objects.filter(account_id__in=wanted)
        .exclude(name="")
        .values_list("account_id", "name")
    )
    return {key: f"{names[key]} ({key})" if key in names else key for key in wanted}


def currency(start: date, end: date) -> str:
    """The bills' currency over [start, end): the one they share (the first in order if
    they are several, which the explorer refuses to sum: read per payer there)."""
    found: set[str] = set()
    loaded = LoadedPeriod.objects.filter(
        billing_period_start__gte=start.replace(day=1), billing_period_start__lt=end
    )
    for currencies in loaded.values_list("currencies", flat=True):
        found.update(currencies)
    return min(found) if found else DEFAULT_CURRENCY


def window(today: date, baseline_days: int, checked_days: int) -> tuple[date, date]:
    """The days read to check the `checked_days` before `today`: [start, today)."""
    return today - timedelta(days=baseline_days + checked_days), today
