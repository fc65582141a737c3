"""Demo business metrics: each demo team's daily measure of output (Platform's requests,
Data's rows processed, Web's orders) over the days of the demo bills, so that the team
pages and the team lead's home show a cost per unit from the first login.

A day's value depends on the team, the metric and the day alone (a slow growth from a
fixed day, a weekly rhythm and a seeded wobble), so a later load adds the new days and
never changes the old ones.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from billing.models import Team
from insights.metrics import business_metrics_import
from insights.models import BusinessMetric
from portal.demo import data
from portal.demo.costs import add_months

GROWTH_FROM = date(2025, 1, 1)


class MetricSpec(NamedTuple):
    team: str
    metric: str
    per_day: int  # on a weekday at GROWTH_FROM
    monthly_growth: float
    weekend: float  # a Saturday's or Sunday's share of a weekday's
    wobble: float  # the seeded day-to-day variation, a fraction either way


METRICS = (
    MetricSpec("Platform", "requests", 2_400_000, 0.025, 0.62, 0.06),
    MetricSpec("Data", "rows_processed", 41_000_000, 0.03, 0.35, 0.1),
    MetricSpec("Web", "orders", 1_450, 0.02, 1.3, 0.08),
)


def metric_value(spec: MetricSpec, day: date) -> Decimal:
    """The spec's whole value on `day`: the same on every load."""
    months = (day - GROWTH_FROM).days / 30.4
    weekly = spec.weekend if day.weekday() >= 5 else 1.0
    wobble = random.Random(f"{data.COST_SEED}:{spec.team}:{spec.metric}:{day}").uniform(
        -spec.wobble, spec.wobble
    )
    value = spec.per_day * (1 + spec.monthly_growth) ** months * weekly * (1 + wobble)
    return Decimal(round(value))


def metric_days(today: date) -> list[date]:
    """The days of the demo bills: the first of the oldest month up to yesterday."""
    first = add_months(today.replace(day=1), -data.COST_MONTHS)
    return [first + timedelta(days=n) for n in range((today - first).days)]


def ensure_business_metrics(*, actor: Any, today: date, made: Any) -> None:
    """The values of each demo team's metric not stored yet, in one upload."""
    days = metric_days(today)
    if not days:
        return
    teams = {team.name: team for team in Team.objects.filter(name__in=[s.team for s in METRICS])}
    stored = set(
        BusinessMetric.objects.filter(
            team__in=teams.values(), day__gte=days[0], day__lte=days[-1]
        ).values_list("team__name", "metric", "day")
    )
    items, counts = [], []
    for spec in METRICS:
        if spec.team not in teams:
            continue
        missing = [day for day in days if (spec.team, spec.metric, day) not in stored]
        items += [
            {
                "date": day.isoformat(),
                "team": teams[spec.team].pk,
                "metric": spec.metric,
                "value": str(metric_value(spec, day)),
            }
            for day in missing
        ]
        if missing:
            days_text = "1 day" if len(missing) == 1 else f"{len(missing)} days"
            counts.append(f"{days_text} of {spec.team} {spec.metric}")
    if items:
        business_metrics_import(actor=actor, rows_or_file=items, source="demo")
        made(f"business metrics: {', '.join(counts)}")
