"""Where a query's cost is read from, and the SQL expressions of its dimensions there.

The smallest summary that keeps every dimension a query uses answers it:
- the cost cube's grains (`billing.models.cubes`): monthly over whole months (tags
  included), else the smallest daily grain (by service, by account, by usage type, all);
- the daily tag cost's grains: one summarized tag key with the payer, charge category
  and service (and account), or two keys with the payer and charge category;
- the cost rollup: anything else on the bill (two tag keys, a tag with a region);
- the latest allocation runs' summaries (per value and day, or service), or their
  results: teams and cost categories.
None of them is the line items. `insights.selectors` turns the chosen source into SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from psycopg import sql

from billing.models import Account
from billing.models.cubes import (
    ALL_CUBE_COLUMNS,
    DAILY_GRAINS,
    MONTHLY_GRAIN,
    TAG_GRAINS,
    TAG_PAIR_GRAIN,
)
from insights.query import CostQuery, add_months
from insights.scope import Scope
from portal.core.errors import ApplicationError

TEAM_VALUE = "team"
BILL_COLUMNS = {
    "service": "service_name",
    "account": "sub_account_id",
    # The payer whose bill a cost came from; "payer" is the payer of record (see below).
    "bill_payer": "billing_account_id",
    "region": "region_id",
    "charge_category": "charge_category",
    "usage_type": "x_usage_type",
}
ALLOCATED_COLUMNS = {
    "service": "service_name",
    "account": "sub_account_id",
    "usage_type": "usage_type",
}
PRICED_METRICS = ("resale", "margin")


class Params:
    """Bound values, named p0, p1, ... as they are added."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def __call__(self, value: Any) -> sql.Composable:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return sql.Placeholder(name)


@dataclass
class Source:
    name: str
    table: sql.Composable
    # Extra conditions of the source itself (its grain, its runs).
    conditions: list[sql.Composable] = field(default_factory=list)
    joins: list[sql.Composable] = field(default_factory=list)
    expressions: dict[str, sql.Composable] = field(default_factory=dict)
    monthly_rows: bool = False
    allocated: bool = False

    def expression(self, dimension: str, where: str) -> sql.Composable:
        found = self.expressions.get(dimension)
        if found is None:
            raise ApplicationError(_unavailable(dimension, self), code="invalid", field=where)
        return found


def _unavailable(dimension: str, source: Source) -> str:
    if source.allocated:
        return (
            f"{dimension} cannot be combined with team or cost category: allocated cost is "
            "kept per account, service and usage type."
        )
    return f"{dimension} is not a dimension you may use here."


def source_for(
    query: CostQuery,
    scope: Scope,
    params: Params,
    *,
    dimensions: set[str],
    tag_keys_everywhere: set[str],
    runs: list[int],
) -> Source:
    """The summary to read `query` from; `dimensions` also counts the scope's locked ones."""
    categories = {d for d in dimensions if d.startswith("category:")}
    priced = query.metric in PRICED_METRICS
    if scope.teams_only or "team" in dimensions or categories:
        return _allocated(scope, params, categories, runs, dimensions, priced)
    tags = sorted(d[4:] for d in dimensions if d.startswith("tag:"))
    needed = _columns({d for d in dimensions if not d.startswith("tag:")}, priced)
    whole_months = query.start.day == 1 and query.end.day == 1
    tag_grain = _smallest(TAG_GRAINS, needed)
    if query.granularity == "monthly" and whole_months:
        source = _cube(MONTHLY_GRAIN, params)
    elif not tags:
        source = _cube(_smallest(DAILY_GRAINS, needed) or "day", params)
    elif len(tags) == 1 and not priced and tags[0] in tag_keys_everywhere and tag_grain:
        source = _tag_cost(tag_grain, tags[0], params)
    elif (
        len(tags) == 2
        and not priced
        and set(tags) <= tag_keys_everywhere
        and needed <= set(TAG_GRAINS["tag"])
    ):
        source = _tag_pair(tags[0], tags[1], params)
    else:
        source = _bill("rollup", sql.SQL("billing_cost_rollup"), ALL_CUBE_COLUMNS)
        source.conditions.append(
            sql.SQL("c.billing_period_start >= {} AND c.billing_period_start < {}").format(
                params(query.previous[0].replace(day=1)), params(query.end)
            )
        )
    if "payer" in dimensions:
        _add_payer_of_record(source)
    if "organization" in dimensions:
        _add_organization(source, params)
    if source.name in (MONTHLY_GRAIN, "rollup") and tags:
        source.joins.append(sql.SQL("LEFT JOIN billing_tagset AS ts ON ts.id = c.tag_set_id"))
        for key in tags:
            source.expressions[f"tag:{key}"] = sql.SQL("(ts.tags ->> {})").format(params(key))
    _add_owner(source, scope, params, dimensions, priced)
    return source


