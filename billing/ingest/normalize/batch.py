"""Assemble a `NormalizedBatch`: the stored rows and the exact sums of the batch."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pyarrow as pa

from billing.ingest.contract import (
    STORE_COLUMN_NAMES,
    STORE_SCHEMA,
    NormalizedBatch,
    PeriodKey,
    Sums,
)
from billing.ingest.normalize.common import EXACT, IssueLog, as_array, valid_mask
from billing.ingest.normalize.decimals import Decimals

Columns = dict[str, pa.Array | None]


@dataclass
class SumInputs:
    period_start: pa.Array  # YYYY-MM-DD, null when unreadable
    payer: pa.Array
    billed: Decimals  # counts as 0 where unknown
    effective: Decimals  # counts as 0 where unknown


def finish(columns: Columns, log: IssueLog, sums: SumInputs, rows_read: int) -> NormalizedBatch:
    n = log.n
    arrays = []
    for name in STORE_COLUMN_NAMES:
        array = columns.get(name)
        if array is None:
            array = pa.nulls(n, pa.string())
        array = as_array(array)
        if array.type != pa.string():
            array = array.cast(pa.string())
        arrays.append(array)
    table = pa.Table.from_arrays(arrays, schema=STORE_SCHEMA)
    rejected = log.rejected
    if rejected.any():
        table = table.filter(pa.array(~rejected))
    # A row whose BilledCost cannot be read still counts, as a row worth nothing.
    readable = valid_mask(sums.period_start) & valid_mask(sums.payer)
    return NormalizedBatch(
        table=table,
        rows_read=rows_read,
        issues=log.issues(),
        issue_counts=log.counts,
        source_sums=_sums(readable, sums),
        rejected_sums=_sums(readable & rejected, sums),
    )


def _sums(mask: np.ndarray, inputs: SumInputs) -> dict[PeriodKey, Sums]:
    if not mask.any():
        return {}
    billed, billed_extra = inputs.billed.exact_values()
    effective, effective_extra = inputs.effective.exact_values()
    table = pa.table(
        {
            "period": inputs.period_start,
            "payer": inputs.payer,
            "billed": billed,
            "effective": effective,
        }
    )
    if not mask.all():
        table = table.filter(pa.array(mask))
    grouped = table.group_by(["period", "payer"]).aggregate(
        [("billed", "sum"), ("effective", "sum"), ("payer", "count")]
    )
    result: dict[PeriodKey, Sums] = {}
    for row in grouped.to_pylist():
        result[(row["period"], row["payer"])] = Sums(
            rows=row["payer_count"],
            billed_cost=row["billed_sum"] or Decimal(0),
            effective_cost=row["effective_sum"] or Decimal(0),
        )
    for extra, attribute in ((billed_extra, "billed_cost"), (effective_extra, "effective_cost")):
        for i, value in extra.items():
            if mask[i]:
                key = (inputs.period_start[i].as_py(), inputs.payer[i].as_py())
                setattr(result[key], attribute, EXACT.add(getattr(result[key], attribute), value))
    for sums in result.values():
        sums.billed_cost = tidy(sums.billed_cost)
        sums.effective_cost = tidy(sums.effective_cost)
    return result


def tidy(value: Decimal) -> Decimal:
    """Without trailing zeros and without exponent: 1.500000000000000000 -> 1.5."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1), context=EXACT)
    return value.normalize(EXACT)
