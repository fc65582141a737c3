"""Allocation benchmark: one category with 50 rules and 3 splits over a 1,000,000-row month.

    .venv/bin/python -m bench.allocate [--rows 1000000] [--repeat 3]

Loads the generated CUR month into the `bench` tenant if that period is not loaded yet,
(re)creates the "Bench team" category (its rules read a second, small "Bench env"
category), times `allocation_run_now` for the period end to end (in this process, as a
worker runs it), and times the floor: one grouping of the same line items by account,
service and day. The run reads the period's cost rollup, which the ingest builds as it
loads the bill (its cost is in `bench.ingest`'s figures); its row count is printed.
Each is timed `--repeat` times (each run replaces the previous one's results) and the best counts.
Prints both, their ratio and whether the run's results sum to the ingested costs.
Targets on 2 cores: under 10 s and at most 3x the floor.
"""

from __future__ import annotations

import argparse
import sys
import time
from decimal import Decimal

from django.db import connection
from django.db.models import Sum
from django_tenants.utils import schema_context

from allocation.engine.run import allocation_run_now
from allocation.models import AllocationResult, AllocationRun, CostCategory, RunStatus
from allocation.services import cost_category_create, ruleset_create
from bench.allocation_rules import ENV, SPLITS, TEAM, env_rules, team_rules
from bench.common import PERIOD, SCHEMA, ensure_loaded, ensure_tenant
from billing.models import CostRollup

COSTS = ("billed_cost", "effective_cost", "list_cost")
FLOOR_SQL = """
    SELECT sub_account_id, service_name, (charge_period_start AT TIME ZONE 'UTC')::date,
           sum(billed_cost), sum(effective_cost), sum(list_cost), count(*)
    FROM billing_cost_line_item
    WHERE billing_period_start = %s
    GROUP BY 1, 2, 3
"""


def recreate_categories() -> CostCategory:
    """Fresh "Bench env" and "Bench team" categories with their rules (idempotent)."""
    CostCategory.objects.filter(name__in=[TEAM, ENV]).delete()
    env = cost_category_create(actor=None, name=ENV, default_value="Unknown env")
    ruleset_create(actor=None, category=env, effective_month=PERIOD, rules=env_rules())
    team = cost_category_create(actor=None, name=TEAM)
    ruleset_create(
        actor=None, category=team, effective_month=PERIOD, rules=team_rules(), splits=SPLITS
    )
    return team


def floor_seconds() -> float:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(FLOOR_SQL, [PERIOD])
        cursor.fetchall()
    return time.perf_counter() - started


def run_seconds(category: CostCategory) -> tuple[float, AllocationRun]:
    started = time.perf_counter()
    run = allocation_run_now(actor=None, category=category, period=PERIOD)
    seconds = time.perf_counter() - started
    if run.status != RunStatus.SUCCEEDED:
        sys.exit(f"Run ended {run.status}: {run.notes}")
    return seconds, run


def ingested_sums() -> tuple[int, dict[str, Decimal]]:
    columns = ", ".join(f"sum({c})" for c in COSTS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*), {columns} FROM billing_cost_line_item "
            "WHERE billing_period_start = %s",
            [PERIOD],
        )
        count, *sums = cursor.fetchone()
    return count, dict(zip(COSTS, sums, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="timings of each; the best counts")
    args = parser.parse_args()
    ensure_tenant()
    with schema_context(SCHEMA):
        ensure_loaded(args.rows)
        category = recreate_categories()
        line_items, expected = ingested_sums()
        # Each run replaces the previous one's results, as a rerun of the month does.
        runs = [run_seconds(category) for _ in range(args.repeat)]
        floors = [floor_seconds() for _ in range(args.repeat)]
        run = runs[-1][1]
        results = AllocationResult.objects.filter(run=run)
        totals = results.aggregate(**{c: Sum(c) for c in COSTS})
        result_rows = results.count()
        rollup_rows = CostRollup.objects.filter(billing_period_start=PERIOD).count()
    seconds, floor = min(s for s, _ in runs), min(floors)
    print(
        f"line items: {line_items:,}, cost rollup rows read: {rollup_rows:,}, "
        f"result rows: {result_rows:,}"
    )
    print(
        f"allocation run end to end: {seconds:.2f} s (target < 10 s; best of "
        f"{', '.join(f'{s:.2f}' for s, _ in runs)})"
    )
    print(
        f"floor (one GROUP BY account, service, day): {floor:.2f} s (best of "
        f"{', '.join(f'{s:.2f}' for s in floors)})"
    )
    print(f"ratio to floor: {seconds / floor:.2f}x (target <= 3x)")
    for column in COSTS:
        same = "equals" if totals[column] == expected[column] else "DIFFERS FROM"
        print(f"sum of {column}: {totals[column]} {same} the ingested {expected[column]}")
    if run.notes:
        # The bench's rules are generated: some are shadowed by earlier ones, as noted.
        print(f"run notes: {len(run.notes)}, the first: {run.notes[0]}")
    if any(totals[c] != expected[c] for c in COSTS):
        sys.exit("The results do not sum to the ingested costs.")


if __name__ == "__main__":
    main()
