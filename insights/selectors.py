"""The cost explorer: one selector that pages, the API and exports all ask.

`cost_explorer` answers a `CostQuery` for a user (and optionally a billing view) with a
constant number of SQL queries: the scope (a few small reads), the loaded months and
latest allocation runs, then one statement that sums the chosen summary per group and
date, ranks the groups and folds all but the top N into `Others`, so the groups always
add up to the total exactly.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from psycopg import sql

from allocation.models import AllocationRun, CostCategory, RunStatus
from billing.models import BillingView, LoadedPeriod
from billing.models.cubes import DAILY_GRAINS
from insights import charges
from insights.query import (
    METRIC_LABELS,
    NO_VALUE,
    OTHERS,
    CostAnswer,
    CostGroup,
    CostQuery,
    Point,
    dimension_label,
)
from insights.rows import Part, RowSpec, row_stream
from insights.scope import ANY_VALUE, Scope, resolve_scope
from insights.sources import Params, Source, months_touched, source_for
from portal.core.errors import ApplicationError
from portal.users.roles import Role

EXPLORE_SQL = (Path(__file__).resolve().parent / "sql" / "explore.sql").read_text()
DEFAULT_CURRENCY = "USD"
MAX_VALUES = 500


def cost_explorer(*, user: Any, query: CostQuery, view: BillingView | None = None) -> CostAnswer:
    scope = resolve_scope(user, view)
    _check_metric(scope, query.metric)
    _check_dimensions(scope, query)
    previous_start, _ = query.previous
    currency, tag_keys = _loaded(previous_start, query.end, _payers(query, scope))
    params = Params()
    parts = _parts(query, scope, params, tag_keys, previous_start)
    names = [sql.Identifier(f"k{i}") for i in range(max(len(query.group_by), 1))]
    limit = params(query.limit)
    rows_sql = sql.SQL(" UNION ALL ").join(
        row_stream(source, query.metric, _spec(query, source, where, params))
        for source, where in parts
    )
    statement = sql.SQL(EXPLORE_SQL).format(
        rows=rows_sql,
        names=sql.SQL(", ").join(names),
        ranked_keys=sql.SQL(", ").join(
            sql.SQL("CASE WHEN r.rank <= {limit} THEN b.{n} END").format(limit=limit, n=n)
            for n in names
        ),
        limit=limit,
        positions=sql.SQL(", ").join(sql.Literal(i) for i in range(1, len(names) + 4)),
    )
    with transaction.atomic(), connection.cursor() as cursor:
        # Row estimates after the owner and price joins are far too low, so the planner
        # would sort tens of thousands of rows on text keys where hashing them is faster.
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(statement, params.values)
        rows = cursor.fetchall()
        if charges.applies(query, scope):
            rows += charges.charge_rows(query, scope, parts, params, previous_start)
    return _answer(query, scope, currency, rows)


def _source(
    query: CostQuery, scope: Scope, params: Params, tag_keys: set[str], previous_start: date
) -> Source:
    dimensions = query.dimensions_used() | {name for name, _ in scope.locked}
    runs: list[int] = []
    if scope.teams_only or any(d == "team" or d.startswith("category:") for d in dimensions):
        runs = _latest_runs(dimensions, scope, previous_start, query.end)
    return source_for(
        query, scope, params, dimensions=dimensions, tag_keys_everywhere=tag_keys, runs=runs
    )


def _parts(
    query: CostQuery, scope: Scope, params: Params, tag_keys: set[str], previous_start: date
) -> list[Part]:
    """The sources and conditions of the query's rows: one for both periods, or, for whole
    months by day, the current one by day and the previous one (only its total is shown)
    from the monthly grain, a few rows per month."""
    source = _source(query, scope, params, tag_keys, previous_start)
    _, previous_end = query.previous
    current, previous = (query.start, query.end), (previous_start, previous_end)
    whole_months = query.start.day == 1 and query.end.day == 1
    if source.name not in DAILY_GRAINS or not whole_months or previous_start >= query.start:
        return [(source, _where(query, scope, source, params, [previous, current]))]
    monthly = _source(
        replace(query, granularity="monthly"), scope, params, tag_keys, previous_start
    )
    return [
        (source, _where(query, scope, source, params, [current])),
        (monthly, _where(query, scope, monthly, params, [previous])),
    ]


def _spec(query: CostQuery, source: Source, where: sql.Composable, params: Params) -> RowSpec:
    keys: list[sql.Composable] = [
        sql.SQL("coalesce({}::text, {})").format(
            source.expression(name, "group_by"), sql.Literal(NO_VALUE)
        )
        for name in query.group_by
    ] or [sql.SQL("''::text")]
    bucket = "date_trunc('month', c.day)::date" if query.granularity == "monthly" else "c.day"
    return RowSpec(keys=keys, bucket=sql.SQL(bucket), start=params(query.start), where=where)


def _where(
    query: CostQuery,
    scope: Scope,
    source: Source,
    params: Params,
    periods: list[tuple[date, date]],
) -> sql.Composable:
    days = sql.SQL(" OR ").join(
        sql.SQL("c.day >= {} AND c.day < {}").format(params(start), params(end))
        for start, end in periods
        if start < end
    )
    # The previous period ends where it ends: month to date compares the same days.
    conditions = [*source.conditions, days]
    for dimension, values in (*scope.locked, *query.filters):
        conditions.append(_matches(source, scope, params, dimension, values, where="filter"))
    for dimension, values in query.excludes:
        match = _matches(source, scope, params, dimension, values, where="exclude")
        conditions.append(sql.SQL("NOT coalesce({}, false)").format(match))
    return sql.SQL(" AND ").join(sql.SQL("({})").format(c) for c in conditions)


def _matches(
    source: Source,
    scope: Scope,
    params: Params,
    dimension: str,
    values: tuple[str, ...],
    *,
    where: str,
) -> sql.Composable:
    if source.allocated and dimension == "team":
        # By the bound values, which the (run, value) index finds.
        bound = [value for value, team in scope.team_values.items() if team in values]
        return sql.SQL("c.value = ANY({})").format(params(bound))
    expression = source.expression(dimension, where)
    if dimension == "end_customer" and where == "filter" and NO_VALUE not in values:
        # Also by the customers' own accounts and payers, which indexes find.
        return sql.SQL("({} AND {})").format(
            _owned(source, scope, params, values), _any(expression, params, values)
        )
    if ANY_VALUE in values:
        return sql.SQL("{} IS NOT NULL").format(expression)
    match = sql.SQL("{} = ANY({})").format(expression, params(list(values)))
    if NO_VALUE in values:
        return sql.SQL("({} OR {} IS NULL)").format(match, expression)
    return match


def _owned(
    source: Source, scope: Scope, params: Params, customers: tuple[str, ...]
) -> sql.Composable:
    accounts = [a for a, owner in scope.account_owners.items() if owner.customer in customers]
    payers = [p for p, owner in scope.payer_owners.items() if owner.customer in customers]
    match = sql.SQL("{} = ANY({})").format(source.expressions["account"], params(accounts))
    if payers and "bill_payer" in source.expressions:
        match = sql.SQL("({} OR {} = ANY({}))").format(
            match, source.expressions["bill_payer"], params(payers)
        )
    return match


def _any(expression: sql.Composable, params: Params, values: tuple[str, ...]) -> sql.Composable:
    return sql.SQL("{} = ANY({})").format(expression, params(list(values)))


def _latest_runs(dimensions: set[str], scope: Scope, start: date, end: date) -> list[int]:
    names = {d[9:] for d in dimensions if d.startswith("category:")}
    category = names.pop() if names else (scope.team_category.name if scope.team_category else None)
    runs = AllocationRun.objects.filter(
        category__name=category,
        status=RunStatus.SUCCEEDED,
        period__in=months_touched(start, end),
    )
    latest: dict[date, int] = {}
    for period, pk in runs.order_by("period", "pk").values_list("period", "pk"):
        latest[period] = pk
    return list(latest.values())


def _loaded(
    start: date, end: date, payers: dict[str, tuple[str, ...]] | None = None
) -> tuple[str, set[str]]:
    """The currency of the bills (of `payers`, if named) over the months of [start, end),
    and the tag keys every one of them has daily tag costs for."""
    currencies: set[str] = set()
    keys: set[str] | None = None
    loaded = LoadedPeriod.objects.filter(billing_period_start__in=months_touched(start, end))
    for column, values in (payers or {}).items():
        loaded = loaded.filter(**{f"{column}__in": values})
    for found, tag_keys in loaded.values_list("currencies", "tag_keys"):
        currencies.update(found)
        keys = set(tag_keys) if keys is None else keys & set(tag_keys)
    if len(currencies) > 1:
        raise ApplicationError(
            f"The bills of this period are in several currencies ({', '.join(sorted(currencies))})"
            "; filter by payer to see one currency at a time.",
            code="mixed_currencies",
            field="filter",
        )
    return (currencies.pop() if currencies else DEFAULT_CURRENCY), keys or set()


def _payers(query: CostQuery, scope: Scope) -> dict[str, tuple[str, ...]]:
    """The payers (of record, and whose bills) a query is limited to by its filters or
    its scope, by the LoadedPeriod column that names them."""
    limited: dict[str, tuple[str, ...]] = {}
    for dimension, column in (("payer", "payer_of_record"), ("bill_payer", "billing_account_id")):
        named = [set(v) for d, v in (*scope.locked, *query.filters) if d == dimension]
        if named:
            limited[column] = tuple(set.intersection(*named))
    return limited


def _answer(
    query: CostQuery, scope: Scope, currency: str, rows: list[tuple[Any, ...]]
) -> CostAnswer:
    width = len(query.group_by)
    totals: dict[tuple[str, ...], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    series: dict[tuple[str, ...], dict[date, Decimal]] = defaultdict(dict)
    for row in rows:
        others, keys, bucket, previous, amount = row[0], row[1 : 1 + max(width, 1)], *row[-3:]
        key = (OTHERS,) * width if others else tuple(keys[:width])
        totals[key][1 if previous else 0] += amount
        if not previous:
            series[key][bucket] = series[key].get(bucket, Decimal(0)) + amount
    dates = query.dates()
    groups = [
        CostGroup(
            keys=key,
            total=current,
            previous_total=previous,
            series=[Point(date=day, amount=series[key].get(day, Decimal(0))) for day in dates],
        )
        for key, (current, previous) in totals.items()
    ]
    groups.sort(key=lambda g: (g.is_others, -g.total, -g.previous_total, g.keys))
    return CostAnswer(
        query=query,
        currency=currency,
        total=sum((g.total for g in groups), Decimal(0)),
        previous_total=sum((g.previous_total for g in groups), Decimal(0)),
        groups=groups,
        locked_filters=tuple((d, v) for d, v in scope.locked if ANY_VALUE not in v),
    )


def _check_metric(scope: Scope, metric: str) -> None:
    if metric not in scope.metrics:
        allowed = ", ".join(scope.metrics)
        raise ApplicationError(
            f"metric {metric} is not yours to see; use {allowed}.", code="invalid", field="metric"
        )


def _check_dimensions(scope: Scope, query: CostQuery) -> None:
    allowed = set(scope.dimensions())
    for where, names in (
        ("group_by", query.group_by),
        ("filter", [d for d, _ in query.filters]),
        ("exclude", [d for d, _ in query.excludes]),
    ):
        for name in names:
            if name not in allowed:
                raise ApplicationError(
                    f"{where}: {name} is not a dimension you can use; use one of "
                    f"{', '.join(sorted(allowed))}.",
                    code="invalid",
                    field=where,
                )


def explorer_options(*, user: Any, view: BillingView | None = None) -> dict[str, Any]:
    """The metrics and dimensions `user` may pick, with their labels."""
    scope = resolve_scope(user, view)
    labels = dict(METRIC_LABELS)
    if scope.role == Role.END_CUSTOMER:
        labels["resale"] = "Cost"
    return {
        "metrics": [{"key": m, "label": labels[m]} for m in scope.metrics],
        "dimensions": [{"key": d, "label": dimension_label(d)} for d in scope.dimensions()],
        "locked_filters": [
            {"dimension": d, "values": list(v)} for d, v in scope.locked if ANY_VALUE not in v
        ],
    }


def dimension_values(
    *, user: Any, dimension: str, start: date, end: date, view: BillingView | None = None
) -> list[str]:
    """The values of `dimension` that cost of the period has, as `user` may see them."""
    scope = resolve_scope(user, view)
    query = CostQuery(start=start, end=end, metric=scope.metrics[0], group_by=(dimension,))
    _check_dimensions(scope, query)
    if dimension == "team":
        return sorted(team for team in scope.team_values.values() if _allowed_team(scope, team))
    if (
        dimension.startswith("category:")
        and not CostCategory.objects.filter(name=dimension[9:]).exists()
    ):
        return []
    _, tag_keys = _loaded(start, end)
    params = Params()
    source = _source(query, scope, params, tag_keys, start)
    expression = source.expression(dimension, "dimension")
    statement = sql.SQL(
        "SELECT DISTINCT {expr}::text FROM {table} AS c {joins} WHERE {where} "
        "AND {expr} IS NOT NULL ORDER BY 1 LIMIT {limit}"
    ).format(
        expr=expression,
        table=source.table,
        joins=sql.SQL(" ").join(source.joins),
        where=_where(query, scope, source, params, [(start, end)]),
        limit=sql.Literal(MAX_VALUES),
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, params.values)
        return [row[0] for row in cursor.fetchall()]


def _allowed_team(scope: Scope, team: str) -> bool:
    locked = dict(scope.locked).get("team")
    return locked is None or team in locked
