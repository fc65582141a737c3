"""Team scores benchmark: one week's scores of 1,000 teams over a 10,000,000-line-item month.

    .venv/bin/python -m bench.scores [--rows 10000000] [--teams 1000] [--shared-teams 250]
                                     [--repeat 3] [--reallocate]

Builds (once; "reusing" when it is there) the `bench_scores` tenant: 2026-01 of 10,000,000
line items loaded at the rollup level through the ingest's publish (`bench.explorer_data`,
its team tag spread over the teams' values team-000 to team-999; EC2 instances of m5, m6g
and other families, on demand or Spot, Linux or Windows, partly under a Savings Plan; EBS
gp2 and gp3; S3 storage classes), about 200,000 weekly resource costs drawn from that
rollup (the generated month has no line items to keep them from), the cost category
"Team" (one rule per team, `tag team equals team-NNN`; untagged cost is "Shared", split
over the first `--shared-teams` teams in proportion to their cost: each of its rows
becomes one per team), a team bound to each value, and the month allocated.

Then times `team_scores_compute` (every team's score and stored recommendations) for the
week of 2026-01-12, `--repeat` times: the first with no scores of that week stored, the
others replacing them. With `--reallocate` the month is allocated again first, so that the
first run reads results just written, as a week's scores computed after a restated bill do.
Prints each run's seconds, SQL statements and the slowest of them, p50 and p95, the
allocated result rows read and the line items represented per second, the ratio to the 60 s
target, and checks that every team has a score row for the week, and that scores and
recommendations are there. Target on 2 cores: under 60 s; exits 1 when over.
"""

from __future__ import annotations

import argparse
import calendar
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db import connection
from django_tenants.utils import schema_context

from allocation.engine.run import allocation_run_now
from allocation.models import AllocationResult, AllocationRun, CostCategory, RunStatus
from allocation.services import cost_category_create, ruleset_create
from bench import common
from bench.common import percentile
from bench.explorer_data import PERIODS, estate, is_loaded, load_month
from billing.models import ResourceWeekCost, Team
from billing.services import team_create
from insights.models import TeamCostBinding, TeamScore
from insights.scores.compute import week_runs
from insights.services import team_cost_binding_set, team_scores_compute
from portal.users.models import User

SCHEMA = "bench_scores"
HOST = "bench-scores.localhost"
PASSWORD = "bench-Portal-2026"
PERIOD = PERIODS[0]  # 2026-01
WEEK = date(2026, 1, 12)  # a Monday; the whole week lies in the month
TARGET_SECONDS = 60.0
CATEGORY, SHARED = "Team", "Shared"
RESOURCE_ROWS = 200_000
SLOWEST = 3  # SQL statements shown per run
# Usage that names a resource: instances, volumes, databases, buckets.
RESOURCE_USAGE = ["BoxUsage:%", "SpotUsage:%", "EBS:VolumeUsage%", "InstanceUsage:%",
                  "Multi-AZUsage:%", "TimedStorage-%"]  # fmt: skip
RESOURCE_KEY = """concat_ws('|', billing_account_id, sub_account_id, service_name, region_id,
                            x_usage_type, x_operation, commitment_discount_type, tag_set_id)"""
