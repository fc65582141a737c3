"""Cost explorer benchmark: 200 typical explorer requests over three big months.

    .venv/bin/python -m bench.explorer [--rows-per-month 10000000] [--requests 200]

Builds (once; "reusing" when it is there) the `bench_explorer` tenant: 2026-01 to 2026-03
of a 10,000,000-line-item month each, loaded at the rollup level through the ingest's
publish (see `bench.explorer_data`); the cost category "Team" (the tag team's values,
AWS support split over the teams) and "Customer" (an end customer's ten accounts)
allocated for each month; twelve teams bound to the team values, a team lead of two,
the end customer's user and billing unit on a pricing plan, and a billing view (a payer
and three services) shared with a finance user.

Then times `--requests` explorer requests (after 10 to warm up) through the real API
with Django's test client on the tenant's host, as admin, finance (with and without the
view), the team lead and the end customer: this month, last month and the last three,
daily and monthly, grouped by one to three dimensions, with filters, excludes, limits
and every metric, drawn from a fixed seed. Prints p50, p95 and max in ms, the SQL
queries per request (min and max: they must not vary), and p50 per request shape.
Target on 2 cores: p95 under 150 ms, a constant number of queries per request.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from allocation.engine.run import allocation_run_now
from allocation.models import AllocationRun, CostCategory, RunStatus
from allocation.services import cost_category_create, ruleset_create
from bench import common
from bench.common import percentile
from bench.explorer_data import PAYERS, PERIODS, TEAMS, estate, is_loaded, load_month
from billing.models import Account, BillingView, EndCustomer, Team
from billing.services import billing_view_create, end_customer_create, team_create
from insights.models import TeamCostBinding
from invoices.models import BillingUnit, PricingPlan
from invoices.services.setup import billing_unit_create, pricing_plan_create
from portal.users.models import Role, User
from portal.users.services import user_create

SCHEMA = "bench_explorer"
HOST = "bench-explorer.localhost"
PASSWORD = "bench-Portal-2026"
TEAM_CATEGORY, CUSTOMER_CATEGORY = "Team", "Customer"
SUPPORT, UNTAGGED, INTERNAL = "shared-support", "untagged", "Internal"
CUSTOMER = "Bench Customer Ltd"
LED_TEAMS = ("payments", "search")
VIEW_SERVICES = ["AmazonEC2", "AmazonRDS", "AmazonS3"]
SEED = 7
WARM_UP = 10


def team_name(value: str) -> str:
    return value.capitalize() if len(value) > 2 else value.upper()


# The tenant and its data ---------------------------------------------------------------


def ensure_tenant() -> None:
    common.ensure_tenant(
        SCHEMA, "Explorer benchmark", HOST, "admin@bench-explorer.example", PASSWORD
    )


def ensure_data(rows: int, rebuild: bool) -> bool:
    """The three months, loaded unless stored with `rows` line items each; whether any was
    (re)loaded."""
    world, loaded = None, False
    for period in PERIODS:
        if not rebuild and is_loaded(period, rows):
            print(f"{period:%Y-%m}: reusing the stored {rows:,} line items", flush=True)
            continue
        world = world or estate(rows)
        started = time.perf_counter()
        job = load_month(world, period, rows)
        print(
            f"{period:%Y-%m}: loaded {rows:,} line items at the rollup level in "
            f"{time.perf_counter() - started:.1f} s (ingest job {job.pk})",
            flush=True,
        )
        loaded = True
    return loaded


def ensure_allocations(admin: User, changed: bool) -> None:
    """Both categories allocated for each month (again when the data changed)."""
    team, customer = _team_category(admin), _customer_category(admin)
    for category in (team, customer):
        for period in PERIODS:
            runs = AllocationRun.objects.filter(category=category, period=period)
            if not changed and runs.filter(status=RunStatus.SUCCEEDED).exists():
                continue
            started = time.perf_counter()
            run = allocation_run_now(actor=admin, category=category, period=period)
            if run.status != RunStatus.SUCCEEDED:
                raise SystemExit(f"Allocation of {category} {period:%Y-%m}: {run.notes}")
            print(
                f"allocated {category.name} for {period:%Y-%m} in "
                f"{time.perf_counter() - started:.1f} s",
                flush=True,
            )


def _team_category(admin: User) -> CostCategory:
    category = CostCategory.objects.filter(name=TEAM_CATEGORY).first()
    if category is not None:
        return category
    category = cost_category_create(actor=admin, name=TEAM_CATEGORY, default_value=UNTAGGED)
    support = {"field": "service", "op": "equals", "values": ["AWSSupportBusiness"]}
    rules: list[dict[str, Any]] = [
        {"value": SUPPORT, "expression": support},
        {"kind": "inherited", "inherit_from": "tag:team"},
    ]
    split: dict[str, Any] = {
        "source": SUPPORT,
        "method": "proportional",
        "targets": [{"value": t} for t in TEAMS],
    }
    ruleset_create(
        actor=admin, category=category, effective_month=PERIODS[0], rules=rules, splits=[split]
    )
    return category


def customer_accounts() -> list[Account]:
    """Ten accounts of the second payer: the end customer's."""
    return list(Account.objects.filter(organization__management_account__account_id=PAYERS[1][0])
                .exclude(account_id=PAYERS[1][0]).order_by("account_id")[:10])  # fmt: skip