def _columns(dimensions: set[str], priced: bool) -> set[str]:
    """The line item columns that bill dimensions (and pricing) read."""
    columns = {BILL_COLUMNS[d] for d in dimensions if d in BILL_COLUMNS}
    if "payer" in dimensions:
        columns.add("billing_account_id")
    if "end_customer" in dimensions or "organization" in dimensions or priced:
        columns |= {"sub_account_id", "billing_account_id"}
    if priced:
        columns |= {"service_name", "x_usage_type"}
    return columns


def _smallest(grains: dict[str, tuple[str, ...]], needed: set[str]) -> str | None:
    """The first (smallest) grain that keeps every needed column."""
    return next((grain for grain, kept in grains.items() if needed <= set(kept)), None)


def _bill(name: str, table: sql.Composable, kept: tuple[str, ...]) -> Source:
    columns: dict[str, sql.Composable] = {
        dim: sql.SQL("c.{}").format(sql.Identifier(col))
        for dim, col in BILL_COLUMNS.items()
        if col in kept
    }
    return Source(name=name, table=table, expressions=columns)


def _cube(grain: str, params: Params) -> Source:
    kept = ALL_CUBE_COLUMNS if grain == MONTHLY_GRAIN else DAILY_GRAINS[grain]
    source = _bill(grain, sql.SQL("billing_costcube"), kept)
    source.monthly_rows = grain == MONTHLY_GRAIN
    source.conditions.append(sql.SQL("c.grain = {}").format(params(grain)))
    return source


def _tag_cost(grain: str, key: str, params: Params) -> Source:
    source = _bill(grain, sql.SQL("billing_dailytagcost"), TAG_GRAINS[grain])
    source.expressions[f"tag:{key}"] = sql.SQL("c.tag_value")
    source.conditions.append(
        sql.SQL("c.grain = {} AND c.tag_key = {}").format(params(grain), params(key))
    )
    return source


def _tag_pair(first: str, second: str, params: Params) -> Source:
    """Two keys at once; `first` < `second` as the grain stores them."""
    source = _bill(TAG_PAIR_GRAIN, sql.SQL("billing_dailytagcost"), TAG_GRAINS["tag"])
    source.expressions[f"tag:{first}"] = sql.SQL("c.tag_value")
    source.expressions[f"tag:{second}"] = sql.SQL("c.pair_value")
    source.conditions.append(
        sql.SQL("c.grain = {} AND c.tag_key = {} AND c.pair_key = {}").format(
            params(TAG_PAIR_GRAIN), params(first), params(second)
        )
    )
    return source


def _allocated(
    scope: Scope,
    params: Params,
    categories: set[str],
    runs: list[int],
    dimensions: set[str],
    priced: bool,
) -> Source:
    names = {d[9:] for d in categories}
    team_category = scope.team_category.name if scope.team_category else None
    if len(names | ({team_category} if scope.teams_only or not names else set())) > 1:
        raise ApplicationError(
            "Team and each cost category are allocations of their own: use one of them in a query.",
            code="invalid",
            field="group_by",
        )
    columns: dict[str, sql.Composable] = {
        dim: sql.SQL("NULLIF(c.{}, '')").format(sql.Identifier(col))
        for dim, col in ALLOCATED_COLUMNS.items()
    }
    others = {d for d in dimensions if d != "team" and not d.startswith("category:")}
    if not priced and others <= {"service"}:
        # The run's summary: per value and day, and per service where one is asked for.
        by_service = bool(others)
        columns = {"service": sql.SQL("NULLIF(c.service_name, '')")} if by_service else {}
        source = Source(
            name="allocation_summary",
            table=sql.SQL("allocation_allocationsummary"),
            expressions=columns,
            allocated=True,
        )
        source.conditions.append(sql.SQL("c.by_service = {}").format(params(by_service)))
    else:
        source = Source(
            name="allocation",
            table=sql.SQL("allocation_allocationresult"),
            expressions=columns,
            allocated=True,
        )
    for name in categories:
        columns[name] = sql.SQL("c.value")
    source.conditions.append(sql.SQL("c.run_id = ANY({})").format(params(runs)))
    if not names:
        values, teams = (
            zip(*scope.team_values.items(), strict=True) if scope.team_values else ((), ())
        )
        source.joins.append(
            sql.SQL(
                "LEFT JOIN unnest({}::text[], {}::text[]) AS tv(value, team) ON tv.value = c.value"
            ).format(params(list(values)), params(list(teams)))
        )
        columns["team"] = sql.SQL("tv.team")
    return source


