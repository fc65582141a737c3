"""A load's cost rollup (see `billing.models.CostRollup`), staged beside its line items.

The rollup of a period and payer goes into a staging table of the rollup's shape, made in
the staging transaction: copied from the groups the reader thread summed
(`billing.ingest.summaries`), or grouped from the staged line items in SQL when those
sums could not be exact. `billing.ingest.publish` attaches it with the line items.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pcsv
from psycopg import sql

from billing.ingest.summaries import ROLLUP_COLUMNS

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
GROUP_SQL = (SQL_DIR / "group_line_items.sql").read_text()
LINE_ITEMS_PREFIX = "billing_cost_line_item"
ROLLUP_PREFIX = "billing_cost_rollup"


def rollup_table_name(line_item_table: str) -> str:
    """The rollup table that goes with a line item table (staged or attached)."""
    if line_item_table.startswith(LINE_ITEMS_PREFIX):
        return ROLLUP_PREFIX + line_item_table.removeprefix(LINE_ITEMS_PREFIX)
    return f"{line_item_table}_rollup"


def stage_rollup(
    cursor: Any, *, period: str, payer: str, line_items: str, rows: pa.Table | None
) -> str:
    """Create and fill the rollup table of staged `line_items`; its name.

    `rows` are its rows (ROLLUP_COLUMNS as text) if the reader grouped them exactly;
    None groups `line_items` in SQL instead.
    """
    name = rollup_table_name(line_items)
    table = sql.Identifier(name)
    # The CHECK lets ATTACH PARTITION skip scanning the table later.
    cursor.execute(
        sql.SQL(
            "CREATE TABLE {table} (LIKE billing_cost_rollup INCLUDING DEFAULTS, "
            "CHECK (billing_period_start = {period} AND billing_account_id = {payer})); "
            "ALTER TABLE {table} ALTER billing_period_start SET DEFAULT {period}, "
            "ALTER billing_account_id SET DEFAULT {payer}"
        ).format(table=table, period=sql.Literal(period), payer=sql.Literal(payer))
    )
    columns = sql.SQL(", ").join(map(sql.Identifier, ROLLUP_COLUMNS))
    if rows is None:
        cursor.execute(
            sql.SQL(GROUP_SQL).format(
                rollup=table, columns=columns, line_items=sql.Identifier(line_items)
            )
        )
    else:
        buffer = io.BytesIO()
        pcsv.write_csv(rows, buffer, pcsv.WriteOptions(include_header=False))
        statement = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv)").format(table, columns)
        with cursor.copy(statement) as copy:
            copy.write(buffer.getbuffer())
    return name
