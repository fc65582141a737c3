"""Turning a chunk's integer columns into Arrow arrays: decimal text, float64, decimal128,
timestamps, and lookups into the bill's tables. All vectorized in Arrow or numpy.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from billing.generator import catalog as cat
from billing.generator.chunk import Chunk, line_item_ids
from billing.generator.context import BillContext

SCALE = cat.MONEY_SCALE
DECIMAL_TYPE = pa.decimal128(38, cat.MONEY_DIGITS)
# Below this a value is written in scientific notation in legacy CUR CSV, as AWS does.
SCIENTIFIC_BELOW = 10**4  # units: 1e-6 dollars
# float64 carries every value below this exactly through repr() (15 significant digits).
FLOAT_EXACT_BELOW = 10**15
_SIGNS = pa.array(["", "-"])


def _mask(valid: np.ndarray | None) -> np.ndarray | None:
    return None if valid is None else ~valid


def money_text(
    values: np.ndarray, valid: np.ndarray | None = None, *, scientific: bool = False
) -> pa.Array:
    """Units of 1e-10 as plain decimal text with 10 places ("-0.0416000000"); null where
    not `valid`. With `scientific`, tiny values read like AWS's "1.2E-7"."""
    if valid is not None:
        if valid.all():
            valid = None
        else:  # format only the values that are there, then spread them out
            text = money_text(values[valid], scientific=scientific)
            nulls = pa.nulls(len(values), pa.string())
            return pc.replace_with_mask(nulls, pa.array(valid), text)
    whole, frac = np.divmod(np.abs(values), SCALE)
    text = pc.binary_join_element_wise(
        _SIGNS.take(pa.array((values < 0).astype(np.int8))),
        pa.array(whole).cast(pa.string()),
        ".",
        pc.utf8_lpad(pa.array(frac).cast(pa.string()), width=cat.MONEY_DIGITS, padding="0"),
        "",
    )
    if scientific:
        tiny = (values != 0) & (np.abs(values) < SCIENTIFIC_BELOW)
        if tiny.any():
            sci = [_scientific(int(v)) for v in values[tiny]]
            text = pc.replace_with_mask(text, pa.array(tiny), pa.array(sci, pa.string()))
    return text


def _scientific(value: int) -> str:
    """1200 units -> "1.2E-7": the same number, shortest mantissa."""
    return format(Decimal(value).scaleb(-cat.MONEY_DIGITS).normalize(), "E")


def money_double(
    values: np.ndarray, valid: np.ndarray | None = None, *, check: bool = True
) -> pa.Array:
    """As AWS ships CUR Parquet. Exact: Decimal(repr(x)) gives back the value."""
    if check and values.size and int(np.abs(values).max()) >= FLOAT_EXACT_BELOW:
        raise ValueError("an amount too large to round-trip through float64 exactly")
    return pa.array(values / SCALE, pa.float64(), mask=_mask(valid))


def money_decimal(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """decimal128(38, 10) built from the units directly (no float)."""
    words = np.empty((len(values), 2), dtype=np.int64)
    words[:, 0] = values
    words[:, 1] = values >> 63  # two's complement sign extension
    bitmap = None
    if valid is not None:
        bitmap = pa.py_buffer(np.packbits(valid, bitorder="little").tobytes())
    return pa.Array.from_buffers(DECIMAL_TYPE, len(values), [bitmap, pa.py_buffer(words)])


def qty_units(qty: np.ndarray) -> np.ndarray:
    """Millionths to units of 1e-10, so quantities share the money formatting."""
    return qty * (SCALE // cat.QTY_SCALE)


class Frame:
    """One chunk with its bill: the lookups the writers' columns are made of."""

    def __init__(self, ctx: BillContext, chunk: Chunk, number: int) -> None:
        self.ctx, self.chunk, self.number, self.n = ctx, chunk, number, len(chunk)
        self._combo = pa.array(chunk.combo)
        self._resource = pa.array(chunk.resource)

    def line_item_ids(self) -> pa.Array:
        c = self.ctx
        month = c.period.year * 12 + c.period.month
        rng = np.random.default_rng([c.seed, int(c.payer_id), month, 3, self.number])
        return line_item_ids(rng, self.n)

    def const(self, value: str | None) -> pa.Array:
        return pa.repeat(pa.scalar(value, pa.string()), self.n)

    def product(self, field: str) -> pa.Array:
        return self.ctx.combo_text[field].take(self._combo)

    def product_maps(self, as_map: bool) -> pa.Array:
        return (self.ctx.product_map if as_map else self.ctx.product_json).take(self._combo)

    def description(self) -> pa.Array:
        index = self.chunk.combo * len(cat.LINE_ITEM_TYPES) + self.chunk.kind
        return self.ctx.descriptions.take(pa.array(index))

    def line_item_type(self) -> pa.Array:
        return pa.array(cat.LINE_ITEM_TYPES).take(pa.array(self.chunk.kind))

    def account(self, names: bool = False) -> pa.Array:
        table = self.ctx.account_names if names else self.ctx.account_ids
        return table.take(pa.array(self.chunk.account))

    def cost_category(self, as_map: bool) -> pa.Array:
        table = self.ctx.cost_category_map if as_map else self.ctx.cost_category_json
        return table.take(pa.array(self.chunk.account))

    def resource(self, table: pa.Array) -> pa.Array:
        """A per-resource table (ids, zones, tags) for each row."""
        return table.take(self._resource)

    def commitment_arn(self, savings_plan: bool) -> pa.Array:
        chosen = self.chunk.sp if savings_plan else self.chunk.ri
        commitments = self.ctx.savings_plans if savings_plan else self.ctx.reservations
        arns = pa.array([c.arn for c in commitments], pa.string())
        return arns.take(pa.array(chosen, mask=chosen < 0))

    def time_text(self, hours: np.ndarray) -> pa.Array:
        return self.ctx.hour_text.take(pa.array(hours))

    def timestamps(self, hours: np.ndarray, tz: str | None) -> pa.Array:
        p = self.ctx.period
        start = int(datetime(p.year, p.month, 1, tzinfo=UTC).timestamp()) * 1000
        return pa.array(start + hours * 3_600_000, pa.timestamp("ms", tz=tz))

    def valid(self, *kinds: cat.Kind) -> np.ndarray:
        return self.chunk.of(*kinds)
