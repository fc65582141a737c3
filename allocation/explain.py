"""Reading an allocation run: totals per value, and how each value's total is made.

Every amount here is a sum of the run's stored result rows, whose lineage (`rule`,
`split_rule`, `split_from`) says which rule gave a cost and which split moved it, so the
parts of a value always add up exactly to its total:

    total = what its rules gave it - what splits moved out + what splits moved in

A single line item is explained by running the compiled rules (the same `CASE` the run
used) on that one row, read from the line items themselves (the run read their rollup,
whose columns are the line item's).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet, Sum
from psycopg import sql

from allocation.engine.compiler import RuleCompiler
from allocation.engine.run import PROVIDER
from allocation.engine.split_results import COST_COLUMNS
from allocation.models import AllocationResult, AllocationRun, Rule, RuleKind, SplitRule
from portal.core.errors import ApplicationError

Amounts = dict[str, Decimal]

# One line item of the run's period through the compiled rules. The period narrows the
# read to its partition of billing_cost_line_item; the id then picks the row.
LINE_ITEM_SQL = """
SELECT li.id, {value_case} AS value, {rule_case} AS rule_id,
       (li.charge_period_start AT TIME ZONE 'UTC')::date AS day,
       COALESCE(li.sub_account_id, '') AS sub_account_id,
       COALESCE(li.service_name, '') AS service_name,
       COALESCE(li.x_usage_type, '') AS usage_type,
       COALESCE(li.pricing_unit, '') AS pricing_unit,
       li.billed_cost, li.effective_cost, li.list_cost
FROM billing_cost_line_item AS li
LEFT JOIN billing_tagset AS ts ON ts.id = li.tag_set_id
LEFT JOIN billing_account AS acc
       ON acc.provider = %(provider)s AND acc.account_id = li.sub_account_id
WHERE li.billing_period_start = %(period)s AND li.id = %(line_item)s
"""


def zero() -> Amounts:
    return dict.fromkeys(COST_COLUMNS, Decimal(0))


def _sums() -> dict[str, Any]:
    return {column: Sum(column) for column in COST_COLUMNS}


def _amounts(row: Mapping[str, Any]) -> Amounts:
    return {column: row[column] or Decimal(0) for column in COST_COLUMNS}


def run_totals(run: AllocationRun) -> list[dict[str, Any]]:
    """Per value (by name, the fallback value always among them): its cost totals."""
    rows = run.results.values("value").annotate(**_sums()).order_by("value")
    totals = {row["value"]: _amounts(row) for row in rows}
    totals.setdefault(run.category.fallback_value, zero())
    return [{"value": value, **totals[value]} for value in sorted(totals)]


def rule_data(rule: Rule | None) -> dict[str, Any] | None:
    """A rule as the explanations show it; None is the category's default."""
    if rule is None:
        return None
    return {
        "id": rule.pk,
        "position": rule.position,
        "kind": rule.kind,
        "value": rule.value,
        "inherit_from": rule.inherit_from,
        "label": rule_label(rule),
    }


def rule_label(rule: Rule) -> str:
    if rule.kind == RuleKind.INHERITED:
        return f"Rule {rule.position}: value from {rule.inherit_from}"
    return f"Rule {rule.position}: {rule.value}"


def split_data(split: SplitRule) -> dict[str, Any]:
    return {
        "id": split.pk,
        "position": split.position,
        "source": split.source,
        "method": split.method,
        "targets": split.targets,
    }


def explain_value(run: AllocationRun, value: str) -> dict[str, Any]:
    """How `value`'s total in `run` is made, by rule and by split, to the last digit."""
    value = explained_value(value)
    results = AllocationResult.objects.filter(run=run)
    total = _amounts(results.filter(value=value).aggregate(**_sums()))
    # What the rules gave the value: its rows no split moved, and its rows that a split
    # moved on to other values (they keep the rule that matched them).
    ruled = results.filter(Q(value=value, split_rule__isnull=True) | Q(split_from=value))
    by_rule = ruled.values("rule").annotate(**_sums()).order_by("rule")
    moved_out = (
        results.filter(split_from=value)
        .values("split_rule", "value")
        .annotate(**_sums())
        .order_by("split_rule", "value")
    )
    moved_in = (
        results.filter(value=value, split_rule__isnull=False)
        .values("split_rule", "split_from")
        .annotate(**_sums())
        .order_by("split_rule", "split_from")
    )
    rules = {rule.pk: rule for rule in Rule.objects.filter(ruleset=run.ruleset_id)}
    splits = {split.pk: split for split in SplitRule.objects.filter(ruleset=run.ruleset_id)}
    counts = _line_item_counts(results, value, splits.values())
    # By rule position; costs no rule matched (the default value) last.
    by_position = sorted(by_rule, key=lambda row: _position(rules.get(row["rule"])))
    rule_rows: list[dict[str, Any]] = [
        {
            "rule": rule_data(rules.get(row["rule"])),
            **_amounts(row),
            "rows": counts.get(row["rule"], 0),
        }
        for row in by_position
    ]
    return {
        "run": run.pk,
        "value": value,
        "total": total,
        "rules": rule_rows,
        "moved_out": [
            {"split": split_data(splits[row["split_rule"]]), "to": row["value"], **_amounts(row)}
            for row in moved_out
        ],
        "moved_in": [
            {
                "split": split_data(splits[row["split_rule"]]),
                "from": row["split_from"],
                **_amounts(row),
            }
            for row in moved_in
        ],
    }


