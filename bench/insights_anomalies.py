"""Anomaly monitor benchmark: 10,000 daily cost series of 90 days judged end to end.

    .venv/bin/python -m bench.insights_anomalies [--series 10000] [--days 90]

Builds (once; "reusing" when it is there) the `bench_anomalies` tenant: 2026-01 to 2026-03
of one payer at the rollup level (`bench.anomalies_data`: the accounts' cost lines, a
quarter of them lower at weekends, 50 planted spikes), a "Team" category of 100 values by
tag, a team bound to each, 10 billing units on team values, and the three months
allocated. The series are the accounts, 100 services, 100 teams and 10 billing units:
`--series` minus 210 accounts.

Then, with no anomaly stored, times detection alone (the series read, one statement per
dimension, and judged) and `detect_anomalies` end to end as of 2026-04-01 (`--days` read:
the 28-day baseline and the days judged; exact amounts, root causes and the upsert of what
it finds), then a second run over the same days (which must change nothing). Prints
seconds, series per second, SQL statements, anomalies found per dimension, how many planted
spikes were found, and the ratio to the 30 s target; exits 1 when over it or when a
planted spike is missed.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from django.db import connection
from django_tenants.utils import schema_context

from allocation.engine.run import allocation_run_now
from allocation.models import AllocationRun, CostCategory, RunStatus
from allocation.services import cost_category_create, ruleset_create
from bench import anomalies_data, common
from billing.models import Team
from billing.services import team_create
from insights.anomalies.detect import judge
from insights.anomalies.run import detect_anomalies
from insights.anomalies.series import read_series
from insights.models import ANOMALY_DIMENSIONS, Anomaly, AnomalyMonitor, TeamCostBinding
from insights.services import team_cost_binding_set
from invoices.models import BillingUnit
from portal.users.models import User

SCHEMA = "bench_anomalies"
HOST = "bench-anomalies.localhost"
PASSWORD = "bench-Portal-2026"
TODAY = date(2026, 4, 1)
TARGET_SECONDS = 30.0
TEAMS = tuple(f"team-{n:03d}" for n in range(100))
UNITS = 10
OTHER_SERIES = len(anomalies_data.SERVICES) + len(TEAMS) + UNITS


def ensure_estate(accounts: int) -> anomalies_data.Estate:
    world = anomalies_data.estate(accounts, TEAMS)
    if anomalies_data.is_loaded(world):
        print(f"reusing the stored 90 days of {accounts:,} accounts", flush=True)
        return world
    started = time.perf_counter()
    job = anomalies_data.load(world)
    print(
        f"loaded 90 days of {accounts:,} accounts ({job.rows_stored:,} rollup rows) in "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )
    allocate(User.objects.get(username="admin"), changed=True)
    return world


def allocate(admin: User, *, changed: bool) -> None:
    """The Team category (one rule per team tag), its teams and units, the months allocated."""
    category = CostCategory.objects.filter(name="Team").first()
    if category is None:
        category = cost_category_create(actor=admin, name="Team", default_value="Shared")
        rules: list[dict[str, Any]] = [
            {"value": v, "expression": {"field": "tag", "key": "team", "op": "equals",
                                        "values": [v]}}
            for v in TEAMS
        ]  # fmt: skip
        ruleset_create(
            actor=admin, category=category, effective_month=anomalies_data.PERIODS[0], rules=rules
        )
    bound = set(TeamCostBinding.objects.values_list("value", flat=True))
    for value in TEAMS:
        if value not in bound:
            team = Team.objects.filter(name=value).first() or team_create(actor=admin, name=value)
            team_cost_binding_set(actor=admin, team=team, category=category, value=value)
    for value in TEAMS[:UNITS]:
        BillingUnit.objects.get_or_create(
            category=category, value=value, defaults={"name": f"Unit {value}", "legal_name": value}
        )
    for period in anomalies_data.PERIODS:
        runs = AllocationRun.objects.filter(category=category, period=period)
        if changed or not runs.filter(status=RunStatus.SUCCEEDED).exists():
            started = time.perf_counter()
            run = allocation_run_now(actor=admin, category=category, period=period)
            if run.status != RunStatus.SUCCEEDED:
                raise SystemExit(f"Allocation of {period:%Y-%m}: {run.notes}")
            print(f"allocated {period:%Y-%m} in {time.perf_counter() - started:.1f} s", flush=True)


def counted(action: Callable[[], Any]) -> tuple[Any, float, int, float]:
    """`action()`, its seconds, its SQL statements and their seconds."""
    statements: list[float] = []

    def timed(execute: Callable[..., Any], sql: Any, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            statements.append(time.perf_counter() - started)

    with connection.execute_wrapper(timed):
        started = time.perf_counter()
        result = action()
        seconds = time.perf_counter() - started
    return result, seconds, len(statements), sum(statements)


def detection_alone(monitor: AnomalyMonitor, days: int) -> tuple[int, int]:
    """Every series read and judged: (series, series with an anomalous day)."""
    start = TODAY - timedelta(days=days)
    series = flagged = 0
    for dimension in ANOMALY_DIMENSIONS:
        found = read_series(dimension, metric=monitor.metric, start=start, end=TODAY)
        judgement = judge(
            found.values,
            start=start,
            baseline_days=monitor.baseline_days,
            sensitivity=float(monitor.sensitivity),
            first=monitor.baseline_days,
        )
        series += len(found.keys)
        flagged += len(judgement.flagged_rows())
    return series, flagged


def planted_found(world: anomalies_data.Estate) -> int:
    found = 0
    for spike in world.spikes:
        first, last = world.spike_days(spike)
        found += Anomaly.objects.filter(
            dimension="account",
            key=world.accounts[spike.account],
            start_date__lte=last,
            end_date__gte=first,
        ).exists()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=90, help="days read: baseline + judged")
    args = parser.parse_args()
    accounts = args.series - OTHER_SERIES
    if accounts < anomalies_data.PLANTED or not 28 + 14 < args.days <= anomalies_data.DAYS:
        sys.exit(f"--series takes at least {OTHER_SERIES + anomalies_data.PLANTED}; --days 43-90")
    common.ensure_tenant(SCHEMA, "Anomalies benchmark", HOST, "admin@bench-anomalies.example",
                         PASSWORD)  # fmt: skip
    with schema_context(SCHEMA):
        world = ensure_estate(accounts)
        allocate(User.objects.get(username="admin"), changed=False)
        monitor = AnomalyMonitor.objects.get()
        judged = args.days - monitor.baseline_days
        Anomaly.objects.all().delete()
        (series, flagged), alone, alone_sql, alone_sql_s = counted(
            lambda: detection_alone(monitor, args.days)
        )
        changed, first, first_sql, first_sql_s = counted(
            lambda: detect_anomalies(TODAY, monitor, checked_days=judged)
        )
        again, second, _, _ = counted(lambda: detect_anomalies(TODAY, monitor, checked_days=judged))
        stored = Counter(Anomaly.objects.values_list("dimension", flat=True))
        planted = planted_found(world)
    print(
        f"series: {series:,} ({accounts:,} accounts, {len(anomalies_data.SERVICES)} services, "
        f"{len(TEAMS)} teams, {UNITS} billing units) x {args.days} days read, {judged} judged"
    )
    print(
        f"detection alone (read + judge): {alone:.2f} s ({alone_sql_s:.2f} s in {alone_sql} SQL "
        f"statements), {series / alone:,.0f} series/s; {flagged:,} series with anomalous days"
    )
    print(
        f"detect_anomalies end to end: {first:.2f} s ({first_sql_s:.2f} s in {first_sql:,} SQL "
        f"statements), {series / first:,.0f} series/s; {len(changed):,} anomalies recorded "
        f"({', '.join(f'{d} {n:,}' for d, n in sorted(stored.items()))})"
    )
    print(f"second run over the same days: {second:.2f} s, {len(again)} new or extended")
    print(f"planted spikes found: {planted} of {len(world.spikes)}")
    print(
        f"ratio 30/seconds = {TARGET_SECONDS / first:.2f}x end to end "
        f"(target < {TARGET_SECONDS:.0f} s)"
    )
    problems = []
    if first >= TARGET_SECONDS:
        problems.append(f"over {TARGET_SECONDS:.0f} s")
    if planted < len(world.spikes):
        problems.append(f"{len(world.spikes) - planted} planted spikes missed")
    if again:
        problems.append("the second run changed anomalies")
    for problem in problems:
        print(f"FAILED: {problem}")
    if problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