def _customer_category(admin: User) -> CostCategory:
    category = CostCategory.objects.filter(name=CUSTOMER_CATEGORY).first()
    if category is not None:
        return category
    category = cost_category_create(actor=admin, name=CUSTOMER_CATEGORY, default_value=INTERNAL)
    ids = [account.account_id for account in customer_accounts()]
    rule = {"value": CUSTOMER, "expression": {"field": "account", "op": "one_of", "values": ids}}
    ruleset_create(actor=admin, category=category, effective_month=PERIODS[0], rules=[rule])
    return category


def ensure_people(admin: User) -> dict[str, User]:
    """The users of each role, the teams, the end customer with its unit, the view."""
    users = {"admin": admin}
    for username, role in (("finance", Role.FINANCE), ("teamlead", Role.TEAM_LEAD),
                           ("customer", Role.END_CUSTOMER)):  # fmt: skip
        users[username] = User.objects.filter(username=username).first() or user_create(
            actor=admin, username=username, password=PASSWORD, role=role
        )
    for value in TEAMS:
        if not Team.objects.filter(name=team_name(value)).exists():
            leads = [users["teamlead"]] if value in LED_TEAMS else []
            team_create(actor=admin, name=team_name(value), leads=leads)
    _ensure_bindings()
    if not EndCustomer.objects.filter(legal_name=CUSTOMER).exists():
        end_customer_create(
            actor=admin,
            legal_name=CUSTOMER,
            accounts=customer_accounts(),
            viewers=[users["customer"]],
        )
    if not BillingUnit.objects.filter(name=CUSTOMER).exists():
        billing_unit_create(
            actor=admin,
            name=CUSTOMER,
            category=CostCategory.objects.get(name=CUSTOMER_CATEGORY),
            value=CUSTOMER,
            legal_name=CUSTOMER,
            plan=_plan(admin),
            end_customer=EndCustomer.objects.get(legal_name=CUSTOMER),
        )
    if not BillingView.objects.filter(name="Holdings core services").exists():
        billing_view_create(
            actor=admin,
            name="Holdings core services",
            payers=Account.objects.filter(account_id=PAYERS[0][0]),
            services=VIEW_SERVICES,
            shared_with=[users["finance"]],
        )
    return users


def _plan(admin: User) -> PricingPlan:
    rules = [
        {"scope": "global", "percent": "10"},
        {"scope": "service", "service_name": "AmazonEC2", "percent": "6"},
        {"scope": "service", "service_name": "AmazonS3", "percent": "15"},
        {"scope": "usage_type", "usage_type": "BoxUsage:m5.large", "percent": "-2"},
    ]
    return PricingPlan.objects.filter(name="Bench resale").first() or pricing_plan_create(
        actor=admin, name="Bench resale", rules=rules
    )


