"""The resources behind a team's recommendations, from the weekly resource costs.

The allocated cost keeps no resource ids; `billing.models.ResourceWeekCost` does, per week
and combination of the columns rules read. The team's resources are those whose
combination the same rules (of the run that allocated the month) give the team's value:
the run's compiled rules are evaluated on that table, as the run evaluated them on the
rollup. Cost a split moved to the team has no resource of the team's.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.db import connection
from psycopg import sql

from allocation.engine.compiler import RuleCompiler
from allocation.engine.run import PROVIDER
from allocation.models import AllocationRun
from billing.models import ResourceWeekCost

# (account, service, usage type, operation, commitment) as the allocated cost has them.
RowKey = tuple[str, str, str, str, str]

RESOURCES_SQL = """
SELECT {value_case} AS value, COALESCE(li.sub_account_id, ''), COALESCE(li.service_name, ''),
       COALESCE(li.x_usage_type, ''), COALESCE(li.x_operation, ''),
       COALESCE(li.commitment_discount_type, ''), li.resource_id, sum(li.effective_cost)
FROM {table} AS li
LEFT JOIN billing_tagset AS ts ON ts.id = li.tag_set_id
LEFT JOIN billing_account AS acc
       ON acc.provider = %(provider)s AND acc.account_id = li.sub_account_id
WHERE li.billing_period_start = %(period)s AND li.week = %(week)s
  AND li.x_usage_type = ANY(%(usage_types)s) AND {value_case} = ANY(%(values)s)
GROUP BY 1, 2, 3, 4, 5, 6, 7
"""


def team_resources(
    run_ids: list[int], values: list[str], week: date, usage_types: set[str]
) -> dict[str, dict[RowKey, list[tuple[str, Decimal]]]]:
    """Per value and allocated row key, the value's resources in the week, largest cost
    first."""
    found: dict[tuple[str, RowKey], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    if not usage_types or not values:
        return {}
    runs = AllocationRun.objects.filter(pk__in=run_ids).select_related("category", "ruleset")
    for run in runs:
        compiler = RuleCompiler(run.period)
        query = sql.SQL(RESOURCES_SQL).format(
            table=sql.Identifier(ResourceWeekCost._meta.db_table),
            value_case=compiler.value_case(run.category, run.ruleset),
        )
        params = {
            **compiler.params,
            "provider": PROVIDER,
            "period": run.period,
            "week": week,
            "usage_types": sorted(usage_types),
            "values": values,
        }
        with connection.cursor() as cursor:
            cursor.execute(query, params)
            for value, *key, resource_id, cost in cursor.fetchall():
                found[(value, tuple(key))][resource_id] += cost
    by_value: dict[str, dict[RowKey, list[tuple[str, Decimal]]]] = defaultdict(dict)
    for (value, key), costs in found.items():
        by_value[value][key] = sorted(costs.items(), key=lambda item: (-item[1], item[0]))
    return by_value
