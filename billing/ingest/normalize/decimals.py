"""Decimal text: validated, kept as written, and summed exactly.

A value that is not a number rejects its row. Text without exponent is stored as written
(PostgreSQL reads it exactly); `1.2E-7` becomes `0.00000012` through Python's Decimal, on
those rows only. Exact values for sums come from a decimal128(38, 18) cast of the text,
or from Python's Decimal for the rare values with more digits than that; never from a
float. Validation uses a float64 cast because it is four times faster than the decimal one;
its result only says "this is a number".

Every value must be in range, checked exactly in Python on the few candidates the float cast
points at: an amount under 10^14 in size (so it fits an invoice amount, numeric(18, 4), and
a chunk's decimal128(38, 18) sum cannot overflow, which pyarrow would not notice), a
quantity under 10^20 (it is summed as decimal128(38, 18) in the cost rollup; byte-seconds
reach 10^18), and at most 100 decimal places for both. A value out of range is treated as
text that is not a number: rejected and reported, its money unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from billing.ingest.formats import QUANTITY_COLUMNS
from billing.ingest.normalize.common import (
    Distinct,
    IssueLog,
    lengths,
    null_where,
    rows_with_letter,
    valid_mask,
)

MONEY = pa.decimal128(38, 18)
AMOUNT_DIGITS = 14  # an amount is under 10^14 in size
QUANTITY_DIGITS = 20  # a quantity under 10^20
MAX_DECIMAL_PLACES = 100
# A float64 this large may round a value just under the limit up: checked exactly.
_CHECK_FROM = 0.99
_LONG_TEXT = 30  # characters: longer text may have too many decimal places
_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
_FITS = r"^[+-]?0*\d{0,20}(\.\d{0,18}0*)?$"


@dataclass
class Decimals:
    """A numeric column: plain text for the store, floats for comparisons, exact sums."""

    text: pa.Array  # plain decimal text, null when missing or invalid
    floats: pa.Array  # float64, only to compare with 0
    invalid: np.ndarray  # a value was given but is not a number
    _exact: pa.Array | None = None
    _extra: dict[int, Decimal] = field(default_factory=dict)

    def exact_values(self) -> tuple[pa.Array, dict[int, Decimal]]:
        """decimal128(38, 18) per row, and the exact values of rows that do not fit it."""
        if self._exact is None:
            try:
                self._exact = pc.cast(self.text, MONEY)
            except pa.ArrowInvalid:
                fits = pc.match_substring_regex(self.text, _FITS)
                self._exact = pc.cast(
                    pc.if_else(fits, self.text, pa.scalar(None, pa.string())), MONEY
                )
                slow = np.flatnonzero(valid_mask(self.text) & ~np.asarray(fits.fill_null(True)))
                for i, text in zip(
                    slow.tolist(), self.text.take(pa.array(slow)).to_pylist(), strict=True
                ):
                    self._extra[i] = Decimal(text)
        return self._exact, self._extra

    def exact(self, index: int) -> Decimal | None:
        """One row's exact value (for the few rows Python computes with)."""
        text = self.text[index].as_py()
        return None if text is None else Decimal(text)


def parse_decimals(values: pa.Array, column: str, log: IssueLog) -> Decimals:
    """Read a column of decimal text; `values` has nulls where the file has no value."""
    present = valid_mask(values)
    floats = None
    try:
        floats = pc.cast(values, pa.float64())
        odd = present & ~np.asarray(pc.is_finite(floats).fill_null(True))
    except pa.ArrowInvalid:
        odd = present
    invalid = np.zeros(len(values), dtype=bool)
    if floats is None or odd.any():
        values = pc.utf8_trim_whitespace(values)
        number = np.asarray(pc.match_substring_regex(values, _NUMBER).fill_null(False))
        invalid = present & ~number
        log.reject(column, invalid, values, f"{column} is not a number")
        values = null_where(values, invalid)
        floats = pc.cast(values, pa.float64())
    exponent = rows_with_letter(values, "e")
    out = _out_of_range(values, floats, present & ~invalid, exponent, column, log)
    if out.any():
        values = null_where(values, out)
        floats = pc.if_else(pa.array(out), pa.scalar(None, pa.float64()), floats)
        invalid |= out
        exponent &= ~out
    if exponent.any():
        values = _expand_exponents(values, exponent)
    return Decimals(values, floats, invalid)


def _out_of_range(
    values: pa.Array,
    floats: pa.Array,
    numbers: np.ndarray,
    exponent: np.ndarray,
    column: str,
    log: IssueLog,
) -> np.ndarray:
    """Rows whose number is too large or has too many decimal places, rejected."""
    digits = QUANTITY_DIGITS if column.lower() in QUANTITY_COLUMNS else AMOUNT_DIGITS
    size = np.abs(np.asarray(floats.fill_null(0).to_numpy(zero_copy_only=False)))
    candidates = numbers & (
        (size >= _CHECK_FROM * 10.0**digits) | (lengths(values) > _LONG_TEXT) | exponent
    )
    verdict = np.zeros(len(values), dtype=np.int8)
    if not candidates.any():
        return verdict.astype(bool)
    distinct = Distinct(values.filter(pa.array(candidates)))
    found = [_range_verdict(Decimal(text), digits) for text in distinct.values]
    verdict[candidates] = distinct.rows(found, _IN_RANGE, np.int8)
    too_large, too_precise = verdict == _TOO_LARGE, verdict == _TOO_PRECISE
    what = f"{column} is out of range"
    log.reject(column, too_large, values, f"{what}: its size must be under 10^{digits}")
    log.reject(column, too_precise, values, f"{what}: at most {MAX_DECIMAL_PLACES} decimal places")
    return too_large | too_precise


_IN_RANGE, _TOO_LARGE, _TOO_PRECISE = 0, 1, 2


def _range_verdict(number: Decimal, digits: int) -> int:
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > MAX_DECIMAL_PLACES:
        return _TOO_PRECISE
    if not number.is_zero() and number.adjusted() >= digits:
        return _TOO_LARGE
    return _IN_RANGE


def _expand_exponents(values: pa.Array, exponent: np.ndarray) -> pa.Array:
    distinct = Distinct(values.filter(pa.array(exponent)))
    plain = distinct.strings([plain_decimal(Decimal(text)) for text in distinct.values])
    return pc.replace_with_mask(values, pa.array(exponent), plain)


def plain_decimal(number: Decimal) -> str:
    """Decimal text without exponent: `1.2E-7` -> `0.00000012`."""
    text = format(number, "f")
    return "0" if text in ("-0", "+0") else text
