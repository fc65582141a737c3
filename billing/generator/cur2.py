"""CUR 2.0 (AWS Data Exports): the fixed snake case schema, with `product`, `resource_tags`,
`cost_category` and `discount` as map columns (JSON objects in CSV).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa

from billing.generator import catalog as cat
from billing.generator.columns import line_item_columns
from billing.generator.context import build_context
from billing.generator.sink import Column, Flavor, GeneratedBill, check_format, expected, write_bill
from billing.generator.values import Frame
from billing.ingest.contract import BillFormat

# Legacy columns CUR 2.0 has under another name, or only inside the `product` map.
RENAMED = {"product/region": "product_region_code"}
IN_PRODUCT_MAP = {"product/ProductName"}


def _maps(f: Frame, as_map: bool, which: str) -> pa.Array:
    r = f.ctx.resources
    if which == "resource_tags":
        return f.resource(r.tags_map if as_map else r.tags_json)
    if which == "product":
        return f.product_maps(as_map)
    if which == "cost_category":
        return f.cost_category(as_map)
    if as_map:  # discount: no row of ours has one
        empty = pa.array([], pa.string())
        return pa.MapArray.from_arrays(pa.array(np.zeros(f.n + 1, dtype=np.int32)), empty, empty)
    return f.const("{}")


def _map_column(name: str) -> Column:
    return Column(name, "map", lambda f, as_map: _maps(f, as_map, name))


def cur2_columns() -> list[Column]:
    """In alphabetical order, as Data Exports writes them."""
    columns = [
        Column(RENAMED.get(c.name, cat.snake_case(c.name)), c.kind, c.get)
        for c in line_item_columns()
        if c.name not in IN_PRODUCT_MAP
    ]
    columns += [
        Column("bill_payer_account_name", "text", lambda f: f.const(cat.PAYER_NAME)),
        Column("line_item_usage_account_name", "text", lambda f: f.account(names=True)),
    ]
    columns += [_map_column(n) for n in ("product", "resource_tags", "cost_category", "discount")]
    return sorted(columns, key=lambda c: c.name)


def write_cur2(
    path: Path | str,
    *,
    rows: int,
    period: date,
    payer_id: str,
    seed: int = 0,
    until: date | None = None,
    accounts: Sequence[tuple[str, str]] | None = None,
    fmt: str = "csv.gz",
) -> GeneratedBill:
    """One month of a CUR 2.0 export: CSV money as plain decimal text; Parquet money as
    float64 (exact through repr) and timestamps as timestamp[ms, UTC]. With `until`, the
    bill as delivered mid-month: usage before that day only, the monthly rows in full.
    `accounts`: see context.build_context."""
    check_format(fmt, ("csv", "csv.gz", "parquet"))
    ctx = build_context(
        period=period, payer_id=payer_id, seed=seed, rows=rows, until=until, accounts=accounts
    )
    parquet = fmt == "parquet"
    columns = cur2_columns()
    flavor = Flavor(fmt, "double" if parquet else "text", tz="UTC")
    path = Path(path)
    sums = write_bill(
        [path],
        ctx=ctx,
        rows=rows,
        columns=columns,
        flavor=flavor,
        negations=True,
        billed=lambda chunk: chunk.unblended,
    )
    return GeneratedBill(
        paths=(path,),
        bill_format=BillFormat.CUR_2,
        file_format=fmt,
        rows=rows,
        expected=expected(ctx, sums),
        columns=tuple(c.name for c in columns),
    )
