"""The largest line items a run's rules gave a value: where to start explaining one.

Explaining a single line item takes its id; this lists the ids worth looking at, with
what a person recognizes them by (day, account, service, usage type, resource).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.db import connection
from psycopg import sql

from allocation.engine.compiler import RuleCompiler
from allocation.engine.run import PROVIDER
from allocation.models import AllocationRun

SQL = (Path(__file__).resolve().parent / "sql" / "value_line_items.sql").read_text()
SHOWN = 25


def largest_line_items(run: AllocationRun, value: str, limit: int = SHOWN) -> list[dict[str, Any]]:
    """Up to `limit` line items of the run's period that its rules gave `value`, largest
    billed cost first (a split may have moved their cost on; the rules gave it here)."""
    compiler = RuleCompiler(run.period)
    query = sql.SQL(SQL).format(value_case=compiler.value_case(run.category, run.ruleset))
    params = {
        **compiler.params,
        "period": run.period,
        "provider": PROVIDER,
        "value": value,
        "limit": limit,
    }
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        names = [column.name for column in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
