"""An anomaly's root causes: which services, accounts, regions and usage types within its
series' cost changed most against the baseline, and their share of its impact.

Each value's expected cost on an anomalous day is the median of its cost on the baseline
days the series' expected cost came from; its impact is its actual minus that expected,
summed over the anomaly's days. One query per anomaly, restricted to the series: the
cube's "day" grain for an account or a service (it keeps every root cause dimension), the
latest runs' results of the value for a team or billing unit (results keep no region).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from django.db import connection
from psycopg import sql

from insights.anomalies.detect import median
from insights.anomalies.series import CUBE_GRAINS, labels, latest_runs, owners
from insights.models import ROOT_CAUSE_DIMENSIONS

ROOT_CAUSES_SQL = (Path(__file__).resolve().parent / "sql" / "root_causes.sql").read_text()
TOP = 5  # per dimension
CUBE_COLUMNS = {
    "service": "service_name",
    "account": "sub_account_id",
    "region": "region_id",
    "usage_type": "x_usage_type",
}
RESULT_COLUMNS = {
    "service": "service_name",
    "account": "sub_account_id",
    "usage_type": "usage_type",
}
SHARE = Decimal("0.1")
PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class AnomalyDays:
    """An anomaly's days, each with the baseline days its expected cost is the median of."""

    dimension: str
    key: str
    days: Sequence[tuple[date, Sequence[date]]]
    impact: Decimal


def root_causes(anomaly: AnomalyDays, *, metric: str, top: int = TOP) -> list[dict[str, Any]]:
    """The largest contributors per dimension, largest first: dimension, value, label,
    impact (text of a Decimal) and share (percent of the anomaly's impact, 0.1)."""
    amounts = _amounts(anomaly, metric)
    causes: list[dict[str, Any]] = []
    for dimension in ROOT_CAUSE_DIMENSIONS:
        changes = []
        for value, daily in amounts.get(dimension, {}).items():
            change = sum(
                (
                    daily.get(day, Decimal(0)) - median([daily.get(b, Decimal(0)) for b in base])
                    for day, base in anomaly.days
                    if base
                ),
                Decimal(0),
            )
            if change > 0:
                changes.append((change, value))
        changes.sort(key=lambda item: (-item[0], item[1]))
        shown = labels(dimension, [value for _, value in changes[:top]])
        for change, value in changes[:top]:
            share = (
                (change * 100 / anomaly.impact).quantize(SHARE, ROUND_HALF_UP)
                if anomaly.impact > 0
                else None
            )
            causes.append(
                {
                    "dimension": dimension,
                    "value": value,
                    "label": shown[value],
                    "impact": str(change.quantize(PLACES)),
                    "share": None if share is None else str(share),
                }
            )
    return causes


def _amounts(anomaly: AnomalyDays, metric: str) -> dict[str, dict[str, dict[date, Decimal]]]:
    days = sorted({d for day, base in anomaly.days for d in (day, *base)})
    params: dict[str, Any] = {"days": days, "key": anomaly.key}
    where: sql.Composable
    if anomaly.dimension in CUBE_GRAINS:
        columns, table = CUBE_COLUMNS, sql.SQL("billing_costcube")
        where = sql.SQL("c.grain = 'day' AND c.{} = %(key)s").format(
            sql.Identifier(CUBE_GRAINS[anomaly.dimension][1])
        )
    else:
        owner = next((o for o in owners(anomaly.dimension) if o.key == anomaly.key), None)
        if owner is None or not days:
            return {}
        runs = latest_runs([owner.category_id], days[0], days[-1] + timedelta(days=1))
        params |= {"runs": runs.get(owner.category_id, []), "value": owner.value}
        columns, table = RESULT_COLUMNS, sql.SQL("allocation_allocationresult")
        where = sql.SQL("c.run_id = ANY(%(runs)s) AND c.value = %(value)s")
    statement = sql.SQL(ROOT_CAUSES_SQL).format(
        metric=sql.Identifier(metric),
        table=table,
        where=where,
        dimensions=sql.SQL(", ").join(
            sql.SQL("({}, NULLIF(c.{}, ''))").format(sql.Literal(name), sql.Identifier(column))
            for name, column in columns.items()
        ),
    )
    found: dict[str, dict[str, dict[date, Decimal]]] = defaultdict(lambda: defaultdict(dict))
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        for dimension, value, day, amount in cursor.fetchall():
            found[dimension][value][day] = amount
    return found