def explained_value(value: str) -> str:
    """A value to explain as the store can compare it. Rows no split moved keep an empty
    `split_from`, so an empty value would read as every one of them."""
    if not value.strip():
        raise ApplicationError("Name the value to explain.", code="required", field="value")
    if "\x00" in value:
        raise ApplicationError(
            "A value cannot contain a NUL character.", code="invalid_value", field="value"
        )
    return value


def _position(rule: Rule | None) -> int:
    return rule.position if rule is not None else 1 << 31


def _line_item_counts(
    results: QuerySet[AllocationResult], value: str, splits: Iterable[SplitRule]
) -> dict[int | None, int]:
    """Per rule id, how many line items the rules gave `value`.

    A split copies a source row's count onto each of its targets' rows, so the moved
    rows' counts are divided by the number of targets of the split that moved them.
    """
    counts: dict[int | None, int] = {}
    kept = results.filter(value=value, split_rule__isnull=True)
    for row in kept.values("rule").annotate(rows=Sum("row_count")).order_by():
        counts[row["rule"]] = row["rows"]
    width = {split.pk: len(split.targets) for split in splits}
    moved = results.filter(split_from=value).values("rule", "split_rule")
    for row in moved.annotate(rows=Sum("row_count")).order_by():
        share = row["rows"] // width[row["split_rule"]]
        counts[row["rule"]] = counts.get(row["rule"], 0) + share
    return counts


def parts_sum(explanation: dict[str, Any]) -> Amounts:
    """The explanation's parts added up: equal to its `total` in every column."""
    sums = zero()
    for column in COST_COLUMNS:
        sums[column] += sum((row[column] for row in explanation["rules"]), Decimal(0))
        sums[column] -= sum((row[column] for row in explanation["moved_out"]), Decimal(0))
        sums[column] += sum((row[column] for row in explanation["moved_in"]), Decimal(0))
    return sums


def explain_line_item(run: AllocationRun, line_item_id: int) -> dict[str, Any]:
    """Which rule of the run's version gave line item `line_item_id` its value, and which
    split then moved the cost of its value (with the parts of its result row)."""
    ruleset = run.ruleset
    compiler = RuleCompiler(run.period)
    query = sql.SQL(LINE_ITEM_SQL).format(
        value_case=compiler.value_case(run.category, ruleset),
        rule_case=compiler.rule_case(ruleset),
    )
    params = {
        **compiler.params,
        "period": run.period,
        "line_item": line_item_id,
        "provider": PROVIDER,
    }
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        found = cursor.fetchone()
        names = [column.name for column in cursor.description or ()]
    if found is None:
        raise ApplicationError(
            f"No line item {line_item_id} is in the billing period {run.period:%Y-%m}.",
            code="unknown_line_item",
            field="line_item",
        )
    row = dict(zip(names, found, strict=True))
    rule = Rule.objects.filter(pk=row["rule_id"]).first() if row["rule_id"] else None
    split = SplitRule.objects.filter(ruleset=run.ruleset_id, source=row["value"]).first()
    answer: dict[str, Any] = {
        "run": run.pk,
        "line_item": line_item_id,
        "value": row["value"],
        "rule": rule_data(rule),
        "amounts": {column: row[column] for column in COST_COLUMNS},
        "day": row["day"],
        "sub_account_id": row["sub_account_id"],
        "service_name": row["service_name"],
        "usage_type": row["usage_type"],
        "pricing_unit": row["pricing_unit"],
        "split": split_data(split) if split else None,
        "moved_to": [],
    }
    if split is not None:
        # Splits share result rows (value, day, account, service, usage type, pricing
        # unit, rule), not line items: these are the parts of the row this line item is
        # summed into.
        group = AllocationResult.objects.filter(
            run=run,
            split_rule=split,
            day=row["day"],
            sub_account_id=row["sub_account_id"],
            service_name=row["service_name"],
            usage_type=row["usage_type"],
            pricing_unit=row["pricing_unit"],
            rule_id=row["rule_id"],
        )
        answer["moved_to"] = [
            {"value": part["value"], **_amounts(part)}
            for part in group.values("value").annotate(**_sums()).order_by("value")
        ]
    return answer
