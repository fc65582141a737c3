"""The rows an explorer statement sums: its keys, date bucket, period and amount.

Plain metrics read one column of the source. Priced ones (resale, margin) first sum the
source per group, date, plan, service and usage type, then price those sums by the
plan's rules: a few thousand rows go through the price rule joins, not every cost.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

from insights.sources import PRICED_METRICS, Source

COST_COLUMNS = ("billed_cost", "effective_cost", "list_cost")
# The most specific price rule wins: usage type of the service, usage type of any
# service, service, everything (as `invoices.pricing.PlanRules`).
RULES = (
    ("r1", "usage_type", "r1.service_name = p.service AND r1.usage_type = p.usage_type"),
    ("r2", "usage_type", "r2.service_name = '' AND r2.usage_type = p.usage_type"),
    ("r3", "service", "r3.service_name = p.service"),
    ("r4", "global", "true"),
)


# A source and the conditions of the rows read from it.
Part = tuple[Source, sql.Composable]


@dataclass
class RowSpec:
    keys: list[sql.Composable]  # one expression per key column k0, k1, ...
    bucket: sql.Composable  # the date a current row counts on
    start: sql.Composable  # the current period's first day: rows before are previous
    where: sql.Composable


def row_stream(source: Source, metric: str, spec: RowSpec) -> sql.Composable:
    """SELECT k0.., bucket, previous, amount FROM the source, for `metric`."""
    keyed = [
        sql.SQL("{} AS {}").format(k, sql.Identifier(f"k{i}")) for i, k in enumerate(spec.keys)
    ]
    heads = sql.SQL(", ").join(
        [
            *keyed,
            sql.SQL("CASE WHEN c.day < {s} THEN NULL ELSE {b} END AS bucket").format(
                s=spec.start, b=spec.bucket
            ),
            sql.SQL("c.day < {} AS previous").format(spec.start),
        ]
    )
    source_sql = sql.SQL("FROM {table} AS c {joins} WHERE {where}").format(
        table=source.table, joins=sql.SQL(" ").join(source.joins), where=spec.where
    )
    if metric not in PRICED_METRICS:
        return sql.SQL("SELECT {}, c.{} AS amount {}").format(
            heads, sql.Identifier(metric), source_sql
        )
    names = [sql.Identifier(f"k{i}") for i in range(len(spec.keys))]
    expressions = source.expressions
    grouped = sql.SQL(
        "SELECT {heads}, {plan} AS plan_id, {basis} AS basis, {service} AS service, "
        "{usage} AS usage_type, {sums} {source} AND {plan} IS NOT NULL "
        "GROUP BY {positions}"
    ).format(
        heads=heads,
        plan=expressions["_plan"],
        basis=expressions["_basis"],
        service=expressions["service"],
        usage=expressions["usage_type"],
        sums=sql.SQL(", ").join(
            sql.SQL("sum(c.{0}) AS {0}").format(sql.Identifier(c)) for c in COST_COLUMNS
        ),
        source=source_sql,
        positions=sql.SQL(", ").join(sql.Literal(i) for i in range(1, len(names) + 7)),
    )
    joins = sql.SQL(" ").join(
        sql.SQL(
            "LEFT JOIN invoices_pricerule AS {a} ON {a}.plan_id = p.plan_id "
            "AND {a}.scope = {scope} AND {condition}"
        ).format(a=sql.Identifier(alias), scope=sql.Literal(scope), condition=sql.SQL(condition))
        for alias, scope, condition in RULES
    )
    basis = sql.SQL(
        "(CASE p.basis WHEN 'effective_cost' THEN p.effective_cost "
        "WHEN 'list_cost' THEN p.list_cost ELSE p.billed_cost END)"
    )
    resale = sql.SQL(
        "{} * (100 + coalesce(r1.percent, r2.percent, r3.percent, r4.percent, 0)) / 100"
    ).format(basis)
    amount = resale if metric == "resale" else sql.SQL("({} - {})").format(resale, basis)
    return sql.SQL(
        "SELECT {names}, p.bucket, p.previous, {amount} AS amount FROM ({grouped}) AS p {joins}"
    ).format(
        names=sql.SQL(", ").join(sql.SQL("p.{}").format(n) for n in names),
        amount=amount,
        grouped=grouped,
        joins=joins,
    )
