"""Allocation benchmark: one category with 50 rules and 3 splits over a 1,000,000-row month.

    .venv/bin/python bench/allocate.py [--rows 1000000] [--repeat 3]

Loads the generated CUR month into the `bench` tenant if that period is not loaded yet,
(re)creates the "Bench team" category (its rules read a second, small "Bench env"
category), times `allocation_run_execute` for the period end to end, and times the floor:
one grouping of the same line items by account, service and day. Each is timed
`--repeat` times (each run replaces the previous one's results) and the best counts.
Prints both, their ratio and whether the run's results sum to the ingested costs.
Targets on 2 cores: under 10 s and at most 3x the floor.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django

django.setup()

from django.db import connection
from django.db.models import Sum
from django_tenants.utils import schema_context

from allocation.engine.run import allocation_run_execute
from allocation.models import AllocationResult, AllocationRun, CostCategory, RunStatus
from allocation.services import cost_category_create, ruleset_create
from billing.ingest.pipeline import run_ingest
from billing.models import IngestStatus, LoadedPeriod, TagKey
from billing.services.ingests import ingest_job_create
from portal.tenants.models import Tenant
from portal.tenants.services import tenant_create

# The tenant, month and payer of bench/ingest.py (a script, so not imported from).
SCHEMA = "bench"
PERIOD = date(2026, 1, 1)
PAYER = "999900001111"
TEAM = "Bench team"
ENV = "Bench env"
COSTS = ("billed_cost", "effective_cost", "list_cost")
FLOOR_SQL = """
    SELECT sub_account_id, service_name, (charge_period_start AT TIME ZONE 'UTC')::date,
           sum(billed_cost), sum(effective_cost), sum(list_cost), count(*)
    FROM billing_cost_line_item
    WHERE billing_period_start = %s
    GROUP BY 1, 2, 3