WEEKLY_SQL = f"""
    SELECT billing_period_start, billing_account_id, date_trunc('week', day)::date AS week,
           sub_account_id, sub_account_name, service_name, region_id, charge_category,
           x_usage_type, x_operation, commitment_discount_type, tag_set_id,
           {RESOURCE_KEY} AS key, sum(effective_cost) AS cost, sum(row_count) AS row_count
    FROM billing_cost_rollup
    WHERE billing_period_start = %(period)s AND charge_category = 'Usage'
      AND x_usage_type LIKE ANY(%(patterns)s)
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12
"""
# Each weekly combination of the rollup becomes 1 to `spread` resources (the same ids
# every week), the n-th costing in proportion to 1/n.
RESOURCES_SQL = f"""
INSERT INTO billing_resourceweekcost (
    billing_period_start, billing_account_id, week, sub_account_id, sub_account_name,
    service_name, region_id, charge_category, x_usage_type, x_operation,
    commitment_discount_type, tag_set_id, resource_id, effective_cost, row_count
)
SELECT w.billing_period_start, w.billing_account_id, w.week, w.sub_account_id,
       w.sub_account_name, w.service_name, w.region_id, w.charge_category, w.x_usage_type,
       w.x_operation, w.commitment_discount_type, w.tag_set_id,
       CASE WHEN w.x_usage_type LIKE 'EBS:%%' THEN 'vol-' || left(r.hash, 17)
            WHEN w.service_name = 'AmazonRDS' THEN 'arn:aws:rds:' || w.region_id || ':'
                 || w.sub_account_id || ':db:db-' || left(r.hash, 10)
            WHEN w.service_name = 'AmazonS3' THEN 'bench-bucket-' || left(r.hash, 12)
            ELSE 'i-' || left(r.hash, 17) END,
       trim_scale(round(w.cost / r.n / h.total, 10)), greatest(1, w.row_count / w.k)
FROM (
    SELECT weekly.*, 1 + mod(abs(hashtext(weekly.key)::bigint), %(spread)s) AS k
    FROM ({WEEKLY_SQL}) AS weekly
) AS w
CROSS JOIN LATERAL (
    SELECT n, md5(w.key || '|' || n) AS hash FROM generate_series(1, w.k) AS n
) AS r
CROSS JOIN LATERAL (SELECT sum(1.0 / i) AS total FROM generate_series(1, w.k) AS i) AS h
"""


def team_values(count: int) -> tuple[str, ...]:
    return tuple(f"team-{n:03d}" for n in range(count))


def team_name(value: str) -> str:
    return value.replace("team-", "Team ")


# The tenant and its data ---------------------------------------------------------------


def ensure_tenant() -> None:
    common.ensure_tenant(SCHEMA, "Scores benchmark", HOST, "admin@bench-scores.example", PASSWORD)


def ensure_month(rows: int, teams: tuple[str, ...], rebuild: bool) -> bool:
    """The month, loaded unless stored with `rows` line items; whether it was (re)loaded."""
    if not rebuild and is_loaded(PERIOD, rows):
        print(f"{PERIOD:%Y-%m}: reusing the stored {rows:,} line items", flush=True)
        return False
    started = time.perf_counter()
    job = load_month(estate(rows, teams), PERIOD, rows)
    print(
        f"{PERIOD:%Y-%m}: loaded {rows:,} line items at the rollup level in "
        f"{time.perf_counter() - started:.1f} s (ingest job {job.pk})",
        flush=True,
    )
    return True


def ensure_resources(changed: bool) -> int:
    """About RESOURCE_ROWS weekly resource costs of the month (drawn again when the month
    was loaded again: publishing it dropped them)."""
    stored = ResourceWeekCost.objects.filter(billing_period_start=PERIOD)
    if not changed and stored.exists():
        return stored.count()
    started = time.perf_counter()
    stored.delete()
    params: dict[str, Any] = {"period": PERIOD, "patterns": RESOURCE_USAGE}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM ({WEEKLY_SQL}) AS weekly", params)
        (combinations,) = cursor.fetchone()
        spread = max(1, 2 * round(RESOURCE_ROWS / max(combinations, 1)) - 1)
        cursor.execute(RESOURCES_SQL, {**params, "spread": spread})
        cursor.execute(f"ANALYZE {ResourceWeekCost._meta.db_table}")
    count = stored.count()
    print(
        f"weekly resource costs: {count:,} rows of {combinations:,} weekly combinations in "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )
    return count


def ensure_category(
    admin: User, teams: tuple[str, ...], shared_teams: int
) -> tuple[CostCategory, bool]:
    """The "Team" category: one rule per team value; untagged cost is Shared, split over
    the first `shared_teams` teams. Whether a new version of its rules was made."""
    category = CostCategory.objects.filter(name=CATEGORY).first()
    if category is not None:
        version = category.version_for(PERIOD)
        shared = version.splits.first() if version is not None else None
        if shared is not None and len(shared.targets) == shared_teams:
            return category, False
    else:
        category = cost_category_create(actor=admin, name=CATEGORY, default_value=SHARED)
    rules: list[dict[str, Any]] = [
        {"value": value, "expression": {"field": "tag", "key": "team", "op": "equals",
                                        "values": [value]}}
        for value in teams
    ]  # fmt: skip
    split = {
        "source": SHARED,
        "method": "proportional",
        "targets": [{"value": value} for value in teams[:shared_teams]],
    }
    ruleset_create(
        actor=admin, category=category, effective_month=PERIOD, rules=rules, splits=[split]
    )
    return category, True


