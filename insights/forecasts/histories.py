"""The daily cost histories the stored forecasts are computed from, read set-based: the bill
per service and in all from the cost cube (one statement), and the teams' and billing
units' values from the latest allocation runs' summaries (one statement for all their
categories), as the cost explorer reads them."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from django.db import connection

from allocation.models import AllocationRun, RunStatus
from billing.models import LoadedPeriod, Team
from insights.models import TeamCostBinding
from insights.query import NO_VALUE, add_months
from insights.sources import months_touched
from invoices.models import BillingUnit

SQL = Path(__file__).resolve().parent / "sql"
BILL_COSTS = (SQL / "bill_costs.sql").read_text()
ALLOCATED_COSTS = (SQL / "allocated_costs.sql").read_text()
HISTORY_MONTHS = 36
TENANT_LABEL = "All costs"
DEFAULT_CURRENCY = "USD"
UNBOUND = "no cost is the team's yet: it is bound to no value of a cost category"

DailyCosts = list[tuple[date, Decimal]]


@dataclass
class History:
    """One series to forecast: its daily costs up to `last_day`, or why there are none."""

    scope: str
    key: str
    label: str
    last_day: date
    days: DailyCosts = field(default_factory=list)
    team_id: int | None = None
    reason: str = ""  # set: no forecast, whatever the days


@dataclass(frozen=True)
class Histories:
    series: list[History]
    currency: str
    last_day: date  # the last day of the bill loaded (at most the day before `today`)


def histories_read(today: date) -> Histories:
    """Every series' daily billed cost of the 36 months before `today` (through yesterday):
    the tenant, each service, each team (its bound value), each billing unit (its value)."""
    start, end = add_months(today, -HISTORY_MONTHS), today
    currency, mixed = _currency(start, end)
    totals, services, bill_last = _bill_costs(start, end)
    last_day = bill_last or end - timedelta(days=1)
    series = [History("tenant", "", TENANT_LABEL, last_day, _sorted(totals))]
    for name in sorted(services):
        series.append(History("service", name, name, last_day, _sorted(services[name])))
    series += _allocated(start, end, last_day)
    if mixed:
        for history in series:
            history.reason = mixed
    return Histories(series=series, currency=currency, last_day=last_day)


def _sorted(days: dict[date, Decimal]) -> DailyCosts:
    return sorted(days.items())


def _currency(start: date, end: date) -> tuple[str, str]:
    """The bills' currency, and why there is no forecast when they are in several."""
    found: set[str] = set()
    loaded = LoadedPeriod.objects.filter(billing_period_start__in=months_touched(start, end))
    for currencies in loaded.values_list("currencies", flat=True):
        found.update(currencies)
    if len(found) > 1:
        named = ", ".join(sorted(found))
        reason = (
            f"the bills are in several currencies ({named}); costs in different currencies"
            " cannot be added up into one forecast"
        )
        return sorted(found)[0], reason
    return (found.pop() if found else DEFAULT_CURRENCY), ""


def _bill_costs(
    start: date, end: date
) -> tuple[dict[date, Decimal], dict[str, dict[date, Decimal]], date | None]:
    totals: dict[date, Decimal] = {}
    services: dict[str, dict[date, Decimal]] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(BILL_COSTS, {"start": start, "end": end})
        for total, service, day, amount in cursor.fetchall():
            if total:
                totals[day] = amount
            else:
                services[service or NO_VALUE][day] = amount
    return totals, services, max(totals, default=None)


def _allocated(start: date, end: date, bill_last: date) -> list[History]:
    """The teams' and billing units' series; each category's ends on the last day its
    latest runs allocated (an allocation not yet run for the newest days would read as a
    drop), at most the bill's last day."""
    bindings = {b.team_id: b for b in TeamCostBinding.objects.all()}
    units = list(BillingUnit.objects.all())
    wanted = {(b.category_id, b.value) for b in bindings.values()}
    wanted |= {(u.category_id, u.value) for u in units}
    costs, last_days = _allocated_costs(wanted, start, end)
    series = []
    for team in Team.objects.order_by("name"):
        binding = bindings.get(team.pk)
        if binding is None:
            series.append(History("team", str(team.pk), team.name, bill_last, team_id=team.pk))
            series[-1].reason = UNBOUND
            continue
        pair = (binding.category_id, binding.value)
        last = min(bill_last, last_days.get(binding.category_id, bill_last))
        days = _sorted(costs.get(pair, {}))
        series.append(History("team", str(team.pk), team.name, last, days, team_id=team.pk))
    for unit in sorted(units, key=lambda u: u.name):
        pair = (unit.category_id, unit.value)
        last = min(bill_last, last_days.get(unit.category_id, bill_last))
        days = _sorted(costs.get(pair, {}))
        series.append(History("billing_unit", str(unit.pk), unit.name, last, days))
    return series


def _allocated_costs(
    wanted: set[tuple[int, str]], start: date, end: date
) -> tuple[dict[tuple[int, str], dict[date, Decimal]], dict[int, date]]:
    """(category, value) -> day -> billed cost, and each category's last day allocated."""
    if not wanted:
        return {}, {}
    latest: dict[tuple[int, date], int] = {}
    runs = AllocationRun.objects.filter(
        category_id__in={category for category, _ in wanted},
        status=RunStatus.SUCCEEDED,
        period__in=months_touched(start, end),
    )
    for category, period, pk in runs.order_by("period", "pk").values_list(
        "category_id", "period", "pk"
    ):
        latest[(category, period)] = pk
    costs: dict[tuple[int, str], dict[date, Decimal]] = defaultdict(dict)
    last_days: dict[int, date] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            ALLOCATED_COSTS,
            {
                "runs": list(latest.values()),
                "categories": [category for category, _ in latest],
                "values": sorted({value for _, value in wanted}),
                "start": start,
                "end": end,
            },
        )
        for category, value, day, amount in cursor.fetchall():
            if (category, value) in wanted:
                costs[(category, value)][day] = amount
            last_days[category] = max(day, last_days.get(category, day))
    return costs, last_days
