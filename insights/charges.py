"""A pricing plan's fees and credits in resale answers: their own rows, once a month.

As on the invoice, a flat charge counts in full in each month it is in force, a percent
one is that share of the customer's priced cost of the month (here: of the part of the
month the query covers). They join an answer only when nothing but the end customer is
filtered: a fee belongs to no service, account or tag.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection
from psycopg import sql

from insights.query import NO_VALUE, CostQuery
from insights.rows import Part, RowSpec, row_stream
from insights.scope import Scope
from insights.sources import PRICED_METRICS, Params, months_touched
from invoices.models import PlanCharge
from invoices.models.plans import ChargeBasis, ChargeKind
from invoices.money import HUNDRED

CHARGE_LABELS = {ChargeKind.FEE: "Fee", ChargeKind.CREDIT: "Credit"}


def applies(query: CostQuery, scope: Scope) -> bool:
    if query.metric not in PRICED_METRICS:
        return False
    dimensions = {d for d, _ in (*query.filters, *query.excludes)}
    dimensions |= {d for d, _ in scope.locked}
    return dimensions <= {"end_customer"} and not scope.teams_only


def charge_rows(
    query: CostQuery,
    scope: Scope,
    parts: list[Part],
    params: Params,
    previous_start: date,
) -> list[tuple[Any, ...]]:
    """Rows shaped like the explorer statement's: (others, keys..., bucket, previous, amount)."""
    plans = _customer_plans(scope, query)
    if not plans:
        return []
    charges = list(PlanCharge.objects.filter(plan_id__in=set(plans.values())))
    if not charges:
        return []
    subtotals = _monthly_subtotals(parts, params)
    width = max(len(query.group_by), 1)
    rows: list[tuple[Any, ...]] = []
    for customer, plan_id in sorted(plans.items()):
        for month in months_touched(previous_start, query.end):
            for charge in charges:
                if charge.plan_id != plan_id or not charge.applies_to(month):
                    continue
                amount = _amount(charge, subtotals.get((customer, month), Decimal(0)))
                if not amount:
                    continue
                # Dated on the month's 1st: in the period holding that day.
                if not previous_start <= month < query.end:
                    continue
                previous = month < query.start
                label = f"{CHARGE_LABELS[ChargeKind(charge.kind)]}: {charge.description}"
                keys = _keys(query, label, customer, width)
                bucket = None if previous else month
                rows.append((False, *keys, bucket, previous, amount))
    return rows


def _customer_plans(scope: Scope, query: CostQuery) -> dict[str, int]:
    owners = [*scope.account_owners.values(), *scope.payer_owners.values()]
    plans = {o.customer: o.plan_id for o in owners if o.plan_id is not None}
    wanted: set[str] | None = None
    for dimension, values in (*scope.locked, *query.filters):
        if dimension == "end_customer":
            wanted = set(values) if wanted is None else wanted & set(values)
    for dimension, values in query.excludes:
        if dimension == "end_customer":
            plans = {c: p for c, p in plans.items() if c not in values}
    return {c: p for c, p in plans.items() if wanted is None or c in wanted}


def _monthly_subtotals(parts: list[Part], params: Params) -> dict[tuple[str, date], Decimal]:
    """Each customer's resale per month of the query's window (both periods)."""
    streams = [
        row_stream(
            source,
            "resale",
            RowSpec(
                keys=[source.expressions["end_customer"]],
                bucket=sql.SQL("date_trunc('month', c.day)::date"),
                start=sql.Literal(date.min),  # every row with its month, none "previous"
                where=where,
            ),
        )
        for source, where in parts
    ]
    statement = sql.SQL("SELECT s.k0, s.bucket, sum(s.amount) FROM ({}) AS s GROUP BY 1, 2").format(
        sql.SQL(" UNION ALL ").join(streams)
    )
    totals: dict[tuple[str, date], Decimal] = defaultdict(Decimal)
    with connection.cursor() as cursor:
        cursor.execute(statement, params.values)
        for customer, month, amount in cursor.fetchall():
            if customer is not None:
                totals[(customer, month)] += amount
    return totals


def _amount(charge: PlanCharge, subtotal: Decimal) -> Decimal:
    if charge.basis == ChargeBasis.PERCENT:
        amount = subtotal * charge.amount / HUNDRED
    else:
        amount = charge.amount
    return -amount if charge.kind == ChargeKind.CREDIT else amount


def _keys(query: CostQuery, label: str, customer: str, width: int) -> tuple[str, ...]:
    """The charge's label in the first group-by, its customer where one is asked for."""
    keys = [NO_VALUE] * width
    keys[0] = label
    for index, dimension in enumerate(query.group_by):
        if dimension == "end_customer":
            keys[index] = customer
            if index == 0:
                keys[0] = customer
                if width > 1:
                    keys[1] = label
    return tuple(keys)