def ensure_teams(admin: User, category: CostCategory, teams: tuple[str, ...]) -> None:
    """A team per value, bound to it."""
    existing = set(Team.objects.values_list("name", flat=True))
    missing = [value for value in teams if team_name(value) not in existing]
    for value in missing:
        team_create(actor=admin, name=team_name(value))
    bound = set(TeamCostBinding.objects.values_list("value", flat=True))
    by_name = {team.name: team for team in Team.objects.all()}
    unbound = [value for value in teams if value not in bound]
    for value in unbound:
        team_cost_binding_set(
            actor=admin, team=by_name[team_name(value)], category=category, value=value
        )
    if missing or unbound:
        print(f"teams: {len(missing):,} created, {len(unbound):,} bound", flush=True)


def ensure_allocation(admin: User, category: CostCategory, changed: bool) -> None:
    runs = AllocationRun.objects.filter(category=category, period=PERIOD)
    if not changed and runs.filter(status=RunStatus.SUCCEEDED).exists():
        return
    started = time.perf_counter()
    run = allocation_run_now(actor=admin, category=category, period=PERIOD)
    if run.status != RunStatus.SUCCEEDED:
        raise SystemExit(f"Allocation of {category} {PERIOD:%Y-%m}: {run.notes}")
    print(f"allocated {category.name} in {time.perf_counter() - started:.1f} s", flush=True)


# The timing ----------------------------------------------------------------------------


@dataclass
class Run:
    seconds: float = 0.0
    statements: list[tuple[float, str]] = field(default_factory=list)  # (seconds, SQL)

    def slowest(self, count: int) -> list[tuple[float, str]]:
        return sorted(self.statements, reverse=True)[:count]