def _ensure_bindings() -> None:
    """Each team bound to its value of the Team category."""
    category = CostCategory.objects.get(name=TEAM_CATEGORY)
    for value in TEAMS:
        team = Team.objects.get(name=team_name(value))
        TeamCostBinding.objects.get_or_create(team=team, category=category, value=value)


# The requests ------------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """A kind of explorer request: who asks, and its parameters (drawn per request)."""

    name: str
    user: str
    params: Callable[[random.Random], dict[str, Any]]


THIS_MONTH = {"start": "2026-03-01", "end": "2026-04-01"}
LAST_MONTH = {"start": "2026-02-01", "end": "2026-03-01"}
QUARTER = {"start": "2026-01-01", "end": "2026-04-01"}
SERVICES = ["AmazonEC2", "AmazonRDS", "AmazonS3", "AWSLambda", "AmazonDynamoDB", "AmazonEKS"]
REGIONS = ["us-east-1", "us-west-2", "eu-west-1"]


def _shape(name: str, user: str, **fixed: Any) -> Shape:
    """A shape whose `{draw}` parameters are drawn: one of the listed values."""

    def params(rng: random.Random) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in fixed.items():
            out[key] = rng.choice(value) if isinstance(value, tuple) else value
        return out

    return Shape(name, user, params)


def shapes(view_id: int) -> list[Shape]:
    service_filter = tuple(f"service:{s}" for s in SERVICES)
    teams = tuple(f"tag:team:{t}" for t in TEAMS)
    limits = (5, 10)
    return [
        _shape("this month by service", "admin", **THIS_MONTH, group_by="service", limit=limits),
        _shape("quarter monthly by account", "admin", **QUARTER, granularity="monthly",
               group_by="account", metric="effective_cost"),
        _shape("last month by region, one service", "admin", **LAST_MONTH, group_by="region",
               filter=service_filter, metric="list_cost", limit=5),
        _shape("this month by tag:team, no credits", "admin", **THIS_MONTH, group_by="tag:team",
               exclude="charge_category:Credit"),
        _shape("quarter monthly by category:Team", "admin", **QUARTER, granularity="monthly",
               group_by=f"category:{TEAM_CATEGORY}", metric="effective_cost"),
        _shape("this month by team", "admin", **THIS_MONTH, group_by="team"),
        _shape("last month monthly by service+account", "admin", **LAST_MONTH,
               granularity="monthly", group_by="service,account", limit=limits),
        _shape("this month by service+region+charge_category", "admin", **THIS_MONTH,
               group_by="service,region,charge_category", exclude=tuple(f"region:{r}"
               for r in REGIONS), limit=10),
        _shape("this month by usage type of EC2", "admin", **THIS_MONTH, group_by="usage_type",
               filter="service:AmazonEC2", limit=10),
        _shape("quarter daily total, margin", "admin", **QUARTER, metric=("margin", "resale")),
        _shape("this month by tag:env of a team, no tax", "admin", **THIS_MONTH,
               group_by="tag:env", filter=teams, exclude="charge_category:Tax"),
        _shape("view: this month by service", "finance", **THIS_MONTH, group_by="service",
               view=view_id),
        _shape("view: quarter monthly by account", "finance", **QUARTER, granularity="monthly",
               group_by="account", metric="effective_cost", view=view_id),
        _shape("last month monthly margin by end customer", "finance", **LAST_MONTH,
               granularity="monthly", group_by="end_customer", metric="margin"),
        _shape("team lead: this month by team", "teamlead", **THIS_MONTH, group_by="team"),
        _shape("team lead: quarter monthly by service", "teamlead", **QUARTER,
               granularity="monthly", group_by="service", filter=("team:Payments", "team:Search"),
               limit=limits),
        _shape("customer: this month by service", "customer", **THIS_MONTH, group_by="service",
               metric="resale", limit=limits),
        _shape("customer: quarter monthly by account", "customer", **QUARTER,
               granularity="monthly", group_by="account", metric="resale"),
    ]  # fmt: skip