def _add_owner(
    source: Source, scope: Scope, params: Params, dimensions: set[str], priced: bool
) -> None:
    """Join each cost's end customer (and plan), when the query or its metric needs it."""
    if "end_customer" not in dimensions and not priced:
        return
    account = source.expressions["account"]
    customers_filtered = any(d == "end_customer" for d, _ in scope.locked)
    if priced and not customers_filtered:
        # Only priced accounts have a resale: found by the accounts' index, not a scan
        # (an end customer's own accounts are found so already).
        priced_accounts = [a for a, owner in scope.account_owners.items() if owner.plan_id]
        priced_payers = [p for p, owner in scope.payer_owners.items() if owner.plan_id]
        match = sql.SQL("{} = ANY({})").format(account, params(priced_accounts))
        if priced_payers and "bill_payer" in source.expressions:
            match = sql.SQL("({} OR {} = ANY({}))").format(
                match, source.expressions["bill_payer"], params(priced_payers)
            )
        source.conditions.append(match)
    joins = [("oa", account, scope.account_owners)]
    if "bill_payer" in source.expressions:
        joins.append(("op", source.expressions["bill_payer"], scope.payer_owners))
    for alias, column, owners in joins:
        ids = list(owners)
        source.joins.append(
            sql.SQL(
                "LEFT JOIN unnest({}::text[], {}::text[], {}::int[], {}::text[]) "
                "AS {alias}(id, customer, plan_id, basis) ON {alias}.id = {column}"
            ).format(
                params(ids),
                params([owners[i].customer for i in ids]),
                params([owners[i].plan_id for i in ids]),
                params([owners[i].basis for i in ids]),
                alias=sql.Identifier(alias),
                column=column,
            )
        )
    if len(joins) == 1:
        source.expressions["end_customer"] = sql.SQL("oa.customer")
        source.expressions["_plan"] = sql.SQL("oa.plan_id")
        source.expressions["_basis"] = sql.SQL("oa.basis")
        return
    source.expressions["end_customer"] = sql.SQL("coalesce(oa.customer, op.customer)")
    for name in ("plan_id", "basis"):
        source.expressions[f"_{name.removesuffix('_id')}"] = sql.SQL(
            "CASE WHEN oa.id IS NOT NULL THEN oa.{0} ELSE op.{0} END"
        ).format(sql.Identifier(name))


def _add_payer_of_record(source: Source) -> None:
    """The payer of record of the cost's bill and month (`billing.payers`)."""
    source.joins.append(
        sql.SQL(
            "LEFT JOIN billing_loadedperiod AS lp ON lp.billing_period_start = "
            "c.billing_period_start AND lp.billing_account_id = c.billing_account_id"
        )
    )
    source.expressions["payer"] = sql.SQL(
        "coalesce(nullif(lp.payer_of_record, ''), c.billing_account_id)"
    )


def _add_organization(source: Source, params: Params) -> None:
    """The organization of the cost's account, else of the payer whose bill it came from."""
    accounts, payers = organization_names()
    for alias, column, names in (
        ("oo", source.expressions["account"], accounts),
        ("po", source.expressions["bill_payer"], payers),
    ):
        source.joins.append(
            sql.SQL(
                "LEFT JOIN unnest({}::text[], {}::text[]) AS {alias}(id, name) "
                "ON {alias}.id = {column}"
            ).format(
                params(list(names)),
                params(list(names.values())),
                alias=sql.Identifier(alias),
                column=column,
            )
        )
    source.expressions["organization"] = sql.SQL("coalesce(oo.name, po.name)")


def organization_names() -> tuple[dict[str, str], dict[str, str]]:
    """Account id -> its organization's name; payer id -> the organization it manages."""
    members = Account.objects.filter(organization__isnull=False).values_list(
        "account_id", "organization__name"
    )
    payers = Account.objects.filter(managed_organization__isnull=False).values_list(
        "account_id", "managed_organization__name"
    )
    return dict(members), dict(payers)


def months_touched(start: date, end: date) -> list[date]:
    months, month = [], start.replace(day=1)
    while month < end:
        months.append(month)
        month = add_months(month, 1)
    return months