def timed_run() -> Run:
    """One `team_scores_compute` of the week, with the time of each SQL statement."""
    run = Run()

    def timed(execute: Callable[..., Any], sql: Any, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            text = sql if isinstance(sql, str) else sql.as_string(context["connection"].connection)
            run.statements.append((time.perf_counter() - started, text))

    with connection.execute_wrapper(timed):
        started = time.perf_counter()
        team_scores_compute(actor=None, week=WEEK)
        run.seconds = time.perf_counter() - started
    return run


def result_rows(category: CostCategory) -> int:
    """The allocated result rows a computation reads: the week's, of the bound values."""
    values = list(TeamCostBinding.objects.values_list("value", flat=True))
    return AllocationResult.objects.filter(
        run_id__in=week_runs(category, WEEK),
        value__in=values,
        day__gte=WEEK,
        day__lt=WEEK + timedelta(days=7),
    ).count()


def check_stored(teams: int) -> list[str]:
    """What is wrong with the week's stored scores (nothing: an empty list); prints what
    they hold."""
    stored = list(TeamScore.objects.filter(week=WEEK))
    bound = set(TeamCostBinding.objects.values_list("team_id", flat=True))
    scored = [s for s in stored if s.score is not None]
    applicable = [sum(1 for c in s.components if c["applicable"]) for s in stored]
    per_component: dict[str, int] = {}
    for score in stored:
        for component in score.components:
            per_component[component["key"]] = (
                per_component.get(component["key"], 0) + component["applicable"]
            )
    advised = [s for s in stored if s.recommendations]
    named = sum(1 for s in stored for r in s.recommendations if r["resource_id"])
    print(
        f"teams with a score row for the week: {len(stored):,} of {teams:,}; with a score: "
        f"{len(scored):,}; applicable components per team: "
        f"{statistics.mean(applicable or [0]):.2f} on average (min {min(applicable or [0])}, "
        f"max {max(applicable or [0])})"
    )
    if scored:
        values = sorted(float(s.score) for s in scored if s.score is not None)
        print(
            f"scores: min {values[0]:.2f}, p50 {percentile(values, 0.5):.2f}, max {values[-1]:.2f}"
        )
    print("teams per applicable component: " + ", ".join(
        f"{key} {count:,}" for key, count in per_component.items()))  # fmt: skip
    print(
        f"teams with stored recommendations: {len(advised):,}; recommendations naming a "
        f"resource: {named:,}"
    )
    problems = []
    if {s.team_id for s in stored} != bound or len(bound) != teams:
        problems.append(f"{len(stored):,} score rows for {len(bound):,} bound teams")
    if not scored:
        problems.append("every score is None")
    if not advised:
        problems.append("no team has recommendations")
    return problems


def report(runs: list[Run], rows: int, result_count: int, teams: int) -> bool:
    """Prints the figures; whether every run is within the target."""
    seconds = [run.seconds for run in runs]
    days = calendar.monthrange(PERIOD.year, PERIOD.month)[1]
    represented = rows * 7 / days
    for index, run in enumerate(runs):
        label = "first run (no scores of the week stored)" if index == 0 else (
            f"run {index + 1} (replacing them)")  # fmt: skip
        in_sql = sum(s for s, _ in run.statements)
        print(
            f"{label}: {run.seconds:.2f} s ({in_sql:.2f} s in {len(run.statements):,} SQL "
            f"statements), {result_count / run.seconds:,.0f} allocated result rows/s, "
            f"{represented / run.seconds:,.0f} line items/s, "
            f"ratio 60/seconds = {TARGET_SECONDS / run.seconds:.2f}x"
        )
        for statement_seconds, sql in run.slowest(SLOWEST):
            print(f"  {statement_seconds:6.2f} s  {' '.join(sql.split())[:90]}")
    p50, p95 = percentile(seconds, 0.5), percentile(seconds, 0.95)
    print(
        f"team_scores_compute for {teams:,} teams, week {WEEK:%G-W%V}: p50 {p50:.2f} s, "
        f"p95 {p95:.2f} s, max {max(seconds):.2f} s over {len(seconds)} runs "
        f"(target < {TARGET_SECONDS:.0f} s); ratio 60/seconds = {TARGET_SECONDS / p50:.2f}x "
        "at p50"
    )
    print(
        f"read: {result_count:,} allocated result rows of the week, representing "
        f"{represented:,.0f} line items (7/{days} of {rows:,}); {result_count / p50:,.0f} "
        f"rows/s, {represented / p50:,.0f} line items/s at p50"
    )
    return max(seconds) < TARGET_SECONDS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--teams", type=int, default=1000)
    parser.add_argument(
        "--shared-teams", type=int, default=250, help="the teams untagged cost is split over"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rebuild", action="store_true", help="load the month again")
    parser.add_argument("--reallocate", action="store_true", help="allocate the month again")
    args = parser.parse_args()
    teams = team_values(args.teams)
    ensure_tenant()
    with schema_context(SCHEMA):
        changed = ensure_month(args.rows, teams, args.rebuild)
        resources = ensure_resources(changed)
        admin = User.objects.get(username="admin")
        category, new_rules = ensure_category(admin, teams, args.shared_teams)
        ensure_teams(admin, category, teams)
        ensure_allocation(admin, category, changed or new_rules or args.reallocate)
        count = result_rows(category)
        print(
            f"{args.teams:,} teams (Shared split over {args.shared_teams:,}), {resources:,} "
            f"weekly resource costs, {count:,} allocated result rows in the week of {WEEK}",
            flush=True,
        )
        TeamScore.objects.filter(week=WEEK).delete()  # the first run computes the week anew
        runs = [timed_run() for _ in range(args.repeat)]
        within = report(runs, args.rows, count, args.teams)
        problems = check_stored(args.teams)
    for problem in problems:
        print(f"FAILED: {problem}")
    if not within:
        print(f"FAILED: over {TARGET_SECONDS:.0f} s")
    if problems or not within:
        sys.exit(1)


if __name__ == "__main__":
    main()