"""
ACCOUNTS = ("026411943737", "612845070863", "140049190890", "778932921074", PAYER)


def cond(field: str, op: str, *values: str, **extra: Any) -> dict[str, Any]:
    node: dict[str, Any] = {"field": field, "op": op, **extra}
    if values:
        node["values"] = list(values)
    return node


def tag(key: str, op: str, *values: str, **extra: Any) -> dict[str, Any]:
    return cond("tag", op, *values, key=key, **extra)


def rule(value: str, expression: dict[str, Any]) -> dict[str, Any]:
    return {"value": value, "expression": expression}


def env_rules() -> list[dict[str, Any]]:
    """The small category the team rules look at."""
    return [
        rule("Production", tag("env", "equals", "prod")),
        rule("Non-production", tag("env", "one_of", "staging", "dev", "test")),
        rule("Production", cond("account", "equals", PAYER)),
        rule("Non-production", cond("account", "starts_with", "7789")),
    ]


def team_rules() -> list[dict[str, Any]]:
    """50 rules of the kinds a FinOps team writes, most specific first."""
    rules = [
        rule("Support", cond("service", "starts_with", "AWS Support")),
        rule("Support", cond("charge_category", "one_of", "Tax", "Credit")),
        rule("Shared platform", cond("service", "starts_with", "Savings Plans")),
        rule(
            "Payments",
            {"all": [tag("team", "equals", "payments"), tag("env", "equals", "prod")]},
        ),
        rule(
            "Search",
            {
                "all": [
                    tag("team", "equals", "search"),
                    cond("category", "equals", "Production", category=ENV),
                ]
            },
        ),
        rule(
            "Payments",
            {
                "all": [
                    tag("cost-center", "equals", "CC-1001"),
                    cond("service", "starts_with", "Amazon Relational"),
                ]
            },
        ),
        rule("Platform", tag("cost-center", "equals", "cc-3300", case_sensitive=False)),
        rule("Shared data", tag("cost-center", "one_of", "CC 4000, Shared", "CC-4000")),
        rule("Shared platform", cond("usage_type", "contains", "NatGateway")),
        rule(
            "Shared platform",
            {
                "all": [
                    cond("usage_type", "contains", "DataTransfer-Regional"),
                    cond("region", "one_of", "us-east-1", "us-west-2"),
                ]
            },
        ),
        rule(
            "Data",
            {
                "all": [
                    cond("account", "equals", ACCOUNTS[2]),
                    cond("service", "one_of", "Amazon Relational Database Service"),
                ]
            },
        ),
        rule(
            "ML",
            {
                "all": [
                    cond("usage_type", "contains", "p3.", "g5.", "inf1."),
                    cond("region", "equals", "us-west-2"),
                ]
            },
        ),
        rule(
            "Web",
            {"any": [tag("team", "equals", "web"), tag("team", "equals", "frontend")]},
        ),
        rule(
            "Data",
            {
                "all": [
                    tag("team", "one_of", "data", "analytics"),
                    {"not": tag("env", "equals", "dev")},
                ]
            },
        ),
        rule(
            "Search",
            {"all": [tag("team", "equals", "SEARCH", case_sensitive=False), tag("env", "present")]},
        ),
        rule("Shared platform", cond("service", "equals", "AmazonCloudWatch")),
        rule(
            "Platform",
            {
                "all": [
                    cond("account", "equals", ACCOUNTS[4]),
                    cond("service", "starts_with", "Amazon Elastic"),
                ]
            },
        ),
        rule(
            "ML",
            {
                "all": [
                    tag("team", "equals", "ml"),
                    cond("category", "equals", "Non-production", category=ENV),
                ]
            },
        ),
        rule(
            "Payments",
            {
                "all": [
                    cond("account", "one_of", ACCOUNTS[0], ACCOUNTS[1]),
                    tag("cost-center", "equals", "CC-1001"),
                ]
            },
        ),
        rule(
            "Data",
            {
                "all": [
                    cond("service", "starts_with", "Amazon Simple Storage"),
                    cond("usage_type", "contains", "TimedStorage-GlacierByteHrs"),
                ]
            },
        ),
        rule(
            "Platform",
            {
                "any": [
                    cond("usage_type", "starts_with", "EKS"),
                    cond("usage_type", "contains", "AmazonEKS"),
                ]
            },
        ),
        rule(
            "Shared platform",
            {"all": [cond("region", "absent"), cond("charge_category", "equals", "Usage")]},
        ),
        rule(
            "Web",
            {
                "all": [
                    cond("service", "equals", "AWS Lambda"),
                    tag("team", "one_of", "web", "frontend", "mobile"),
                ]
            },
        ),
        rule(
            "Data",
            {
                "all": [
                    cond("region", "starts_with", "eu-"),
                    tag("cost-center", "equals", "CC-2040"),
                ]
            },
        ),
        rule(
            "Search",
            {
                "all": [
                    cond("usage_type", "contains", "es.", "OpenSearch"),
                    cond("account", "one_of", ACCOUNTS[1], ACCOUNTS[3]),
                ]
            },
        ),
        rule(
            "Payments",
            {
                "all": [
                    cond("region", "equals", "eu-central-1"),
                    tag("team", "equals", "payments"),
                ]
            },
        ),
        rule(
            "ML",
            {
                "any": [
                    cond("usage_type", "contains", "SageMaker"),
                    cond("service", "starts_with", "Amazon SageMaker"),
                ]
            },
        ),
        rule(
            "Platform",
            {
                "all": [
                    tag("team", "equals", "platform"),
                    {
                        "any": [
                            cond("usage_type", "contains", "BoxUsage"),
                            cond("usage_type", "contains", "EBS:"),
                        ]
                    },
                ]
            },
        ),
        rule(
            "Shared data",
            {
                "all": [
                    cond("service", "equals", "Amazon Simple Storage Service"),
                    tag("team", "absent"),
                ]
            },
        ),
        rule(
            "Web",
            {
                "all": [
                    cond("usage_type", "contains", "CloudFront", "DataTransfer-Out"),
                    cond("account", "equals", ACCOUNTS[3]),
                ]
            },
        ),
        rule(
            "Search",
            {
                "all": [
                    cond("account", "equals", ACCOUNTS[1]),
                    cond("region", "one_of", "ap-southeast-2", "eu-west-1"),
                    tag("env", "equals", "prod"),
                ]
            },
        ),
        rule(
            "Data",
            {
                "all": [
                    cond("service", "ends_with", "Database Service"),
                    tag("env", "one_of", "prod", "staging"),
                ]
            },
        ),
        rule(
            "Shared platform",
            {
                "all": [
                    cond("payer", "equals", PAYER),
                    cond("usage_type", "ends_with", "-Bytes"),
                    tag("team", "absent"),
                ]
            },
        ),
        rule(
            "ML",
            {
                "all": [
                    cond("usage_type", "contains", "c5.2xlarge", "r5.xlarge"),
                    tag("cost-center", "equals", "CC 4000, Shared"),
                ]
            },
        ),
        rule(
            "Payments",
            {
                "all": [
                    cond("account", "equals", ACCOUNTS[0]),
                    cond("service", "equals", "AWS Lambda"),
                    {"not": tag("team", "present")},
                ]
            },
        ),
        rule("Platform", cond("usage_type", "starts_with", "EUC1-EBS", "APS2-EBS")),
        rule(
            "Web",
            {
                "all": [
                    cond("region", "equals", "us-east-1"),
                    cond("usage_type", "contains", "t3.micro"),
                    cond("category", "equals", "Production", category=ENV),
                ]
            },
        ),
        rule(
            "Data",
            {
                "any": [
                    tag("cost-center", "starts_with", "CC-20"),
                    tag("team", "equals", "DATA", case_sensitive=False),
                ]
            },
        ),
        rule(
            "Search",
            {
                "all": [
                    cond("service", "starts_with", "Amazon Elastic Compute"),
                    cond("usage_type", "contains", "m6g."),
                    cond("account", "equals", ACCOUNTS[3]),
                ]
            },
        ),
        rule(
            "Shared platform",
            {"all": [cond("charge_category", "equals", "Purchase"), tag("team", "absent")]},
        ),
        rule(
            "Platform",
            {
                "all": [
                    cond("account", "one_of", ACCOUNTS[2], ACCOUNTS[3]),
                    cond("service", "equals", "AmazonCloudWatch"),
                ]
            },
        ),
        rule(
            "Web",
            {"all": [tag("env", "equals", "dev"), cond("service", "equals", "AWS Lambda")]},
        ),
        {"kind": "inherited", "inherit_from": "tag:team"},
        rule(
            "Shared platform",
            {
                "all": [
                    cond("service", "starts_with", "AWS Data"),
                    cond("region", "one_of", "us-east-1", "us-west-2", "eu-west-1"),
                ]
            },
        ),
        {"kind": "inherited", "inherit_from": "tag:cost-center"},
        rule(
            "Platform",
            {
                "all": [
                    cond("account", "equals", ACCOUNTS[0]),
                    cond("usage_type", "contains", "boxusage", case_sensitive=False),
                ]
            },
        ),
        {"kind": "inherited", "inherit_from": "account_name"},
        rule("Shared data", cond("service", "equals", "Amazon Simple Storage Service")),
        rule(
            "Shared platform",
            {
                "any": [
                    cond("category", "equals", "Production", category=ENV),
                    cond("account", "equals", ACCOUNTS[1]),
                ]
            },
        ),
        rule("Support", cond("charge_category", "present")),
    ]
    assert len(rules) == 50, len(rules)
    return rules


SPLITS = [
    {"source": "Shared platform", "method": "proportional", "targets": [
        {"value": "Payments"}, {"value": "Search"}, {"value": "Web"}, {"value": "Platform"},
    ]},
    {"source": "Shared data", "method": "even", "targets": [{"value": "Data"}, {"value": "ML"}]},
    {"source": "Support", "method": "fixed", "targets": [
        {"value": "Platform", "percent": "50"},
        {"value": "Web", "percent": "30"},
        {"value": "Data", "percent": "20"},
    ]},
]  # fmt: skip


def bill_file(rows: int, fmt: str = "csv.gz") -> Path:
    path = ROOT / ".local" / "bench" / f"cur-{rows}.{fmt}"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        print(f"Generating {rows:,} CUR rows into {path} ...", flush=True)
        command = ["cur", "--rows", str(rows), "--period", f"{PERIOD:%Y-%m}", "--payer", PAYER]
        subprocess.run(
            [sys.executable, "-m", "billing.generator", *command, "--format", fmt, "--out", path],
            check=True,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
    return path


def ensure_tenant() -> None:
    if not Tenant.objects.filter(schema_name=SCHEMA).exists():
        tenant_create(
            actor=None,
            schema=SCHEMA,
            name="Benchmark",
            domain="bench.localhost",
            admin_email="bench@example.com",
            admin_password="bench-Portal-2026",
        )
    with schema_context(SCHEMA):
        for key in ("team", "env", "cost-center"):
            TagKey.objects.get_or_create(name=key)


def ensure_loaded(rows: int) -> None:
    """The generated month is stored for the bench payer (ingested inline if not yet)."""
    if LoadedPeriod.objects.filter(billing_period_start=PERIOD, billing_account_id=PAYER).exists():
        return
    path = bill_file(rows)
    print(f"Ingesting {path.name} ...", flush=True)
    job = ingest_job_create(actor=None, paths=[path], enqueue=False)
    job = run_ingest(job.pk)
    if job.status != IngestStatus.SUCCEEDED:
        sys.exit(f"Ingest ended {job.status}: {job.message}")


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
    run = allocation_run_execute(actor=None, category=category, period=PERIOD)
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
    seconds, floor = min(s for s, _ in runs), min(floors)
    print(f"line items: {line_items:,}, result rows: {result_rows:,}")
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
    for note in run.notes:
        print(f"note: {note}")
    if any(totals[c] != expected[c] for c in COSTS):
        sys.exit("The results do not sum to the ingested costs.")


if __name__ == "__main__":
    main()
