"""Numbers a row can do without: unreadable ones are read as null and reported, never a
reason to reject the row. Only BilledCost, the dates and the billing account are."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from billing.ingest.normalize.common import IssueLog, valid_mask
from billing.ingest.normalize.decimals import Decimals, parse_decimals

READ_AS_NULL = "read as null, the row is kept"


def parse_secondary(values: pa.Array, column: str, log: IssueLog) -> Decimals:
    """Like `parse_decimals`, but a value that is not a number is read as null (reported)."""
    scratch = IssueLog(log.file, log.first_line, log.n)
    parsed = parse_decimals(values, column, scratch)
    if scratch.counts:
        log.take_kept(scratch, READ_AS_NULL)
    return Decimals(parsed.text, parsed.floats, np.zeros(len(values), dtype=bool))


def fill_missing(
    numbers: Decimals,
    fallback: Decimals,
    where: np.ndarray,
    column: str,
    log: IssueLog,
    message: str,
) -> Decimals:
    """`numbers` with `fallback`'s value in the rows of `where` that have none, reported
    with `message`."""
    missing = where & ~valid_mask(numbers.text) & valid_mask(fallback.text)
    if not missing.any():
        return numbers
    log.interpret(column, missing, numbers.text, message)
    use = pa.array(missing)
    return Decimals(
        pc.if_else(use, fallback.text, numbers.text),
        pc.if_else(use, fallback.floats, numbers.floats),
        numbers.invalid & ~missing,
    )