@dataclass
class Timing:
    shape: str
    ms: float
    queries: int
    status: int
    sql: list[dict[str, Any]]
    groups: int = 0  # groups in the answer: 0 means it found no cost


def logged_in(user: User) -> Client:
    client = Client(HTTP_HOST=HOST)
    client.force_login(user)
    return client


def request(client: Client, shape: Shape, rng: random.Random) -> Timing:
    params = shape.params(rng)
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        response = client.get("/api/v1/costs/", params, secure=True)
        ms = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        print(f"  {shape.name}: {response.status_code} {response.content[:300]!r} for {params}")
    groups = len(response.json()["groups"]) if response.status_code == 200 else 0
    return Timing(
        shape.name, ms, len(captured), response.status_code, captured.captured_queries, groups
    )


def run_requests(users: dict[str, User], count: int) -> list[Timing]:
    view = BillingView.objects.get(name="Holdings core services")
    kinds, rng = shapes(view.pk), random.Random(SEED)
    by_user = {name: logged_in(user) for name, user in users.items()}
    timings = []
    for _ in range(WARM_UP + count):
        shape = rng.choice(kinds)
        timings.append(request(by_user[shape.user], shape, rng))
    return timings[WARM_UP:]


def report(timings: list[Timing], explain: bool) -> None:
    ms = [t.ms for t in timings]
    queries = [t.queries for t in timings]
    failed = [t for t in timings if t.status != 200]
    empty = [t for t in timings if t.status == 200 and not t.groups]
    print(
        f"{len(timings)} requests: p50 {percentile(ms, 0.5):.1f} ms, p95 {percentile(ms, 0.95):.1f}"
        f" ms, max {max(ms):.1f} ms (target: p95 < 150 ms); {len(failed)} not 200, "
        f"{len(empty)} without cost"
    )
    print(f"SQL queries per request: min {min(queries)}, max {max(queries)} (target: constant)")
    by_shape: dict[str, list[Timing]] = defaultdict(list)
    for timing in timings:
        by_shape[timing.shape].append(timing)
    print(f"{'p50 ms':>8} {'max ms':>8} {'n':>3} {'queries':>8}  shape")
    ranked = sorted(by_shape.items(), key=lambda item: -statistics.median(t.ms for t in item[1]))
    for name, rows in ranked:
        spread = sorted({t.queries for t in rows})
        counts = f"{spread[0]}" if len(spread) == 1 else f"{spread[0]}-{spread[-1]}"
        print(
            f"{statistics.median(t.ms for t in rows):8.1f} {max(t.ms for t in rows):8.1f} "
            f"{len(rows):3d} {counts:>8}  {name}"
        )
    if explain and ranked:
        explain_slowest(ranked[0][0], ranked[0][1])


def explain_slowest(name: str, rows: list[Timing]) -> None:
    """EXPLAIN ANALYZE of the slowest SQL query of the slowest request of `name`."""
    slowest = max(rows, key=lambda t: t.ms)
    query = max(slowest.sql, key=lambda q: float(q["time"]))
    print(
        f"\nSlowest query of {name!r} ({query['time']} s of {slowest.ms:.0f} ms):\n{query['sql']}"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {query['sql']}")
        print("\n".join(line for (line,) in cursor.fetchall()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows-per-month", type=int, default=10_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rebuild", action="store_true", help="load the months again")
    parser.add_argument("--data-only", action="store_true", help="build, do not time")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN the slowest shape")
    args = parser.parse_args()
    ensure_tenant()
    with schema_context(SCHEMA):
        changed = ensure_data(args.rows_per_month, args.rebuild)
        admin = User.objects.get(username="admin")
        ensure_allocations(admin, changed)
        users = ensure_people(admin)
        if args.data_only:
            return
        timings = run_requests(users, args.requests)
        report(timings, args.explain)


if __name__ == "__main__":
    main()
